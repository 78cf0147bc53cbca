/*
 * sq_res_activity: the operator's side of keys (issue 16, keyops).
 *
 *   GET   /v1/keys/{id}/activity  the key's activity, newest first, and
 *                                 a summary of the window
 *   GET   /v1/keys/review         the monthly checklist of the user's keys
 *   PATCH /v1/keys/{id}           owner_id, purpose
 *   POST  /v1/keys/{id}/notify    a notice to the key's owner
 *   GET   /v1/me/notifications    the identity's user's notices
 *
 * Each is one call of a function of redis/smartlyq.lua on the
 * asynchronous link, as a job (sq_job.h).  The same calls, for a caller
 * who is not a request (the console's session), are the sq_store_*
 * entry points of sq_store_activity.h, at the end of this file.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sq_job.h"
#include "sq_log.h"
#include "sq_reply.h"
#include "sq_req.h"
#include "sq_store.h"
#include "sq_store_activity.h"


/* the identity's user may act on keys: not a publishable key */
static int
sq_ko_job_refused(sq_job_t *j, const redisReply *reply)
{
    const char  *st;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements == 0
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        return sq_job_refused(j, reply);
    }

    st = reply->element[0]->str;

    if (strcmp(st, "NO_OWNER") == 0) {
        sq_reply_error_code(j->r.req, 409, "Conflict", "NO_OWNER",
                            "This key has no owner to notify: set its "
                            "owner_id first.");
        return 1;
    }

    if (strcmp(st, "NOUSER") == 0) {
        sq_reply_error(j->r.req, SQ_E_VALIDATION, "owner_id must be your "
                       "own user id or that of a member of one of your "
                       "workspaces.");
        return 1;
    }

    if (strcmp(st, "TOOMANY") == 0) {
        sq_reply_error(j->r.req, SQ_E_CONFLICT, "This user has more keys "
                       "than a review reads.");
        return 1;
    }

    return sq_job_refused(j, reply);
}


/* a job of a /v1/keys request (kid 0: of no one key), its caller in w */
static sq_job_t *
sq_ko_job_new(sq_req_t *r, int write, int keys, uint64_t kid,
    sq_key_who_t *w)
{
    sq_job_t  *j;

    j = sq_job_new(r, write);
    if (j == NULL) {
        return NULL;
    }

    j->keys = keys;
    j->id = kid;
    sq_job_who(j, write, w);

    return j;
}


/* a store result as the reply: d (status) or the store's error */
static void
sq_ko_job_answer(sq_job_t *j, sq_rc_t rc, json_t *d, int status)
{
    if (rc != SQ_OK) {
        sq_reply_store_error(j->r.req, rc);
    } else {
        sq_reply_data(j->r.req, status, d);
    }
}


/* ---- GET /v1/keys/{id}/activity ---- */

/* "<ms>-<seq>", each 1..20 digits */
static int
sq_act_cursor_ok(const char *s)
{
    size_t  a, b;

    a = strspn(s, "0123456789");
    if (a == 0 || a > 20 || s[a] != '-') {
        return 0;
    }

    b = strspn(s + a + 1, "0123456789");

    return b > 0 && b <= 20 && s[a + 1 + b] == '\0';
}


static int
sq_act_query_time(const char *query, const char *name, int64_t *t, char *err,
    size_t errlen)
{
    int   seen;
    char  v[SQ_ACT_CURSOR_MAX + 1];

    *t = 0;

    if (sq_query_str(query, name, v, sizeof(v), &seen, err, errlen) != 0) {
        return -1;
    }

    if (seen && (sq_act_time_parse(v, strlen(v), t) != 0 || *t <= 0)) {
        snprintf(err, errlen, "%s must be unix seconds, YYYY-MM-DD or "
                 "YYYY-MM-DDTHH:MM:SSZ.", name);
        return -1;
    }

    return 0;
}


int
sq_act_query_parse(const char *query, sq_act_query_t *q, char *err,
    size_t errlen)
{
    int      seen;
    char     v[SQ_ACT_CURSOR_MAX + 1];
    int64_t  n;

    memset(q, 0, sizeof(*q));

    if (sq_act_query_time(query, "since", &q->since, err, errlen) != 0
        || sq_act_query_time(query, "until", &q->until, err, errlen) != 0)
    {
        return -1;
    }

    if (q->since != 0 && q->until != 0 && q->until < q->since) {
        snprintf(err, errlen, "until must not be before since.");
        return -1;
    }

    if (sq_query_str(query, "outcome", v, sizeof(v), &seen, err, errlen)
        != 0)
    {
        return -1;
    }

    if (seen) {
        if (strcmp(v, "allowed") == 0) {
            q->outcome = SQ_ACT_ALLOWED;
        } else if (strcmp(v, "refused") == 0) {
            q->outcome = SQ_ACT_REFUSED;
        } else {
            snprintf(err, errlen, "outcome must be one of: allowed, "
                     "refused.");
            return -1;
        }
    }

    /*
     * workspace_id is also the identity's workspace at the edge (the
     * user must be a member); workspace filters by any, a foreign one
     * that refused the key included
     */
    if (sq_query_int(query, "workspace_id", 1, INT64_MAX, 0, &n, err,
                     errlen) != 0)
    {
        return -1;
    }
    q->wid = (uint64_t) n;

    if (sq_query_int(query, "workspace", 1, INT64_MAX, 0, &n, err, errlen)
        != 0)
    {
        return -1;
    }

    if (n != 0 && q->wid != 0 && (uint64_t) n != q->wid) {
        snprintf(err, errlen, "give workspace or workspace_id, not two "
                 "different ones.");
        return -1;
    }

    if (n != 0) {
        q->wid = (uint64_t) n;
    }

    if (sq_query_int(query, "limit", 1, SQ_ACT_LIMIT_MAX, SQ_ACT_LIMIT_DEF,
                     &n, err, errlen) != 0)
    {
        return -1;
    }
    q->limit = (size_t) n;

    if (sq_query_str(query, "cursor", q->cursor, sizeof(q->cursor), &seen,
                     err, errlen) != 0
        || (seen && !sq_act_cursor_ok(q->cursor)))
    {
        snprintf(err, errlen, "cursor is not valid; use the next_cursor of "
                 "a previous page.");
        return -1;
    }

    return 0;
}


/* {"success": true, "data": [...], "summary": {...}, "next_cursor": ...} */
static json_t *
sq_act_body(json_t *d)
{
    json_t  *body;

    if (!json_is_object(d) || !json_is_array(json_object_get(d, "data"))
        || !json_is_object(json_object_get(d, "summary")))
    {
        return NULL;
    }

    body = json_object();
    if (body == NULL
        || json_object_set_new(body, "success", json_true()) != 0
        || json_object_set(body, "data", json_object_get(d, "data")) != 0
        || json_object_set(body, "summary", json_object_get(d, "summary"))
           != 0
        || json_object_set(body, "next_cursor",
                           json_object_get(d, "next_cursor") != NULL
                           ? json_object_get(d, "next_cursor")
                           : json_null()) != 0)
    {
        json_decref(body);
        return NULL;
    }

    return body;
}


static void
sq_act_on_reply(redisReply *reply, void *data)
{
    sq_rc_t    rc;
    json_t    *d, *body;
    sq_job_t  *j = data;

    sq_job_enter(j);

    if (!sq_ko_job_refused(j, reply)) {
        rc = sq_act_reply(reply, &d);
        body = rc == SQ_OK ? sq_act_body(d) : NULL;

        if (body == NULL) {
            sq_job_corrupt(j);
        } else {
            sq_reply_json(j->r.req, 200, body);
        }
        json_decref(d);
    }

    sq_job_done(j);
}


void
sq_keys_activity(sq_req_t *r)
{
    char            err[256];
    uint64_t        kid;
    sq_job_t       *j;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_act_text_t   t;
    sq_act_query_t  q;

    if (sq_job_path_id(r, &kid) != 0) {
        return;
    }

    if (sq_act_query_parse(sq_req_query(r), &q, err, sizeof(err)) != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    j = sq_ko_job_new(r, 0, 1, kid, &w);
    if (j == NULL) {
        return;
    }

    sq_act_argv(&a, &w, kid, &q, &t);
    sq_job_start(j, r, &a, sq_act_on_reply);
}


/* ---- GET /v1/keys/review ---- */

static void
sq_review_on_reply(redisReply *reply, void *data)
{
    sq_rc_t    rc;
    json_t    *d;
    sq_job_t  *j = data;

    sq_job_enter(j);

    if (!sq_ko_job_refused(j, reply)) {
        rc = sq_review_reply(reply, (int64_t) time(NULL), &d);
        sq_ko_job_answer(j, rc, d, 200);
    }

    sq_job_done(j);
}


void
sq_keys_review(sq_req_t *r)
{
    char          err[256];
    int64_t       unused, age;
    sq_job_t     *j;
    sq_argv_t     a;
    sq_key_who_t  w;

    if (sq_query_int(sq_req_query(r), "unused_days", 1, SQ_REVIEW_DAYS_MAX,
                     SQ_REVIEW_UNUSED_DEF, &unused, err, sizeof(err)) != 0
        || sq_query_int(sq_req_query(r), "age_days", 1, SQ_REVIEW_DAYS_MAX,
                        SQ_REVIEW_AGE_DEF, &age, err, sizeof(err)) != 0)
    {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    j = sq_ko_job_new(r, 0, 1, 0, &w);
    if (j == NULL) {
        return;
    }

    sq_review_argv(&a, &w, (int64_t) time(NULL), unused, age);
    sq_job_start(j, r, &a, sq_review_on_reply);
}


/* ---- PATCH /v1/keys/{id}: owner_id, purpose ---- */

/* what a PATCH sets: owner 0 keeps it; purpose NULL keeps it */
typedef struct {
    uint64_t     owner;
    int          set_purpose;
    char         purpose[SQ_KEY_PURPOSE_MAX + 1];
} sq_own_t;


static int
sq_own_member(sq_own_t *o, const char *key, const json_t *v, char *err,
    size_t errlen)
{
    size_t  len;

    if (strcmp(key, "owner_id") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            snprintf(err, errlen, "owner_id must be a user id.");
            return -1;
        }
        o->owner = (uint64_t) json_integer_value(v);
        return 0;
    }

    if (strcmp(key, "purpose") == 0) {
        len = json_is_string(v) ? json_string_length(v) : 0;
        if (!json_is_string(v) || len > SQ_KEY_PURPOSE_MAX
            || sq_text_check_ex(json_string_value(v), len, 0,
                                SQ_KEY_PURPOSE_MAX, 0) != 0)
        {
            snprintf(err, errlen, "purpose must be a string of at most "
                     "%d bytes without control characters.",
                     SQ_KEY_PURPOSE_MAX);
            return -1;
        }
        memcpy(o->purpose, json_string_value(v), len + 1);
        o->set_purpose = 1;
        return 0;
    }

    sq_json_unknown_field(key, err, errlen);

    return -1;
}


/* A PATCH body into o: at least one of owner_id, purpose. */
static int
sq_own_parse(const char *body, size_t len, sq_own_t *o, char *err,
    size_t errlen)
{
    int          rc;
    json_t      *obj, *v;
    const char  *key;

    memset(o, 0, sizeof(*o));

    obj = sq_json_load_object(body, len, err, errlen);
    if (obj == NULL) {
        return -1;
    }

    rc = 0;
    json_object_foreach(obj, key, v) {
        if (rc == 0) {
            rc = sq_own_member(o, key, v, err, errlen);
        }
    }

    json_decref(obj);

    if (rc == 0 && o->owner == 0 && !o->set_purpose) {
        snprintf(err, errlen, "give owner_id, purpose or both.");
        rc = -1;
    }

    return rc;
}


static void
sq_own_on_reply(redisReply *reply, void *data)
{
    sq_job_t  *j = data;
    sq_key_t   k;

    sq_job_enter(j);

    if (!sq_ko_job_refused(j, reply)) {
        if (reply->elements != 2
            || sq_key_entry(reply->element[1], j->id, &k, NULL) != SQ_OK)
        {
            sq_job_corrupt(j);
        } else {
            sq_log(SQ_LOG_INFO, "key %llu: owner %llu set by user %llu",
                   (unsigned long long) j->id,
                   (unsigned long long) k.owner_id,
                   (unsigned long long) j->r.ident.user_id);
            sq_reply_data(j->r.req, 200,
                          sq_key_render(&k, (int64_t) time(NULL)));
        }
    }

    sq_job_done(j);
}


void
sq_keys_patch(sq_req_t *r)
{
    int            rc;
    char           err[256], *buf;
    size_t         len;
    uint64_t       kid;
    sq_own_t       o;
    sq_job_t      *j;
    sq_argv_t      a;
    sq_key_who_t   w;

    if (sq_job_path_id(r, &kid) != 0) {
        return;
    }

    buf = sq_req_body(r, &len);
    if (buf == NULL) {
        return;
    }

    rc = sq_own_parse(buf, len, &o, err, sizeof(err));
    free(buf);

    if (rc != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    j = sq_ko_job_new(r, 1, 1, kid, &w);
    if (j == NULL) {
        return;
    }

    sq_own_argv(&a, &w, kid, o.owner, o.set_purpose ? o.purpose : NULL);
    sq_job_start(j, r, &a, sq_own_on_reply);
}


/* ---- POST /v1/keys/{id}/notify ---- */

/* {"message": "..."}: 1..SQ_NOTICE_MAX bytes, lines allowed */
static int
sq_notify_parse(const char *body, size_t len, char *msg, size_t cap,
    char *err, size_t errlen)
{
    int          rc;
    size_t       n;
    json_t      *obj, *v;
    const char  *key;

    obj = sq_json_load_object(body, len, err, errlen);
    if (obj == NULL) {
        return -1;
    }

    rc = -1;
    msg[0] = '\0';

    json_object_foreach(obj, key, v) {
        if (strcmp(key, "message") != 0) {
            sq_json_unknown_field(key, err, errlen);
            json_decref(obj);
            return -1;
        }

        n = json_is_string(v) ? json_string_length(v) : 0;
        if (n == 0 || n > SQ_NOTICE_MAX || n >= cap
            || sq_text_check_ex(json_string_value(v), n, 1, SQ_NOTICE_MAX,
                                1) != 0)
        {
            break;
        }

        memcpy(msg, json_string_value(v), n + 1);
        rc = 0;
    }

    json_decref(obj);

    if (rc != 0) {
        snprintf(err, errlen, "message must be a string of 1 to %d bytes "
                 "without control characters.", SQ_NOTICE_MAX);
    }

    return rc;
}


static void
sq_notify_on_reply(redisReply *reply, void *data)
{
    sq_rc_t    rc;
    json_t    *d;
    sq_job_t  *j = data;

    sq_job_enter(j);

    if (!sq_ko_job_refused(j, reply)) {
        rc = sq_act_reply(reply, &d);
        if (rc == SQ_OK) {
            sq_log(SQ_LOG_INFO, "key %llu: its owner notified by user %llu",
                   (unsigned long long) j->id,
                   (unsigned long long) j->r.ident.user_id);
        }
        sq_ko_job_answer(j, rc, d, 201);
    }

    sq_job_done(j);
}


void
sq_keys_notify(sq_req_t *r)
{
    int            rc;
    char           err[256], *buf, msg[SQ_NOTICE_MAX + 1];
    size_t         len;
    uint64_t       kid;
    sq_job_t      *j;
    sq_argv_t      a;
    sq_key_who_t   w;

    if (sq_job_path_id(r, &kid) != 0) {
        return;
    }

    buf = sq_req_body(r, &len);
    if (buf == NULL) {
        return;
    }

    rc = sq_notify_parse(buf, len, msg, sizeof(msg), err, sizeof(err));
    free(buf);

    if (rc != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    j = sq_ko_job_new(r, 1, 1, kid, &w);
    if (j == NULL) {
        return;
    }

    sq_notify_argv(&a, &w, kid, msg, (int64_t) time(NULL));
    sq_job_start(j, r, &a, sq_notify_on_reply);
}


/* ---- GET /v1/me/notifications ---- */

static void
sq_notices_on_reply(redisReply *reply, void *data)
{
    sq_rc_t    rc;
    json_t    *d;
    sq_job_t  *j = data;

    sq_job_enter(j);

    if (!sq_ko_job_refused(j, reply)) {
        rc = sq_act_reply(reply, &d);
        if (rc == SQ_OK && !json_is_array(d)) {
            json_decref(d);
            d = NULL;
            rc = SQ_ERR_REDIS;
        }
        sq_ko_job_answer(j, rc, d, 200);
    }

    sq_job_done(j);
}


void
sq_me_notifications(sq_req_t *r)
{
    char          err[256];
    int64_t       limit;
    sq_job_t     *j;
    sq_argv_t     a;
    sq_key_who_t  w;

    if (sq_query_int(sq_req_query(r), "limit", 1, SQ_NOTICES_KEEP,
                     SQ_NOTICES_DEF, &limit, err, sizeof(err)) != 0)
    {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    j = sq_ko_job_new(r, 0, 0, 0, &w);
    if (j == NULL) {
        return;
    }

    sq_notices_argv(&a, &w, (size_t) limit);
    sq_job_start(j, r, &a, sq_notices_on_reply);
}


/* ---- the entry points of sq_store_activity.h (the console) ---- */

typedef struct {
    sq_store_done_fn    fn;
    void               *arg;
    int                 review;
    int64_t             now;
} sq_act_call_t;


static void
sq_act_call_on_reply(redisReply *reply, void *data)
{
    sq_rc_t         rc;
    json_t         *d;
    sq_act_call_t  *c = data;

    d = NULL;

    if (reply == NULL) {
        rc = SQ_ERR_IO;
    } else if (reply->type == REDIS_REPLY_ERROR) {
        sq_log(SQ_LOG_ERR, "store: redis: %.*s", (int) reply->len,
               reply->str);
        rc = SQ_ERR_REDIS;
    } else if (c->review) {
        rc = sq_review_reply(reply, c->now, &d);
    } else {
        rc = sq_act_reply(reply, &d);
    }

    c->fn(rc, rc == SQ_OK ? d : NULL, c->arg);
    json_decref(d);
    free(c);
}


static int
sq_act_call_send(sq_aredis_t *l, sq_argv_t *a, int review, int64_t now,
    sq_store_done_fn fn, void *arg)
{
    sq_act_call_t  *c;

    if (a->failed) {
        return -1;
    }

    c = malloc(sizeof(*c));
    if (c == NULL) {
        return -1;
    }

    c->fn = fn;
    c->arg = arg;
    c->review = review;
    c->now = now;

    if (sq_aredis_send(l, a->argc, a->argv, a->lens, sq_act_call_on_reply, c)
        != 0)
    {
        free(c);
        return -1;
    }

    return 0;
}


int
sq_store_key_activity(sq_aredis_t *l, const sq_key_who_t *w, uint64_t kid,
    const sq_act_query_t *q, sq_store_done_fn fn, void *arg)
{
    sq_argv_t      a;
    sq_act_text_t  t;

    sq_act_argv(&a, w, kid, q, &t);

    return sq_act_call_send(l, &a, 0, 0, fn, arg);
}


int
sq_store_key_review(sq_aredis_t *l, const sq_key_who_t *w, int64_t now,
    int64_t unused_days, int64_t age_days, sq_store_done_fn fn, void *arg)
{
    sq_argv_t  a;

    sq_review_argv(&a, w, now, unused_days, age_days);

    return sq_act_call_send(l, &a, 1, now, fn, arg);
}


int
sq_store_notify_owner(sq_aredis_t *l, const sq_key_who_t *w, uint64_t kid,
    const char *message, int64_t now, sq_store_done_fn fn, void *arg)
{
    sq_argv_t  a;

    if (message == NULL || message[0] == '\0'
        || sq_text_check_ex(message, strlen(message), 1, SQ_NOTICE_MAX, 1)
           != 0)
    {
        return -1;
    }

    sq_notify_argv(&a, w, kid, message, now);

    return sq_act_call_send(l, &a, 0, now, fn, arg);
}


int
sq_store_notifications(sq_aredis_t *l, const sq_key_who_t *w, size_t limit,
    sq_store_done_fn fn, void *arg)
{
    sq_argv_t  a;

    sq_notices_argv(&a, w, limit);

    return sq_act_call_send(l, &a, 0, 0, fn, arg);
}
