/*
 * sq_res_keys: /v1/keys, the key lifecycle of the identity's user.  A
 * key of another user, a deleted one and a malformed id are all the same
 * 404.  A full key appears once, in the 201 that made it.
 *
 * No escalation: the calling key creates, rotates, enables and deletes
 * only keys it could hold itself (sq_key_reach: scopes, workspaces, mode);
 * otherwise 403 INSUFFICIENT_SCOPE saying why.  Disabling only takes power
 * away, so it works on any key of the same user.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sq_keygen.h"
#include "sq_log.h"
#include "sq_reply.h"
#include "sq_req.h"
#include "sq_store.h"
#include "sq_workspace.h"


/* The {id} of /v1/keys/{id}[/action]; replies 404 when malformed. */
static int
sq_keys_id(sq_req_t *r, uint64_t *kid)
{
    size_t       len;
    const char  *slash;

    if (r->id == NULL) {
        sq_reply_error(r->req, SQ_E_NOT_FOUND, NULL);
        return -1;
    }

    slash = strchr(r->id, '/');
    len = slash != NULL ? (size_t) (slash - r->id) : strlen(r->id);

    if (sq_workspace_parse_id(r->id, len, kid) != 0) {
        sq_reply_error(r->req, SQ_E_NOT_FOUND, NULL);
        return -1;
    }

    return 0;
}


/* Reads the JSON body into a fresh buffer; replies on failure. */
static char *
sq_keys_body(sq_req_t *r, size_t *len)
{
    char  *buf;

    buf = malloc(SQ_BODY_MAX + 1);
    if (buf == NULL) {
        sq_reply_error(r->req, SQ_E_INTERNAL, NULL);
        return NULL;
    }

    if (sq_req_body(r, buf, len) != 0) {
        free(buf);
        return NULL;
    }

    return buf;
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
 * The key kid of the caller's user, which the calling key must reach to
 * act on it (sq_keys_within); replies and returns -1 otherwise.  A key's
 * type, mode, scopes and workspaces never change once made, so checking
 * before the store acts cannot be raced.
 */
static int
sq_keys_target(sq_req_t *r, const char *verb, uint64_t kid)
{
    sq_rc_t   rc;
    sq_key_t  k;

    rc = sq_store_key_get(r->redis, kid, r->ident.user_id, &k);
    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return -1;
    }

    return sq_keys_within(r, verb, &k);
}


/* The workspaces of a new key must all be the caller's. */
static int
sq_keys_check_ws(sq_req_t *r, const sq_wslist_t *l)
{
    int      all;
    sq_rc_t  rc;

    rc = sq_store_is_member_all(r->redis, l, r->ident.user_id, &all);
    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return -1;
    }

    if (!all) {
        sq_reply_error(r->req, SQ_E_VALIDATION, "workspaces must list "
                       "only workspaces you are a member of.");
        return -1;
    }

    return 0;
}


static int
sq_keys_need_pepper(sq_req_t *r)
{
    if (r->ctx->has_pepper) {
        return 0;
    }

    sq_log(SQ_LOG_ERR, "cannot make keys: no --pepper-file");
    sq_reply_error(r->req, SQ_E_UNAVAILABLE, NULL);

    return -1;
}


void
sq_keys_create(sq_req_t *r)
{
    int       rc;
    char      err[512], *buf, key[SQ_KEY_GEN_LEN + 1];
    size_t    len;
    sq_rc_t   src;
    sq_key_t  k, caller;

    buf = sq_keys_body(r, &len);
    if (buf == NULL) {
        return;
    }

    sq_keys_caller(r, &caller);
    rc = sq_key_parse_create_as(buf, len, &caller, (int64_t) time(NULL), &k,
                                err, sizeof(err));
    free(buf);

    if (rc != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    if (sq_keys_within(r, "create", &k) != 0
        || sq_keys_check_ws(r, &k.ws) != 0 || sq_keys_need_pepper(r) != 0)
    {
        return;
    }

    src = sq_store_key_create(r->redis, r->ctx->pepper, &k,
                              (int64_t) time(NULL), key, sizeof(key));
    if (src != SQ_OK) {
        sq_reply_store_error(r->req, src);
        return;
    }

    sq_log(SQ_LOG_INFO, "key %llu created by user %llu",
           (unsigned long long) k.id, (unsigned long long) k.user_id);
    sq_keys_reply_new(r, &k, key, sizeof(key));
}


void
sq_keys_rotate(sq_req_t *r)
{
    int       rc;
    char      err[256], *buf, key[SQ_KEY_GEN_LEN + 1];
    size_t    len;
    int64_t   grace;
    sq_rc_t   src;
    uint64_t  kid;
    sq_key_t  nk;

    if (sq_keys_id(r, &kid) != 0) {
        return;
    }

    buf = sq_keys_body(r, &len);
    if (buf == NULL) {
        return;
    }

    rc = sq_key_parse_rotate(buf, len, &grace, err, sizeof(err));
    free(buf);

    if (rc != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    if (sq_keys_need_pepper(r) != 0 || sq_keys_target(r, "rotate", kid) != 0)
    {
        return;
    }

    src = sq_store_key_rotate(r->redis, r->ctx->pepper, kid,
                              r->ident.user_id, grace, (int64_t) time(NULL),
                              key, sizeof(key), &nk);
    if (src == SQ_ERR_STATE) {
        sq_reply_error(r->req, SQ_E_CONFLICT,
                       "This key has already been rotated.");
        return;
    }

    if (src != SQ_OK) {
        sq_reply_store_error(r->req, src);
        return;
    }

    sq_log(SQ_LOG_INFO, "key %llu rotated to %llu by user %llu",
           (unsigned long long) kid, (unsigned long long) nk.id,
           (unsigned long long) r->ident.user_id);
    sq_keys_reply_new(r, &nk, key, sizeof(key));
}


void
sq_keys_get(sq_req_t *r)
{
    sq_rc_t   rc;
    uint64_t  kid;
    sq_key_t  k;

    if (sq_keys_id(r, &kid) != 0) {
        return;
    }

    rc = sq_store_key_get(r->redis, kid, r->ident.user_id, &k);
    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return;
    }

    sq_keys_reply(r, 200, &k);
}


/* verb NULL: any key of the user (disabling only takes power away) */
static void
sq_keys_set_status(sq_req_t *r, const char *status, const char *verb)
{
    sq_rc_t   rc;
    uint64_t  kid;
    sq_key_t  k;

    if (sq_keys_id(r, &kid) != 0
        || (verb != NULL && sq_keys_target(r, verb, kid) != 0))
    {
        return;
    }

    rc = sq_store_key_set_status(r->redis, kid, r->ident.user_id, status);
    if (rc == SQ_OK) {
        rc = sq_store_key_get(r->redis, kid, r->ident.user_id, &k);
    }

    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return;
    }

    sq_log(SQ_LOG_INFO, "key %llu set %s by user %llu",
           (unsigned long long) kid, status,
           (unsigned long long) r->ident.user_id);
    sq_keys_reply(r, 200, &k);
}


void
sq_keys_disable(sq_req_t *r)
{
    sq_keys_set_status(r, "disabled", NULL);
}


void
sq_keys_enable(sq_req_t *r)
{
    sq_keys_set_status(r, "active", "enable");
}


void
sq_keys_delete(sq_req_t *r)
{
    sq_rc_t   rc;
    uint64_t  kid;

    if (sq_keys_id(r, &kid) != 0 || sq_keys_target(r, "delete", kid) != 0) {
        return;
    }

    rc = sq_store_key_delete(r->redis, kid, r->ident.user_id);
    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return;
    }

    sq_log(SQ_LOG_INFO, "key %llu deleted by user %llu",
           (unsigned long long) kid, (unsigned long long) r->ident.user_id);
    sq_reply_data(r->req, 200, json_pack("{s:I, s:b}", "id",
                                         (json_int_t) kid, "deleted", 1));
}


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


static const char *
sq_keys_query(sq_req_t *r)
{
    const struct evhttp_uri  *uri;

    uri = evhttp_request_get_evhttp_uri(r->req);

    return uri != NULL ? evhttp_uri_get_query(uri) : NULL;
}


void
sq_keys_list(sq_req_t *r)
{
    char       err[256];
    size_t     limit, n;
    sq_rc_t    rc;
    uint64_t   after, next;
    sq_key_t  *keys;

    if (sq_page_parse(sq_keys_query(r), &limit, &after, err, sizeof(err))
        != 0)
    {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    rc = sq_store_key_list(r->redis, r->ident.user_id, after, limit, &keys,
                           &n, &next);
    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return;
    }

    sq_reply_page(r->req, sq_keys_render_list(keys, n),
                  sq_res_pagination(limit, next));
    free(keys);
}


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


void
sq_keys_usage(sq_req_t *r)
{
    char            err[256];
    int64_t         days;
    sq_rc_t         rc;
    uint64_t        kid;
    sq_key_t        k;
    sq_usage_day_t  d[SQ_USAGE_DAYS_MAX];

    if (sq_keys_id(r, &kid) != 0) {
        return;
    }

    if (sq_query_int(sq_keys_query(r), "days", 1, SQ_USAGE_DAYS_MAX,
                     SQ_USAGE_DAYS_DEF, &days, err, sizeof(err)) != 0)
    {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    rc = sq_store_key_get(r->redis, kid, r->ident.user_id, &k);
    if (rc == SQ_OK) {
        rc = sq_store_key_usage(r->redis, kid, (int64_t) time(NULL),
                                (size_t) days, d);
    }

    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return;
    }

    sq_reply_data(r->req, 200, sq_keys_render_usage(d, (size_t) days));
}
