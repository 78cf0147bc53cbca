/*
 * sq_res_apps: /v1/apps, API Applications (OAuth 2 clients, issue 14).
 * The caller must be a member of an app's workspace for everything but
 * listing and revoking its own authorizations; an app it may not see,
 * a deleted one and a malformed id are all the same 404.  A client
 * secret appears once, in the reply that made it.
 *
 * No escalation: a key gives an app only scopes it holds itself, and
 * never keys:manage or apps:manage (sq_app.h); otherwise 403
 * INSUFFICIENT_SCOPE saying which.  Decided before the call, on the
 * identity alone, so every request is one call of an sq_app_* function
 * of redis/smartlyq.lua on the asynchronous link (sq_job.h), which
 * re-checks membership and claims a write's nonce.  Disable, delete and
 * a rotation with revoke_tokens end every grant of the app in that same
 * call, and with it every token (the edge drops them on the event).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sq_job.h"
#include "sq_log.h"
#include "sq_reply.h"
#include "sq_req.h"
#include "sq_store_app.h"
#include "sq_workspace.h"

/* a /v1/apps job's own state (sq_job_t's ext) */
typedef struct {
    sq_app_t        app;        /* the new or patched fields */
    sq_app_text_t   t;          /* what its call refers to */
    char            secret[SQ_APP_SECRET_LEN + 1];  /* wiped */
    const char     *status;     /* set: what it writes */
    uint64_t        gid;        /* a grant's id */
    size_t          recent;     /* outcomes */
} sq_apps_job_t;

#define SQ_APPS_GRANTS_SEG  "/authorizations/"


/* A job for r with its app state, or NULL after a 500. */
static sq_job_t *
sq_apps_job(sq_req_t *r, int write)
{
    sq_job_t  *j;

    j = sq_job_new_ext(r, write, sizeof(sq_apps_job_t));
    if (j != NULL) {
        j->apps = 1;
    }

    return j;
}


/* The {grant_id} of /v1/apps/{id}/authorizations/{grant_id}; else 404. */
static int
sq_apps_grant_id(sq_req_t *r, uint64_t *gid)
{
    const char  *seg;

    seg = r->id != NULL ? strstr(r->id, SQ_APPS_GRANTS_SEG) : NULL;

    if (seg == NULL
        || sq_workspace_parse_id(seg + sizeof(SQ_APPS_GRANTS_SEG) - 1,
                                 strlen(seg + sizeof(SQ_APPS_GRANTS_SEG)
                                        - 1), gid) != 0)
    {
        sq_reply_error(r->req, SQ_E_NOT_FOUND, NULL);
        return -1;
    }

    return 0;
}


/* The app's scopes within the calling key's, or a 403 saying which. */
static int
sq_apps_within(sq_req_t *r, uint32_t scopes)
{
    char        msg[160];
    sq_scope_t  missing;

    if (sq_app_scopes_within(scopes, r->ident.scopes, &missing) == 0) {
        return 0;
    }

    snprintf(msg, sizeof(msg), "This key cannot give an app a scope it "
             "lacks itself (%s).", sq_scope_name(missing));
    sq_log(SQ_LOG_INFO, "key %llu of user %llu may not give an app %s",
           (unsigned long long) r->ident.key_id,
           (unsigned long long) r->ident.user_id, sq_scope_name(missing));
    sq_reply_error(r->req, SQ_E_INSUFFICIENT_SCOPE, msg);

    return -1;
}


/* 1 and answered unless the reply is {'OK', ...} */
static int
sq_apps_refused(sq_job_t *j, const redisReply *reply)
{
    sq_rc_t  rc;

    rc = reply != NULL && reply->type == REDIS_REPLY_ARRAY
         ? sq_app_reply_rc(reply) : SQ_ERR_REDIS;

    switch (rc) {
    case SQ_ERR_STATE:
        sq_reply_error(j->r.req, SQ_E_CONFLICT,
                       "A public app has no client secret.");
        return 1;
    case SQ_ERR_CONFLICT:
        sq_log(SQ_LOG_ERR, "a new client_id was taken already");
        sq_reply_error(j->r.req, SQ_E_INTERNAL, NULL);
        return 1;
    case SQ_ERR_BADREF:         /* issue 16: NOUSER */
        sq_reply_error(j->r.req, SQ_E_VALIDATION, "owner_id must be your "
                       "own user id or that of a member of one of your "
                       "workspaces.");
        return 1;
    default:
        return sq_job_refused(j, reply);
    }
}


/* {'OK', entry[, n]}: the app into app, or a 500 */
static int
sq_apps_entry(sq_job_t *j, const redisReply *reply, sq_app_t *app,
    long long *revoked)
{
    if (reply->elements < 2 || sq_app_entry(reply->element[1], app) != SQ_OK
        || (revoked != NULL
            && (reply->elements != 3
                || reply->element[2]->type != REDIS_REPLY_INTEGER)))
    {
        sq_job_corrupt(j);
        return -1;
    }

    if (revoked != NULL) {
        *revoked = reply->element[2]->integer;
    }

    return 0;
}


/* the app, with the new secret when there is one (wiped); steals nothing */
static json_t *
sq_apps_render_secret(const sq_app_t *app, char *secret, size_t cap)
{
    json_t  *obj;

    obj = sq_app_render(app);

    if (obj != NULL && secret[0] != '\0'
        && json_object_set_new(obj, "client_secret", json_string(secret))
           != 0)
    {
        json_decref(obj);
        obj = NULL;
    }

    sodium_memzero(secret, cap);

    return obj;
}


/* ---- create ---- */

static void
sq_apps_on_created(redisReply *reply, void *data)
{
    sq_job_t       *j = data;
    sq_app_t        app;
    sq_apps_job_t  *aj = j->ext;

    sq_job_enter(j);

    if (!sq_apps_refused(j, reply)
        && sq_apps_entry(j, reply, &app, NULL) == 0)
    {
        sq_log(SQ_LOG_INFO, "app %llu (%s) created in workspace %llu by "
               "user %llu", (unsigned long long) app.id, app.client_id,
               (unsigned long long) app.workspace_id,
               (unsigned long long) app.owner_id);
        sq_reply_data(j->r.req, 201,
                      sq_apps_render_secret(&app, aj->secret,
                                            sizeof(aj->secret)));
    }

    sq_job_done(j);
}


void
sq_apps_create(sq_req_t *r)
{
    int             rc;
    char            err[512], *buf;
    size_t          len;
    sq_job_t       *j;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_apps_job_t  *aj;

    buf = sq_req_body(r, &len);
    if (buf == NULL) {
        return;
    }

    j = sq_apps_job(r, 1);
    if (j == NULL) {
        free(buf);
        return;
    }

    aj = j->ext;
    rc = sq_app_parse_create(buf, len, &aj->app, err, sizeof(err));
    free(buf);

    if (rc == 0 && r->ident.workspace_id != 0
        && r->ident.workspace_id != aj->app.workspace_id)
    {
        snprintf(err, sizeof(err), "workspace_id must be the workspace "
                 "the request names.");
        rc = -1;
    }

    if (rc != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        sq_job_free(j);
        return;
    }

    if (sq_apps_within(r, aj->app.scopes) != 0
        || sq_req_need_pepper(r, "client secrets") != 0)
    {
        sq_job_free(j);
        return;
    }

    aj->app.owner_id = r->ident.user_id;
    sq_app_new_client_id(&aj->app);

    if (aj->app.type == SQ_APP_CONFIDENTIAL
        && sq_app_new_secret(r->ctx->pepper, &aj->app, aj->secret,
                             sizeof(aj->secret), aj->t.digest) != 0)
    {
        sq_reply_store_error(r->req, SQ_ERR_INVALID);
        sq_job_free(j);
        return;
    }

    sq_job_who(j, 1, &w);
    sq_app_argv_create(&a, &w, &aj->app, (int64_t) time(NULL), &aj->t);
    sq_job_start(j, r, &a, sq_apps_on_created);
}


/* ---- get ---- */

static void
sq_apps_on_one(redisReply *reply, void *data)
{
    sq_job_t  *j = data;
    sq_app_t   app;

    sq_job_enter(j);

    if (!sq_apps_refused(j, reply)
        && sq_apps_entry(j, reply, &app, NULL) == 0)
    {
        sq_reply_data(j->r.req, 200, sq_app_render(&app));
    }

    sq_job_done(j);
}


void
sq_apps_get(sq_req_t *r)
{
    uint64_t      id;
    sq_job_t     *j;
    sq_argv_t     a;
    sq_key_who_t  w;

    if (sq_job_path_id(r, &id) != 0) {
        return;
    }

    j = sq_apps_job(r, 0);
    if (j == NULL) {
        return;
    }

    j->id = id;
    sq_job_who(j, 0, &w);
    sq_app_argv_one(&a, &w, id);
    sq_job_start(j, r, &a, sq_apps_on_one);
}


/* ---- patch, disable, enable, delete: one write each ---- */

static void
sq_apps_on_written(redisReply *reply, void *data)
{
    long long       n;
    sq_job_t       *j = data;
    sq_app_t        app;
    sq_apps_job_t  *aj = j->ext;
    const char     *what;

    sq_job_enter(j);

    if (sq_apps_refused(j, reply)
        || sq_apps_entry(j, reply, &app, &n) != 0)
    {
        sq_job_done(j);
        return;
    }

    what = aj->status != NULL ? aj->status : "updated";
    sq_log(SQ_LOG_INFO, "app %llu %s by user %llu: %lld token(s) revoked",
           (unsigned long long) j->id, what,
           (unsigned long long) j->r.ident.user_id, n);

    if (aj->status != NULL && strcmp(aj->status, "deleted") == 0) {
        sq_reply_data(j->r.req, 200, json_pack("{s:I, s:b}", "id",
                                               (json_int_t) j->id,
                                               "deleted", 1));
    } else {
        sq_reply_data(j->r.req, 200, sq_app_render(&app));
    }

    sq_job_done(j);
}


static void
sq_apps_set(sq_req_t *r, const char *status)
{
    uint64_t        id;
    sq_job_t       *j;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_apps_job_t  *aj;

    if (sq_job_path_id(r, &id) != 0) {
        return;
    }

    j = sq_apps_job(r, 1);
    if (j == NULL) {
        return;
    }

    aj = j->ext;
    j->id = id;
    aj->status = status;
    sq_job_who(j, 1, &w);
    sq_app_argv_set(&a, &w, id, status, (int64_t) time(NULL));
    sq_job_start(j, r, &a, sq_apps_on_written);
}


void
sq_apps_disable(sq_req_t *r)
{
    sq_apps_set(r, "disabled");
}


void
sq_apps_enable(sq_req_t *r)
{
    sq_apps_set(r, "active");
}


void
sq_apps_delete(sq_req_t *r)
{
    sq_apps_set(r, "deleted");
}


void
sq_apps_patch(sq_req_t *r)
{
    int             rc;
    char            err[512], *buf;
    size_t          len;
    uint64_t        id;
    unsigned        fields;
    sq_job_t       *j;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_apps_job_t  *aj;

    if (sq_job_path_id(r, &id) != 0) {
        return;
    }

    buf = sq_req_body(r, &len);
    if (buf == NULL) {
        return;
    }

    j = sq_apps_job(r, 1);
    if (j == NULL) {
        free(buf);
        return;
    }

    aj = j->ext;
    rc = sq_app_parse_update(buf, len, &aj->app, &fields, err, sizeof(err));
    free(buf);

    if (rc != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        sq_job_free(j);
        return;
    }

    if ((fields & SQ_APP_F_SCOPES)
        && sq_apps_within(r, aj->app.scopes) != 0)
    {
        sq_job_free(j);
        return;
    }

    j->id = id;
    sq_job_who(j, 1, &w);
    sq_app_argv_update(&a, &w, id, &aj->app, fields, (int64_t) time(NULL),
                       &aj->t);
    sq_job_start(j, r, &a, sq_apps_on_written);
}


/* ---- secret rotation ---- */

static void
sq_apps_on_rotated(redisReply *reply, void *data)
{
    char            until[32];
    long long       n;
    json_t         *obj;
    sq_job_t       *j = data;
    sq_app_t        app;
    sq_apps_job_t  *aj = j->ext;

    sq_job_enter(j);

    if (sq_apps_refused(j, reply)
        || sq_apps_entry(j, reply, &app, &n) != 0)
    {
        sq_job_done(j);
        return;
    }

    sq_log(SQ_LOG_INFO, "app %llu: secret rotated by user %llu, %lld "
           "token(s) revoked", (unsigned long long) j->id,
           (unsigned long long) j->r.ident.user_id, n);

    obj = sq_apps_render_secret(&app, aj->secret, sizeof(aj->secret));

    if (obj != NULL
        && (json_object_set_new(obj, "tokens_revoked",
                                json_integer((json_int_t) n)) != 0
            || json_object_set_new(obj, "previous_secret_valid_until",
                   app.prev_secret_until != 0
                   && sq_text_iso8601(app.prev_secret_until, until,
                                      sizeof(until)) == 0
                   ? json_string(until) : json_null()) != 0))
    {
        json_decref(obj);
        obj = NULL;
    }

    sq_reply_data(j->r.req, 200, obj);
    sq_job_done(j);
}


void
sq_apps_rotate(sq_req_t *r)
{
    int             rc, revoke;
    char            err[256], *buf;
    size_t          len;
    int64_t         grace;
    uint64_t        id;
    sq_job_t       *j;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_apps_job_t  *aj;

    if (sq_job_path_id(r, &id) != 0) {
        return;
    }

    buf = sq_req_body(r, &len);
    if (buf == NULL) {
        return;
    }

    rc = sq_app_parse_rotate(buf, len, &grace, &revoke, err, sizeof(err));
    free(buf);

    if (rc != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    if (sq_req_need_pepper(r, "client secrets") != 0) {
        return;
    }

    j = sq_apps_job(r, 1);
    if (j == NULL) {
        return;
    }

    aj = j->ext;
    j->id = id;

    if (sq_app_new_secret(r->ctx->pepper, &aj->app, aj->secret,
                          sizeof(aj->secret), aj->t.digest) != 0)
    {
        sq_reply_store_error(r->req, SQ_ERR_INVALID);
        sq_job_free(j);
        return;
    }

    sq_job_who(j, 1, &w);
    sq_app_argv_rotate(&a, &w, id, &aj->app, &aj->t, grace, revoke,
                       (int64_t) time(NULL));
    sq_job_start(j, r, &a, sq_apps_on_rotated);
}


/* ---- list ---- */

static json_t *
sq_apps_render_list(const void *items, size_t n, int grants)
{
    size_t   i;
    json_t  *arr;

    arr = json_array();

    for (i = 0; arr != NULL && i < n; i++) {
        if (json_array_append_new(arr, grants
                  ? sq_grant_render((const sq_grant_t *) items + i)
                  : sq_app_render((const sq_app_t *) items + i)) != 0)
        {
            json_decref(arr);
            arr = NULL;
        }
    }

    return arr;
}


static void
sq_apps_on_page(redisReply *reply, void *data, int grants)
{
    void      *items;
    size_t     n;
    sq_rc_t    rc;
    uint64_t   next;
    sq_job_t  *j = data;

    sq_job_enter(j);

    if (sq_apps_refused(j, reply)) {
        sq_job_done(j);
        return;
    }

    rc = sq_app_page_parse(reply, j->limit, grants, &items, &n, &next);
    if (rc != SQ_OK) {
        sq_reply_store_error(j->r.req, rc);
    } else {
        sq_reply_page(j->r.req, sq_apps_render_list(items, n, grants),
                      sq_res_pagination(j->limit, next));
        free(items);
    }

    sq_job_done(j);
}


static void
sq_apps_on_list(redisReply *reply, void *data)
{
    sq_apps_on_page(reply, data, 0);
}


static void
sq_apps_on_grants(redisReply *reply, void *data)
{
    sq_apps_on_page(reply, data, 1);
}


/* a read job with the page parameters of the query; NULL: answered */
static sq_job_t *
sq_apps_page_job(sq_req_t *r, uint64_t *after)
{
    char       err[256];
    size_t     limit;
    sq_job_t  *j;

    if (sq_page_parse(sq_req_query(r), &limit, after, err, sizeof(err))
        != 0)
    {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return NULL;
    }

    j = sq_apps_job(r, 0);
    if (j != NULL) {
        j->limit = limit;
    }

    return j;
}


void
sq_apps_list(sq_req_t *r)
{
    uint64_t      after;
    sq_job_t     *j;
    sq_argv_t     a;
    sq_key_who_t  w;

    j = sq_apps_page_job(r, &after);
    if (j == NULL) {
        return;
    }

    sq_job_who(j, 0, &w);
    sq_app_argv_page(&a, &w, r->ident.workspace_id, after, j->limit);
    sq_job_start(j, r, &a, sq_apps_on_list);
}


void
sq_apps_grants(sq_req_t *r)
{
    uint64_t      id, after;
    sq_job_t     *j;
    sq_argv_t     a;
    sq_key_who_t  w;

    if (sq_job_path_id(r, &id) != 0) {
        return;
    }

    j = sq_apps_page_job(r, &after);
    if (j == NULL) {
        return;
    }

    j->id = id;
    sq_job_who(j, 0, &w);
    sq_app_argv_grants(&a, &w, id, after, j->limit);
    sq_job_start(j, r, &a, sq_apps_on_grants);
}


/* ---- one authorization's revocation ---- */

static void
sq_apps_on_grant_revoked(redisReply *reply, void *data)
{
    sq_job_t       *j = data;
    sq_grant_t      g;
    sq_apps_job_t  *aj = j->ext;

    sq_job_enter(j);

    if (!sq_apps_refused(j, reply)) {
        if (reply->elements != 3
            || sq_grant_entry(reply->element[1], &g) != SQ_OK
            || reply->element[2]->type != REDIS_REPLY_INTEGER)
        {
            sq_job_corrupt(j);
        } else {
            sq_log(SQ_LOG_INFO, "grant %llu of app %llu revoked by user "
                   "%llu: %lld token(s)", (unsigned long long) aj->gid,
                   (unsigned long long) j->id,
                   (unsigned long long) j->r.ident.user_id,
                   reply->element[2]->integer);
            sq_reply_data(j->r.req, 200, sq_grant_render(&g));
        }
    }

    sq_job_done(j);
}


void
sq_apps_grant_delete(sq_req_t *r)
{
    uint64_t        id, gid;
    sq_job_t       *j;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_apps_job_t  *aj;

    if (sq_job_path_id(r, &id) != 0 || sq_apps_grant_id(r, &gid) != 0) {
        return;
    }

    j = sq_apps_job(r, 1);
    if (j == NULL) {
        return;
    }

    aj = j->ext;
    j->id = id;
    aj->gid = gid;
    sq_job_who(j, 1, &w);
    sq_app_argv_grant_revoke(&a, &w, id, gid, (int64_t) time(NULL));
    sq_job_start(j, r, &a, sq_apps_on_grant_revoked);
}


/* ---- authorize outcomes ---- */

static void
sq_apps_on_outcomes(redisReply *reply, void *data)
{
    size_t               n;
    sq_job_t            *j = data;
    sq_outcome_t        *o;
    sq_apps_job_t       *aj = j->ext;
    sq_outcome_counts_t  c;

    sq_job_enter(j);

    if (sq_apps_refused(j, reply)) {
        sq_job_done(j);
        return;
    }

    o = calloc(aj->recent, sizeof(sq_outcome_t));
    if (o == NULL) {
        sq_reply_error(j->r.req, SQ_E_INTERNAL, NULL);
    } else if (sq_app_outcomes_parse(reply, &c, o, aj->recent, &n)
               != SQ_OK)
    {
        sq_job_corrupt(j);
    } else {
        sq_reply_data(j->r.req, 200, sq_outcomes_render(&c, o, n));
    }

    free(o);
    sq_job_done(j);
}


void
sq_apps_outcomes(sq_req_t *r)
{
    char            err[256];
    int64_t         recent;
    uint64_t        id;
    sq_job_t       *j;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_apps_job_t  *aj;

    if (sq_job_path_id(r, &id) != 0) {
        return;
    }

    if (sq_query_int(sq_req_query(r), "limit", 1, SQ_APP_RECENT_MAX,
                     SQ_APP_RECENT_DEF, &recent, err, sizeof(err)) != 0)
    {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    j = sq_apps_job(r, 0);
    if (j == NULL) {
        return;
    }

    aj = j->ext;
    j->id = id;
    aj->recent = (size_t) recent;
    sq_job_who(j, 0, &w);
    sq_app_argv_outcomes(&a, &w, id, aj->recent);
    sq_job_start(j, r, &a, sq_apps_on_outcomes);
}
