/*
 * sq_store_key: API key records.  Only the keyed digest of a key is
 * stored; the key itself exists in memory just long enough to be shown.
 * sq:keyid:<id> maps an id to its digest for life, so a deleted key's
 * tombstone stays reachable.  Every operation is one call of a key
 * function of redis/smartlyq.lua (sq_store_key.h); the synchronous
 * sq_store_key_* below make those calls for sqctl and the tests.
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
#include "sq_store_key.h"

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
    SQ_KF_STR("last_used_ip", last_used_ip),
    SQ_KF("owner_id", SQ_KF_OPTID, owner_id),      /* issue 16 */
    SQ_KF_STR("purpose", purpose)
};

/* sq:keyuse:{<digest>}, in HMGET order */
static const sq_kf_t  sq_key_use_fields[] = {
    SQ_KF("last_used_at", SQ_KF_NUM, last_used_at),
    SQ_KF_STR("last_used_ip", last_used_ip)
};


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

    if (rc == SQ_OK && ((kid != 0 && k->id != kid) || k->id == 0
                        || k->user_id == 0
                        || k->status[0] == '\0'))
    {
        rc = SQ_ERR_REDIS;
    }

    return rc;
}




/* 1 when s[0..len) is 64 lowercase hex digits */
static int
sq_key_digest_ok(const char *s, size_t len)
{
    size_t  i;

    if (len != SQ_DIGEST_HEX_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * last_used_at/last_used_ip, written by the edge's usage flush into
 * sq:keyuse:{<digest>}: off the key record, so that the edge's cache, which
 * drops its entries on every change to sq:key:*, is not flushed by the
 * edge's own bookkeeping.  Records from before the move keep theirs.
 */
static sq_rc_t
sq_key_use(const redisReply *r, sq_key_t *k)
{
    size_t  i;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        return SQ_ERR_REDIS;
    }

    for (i = 0; i < 2; i++) {
        if (r->element[i]->type != REDIS_REPLY_STRING) {
            continue;       /* never used since the move */
        }

        if (sq_key_field_set(&sq_key_use_fields[i], r->element[i]->str,
                             r->element[i]->len, k)
            != 0)
        {
            return SQ_ERR_REDIS;
        }
    }

    return SQ_OK;
}


sq_rc_t
sq_key_entry(const redisReply *e, uint64_t kid, sq_key_t *k, char *ver)
{
    sq_rc_t  rc;

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 4
        || e->element[0]->type != REDIS_REPLY_STRING
        || !sq_key_digest_ok(e->element[0]->str, e->element[0]->len)
        || e->element[3]->type != REDIS_REPLY_STRING
        || e->element[3]->len != SQ_KEY_VER_LEN)
    {
        return SQ_ERR_REDIS;
    }

    rc = sq_key_parse_record(e->element[1], kid, k);
    if (rc == SQ_OK) {
        rc = sq_key_use(e->element[2], k);
    }

    if (rc == SQ_OK && ver != NULL) {
        memcpy(ver, e->element[3]->str, SQ_KEY_VER_LEN);
        ver[SQ_KEY_VER_LEN] = '\0';
    }

    return rc;
}


sq_rc_t
sq_key_reply_rc(const redisReply *r)
{
    static const sq_reply_word_t  words[] = {
        { "OK", SQ_OK },
        { "NOTFOUND", SQ_ERR_NOTFOUND },
        { "CONFLICT", SQ_ERR_CONFLICT },
        { "STATE", SQ_ERR_STATE },
        { "WSMEMBER", SQ_ERR_INVALID },
        { "NOUSER", SQ_ERR_BADREF },        /* issue 16: sq_key_own */
        { "NO_OWNER", SQ_ERR_STATE }        /* issue 16: sq_notify_owner */
    };

    return sq_reply_word_rc(r, words, sizeof(words) / sizeof(words[0]));
}


/* ---- the calls ---- */

void
sq_store_who_head(sq_argv_t *a, const sq_key_who_t *w, const char *fn, int write,
    int nkeys)
{
    memset(a, 0, offsetof(sq_argv_t, buf));

    sq_argv_str(a, write ? "FCALL" : "FCALL_RO");
    sq_argv_str(a, fn);
    sq_argv_fmt(a, "%d", nkeys);

    if (write && w->nonce != NULL) {
        sq_argv_fmt(a, SQ_K_NONCE, w->nonce);
    } else {
        sq_argv_str(a, "");
    }

    if (w->wid != 0) {
        sq_argv_fmt(a, SQ_K_WS_MEMBERS, (unsigned long long) w->wid);
    } else {
        sq_argv_str(a, "");
    }
}


/* ARGV[1..5]: uid or "", workspace or "", the key's list, mode, TTL */
void
sq_store_who_common(sq_argv_t *a, const sq_key_who_t *w, int write)
{
    if (w->uid != 0) {
        sq_argv_u64(a, w->uid);
    } else {
        sq_argv_str(a, "");
    }

    if (w->wid != 0) {
        sq_argv_u64(a, w->wid);
    } else {
        sq_argv_str(a, "");
    }

    sq_argv_str(a, w->kws != NULL ? w->kws : "");
    sq_argv_str(a, w->test ? "test" : "live");

    if (write && w->nonce != NULL) {
        sq_argv_fmt(a, "%lld", (long long) w->ttl);
    } else {
        sq_argv_str(a, "");
    }
}


void
sq_key_argv_one(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid)
{
    sq_store_who_head(a, w, "sq_key_one", 0, 3);
    sq_argv_fmt(a, SQ_K_KEYID, (unsigned long long) kid);
    sq_store_who_common(a, w, 0);
}


void
sq_key_argv_create(sq_argv_t *a, const sq_key_who_t *w, const sq_key_t *k,
    sq_key_text_t *t)
{
    sq_store_who_head(a, w, "sq_key_create", 1, 3);
    sq_argv_fmt(a, SQ_K_KEY, t->digest);
    sq_store_who_common(a, w, 1);

    if (sq_scopes_format(k->scopes, t->scopes, sizeof(t->scopes)) != 0
        || sq_wslist_format(&k->ws, t->ws, sizeof(t->ws)) != 0)
    {
        a->failed = 1;
        return;
    }

    sq_argv_str(a, t->digest);
    sq_argv_u64(a, k->user_id);
    sq_argv_str(a, sq_key_type_name(k->type));
    sq_argv_str(a, sq_key_mode_name(k->mode));
    sq_argv_str(a, t->scopes);
    sq_argv_str(a, t->ws);
    sq_argv_fmt(a, "%lld", (long long) k->expires_at);
    sq_argv_str(a, k->name);
    sq_argv_fmt(a, "%lld", (long long) k->created_at);
    sq_argv_str(a, k->last4);
    /* issue 16 (keyops): owner (0: the key's user) and purpose */
    if (k->owner_id != 0) {
        sq_argv_u64(a, k->owner_id);
    } else {
        sq_argv_str(a, "");
    }
    sq_argv_str(a, k->purpose);
}


void
sq_key_argv_rotate(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    const sq_key_t *nk, int64_t grace, const sq_key_text_t *t,
    const char *ver)
{
    sq_store_who_head(a, w, "sq_key_rotate", 1, 4);
    sq_argv_fmt(a, SQ_K_KEYID, (unsigned long long) kid);
    sq_argv_fmt(a, SQ_K_KEY, t->digest);
    sq_store_who_common(a, w, 1);
    sq_argv_str(a, t->digest);
    sq_argv_fmt(a, "%lld", (long long) grace);
    sq_argv_fmt(a, "%lld", (long long) nk->created_at);
    sq_argv_str(a, nk->last4);
    sq_argv_str(a, ver);
}


void
sq_key_argv_set(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    const char *status, const char *ver)
{
    sq_store_who_head(a, w, "sq_key_set", 1, 3);
    sq_argv_fmt(a, SQ_K_KEYID, (unsigned long long) kid);
    sq_store_who_common(a, w, 1);
    sq_argv_str(a, status);
    sq_argv_str(a, ver);
}


void
sq_key_argv_page(sq_argv_t *a, const sq_key_who_t *w, uint64_t after,
    size_t limit)
{
    sq_store_who_head(a, w, "sq_key_page", 0, 3);
    sq_argv_fmt(a, SQ_K_USER_KEYS, (unsigned long long) w->uid);
    sq_store_who_common(a, w, 0);
    sq_argv_u64(a, after);
    sq_argv_fmt(a, "%zu", limit);
    sq_argv_fmt(a, "%d", SQ_KEYS_MAX);
}


void
sq_key_argv_usage(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    int check, const sq_key_text_t *t)
{
    sq_store_who_head(a, w, "sq_key_usage", 0, 3);
    if (check) {
        sq_argv_fmt(a, SQ_K_KEYID, (unsigned long long) kid);
    } else {
        sq_argv_str(a, "");
    }
    sq_store_who_common(a, w, 0);
    sq_argv_u64(a, kid);
    sq_argv_str(a, t->dates);
}


int
sq_key_fresh(const uint8_t pepper[32], sq_key_t *k, int64_t now, char *key,
    size_t keylen, sq_key_text_t *t)
{
    if (sq_key_generate(k->type, k->mode, key, keylen) != 0) {
        sodium_memzero(key, keylen);
        return -1;
    }

    sq_key_digest_hex(pepper, key, SQ_KEY_GEN_LEN, t->digest);
    memcpy(k->last4, key + SQ_KEY_GEN_LEN - 4, 5);
    memcpy(k->status, "active", sizeof("active"));
    k->id = 0;
    k->created_at = now;
    k->rotated_at = 0;
    k->sunset_at = 0;
    k->replaced_by = 0;
    k->last_used_at = 0;
    k->last_used_ip[0] = '\0';

    return 0;
}


sq_rc_t
sq_key_usage_days(int64_t now, size_t days, sq_usage_day_t *d,
    sq_key_text_t *t)
{
    char       ymd[16];
    size_t     i, len;
    time_t     tt;
    struct tm  tm;

    if (days == 0 || days > SQ_USAGE_DAYS_MAX || now < 0) {
        return SQ_ERR_INVALID;
    }

    for (i = 0, len = 0; i < days; i++) {
        tt = (time_t) (now - (int64_t) (days - 1 - i) * 86400);
        if (gmtime_r(&tt, &tm) == NULL
            || strftime(ymd, sizeof(ymd), "%Y%m%d", &tm) != 8
            || strftime(d[i].date, sizeof(d[i].date), "%Y-%m-%d", &tm) == 0
            || len + 10 > sizeof(t->dates))
        {
            return SQ_ERR_INVALID;
        }

        if (i > 0) {
            t->dates[len++] = ' ';
        }
        memcpy(t->dates + len, ymd, 8);
        len += 8;
    }

    t->dates[len] = '\0';

    return SQ_OK;
}


/* ---- replies ---- */

sq_rc_t
sq_key_page_parse(const redisReply *r, size_t limit, sq_key_t **keys,
    size_t *n, uint64_t *next)
{
    size_t     i;
    sq_rc_t    rc;
    sq_key_t  *out;

    *keys = NULL;
    *n = 0;
    *next = 0;

    if (r->elements < 2 || r->elements - 2 > limit
        || r->element[1]->type != REDIS_REPLY_STRING)
    {
        return SQ_ERR_REDIS;
    }

    if (!(r->element[1]->len == 1 && r->element[1]->str[0] == '0')
        && sq_reply_id(r->element[1], next) != SQ_OK)
    {
        return SQ_ERR_REDIS;
    }

    out = calloc(limit, sizeof(sq_key_t));
    if (out == NULL) {
        return SQ_ERR_NOMEM;
    }

    rc = SQ_OK;
    for (i = 2; rc == SQ_OK && i < r->elements; i++) {
        rc = sq_key_entry(r->element[i], 0, &out[i - 2], NULL);
    }

    if (rc != SQ_OK) {
        free(out);
        *next = 0;
        return rc;
    }

    *keys = out;
    *n = r->elements - 2;

    return SQ_OK;
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
sq_key_usage_parse(const redisReply *r, size_t days, sq_usage_day_t *d)
{
    size_t  i;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 * days) {
        return SQ_ERR_REDIS;
    }

    for (i = 0; i < days; i++) {
        if (sq_usage_count(r->element[2 * i], &d[i].allowed) != SQ_OK
            || sq_usage_count(r->element[2 * i + 1], &d[i].denied) != SQ_OK)
        {
            return SQ_ERR_REDIS;
        }
    }

    return SQ_OK;
}


/* ---- synchronous calls (sqctl, tests) ---- */

/* The call a; its reply when it is {'OK', ...} */
static sq_rc_t
sq_key_call(redisContext *c, sq_argv_t *a, redisReply **out)
{
    sq_rc_t      rc;
    redisReply  *r;

    *out = NULL;

    rc = sq_store_argv_call(c, a, &r);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = sq_key_reply_rc(r);
    if (rc != SQ_OK) {
        freeReplyObject(r);
        return rc;
    }

    *out = r;

    return SQ_OK;
}


static sq_rc_t
sq_key_one(redisContext *c, uint64_t kid, uint64_t uid, sq_key_t *k,
    char *ver)
{
    sq_rc_t        rc;
    sq_argv_t      a;
    redisReply    *r;
    sq_key_who_t   w;

    memset(&w, 0, sizeof(w));
    w.uid = uid;

    sq_key_argv_one(&a, &w, kid);
    rc = sq_key_call(c, &a, &r);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = r->elements == 2 ? sq_key_entry(r->element[1], kid, k, ver)
                          : SQ_ERR_REDIS;
    freeReplyObject(r);

    return rc;
}


sq_rc_t
sq_store_key_get(redisContext *c, uint64_t kid, uint64_t uid, sq_key_t *k)
{
    return sq_key_one(c, kid, uid, k, NULL);
}


sq_rc_t
sq_store_key_create(redisContext *c, const uint8_t pepper[32], sq_key_t *k,
    int64_t now, char *key, size_t keylen)
{
    sq_rc_t        rc;
    sq_argv_t      a;
    redisReply    *r;
    sq_key_who_t   w;
    sq_key_text_t  t;

    if (sq_key_fresh(pepper, k, now, key, keylen, &t) != 0) {
        return SQ_ERR_INVALID;
    }

    memset(&w, 0, sizeof(w));
    sq_key_argv_create(&a, &w, k, &t);
    rc = sq_key_call(c, &a, &r);

    if (rc == SQ_OK) {
        rc = r->elements == 2 ? sq_reply_id(r->element[1], &k->id)
                              : SQ_ERR_REDIS;
        freeReplyObject(r);
    }

    if (rc != SQ_OK) {
        sodium_memzero(key, keylen);
    }

    sodium_memzero(&t, sizeof(t));

    return rc;
}


/* One read and one write; SQ_ERR_CONFLICT when the key changed between. */
static sq_rc_t
sq_key_rotate_once(redisContext *c, const uint8_t pepper[32], uint64_t kid,
    uint64_t uid, int64_t grace, int64_t now, char *key, size_t keylen,
    sq_key_t *nk)
{
    char           ver[SQ_KEY_VER_LEN + 1];
    sq_rc_t        rc;
    sq_argv_t      a;
    redisReply    *r;
    sq_key_who_t   w;
    sq_key_text_t  t;

    rc = sq_key_one(c, kid, uid, nk, ver);
    if (rc != SQ_OK) {
        return rc;
    }

    if (sq_key_fresh(pepper, nk, now, key, keylen, &t) != 0) {
        return SQ_ERR_INVALID;
    }

    memset(&w, 0, sizeof(w));
    w.uid = uid;
    sq_key_argv_rotate(&a, &w, kid, nk, grace, &t, ver);
    rc = sq_key_call(c, &a, &r);
    sodium_memzero(&t, sizeof(t));

    if (rc == SQ_OK) {
        rc = r->elements == 2 ? sq_key_entry(r->element[1], 0, nk, NULL)
                              : SQ_ERR_REDIS;
        freeReplyObject(r);
    }

    return rc;
}


sq_rc_t
sq_store_key_rotate(redisContext *c, const uint8_t pepper[32], uint64_t kid,
    uint64_t uid, int64_t grace, int64_t now, char *key, size_t keylen,
    sq_key_t *nk)
{
    int      tries;
    sq_rc_t  rc;

    if (grace < 0 || grace > SQ_KEY_GRACE_MAX || now <= 0) {
        return SQ_ERR_INVALID;
    }

    rc = SQ_ERR_CONFLICT;
    for (tries = 0; rc == SQ_ERR_CONFLICT && tries < SQ_KEY_TRIES; tries++) {
        memset(nk, 0, sizeof(*nk));
        rc = sq_key_rotate_once(c, pepper, kid, uid, grace, now, key, keylen,
                                nk);
    }

    if (rc != SQ_OK) {
        sodium_memzero(key, keylen);
        memset(nk, 0, sizeof(*nk));
    }

    return rc;
}


static sq_rc_t
sq_key_set(redisContext *c, uint64_t kid, uint64_t uid, const char *status)
{
    sq_rc_t        rc;
    sq_argv_t      a;
    redisReply    *r;
    sq_key_who_t   w;

    memset(&w, 0, sizeof(w));
    w.uid = uid;

    sq_key_argv_set(&a, &w, kid, status, "");
    rc = sq_key_call(c, &a, &r);
    if (rc == SQ_OK) {
        freeReplyObject(r);
    }

    return rc;
}


sq_rc_t
sq_store_key_set_status(redisContext *c, uint64_t kid, uint64_t uid,
    const char *status)
{
    if (strcmp(status, "active") != 0 && strcmp(status, "disabled") != 0) {
        return SQ_ERR_INVALID;
    }

    return sq_key_set(c, kid, uid, status);
}


sq_rc_t
sq_store_key_delete(redisContext *c, uint64_t kid, uint64_t uid)
{
    return sq_key_set(c, kid, uid, "deleted");
}


sq_rc_t
sq_store_key_list(redisContext *c, uint64_t uid, uint64_t after,
    size_t limit, sq_key_t **keys, size_t *n, uint64_t *next)
{
    sq_rc_t        rc;
    sq_argv_t      a;
    redisReply    *r;
    sq_key_who_t   w;

    *keys = NULL;
    *n = 0;
    *next = 0;

    if (limit == 0 || limit > SQ_PAGE_MAX || uid == 0) {
        return SQ_ERR_INVALID;
    }

    memset(&w, 0, sizeof(w));
    w.uid = uid;

    sq_key_argv_page(&a, &w, after, limit);
    rc = sq_key_call(c, &a, &r);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = sq_key_page_parse(r, limit, keys, n, next);
    freeReplyObject(r);

    return rc;
}


sq_rc_t
sq_store_key_max_id(redisContext *c, uint64_t *max)
{
    return sq_last_id(c, "key", max);
}


sq_rc_t
sq_store_key_usage(redisContext *c, uint64_t kid, int64_t now, size_t days,
    sq_usage_day_t *out)
{
    sq_rc_t        rc;
    sq_argv_t      a;
    redisReply    *r;
    sq_key_who_t   w;
    sq_key_text_t  t;

    rc = sq_key_usage_days(now, days, out, &t);
    if (rc != SQ_OK) {
        return rc;
    }

    memset(&w, 0, sizeof(w));
    sq_key_argv_usage(&a, &w, kid, 0, &t);
    rc = sq_key_call(c, &a, &r);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = r->elements == 3 ? sq_key_usage_parse(r->element[2], days, out)
                          : SQ_ERR_REDIS;
    freeReplyObject(r);

    return rc;
}
