/*
 * sq_store_activity: the operator's side of a key (issue 16, "keyops"):
 * its activity as the edge recorded it (sq:act:<key id>), the review of
 * a user's keys (no owner, unused, aging, broad), and notices to a key's
 * owner (sq:user:{u<uid>}:notifications).  Each is one call of a function
 * of redis/smartlyq.lua (sq_key_activity, sq_key_review, sq_notify_owner,
 * sq_notifications) on the backend's asynchronous link; /v1/keys (the
 * API) and the console (a session's user) both call these.
 *
 * The caller is a sq_key_who_t as for the other key calls: for the
 * console, zero it and set uid to the session's user (a live caller with
 * no workspace); a key of another user is SQ_ERR_NOTFOUND, like a
 * missing or deleted one.
 *
 * Every call answers exactly once through fn, later, never from within
 * the call, unless it returns -1 (Redis unavailable, or arguments that
 * do not fit: then fn is not called and nothing was sent).  fn gets:
 *   SQ_OK and data, the JSON the endpoint renders (borrowed: valid during
 *     the call only; json_incref it to keep it);
 *   SQ_ERR_NOTFOUND (no such key of the caller), SQ_ERR_STATE (notify:
 *     the key has no owner: owner_id absent or naming no user),
 *   SQ_ERR_INVALID (the identity's workspace refused: not a member),
 *   SQ_ERR_IO (no reply in time, link lost), SQ_ERR_REDIS (an
 *     unexpected reply), SQ_ERR_NOMEM; data is NULL then.
 */

#ifndef SQ_STORE_ACTIVITY_H
#define SQ_STORE_ACTIVITY_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "sq_aredis.h"
#include "sq_argv.h"
#include "sq_store.h"
#include "sq_store_key.h"

#define SQ_ACT_LIMIT_DEF        50      /* activity entries per page */
#define SQ_ACT_LIMIT_MAX        500
#define SQ_ACT_CURSOR_MAX       41      /* "<ms>-<seq>", two u64 */
#define SQ_PURPOSE_MAX          200     /* bytes of a key's/app's purpose */
#define SQ_NOTICE_MAX           1000    /* bytes of a notice's message */
#define SQ_NOTICES_KEEP         200     /* a user's list is capped there */
#define SQ_NOTICES_DEF          50      /* notices per read */
#define SQ_REVIEW_UNUSED_DEF    30      /* days */
#define SQ_REVIEW_AGE_DEF       90      /* days */
#define SQ_REVIEW_DAYS_MAX      3650

typedef enum {
    SQ_ACT_ANY = 0,
    SQ_ACT_ALLOWED,
    SQ_ACT_REFUSED
} sq_act_outcome_t;

/* the filters of an activity read; zero: no filter */
typedef struct {
    int64_t             since;          /* unix seconds, inclusive */
    int64_t             until;          /* unix seconds, inclusive */
    sq_act_outcome_t    outcome;
    uint64_t            wid;            /* entries of this workspace */
    char                cursor[SQ_ACT_CURSOR_MAX + 1];  /* "": newest */
    size_t              limit;          /* 0: SQ_ACT_LIMIT_DEF */
} sq_act_query_t;

/*
 * data: {"data": [entry, ...], "next_cursor": "<id>"|null,
 * "summary": {...}} as sq_key_activity returns it (redis/SCHEMA.md,
 * "Key activity").
 */
typedef void (*sq_store_done_fn)(sq_rc_t rc, json_t *data, void *arg);

/* The activity of key kid, newest first. */
int sq_store_key_activity(sq_aredis_t *l, const sq_key_who_t *w,
    uint64_t kid, const sq_act_query_t *q, sq_store_done_fn fn, void *arg);

/*
 * The review of w->uid's keys: data {"no_owner": [k, ...], "unused":
 * [...], "aging": [...], "broad": [...]}, each k the key's rendering
 * (sq_key_render, with owner_id and purpose).  unused_days, age_days:
 * 0 for the defaults.
 */
int sq_store_key_review(sq_aredis_t *l, const sq_key_who_t *w, int64_t now,
    int64_t unused_days, int64_t age_days, sq_store_done_fn fn, void *arg);

/*
 * A notice from w->uid about key kid to its owner: data {"id": ...,
 * "time": ..., "kind": "key_notice", "key_id": ..., "message": ...,
 * "from_user_id": ..., "owner_id": ...}.
 */
int sq_store_notify_owner(sq_aredis_t *l, const sq_key_who_t *w,
    uint64_t kid, const char *message, int64_t now, sq_store_done_fn fn,
    void *arg);

/* w->uid's notices, newest first: data [notice, ...], at most limit */
int sq_store_notifications(sq_aredis_t *l, const sq_key_who_t *w,
    size_t limit, sq_store_done_fn fn, void *arg);

/* ---- the calls' argument vectors and replies (sqctl, tests) ---- */

/* text an activity call refers to, kept by the caller until it is sent */
typedef struct {
    char    since[24];
    char    until[24];
    char    wid[24];
} sq_act_text_t;

void sq_act_argv(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    const sq_act_query_t *q, sq_act_text_t *t);
void sq_review_argv(sq_argv_t *a, const sq_key_who_t *w, int64_t now,
    int64_t unused_days, int64_t age_days);
void sq_notify_argv(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    const char *message, int64_t now);
void sq_notices_argv(sq_argv_t *a, const sq_key_who_t *w, size_t limit);
/* sq_key_own: owner 0 keeps it, purpose NULL keeps it; reply sq_key_one's */
void sq_own_argv(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    uint64_t owner, const char *purpose);

/*
 * A reply of one of the four into *data (a new reference), or the rc.
 * review: {'OK', '{"no_owner":[ids],...}', entry, ...}: the entries are
 * rendered here (sq_key_render) into the categories.
 */
sq_rc_t sq_act_reply(const redisReply *r, json_t **data);
sq_rc_t sq_review_reply(const redisReply *r, int64_t now, json_t **data);

/* The synchronous call a (sqctl): its data, or the rc. */
sq_rc_t sq_store_activity_call(redisContext *c, sq_argv_t *a, int review,
    int64_t now, json_t **data);

/*
 * Parsers of the query strings: 0, or -1 with err set (400).  since and
 * until take unix seconds or YYYY-MM-DD[THH:MM:SSZ].
 */
int sq_act_query_parse(const char *query, sq_act_query_t *q, char *err,
    size_t errlen);
int sq_act_time_parse(const char *s, size_t len, int64_t *t);

#endif /* SQ_STORE_ACTIVITY_H */
