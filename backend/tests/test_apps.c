/*
 * API Applications (issue 14): /v1/apps routes and their scope, the
 * create, update and rotate bodies, the scope rule, credentials, the
 * JSON forms; against a private redis-server: the sq_app_* functions
 * through sq_store_app (create, one, page, update, set, rotate, grants,
 * grant revoke, outcomes) and the token families they end.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_app.h"
#include "sq_route.h"
#include "sq_store.h"
#include "sq_store_app.h"
#include "tests.h"

#define T_NOW  1795000000
#define T_S(s)  s, (sizeof(s) - 1)

static const uint8_t  t_pepper[SQ_SECRET_BYTES] = { 2, 7, 1, 8 };

#define T_BODY  "{\"name\": \"CRM\", \"redirect_uris\": " \
                "[\"https://crm.example/cb\", \"http://localhost:8080/cb\"], " \
                "\"scopes\": [\"urls:read\", \"media:write\"], " \
                "\"workspace_id\": %s%s}"


static sq_route_rc_t
t_match(const char *path, int method, sq_route_t *r, const char **allow)
{
    *allow = NULL;
    return sq_route_match(path, method, r, allow);
}


START_TEST(test_app_routes)
{
    size_t       i;
    sq_route_t   r;
    const char  *allow;

    static const struct {
        const char    *path;
        int            method;
        sq_handler_t   handler;
    } found[] = {
        { "/v1/apps", EVHTTP_REQ_GET, sq_apps_list },
        { "/v1/apps", EVHTTP_REQ_HEAD, sq_apps_list },
        { "/v1/apps", EVHTTP_REQ_POST, sq_apps_create },
        { "/v1/apps/3", EVHTTP_REQ_GET, sq_apps_get },
        { "/v1/apps/3", EVHTTP_REQ_PATCH, sq_apps_patch },
        { "/v1/apps/3", EVHTTP_REQ_DELETE, sq_apps_delete },
        { "/v1/apps/3/disable", EVHTTP_REQ_POST, sq_apps_disable },
        { "/v1/apps/3/enable", EVHTTP_REQ_POST, sq_apps_enable },
        { "/v1/apps/3/secret/rotate", EVHTTP_REQ_POST, sq_apps_rotate },
        { "/v1/apps/3/authorizations", EVHTTP_REQ_GET, sq_apps_grants },
        { "/v1/apps/3/authorizations/9", EVHTTP_REQ_DELETE,
          sq_apps_grant_delete },
        { "/v1/apps/3/outcomes", EVHTTP_REQ_GET, sq_apps_outcomes }
    };

    for (i = 0; i < sizeof(found) / sizeof(found[0]); i++) {
        ck_assert_msg(t_match(found[i].path, found[i].method, &r, &allow)
                      == SQ_ROUTE_FOUND, "%s", found[i].path);
        ck_assert_ptr_eq((void *) r.handler, (void *) found[i].handler);
        ck_assert_int_eq(r.apps, 1);
        ck_assert_int_eq(r.keys, 0);
        ck_assert_int_eq(r.scope, SQ_SC_APPS_MANAGE);
    }

    ck_assert_int_eq(t_match("/v1/apps/3/authorizations/9", EVHTTP_REQ_GET,
                             &r, &allow), SQ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "DELETE");
    ck_assert_int_eq(t_match("/v1/apps/3", EVHTTP_REQ_PUT, &r, &allow),
                     SQ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "GET, HEAD, PATCH, DELETE");
    ck_assert_int_eq(t_match("/v1/apps/3/disable", EVHTTP_REQ_GET, &r,
                             &allow), SQ_ROUTE_BAD_METHOD);
    ck_assert_int_eq(t_match("/v1/apps", EVHTTP_REQ_DELETE, &r, &allow),
                     SQ_ROUTE_BAD_METHOD);

    ck_assert_int_eq(t_match("/v1/apps/3/nope", EVHTTP_REQ_GET, &r, &allow),
                     SQ_ROUTE_NOT_FOUND);
    ck_assert_int_eq(t_match("/v1/apps/3/secret", EVHTTP_REQ_POST, &r,
                             &allow), SQ_ROUTE_NOT_FOUND);
    ck_assert_int_eq(t_match("/v1/apps/3/authorizations/", EVHTTP_REQ_DELETE,
                             &r, &allow), SQ_ROUTE_NOT_FOUND);
    ck_assert_int_eq(t_match("/v1/apps/3/authorizations/9/x",
                             EVHTTP_REQ_DELETE, &r, &allow),
                     SQ_ROUTE_NOT_FOUND);
    ck_assert_int_eq(t_match("/v1/apps/", EVHTTP_REQ_GET, &r, &allow),
                     SQ_ROUTE_NOT_FOUND);
    ck_assert_int_eq(t_match("/v1/appsx", EVHTTP_REQ_GET, &r, &allow),
                     SQ_ROUTE_NOT_FOUND);
}
END_TEST


START_TEST(test_app_authorize)
{
    sq_err_t    e;
    sq_route_t  r;
    sq_ident_t  id;
    const char *allow;

    ck_assert_int_eq(t_match("/v1/apps", EVHTTP_REQ_GET, &r, &allow),
                     SQ_ROUTE_FOUND);

    memset(&id, 0, sizeof(id));
    id.scopes = SQ_SCOPES_ALL & ~SQ_SCOPE_BIT(SQ_SC_APPS_MANAGE);
    ck_assert_int_eq(sq_route_authorize(&id, &r, EVHTTP_REQ_GET, &e), -1);
    ck_assert_int_eq(e, SQ_E_INSUFFICIENT_SCOPE);

    id.scopes = SQ_SCOPE_BIT(SQ_SC_APPS_MANAGE);
    ck_assert_int_eq(sq_route_authorize(&id, &r, EVHTTP_REQ_GET, &e), 0);

    /* a publishable key never manages apps, even a GET */
    id.publishable = 1;
    ck_assert_int_eq(sq_route_authorize(&id, &r, EVHTTP_REQ_GET, &e), -1);
    ck_assert_int_eq(e, SQ_E_PUBLISHABLE);
}
END_TEST


START_TEST(test_scope_name)
{
    uint32_t  m;

    ck_assert_int_eq(sq_scope_lookup("apps:manage", 11), SQ_SC_APPS_MANAGE);
    ck_assert_str_eq(sq_scope_name(SQ_SC_APPS_MANAGE), "apps:manage");
    ck_assert_int_eq(sq_scopes_parse("urls:read apps:manage", 21, &m), 0);
    ck_assert_uint_eq(m, SQ_SCOPE_BIT(SQ_SC_URLS_READ)
                         | SQ_SCOPE_BIT(SQ_SC_APPS_MANAGE));
    ck_assert_uint_eq(SQ_APP_SCOPES & SQ_SCOPE_BIT(SQ_SC_KEYS_MANAGE), 0);
    ck_assert_uint_eq(SQ_APP_SCOPES & SQ_SCOPE_BIT(SQ_SC_APPS_MANAGE), 0);
    ck_assert_uint_ne(SQ_APP_SCOPES & SQ_SCOPE_BIT(SQ_SC_WORKSPACE_READ), 0);
}
END_TEST


static int
t_create(const char *body, sq_app_t *a, char *err)
{
    return sq_app_parse_create(body, strlen(body), a, err, 512);
}


START_TEST(test_parse_create)
{
    char      body[2048], err[512];
    size_t    i;
    sq_app_t  a;

    snprintf(body, sizeof(body), T_BODY, "7", "");
    ck_assert_int_eq(t_create(body, &a, err), 0);
    ck_assert_str_eq(a.name, "CRM");
    ck_assert_int_eq(a.type, SQ_APP_CONFIDENTIAL);
    ck_assert_str_eq(a.uris, "https://crm.example/cb\n"
                             "http://localhost:8080/cb");
    ck_assert_uint_eq(a.scopes, SQ_SCOPE_BIT(SQ_SC_URLS_READ)
                                | SQ_SCOPE_BIT(SQ_SC_MEDIA_WRITE));
    ck_assert_uint_eq(a.workspace_id, 7);

    snprintf(body, sizeof(body), T_BODY, "\"8\"", ", \"type\": \"public\"");
    ck_assert_int_eq(t_create(body, &a, err), 0);
    ck_assert_int_eq(a.type, SQ_APP_PUBLIC);
    ck_assert_uint_eq(a.workspace_id, 8);

    {
        static const struct {
            const char  *ws;
            const char  *extra;
            const char  *says;
        } bad[] = {
            { "0", "", "workspace_id" },
            { "-1", "", "workspace_id" },
            { "1.5", "", "workspace_id" },
            { "null", "", "workspace_id" },
            { "1", ", \"type\": \"secret\"", "type" },
            { "1", ", \"owner_id\": 1", "owner_id" },
            { "1", ", \"name\": \"x\"", "duplicate" }
        };

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            snprintf(body, sizeof(body), T_BODY, bad[i].ws, bad[i].extra);
            ck_assert_int_eq(t_create(body, &a, err), -1);
            ck_assert_msg(strstr(err, bad[i].says) != NULL, "%s: %s",
                          bad[i].says, err);
        }
    }

    {
        static const char  *const bad[] = {
            "{\"name\": \"x\", \"redirect_uris\": [\"http://e.com/\"], "
            "\"scopes\": [\"urls:read\"], \"workspace_id\": 1}",
            "{\"name\": \"x\", \"redirect_uris\": [\"https://e.com/#\"], "
            "\"scopes\": [\"urls:read\"], \"workspace_id\": 1}",
            "{\"name\": \"x\", \"redirect_uris\": \"https://e.com/\", "
            "\"scopes\": [\"urls:read\"], \"workspace_id\": 1}",
            "{\"name\": \"x\", \"redirect_uris\": [1], "
            "\"scopes\": [\"urls:read\"], \"workspace_id\": 1}",
            "{\"name\": \"x\", \"redirect_uris\": [\"https://e.com/\"], "
            "\"scopes\": [\"keys:manage\"], \"workspace_id\": 1}",
            "{\"name\": \"x\", \"redirect_uris\": [\"https://e.com/\"], "
            "\"scopes\": [\"apps:manage\"], \"workspace_id\": 1}",
            "{\"name\": \"x\", \"redirect_uris\": [\"https://e.com/\"], "
            "\"scopes\": \"urls:read\", \"workspace_id\": 1}",
            "{\"redirect_uris\": [\"https://e.com/\"], "
            "\"scopes\": [\"urls:read\"], \"workspace_id\": 1}",
            "{\"name\": \"x\", \"scopes\": [\"urls:read\"], "
            "\"workspace_id\": 1}",
            "{\"name\": \"x\", \"redirect_uris\": [\"https://e.com/\"], "
            "\"workspace_id\": 1}",
            "{\"name\": \"x\", \"redirect_uris\": [\"https://e.com/\"], "
            "\"scopes\": [\"urls:read\"]}",
            "[]", "{", ""
        };

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            ck_assert_msg(t_create(bad[i], &a, err) == -1, "%s", bad[i]);
        }
    }
}
END_TEST


START_TEST(test_parse_update_rotate)
{
    int        revoke;
    char       err[512];
    int64_t    grace;
    unsigned   f;
    sq_app_t   a;

    ck_assert_int_eq(sq_app_parse_update(T_S("{\"name\": \"n\"}"), &a, &f,
                                         err, sizeof(err)), 0);
    ck_assert_uint_eq(f, SQ_APP_F_NAME);
    ck_assert_int_eq(sq_app_parse_update(T_S("{\"scopes\": [\"urls:read\"], "
                                         "\"redirect_uris\": "
                                         "[\"https://a.b/\"]}"), &a, &f,
                                         err, sizeof(err)), 0);
    ck_assert_uint_eq(f, SQ_APP_F_SCOPES | SQ_APP_F_URIS);
    ck_assert_int_eq(sq_app_parse_update(T_S("{}"), &a, &f, err, sizeof(err)),
                     -1);
    ck_assert_int_eq(sq_app_parse_update(T_S("{\"type\": \"public\"}"), &a,
                                         &f, err, sizeof(err)), -1);
    ck_assert_int_eq(sq_app_parse_update(T_S("{\"workspace_id\": 2}"), &a,
                                         &f, err, sizeof(err)), -1);

    ck_assert_int_eq(sq_app_parse_rotate(T_S(""), &grace, &revoke, err,
                                         sizeof(err)), 0);
    ck_assert_int_eq(grace, 0);
    ck_assert_int_eq(revoke, 0);
    ck_assert_int_eq(sq_app_parse_rotate(T_S("{\"grace_seconds\": 60, "
                                         "\"revoke_tokens\": true}"),
                                         &grace, &revoke, err, sizeof(err)),
                     0);
    ck_assert_int_eq(grace, 60);
    ck_assert_int_eq(revoke, 1);
    ck_assert_int_eq(sq_app_parse_rotate(T_S("{\"grace_seconds\": -1}"),
                                         &grace, &revoke, err, sizeof(err)),
                     -1);
    ck_assert_int_eq(sq_app_parse_rotate(T_S("{\"grace_seconds\": 2592001}"),
                                         &grace, &revoke, err, sizeof(err)),
                     -1);
    ck_assert_int_eq(sq_app_parse_rotate(T_S("{\"revoke_tokens\": 1}"),
                                         &grace, &revoke, err, sizeof(err)),
                     -1);
    ck_assert_int_eq(sq_app_parse_rotate(T_S("{\"x\": 1}"), &grace, &revoke,
                                         err, sizeof(err)), -1);
}
END_TEST


START_TEST(test_scopes_within)
{
    sq_scope_t  miss;

    ck_assert_int_eq(sq_app_scopes_within(SQ_SCOPE_BIT(SQ_SC_URLS_READ),
                                          SQ_SCOPE_BIT(SQ_SC_URLS_READ)
                                          | SQ_SCOPE_BIT(SQ_SC_APPS_MANAGE),
                                          &miss), 0);
    ck_assert_int_eq(sq_app_scopes_within(SQ_SCOPE_BIT(SQ_SC_URLS_READ)
                                          | SQ_SCOPE_BIT(SQ_SC_MEDIA_READ),
                                          SQ_SCOPE_BIT(SQ_SC_URLS_READ),
                                          &miss), -1);
    ck_assert_int_eq(miss, SQ_SC_MEDIA_READ);
}
END_TEST


START_TEST(test_credentials_render)
{
    char      secret[SQ_APP_SECRET_LEN + 1], digest[SQ_DIGEST_HEX_LEN + 1];
    char      d2[SQ_DIGEST_HEX_LEN + 1], *s;
    size_t    i;
    json_t   *j;
    sq_app_t  a;

    memset(&a, 0, sizeof(a));
    sq_app_new_client_id(&a);
    ck_assert_uint_eq(strlen(a.client_id), 38);
    ck_assert_int_eq(strncmp(a.client_id, "sqapp_", 6), 0);
    for (i = 6; i < 38; i++) {
        ck_assert(strchr("0123456789abcdef", a.client_id[i]) != NULL);
    }

    ck_assert_int_eq(sq_app_new_secret(t_pepper, &a, secret, sizeof(secret),
                                       digest), 0);
    ck_assert_uint_eq(strlen(secret), 44);
    ck_assert_int_eq(strncmp(secret, "sqs_", 4), 0);
    ck_assert_str_eq(a.secret_last4, secret + 40);
    sq_key_digest_hex(t_pepper, secret, strlen(secret), d2);
    ck_assert_str_eq(digest, d2);
    ck_assert_int_eq(sq_app_new_secret(t_pepper, &a, secret, 44, digest),
                     -1);

    a.id = 5;
    a.workspace_id = 3;
    a.owner_id = 2;
    a.scopes = SQ_SCOPE_BIT(SQ_SC_URLS_READ);
    a.created_at = T_NOW;
    a.updated_at = T_NOW;
    strcpy(a.name, "N");
    strcpy(a.status, "active");
    strcpy(a.uris, "https://a.b/1\nhttps://a.b/2");

    j = sq_app_render(&a);
    ck_assert_ptr_nonnull(j);
    s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_ptr_nonnull(strstr(s, "\"redirect_uris\":[\"https://a.b/1\","
                                    "\"https://a.b/2\"]"));
    ck_assert_ptr_nonnull(strstr(s, "\"scopes\":[\"urls:read\"]"));
    ck_assert_ptr_nonnull(strstr(s, "\"last_used_at\":null"));
    ck_assert_ptr_nonnull(strstr(s, "\"created_at\":\"2026-11-18T"));
    ck_assert_ptr_nonnull(strstr(s, "\"type\":\"confidential\""));
    ck_assert_ptr_null(strstr(s, "hash"));
    free(s);
    json_decref(j);
}
END_TEST


/* ---- against Redis ---- */

typedef struct {
    redisContext  *c;
    uint64_t       alice, bob, ws1, wsb;
} t_world_t;


static void
t_world(t_world_t *w)
{
    w->c = sq_test_redis_connect(&sq_test_redis, 1);
    ck_assert_int_eq(sq_store_user_create(w->c, "a@x.org", "A", T_NOW,
                                          &w->alice), SQ_OK);
    ck_assert_int_eq(sq_store_user_create(w->c, "b@x.org", "B", T_NOW,
                                          &w->bob), SQ_OK);
    ck_assert_int_eq(sq_store_ws_create(w->c, w->alice, "W1", T_NOW,
                                        &w->ws1), SQ_OK);
    ck_assert_int_eq(sq_store_ws_create(w->c, w->bob, "WB", T_NOW,
                                        &w->wsb), SQ_OK);
}


static void
t_who(sq_key_who_t *who, uint64_t uid)
{
    memset(who, 0, sizeof(*who));
    who->uid = uid;
}


/* the call; its reply (freed by the caller) or NULL with *rc */
static redisReply *
t_call(redisContext *c, sq_argv_t *a, sq_rc_t *rc)
{
    redisReply  *r;

    *rc = sq_store_app_call(c, a, &r);

    return r;
}


static uint64_t
t_create_app(t_world_t *w, uint64_t uid, uint64_t wid, sq_rc_t *rc)
{
    char           body[1024], err[512], secret[SQ_APP_SECRET_LEN + 1];
    sq_app_t       a, got;
    sq_argv_t      argv;
    redisReply    *r;
    sq_key_who_t   who;
    sq_app_text_t  t;

    snprintf(body, sizeof(body), T_BODY, "1", "");
    ck_assert_int_eq(t_create(body, &a, err), 0);
    a.workspace_id = wid;
    a.owner_id = uid != 0 ? uid : w->alice;
    sq_app_new_client_id(&a);
    ck_assert_int_eq(sq_app_new_secret(t_pepper, &a, secret,
                                       sizeof(secret), t.digest), 0);

    t_who(&who, uid);
    sq_app_argv_create(&argv, &who, &a, T_NOW, &t);
    r = t_call(w->c, &argv, rc);
    if (r == NULL) {
        return 0;
    }

    ck_assert_uint_eq(r->elements, 2);
    ck_assert_int_eq(sq_app_entry(r->element[1], &got), SQ_OK);
    ck_assert_str_eq(got.client_id, a.client_id);
    ck_assert_str_eq(got.uris, a.uris);
    ck_assert_str_eq(got.status, "active");
    ck_assert_str_eq(got.secret_last4, secret + 40);
    ck_assert_uint_eq(got.scopes, a.scopes);
    ck_assert_int_eq(got.created_at, T_NOW);
    freeReplyObject(r);

    return got.id;
}


/* a grant of app with one access and one refresh token */
static uint64_t
t_grant(redisContext *c, uint64_t app, uint64_t uid, const char *scopes)
{
    long long    gid;
    redisReply  *r;

    ck_assert_int_eq(sq_cmd_int(c, &gid, "INCR sq:seq:grant"), SQ_OK);
    r = redisCommand(c, "HSET sq:grant:%lld id %lld app_id %llu user_id %llu "
                     "workspace_id 1 scopes %s status active created_at 1 "
                     "revoked_at 0 revoke_reason %s", gid, gid,
                     (unsigned long long) app, (unsigned long long) uid,
                     scopes, "");
    freeReplyObject(r);
    r = redisCommand(c, "ZADD sq:app:{a%llu}:grants 1 %lld",
                     (unsigned long long) app, gid);
    freeReplyObject(r);
    r = redisCommand(c, "HSET sq:key:{a%lld} status active type oauth",
                     gid);
    freeReplyObject(r);
    r = redisCommand(c, "SADD sq:grant:%lld:access a%lld", gid, gid);
    freeReplyObject(r);
    r = redisCommand(c, "HSET sq:refresh:r%lld status active", gid);
    freeReplyObject(r);
    r = redisCommand(c, "SADD sq:grant:%lld:refresh r%lld", gid, gid);
    freeReplyObject(r);

    return (uint64_t) gid;
}


static void
t_hget(redisContext *c, const char *key, const char *field, const char *want)
{
    redisReply  *r;

    r = redisCommand(c, "HGET %s %s", key, field);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(r->str, want);
    freeReplyObject(r);
}


START_TEST(test_store_lifecycle)
{
    char           key[64];
    void          *items;
    size_t         n;
    sq_rc_t        rc;
    uint64_t       id, id2, next, g1, g2;
    sq_app_t       a;
    sq_argv_t      argv;
    t_world_t      w;
    redisReply    *r;
    sq_key_who_t   who;
    sq_app_text_t  t;

    t_world(&w);

    /* created by a member; a non-member (and, for sqctl, a non-member
     * owner) is refused */
    id = t_create_app(&w, w.alice, w.ws1, &rc);
    ck_assert_int_eq(rc, SQ_OK);
    ck_assert_uint_eq(t_create_app(&w, w.bob, w.ws1, &rc), 0);
    ck_assert_int_eq(rc, SQ_ERR_INVALID);
    ck_assert_uint_eq(t_create_app(&w, 0, w.wsb, &rc), 0);
    ck_assert_int_eq(rc, SQ_ERR_INVALID);
    id2 = t_create_app(&w, 0, w.ws1, &rc);
    ck_assert_int_eq(rc, SQ_OK);

    /* one: the member, sqctl; not bob */
    t_who(&who, w.bob);
    sq_app_argv_one(&argv, &who, id);
    ck_assert_ptr_null(t_call(w.c, &argv, &rc));
    ck_assert_int_eq(rc, SQ_ERR_NOTFOUND);
    t_who(&who, w.alice);
    sq_app_argv_one(&argv, &who, id);
    r = t_call(w.c, &argv, &rc);
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);

    /* page: alice sees both, bob none; limit 1 gives a cursor */
    sq_app_argv_page(&argv, &who, 0, 0, 1);
    r = t_call(w.c, &argv, &rc);
    ck_assert_int_eq(sq_app_page_parse(r, 1, 0, &items, &n, &next), SQ_OK);
    freeReplyObject(r);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(((sq_app_t *) items)[0].id, id);
    ck_assert_uint_eq(next, id);
    free(items);
    sq_app_argv_page(&argv, &who, w.ws1, next, 10);
    r = t_call(w.c, &argv, &rc);
    ck_assert_int_eq(sq_app_page_parse(r, 10, 0, &items, &n, &next), SQ_OK);
    freeReplyObject(r);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(((sq_app_t *) items)[0].id, id2);
    ck_assert_uint_eq(next, 0);
    free(items);
    t_who(&who, w.bob);
    sq_app_argv_page(&argv, &who, 0, 0, 10);
    r = t_call(w.c, &argv, &rc);
    ck_assert_int_eq(sq_app_page_parse(r, 10, 0, &items, &n, &next), SQ_OK);
    freeReplyObject(r);
    ck_assert_uint_eq(n, 0);
    free(items);
    sq_app_argv_page(&argv, &who, w.ws1, 0, 10);
    ck_assert_ptr_null(t_call(w.c, &argv, &rc));
    ck_assert_int_eq(rc, SQ_ERR_INVALID);

    /* grants: alice's and bob's; narrowing scopes ends the wider one */
    g1 = t_grant(w.c, id, w.alice, "urls:read");
    g2 = t_grant(w.c, id, w.bob, "urls:read media:write");
    t_who(&who, w.bob);
    sq_app_argv_grants(&argv, &who, id, 0, 10);
    r = t_call(w.c, &argv, &rc);
    ck_assert_int_eq(sq_app_page_parse(r, 10, 1, &items, &n, &next), SQ_OK);
    freeReplyObject(r);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(((sq_grant_t *) items)[0].id, g2);
    free(items);
    sq_app_argv_grants(&argv, &who, id2, 0, 10);
    ck_assert_ptr_null(t_call(w.c, &argv, &rc));
    ck_assert_int_eq(rc, SQ_ERR_NOTFOUND);

    memset(&a, 0, sizeof(a));
    a.scopes = SQ_SCOPE_BIT(SQ_SC_URLS_READ);
    t_who(&who, w.alice);
    sq_app_argv_update(&argv, &who, id, &a, SQ_APP_F_SCOPES, T_NOW + 1, &t);
    r = t_call(w.c, &argv, &rc);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->element[2]->integer, 1);
    freeReplyObject(r);
    snprintf(key, sizeof(key), "sq:grant:%llu", (unsigned long long) g2);
    t_hget(w.c, key, "status", "revoked");
    t_hget(w.c, key, "revoke_reason", "revoked");
    snprintf(key, sizeof(key), "sq:key:{a%llu}", (unsigned long long) g2);
    t_hget(w.c, key, "status", "revoked");
    snprintf(key, sizeof(key), "sq:grant:%llu", (unsigned long long) g1);
    t_hget(w.c, key, "status", "active");

    /* bob revokes nothing of alice's; disable ends alice's family */
    t_who(&who, w.bob);
    sq_app_argv_grant_revoke(&argv, &who, id, g1, T_NOW);
    ck_assert_ptr_null(t_call(w.c, &argv, &rc));
    ck_assert_int_eq(rc, SQ_ERR_NOTFOUND);
    t_who(&who, w.alice);
    sq_app_argv_set(&argv, &who, id, "disabled", T_NOW + 2);
    r = t_call(w.c, &argv, &rc);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->element[2]->integer, 1);
    freeReplyObject(r);
    snprintf(key, sizeof(key), "sq:grant:%llu", (unsigned long long) g1);
    t_hget(w.c, key, "revoke_reason", "app_disabled");
    snprintf(key, sizeof(key), "sq:refresh:r%llu", (unsigned long long) g1);
    t_hget(w.c, key, "status", "revoked");

    /* rotate: the old digest kept for the grace */
    memset(&a, 0, sizeof(a));
    memset(&t, 0, sizeof(t));
    memcpy(t.digest, "ab", 3);
    memcpy(a.secret_last4, "wxyz", 5);
    sq_app_argv_rotate(&argv, &who, id, &a, &t, 30, 0, T_NOW + 3);
    r = t_call(w.c, &argv, &rc);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(sq_app_entry(r->element[1], &a), SQ_OK);
    ck_assert_str_eq(a.secret_last4, "wxyz");
    ck_assert_int_eq(a.prev_secret_until, T_NOW + 33);
    freeReplyObject(r);
    snprintf(key, sizeof(key), "sq:app:{a%llu}", (unsigned long long) id);
    t_hget(w.c, key, "secret_hash", "ab");

    /* delete: out of the index, then not found */
    sq_app_argv_set(&argv, &who, id, "deleted", T_NOW + 4);
    r = t_call(w.c, &argv, &rc);
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
    sq_app_argv_one(&argv, &who, id);
    ck_assert_ptr_null(t_call(w.c, &argv, &rc));
    ck_assert_int_eq(rc, SQ_ERR_NOTFOUND);
    sq_app_argv_set(&argv, &who, id, "active", T_NOW + 5);
    ck_assert_ptr_null(t_call(w.c, &argv, &rc));
    ck_assert_int_eq(rc, SQ_ERR_NOTFOUND);

    redisFree(w.c);
}
END_TEST


START_TEST(test_store_outcomes)
{
    size_t               n;
    sq_rc_t              rc;
    uint64_t             id;
    sq_argv_t            argv;
    t_world_t            w;
    redisReply          *r;
    sq_outcome_t         o[5];
    sq_key_who_t         who;
    sq_outcome_counts_t  c;

    t_world(&w);
    id = t_create_app(&w, w.alice, w.ws1, &rc);

    r = redisCommand(w.c, "XADD sq:app:{a%llu}:outcomes * outcome denied "
                     "reason %s user_id %llu workspace_id %llu scopes %s "
                     "at 5", (unsigned long long) id, "",
                     (unsigned long long) w.alice,
                     (unsigned long long) w.ws1, "urls:read media:write");
    freeReplyObject(r);
    r = redisCommand(w.c, "XADD sq:app:{a%llu}:outcomes * outcome error "
                     "reason invalid_scope user_id %s workspace_id %s "
                     "scopes %s at 6", (unsigned long long) id, "", "", "");
    freeReplyObject(r);
    r = redisCommand(w.c, "HINCRBY sq:app:{a%llu}:outcome_counts denied 3",
                     (unsigned long long) id);
    freeReplyObject(r);

    t_who(&who, w.alice);
    sq_app_argv_outcomes(&argv, &who, id, 5);
    r = t_call(w.c, &argv, &rc);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(sq_app_outcomes_parse(r, &c, o, 5, &n), SQ_OK);
    freeReplyObject(r);
    ck_assert_int_eq(c.approved, 0);
    ck_assert_int_eq(c.denied, 3);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(o[0].outcome, "error");
    ck_assert_str_eq(o[0].reason, "invalid_scope");
    ck_assert_uint_eq(o[0].user_id, 0);
    ck_assert_str_eq(o[1].outcome, "denied");
    ck_assert_uint_eq(o[1].workspace_id, w.ws1);
    ck_assert_int_eq(o[1].at, 5);

    /* more entries than room: corrupt, not an overflow */
    sq_app_argv_outcomes(&argv, &who, id, 5);
    r = t_call(w.c, &argv, &rc);
    ck_assert_int_eq(sq_app_outcomes_parse(r, &c, o, 1, &n), SQ_ERR_REDIS);
    freeReplyObject(r);

    t_who(&who, w.bob);
    sq_app_argv_outcomes(&argv, &who, id, 5);
    ck_assert_ptr_null(t_call(w.c, &argv, &rc));
    ck_assert_int_eq(rc, SQ_ERR_NOTFOUND);

    redisFree(w.c);
}
END_TEST


Suite *
sq_suite_apps(void)
{
    Suite  *s = suite_create("apps");
    TCase  *tc = tcase_create("model");
    TCase  *tr = sq_test_redis_tcase();

    tcase_add_test(tc, test_app_routes);
    tcase_add_test(tc, test_app_authorize);
    tcase_add_test(tc, test_scope_name);
    tcase_add_test(tc, test_parse_create);
    tcase_add_test(tc, test_parse_update_rotate);
    tcase_add_test(tc, test_scopes_within);
    tcase_add_test(tc, test_credentials_render);
    tcase_add_test(tr, test_store_lifecycle);
    tcase_add_test(tr, test_store_outcomes);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tr);

    return s;
}
