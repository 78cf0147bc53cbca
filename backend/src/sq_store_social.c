/*
 * sq_store_social: social accounts per workspace.
 */

#include <stdlib.h>
#include <string.h>

#include "sq_json.h"
#include "sq_store.h"


sq_rc_t
sq_store_social_create(redisContext *c, uint64_t wid, const char *platform,
    const char *handle, int64_t now, sq_social_t *out)
{
    size_t   hlen;
    sq_rc_t  rc;
    sq_tx_t  tx;

    hlen = strlen(handle);
    if (sq_social_platform(platform, strlen(platform)) == NULL
        || sq_social_check_handle(handle, hlen) != 0)
    {
        return SQ_ERR_INVALID;
    }

    memset(out, 0, sizeof(*out));

    rc = sq_next_id(c, "sq:seq:social_account", &out->id);
    if (rc != SQ_OK) {
        return rc;
    }

    sq_tx_begin(&tx, c);
    sq_tx_add(&tx, "HSET sq:social_account:%llu id %llu workspace_id %llu "
              "platform %s handle %s created_at %lld updated_at %lld",
              (unsigned long long) out->id, (unsigned long long) out->id,
              (unsigned long long) wid, platform, handle, (long long) now,
              (long long) now);
    sq_tx_add(&tx, "ZADD sq:ws:%llu:social_accounts %llu %llu",
              (unsigned long long) wid, (unsigned long long) out->id,
              (unsigned long long) out->id);

    rc = sq_tx_exec(&tx);
    if (rc != SQ_OK) {
        return rc;
    }

    out->workspace_id = wid;
    out->created_at = now;
    out->updated_at = now;
    memcpy(out->platform, platform, strlen(platform) + 1);
    memcpy(out->handle, handle, hlen + 1);

    return SQ_OK;
}


static int
sq_id_cmp(const void *a, const void *b)
{
    uint64_t  x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}


/* Appends up to limit ids > after of one workspace to ids[*n..]. */
static sq_rc_t
sq_store_social_ids(redisContext *c, uint64_t wid, uint64_t after,
    size_t limit, uint64_t *ids, size_t *n)
{
    size_t       i;
    sq_rc_t      rc;
    redisReply  *r;

    rc = sq_cmd(c, &r, "ZRANGEBYSCORE sq:ws:%llu:social_accounts (%llu "
                "+inf LIMIT 0 %llu", (unsigned long long) wid,
                (unsigned long long) after, (unsigned long long) limit);
    if (rc != SQ_OK) {
        return rc;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements > limit) {
        rc = SQ_ERR_REDIS;
    }

    for (i = 0; rc == SQ_OK && i < r->elements; i++) {
        rc = sq_reply_id(r->element[i], &ids[*n]);
        (*n)++;
    }

    freeReplyObject(r);

    return rc;
}


static sq_rc_t
sq_store_social_parse(const redisReply *r, uint64_t id, sq_social_t *s)
{
    char  num[24];

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 6) {
        return SQ_ERR_REDIS;
    }

    memset(s, 0, sizeof(*s));

    if (sq_reply_id(r->element[0], &s->id) != SQ_OK || s->id != id
        || sq_reply_id(r->element[1], &s->workspace_id) != SQ_OK
        || sq_reply_copy(r->element[2], s->platform,
                         sizeof(s->platform)) != SQ_OK
        || sq_reply_copy(r->element[3], s->handle,
                         sizeof(s->handle)) != SQ_OK
        || sq_reply_copy(r->element[4], num, sizeof(num)) != SQ_OK
        || sq_text_parse_u63(num, strlen(num), &s->created_at) != 0
        || sq_reply_copy(r->element[5], num, sizeof(num)) != SQ_OK
        || sq_text_parse_u63(num, strlen(num), &s->updated_at) != 0)
    {
        return SQ_ERR_REDIS;
    }

    return SQ_OK;
}


/* Pipelined HMGET of every record. */
static sq_rc_t
sq_store_social_load(redisContext *c, const uint64_t *ids, size_t n,
    sq_social_t *out)
{
    size_t       i;
    sq_rc_t      rc, r1;
    redisReply  *r;

    for (i = 0; i < n; i++) {
        if (redisAppendCommand(c, "HMGET sq:social_account:%llu id "
                               "workspace_id platform handle created_at "
                               "updated_at", (unsigned long long) ids[i])
            != REDIS_OK)
        {
            c->err = REDIS_ERR_OOM;     /* replies are out of step now */
            return SQ_ERR_NOMEM;
        }
    }

    rc = SQ_OK;

    for (i = 0; i < n; i++) {
        if (redisGetReply(c, (void **) &r) != REDIS_OK || r == NULL) {
            return SQ_ERR_IO;
        }

        r1 = sq_store_social_parse(r, ids[i], &out[i]);
        if (rc == SQ_OK) {
            rc = r1;
        }

        freeReplyObject(r);
    }

    return rc;
}


sq_rc_t
sq_store_social_list(redisContext *c, const uint64_t *wids, size_t nws,
    uint64_t after, size_t limit, sq_social_t **out, size_t *n)
{
    size_t        i, count;
    sq_rc_t       rc;
    uint64_t     *ids;
    sq_social_t  *items;

    *out = NULL;
    *n = 0;

    if (limit == 0 || limit > 1000 || nws > SQ_WORKSPACES_MAX) {
        return SQ_ERR_INVALID;
    }

    ids = calloc(nws * limit + 1, sizeof(uint64_t));
    if (ids == NULL) {
        return SQ_ERR_NOMEM;
    }

    count = 0;
    rc = SQ_OK;

    for (i = 0; i < nws && rc == SQ_OK; i++) {
        rc = sq_store_social_ids(c, wids[i], after, limit, ids, &count);
    }

    if (rc == SQ_OK) {
        qsort(ids, count, sizeof(uint64_t), sq_id_cmp);
        count = count < limit ? count : limit;
        items = calloc(count + 1, sizeof(sq_social_t));
        rc = items == NULL ? SQ_ERR_NOMEM
                           : sq_store_social_load(c, ids, count, items);
        if (rc == SQ_OK) {
            *out = items;
            *n = count;
        } else {
            free(items);
        }
    }

    free(ids);

    return rc;
}
