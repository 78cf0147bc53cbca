/*
 * sq_res_keys: /v1/keys, the key lifecycle of the identity's user.  A
 * key of another user, a deleted one and a malformed id are all the same
 * 404.  A full key appears once, in the 201 that made it.
 *
 * No escalation: the calling key creates, rotates, enables and deletes
 * only keys it could hold itself (sq_key_reach: scopes, workspaces, mode);
 * otherwise 403 INSUFFICIENT_SCOPE saying why.  Disabling only takes power
 * away, so it works on any key of the same user.
 *
 * Every request is one call of a key function of redis/smartlyq.lua on
 * the asynchronous link (sq_job.h, sq_store_key.h), which re-checks the
 * identity's membership and claims a write's nonce.  Rotate, enable and
 * delete decide on the target's record first: a read (sq_key_one), the
 * decision here, then the write, which carries the version of the record
 * decided on and is refused (CONFLICT) when the record changed since;
 * the job then reads and decides again, SQ_KEY_TRIES times at most.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sq_job.h"
#include "sq_keygen.h"
#include "sq_log.h"
#include "sq_reply.h"
#include "sq_req.h"
#include "sq_store.h"
#include "sq_store_key.h"
#include "sq_workspace.h"

/* a /v1/keys job's own state (sq_job_t's ext) */
typedef struct {
    sq_key_t        k;          /* the new key, or the target */
    sq_key_text_t   t;          /* what its calls refer to */
    char            key[SQ_KEY_GEN_LEN + 1];   /* a new key, wiped */
    char            ver[SQ_KEY_VER_LEN + 1];   /* the target decided on */
    sq_usage_day_t  d[SQ_USAGE_DAYS_MAX];
    const char     *verb;       /* rotate, enable, delete; NULL: none */
    const char     *status;     /* what set writes */
    int64_t         grace;      /* rotate */
    size_t          days;       /* usage */
    int             tries;      /* reads and writes on CONFLICT */
} sq_keys_job_t;


/* A job for r with its key state, or NULL after a 500. */
static sq_job_t *
sq_keys_job(sq_req_t *r, int write)
{
    sq_job_t  *j;

    j = sq_job_new_ext(r, write, sizeof(sq_keys_job_t));
    if (j != NULL) {
        j->keys = 1;
    }

    return j;
}


static void
sq_keys_reply(sq_req_t *r, int status, const sq_key_t *k)
{
    sq_reply_data(r->req, status, sq_key_render(k, (int64_t) time(NULL)));
}


/* 201 {"key": "<full key>", <key object>}; wipes the key. */
static void
sq_keys_reply_new(sq_req_t *r, const sq_key_t *k, char *key, size_t cap)
{
    json_t  *obj, *ko;

    ko = sq_key_render(k, (int64_t) time(NULL));
    obj = json_object();

    if (ko == NULL || obj == NULL
        || json_object_set_new(obj, "key", json_string(key)) != 0
        || json_object_update(obj, ko) != 0)
    {
        json_decref(obj);
        obj = NULL;
    }

    json_decref(ko);
    sodium_memzero(key, cap);
    sq_reply_data(r->req, 201, obj);
}


/* The calling key as a key record: type, mode, scopes, workspaces. */
static void
sq_keys_caller(const sq_req_t *r, sq_key_t *caller)
{
    memset(caller, 0, sizeof(*caller));
    caller->user_id = r->ident.user_id;
    caller->id = r->ident.key_id;
    caller->type = r->ident.publishable ? SQ_KEY_PUBLISHABLE : SQ_KEY_SECRET;
    caller->mode = r->ident.test_mode ? SQ_KEY_TEST : SQ_KEY_LIVE;
    caller->scopes = r->ident.scopes;
    caller->ws = r->ident.key_ws;
}


/* k within the calling key's powers, or a 403 saying why (verb: "rotate") */
static int
sq_keys_within(sq_req_t *r, const char *verb, const sq_key_t *k)
{
    char            msg[256];
    sq_key_t        caller;
    sq_key_reach_t  reach;

    sq_keys_caller(r, &caller);
    reach = sq_key_reach(&caller, k);

    if (reach == SQ_REACH_WITHIN) {
        return 0;
    }

    sq_key_reach_message(reach, verb, &caller, k, msg, sizeof(msg));
    sq_log(SQ_LOG_INFO, "key %llu of user %llu may not %s key %llu: %s",
           (unsigned long long) r->ident.key_id,
           (unsigned long long) r->ident.user_id, verb,
           (unsigned long long) k->id, msg);
    sq_reply_error(r->req, reach == SQ_REACH_PUBLISHABLE ? SQ_E_PUBLISHABLE
                           : SQ_E_INSUFFICIENT_SCOPE, msg);

    return -1;
}


/*
 * 1 and answered unless the reply is {'OK', ...}: the refusals of the
 * key functions, then sq_job_refused's (503, replay, 403, 404, 500).
 */
static int
sq_keys_refused(sq_job_t *j, const redisReply *reply)
{
    sq_rc_t  rc;

    rc = reply != NULL && reply->type == REDIS_REPLY_ARRAY
         ? sq_key_reply_rc(reply) : SQ_ERR_REDIS;

    switch (rc) {
    case SQ_ERR_STATE:
        sq_reply_error(j->r.req, SQ_E_CONFLICT,
                       "This key has already been rotated.");
        return 1;
    case SQ_ERR_INVALID:
        sq_reply_error(j->r.req, SQ_E_VALIDATION, "workspaces must list "
                       "only workspaces you are a member of.");
        return 1;
    case SQ_ERR_CONFLICT:
        sq_reply_store_error(j->r.req, SQ_ERR_CONFLICT);
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


/* {'OK', entry}: the entry's key into k (and its version), or a 500 */
static int
sq_keys_entry(sq_job_t *j, const redisReply *reply, uint64_t kid,
    sq_key_t *k, char *ver)
{
    if (reply->elements != 2
        || sq_key_entry(reply->element[1], kid, k, ver) != SQ_OK)
    {
        sq_job_corrupt(j);
        return -1;
    }

    return 0;
}


/* ---- create ---- */

static void
sq_keys_on_created(redisReply *reply, void *data)
{
    sq_job_t       *j = data;
    sq_keys_job_t  *kj = j->ext;

    sq_job_enter(j);

    if (!sq_keys_refused(j, reply)) {
        if (reply->elements != 2
            || sq_reply_id(reply->element[1], &kj->k.id) != SQ_OK)
        {
            sq_job_corrupt(j);
        } else {
            if (kj->k.owner_id == 0) {      /* issue 16: the default */
                kj->k.owner_id = kj->k.user_id;
            }
            sq_log(SQ_LOG_INFO, "key %llu created by user %llu",
                   (unsigned long long) kj->k.id,
                   (unsigned long long) kj->k.user_id);
            sq_keys_reply_new(&j->r, &kj->k, kj->key, sizeof(kj->key));
        }
    }

    sq_job_done(j);
}


void
sq_keys_create(sq_req_t *r)
{
    int             rc;
    char            err[512], *buf;
    size_t          len;
    sq_job_t       *j;
    sq_key_t        caller;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_keys_job_t  *kj;

    buf = sq_req_body(r, &len);
    if (buf == NULL) {
        return;
    }

    j = sq_keys_job(r, 1);
    if (j == NULL) {
        free(buf);
        return;
    }

    kj = j->ext;
    sq_keys_caller(r, &caller);
    rc = sq_key_parse_create_as(buf, len, &caller, (int64_t) time(NULL),
                                &kj->k, err, sizeof(err));
    free(buf);

    if (rc != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        sq_job_free(j);
        return;
    }

    if (sq_keys_within(r, "create", &kj->k) != 0
        || sq_req_need_pepper(r, "keys") != 0)
    {
        sq_job_free(j);
        return;
    }

    if (sq_key_fresh(r->ctx->pepper, &kj->k, (int64_t) time(NULL), kj->key,
                     sizeof(kj->key), &kj->t) != 0)
    {
        sq_reply_store_error(r->req, SQ_ERR_INVALID);
        sq_job_free(j);
        return;
    }

    sq_job_who(j, 1, &w);
    sq_key_argv_create(&a, &w, &kj->k, &kj->t);
    sq_job_start(j, r, &a, sq_keys_on_created);
}


/* ---- rotate, enable, delete: read, decide, write; disable: write ---- */

static void sq_keys_on_target(redisReply *reply, void *data);
static void sq_keys_on_written(redisReply *reply, void *data);


/* Reads the target (again); answers on failure, -1. */
static int
sq_keys_send_read(sq_job_t *j)
{
    sq_argv_t     a;
    sq_key_who_t  w;

    sq_job_who(j, 0, &w);
    sq_key_argv_one(&a, &w, j->id);

    return sq_job_send(j, &a, sq_keys_on_target);
}


/* The write decided on the target read; answers on failure, -1. */
static int
sq_keys_send_write(sq_job_t *j)
{
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_keys_job_t  *kj = j->ext;

    sq_job_who(j, 1, &w);

    if (kj->status == NULL) {
        if (sq_key_fresh(j->r.ctx->pepper, &kj->k, (int64_t) time(NULL),
                         kj->key, sizeof(kj->key), &kj->t) != 0)
        {
            sq_reply_store_error(j->r.req, SQ_ERR_INVALID);
            return -1;
        }
        sq_key_argv_rotate(&a, &w, j->id, &kj->k, kj->grace, &kj->t,
                           kj->ver);
    } else {
        sq_key_argv_set(&a, &w, j->id, kj->status, kj->ver);
    }

    return sq_job_send(j, &a, sq_keys_on_written);
}


static void
sq_keys_on_target(redisReply *reply, void *data)
{
    sq_job_t       *j = data;
    sq_keys_job_t  *kj = j->ext;

    sq_job_enter(j);

    if (sq_keys_refused(j, reply)
        || sq_keys_entry(j, reply, j->id, &kj->k, kj->ver) != 0
        || sq_keys_within(&j->r, kj->verb, &kj->k) != 0
        || sq_keys_send_write(j) != 0)
    {
        sq_job_done(j);
    }
}


/* The key changed between the read and the write: read again. */
static int
sq_keys_conflict(sq_job_t *j, const redisReply *reply)
{
    sq_keys_job_t  *kj = j->ext;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || sq_key_reply_rc(reply) != SQ_ERR_CONFLICT
        || kj->verb == NULL || ++kj->tries >= SQ_KEY_TRIES)
    {
        return 0;
    }

    sq_log(SQ_LOG_INFO, "key %llu changed while user %llu acted on it: "
           "read again", (unsigned long long) j->id,
           (unsigned long long) j->r.ident.user_id);

    return sq_keys_send_read(j) == 0 ? 1 : 2;
}


static void
sq_keys_on_written(redisReply *reply, void *data)
{
    int             rc;
    sq_job_t       *j = data;
    sq_keys_job_t  *kj = j->ext;
    sq_key_t        k;

    sq_job_enter(j);

    rc = sq_keys_conflict(j, reply);
    if (rc == 1) {
        return;
    }

    if (rc == 2 || sq_keys_refused(j, reply)
        || sq_keys_entry(j, reply, kj->status == NULL ? 0 : j->id, &k,
                         NULL) != 0)
    {
        sq_job_done(j);
        return;
    }

    if (kj->status == NULL) {
        sq_log(SQ_LOG_INFO, "key %llu rotated to %llu by user %llu",
               (unsigned long long) j->id, (unsigned long long) k.id,
               (unsigned long long) j->r.ident.user_id);
        sq_keys_reply_new(&j->r, &k, kj->key, sizeof(kj->key));
    } else if (strcmp(kj->status, "deleted") == 0) {
        sq_log(SQ_LOG_INFO, "key %llu deleted by user %llu",
               (unsigned long long) j->id,
               (unsigned long long) j->r.ident.user_id);
        sq_reply_data(j->r.req, 200, json_pack("{s:I, s:b}", "id",
                                               (json_int_t) j->id,
                                               "deleted", 1));
    } else {
        sq_log(SQ_LOG_INFO, "key %llu set %s by user %llu",
               (unsigned long long) j->id, kj->status,
               (unsigned long long) j->r.ident.user_id);
        sq_keys_reply(&j->r, 200, &k);
    }

    sq_job_done(j);
}


/*
 * status NULL: rotate (grace).  verb NULL: a write without a decision
 * (disable), else the target is read and decided on first.
 */
static void
sq_keys_act(sq_req_t *r, const char *verb, const char *status,
    int64_t grace)
{
    int             rc;
    uint64_t        kid;
    sq_job_t       *j;
    sq_keys_job_t  *kj;

    if (sq_job_path_id(r, &kid) != 0) {
        return;
    }

    j = sq_keys_job(r, 1);
    if (j == NULL) {
        return;
    }

    kj = j->ext;
    j->id = kid;
    kj->verb = verb;
    kj->status = status;
    kj->grace = grace;

    rc = verb != NULL ? sq_keys_send_read(j) : sq_keys_send_write(j);
    if (rc != 0) {
        sq_job_free(j);
        return;
    }

    r->async = 1;
}


void
sq_keys_rotate(sq_req_t *r)
{
    int       rc;
    char      err[256], *buf;
    size_t    len;
    int64_t   grace;
    uint64_t  kid;

    if (sq_job_path_id(r, &kid) != 0) {
        return;
    }

    buf = sq_req_body(r, &len);
    if (buf == NULL) {
        return;
    }

    rc = sq_key_parse_rotate(buf, len, &grace, err, sizeof(err));
    free(buf);

    if (rc != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    if (sq_req_need_pepper(r, "keys") != 0) {
        return;
    }

    sq_keys_act(r, "rotate", NULL, grace);
}


void
sq_keys_disable(sq_req_t *r)
{
    sq_keys_act(r, NULL, "disabled", 0);
}


void
sq_keys_enable(sq_req_t *r)
{
    sq_keys_act(r, "enable", "active", 0);
}


void
sq_keys_delete(sq_req_t *r)
{
    sq_keys_act(r, "delete", "deleted", 0);
}


/* ---- get ---- */

static void
sq_keys_on_one(redisReply *reply, void *data)
{
    sq_job_t  *j = data;
    sq_key_t   k;

    sq_job_enter(j);

    if (!sq_keys_refused(j, reply)
        && sq_keys_entry(j, reply, j->id, &k, NULL) == 0)
    {
        sq_keys_reply(&j->r, 200, &k);
    }

    sq_job_done(j);
}


void
sq_keys_get(sq_req_t *r)
{
    uint64_t      kid;
    sq_job_t     *j;
    sq_argv_t     a;
    sq_key_who_t  w;

    if (sq_job_path_id(r, &kid) != 0) {
        return;
    }

    j = sq_keys_job(r, 0);
    if (j == NULL) {
        return;
    }

    j->id = kid;
    sq_job_who(j, 0, &w);
    sq_key_argv_one(&a, &w, kid);
    sq_job_start(j, r, &a, sq_keys_on_one);
}


/* ---- list ---- */

static json_t *
sq_keys_render_list(const sq_key_t *keys, size_t n)
{
    size_t   i;
    int64_t  now;
    json_t  *arr;

    now = (int64_t) time(NULL);
    arr = json_array();

    for (i = 0; arr != NULL && i < n; i++) {
        if (json_array_append_new(arr, sq_key_render(&keys[i], now)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }

    return arr;
}


static void
sq_keys_on_page(redisReply *reply, void *data)
{
    size_t     n;
    sq_rc_t    rc;
    uint64_t   next;
    sq_job_t  *j = data;
    sq_key_t  *keys;

    sq_job_enter(j);

    if (sq_keys_refused(j, reply)) {
        sq_job_done(j);
        return;
    }

    rc = sq_key_page_parse(reply, j->limit, &keys, &n, &next);
    if (rc != SQ_OK) {
        sq_reply_store_error(j->r.req, rc);
    } else {
        sq_reply_page(j->r.req, sq_keys_render_list(keys, n),
                      sq_res_pagination(j->limit, next));
        free(keys);
    }

    sq_job_done(j);
}


void
sq_keys_list(sq_req_t *r)
{
    char          err[256];
    size_t        limit;
    uint64_t      after;
    sq_job_t     *j;
    sq_argv_t     a;
    sq_key_who_t  w;

    if (sq_page_parse(sq_req_query(r), &limit, &after, err, sizeof(err))
        != 0)
    {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    j = sq_keys_job(r, 0);
    if (j == NULL) {
        return;
    }

    j->limit = limit;
    sq_job_who(j, 0, &w);
    sq_key_argv_page(&a, &w, after, limit);
    sq_job_start(j, r, &a, sq_keys_on_page);
}


/* ---- usage ---- */

static json_t *
sq_keys_render_usage(const sq_usage_day_t *d, size_t n)
{
    size_t   i;
    json_t  *arr;

    arr = json_array();

    for (i = 0; arr != NULL && i < n; i++) {
        if (json_array_append_new(arr, json_pack("{s:s, s:I, s:I}",
                                  "date", d[i].date,
                                  "allowed", (json_int_t) d[i].allowed,
                                  "denied", (json_int_t) d[i].denied)) != 0)
        {
            json_decref(arr);
            arr = NULL;
        }
    }

    return arr;
}


static void
sq_keys_on_usage(redisReply *reply, void *data)
{
    sq_rc_t         rc;
    sq_job_t       *j = data;
    sq_key_t        k;
    sq_keys_job_t  *kj = j->ext;

    sq_job_enter(j);

    if (sq_keys_refused(j, reply)) {
        sq_job_done(j);
        return;
    }

    rc = reply->elements == 3
         ? sq_key_entry(reply->element[1], j->id, &k, NULL) : SQ_ERR_REDIS;
    if (rc == SQ_OK) {
        rc = sq_key_usage_parse(reply->element[2], kj->days, kj->d);
    }

    if (rc != SQ_OK) {
        sq_reply_store_error(j->r.req, rc);
    } else {
        sq_reply_data(j->r.req, 200, sq_keys_render_usage(kj->d, kj->days));
    }

    sq_job_done(j);
}


void
sq_keys_usage(sq_req_t *r)
{
    char            err[256];
    int64_t         days;
    uint64_t        kid;
    sq_job_t       *j;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_keys_job_t  *kj;

    if (sq_job_path_id(r, &kid) != 0) {
        return;
    }

    if (sq_query_int(sq_req_query(r), "days", 1, SQ_USAGE_DAYS_MAX,
                     SQ_USAGE_DAYS_DEF, &days, err, sizeof(err)) != 0)
    {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    j = sq_keys_job(r, 0);
    if (j == NULL) {
        return;
    }

    kj = j->ext;
    j->id = kid;
    kj->days = (size_t) days;

    if (sq_key_usage_days((int64_t) time(NULL), kj->days, kj->d, &kj->t)
        != SQ_OK)
    {
        sq_reply_store_error(r->req, SQ_ERR_INVALID);
        sq_job_free(j);
        return;
    }

    sq_job_who(j, 0, &w);
    sq_key_argv_usage(&a, &w, kid, 1, &kj->t);
    sq_job_start(j, r, &a, sq_keys_on_usage);
}
