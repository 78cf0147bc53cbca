/*
 * Route matching and address parsing.
 */

#include <string.h>

#include "sq_redis.h"
#include "sq_route.h"
#include "sq_server.h"
#include "tests.h"


static sq_route_rc_t
t_match(const char *path, int method, sq_route_t *r)
{
    const char  *allow = NULL;

    return sq_route_match(path, method, r, &allow);
}


START_TEST(test_routes)
{
    sq_route_t  r;

    ck_assert_int_eq(t_match("/v1/me", EVHTTP_REQ_GET, &r), SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_res_me_get);
    ck_assert_ptr_null(r.res);
    ck_assert_int_eq(t_match("/v1/me", EVHTTP_REQ_HEAD, &r), SQ_ROUTE_FOUND);
    ck_assert_int_eq(t_match("/v1/social/accounts", EVHTTP_REQ_GET, &r),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_res_list);
    ck_assert_ptr_eq(r.res, &sq_res_social_accounts);
    ck_assert_ptr_null(r.id);
    ck_assert_int_eq(t_match("/v1/social/accounts", EVHTTP_REQ_POST, &r),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_res_create);
    ck_assert_int_eq(t_match("/v1/social/posts/12", EVHTTP_REQ_PATCH, &r),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_res_patch);
    ck_assert_ptr_eq(r.res, &sq_res_social_posts);
    ck_assert_str_eq(r.id, "12");
    ck_assert_int_eq(t_match("/v1/chatbots/x", EVHTTP_REQ_DELETE, &r),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_res_delete);
    ck_assert_str_eq(r.id, "x");        /* the handler answers 404 */
    ck_assert_int_eq(t_match("/v1/media/7", EVHTTP_REQ_HEAD, &r),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq((void *) r.handler, (void *) sq_res_get);
    ck_assert_int_eq(t_match("/v1/urls/", EVHTTP_REQ_GET, &r),
                     SQ_ROUTE_FOUND);
    ck_assert_str_eq(r.id, "");
    ck_assert_int_eq(t_match("/v1/articles", EVHTTP_REQ_GET, &r),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq(r.res, &sq_res_articles);
    ck_assert_int_eq(t_match("/v1/images", EVHTTP_REQ_POST, &r),
                     SQ_ROUTE_FOUND);
    ck_assert_ptr_eq(r.res, &sq_res_images);
}
END_TEST


START_TEST(test_not_found_and_method)
{
    size_t       i;
    const char  *allow = NULL;
    sq_route_t   r;
    static const struct {
        const char     *path;
        int             method;
        sq_route_rc_t   rc;
    } cases[] = {
        { "/v1/urls/1", EVHTTP_REQ_PUT, SQ_ROUTE_BAD_METHOD },
        { "/v1/me", EVHTTP_REQ_POST, SQ_ROUTE_BAD_METHOD },
        { "/v1/social/accounts", EVHTTP_REQ_PUT, SQ_ROUTE_BAD_METHOD },
        { "/v1/urls/1/x", EVHTTP_REQ_GET, SQ_ROUTE_NOT_FOUND },
        { "/v1/urlsx", EVHTTP_REQ_GET, SQ_ROUTE_NOT_FOUND },
        { "/v1/social", EVHTTP_REQ_GET, SQ_ROUTE_NOT_FOUND },
        { "/v1/me/", EVHTTP_REQ_GET, SQ_ROUTE_NOT_FOUND },
        { "/v1/ME", EVHTTP_REQ_GET, SQ_ROUTE_NOT_FOUND },
        { "/v1/%6de", EVHTTP_REQ_GET, SQ_ROUTE_NOT_FOUND },
        { "/", EVHTTP_REQ_GET, SQ_ROUTE_NOT_FOUND },
        { "", EVHTTP_REQ_GET, SQ_ROUTE_NOT_FOUND },
        { NULL, EVHTTP_REQ_GET, SQ_ROUTE_NOT_FOUND },
    };

    ck_assert_int_eq(sq_route_match("/v1/me", EVHTTP_REQ_DELETE, &r,
                                    &allow), SQ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "GET, HEAD");
    ck_assert_int_eq(sq_route_match("/v1/urls", EVHTTP_REQ_PATCH, &r,
                                    &allow), SQ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "GET, HEAD, POST");
    ck_assert_int_eq(sq_route_match("/v1/urls/1", EVHTTP_REQ_POST, &r,
                                    &allow), SQ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "GET, HEAD, PATCH, DELETE");

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(t_match(cases[i].path, cases[i].method, &r)
                      == cases[i].rc, "case %zu", i);
    }
}
END_TEST


/* where an OAuth access token never goes (issue 14) */
START_TEST(test_oauth_excluded)
{
    size_t              i;
    static const char  *const no[] = {
        "/v1/keys", "/v1/keys/", "/v1/keys/7", "/v1/keys/7/rotate",
        "/v1/apps", "/v1/apps/3", "/v1/apps/3/authorizations/9", NULL
    };
    static const char  *const yes[] = {
        "/v1/me", "/v1/social/accounts", "/v1/keysx", "/v1/appsy",
        "/v1/chatbots/keys", "/v2/keys", "/v1/Keys", ""
    };

    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        ck_assert_msg(sq_route_oauth_excluded(no[i]) == 1,
                      "%s allowed", no[i] ? no[i] : "NULL");
    }

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        ck_assert_msg(sq_route_oauth_excluded(yes[i]) == 0,
                      "%s excluded", yes[i]);
    }
}
END_TEST


START_TEST(test_method_names)
{
    ck_assert_str_eq(sq_route_method_name(EVHTTP_REQ_PATCH), "PATCH");
    ck_assert_str_eq(sq_route_method_name(EVHTTP_REQ_HEAD), "HEAD");
    ck_assert_str_eq(sq_route_method_name(EVHTTP_REQ_PUT), "PUT");
    ck_assert_str_eq(sq_route_method_name(EVHTTP_REQ_TRACE), "TRACE");
    ck_assert_ptr_null(sq_route_method_name(0));
}
END_TEST


START_TEST(test_addresses)
{
    char             host[64];
    uint16_t         port;
    sq_redis_addr_t  a;

    ck_assert_int_eq(sq_server_parse_listen("127.0.0.1:8080", host,
                                            sizeof(host), &port), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 8080);
    ck_assert_int_eq(sq_server_parse_listen("[::1]:81", host, sizeof(host),
                                            &port), 0);
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(sq_server_parse_listen("127.0.0.1", host, sizeof(host),
                                            &port), -1);
    ck_assert_int_eq(sq_server_parse_listen("h:0", host, sizeof(host),
                                            &port), -1);
    ck_assert_int_eq(sq_server_parse_listen("h:65536", host, sizeof(host),
                                            &port), -1);

    ck_assert_int_eq(sq_redis_addr_parse("127.0.0.1:6379", &a), 0);
    ck_assert_int_eq(a.port, 6379);
    ck_assert_int_eq(a.is_unix, 0);
    ck_assert_int_eq(sq_redis_addr_parse("unix:/run/redis.sock", &a), 0);
    ck_assert_int_eq(a.is_unix, 1);
    ck_assert_str_eq(a.host, "/run/redis.sock");
    ck_assert_int_eq(sq_redis_addr_parse("localhost", &a), -1);
    ck_assert_int_eq(sq_redis_addr_parse(":6379", &a), -1);
    ck_assert_int_eq(sq_redis_addr_parse("h:6379x", &a), -1);
}
END_TEST


Suite *
sq_suite_route(void)
{
    Suite  *s = suite_create("route");
    TCase  *tc = tcase_create("match");

    tcase_add_test(tc, test_routes);
    tcase_add_test(tc, test_not_found_and_method);
    tcase_add_test(tc, test_method_names);
    tcase_add_test(tc, test_oauth_excluded);
    tcase_add_test(tc, test_addresses);
    suite_add_tcase(s, tc);

    return s;
}
