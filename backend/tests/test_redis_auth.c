/*
 * sq_redis_connect with a password: AUTH as an ACL user, and a refused
 * password reported as Redis's refusal, never the password itself.
 */

#include <stdio.h>
#include <string.h>

#include "sq_redis.h"
#include "tests.h"


#define SQ_TEST_PASS                                                          \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define SQ_TEST_WRONG                                                         \
    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"


static void
sq_test_auth_addr(sq_redis_addr_t *a, const char *user, const char *pass)
{
    char  addr[32];

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", sq_test_redis.port);
    ck_assert_int_eq(sq_redis_addr_parse(addr, a), 0);
    snprintf(a->auth.user, sizeof(a->auth.user), "%s", user);
    snprintf(a->auth.pass, sizeof(a->auth.pass), "%s", pass);
}


START_TEST(test_auth_user)
{
    char              err[256];
    redisReply       *r;
    redisContext     *admin, *c;
    sq_redis_addr_t   a;

    admin = sq_test_redis_connect(&sq_test_redis, 0);
    r = redisCommand(admin, "ACL SETUSER sqtest on >%s ~sq:* -@all +ping "
                     "+acl|whoami", SQ_TEST_PASS);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);

    sq_test_auth_addr(&a, "sqtest", SQ_TEST_PASS);
    c = sq_redis_connect(&a, 1000, err, sizeof(err));
    ck_assert_msg(c != NULL, "connect: %s", err);
    r = redisCommand(c, "ACL WHOAMI");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->str, "sqtest");
    freeReplyObject(r);
    redisFree(c);

    sq_test_auth_addr(&a, "sqtest", SQ_TEST_WRONG);
    c = sq_redis_connect(&a, 1000, err, sizeof(err));
    ck_assert_ptr_null(c);
    ck_assert_msg(strncmp(err, "AUTH refused: WRONGPASS", 23) == 0,
                  "err: %s", err);
    ck_assert_ptr_null(strstr(err, SQ_TEST_WRONG));
    ck_assert_ptr_null(strstr(err, SQ_TEST_PASS));

    r = redisCommand(admin, "ACL DELUSER sqtest");
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
    redisFree(admin);
}
END_TEST


Suite *
sq_suite_redis_auth(void)
{
    Suite  *s = suite_create("redis_auth");
    TCase  *tc = sq_test_redis_tcase();

    tcase_add_test(tc, test_auth_user);
    suite_add_tcase(s, tc);

    return s;
}
