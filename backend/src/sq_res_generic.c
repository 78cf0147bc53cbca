/*
 * sq_res_generic: list, create, get, patch and delete for every
 * schema-driven resource.  The workspace comes only from the signed
 * identity.  A record outside the caller's reach is answered exactly like
 * one that does not exist (404), and membership is read on every request.
 * Each request is one call of a function of redis/smartlyq.lua on the
 * asynchronous link (sq_aredis.h), which re-checks membership and, for a
 * write, claims the identity's nonce; PATCH reads the record first, to
 * merge and validate the whole of it here, then writes: two calls.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "sq_argv.h"
#include "sq_job.h"
#include "sq_keys.h"
#include "sq_log.h"
#include "sq_metrics.h"
#include "sq_res_flat.h"
#include "sq_reply.h"
#include "sq_req.h"
#include "sq_route.h"
#include "sq_store.h"
#include "sq_workspace.h"

#define SQ_UNIQUE_RETRIES  5


int
sq_req_ws_allowed(const sq_req_t *r, uint64_t wid)
{
    return sq_wslist_allows(&r->ident.key_ws, wid);
}


/*
 * The JSON body where evhttp holds it, made contiguous ("" when empty),
 * and its length; answers (400 for another type, 413, 500) and returns
 * NULL when there is none to read.
 */
static const char *
sq_req_json_body(sq_req_t *r, size_t *len)
{
    size_t            n;
    const char       *ct, *body;
    struct evbuffer  *in;

    ct = evhttp_find_header(evhttp_request_get_input_headers(r->req),
                            "Content-Type");
    if (!sq_json_content_type_ok(ct)) {
        sq_reply_error(r->req, SQ_E_VALIDATION,
                       "Content-Type must be application/json.");
        return NULL;
    }

    in = evhttp_request_get_input_buffer(r->req);
    n = evbuffer_get_length(in);

    if (n > SQ_BODY_MAX) {
        sq_reply_error(r->req, SQ_E_PAYLOAD_TOO_LARGE, NULL);
        return NULL;
    }

    body = n > 0 ? (const char *) evbuffer_pullup(in, -1) : "";
    if (body == NULL) {
        sq_reply_error(r->req, SQ_E_INTERNAL, NULL);
        return NULL;
    }

    *len = n;

    return body;
}


/* Content type and size; the body copied, with a NUL. */
char *
sq_req_body(sq_req_t *r, size_t *len)
{
    char        *buf;
    const char  *body;

    body = sq_req_json_body(r, len);
    if (body == NULL) {
        return NULL;
    }

    buf = malloc(*len + 1);
    if (buf == NULL) {
        sq_reply_error(r->req, SQ_E_INTERNAL, NULL);
        return NULL;
    }

    memcpy(buf, body, *len);
    buf[*len] = '\0';

    return buf;
}


const char *
sq_req_query(sq_req_t *r)
{
    const struct evhttp_uri  *uri;

    uri = evhttp_request_get_evhttp_uri(r->req);

    return uri != NULL ? evhttp_uri_get_query(uri) : NULL;
}


int
sq_req_need_pepper(sq_req_t *r, const char *what)
{
    if (r->ctx->has_pepper) {
        return 0;
    }

    sq_log(SQ_LOG_ERR, "cannot make %s: no --pepper-file", what);
    sq_reply_error(r->req, SQ_E_UNAVAILABLE, NULL);

    return -1;
}


/* Reads and validates the body into *fields; replies itself on failure. */
static int
sq_res_parse(sq_req_t *r, sq_parse_mode_t mode, uint64_t ws,
    json_t **fields)
{
    char         err[512];
    size_t       n;
    const char  *body;

    body = sq_req_json_body(r, &n);
    if (body == NULL) {
        return -1;
    }

    if (sq_resource_parse(r->res, body, n, mode, ws, fields, err,
                          sizeof(err)) != 0)
    {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return -1;
    }

    return 0;
}


/* what goes between a workspace and an index name (SQ_K_WS_INDEX) */
static const char *
sq_job_infix(const sq_job_t *j)
{
    return j->r.ident.test_mode ? "test:" : "";
}


static void
sq_job_unique_suffix(sq_argv_t *a, const sq_job_t *j)
{
    if (j->r.res->unique == NULL) {
        sq_argv_str(a, "");
    } else {
        sq_argv_fmt(a, "%s%s", sq_job_infix(j), j->r.res->unique_key);
    }
}


static const char *
sq_job_unique_value(const sq_job_t *j)
{
    json_t  *v;

    v = j->r.res->unique != NULL
        ? json_object_get(j->rec.fields, j->r.res->unique) : NULL;

    return json_is_string(v) ? json_string_value(v) : "";
}


/* the flat values of a record, or NULL when the reply is not that */
static redisReply **
sq_res_flat_values(const sq_job_t *j, const redisReply *v)
{
    if (v->type != REDIS_REPLY_ARRAY
        || v->elements != SQ_FLAT_META + j->r.res->nfields)
    {
        return NULL;
    }

    return v->element;
}


/*
 * A read's end: 200 with the JSON rendered into b, or 500 when b could
 * not be made or failed (corrupt data, or out of memory); frees b and
 * the job.
 */
static void
sq_res_rendered(sq_job_t *j, struct evbuffer *b, int failed)
{
    if (failed) {
        sq_job_corrupt(j);
    } else {
        sq_reply_buffer(j->r.req, 200, b);
    }

    if (b != NULL) {
        evbuffer_free(b);
    }

    sq_job_done(j);
}


/* ---- create ---- */

static void sq_res_on_insert(redisReply *reply, void *data);


/*
 * a record's JSON as the API renders it, or NULL; the caller free()s it
 * (written straight, as jansson would: no tree for a create or a patch)
 */
static char *
sq_res_json(const sq_resource_t *res, const sq_record_t *rec)
{
    return sq_flat_record_json(res, rec);
}


#define SQ_RES_TAIL_AFTER  "{\"id\": 0, \"workspace_id\": 0"


/*
 * The new record's JSON as the API renders it, rendered with id and
 * workspace 0 (both are drawn in Redis): *tail is what follows its
 * "workspace_id" member, which sq_res_insert stores behind the real ones
 * for pages.  NULL (no rendering stored: pages read the fields) when it
 * cannot be made; the caller frees the returned string.
 */
static char *
sq_res_rendering(const sq_job_t *j, const char **tail)
{
    char         *out;
    sq_record_t   rec;

    rec = j->rec;
    rec.id = 0;
    rec.workspace_id = 0;
    rec.updated_at = rec.created_at;

    out = sq_res_json(j->r.res, &rec);

    if (out != NULL
        && strncmp(out, SQ_RES_TAIL_AFTER, sizeof(SQ_RES_TAIL_AFTER) - 1)
           != 0)
    {
        free(out);
        return NULL;
    }

    if (out != NULL) {
        *tail = out + sizeof(SQ_RES_TAIL_AFTER) - 1;
    }

    return out;
}


static int
sq_res_send_insert(sq_job_t *j)
{
    int                  rc;
    char                *json;
    sq_argv_t            a;
    const char          *tail;
    const sq_resource_t *res;

    res = j->r.res;
    tail = "";
    json = sq_res_rendering(j, &tail);

    /* kept for the 201, which is the same rendering (a redraw renders
     * the record again: its unique value changed) */
    if (j->ext != NULL) {
        j->ext_free(j->ext);
    }
    j->ext = json;
    j->ext_free = free;

    sq_job_head(&a, j, "sq_res_insert", 3);
    sq_argv_ref_key(&a, res, j->rec.fields, 1);
    sq_job_common(&a, j);
    sq_argv_str(&a, res->name);
    sq_argv_fmt(&a, "%s%s", sq_job_infix(j), res->plural);
    sq_job_unique_suffix(&a, j);
    sq_argv_str(&a, sq_job_unique_value(j));
    sq_argv_fmt(&a, "%lld", (long long) j->rec.created_at);
    sq_argv_str(&a, tail);
    sq_argv_fields(&a, res, j->rec.fields);

    rc = sq_job_send(j, &a, sq_res_on_insert);

    return rc;
}


/*
 * A generated unique value was taken: draw another and send again.
 * 0: not that case; 1: sent again; 2: the send failed (answered).
 */
static int
sq_res_redraw(sq_job_t *j, const redisReply *reply)
{
    char  err[256];

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 1
        || reply->element[0]->type != REDIS_REPLY_STRING
        || strcmp(reply->element[0]->str, "TAKEN") != 0
        || j->unique_given || ++j->tries >= SQ_UNIQUE_RETRIES)
    {
        return 0;
    }

    json_object_del(j->rec.fields, j->r.res->unique);
    if (sq_resource_complete(j->r.res, j->rec.fields, err, sizeof(err))
        != 0)
    {
        return 0;
    }

    return sq_res_send_insert(j) == 0 ? 1 : 2;
}


/*
 * 201 with the new record: the rendering sq_res_send_insert stored,
 * behind the drawn id and workspace, as a page shows it; rendered again
 * only when there is none.
 */
static void
sq_res_created(sq_job_t *j)
{
    const char       *json;
    struct evbuffer  *b;

    json = j->ext;
    if (json == NULL) {
        sq_reply_data(j->r.req, 201, sq_resource_render(j->r.res, &j->rec));
        return;
    }

    b = evbuffer_new();
    if (b == NULL
        || evbuffer_add_printf(b, "{\"success\": true, \"data\": "
                               "{\"id\": %llu, \"workspace_id\": %llu%s}",
                               (unsigned long long) j->rec.id,
                               (unsigned long long) j->rec.workspace_id,
                               json + sizeof(SQ_RES_TAIL_AFTER) - 1) < 0)
    {
        if (b != NULL) {
            evbuffer_free(b);
        }
        sq_reply_data(j->r.req, 201, sq_resource_render(j->r.res, &j->rec));
        return;
    }

    sq_reply_buffer(j->r.req, 201, b);
    evbuffer_free(b);
}


static void
sq_res_on_insert(redisReply *reply, void *data)
{
    int        rc;
    sq_job_t  *j = data;

    sq_job_enter(j);

    rc = sq_res_redraw(j, reply);
    if (rc == 1) {
        return;
    }

    if (rc == 2 || sq_job_refused(j, reply)) {
        sq_job_done(j);
        return;
    }

    if (reply->elements != 3
        || sq_reply_id(reply->element[1], &j->rec.id) != SQ_OK
        || sq_reply_id(reply->element[2], &j->rec.workspace_id) != SQ_OK)
    {
        sq_job_corrupt(j);
        sq_job_done(j);
        return;
    }

    sq_log(SQ_LOG_INFO, "%s %llu created in workspace %llu by user %llu",
           j->r.res->name, (unsigned long long) j->rec.id,
           (unsigned long long) j->rec.workspace_id,
           (unsigned long long) j->r.ident.user_id);

    sq_res_created(j);
    sq_job_done(j);
}


void
sq_res_create(sq_req_t *r)
{
    char          err[512];
    sq_job_t     *j;
    sq_record_t   rec;

    memset(&rec, 0, sizeof(rec));

    if (r->ident.workspace_id == 0 && (r->res->flags & SQ_RES_WS_REQUIRED)) {
        sq_reply_error(r->req, SQ_E_VALIDATION, "workspace_id is required");
        return;
    }

    if (sq_res_parse(r, SQ_PARSE_CREATE, r->ident.workspace_id,
                     &rec.fields) != 0)
    {
        return;
    }

    j = sq_job_new(r, 1);
    if (j == NULL) {
        sq_record_clear(&rec);
        return;
    }

    j->rec = rec;
    j->rec.test_mode = r->ident.test_mode;
    j->unique_given = r->res->unique != NULL
                      && json_object_get(rec.fields, r->res->unique) != NULL;

    if (sq_resource_complete(r->res, j->rec.fields, err, sizeof(err)) != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        sq_job_free(j);
        return;
    }

    j->rec.created_at = (int64_t) time(NULL);
    j->rec.updated_at = j->rec.created_at;

    if (sq_res_send_insert(j) != 0) {
        sq_job_free(j);
        return;
    }

    r->async = 1;
}


/* ---- get (and the first half of patch) ---- */

/* The path's {id}; 404 otherwise. */
static int
sq_res_path_id(sq_req_t *r, uint64_t *id)
{
    if (r->id == NULL
        || sq_workspace_parse_id(r->id, strlen(r->id), id) != 0)
    {
        sq_reply_error(r->req, SQ_E_NOT_FOUND, NULL);
        return -1;
    }

    return 0;
}


static void
sq_res_names(sq_argv_t *a, const sq_resource_t *res)
{
    size_t  i;

    for (i = 0; i < res->nfields; i++) {
        sq_argv_str(a, res->fields[i].name);
    }
}


/* A job (write: with its nonce) for the path's {id}; NULL: answered. */
static sq_job_t *
sq_res_path_job(sq_req_t *r, int write)
{
    uint64_t   id;
    sq_job_t  *j;

    if (sq_res_path_id(r, &id) != 0) {
        return NULL;
    }

    j = sq_job_new(r, write);
    if (j != NULL) {
        j->id = id;
    }

    return j;
}


/* sq_res_one of the job's record: reads, with no nonce */
static void
sq_res_one_argv(sq_argv_t *a, sq_job_t *j)
{
    sq_job_head(a, j, "sq_res_one", 3);
    sq_argv_fmt(a, SQ_K_RECWS, j->r.res->name, (unsigned long long) j->id);
    sq_job_common(a, j);
    sq_res_names(a, j->r.res);
}


/* {'OK', {flat values}}: the values, or NULL after a 500 */
static redisReply **
sq_res_one_values(sq_job_t *j, const redisReply *reply)
{
    redisReply  **v;

    v = reply->elements == 2 ? sq_res_flat_values(j, reply->element[1])
                             : NULL;
    if (v == NULL) {
        sq_job_corrupt(j);
    }

    return v;
}


static void
sq_res_on_one(redisReply *reply, void *data)
{
    sq_job_t         *j = data;
    redisReply      **v;
    struct evbuffer  *b;

    sq_job_enter(j);

    if (sq_job_refused(j, reply)
        || (v = sq_res_one_values(j, reply)) == NULL)
    {
        sq_job_done(j);
        return;
    }

    b = evbuffer_new();
    sq_res_rendered(j, b, b == NULL
        || evbuffer_add(b, "{\"success\": true, \"data\": ", 26) != 0
        || sq_flat_render(b, j->r.res, v, j->id, 0,
                          j->r.ident.test_mode) != 0
        || evbuffer_add(b, "}", 1) != 0);
}


void
sq_res_get(sq_req_t *r)
{
    sq_job_t  *j;
    sq_argv_t  a;

    j = sq_res_path_job(r, 0);
    if (j == NULL) {
        return;
    }

    sq_res_one_argv(&a, j);
    sq_job_start(j, r, &a, sq_res_on_one);
}


/* ---- patch: read, merge here, write ---- */

static void
sq_res_on_modify(redisReply *reply, void *data)
{
    sq_job_t  *j = data;

    sq_job_enter(j);

    if (!sq_job_refused(j, reply)) {
        sq_reply_data(j->r.req, 200, sq_resource_render(j->r.res, &j->rec));
    }

    sq_job_done(j);
}


/*
 * The merged record, stored with sq_res_modify, with its rendering (every
 * schema field is written or deleted, so it is what the record holds
 * after the write); answers on failure.
 */
static int
sq_res_send_modify(sq_job_t *j)
{
    int                  rc;
    char                *json;
    sq_argv_t            a;
    const sq_resource_t *res;

    res = j->r.res;
    json = sq_res_json(res, &j->rec);

    sq_job_head(&a, j, "sq_res_modify", 6);
    sq_argv_fmt(&a, SQ_K_WS_RECORD, (unsigned long long) j->rec.workspace_id,
                res->name, (unsigned long long) j->rec.id);
    if (res->unique == NULL) {
        sq_argv_str(&a, "");
    } else {
        sq_argv_fmt(&a, SQ_K_WS_INDEX,
                    (unsigned long long) j->rec.workspace_id,
                    sq_job_infix(j), res->unique_key);
    }
    sq_argv_ref_key(&a, res, j->rec.fields, j->check_ref);
    sq_argv_fmt(&a, SQ_K_WS_RENDERINGS,
                (unsigned long long) j->rec.workspace_id, sq_job_infix(j),
                res->plural);
    sq_job_common(&a, j);
    sq_argv_str(&a, json != NULL ? json : "");
    sq_argv_u64(&a, j->rec.id);
    sq_argv_u64(&a, j->rec.workspace_id);
    sq_argv_str(&a, res->unique != NULL ? res->unique : "");
    sq_argv_str(&a, sq_job_unique_value(j));
    sq_argv_nulls(&a, res, j->rec.fields);
    sq_argv_str(&a, "updated_at");
    sq_argv_fmt(&a, "%lld", (long long) j->rec.updated_at);
    sq_argv_fields(&a, res, j->rec.fields);

    rc = sq_job_send(j, &a, sq_res_on_modify);
    free(json);

    return rc;
}


/* Parses the body against the loaded record and merges; answers 400. */
static int
sq_res_merge_body(sq_job_t *j)
{
    int      rc;
    char     err[512];
    json_t  *patch;

    if (sq_res_parse(&j->r, SQ_PARSE_PATCH, j->rec.workspace_id, &patch)
        != 0)
    {
        return -1;
    }

    j->check_ref = j->r.res->ref != NULL
                   && json_object_get(patch, j->r.res->ref) != NULL;

    rc = sq_resource_merge(j->r.res, &j->rec, patch, err, sizeof(err));
    json_decref(patch);

    if (rc != 0) {
        sq_reply_error(j->r.req, SQ_E_VALIDATION, err);
        return -1;
    }

    j->rec.updated_at = (int64_t) time(NULL);

    return 0;
}


static void
sq_res_on_loaded(redisReply *reply, void *data)
{
    sq_job_t     *j = data;
    redisReply  **v;

    sq_job_enter(j);

    if (sq_job_refused(j, reply)
        || (v = sq_res_one_values(j, reply)) == NULL)
    {
        sq_job_done(j);
        return;
    }

    if (sq_flat_record(j->r.res, v, j->id, &j->rec) != 0) {
        sq_job_corrupt(j);
        sq_job_done(j);
        return;
    }

    if (sq_res_merge_body(j) != 0 || sq_res_send_modify(j) != 0) {
        sq_job_done(j);
    }
}


void
sq_res_patch(sq_req_t *r)
{
    int64_t    ttl;
    sq_job_t  *j;
    sq_argv_t  a;

    j = sq_res_path_job(r, 1);
    if (j == NULL) {
        return;
    }

    /* the read has no nonce: sq_res_modify claims it */
    ttl = j->ttl;
    j->ttl = -1;
    sq_res_one_argv(&a, j);
    j->ttl = ttl;
    sq_job_start(j, r, &a, sq_res_on_loaded);
}


/* ---- delete ---- */

static void
sq_res_on_remove(redisReply *reply, void *data)
{
    sq_job_t  *j = data;
    uint64_t   id, wid;

    sq_job_enter(j);

    if (sq_job_refused(j, reply)) {
        sq_job_done(j);
        return;
    }

    if (reply->elements != 3
        || sq_reply_id(reply->element[1], &id) != SQ_OK
        || sq_reply_id(reply->element[2], &wid) != SQ_OK)
    {
        sq_job_corrupt(j);
        sq_job_done(j);
        return;
    }

    sq_log(SQ_LOG_INFO, "%s %llu deleted from workspace %llu by user %llu",
           j->r.res->name, (unsigned long long) id, (unsigned long long) wid,
           (unsigned long long) j->r.ident.user_id);

    sq_reply_data(j->r.req, 200, json_pack("{s:I, s:b}", "id",
                                           (json_int_t) id, "deleted", 1));
    sq_job_done(j);
}


void
sq_res_delete(sq_req_t *r)
{
    sq_job_t            *j;
    sq_argv_t            a;
    const sq_resource_t *res;

    j = sq_res_path_job(r, 1);
    if (j == NULL) {
        return;
    }

    res = r->res;
    sq_job_head(&a, j, "sq_res_remove", 3);
    sq_argv_fmt(&a, SQ_K_RECWS, res->name, (unsigned long long) j->id);
    sq_job_common(&a, j);
    sq_argv_fmt(&a, "%s%s", sq_job_infix(j), res->plural);
    sq_argv_str(&a, res->unique != NULL ? res->unique : "");
    sq_job_unique_suffix(&a, j);
    sq_job_start(j, r, &a, sq_res_on_remove);
}


/* ---- list ---- */

json_t *
sq_res_pagination(size_t limit, uint64_t next)
{
    char  cursor[SQ_CURSOR_MAX + 1];

    if (next == 0) {
        return json_pack("{s:I, s:n}", "limit", (json_int_t) limit,
                         "next_cursor");
    }

    if (sq_cursor_encode(next, cursor, sizeof(cursor)) != 0) {
        return NULL;
    }

    return json_pack("{s:I, s:s}", "limit", (json_int_t) limit,
                     "next_cursor", cursor);
}


/* "], "pagination": {...}}", next the next page's first id or 0 */
static int
sq_res_page_tail_id(struct evbuffer *b, size_t limit, uint64_t next)
{
    char  cursor[SQ_CURSOR_MAX + 1];

    if (evbuffer_add_printf(b, "], \"pagination\": {\"limit\": %zu, "
                            "\"next_cursor\": ", limit) < 0)
    {
        return -1;
    }

    if (next == 0) {
        return evbuffer_add(b, "null}}", 6);
    }

    if (sq_cursor_encode(next, cursor, sizeof(cursor)) != 0) {
        return -1;
    }

    return evbuffer_add_printf(b, "\"%s\"}}", cursor) < 0 ? -1 : 0;
}


/* the same from the function's reply: "0" or the id */
static int
sq_res_page_tail(struct evbuffer *b, size_t limit, const redisReply *next)
{
    uint64_t  id;

    if (next->type == REDIS_REPLY_STRING && next->len == 1
        && next->str[0] == '0')
    {
        return sq_res_page_tail_id(b, limit, 0);
    }

    if (sq_reply_id(next, &id) != SQ_OK) {
        return -1;
    }

    return sq_res_page_tail_id(b, limit, id);
}


/*
 * A record's stored rendering (sq_res_insert or sq_res_modify wrote it):
 * copied as is once it is seen to begin with the id and workspace the
 * index gave ({"id": <id>, "workspace_id": <wid>, ) and to end with '}';
 * anything else is corrupt data.
 */
static int
sq_res_page_stored(struct evbuffer *b, const redisReply *s, uint64_t id,
    uint64_t wid)
{
    char    head[SQ_FLAT_HEAD_MAX + 2];
    size_t  n;

    n = sq_flat_head(head, id, wid);
    head[n++] = ',';
    head[n++] = ' ';

    if (s->type != REDIS_REPLY_STRING || s->len <= n
        || memcmp(s->str, head, n) != 0 || s->str[s->len - 1] != '}')
    {
        return -1;
    }

    return evbuffer_add(b, s->str, s->len);
}


/*
 * The usual page of the identity's workspace, {'OK', next, 'EACH', ids
 * joined by ',', {renderings}} (sq_page_each in redis/smartlyq.lua: every
 * record of the page had its stored rendering): as many ids as
 * renderings, each rendering must begin with its id and the workspace and
 * end with '}', as on the record-by-record form (else corrupt data, 500,
 * never served); joined by ", ".
 */
static int
sq_res_page_each(sq_job_t *j, const redisReply *reply, struct evbuffer *b)
{
    size_t             i, len;
    uint64_t           id, wid;
    const char        *p, *end, *comma;
    const redisReply  *ids, *json;

    ids = reply->element[3];
    json = reply->element[4];
    wid = j->r.ident.workspace_id;

    if (wid == 0 || ids->type != REDIS_REPLY_STRING
        || json->type != REDIS_REPLY_ARRAY || json->elements == 0
        || json->elements > j->limit)
    {
        return -1;
    }

    for (i = 0, len = 64; i < json->elements; i++) {
        if (json->element[i]->type != REDIS_REPLY_STRING) {
            return -1;
        }
        len += json->element[i]->len + 2;
    }
    (void) evbuffer_expand(b, len);

    p = ids->str;
    end = ids->str + ids->len;

    for (i = 0; i < json->elements; i++) {
        if (p > end) {
            return -1;
        }
        comma = memchr(p, ',', (size_t) (end - p));
        if (comma == NULL) {
            comma = end;
        }

        if (sq_workspace_parse_id(p, (size_t) (comma - p), &id) != 0
            || (i > 0 && evbuffer_add(b, ", ", 2) != 0)
            || sq_res_page_stored(b, json->element[i], id, wid) != 0)
        {
            return -1;
        }
        p = comma + 1;
    }

    /* every id had its rendering, and no more */
    if (p != end + 1) {
        return -1;
    }

    return sq_res_page_tail(b, j->limit, reply->element[1]);
}


/*
 * {"success": true, "data": [records], "pagination": ...} from
 * {'OK', next, 'EACH', {ids}, {renderings}} (sq_res_page_each), from
 * {'OK', next, 'JSON', the records' stored renderings joined by ", "}
 * (sq_res_page checked each begins with its id and workspace) or from
 * {'OK', next, then per record {its id and workspace in the index, its
 * stored rendering or its flat values}}; a record gone from under its
 * index (all nil) is skipped, as a page read before skipped it.
 */
static int
sq_res_page_render(sq_job_t *j, const redisReply *reply, struct evbuffer *b)
{
    size_t        i, n;
    uint64_t      id, wid;
    redisReply  **v;
    redisReply   *e;

    if (reply->elements < 2
        || evbuffer_add(b, "{\"success\": true, \"data\": [", 27) != 0)
    {
        return -1;
    }

    /* the usual page of one workspace: checked and joined here */
    if (reply->elements == 5 && reply->element[2]->type == REDIS_REPLY_STRING
        && reply->element[2]->len == 4
        && memcmp(reply->element[2]->str, "EACH", 4) == 0)
    {
        return sq_res_page_each(j, reply, b);
    }

    /* the usual page of all the user's workspaces: joined there */
    if (reply->elements == 4 && reply->element[2]->type == REDIS_REPLY_STRING
        && reply->element[2]->len == 4
        && memcmp(reply->element[2]->str, "JSON", 4) == 0)
    {
        e = reply->element[3];

        if (e->type != REDIS_REPLY_STRING || e->len < 2 || e->str[0] != '{'
            || e->str[e->len - 1] != '}'
            || evbuffer_add(b, e->str, e->len) != 0)
        {
            return -1;
        }

        return sq_res_page_tail(b, j->limit, reply->element[1]);
    }

    if (reply->elements - 2 > j->limit) {
        return -1;
    }

    for (i = 2, n = 0; i < reply->elements; i++) {
        e = reply->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 3
            || sq_reply_id(e->element[0], &id) != SQ_OK
            || sq_reply_id(e->element[1], &wid) != SQ_OK)
        {
            return -1;
        }

        if (e->element[2]->type == REDIS_REPLY_STRING) {
            if ((n++ > 0 && evbuffer_add(b, ", ", 2) != 0)
                || sq_res_page_stored(b, e->element[2], id, wid) != 0)
            {
                return -1;
            }
            continue;
        }

        v = sq_res_flat_values(j, e->element[2]);
        if (v == NULL) {
            return -1;
        }

        if (v[0]->type == REDIS_REPLY_NIL && v[1]->type == REDIS_REPLY_NIL) {
            continue;
        }

        if ((n++ > 0 && evbuffer_add(b, ", ", 2) != 0)
            || sq_flat_render(b, j->r.res, v, id, wid,
                              j->r.ident.test_mode) != 0)
        {
            return -1;
        }
    }

    return sq_res_page_tail(b, j->limit, reply->element[1]);
}


static void
sq_res_on_page(redisReply *reply, void *data)
{
    sq_job_t         *j = data;
    struct evbuffer  *b;

    sq_job_enter(j);

    if (sq_job_refused(j, reply)) {
        sq_job_done(j);
        return;
    }

    /* one chain for a usual page rather than a growing series of them */
    b = evbuffer_new();
    if (b != NULL) {
        (void) evbuffer_expand(b, 8192);
    }

    sq_res_rendered(j, b, b == NULL || sq_res_page_render(j, reply, b) != 0);
}


/*
 * The usual page of one workspace without a function call (issue 13:
 * the Lua call cost Redis most of a page).  Two trips on the link:
 *   MULTI / SISMEMBER members uid / ZRANGEBYSCORE index (after +inf
 *   LIMIT 0 limit+1 / EXEC, then HMGET renderings-hash ids...
 * The membership and the index are read in one transaction, as the
 * function reads them.  A record deleted between the two trips has no
 * rendering any more: the page falls back to FCALL_RO sq_res_page, which
 * reads everything again at once.  A member removed between the trips is
 * the window of a request already in flight (its membership was read
 * before the removal, as a function call sent a moment earlier would
 * have).  Anything else than the usual answers (a missing rendering, one
 * whose head or tail is not its id's and the workspace's, an error reply,
 * an id that does not parse) falls back too, so that every other case is
 * answered by the function as before; no reply at all is a 503.
 */
typedef struct {
    size_t    n;                    /* the page's records */
    uint64_t  next;                 /* the next page's first id, or 0 */
    uint64_t  ids[SQ_PAGE_MAX];
} sq_res_direct_t;


static void sq_res_on_ids(redisReply *reply, void *data);
static void sq_res_on_renderings(redisReply *reply, void *data);


/* FCALL_RO sq_res_page: every page but the usual page of one workspace */
static void
sq_res_list_argv(sq_argv_t *a, sq_job_t *j)
{
    sq_req_t  *r = &j->r;

    sq_job_head(a, j, "sq_res_page", 3);
    if (r->ident.workspace_id != 0) {
        sq_argv_fmt(a, SQ_K_WS_INDEX,
                    (unsigned long long) r->ident.workspace_id,
                    sq_job_infix(j), r->res->plural);
    } else {
        sq_argv_fmt(a, SQ_K_USER_WORKSPACES,
                    (unsigned long long) r->ident.user_id);
    }
    sq_job_common(a, j);
    sq_argv_str(a, r->res->name);
    sq_argv_fmt(a, "%s%s", sq_job_infix(j), r->res->plural);
    sq_argv_u64(a, j->id);            /* after */
    sq_argv_fmt(a, "%zu", j->limit);
    sq_res_names(a, r->res);
}


/* from a direct trip's callback: the function call answers this page */
static void
sq_res_fallback(sq_job_t *j)
{
    sq_argv_t  a;

    sq_job_enter(j);
    sq_res_list_argv(&a, j);
    if (sq_job_send(j, &a, sq_res_on_page) != 0) {
        sq_job_done(j);
    }
}


/* MULTI, SISMEMBER and ZRANGEBYSCORE's own replies: +OK, +QUEUED */
static void
sq_res_on_queued(redisReply *reply, void *data)
{
    (void) reply;
    (void) data;
}


/*
 * Sends the first trip; 0 sent, -1 nothing sent (the caller calls the
 * function), -2 the link dropped and the request answered (503).
 */
static int
sq_res_list_direct(sq_job_t *j)
{
    int           rc;
    sq_ctx_t     *ctx;
    sq_argv_t     a, z;
    sq_aredis_t  *l;

    ctx = j->r.ctx;
    l = &ctx->aredis;
    if (l->base == NULL) {
        sq_aredis_init(l, ctx->base, &ctx->redis);
    }

    /* down or connecting, or no room for four: the function call */
    if (l->ac == NULL || l->inflight + 4 > SQ_AREDIS_INFLIGHT_MAX
        || j->limit > SQ_PAGE_MAX)
    {
        return -1;
    }

    memset(&z, 0, offsetof(sq_argv_t, buf));
    sq_argv_str(&z, "ZRANGEBYSCORE");
    sq_argv_fmt(&z, SQ_K_WS_INDEX,
                (unsigned long long) j->r.ident.workspace_id,
                sq_job_infix(j), j->r.res->plural);
    sq_argv_fmt(&z, "(%llu", (unsigned long long) j->id);
    sq_argv_str(&z, "+inf");
    sq_argv_str(&z, "LIMIT");
    sq_argv_str(&z, "0");
    sq_argv_fmt(&z, "%zu", j->limit + 1);

    j->ext = calloc(1, sizeof(sq_res_direct_t));
    if (z.failed || j->ext == NULL) {
        return -1;
    }
    j->ext_size = sizeof(sq_res_direct_t);

    memset(&a, 0, offsetof(sq_argv_t, buf));
    sq_argv_str(&a, "MULTI");
    if (sq_aredis_send(l, a.argc, a.argv, a.lens, sq_res_on_queued, NULL)
        != 0)
    {
        return -1;
    }

    /* the link is in MULTI now: all of it goes, or the link is dropped */
    memset(&a, 0, offsetof(sq_argv_t, buf));
    sq_argv_str(&a, "SISMEMBER");
    sq_argv_fmt(&a, SQ_K_WS_MEMBERS,
                (unsigned long long) j->r.ident.workspace_id);
    sq_argv_u64(&a, j->r.ident.user_id);
    rc = a.failed
         || sq_aredis_send(l, a.argc, a.argv, a.lens, sq_res_on_queued,
                           NULL) != 0
         || sq_aredis_send(l, z.argc, z.argv, z.lens, sq_res_on_queued,
                           NULL) != 0;

    if (rc == 0) {
        memset(&a, 0, offsetof(sq_argv_t, buf));
        sq_argv_str(&a, "EXEC");
        rc = sq_aredis_send(l, a.argc, a.argv, a.lens, sq_res_on_ids, j);
    }

    if (rc != 0) {
        sq_aredis_reset(l, "a transaction could not be sent whole");
        sq_metrics_redis_get(0, NULL);
        sq_reply_error(j->r.req, SQ_E_UNAVAILABLE, NULL);
        return -2;
    }

    sq_metrics_redis_get(1, sq_aredis_context(l));

    return 0;
}


/* EXEC's {SISMEMBER's answer, ZRANGEBYSCORE's ids} */
static void
sq_res_on_ids(redisReply *reply, void *data)
{
    int               k;
    char              key[SQ_ARG_BUF];
    size_t            i, n, lens[SQ_PAGE_MAX + 2];
    sq_job_t         *j = data;
    const char       *argv[SQ_PAGE_MAX + 2];
    redisReply       *ids;
    sq_aredis_t      *l;
    struct evbuffer  *b;
    sq_res_direct_t  *d = j->ext;

    if (reply == NULL) {
        sq_job_enter(j);
        (void) sq_job_refused(j, reply);
        sq_job_done(j);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[1]->type != REDIS_REPLY_ARRAY)
    {
        sq_res_fallback(j);
        return;
    }

    if (reply->element[0]->integer != 1) {
        sq_job_enter(j);
        sq_job_forbidden(j);
        sq_job_done(j);
        return;
    }

    ids = reply->element[1];
    n = ids->elements > j->limit ? j->limit : ids->elements;
    for (i = 0; i < n; i++) {
        if (sq_reply_id(ids->element[i], &d->ids[i]) != SQ_OK) {
            sq_res_fallback(j);
            return;
        }
    }
    d->n = n;
    d->next = ids->elements > j->limit ? d->ids[j->limit - 1] : 0;

    sq_job_enter(j);

    if (n == 0) {
        b = evbuffer_new();
        sq_res_rendered(j, b, b == NULL
            || evbuffer_add(b, "{\"success\": true, \"data\": [", 27) != 0
            || sq_res_page_tail_id(b, j->limit, d->next) != 0);
        return;
    }

    /* HMGET hash ids...: up to SQ_PAGE_MAX ids, more than an sq_argv_t */
    k = snprintf(key, sizeof(key), SQ_K_WS_RENDERINGS,
                 (unsigned long long) j->r.ident.workspace_id,
                 sq_job_infix(j), j->r.res->plural);
    if (k < 0 || (size_t) k >= sizeof(key)) {
        sq_res_rendered(j, NULL, 1);
        return;
    }
    argv[0] = "HMGET";
    lens[0] = 5;
    argv[1] = key;
    lens[1] = (size_t) k;
    for (i = 0; i < n; i++) {
        argv[2 + i] = ids->element[i]->str;
        lens[2 + i] = ids->element[i]->len;
    }

    l = &j->r.ctx->aredis;
    if (sq_aredis_send(l, (int) n + 2, argv, lens, sq_res_on_renderings, j)
        != 0)
    {
        sq_metrics_redis_get(0, NULL);
        sq_reply_error(j->r.req, SQ_E_UNAVAILABLE, NULL);
        sq_job_done(j);
        return;
    }
    sq_metrics_redis_get(1, sq_aredis_context(l));
}


/* HMGET's renderings, in the ids' order */
static void
sq_res_on_renderings(redisReply *reply, void *data)
{
    size_t            i, len;
    sq_job_t         *j = data;
    struct evbuffer  *b;
    sq_res_direct_t  *d = j->ext;

    if (reply == NULL) {
        sq_job_enter(j);
        (void) sq_job_refused(j, reply);
        sq_job_done(j);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != d->n) {
        sq_res_fallback(j);
        return;
    }

    for (i = 0, len = 64; i < d->n; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            sq_res_fallback(j);
            return;
        }
        len += reply->element[i]->len + 2;
    }

    b = evbuffer_new();
    if (b == NULL) {
        sq_job_enter(j);
        sq_res_rendered(j, NULL, 1);
        return;
    }
    (void) evbuffer_expand(b, len);

    if (evbuffer_add(b, "{\"success\": true, \"data\": [", 27) != 0) {
        evbuffer_free(b);
        sq_job_enter(j);
        sq_res_rendered(j, NULL, 1);
        return;
    }

    for (i = 0; i < d->n; i++) {
        if ((i > 0 && evbuffer_add(b, ", ", 2) != 0)
            || sq_res_page_stored(b, reply->element[i], d->ids[i],
                                  j->r.ident.workspace_id) != 0)
        {
            evbuffer_free(b);
            sq_res_fallback(j);
            return;
        }
    }

    sq_job_enter(j);
    sq_res_rendered(j, b, sq_res_page_tail_id(b, j->limit, d->next) != 0);
}


void
sq_res_list(sq_req_t *r)
{
    int        rc;
    char       err[256];
    size_t     limit;
    uint64_t   after;
    sq_job_t  *j;
    sq_argv_t  a;

    if (sq_page_parse(sq_req_query(r), &limit, &after, err, sizeof(err))
        != 0)
    {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    j = sq_job_new(r, 0);
    if (j == NULL) {
        return;
    }

    j->limit = limit;
    j->id = after;      /* a list has no {id}: the cursor's id */

    if (r->ident.workspace_id != 0) {
        rc = sq_res_list_direct(j);
        if (rc == 0) {
            r->async = 1;
            return;
        }
        if (rc == -2) {
            sq_job_free(j);
            return;
        }
    }

    sq_res_list_argv(&a, j);
    sq_job_start(j, r, &a, sq_res_on_page);
}
