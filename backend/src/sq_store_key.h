/*
 * sq_store_key: API key operations as calls of the key functions of
 * redis/smartlyq.lua (sq_key_one, sq_key_create, sq_key_rotate,
 * sq_key_set, sq_key_page, sq_key_usage), one atomic call each.  The
 * argument vectors and the parsing of replies are shared: the backend
 * sends them on its asynchronous link (sq_res_keys.c), sqctl and the
 * tests through the synchronous sq_store_key_* of sq_store.h.
 */

#ifndef SQ_STORE_KEY_H
#define SQ_STORE_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "sq_argv.h"
#include "sq_identity.h"
#include "sq_key.h"
#include "sq_store.h"

#define SQ_KEY_VER_LEN      40      /* hex SHA-1 of a record's version */
#define SQ_KEY_TRIES        5       /* reads and writes on CONFLICT */
#define SQ_KEYS_MAX         100000  /* keys a user may have, read */
#define SQ_USAGE_DATES_MAX  (SQ_USAGE_DAYS_MAX * 9 + 1)

/* who calls: the request's identity, or sqctl (all zero, NULL) */
typedef struct {
    uint64_t     uid;       /* the owner acted for; 0: any (sqctl) */
    uint64_t     wid;       /* the identity's workspace; 0: none */
    const char  *kws;       /* the calling key's workspaces, or NULL */
    int          test;      /* the calling key is a test key */
    const char  *nonce;     /* a write's nonce to claim, or NULL */
    int64_t      ttl;       /* its seconds */
} sq_key_who_t;

/*
 * The head and first arguments of a function call as who (keys, apps):
 * FCALL|FCALL_RO fn nkeys, KEYS[1] the nonce or "", KEYS[2] the members
 * or ""; then ARGV[1..5] uid or "", workspace or "", the key's list,
 * mode, the nonce's TTL or "".
 */
void sq_store_who_head(sq_argv_t *a, const sq_key_who_t *w, const char *fn,
    int write, int nkeys);
void sq_store_who_common(sq_argv_t *a, const sq_key_who_t *w, int write);

/* text a call refers to, kept by the caller until it is sent */
typedef struct {
    char    scopes[SQ_SCOPES_TEXT_MAX + 1];
    char    ws[SQ_WSLIST_TEXT_MAX + 1];
    char    digest[SQ_DIGEST_HEX_LEN + 1];
    char    dates[SQ_USAGE_DATES_MAX];
} sq_key_text_t;

/*
 * A fresh key of k's type and mode: its text in key, its digest in
 * t->digest, and in k last4, status active, created_at now, no rotation,
 * no use.  -1 when no key could be made (key wiped).
 */
int sq_key_fresh(const uint8_t pepper[32], sq_key_t *k, int64_t now,
    char *key, size_t keylen, sq_key_text_t *t);

/*
 * The calls; a failed build leaves a->failed set.  ver is the version of
 * the record the caller decided on (sq_key_entry), "" for no check.
 */
void sq_key_argv_one(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid);
void sq_key_argv_create(sq_argv_t *a, const sq_key_who_t *w,
    const sq_key_t *k, sq_key_text_t *t);
void sq_key_argv_rotate(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    const sq_key_t *nk, int64_t grace, const sq_key_text_t *t,
    const char *ver);
void sq_key_argv_set(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    const char *status, const char *ver);
void sq_key_argv_page(sq_argv_t *a, const sq_key_who_t *w, uint64_t after,
    size_t limit);
/* check: also the key kid itself, which must be the caller's */
void sq_key_argv_usage(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    int check, const sq_key_text_t *t);

/*
 * The days of a usage call: their YYYY-MM-DD into d[0..days), oldest
 * first, the last one today (UTC), and "yyyymmdd ..." into t->dates.
 */
sq_rc_t sq_key_usage_days(int64_t now, size_t days, sq_usage_day_t *d,
    sq_key_text_t *t);

/*
 * A reply's refusal: SQ_OK for {'OK', ...}, SQ_ERR_NOTFOUND, _CONFLICT,
 * _STATE (rotated already), _INVALID (WSMEMBER: a workspace of a new key
 * is not its owner's), SQ_ERR_IO (no reply), else SQ_ERR_REDIS.
 */
sq_rc_t sq_key_reply_rc(const redisReply *r);

/*
 * A key's entry {digest, HGETALL, use, version} into k and ver (may be
 * NULL); kid 0: any id.
 */
sq_rc_t sq_key_entry(const redisReply *e, uint64_t kid, sq_key_t *k,
    char *ver);

/* {'OK', next, entry, ...} of sq_key_page: keys (malloc'd), *n, *next */
sq_rc_t sq_key_page_parse(const redisReply *r, size_t limit,
    sq_key_t **keys, size_t *n, uint64_t *next);

/* {allowed, denied, ...} of sq_key_usage into d[0..days) */
sq_rc_t sq_key_usage_parse(const redisReply *r, size_t days,
    sq_usage_day_t *d);

#endif /* SQ_STORE_KEY_H */
