/*
 * sq_store_key: API key records.  Only the keyed digest of a key is
 * stored; the key itself exists in memory just long enough to be shown.
 * sq:keyid:<id> maps an id to its digest for life, so a deleted key's
 * tombstone stays reachable.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sq_identity.h"
#include "sq_keygen.h"
#include "sq_keys.h"
#include "sq_store.h"

#define SQ_KEY_TX_RETRIES   5
#define SQ_KEYS_MAX         100000      /* keys read per user */

typedef enum {
    SQ_KF_ID = 0,       /* positive id */
    SQ_KF_OPTID,        /* id or 0 */
    SQ_KF_NUM,          /* 0..INT64_MAX, "" is 0 */
    SQ_KF_TEXT,
    SQ_KF_TYPE,
    SQ_KF_MODE,
    SQ_KF_SCOPES,
    SQ_KF_WS
} sq_kf_kind_t;

typedef struct {
    const char     *name;
    sq_kf_kind_t    kind;
    size_t          off;
    size_t          cap;        /* SQ_KF_TEXT */
} sq_kf_t;

#define SQ_KF(n, kind, m)  { n, kind, offsetof(sq_key_t, m), 0 }
#define SQ_KF_STR(n, m)    { n, SQ_KF_TEXT, offsetof(sq_key_t, m),     \
                             sizeof(((sq_key_t *) 0)->m) }

static const sq_kf_t  sq_key_fields[] = {
    SQ_KF("id", SQ_KF_ID, id),
    SQ_KF("user_id", SQ_KF_ID, user_id),
    SQ_KF("replaced_by", SQ_KF_OPTID, replaced_by),
    SQ_KF("type", SQ_KF_TYPE, type),
    SQ_KF("mode", SQ_KF_MODE, mode),
    SQ_KF("scopes", SQ_KF_SCOPES, scopes),
    SQ_KF("workspaces", SQ_KF_WS, ws),
    SQ_KF("expires_at", SQ_KF_NUM, expires_at),
    SQ_KF("created_at", SQ_KF_NUM, created_at),
    SQ_KF("rotated_at", SQ_KF_NUM, rotated_at),
    SQ_KF("sunset_at", SQ_KF_NUM, sunset_at),
    SQ_KF("last_used_at", SQ_KF_NUM, last_used_at),
    SQ_KF_STR("status", status),
    SQ_KF_STR("name", name),
    SQ_KF_STR("last4", last4),
    SQ_KF_STR("last_used_ip", last_used_ip)
};

/* sq:keyuse:<digest>, in HMGET order */
static const sq_kf_t  sq_key_use_fields[] = {
    SQ_KF("last_used_at", SQ_KF_NUM, last_used_at),
    SQ_KF_STR("last_used_ip", last_used_ip)
};

/* a key record read under WATCH */
typedef struct {
    char        digest[SQ_DIGEST_HEX_LEN + 1];
    sq_key_t    cur;
} sq_key_ref_t;

typedef sq_rc_t (*sq_key_op_t)(redisContext *c, const sq_key_ref_t *ref,
    void *arg);


/* One stored value into the member f of k; -1 when it is corrupt. */
static int
sq_key_field_set(const sq_kf_t *f, const char *v, size_t len, sq_key_t *k)
{
    int64_t   n;
    uint64_t  id;
    void     *dst = (char *) k + f->off;

    switch (f->kind) {
    case SQ_KF_ID:
    case SQ_KF_OPTID:
        if (f->kind == SQ_KF_OPTID && len == 1 && v[0] == '0') {
            id = 0;
        } else if (sq_text_parse_u63(v, len, &n) != 0 || n <= 0) {
            return -1;
        } else {
            id = (uint64_t) n;
        }
        *(uint64_t *) dst = id;
        return 0;
    case SQ_KF_NUM:
        n = 0;
        if (len != 0 && sq_text_parse_u63(v, len, &n) != 0) {
            return -1;
        }
        *(int64_t *) dst = n;
        return 0;
    case SQ_KF_TEXT:
        if (len >= f->cap || memchr(v, '\0', len) != NULL) {
            return -1;
        }
        memcpy(dst, v, len);
        ((char *) dst)[len] = '\0';
        return 0;
    case SQ_KF_TYPE:
        if (len == 6 && memcmp(v, "secret", 6) == 0) {
            k->type = SQ_KEY_SECRET;
        } else if (len == 11 && memcmp(v, "publishable", 11) == 0) {
            k->type = SQ_KEY_PUBLISHABLE;
        } else {
            return -1;
        }
        return 0;
    case SQ_KF_MODE:
        if (len != 4 || (memcmp(v, "live", 4) != 0
                         && memcmp(v, "test", 4) != 0))
        {
            return -1;
        }
        k->mode = v[0] == 't' ? SQ_KEY_TEST : SQ_KEY_LIVE;
        return 0;
    case SQ_KF_SCOPES:
        return sq_scopes_parse(v, len, &k->scopes);
    case SQ_KF_WS:
        return sq_wslist_parse(v, len, &k->ws);
    }

    return -1;
}


static sq_rc_t
sq_key_pair(const redisReply *name, const redisReply *v, sq_key_t *k)
{
    size_t  i;

    if (name->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
        return SQ_ERR_REDIS;
    }

    for (i = 0; i < sizeof(sq_key_fields) / sizeof(sq_key_fields[0]); i++) {
        if (strlen(sq_key_fields[i].name) == name->len
            && memcmp(sq_key_fields[i].name, name->str, name->len) == 0)
        {
            return sq_key_field_set(&sq_key_fields[i], v->str, v->len, k)
                   == 0 ? SQ_OK : SQ_ERR_REDIS;
        }
    }

    return SQ_OK;       /* a field of someone else: ignored */
}


/* HGETALL reply of key kid into k */
static sq_rc_t
sq_key_parse_record(const redisReply *r, uint64_t kid, sq_key_t *k)
{
    size_t   i;
    sq_rc_t  rc;

    memset(k, 0, sizeof(*k));
    k->type = SQ_KEY_SECRET;
    k->mode = SQ_KEY_LIVE;

    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
        return SQ_ERR_REDIS;
    }

    if (r->elements == 0) {
        return SQ_ERR_NOTFOUND;
    }

    rc = SQ_OK;
    for (i = 0; rc == SQ_OK && i < r->elements; i += 2) {
        rc = sq_key_pair(r->element[i], r->element[i + 1], k);
    }

    if (rc == SQ_OK && (k->id != kid || k->user_id == 0
                        || k->status[0] == '\0'))
    {
        rc = SQ_ERR_REDIS;
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

    rc = sq_cmd(c, &r, "GET " SQ_K_KEYID, (unsigned long long) kid);
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


/*
 * last_used_at/last_used_ip, written by the edge's usage flush into
 * sq:keyuse:<digest>: off the key record, so that the edge's cache, which
 * drops its entries on every change to sq:key:*, is not flushed by the
 * edge's own bookkeeping.  Records from before the move keep theirs.
 */
static sq_rc_t
sq_key_read_use(redisContext *c, sq_key_ref_t *ref)
{
    size_t       i;
    sq_rc_t      rc;
    redisReply  *r;

    rc = sq_cmd(c, &r, "HMGET " SQ_K_KEYUSE " last_used_at last_used_ip",
                ref->digest);
    if (rc != SQ_OK) {
        return rc;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        freeReplyObject(r);
        return SQ_ERR_REDIS;
    }

    for (i = 0; i < 2; i++) {
        if (r->element[i]->type != REDIS_REPLY_STRING) {
            continue;       /* never used since the move */
        }

        if (sq_key_field_set(&sq_key_use_fields[i], r->element[i]->str,
                             r->element[i]->len, &ref->cur)
            != 0)
        {
            rc = SQ_ERR_REDIS;
        }
    }

    freeReplyObject(r);

    return rc;
}


/* The record of kid as uid may see it (deleted ones included). */
static sq_rc_t
sq_key_read(redisContext *c, uint64_t kid, uint64_t uid, sq_key_ref_t *ref)
{
    sq_rc_t      rc;
    redisReply  *r;

    rc = sq_store_key_digest(c, kid, ref->digest);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = sq_cmd(c, &r, "HGETALL " SQ_K_KEY, ref->digest);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = sq_key_parse_record(r, kid, &ref->cur);
    freeReplyObject(r);

    if (rc == SQ_OK && uid != 0 && ref->cur.user_id != uid) {
        rc = SQ_ERR_NOTFOUND;
    }

    if (rc == SQ_OK) {
        rc = sq_key_read_use(c, ref);
    }

    return rc;
}


sq_rc_t
sq_store_key_get(redisContext *c, uint64_t kid, uint64_t uid, sq_key_t *k)
{
    sq_rc_t       rc;
    sq_key_ref_t  ref;

    rc = sq_key_read(c, kid, uid, &ref);
    if (rc == SQ_OK && strcmp(ref.cur.status, "deleted") == 0) {
        rc = SQ_ERR_NOTFOUND;
    }

    if (rc == SQ_OK) {
        *k = ref.cur;
    }

    return rc;
}


/* Queues the whole record of k and its indexes. */
static void
sq_key_tx_write(sq_tx_t *tx, const char *digest, const sq_key_t *k)
{
    char  scopes[SQ_SCOPES_TEXT_MAX + 1], ws[SQ_WSLIST_TEXT_MAX + 1];

    if (sq_scopes_format(k->scopes, scopes, sizeof(scopes)) != 0
        || sq_wslist_format(&k->ws, ws, sizeof(ws)) != 0)
    {
        tx->failed = 1;     /* the exec discards: SQ_ERR_NOMEM */
        return;
    }

    sq_tx_add(tx, "HSET " SQ_K_KEY " id %llu user_id %llu type %s mode %s "
              "status %s scopes %s workspaces %s expires_at %lld "
              "rotated_at 0 sunset_at 0 replaced_by 0 name %s "
              "created_at %lld last4 %s", digest,
              (unsigned long long) k->id, (unsigned long long) k->user_id,
              sq_key_type_name(k->type), sq_key_mode_name(k->mode),
              k->status, scopes, ws, (long long) k->expires_at, k->name,
              (long long) k->created_at, k->last4);
    sq_tx_add(tx, "SET " SQ_K_KEYID " %s", (unsigned long long) k->id,
              digest);
    sq_tx_add(tx, "SADD " SQ_K_USER_KEYS " %llu",
              (unsigned long long) k->user_id, (unsigned long long) k->id);
}


/*
 * A fresh key for k (type, mode): the key text, its digest, last4, a
 * new id, status active, created_at now.
 */
static sq_rc_t
sq_key_fresh(redisContext *c, const uint8_t pepper[32], sq_key_t *k,
    int64_t now, char *key, size_t keylen, char digest[])
{
    if (sq_key_generate(k->type, k->mode, key, keylen) != 0) {
        return SQ_ERR_INVALID;
    }

    sq_key_digest_hex(pepper, key, SQ_KEY_GEN_LEN, digest);
    memcpy(k->last4, key + SQ_KEY_GEN_LEN - 4, 5);
    memcpy(k->status, "active", sizeof("active"));
    k->created_at = now;
    k->rotated_at = 0;
    k->sunset_at = 0;
    k->replaced_by = 0;
    k->last_used_at = 0;
    k->last_used_ip[0] = '\0';

    return sq_next_id(c, "key", &k->id);
}


sq_rc_t
sq_store_key_create(redisContext *c, const uint8_t pepper[32], sq_key_t *k,
    int64_t now, char *key, size_t keylen)
{
    char       digest[SQ_DIGEST_HEX_LEN + 1];
    sq_rc_t    rc;
    sq_tx_t    tx;
    sq_user_t  u;

    rc = sq_store_user_get(c, k->user_id, &u);

    if (rc == SQ_OK) {
        rc = sq_key_fresh(c, pepper, k, now, key, keylen, digest);
    }

    if (rc == SQ_OK) {
        sq_tx_begin(&tx, c);
        sq_key_tx_write(&tx, digest, k);
        rc = sq_tx_exec(&tx);
    }

    if (rc != SQ_OK) {
        sodium_memzero(key, keylen);
    }

    return rc;
}


/*
 * WATCHes kid's record, reads it and runs op, which either refuses
 * (without a transaction) or runs its MULTI/EXEC.  Deleted keys and
 * other users' keys are SQ_ERR_NOTFOUND.
 */
static sq_rc_t
sq_key_apply(redisContext *c, uint64_t kid, uint64_t uid, sq_key_op_t op,
    void *arg)
{
    int           attempt;
    sq_rc_t       rc;
    redisReply   *r;
    sq_key_ref_t  ref;

    rc = sq_store_key_digest(c, kid, ref.digest);

    for (attempt = 0; rc == SQ_OK && attempt < SQ_KEY_TX_RETRIES;
         attempt++)
    {
        rc = sq_cmd(c, &r, "WATCH " SQ_K_KEY, ref.digest);
        if (rc != SQ_OK) {
            return rc;
        }
        freeReplyObject(r);

        rc = sq_key_read(c, kid, uid, &ref);
        if (rc == SQ_OK && strcmp(ref.cur.status, "deleted") == 0) {
            rc = SQ_ERR_NOTFOUND;
        }

        if (rc == SQ_OK) {
            rc = op(c, &ref, arg);
        }

        if (rc != SQ_ERR_CONFLICT) {
            return rc == SQ_OK ? rc : sq_unwatch(c, rc);
        }

        rc = SQ_OK;
    }

    return rc == SQ_OK ? SQ_ERR_CONFLICT : rc;
}


static sq_rc_t
sq_key_op_status(redisContext *c, const sq_key_ref_t *ref, void *arg)
{
    sq_tx_t  tx;

    sq_tx_begin(&tx, c);
    sq_tx_add(&tx, "HSET " SQ_K_KEY " status %s", ref->digest,
              (const char *) arg);

    return sq_tx_exec(&tx);
}


sq_rc_t
sq_store_key_set_status(redisContext *c, uint64_t kid, uint64_t uid,
    const char *status)
{
    if (strcmp(status, "active") != 0 && strcmp(status, "disabled") != 0) {
        return SQ_ERR_INVALID;
    }

    return sq_key_apply(c, kid, uid, sq_key_op_status, (void *) status);
}


static sq_rc_t
sq_key_op_delete(redisContext *c, const sq_key_ref_t *ref, void *arg)
{
    sq_tx_t  tx;

    (void) arg;

    sq_tx_begin(&tx, c);
    sq_tx_add(&tx, "HSET " SQ_K_KEY " status deleted", ref->digest);
    sq_tx_add(&tx, "SREM " SQ_K_USER_KEYS " %llu",
              (unsigned long long) ref->cur.user_id,
              (unsigned long long) ref->cur.id);

    return sq_tx_exec(&tx);
}


sq_rc_t
sq_store_key_delete(redisContext *c, uint64_t kid, uint64_t uid)
{
    return sq_key_apply(c, kid, uid, sq_key_op_delete, NULL);
}


typedef struct {
    const uint8_t  *pepper;
    int64_t         grace;
    int64_t         now;
    char           *key;
    size_t          keylen;
    sq_key_t       *nk;
    char            digest[SQ_DIGEST_HEX_LEN + 1];
} sq_key_rotate_t;


static sq_rc_t
sq_key_op_rotate(redisContext *c, const sq_key_ref_t *ref, void *arg)
{
    sq_rc_t           rc;
    sq_tx_t           tx;
    sq_key_rotate_t  *a = arg;

    if (ref->cur.sunset_at != 0 || ref->cur.rotated_at != 0) {
        return SQ_ERR_STATE;
    }

    /* the new key once; a retry after a conflict keeps it */
    if (a->nk->id == 0) {
        *a->nk = ref->cur;
        rc = sq_key_fresh(c, a->pepper, a->nk, a->now, a->key, a->keylen,
                          a->digest);
        if (rc != SQ_OK) {
            a->nk->id = 0;
            return rc;
        }
    }

    sq_tx_begin(&tx, c);
    sq_key_tx_write(&tx, a->digest, a->nk);
    sq_tx_add(&tx, "HSET " SQ_K_KEY " rotated_at %lld sunset_at %lld "
              "replaced_by %llu", ref->digest, (long long) a->now,
              (long long) (a->now + a->grace),
              (unsigned long long) a->nk->id);

    return sq_tx_exec(&tx);
}


sq_rc_t
sq_store_key_rotate(redisContext *c, const uint8_t pepper[32], uint64_t kid,
    uint64_t uid, int64_t grace, int64_t now, char *key, size_t keylen,
    sq_key_t *nk)
{
    sq_rc_t          rc;
    sq_key_rotate_t  a;

    if (grace < 0 || grace > SQ_KEY_GRACE_MAX || now <= 0) {
        return SQ_ERR_INVALID;
    }

    memset(nk, 0, sizeof(*nk));
    a.pepper = pepper;
    a.grace = grace;
    a.now = now;
    a.key = key;
    a.keylen = keylen;
    a.nk = nk;

    rc = sq_key_apply(c, kid, uid, sq_key_op_rotate, &a);

    if (rc != SQ_OK) {
        sodium_memzero(key, keylen);
        sodium_memzero(a.digest, sizeof(a.digest));
    }

    return rc;
}


static int
sq_id_cmp(const void *a, const void *b)
{
    uint64_t  x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}


/* the user's key ids, ascending */
static sq_rc_t
sq_store_key_ids(redisContext *c, uint64_t uid, uint64_t **ids, size_t *n)
{
    size_t       i;
    sq_rc_t      rc;
    uint64_t    *v;
    redisReply  *r;

    rc = sq_cmd(c, &r, "SMEMBERS " SQ_K_USER_KEYS,
                (unsigned long long) uid);
    if (rc != SQ_OK) {
        return rc;
    }

    v = NULL;
    if (r->type != REDIS_REPLY_ARRAY || r->elements > SQ_KEYS_MAX) {
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


/* Reads keys of ids[from..count) after the cursor; stops at limit + 1. */
static sq_rc_t
sq_store_key_page(redisContext *c, uint64_t uid, const uint64_t *ids,
    size_t count, uint64_t after, size_t limit, sq_key_t *out, size_t *n,
    uint64_t *next)
{
    size_t   i;
    sq_rc_t  rc;

    for (i = 0; i < count; i++) {
        if (ids[i] <= after) {
            continue;
        }

        if (*n == limit) {
            *next = out[limit - 1].id;
            return SQ_OK;
        }

        rc = sq_store_key_get(c, ids[i], uid, &out[*n]);
        if (rc == SQ_OK) {
            (*n)++;
        } else if (rc != SQ_ERR_NOTFOUND) {
            return rc;
        }
    }

    return SQ_OK;
}


sq_rc_t
sq_store_key_list(redisContext *c, uint64_t uid, uint64_t after,
    size_t limit, sq_key_t **keys, size_t *n, uint64_t *next)
{
    size_t     count;
    sq_rc_t    rc;
    uint64_t  *ids;
    sq_key_t  *out;

    *keys = NULL;
    *n = 0;
    *next = 0;

    if (limit == 0 || limit > SQ_PAGE_MAX) {
        return SQ_ERR_INVALID;
    }

    rc = sq_store_key_ids(c, uid, &ids, &count);
    if (rc != SQ_OK) {
        return rc;
    }

    out = calloc(limit, sizeof(sq_key_t));
    rc = out != NULL ? sq_store_key_page(c, uid, ids, count, after, limit,
                                         out, n, next)
                     : SQ_ERR_NOMEM;
    free(ids);

    if (rc != SQ_OK) {
        free(out);
        *n = 0;
        *next = 0;
        return rc;
    }

    *keys = out;

    return SQ_OK;
}


sq_rc_t
sq_store_key_max_id(redisContext *c, uint64_t *max)
{
    sq_rc_t      rc;
    redisReply  *r;

    *max = 0;

    rc = sq_cmd(c, &r, "GET " SQ_K_SEQ, "key");
    if (rc != SQ_OK) {
        return rc;
    }

    if (r->type != REDIS_REPLY_NIL) {
        rc = sq_reply_id(r, max);
    }

    freeReplyObject(r);

    return rc;
}


/* "allowed" or "denied" of a usage hash; absent is 0 */
static sq_rc_t
sq_usage_count(const redisReply *v, int64_t *n)
{
    *n = 0;

    if (v->type == REDIS_REPLY_NIL) {
        return SQ_OK;
    }

    return v->type == REDIS_REPLY_STRING
           && sq_text_parse_u63(v->str, v->len, n) == 0
           ? SQ_OK : SQ_ERR_REDIS;
}


sq_rc_t
sq_store_key_usage(redisContext *c, uint64_t kid, int64_t now, size_t days,
    sq_usage_day_t *out)
{
    char         ymd[16];
    size_t       i;
    sq_rc_t      rc;
    time_t       t;
    struct tm    tm;
    redisReply  *r;

    if (days == 0 || days > SQ_USAGE_DAYS_MAX || now < 0) {
        return SQ_ERR_INVALID;
    }

    for (i = 0; i < days; i++) {
        t = (time_t) (now - (int64_t) (days - 1 - i) * 86400);
        if (gmtime_r(&t, &tm) == NULL
            || strftime(ymd, sizeof(ymd), "%Y%m%d", &tm) == 0
            || strftime(out[i].date, sizeof(out[i].date), "%Y-%m-%d", &tm)
               == 0
            || redisAppendCommand(c, "HMGET " SQ_K_USAGE " allowed denied",
                                  (unsigned long long) kid, ymd) != REDIS_OK)
        {
            c->err = REDIS_ERR_OOM;     /* replies are out of step now */
            return SQ_ERR_NOMEM;
        }
    }

    rc = SQ_OK;

    for (i = 0; i < days; i++) {
        if (redisGetReply(c, (void **) &r) != REDIS_OK || r == NULL) {
            return SQ_ERR_IO;
        }

        if (rc == SQ_OK
            && (r->type != REDIS_REPLY_ARRAY || r->elements != 2
                || sq_usage_count(r->element[0], &out[i].allowed) != SQ_OK
                || sq_usage_count(r->element[1], &out[i].denied) != SQ_OK))
        {
            rc = SQ_ERR_REDIS;
        }

        freeReplyObject(r);
    }

    return rc;
}
