/*
 * sq_store_app: API Applications as calls of the sq_app_* functions of
 * redis/smartlyq.lua, one atomic call per operation.  The argument
 * vectors and the parsing of replies are shared: the backend sends them
 * on its asynchronous link (sq_res_apps.c), sqctl through
 * sq_store_app_call().  The caller is described as for keys
 * (sq_key_who_t: uid 0 is sqctl, which may act on any app).
 */

#ifndef SQ_STORE_APP_H
#define SQ_STORE_APP_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "sq_app.h"
#include "sq_argv.h"
#include "sq_store.h"
#include "sq_store_key.h"

/* text a call refers to, kept by the caller until it is sent */
typedef struct {
    char    scopes[SQ_SCOPES_TEXT_MAX + 1];
    char    digest[SQ_DIGEST_HEX_LEN + 1];
} sq_app_text_t;

/* The calls; a failed build leaves a->failed set. */
void sq_app_argv_create(sq_argv_t *a, const sq_key_who_t *w,
    const sq_app_t *app, int64_t now, sq_app_text_t *t);
void sq_app_argv_one(sq_argv_t *a, const sq_key_who_t *w, uint64_t id);
/* wid: the one workspace listed, 0: every one the caller reaches */
void sq_app_argv_page(sq_argv_t *a, const sq_key_who_t *w, uint64_t wid,
    uint64_t after, size_t limit);
/* fields: SQ_APP_F_* of app to write */
void sq_app_argv_update(sq_argv_t *a, const sq_key_who_t *w, uint64_t id,
    const sq_app_t *app, unsigned fields, int64_t now, sq_app_text_t *t);
void sq_app_argv_set(sq_argv_t *a, const sq_key_who_t *w, uint64_t id,
    const char *status, int64_t now);
void sq_app_argv_rotate(sq_argv_t *a, const sq_key_who_t *w, uint64_t id,
    const sq_app_t *app, const sq_app_text_t *t, int64_t grace, int revoke,
    int64_t now);
void sq_app_argv_grants(sq_argv_t *a, const sq_key_who_t *w, uint64_t id,
    uint64_t after, size_t limit);
void sq_app_argv_grant_revoke(sq_argv_t *a, const sq_key_who_t *w,
    uint64_t id, uint64_t gid, int64_t now);
void sq_app_argv_outcomes(sq_argv_t *a, const sq_key_who_t *w, uint64_t id,
    size_t recent);

/*
 * A reply's refusal: SQ_OK for {'OK', ...}, SQ_ERR_NOTFOUND, _CONFLICT
 * (client_id taken), _STATE (no secret to rotate), _INVALID (FORBIDDEN:
 * not a member of the workspace), _TAKEN (TOOMANY), SQ_ERR_IO (no
 * reply), else SQ_ERR_REDIS.
 */
sq_rc_t sq_app_reply_rc(const redisReply *r);

/* An app's entry (SQ_APP_FIELDS of smartlyq.lua) into app. */
sq_rc_t sq_app_entry(const redisReply *e, sq_app_t *app);

/* A grant's entry (SQ_GRANT_FIELDS) into g. */
sq_rc_t sq_grant_entry(const redisReply *e, sq_grant_t *g);

/*
 * {'OK', next, entry, ...} of sq_app_page (grants 0) or sq_app_grants
 * (grants 1): items (malloc'd sq_app_t or sq_grant_t), *n, *next.
 */
sq_rc_t sq_app_page_parse(const redisReply *r, size_t limit, int grants,
    void **items, size_t *n, uint64_t *next);

/* {'OK', counts, XREVRANGE} of sq_app_outcomes: o has room for max */
sq_rc_t sq_app_outcomes_parse(const redisReply *r, sq_outcome_counts_t *c,
    sq_outcome_t *o, size_t max, size_t *n);

/* The call a (sqctl): its reply when it is {'OK', ...}, else the rc. */
sq_rc_t sq_store_app_call(redisContext *c, sq_argv_t *a,
    redisReply **out);

#endif /* SQ_STORE_APP_H */
