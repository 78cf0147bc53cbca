/*
 * issue 15: the sentinels' list, the readers of Sentinel's replies and
 * the NOTREPLICATED answer of a write whose WAIT fell short.
 */

#include <string.h>

#include "sq_aredis.h"
#include "sq_json.h"
#include "sq_sentinel.h"
#include "tests.h"


START_TEST(test_sentinel_parse)
{
    sq_sentinel_conf_t  sc;

    ck_assert_int_eq(sq_sentinel_parse("127.0.0.1:26379,[::1]:26380,"
                                       "s3.example:26381", "sq-main", &sc),
                     0);
    ck_assert_uint_eq(sc.n, 3);
    ck_assert_str_eq(sc.addr[0].host, "127.0.0.1");
    ck_assert_int_eq(sc.addr[0].port, 26379);
    ck_assert_str_eq(sc.addr[1].host, "::1");
    ck_assert_int_eq(sc.addr[1].port, 26380);
    ck_assert_str_eq(sc.addr[2].host, "s3.example");
    ck_assert_str_eq(sc.master, "sq-main");

    ck_assert_int_eq(sq_sentinel_parse("127.0.0.1:26379", "mymaster", &sc),
                     0);
    ck_assert_uint_eq(sc.n, 1);

    /* refused: empty items, no port, unix sockets, bad names */
    ck_assert_int_eq(sq_sentinel_parse("", "m", &sc), -1);
    ck_assert_int_eq(sq_sentinel_parse("127.0.0.1:26379,", "m", &sc), -1);
    ck_assert_int_eq(sq_sentinel_parse(",127.0.0.1:26379", "m", &sc), -1);
    ck_assert_int_eq(sq_sentinel_parse("127.0.0.1", "m", &sc), -1);
    ck_assert_int_eq(sq_sentinel_parse("127.0.0.1:0", "m", &sc), -1);
    ck_assert_int_eq(sq_sentinel_parse("unix:/tmp/s.sock", "m", &sc), -1);
    ck_assert_int_eq(sq_sentinel_parse("127.0.0.1:26379", "", &sc), -1);
    ck_assert_int_eq(sq_sentinel_parse("127.0.0.1:26379", "a b", &sc), -1);
    ck_assert_int_eq(sq_sentinel_parse("127.0.0.1:26379", NULL, &sc), -1);
    ck_assert_int_eq(sq_sentinel_parse(NULL, "m", &sc), -1);
    ck_assert_uint_eq(sc.n, 0);

    /* at most SQ_SENTINEL_MAX */
    ck_assert_int_eq(sq_sentinel_parse("h:1,h:2,h:3,h:4,h:5,h:6,h:7,h:8",
                                       "m", &sc), 0);
    ck_assert_int_eq(sq_sentinel_parse("h:1,h:2,h:3,h:4,h:5,h:6,h:7,h:8,"
                                       "h:9", "m", &sc), -1);
}
END_TEST


START_TEST(test_sentinel_switch)
{
    const char       *m;
    sq_redis_addr_t   a;

    memset(&a, 0, sizeof(a));
    m = "sq-main 127.0.0.1 6379 127.0.0.1 6380";
    ck_assert_int_eq(sq_sentinel_switch_parse(m, strlen(m), "sq-main", &a),
                     0);
    ck_assert_str_eq(a.host, "127.0.0.1");
    ck_assert_int_eq(a.port, 6380);

    /* another master's, or malformed */
    ck_assert_int_eq(sq_sentinel_switch_parse(m, strlen(m), "sq", &a), -1);
    m = "sq-main 127.0.0.1 6379 127.0.0.1";
    ck_assert_int_eq(sq_sentinel_switch_parse(m, strlen(m), "sq-main", &a),
                     -1);
    m = "sq-main 127.0.0.1 6379 127.0.0.1 6380 extra";
    ck_assert_int_eq(sq_sentinel_switch_parse(m, strlen(m), "sq-main", &a),
                     -1);
    m = "sq-main 127.0.0.1 6379 127.0.0.1 99999";
    ck_assert_int_eq(sq_sentinel_switch_parse(m, strlen(m), "sq-main", &a),
                     -1);
    ck_assert_int_eq(a.port, 6380);
}
END_TEST


START_TEST(test_sentinel_replies)
{
    redisReply        r, h, p, *el[2];
    sq_redis_addr_t   a;

    memset(&a, 0, sizeof(a));
    memset(&h, 0, sizeof(h));
    memset(&p, 0, sizeof(p));
    memset(&r, 0, sizeof(r));

    h.type = REDIS_REPLY_STRING;
    h.str = (char *) "10.0.0.7";
    h.len = 8;
    p.type = REDIS_REPLY_STRING;
    p.str = (char *) "6390";
    p.len = 4;
    el[0] = &h;
    el[1] = &p;
    r.type = REDIS_REPLY_ARRAY;
    r.elements = 2;
    r.element = el;

    ck_assert_int_eq(sq_sentinel_master_reply(&r, &a), 0);
    ck_assert_str_eq(a.host, "10.0.0.7");
    ck_assert_int_eq(a.port, 6390);

    /* ROLE: ["master", ...] only */
    ck_assert_int_eq(sq_sentinel_role_master(&r), 0);
    h.str = (char *) "master";
    h.len = 6;
    ck_assert_int_eq(sq_sentinel_role_master(&r), 1);
    h.str = (char *) "slave";
    h.len = 5;
    ck_assert_int_eq(sq_sentinel_role_master(&r), 0);
    ck_assert_int_eq(sq_sentinel_role_master(NULL), 0);

    /* nil: the sentinel knows no such master */
    r.type = REDIS_REPLY_NIL;
    r.elements = 0;
    ck_assert_int_eq(sq_sentinel_master_reply(&r, &a), -1);
    ck_assert_int_eq(sq_sentinel_master_reply(NULL, &a), -1);
}
END_TEST


START_TEST(test_not_replicated)
{
    redisReply   r;
    char        *body;

    memset(&r, 0, sizeof(r));
    r.type = REDIS_REPLY_ERROR;
    r.str = (char *) "NOTREPLICATED 0 1";
    r.len = strlen(r.str);
    ck_assert_int_eq(sq_aredis_not_replicated(&r), 1);

    r.str = (char *) "READONLY You can't write against a read only replica.";
    r.len = strlen(r.str);
    ck_assert_int_eq(sq_aredis_not_replicated(&r), 0);
    ck_assert_int_eq(sq_aredis_not_replicated(NULL), 0);

    ck_assert_int_eq(sq_err_status(SQ_E_NOT_REPLICATED), 503);
    body = sq_json_error(SQ_E_NOT_REPLICATED, NULL);
    ck_assert_ptr_nonnull(body);
    ck_assert_ptr_nonnull(strstr(body, "\"success\": false"));
    ck_assert_ptr_nonnull(strstr(body, "\"code\": \"WRITE_NOT_REPLICATED\""));
    sq_json_str_free(body);
}
END_TEST


Suite *
sq_suite_sentinel(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("sentinel");
    tc = tcase_create("core");
    tcase_add_test(tc, test_sentinel_parse);
    tcase_add_test(tc, test_sentinel_switch);
    tcase_add_test(tc, test_sentinel_replies);
    tcase_add_test(tc, test_not_replicated);
    suite_add_tcase(s, tc);

    return s;
}
