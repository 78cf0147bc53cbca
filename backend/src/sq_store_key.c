/*
 * sq_store_key: API key records.  Only the keyed digest of a key is
 * stored; the key itself exists in memory just long enough to be shown.
 */

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sq_identity.h"
#include "sq_keygen.h"
#include "sq_store.h"


static sq_rc_t
sq_store_key_write(redisContext *c, const char *digest, uint64_t id,
    uint64_t uid, const char *mode, const char *name, int64_t expires_at,
    int64_t now, const char *last4)
{
    sq_tx_t  tx;

    sq_tx_begin(&tx, c);
    sq_tx_add(&tx, "HSET sq:key:%s id %llu user_id %llu mode %s "
              "status active expires_at %lld name %s created_at %lld "
              "last4 %s", digest, (unsigned long long) id,
              (unsigned long long) uid, mode, (long long) expires_at,
              name, (long long) now, last4);
    sq_tx_add(&tx, "SET sq:keyid:%llu %s", (unsigned long long) id, digest);
    sq_tx_add(&tx, "SADD sq:user:%llu:keys %llu", (unsigned long long) uid,
              (unsigned long long) id);

    return sq_tx_exec(&tx);
}


sq_rc_t
sq_store_key_create(redisContext *c, const uint8_t pepper[32],
    uint64_t uid, sq_key_mode_t mode, const char *name, int64_t expires_at,
    int64_t now, char *key, size_t keylen, uint64_t *id)
{
    char       digest[SQ_DIGEST_HEX_LEN + 1];
    sq_rc_t    rc;
    sq_user_t  u;

    rc = sq_store_user_get(c, uid, &u);
    if (rc != SQ_OK) {
        return rc;
    }

    if (sq_key_generate(mode, key, keylen) != 0) {
        return SQ_ERR_INVALID;
    }

    sq_key_digest_hex(pepper, key, SQ_KEY_GEN_LEN, digest);

    rc = sq_next_id(c, "sq:seq:key", id);
    if (rc == SQ_OK) {
        rc = sq_store_key_write(c, digest, *id, uid, sq_key_mode_name(mode),
                                name, expires_at, now,
                                key + SQ_KEY_GEN_LEN - 4);
    }

    if (rc != SQ_OK) {
        sodium_memzero(key, keylen);
    }

    return rc;
}


/* sq:keyid:<id> -> digest, checked to be 64 lowercase hex digits */
static sq_rc_t
sq_store_key_digest(redisContext *c, uint64_t kid,
    char digest[SQ_DIGEST_HEX_LEN + 1])
{
    size_t       i;
    sq_rc_t      rc;
    redisReply  *r;

    rc = sq_cmd(c, &r, "GET sq:keyid:%llu", (unsigned long long) kid);
    if (rc != SQ_OK) {
        return rc;
    }

    if (r->type == REDIS_REPLY_NIL) {
        rc = SQ_ERR_NOTFOUND;
    } else if (r->type != REDIS_REPLY_STRING
               || r->len != SQ_DIGEST_HEX_LEN)
    {
        rc = SQ_ERR_REDIS;
    } else {
        for (i = 0; i < r->len; i++) {
            if (!((r->str[i] >= '0' && r->str[i] <= '9')
                  || (r->str[i] >= 'a' && r->str[i] <= 'f')))
            {
                rc = SQ_ERR_REDIS;
            }
        }
        memcpy(digest, r->str, SQ_DIGEST_HEX_LEN);
        digest[SQ_DIGEST_HEX_LEN] = '\0';
    }

    freeReplyObject(r);

    return rc;
}


sq_rc_t
sq_store_key_set_status(redisContext *c, uint64_t kid, const char *status)
{
    char       digest[SQ_DIGEST_HEX_LEN + 1];
    sq_rc_t    rc;
    long long  exists;

    rc = sq_store_key_digest(c, kid, digest);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = sq_cmd_int(c, &exists, "EXISTS sq:key:%s", digest);
    if (rc != SQ_OK) {
        return rc;
    }

    if (exists != 1) {
        return SQ_ERR_NOTFOUND;
    }

    return sq_cmd_int(c, &exists, "HSET sq:key:%s status %s", digest,
                      status);
}


static int
sq_id_cmp(const void *a, const void *b)
{
    uint64_t  x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}


static sq_rc_t
sq_store_key_ids(redisContext *c, uint64_t uid, uint64_t **ids, size_t *n)
{
    size_t       i;
    sq_rc_t      rc;
    uint64_t    *v;
    redisReply  *r;

    rc = sq_cmd(c, &r, "SMEMBERS sq:user:%llu:keys",
                (unsigned long long) uid);
    if (rc != SQ_OK) {
        return rc;
    }

    v = NULL;
    if (r->type != REDIS_REPLY_ARRAY || r->elements > 100000) {
        rc = SQ_ERR_REDIS;
    } else if ((v = calloc(r->elements + 1, sizeof(uint64_t))) == NULL) {
        rc = SQ_ERR_NOMEM;
    }

    for (i = 0; rc == SQ_OK && i < r->elements; i++) {
        rc = sq_reply_id(r->element[i], &v[i]);
    }

    if (rc == SQ_OK) {
        qsort(v, r->elements, sizeof(uint64_t), sq_id_cmp);
        *ids = v;
        *n = r->elements;
    } else {
        free(v);
    }

    freeReplyObject(r);

    return rc;
}


static sq_rc_t
sq_store_key_info(redisContext *c, uint64_t kid, sq_key_info_t *k)
{
    char         digest[SQ_DIGEST_HEX_LEN + 1];
    sq_rc_t      rc;
    redisReply  *r;

    memset(k, 0, sizeof(*k));
    k->id = kid;

    rc = sq_store_key_digest(c, kid, digest);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = sq_cmd(c, &r, "HMGET sq:key:%s mode status last4 name", digest);
    if (rc != SQ_OK) {
        return rc;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4
        || sq_reply_copy(r->element[0], k->mode, sizeof(k->mode)) != SQ_OK
        || sq_reply_copy(r->element[1], k->status,
                         sizeof(k->status)) != SQ_OK
        || sq_reply_copy(r->element[2], k->last4, sizeof(k->last4)) != SQ_OK
        || sq_reply_copy(r->element[3], k->name, sizeof(k->name)) != SQ_OK)
    {
        rc = SQ_ERR_REDIS;
    }

    freeReplyObject(r);

    return rc;
}


sq_rc_t
sq_store_key_list(redisContext *c, uint64_t uid, sq_key_info_t **keys,
    size_t *n)
{
    size_t          i, count;
    sq_rc_t         rc;
    uint64_t       *ids;
    sq_key_info_t  *out;

    *keys = NULL;
    *n = 0;

    rc = sq_store_key_ids(c, uid, &ids, &count);
    if (rc != SQ_OK) {
        return rc;
    }

    out = calloc(count + 1, sizeof(sq_key_info_t));
    if (out == NULL) {
        free(ids);
        return SQ_ERR_NOMEM;
    }

    for (i = 0; i < count && rc == SQ_OK; i++) {
        rc = sq_store_key_info(c, ids[i], &out[i]);
    }

    free(ids);

    if (rc != SQ_OK) {
        free(out);
        return rc;
    }

    *keys = out;
    *n = count;

    return SQ_OK;
}
