/*
 * sq_store: Redis reads and writes of the backend and sqctl alike; the
 * data layout is redis/SCHEMA.md, the key names common/sq_keys.h.
 */

#ifndef SQ_STORE_H
#define SQ_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "sq_argv.h"
#include "sq_bearer.h"
#include "sq_key.h"
#include "sq_resource.h"
#include "sq_social.h"
#include "sq_text.h"

typedef enum {
    SQ_OK = 0,
    SQ_ERR_IO,          /* connection problem: retry later */
    SQ_ERR_REDIS,       /* error reply or unexpected data */
    SQ_ERR_NOMEM,
    SQ_ERR_NOTFOUND,
    SQ_ERR_INVALID,
    SQ_ERR_CONFLICT,    /* a record changed since it was read; retried */
    SQ_ERR_TAKEN,       /* a unique value is used by another record */
    SQ_ERR_BADREF,      /* a referenced record is not in the workspace */
    SQ_ERR_STATE        /* the record's state forbids it (key rotated) */
} sq_rc_t;

typedef struct {
    uint64_t    id;
    uint64_t    primary_workspace_id;   /* 0: none */
    char        email[SQ_TEXT_MAX + 1];
    char        name[SQ_TEXT_MAX + 1];
} sq_user_t;

typedef struct {
    uint64_t    id;
    char        name[SQ_TEXT_MAX + 1];
} sq_ws_t;

typedef struct {
    char        date[16];       /* YYYY-MM-DD */
    int64_t     allowed;
    int64_t     denied;
} sq_usage_day_t;

typedef struct {
    uint64_t    id;
    uint64_t    workspace_id;
    int64_t     created_at;
    int64_t     updated_at;
    char        platform[16];
    char        handle[SQ_HANDLE_MAX_BYTES + 1];
} sq_social_t;

const char *sq_rc_text(sq_rc_t rc);

/* a function reply's first word and what it means */
typedef struct {
    const char  *word;
    sq_rc_t      rc;
} sq_reply_word_t;

/*
 * The rc of a function reply {word, ...} by words[0..n): SQ_ERR_IO for
 * no reply (the link), SQ_ERR_REDIS for any other shape or word.
 */
sq_rc_t sq_reply_word_rc(const redisReply *r, const sq_reply_word_t *words,
    size_t n);

/*
 * The call a on c, its reply in *out (the caller frees it):
 * SQ_ERR_INVALID for a failed a, SQ_ERR_IO for no reply.
 */
sq_rc_t sq_store_argv_call(redisContext *c, sq_argv_t *a,
    redisReply **out);

/* users, workspaces, members (sq_store_user.c) */
sq_rc_t sq_store_user_create(redisContext *c, const char *email,
    const char *name, int64_t now, uint64_t *id);
sq_rc_t sq_store_user_get(redisContext *c, uint64_t uid, sq_user_t *u);
/* an HMGET of SQ_K_USER's id email name primary_workspace_id into u */
sq_rc_t sq_store_user_parse(const redisReply *r, uint64_t uid,
    sq_user_t *u);
sq_rc_t sq_store_is_member(redisContext *c, uint64_t wid, uint64_t uid,
    int *member);
sq_rc_t sq_store_ws_exists(redisContext *c, uint64_t wid, int *exists);
/* *all = 1 when uid is a member of every workspace of l */
sq_rc_t sq_store_is_member_all(redisContext *c, const sq_wslist_t *l,
    uint64_t uid, int *all);
sq_rc_t sq_store_ws_create(redisContext *c, uint64_t owner,
    const char *name, int64_t now, uint64_t *id);
sq_rc_t sq_store_member_add(redisContext *c, uint64_t wid, uint64_t uid);
sq_rc_t sq_store_member_remove(redisContext *c, uint64_t wid, uint64_t uid);

/*
 * API keys (sq_store_key.c).  Only a key's digest is stored.  uid 0
 * means any owner (sqctl); otherwise a key of another user is
 * SQ_ERR_NOTFOUND, like a missing or deleted one.  Each is a call of a
 * key function of redis/smartlyq.lua (sq_store_key.h): atomic; rotate
 * reads first and retries when the key changed before its write.
 *
 * create: k holds user_id, type, mode, name, scopes, ws, expires_at;
 *   sets id, status, created_at, last4, and the full key in key.
 * rotate: a new key with the old one's settings; the old one gets
 *   rotated_at now, sunset_at now + grace, replaced_by.  SQ_ERR_STATE
 *   when it was rotated already.  nk is the new key's record.
 * set_status: "active" or "disabled".  delete: status "deleted" (the
 *   record stays as a tombstone), out of sq:user:{u<uid>}:keys.
 * list: the user's keys with id > after, ascending, at most limit;
 *   *next is the cursor id when more follow, else 0.
 * usage: days entries, oldest first, the last one today (UTC).
 */
sq_rc_t sq_store_key_create(redisContext *c, const uint8_t pepper[32],
    sq_key_t *k, int64_t now, char *key, size_t keylen);
sq_rc_t sq_store_key_rotate(redisContext *c, const uint8_t pepper[32],
    uint64_t kid, uint64_t uid, int64_t grace, int64_t now, char *key,
    size_t keylen, sq_key_t *nk);
sq_rc_t sq_store_key_get(redisContext *c, uint64_t kid, uint64_t uid,
    sq_key_t *k);
sq_rc_t sq_store_key_set_status(redisContext *c, uint64_t kid,
    uint64_t uid, const char *status);
sq_rc_t sq_store_key_delete(redisContext *c, uint64_t kid, uint64_t uid);
sq_rc_t sq_store_key_list(redisContext *c, uint64_t uid, uint64_t after,
    size_t limit, sq_key_t **keys, size_t *n, uint64_t *next);
sq_rc_t sq_store_key_max_id(redisContext *c, uint64_t *max);
sq_rc_t sq_store_key_usage(redisContext *c, uint64_t kid, int64_t now,
    size_t days, sq_usage_day_t *out);

/* social accounts (sq_store_social.c) */
sq_rc_t sq_store_social_create(redisContext *c, uint64_t wid,
    const char *platform, const char *handle, int64_t now, sq_social_t *out);

/* helpers shared by the sq_store_*.c files (sq_store.c) */
sq_rc_t sq_cmd(redisContext *c, redisReply **out, const char *fmt, ...);
sq_rc_t sq_cmd_int(redisContext *c, long long *v, const char *fmt, ...);
sq_rc_t sq_reply_id(const redisReply *r, uint64_t *id);
sq_rc_t sq_reply_copy(const redisReply *r, char *dst, size_t cap);
/* the next id of sequence seq ("user", "ws", "key", a resource name) */
sq_rc_t sq_next_id(redisContext *c, const char *seq, uint64_t *id);
/* the last id sequence seq gave, 0 for none */
sq_rc_t sq_last_id(redisContext *c, const char *seq, uint64_t *max);
sq_rc_t sq_unwatch(redisContext *c, sq_rc_t rc);

typedef struct {
    redisContext   *c;
    int             queued;
    int             multi;
    int             failed;
} sq_tx_t;

void sq_tx_begin(sq_tx_t *tx, redisContext *c);
void sq_tx_add(sq_tx_t *tx, const char *fmt, ...);
/* SQ_OK, SQ_ERR_CONFLICT when a WATCH aborted it, or an error */
sq_rc_t sq_tx_exec(sq_tx_t *tx);

#endif /* SQ_STORE_H */
