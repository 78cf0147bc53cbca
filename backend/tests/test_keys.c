/*
 * Keys: /v1/keys routes, scope and type decisions, create and rotate
 * body validation, the key object, computed status; against a private
 * redis-server: the lifecycle (rotate, disable, enable, delete), usage
 * day ranges and live/test separation of records.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_identity.h"
#include "sq_keygen.h"
#include "sq_redis.h"
#include "sq_route.h"
#include "sq_store.h"
#include "sq_store_key.h"
#include "tests.h"

#define T_NOW        1795000000     /* 2026-11-18T11:06:40Z */

static const uint8_t  t_pepper[SQ_SECRET_BYTES] = { 3, 1, 4 };


static sq_route_rc_t
t_match(const char *path, int method, sq_route_t *r, const char **allow)
{
    *allow = NULL;
    return sq_route_match(path, method, r, allow);
}


START_TEST(test_key_routes)
{
    sq_route_t   r;
    const char  *allow;

    ck_assert_int_eq(t_match("/v1/keys", EVHTTP_REQ_GET, &r, &allow),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_list);
    ck_assert_int_eq(r.keys, 1);
    ck_assert_int_eq(r.scope, SQ_SC_KEYS_MANAGE);
    ck_assert_int_eq(t_match("/v1/keys", EVHTTP_REQ_POST, &r, &allow),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_create);
    ck_assert_int_eq(t_match("/v1/keys", EVHTTP_REQ_DELETE, &r, &allow),
                     SQ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "GET, HEAD, POST");

    ck_assert_int_eq(t_match("/v1/keys/7", EVHTTP_REQ_HEAD, &r, &allow),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_get);
    ck_assert_str_eq(r.id, "7");
    ck_assert_int_eq(t_match("/v1/keys/7", EVHTTP_REQ_DELETE, &r, &allow),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_delete);
    /* issue 16: PATCH sets owner_id and purpose */
    ck_assert_int_eq(t_match("/v1/keys/7", EVHTTP_REQ_PATCH, &r, &allow),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_patch);
    ck_assert_int_eq(t_match("/v1/keys/7", EVHTTP_REQ_PUT, &r, &allow),
                     SQ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "GET, HEAD, PATCH, DELETE");
    ck_assert_int_eq(t_match("/v1/keys/review", EVHTTP_REQ_GET, &r, &allow),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_review);
    ck_assert_int_eq(r.scope, SQ_SC_KEYS_MANAGE);
    ck_assert_int_eq(t_match("/v1/keys/7/activity", EVHTTP_REQ_GET, &r,
                             &allow), SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_activity);
    ck_assert_int_eq(t_match("/v1/keys/7/notify", EVHTTP_REQ_POST, &r,
                             &allow), SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_notify);
    ck_assert_int_eq(t_match("/v1/me/notifications", EVHTTP_REQ_GET, &r,
                             &allow), SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_me_notifications);
    ck_assert_int_eq(sq_route_oauth_excluded("/v1/me/notifications"), 1);

    ck_assert_int_eq(t_match("/v1/keys/7/rotate", EVHTTP_REQ_POST, &r,
                             &allow), SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_rotate);
    ck_assert_str_eq(r.id, "7/rotate");
    ck_assert_int_eq(t_match("/v1/keys/7/disable", EVHTTP_REQ_POST, &r,
                             &allow), SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_disable);
    ck_assert_int_eq(t_match("/v1/keys/7/enable", EVHTTP_REQ_POST, &r,
                             &allow), SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_enable);
    ck_assert_int_eq(t_match("/v1/keys/7/enable", EVHTTP_REQ_GET, &r,
                             &allow), SQ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "POST");
    ck_assert_int_eq(t_match("/v1/keys/7/usage", EVHTTP_REQ_GET, &r,
                             &allow), SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_keys_usage);
    ck_assert_int_eq(t_match("/v1/keys/7/usage", EVHTTP_REQ_POST, &r,
                             &allow), SQ_ROUTE_BAD_METHOD);

    ck_assert_int_eq(t_match("/v1/keys/7/other", EVHTTP_REQ_POST, &r,
                             &allow), SQ_ROUTE_NOT_FOUND);
    ck_assert_int_eq(t_match("/v1/keys/7/rotate/x", EVHTTP_REQ_POST, &r,
                             &allow), SQ_ROUTE_NOT_FOUND);
    ck_assert_int_eq(t_match("/v1/keys/", EVHTTP_REQ_GET, &r, &allow),
                     SQ_ROUTE_NOT_FOUND);
    ck_assert_int_eq(t_match("/v1/keys//rotate", EVHTTP_REQ_POST, &r,
                             &allow), SQ_ROUTE_NOT_FOUND);
    ck_assert_int_eq(t_match("/v1/keysx", EVHTTP_REQ_GET, &r, &allow),
                     SQ_ROUTE_NOT_FOUND);
}
END_TEST


START_TEST(test_route_scopes)
{
    size_t       i;
    sq_route_t   r;
    const char  *allow;
    static const struct {
        const char  *path;
        int          method;
        sq_scope_t   scope;
    } cases[] = {
        { "/v1/me", EVHTTP_REQ_GET, SQ_SC_WORKSPACE_READ },
        { "/v1/chatbots", EVHTTP_REQ_GET, SQ_SC_CHATBOTS_READ },
        { "/v1/chatbots/1", EVHTTP_REQ_HEAD, SQ_SC_CHATBOTS_READ },
        { "/v1/chatbots/1", EVHTTP_REQ_PATCH, SQ_SC_CHATBOTS_WRITE },
        { "/v1/social/accounts", EVHTTP_REQ_POST, SQ_SC_SOCIAL_WRITE },
        { "/v1/social/posts/3", EVHTTP_REQ_GET, SQ_SC_SOCIAL_READ },
        { "/v1/urls/3", EVHTTP_REQ_DELETE, SQ_SC_URLS_WRITE },
        { "/v1/articles", EVHTTP_REQ_GET, SQ_SC_ARTICLES_READ },
        { "/v1/images", EVHTTP_REQ_POST, SQ_SC_IMAGES_WRITE },
        { "/v1/media/9", EVHTTP_REQ_GET, SQ_SC_MEDIA_READ },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t_match(cases[i].path, cases[i].method, &r, &allow);
        ck_assert_msg(r.scope == cases[i].scope, "%s %d: scope %d",
                      cases[i].path, cases[i].method, (int) r.scope);
    }
    ck_assert_int_eq(r.keys, 0);        /* of the last one, /v1/media/9 */
}
END_TEST


static int
t_authz_decide(const char *path, int method, int publishable,
    uint32_t scopes, sq_err_t *e)
{
    sq_route_t   r;
    sq_ident_t   id;
    const char  *allow;

    memset(&id, 0, sizeof(id));
    id.publishable = publishable;
    id.scopes = scopes;
    ck_assert_int_eq(t_match(path, method, &r, &allow), SQ_ROUTE_FOUND);

    return sq_route_authorize(&id, &r, method, e);
}


START_TEST(test_authorize)
{
    size_t    i;
    sq_err_t  e;
    uint32_t  rd = SQ_SCOPE_BIT(SQ_SC_URLS_READ);
    static const struct {
        const char  *path;
        int          method;
    } pub[] = {
        { "/v1/urls", EVHTTP_REQ_POST },
        { "/v1/urls/1", EVHTTP_REQ_DELETE },
        { "/v1/keys", EVHTTP_REQ_GET },
        { "/v1/keys/1/usage", EVHTTP_REQ_GET },
    };

    ck_assert_int_eq(t_authz_decide("/v1/urls", EVHTTP_REQ_GET, 0, rd, &e),
                     0);
    ck_assert_int_eq(t_authz_decide("/v1/urls", EVHTTP_REQ_HEAD, 1, rd, &e),
                     0);
    ck_assert_int_eq(t_authz_decide("/v1/urls", EVHTTP_REQ_POST, 0, rd, &e),
                     -1);
    ck_assert_int_eq(e, SQ_E_INSUFFICIENT_SCOPE);
    ck_assert_int_eq(t_authz_decide("/v1/articles", EVHTTP_REQ_GET, 0, rd,
                                    &e), -1);
    ck_assert_int_eq(e, SQ_E_INSUFFICIENT_SCOPE);

    /* a publishable key: never writes, never /v1/keys, whatever scopes */
    for (i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
        ck_assert_msg(t_authz_decide(pub[i].path, pub[i].method, 1,
                                     SQ_SCOPES_ALL, &e) == -1, "%s %d",
                      pub[i].path, pub[i].method);
        ck_assert_int_eq(e, SQ_E_PUBLISHABLE);
    }

    ck_assert_int_eq(t_authz_decide("/v1/keys", EVHTTP_REQ_GET, 0,
                                    SQ_SCOPES_ALL
                                    & ~SQ_SCOPE_BIT(SQ_SC_KEYS_MANAGE), &e),
                     -1);
    ck_assert_int_eq(e, SQ_E_INSUFFICIENT_SCOPE);
    ck_assert_int_eq(t_authz_decide("/v1/keys/2/rotate", EVHTTP_REQ_POST, 0,
                                    SQ_SCOPE_BIT(SQ_SC_KEYS_MANAGE), &e), 0);
    ck_assert_int_eq(t_authz_decide("/v1/me", EVHTTP_REQ_GET, 0, 0, &e), -1);
    ck_assert_int_eq(t_authz_decide("/v1/me", EVHTTP_REQ_GET, 1,
                                    SQ_SCOPE_BIT(SQ_SC_WORKSPACE_READ), &e),
                     0);
    ck_assert_int_eq(sq_err_status(SQ_E_PUBLISHABLE), 403);
    ck_assert_str_eq(sq_err_code(SQ_E_PUBLISHABLE),
                     "PUBLISHABLE_KEY_NOT_ALLOWED");
    ck_assert_str_eq(sq_err_message(SQ_E_PUBLISHABLE),
                     "Publishable keys cannot be used here.");
    ck_assert_int_eq(sq_err_status(SQ_E_INSUFFICIENT_SCOPE), 403);
    ck_assert_str_eq(sq_err_code(SQ_E_INSUFFICIENT_SCOPE),
                     "INSUFFICIENT_SCOPE");
}
END_TEST


START_TEST(test_wslist)
{
    char         buf[64];
    sq_wslist_t  l;

    ck_assert_int_eq(sq_wslist_parse("", 0, &l), 0);
    ck_assert_int_eq(sq_wslist_allows(&l, 42), 1);
    ck_assert_int_eq(sq_wslist_parse("3,1", 3, &l), 0);
    ck_assert_int_eq(sq_wslist_allows(&l, 1), 1);
    ck_assert_int_eq(sq_wslist_allows(&l, 2), 0);
    ck_assert_int_eq(sq_wslist_format(&l, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "3,1");
    ck_assert_int_eq(sq_wslist_format(&l, buf, 3), -1);
}
END_TEST


static int
t_parse(const char *body, sq_key_t *k, char *err, size_t errlen)
{
    return sq_key_parse_create(body, strlen(body), 9, T_NOW, k, err, errlen);
}


/* the body is refused with a message starting with want */
static void
t_parse_bad(const char *body, const char *want)
{
    char      err[512];
    sq_key_t  k;

    ck_assert_msg(t_parse(body, &k, err, sizeof(err)) == -1, "%s", body);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: %s", body,
                  err);
}


START_TEST(test_parse_create)
{
    char      err[512];
    sq_key_t  k;

    ck_assert_int_eq(t_parse("{\"name\": \"ci\", \"scopes\": "
                             "[\"urls:read\"]}", &k, err, sizeof(err)), 0);
    ck_assert_uint_eq(k.user_id, 9);
    ck_assert_int_eq(k.type, SQ_KEY_SECRET);
    ck_assert_int_eq(k.mode, SQ_KEY_LIVE);
    ck_assert_uint_eq(k.scopes, SQ_SCOPE_BIT(SQ_SC_URLS_READ));
    ck_assert_uint_eq(k.ws.n, 0);
    ck_assert_int_eq(k.expires_at, 0);

    ck_assert_int_eq(t_parse("{\"name\": \"w\", \"type\": \"publishable\", "
                             "\"mode\": \"test\", \"scopes\": "
                             "[\"media:read\", \"workspace:read\"], "
                             "\"workspaces\": [4, 2], \"expires_at\": "
                             "\"2030-01-01T00:00:00Z\", \"owner\": 9}", &k,
                             err, sizeof(err)), 0);
    ck_assert_int_eq(k.type, SQ_KEY_PUBLISHABLE);
    ck_assert_int_eq(k.mode, SQ_KEY_TEST);
    ck_assert_uint_eq(k.ws.n, 2);
    ck_assert_uint_eq(k.ws.ids[0], 4);
    ck_assert_int_eq(k.expires_at, 1893456000);
    ck_assert_int_eq(t_parse("{\"name\": \"n\", \"scopes\": "
                             "[\"keys:manage\"], \"expires_at\": null}", &k,
                             err, sizeof(err)), 0);

    t_parse_bad("[]", "The request body must be a JSON object.");
    t_parse_bad("{\"scopes\": [\"urls:read\"]}", "name is required.");
    t_parse_bad("{\"name\": \"n\"}", "scopes is required.");
    t_parse_bad("{\"name\": \"\", \"scopes\": [\"urls:read\"]}", "name ");
    t_parse_bad("{\"name\": 5, \"scopes\": [\"urls:read\"]}", "name ");
    t_parse_bad("{\"name\": \"a\\u0001\", \"scopes\": [\"urls:read\"]}",
                "name ");
    t_parse_bad("{\"name\": \"0123456789012345678901234567890123456789012345"
                "678901234567890123456789012345678901234567890123456789x\", "
                "\"scopes\": [\"urls:read\"]}", "name ");
    t_parse_bad("{\"name\": \"n\", \"type\": \"root\", \"scopes\": "
                "[\"urls:read\"]}", "type ");
    t_parse_bad("{\"name\": \"n\", \"mode\": \"prod\", \"scopes\": "
                "[\"urls:read\"]}", "mode ");
    t_parse_bad("{\"name\": \"n\", \"scopes\": []}", "scopes ");
    t_parse_bad("{\"name\": \"n\", \"scopes\": \"urls:read\"}", "scopes ");
    t_parse_bad("{\"name\": \"n\", \"scopes\": [\"urls:read\", "
                "\"urls:read\"]}", "scopes ");
    t_parse_bad("{\"name\": \"n\", \"scopes\": [\"urls:admin\"]}",
                "scopes ");
    t_parse_bad("{\"name\": \"n\", \"type\": \"publishable\", \"scopes\": "
                "[\"urls:read\", \"urls:write\"]}",
                "scopes: a publishable key may hold only read scopes.");
    t_parse_bad("{\"name\": \"n\", \"type\": \"publishable\", \"scopes\": "
                "[\"keys:manage\"]}", "scopes: a publishable");
    t_parse_bad("{\"name\": \"n\", \"scopes\": [\"urls:read\"], "
                "\"workspaces\": [0]}", "workspaces ");
    t_parse_bad("{\"name\": \"n\", \"scopes\": [\"urls:read\"], "
                "\"workspaces\": [\"1\"]}", "workspaces ");
    t_parse_bad("{\"name\": \"n\", \"scopes\": [\"urls:read\"], "
                "\"workspaces\": [1, 1]}", "workspaces ");
    t_parse_bad("{\"name\": \"n\", \"scopes\": [\"urls:read\"], "
                "\"workspaces\": 1}", "workspaces ");
    t_parse_bad("{\"name\": \"n\", \"scopes\": [\"urls:read\"], "
                "\"expires_at\": \"2020-01-01T00:00:00Z\"}", "expires_at ");
    t_parse_bad("{\"name\": \"n\", \"scopes\": [\"urls:read\"], "
                "\"expires_at\": 1900000000}", "expires_at ");
    t_parse_bad("{\"name\": \"n\", \"scopes\": [\"urls:read\"], "
                "\"owner\": 10}", "owner must be your own user id.");
    t_parse_bad("{\"name\": \"n\", \"scopes\": [\"urls:read\"], "
                "\"owner\": \"9\"}", "owner ");
    t_parse_bad("{\"name\": \"n\", \"scopes\": [\"urls:read\"], "
                "\"status\": \"active\"}", "status is not a known field.");
    t_parse_bad("{\"name\": \"n\", \"name\": \"m\", \"scopes\": "
                "[\"urls:read\"]}", "The request body has a duplicate");
}
END_TEST


/* a key of the given mode, scopes and comma-separated workspaces */
static void
t_key(sq_key_t *k, sq_key_mode_t mode, uint32_t scopes, const char *ws)
{
    memset(k, 0, sizeof(*k));
    k->type = SQ_KEY_SECRET;
    k->mode = mode;
    k->scopes = scopes;
    ck_assert_int_eq(sq_wslist_parse(ws, strlen(ws), &k->ws), 0);
}


START_TEST(test_wslist_within)
{
    sq_wslist_t  none, w1, w12, w3;

    ck_assert_int_eq(sq_wslist_parse("", 0, &none), 0);
    ck_assert_int_eq(sq_wslist_parse("1", 1, &w1), 0);
    ck_assert_int_eq(sq_wslist_parse("2,1", 3, &w12), 0);
    ck_assert_int_eq(sq_wslist_parse("3", 1, &w3), 0);

    ck_assert_int_eq(sq_wslist_within(&none, &none), 1);
    ck_assert_int_eq(sq_wslist_within(&w12, &none), 1);
    ck_assert_int_eq(sq_wslist_within(&w1, &w12), 1);
    ck_assert_int_eq(sq_wslist_within(&w12, &w12), 1);
    ck_assert_int_eq(sq_wslist_within(&w12, &w1), 0);
    ck_assert_int_eq(sq_wslist_within(&w3, &w12), 0);
    /* no limit is wider than any limit */
    ck_assert_int_eq(sq_wslist_within(&none, &w1), 0);
}
END_TEST


START_TEST(test_key_reach)
{
    char      msg[256];
    uint32_t  rw;
    sq_key_t  caller, k;

    rw = SQ_SCOPE_BIT(SQ_SC_URLS_READ) | SQ_SCOPE_BIT(SQ_SC_KEYS_MANAGE);

    /* same width, narrower scopes, narrower workspaces: within */
    t_key(&caller, SQ_KEY_LIVE, rw, "1,2");
    t_key(&k, SQ_KEY_LIVE, rw, "2,1");
    ck_assert_int_eq(sq_key_reach(&caller, &k), SQ_REACH_WITHIN);
    t_key(&k, SQ_KEY_LIVE, SQ_SCOPE_BIT(SQ_SC_URLS_READ), "2");
    ck_assert_int_eq(sq_key_reach(&caller, &k), SQ_REACH_WITHIN);

    /* wider scopes, named in the message */
    t_key(&k, SQ_KEY_LIVE, rw | SQ_SCOPE_BIT(SQ_SC_URLS_WRITE), "1");
    ck_assert_int_eq(sq_key_reach(&caller, &k), SQ_REACH_SCOPES);
    sq_key_reach_message(SQ_REACH_SCOPES, "rotate", &caller, &k, msg,
                         sizeof(msg));
    ck_assert_str_eq(msg, "This key cannot rotate a key with wider scopes "
                     "than its own (it lacks urls:write).");

    /* workspaces: another one, or none (no limit) */
    t_key(&k, SQ_KEY_LIVE, rw, "1,3");
    ck_assert_int_eq(sq_key_reach(&caller, &k), SQ_REACH_WORKSPACES);
    t_key(&k, SQ_KEY_LIVE, rw, "");
    ck_assert_int_eq(sq_key_reach(&caller, &k), SQ_REACH_UNLIMITED);
    sq_key_reach_message(SQ_REACH_UNLIMITED, "create", &caller, &k, msg,
                         sizeof(msg));
    ck_assert_str_eq(msg, "This key cannot create a key without a "
                     "workspace limit: it is limited to some workspaces.");

    /* an unlimited caller may restrict freely */
    t_key(&caller, SQ_KEY_LIVE, SQ_SCOPES_ALL, "");
    t_key(&k, SQ_KEY_LIVE, rw, "7");
    ck_assert_int_eq(sq_key_reach(&caller, &k), SQ_REACH_WITHIN);

    /* mode, both ways */
    t_key(&caller, SQ_KEY_TEST, SQ_SCOPES_ALL, "");
    t_key(&k, SQ_KEY_LIVE, rw, "");
    ck_assert_int_eq(sq_key_reach(&caller, &k), SQ_REACH_MODE);
    sq_key_reach_message(SQ_REACH_MODE, "create", &caller, &k, msg,
                         sizeof(msg));
    ck_assert_str_eq(msg, "This key cannot create a live key: it is a test "
                     "key.");
    ck_assert_int_eq(sq_key_reach(&k, &caller), SQ_REACH_MODE);

    /* a publishable caller reaches nothing, not even a narrower key */
    t_key(&caller, SQ_KEY_LIVE, SQ_SCOPES_READ, "");
    caller.type = SQ_KEY_PUBLISHABLE;
    t_key(&k, SQ_KEY_LIVE, SQ_SCOPE_BIT(SQ_SC_URLS_READ), "");
    ck_assert_int_eq(sq_key_reach(&caller, &k), SQ_REACH_PUBLISHABLE);
}
END_TEST


START_TEST(test_parse_create_as)
{
    char         err[512];
    sq_key_t     caller, k;
    const char  *body = "{\"name\": \"n\", \"scopes\": [\"urls:read\"]}";

    t_key(&caller, SQ_KEY_TEST, SQ_SCOPES_ALL, "4,2");
    caller.user_id = 9;

    /* omitted mode and workspaces are the caller's */
    ck_assert_int_eq(sq_key_parse_create_as(body, strlen(body), &caller,
                                            T_NOW, &k, err, sizeof(err)), 0);
    ck_assert_uint_eq(k.user_id, 9);
    ck_assert_int_eq(k.mode, SQ_KEY_TEST);
    ck_assert_uint_eq(k.ws.n, 2);
    ck_assert_uint_eq(k.ws.ids[0], 4);
    ck_assert_int_eq(sq_key_reach(&caller, &k), SQ_REACH_WITHIN);

    /* given ones are kept as given, for sq_key_reach to judge */
    body = "{\"name\": \"n\", \"mode\": \"live\", \"workspaces\": [], "
           "\"scopes\": [\"urls:read\"]}";
    ck_assert_int_eq(sq_key_parse_create_as(body, strlen(body), &caller,
                                            T_NOW, &k, err, sizeof(err)), 0);
    ck_assert_int_eq(k.mode, SQ_KEY_LIVE);
    ck_assert_uint_eq(k.ws.n, 0);
    ck_assert_int_eq(sq_key_reach(&caller, &k), SQ_REACH_MODE);
}
END_TEST


START_TEST(test_parse_rotate)
{
    char     err[256];
    int64_t  g;

    ck_assert_int_eq(sq_key_parse_rotate("{\"grace_seconds\": 0}", 20, &g,
                                         err, sizeof(err)), 0);
    ck_assert_int_eq(g, 0);
    ck_assert_int_eq(sq_key_parse_rotate("{\"grace_seconds\": 2592000}", 26,
                                         &g, err, sizeof(err)), 0);
    ck_assert_int_eq(g, 2592000);
    ck_assert_int_eq(sq_key_parse_rotate("{\"grace_seconds\": 2592001}", 26,
                                         &g, err, sizeof(err)), -1);
    ck_assert_int_eq(sq_key_parse_rotate("{\"grace_seconds\": -1}", 21, &g,
                                         err, sizeof(err)), -1);
    ck_assert_int_eq(sq_key_parse_rotate("{\"grace_seconds\": 1.5}", 22, &g,
                                         err, sizeof(err)), -1);
    ck_assert_int_eq(sq_key_parse_rotate("{}", 2, &g, err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "grace_seconds is required.");
    ck_assert_int_eq(sq_key_parse_rotate("{\"grace_seconds\": 1, \"x\": 1}",
                                         28, &g, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "x is not a known field.");
}
END_TEST


static void
t_key_fill(sq_key_t *k)
{
    memset(k, 0, sizeof(*k));
    k->id = 5;
    k->user_id = 9;
    k->type = SQ_KEY_SECRET;
    k->mode = SQ_KEY_TEST;
    k->scopes = SQ_SCOPE_BIT(SQ_SC_URLS_READ)
                | SQ_SCOPE_BIT(SQ_SC_KEYS_MANAGE);
    k->ws.ids[0] = 3;
    k->ws.n = 1;
    k->created_at = T_NOW;
    memcpy(k->status, "active", 7);
    memcpy(k->name, "ci", 3);
    memcpy(k->last4, "a1b2", 5);
}


START_TEST(test_status)
{
    sq_key_t  k;

    t_key_fill(&k);
    ck_assert_str_eq(sq_key_status(&k, T_NOW), "active");
    k.expires_at = T_NOW + 10;
    ck_assert_str_eq(sq_key_status(&k, T_NOW + 9), "active");
    ck_assert_str_eq(sq_key_status(&k, T_NOW + 10), "expired");
    k.sunset_at = T_NOW + 5;
    k.rotated_at = T_NOW;
    ck_assert_str_eq(sq_key_status(&k, T_NOW + 4), "active");
    ck_assert_str_eq(sq_key_status(&k, T_NOW + 5), "rotated");
    ck_assert_str_eq(sq_key_status(&k, T_NOW + 10), "expired");
    memcpy(k.status, "disabled", 9);
    ck_assert_str_eq(sq_key_status(&k, T_NOW + 10), "disabled");
    memcpy(k.status, "deleted", 8);
    ck_assert_str_eq(sq_key_status(&k, T_NOW), "deleted");
}
END_TEST


START_TEST(test_render)
{
    char     *s;
    json_t   *o;
    sq_key_t  k;

    t_key_fill(&k);
    o = sq_key_render(&k, T_NOW);
    ck_assert_ptr_nonnull(o);
    s = json_dumps(o, 0);
    ck_assert_str_eq(s, "{\"id\": 5, \"name\": \"ci\", \"owner\": 9, "
                     "\"type\": \"secret\", \"mode\": \"test\", "
                     "\"masked\": \"sqk_test_\xe2\x80\xa6" "a1b2\", "
                     "\"scopes\": [\"urls:read\", \"keys:manage\"], "
                     "\"workspaces\": [3], \"status\": \"active\", "
                     "\"created_at\": \"2026-11-18T11:06:40Z\", "
                     "\"expires_at\": null, \"rotated_at\": null, "
                     "\"sunset_at\": null, \"replaced_by\": null, "
                     "\"last_used_at\": null, \"last_used_ip\": null, "
                     "\"owner_id\": null, \"purpose\": \"\"}");
    free(s);
    json_decref(o);

    k.type = SQ_KEY_PUBLISHABLE;
    k.mode = SQ_KEY_LIVE;
    k.rotated_at = T_NOW;
    k.sunset_at = T_NOW + 60;
    k.replaced_by = 6;
    k.last_used_at = T_NOW + 1;
    memcpy(k.last_used_ip, "2001:db8::1", 12);
    k.ws.n = 0;
    o = sq_key_render(&k, T_NOW + 60);
    ck_assert_str_eq(json_string_value(json_object_get(o, "masked")),
                     "sqp_live_\xe2\x80\xa6" "a1b2");
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")),
                     "rotated");
    ck_assert_str_eq(json_string_value(json_object_get(o, "sunset_at")),
                     "2026-11-18T11:07:40Z");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "replaced_by")),
                     6);
    ck_assert_str_eq(json_string_value(json_object_get(o, "last_used_ip")),
                     "2001:db8::1");
    ck_assert_uint_eq(json_array_size(json_object_get(o, "workspaces")), 0);
    json_decref(o);
}
END_TEST


/* sq_authz's code for key at now */
static void
t_authz(redisContext *c, const char *key, int64_t now, char *out,
    size_t outlen)
{
    char         digest[SQ_DIGEST_HEX_LEN + 1];
    redisReply  *r;

    sq_key_digest_hex(t_pepper, key, strlen(key), digest);
    r = redisCommand(c, "FCALL sq_authz 2 sq:key:{%s} %s %lld %s", digest, "",
                     (long long) now, "");
    ck_assert_ptr_nonnull(r);
    /* "code|user_id|...", or "UNKNOWN" */
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    snprintf(out, outlen, "%.*s", (int) strcspn(r->str, "|"), r->str);
    freeReplyObject(r);
}


static uint64_t
t_new_key(redisContext *c, uint64_t uid, char *key, size_t cap)
{
    sq_key_t  k;

    memset(&k, 0, sizeof(k));
    k.user_id = uid;
    k.mode = SQ_KEY_LIVE;
    k.type = SQ_KEY_PUBLISHABLE;
    k.scopes = SQ_SCOPES_READ;
    k.ws.ids[0] = 1;
    k.ws.n = 1;
    k.expires_at = T_NOW + 86400;
    memcpy(k.name, "web", 4);
    ck_assert_int_eq(sq_store_key_create(c, t_pepper, &k, T_NOW, key, cap),
                     SQ_OK);
    ck_assert_int_eq(sq_key_type(key), SQ_KEY_PUBLISHABLE);

    return k.id;
}


START_TEST(test_lifecycle)
{
    char           key[SQ_KEY_GEN_LEN + 1], key2[SQ_KEY_GEN_LEN + 1];
    char           key3[SQ_KEY_GEN_LEN + 1], code[32];
    size_t         n;
    uint64_t       a, b, id, next;
    sq_key_t       k, nk, *keys;
    redisReply    *r;
    redisContext  *c = sq_test_redis_connect(&sq_test_redis, 1);

    ck_assert_int_eq(sq_store_user_create(c, "a@x.org", "A", T_NOW, &a),
                     SQ_OK);
    ck_assert_int_eq(sq_store_user_create(c, "b@x.org", "B", T_NOW, &b),
                     SQ_OK);
    id = t_new_key(c, a, key, sizeof(key));

    ck_assert_int_eq(sq_store_key_get(c, id, a, &k), SQ_OK);
    ck_assert_int_eq(k.type, SQ_KEY_PUBLISHABLE);
    ck_assert_uint_eq(k.scopes, SQ_SCOPES_READ);
    ck_assert_uint_eq(k.ws.n, 1);
    ck_assert_int_eq(k.expires_at, T_NOW + 86400);
    ck_assert_int_eq(sq_store_key_get(c, id, b, &k), SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_key_get(c, id + 1, a, &k), SQ_ERR_NOTFOUND);

    /* disable and enable; another user cannot */
    ck_assert_int_eq(sq_store_key_set_status(c, id, b, "disabled"),
                     SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_key_set_status(c, id, a, "disabled"), SQ_OK);
    t_authz(c, key, T_NOW, code, sizeof(code));
    ck_assert_str_eq(code, "DISABLED");
    ck_assert_int_eq(sq_store_key_set_status(c, id, a, "active"), SQ_OK);
    t_authz(c, key, T_NOW, code, sizeof(code));
    ck_assert_str_eq(code, "OK");
    ck_assert_int_eq(sq_store_key_set_status(c, id, a, "deleted"),
                     SQ_ERR_INVALID);

    /* rotate with grace: the old one lives until the sunset */
    ck_assert_int_eq(sq_store_key_rotate(c, t_pepper, id, b, 60, T_NOW, key2,
                                         sizeof(key2), &nk),
                     SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_key_rotate(c, t_pepper, id, a, 60, T_NOW, key2,
                                         sizeof(key2), &nk), SQ_OK);
    ck_assert_uint_eq(nk.id, id + 1);
    ck_assert_str_ne(key2, key);
    ck_assert_str_eq(nk.name, "web");
    ck_assert_int_eq(nk.type, SQ_KEY_PUBLISHABLE);
    ck_assert_uint_eq(nk.scopes, SQ_SCOPES_READ);
    ck_assert_uint_eq(nk.ws.ids[0], 1);
    ck_assert_int_eq(nk.expires_at, T_NOW + 86400);
    ck_assert_int_eq(sq_store_key_get(c, id, a, &k), SQ_OK);
    ck_assert_int_eq(k.rotated_at, T_NOW);
    ck_assert_int_eq(k.sunset_at, T_NOW + 60);
    ck_assert_uint_eq(k.replaced_by, nk.id);
    ck_assert_str_eq(sq_key_status(&k, T_NOW + 59), "active");
    ck_assert_str_eq(sq_key_status(&k, T_NOW + 60), "rotated");
    t_authz(c, key, T_NOW + 59, code, sizeof(code));
    ck_assert_str_eq(code, "OK");
    t_authz(c, key, T_NOW + 60, code, sizeof(code));
    ck_assert_str_eq(code, "ROTATED");
    t_authz(c, key2, T_NOW + 60, code, sizeof(code));
    ck_assert_str_eq(code, "OK");

    /* a rotated key cannot be rotated again; enabling keeps it rotated */
    ck_assert_int_eq(sq_store_key_rotate(c, t_pepper, id, a, 0, T_NOW, key3,
                                         sizeof(key3), &nk), SQ_ERR_STATE);
    ck_assert_int_eq(sq_store_key_set_status(c, id, a, "disabled"), SQ_OK);
    ck_assert_int_eq(sq_store_key_set_status(c, id, a, "active"), SQ_OK);
    ck_assert_int_eq(sq_store_key_get(c, id, a, &k), SQ_OK);
    ck_assert_str_eq(sq_key_status(&k, T_NOW + 60), "rotated");

    /* grace 0: dead at once */
    ck_assert_int_eq(sq_store_key_rotate(c, t_pepper, id + 1, 0, 0, T_NOW,
                                         key3, sizeof(key3), &nk), SQ_OK);
    t_authz(c, key2, T_NOW, code, sizeof(code));
    ck_assert_str_eq(code, "ROTATED");

    /* list: ascending, paged */
    ck_assert_int_eq(sq_store_key_list(c, a, 0, 2, &keys, &n, &next),
                     SQ_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(keys[0].id, id);
    ck_assert_uint_eq(next, id + 1);
    free(keys);
    ck_assert_int_eq(sq_store_key_list(c, a, next, 2, &keys, &n, &next),
                     SQ_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(keys[0].id, id + 2);
    ck_assert_uint_eq(next, 0);
    free(keys);

    /* delete: a tombstone, gone from the lists, 404 everywhere after */
    ck_assert_int_eq(sq_store_key_delete(c, id, b), SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_key_delete(c, id, a), SQ_OK);
    t_authz(c, key, T_NOW, code, sizeof(code));
    ck_assert_str_eq(code, "DELETED");
    ck_assert_int_eq(sq_store_key_get(c, id, a, &k), SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_key_get(c, id, 0, &k), SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_key_delete(c, id, a), SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_key_set_status(c, id, a, "active"),
                     SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_key_rotate(c, t_pepper, id, a, 0, T_NOW, key3,
                                         sizeof(key3), &nk),
                     SQ_ERR_NOTFOUND);
    r = redisCommand(c, "SISMEMBER sq:user:{u%llu}:keys %llu",
                     (unsigned long long) a, (unsigned long long) id);
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);
    ck_assert_int_eq(sq_store_key_list(c, a, 0, 10, &keys, &n, &next),
                     SQ_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(keys[0].id, id + 1);
    free(keys);
    ck_assert_int_eq(sq_store_key_max_id(c, &next), SQ_OK);
    ck_assert_uint_eq(next, id + 2);
    redisFree(c);
}
END_TEST


START_TEST(test_edge_fields_read)
{
    char           key[SQ_KEY_GEN_LEN + 1], digest[SQ_DIGEST_HEX_LEN + 1];
    uint64_t       a, id;
    sq_key_t       k;
    redisReply    *r;
    redisContext  *c = sq_test_redis_connect(&sq_test_redis, 1);

    ck_assert_int_eq(sq_store_user_create(c, "a@x.org", "A", T_NOW, &a),
                     SQ_OK);
    id = t_new_key(c, a, key, sizeof(key));
    sq_key_digest_hex(t_pepper, key, strlen(key), digest);
    r = redisCommand(c, "HSET sq:keyuse:{%s} last_used_at %d last_used_ip %s",
                     digest, T_NOW + 7, "192.0.2.1");
    freeReplyObject(r);
    ck_assert_int_eq(sq_store_key_get(c, id, a, &k), SQ_OK);
    ck_assert_int_eq(k.last_used_at, T_NOW + 7);
    ck_assert_str_eq(k.last_used_ip, "192.0.2.1");

    r = redisCommand(c, "HSET sq:key:{%s} scopes %s", digest, "bogus:scope");
    freeReplyObject(r);
    ck_assert_int_eq(sq_store_key_get(c, id, a, &k), SQ_ERR_REDIS);
    redisFree(c);
}
END_TEST


/* a key function's call; its first word ("OK", "CONFLICT", ...) */
static void
t_key_call(redisContext *c, sq_argv_t *a, char *word, size_t cap,
    char *ver)
{
    redisReply  *r;

    ck_assert_int_eq(a->failed, 0);
    r = redisCommandArgv(c, a->argc, a->argv, a->lens);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    snprintf(word, cap, "%s", r->element[0]->str);
    if (ver != NULL && strcmp(word, "OK") == 0) {
        ck_assert_int_eq(sq_key_entry(r->element[1], 0, &(sq_key_t) { 0 },
                                      ver), SQ_OK);
    }
    freeReplyObject(r);
}


/*
 * A write decided on a record refuses when the record changed since it
 * was read (CONFLICT), and claims its nonce only once it is done.
 */
START_TEST(test_key_version_and_nonce)
{
    char            key[SQ_KEY_GEN_LEN + 1], word[32];
    char            ver[SQ_KEY_VER_LEN + 1], ver2[SQ_KEY_VER_LEN + 1];
    uint64_t        a, id;
    sq_key_t        k;
    sq_argv_t       av;
    redisReply     *r;
    sq_key_who_t    w;
    sq_key_text_t   t;
    redisContext   *c = sq_test_redis_connect(&sq_test_redis, 1);

    ck_assert_int_eq(sq_store_user_create(c, "a@x.org", "A", T_NOW, &a),
                     SQ_OK);
    id = t_new_key(c, a, key, sizeof(key));

    memset(&w, 0, sizeof(w));
    w.uid = a;
    sq_key_argv_one(&av, &w, id);
    t_key_call(c, &av, word, sizeof(word), ver);
    ck_assert_str_eq(word, "OK");

    /* another write in between: the version no longer holds */
    ck_assert_int_eq(sq_store_key_set_status(c, id, a, "disabled"), SQ_OK);
    w.nonce = "0123456789abcdef0123456789abcdef";
    w.ttl = 60;
    sq_key_argv_set(&av, &w, id, "active", ver);
    t_key_call(c, &av, word, sizeof(word), NULL);
    ck_assert_str_eq(word, "CONFLICT");
    r = redisCommand(c, "EXISTS sq:nonce:%s", w.nonce);
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);

    /* read again, decide again: the write goes through, once */
    sq_key_argv_one(&av, &w, id);
    t_key_call(c, &av, word, sizeof(word), ver2);
    ck_assert_str_ne(ver, ver2);
    sq_key_argv_set(&av, &w, id, "active", ver2);
    t_key_call(c, &av, word, sizeof(word), NULL);
    ck_assert_str_eq(word, "OK");
    r = redisCommand(c, "TTL sq:nonce:%s", w.nonce);
    ck_assert_int_gt(r->integer, 0);
    freeReplyObject(r);
    sq_key_argv_set(&av, &w, id, "active", "");
    t_key_call(c, &av, word, sizeof(word), NULL);
    ck_assert_str_eq(word, "REPLAY");

    /* another user's key is not found, whatever the version */
    w.uid = a + 1;
    w.nonce = NULL;
    sq_key_argv_set(&av, &w, id, "disabled", "");
    t_key_call(c, &av, word, sizeof(word), NULL);
    ck_assert_str_eq(word, "NOTFOUND");

    /* a user's new key lists only workspaces the user is in */
    w.uid = a;
    memset(&k, 0, sizeof(k));
    k.user_id = a;
    k.mode = SQ_KEY_LIVE;
    k.type = SQ_KEY_PUBLISHABLE;
    k.scopes = SQ_SCOPES_READ;
    k.ws.ids[0] = 999;
    k.ws.n = 1;
    ck_assert_int_eq(sq_key_fresh(t_pepper, &k, T_NOW, key, sizeof(key), &t),
                     0);
    sq_key_argv_create(&av, &w, &k, &t);
    t_key_call(c, &av, word, sizeof(word), NULL);
    ck_assert_str_eq(word, "WSMEMBER");
    r = redisCommand(c, "EXISTS sq:key:{%s}", t.digest);
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);
    redisFree(c);
}
END_TEST


START_TEST(test_usage_days)
{
    size_t          i;
    sq_usage_day_t  d[SQ_USAGE_DAYS_MAX];
    redisReply     *r;
    redisContext   *c = sq_test_redis_connect(&sq_test_redis, 1);

    /* T_NOW is 2026-11-18 */
    r = redisCommand(c, "HSET sq:usage:4:20261118 allowed 5 denied 2");
    freeReplyObject(r);
    r = redisCommand(c, "HSET sq:usage:4:20261116 allowed 1");
    freeReplyObject(r);
    r = redisCommand(c, "HSET sq:usage:5:20261118 allowed 99");
    freeReplyObject(r);

    ck_assert_int_eq(sq_store_key_usage(c, 4, T_NOW, 3, d), SQ_OK);
    ck_assert_str_eq(d[0].date, "2026-11-16");
    ck_assert_int_eq(d[0].allowed, 1);
    ck_assert_int_eq(d[0].denied, 0);
    ck_assert_str_eq(d[1].date, "2026-11-17");
    ck_assert_int_eq(d[1].allowed, 0);
    ck_assert_str_eq(d[2].date, "2026-11-18");
    ck_assert_int_eq(d[2].allowed, 5);
    ck_assert_int_eq(d[2].denied, 2);

    ck_assert_int_eq(sq_store_key_usage(c, 4, T_NOW, 90, d), SQ_OK);
    ck_assert_str_eq(d[0].date, "2026-08-21");
    ck_assert_str_eq(d[89].date, "2026-11-18");
    for (i = 0; i < 87; i++) {
        ck_assert_int_eq(d[i].allowed + d[i].denied, 0);
    }
    ck_assert_int_eq(sq_store_key_usage(c, 4, T_NOW, 1, d), SQ_OK);
    ck_assert_int_eq(d[0].allowed, 5);
    ck_assert_int_eq(sq_store_key_usage(c, 4, T_NOW, 0, d), SQ_ERR_INVALID);
    ck_assert_int_eq(sq_store_key_usage(c, 4, T_NOW, 91, d),
                     SQ_ERR_INVALID);

    r = redisCommand(c, "HSET sq:usage:4:20261118 allowed x");
    freeReplyObject(r);
    ck_assert_int_eq(sq_store_key_usage(c, 4, T_NOW, 2, d), SQ_ERR_REDIS);
    redisFree(c);
}
END_TEST


static sq_rc_t
t_rec(redisContext *c, const sq_resource_t *res, uint64_t wid, int test,
    const char *json, sq_record_t *rec)
{
    return sq_test_record_create(c, res, wid, test, T_NOW, json, rec);
}


/* the records of res in wid's live or test index */
static size_t
t_count(redisContext *c, const sq_resource_t *res, int test, uint64_t wid)
{
    size_t       n;
    redisReply  *r;

    r = redisCommand(c, "ZCARD sq:ws:{w%llu}:%s%s", (unsigned long long) wid,
                     test ? "test:" : "", res->plural);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    n = (size_t) r->integer;
    freeReplyObject(r);

    return n;
}


/* the mode a record of workspace 1 was stored with */
static void
t_mode(redisContext *c, const sq_resource_t *res, uint64_t id,
    const char *want)
{
    redisReply  *r;

    r = redisCommand(c, "HGET sq:ws:{w1}:rec:%s:%llu mode", res->name,
                     (unsigned long long) id);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(r->str, want);
    freeReplyObject(r);
}


START_TEST(test_live_test_separation)
{
    char           ref[128];
    sq_record_t    live, test, got, acc, post;
    redisReply    *r;
    redisContext  *c = sq_test_redis_connect(&sq_test_redis, 1);

    ck_assert_int_eq(t_rec(c, &sq_res_urls, 1, 0, "{\"target\": "
                           "\"https://a.org\", \"slug\": \"s\"}", &live),
                     SQ_OK);
    /* the same slug is free in test mode: separate indexes */
    ck_assert_int_eq(t_rec(c, &sq_res_urls, 1, 1, "{\"target\": "
                           "\"https://b.org\", \"slug\": \"s\"}", &test),
                     SQ_OK);
    ck_assert_int_eq(t_rec(c, &sq_res_urls, 1, 1, "{\"target\": "
                           "\"https://c.org\", \"slug\": \"s\"}", &got),
                     SQ_ERR_TAKEN);
    sq_record_clear(&got);

    ck_assert_uint_eq(t_count(c, &sq_res_urls, 0, 1), 1);
    ck_assert_uint_eq(t_count(c, &sq_res_urls, 1, 1), 1);
    r = redisCommand(c, "ZSCORE sq:ws:{w1}:test:urls %llu",
                     (unsigned long long) test.id);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
    r = redisCommand(c, "HGET sq:ws:{w1}:test:url_slugs s");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);

    t_mode(c, &sq_res_urls, test.id, "test");
    t_mode(c, &sq_res_urls, live.id, "live");

    /* a test post cannot point at a live account */
    ck_assert_int_eq(t_rec(c, &sq_res_social_accounts, 1, 0, "{\"platform\":"
                           " \"twitter\", \"handle\": \"@l\"}", &acc),
                     SQ_OK);
    snprintf(ref, sizeof(ref), "{\"account_id\": %llu, \"text\": \"t\"}",
             (unsigned long long) acc.id);
    ck_assert_int_eq(t_rec(c, &sq_res_social_posts, 1, 1, ref, &post),
                     SQ_ERR_BADREF);
    sq_record_clear(&post);
    ck_assert_int_eq(t_rec(c, &sq_res_social_posts, 1, 0, ref, &post),
                     SQ_OK);
    sq_record_clear(&post);

    /* sq_res_remove as the API calls it, with a test key */
    r = redisCommand(c, "FCALL sq_res_remove 3 %s %s sq:recws:url:%llu "
                     "0 1 %s test %s test:urls slug test:url_slugs", "", "",
                     (unsigned long long) test.id, "", "");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_str_eq(r->element[0]->str, "OK");
    freeReplyObject(r);
    r = redisCommand(c, "HGET sq:ws:{w1}:test:url_slugs s");
    ck_assert_int_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    r = redisCommand(c, "HGET sq:ws:{w1}:url_slugs s");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
    ck_assert_uint_eq(t_count(c, &sq_res_urls, 1, 1), 0);
    ck_assert_uint_eq(t_count(c, &sq_res_urls, 0, 1), 1);
    sq_record_clear(&live);
    sq_record_clear(&test);
    sq_record_clear(&acc);
    redisFree(c);
}
END_TEST


Suite *
sq_suite_keys(void)
{
    Suite  *s = suite_create("keys");
    TCase  *tc = tcase_create("model");
    TCase  *tr = sq_test_redis_tcase();

    tcase_add_test(tc, test_key_routes);
    tcase_add_test(tc, test_route_scopes);
    tcase_add_test(tc, test_authorize);
    tcase_add_test(tc, test_wslist);
    tcase_add_test(tc, test_parse_create);
    tcase_add_test(tc, test_wslist_within);
    tcase_add_test(tc, test_key_reach);
    tcase_add_test(tc, test_parse_create_as);
    tcase_add_test(tc, test_parse_rotate);
    tcase_add_test(tc, test_status);
    tcase_add_test(tc, test_render);
    suite_add_tcase(s, tc);

    tcase_add_test(tr, test_lifecycle);
    tcase_add_test(tr, test_edge_fields_read);
    tcase_add_test(tr, test_key_version_and_nonce);
    tcase_add_test(tr, test_usage_days);
    tcase_add_test(tr, test_live_test_separation);
    suite_add_tcase(s, tr);

    return s;
}
