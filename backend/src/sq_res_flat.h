/*
 * sq_res_flat: a record as the backend's Redis functions return it
 * (sq_res_page, sq_res_one in redis/smartlyq.lua): SQ_FLAT_META values
 * (id, workspace_id, mode, created_at, updated_at), then one per schema
 * field, nil where the field is null.  Read strictly: a wrong id,
 * workspace or mode, a missing required field or a non-integer integer
 * is corrupt data.
 */

#ifndef SQ_RES_FLAT_H
#define SQ_RES_FLAT_H

#include <stdint.h>

#include <event2/buffer.h>
#include <hiredis/hiredis.h>

#include "sq_resource.h"

#define SQ_FLAT_META    5

/* {"id": <id>, "workspace_id": <wid>: how every record's JSON begins */
#define SQ_FLAT_HEAD_MAX  80

/* That head at out (SQ_FLAT_HEAD_MAX bytes at most, no NUL); length */
size_t sq_flat_head(char *out, uint64_t id, uint64_t wid);

/*
 * Appends the record's JSON to b, byte for byte what
 * json_dumps(sq_resource_render(...), 0) writes: "id", "workspace_id",
 * the schema's fields in order, "created_at", "updated_at".  wid 0: any
 * workspace.  Returns 0, or -1 when the data is corrupt or memory ran
 * out (b then holds part of it).
 */
int sq_flat_render(struct evbuffer *b, const sq_resource_t *res,
    redisReply **v, uint64_t id, uint64_t wid, int test_mode);

/* The same values into rec (fields: every schema field, null included). */
int sq_flat_record(const sq_resource_t *res, redisReply **v, uint64_t id,
    sq_record_t *rec);

/* A JSON string (quoted, escaped as jansson does); -1: not UTF-8, OOM */
int sq_flat_string(struct evbuffer *b, const char *s, size_t len);

/*
 * A record's JSON exactly as sq_resource_render() then json_dumps() write
 * it, without building a jansson tree (a create's and a patch's
 * rendering; t/033 checks the bytes against the other renderers).
 * malloc'd and NUL-terminated, for free(); NULL on failure.
 */
char *sq_flat_record_json(const sq_resource_t *res, const sq_record_t *rec);

#endif /* SQ_RES_FLAT_H */
