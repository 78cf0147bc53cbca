/*
 * Issue 14, "oauth": the public endpoints' helpers (sq_public.c) and the
 * flow's functions (sq_oauth_* in redis/smartlyq.lua) called directly:
 * a code's single use, a refresh token's rotation and reuse, scopes that
 * may only narrow, revocation limited to the calling app, the sign-in
 * counters.  t/141-oauth.t drives the same through nginx.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "sq_public.h"
#include "tests.h"

/* an access and a refresh token's digests */
#define T_A     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
#define T_R     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
                "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1"


START_TEST(test_token_shape)
{
    char  t[SQ_PUB_TOKEN_LEN + 1];
    char  u[SQ_PUB_TOKEN_LEN + 1];

    sq_pub_token("sqc_", t);
    sq_pub_token("sqc_", u);
    ck_assert_uint_eq(strlen(t), SQ_PUB_TOKEN_LEN);
    ck_assert_str_ne(t, u);
    ck_assert(sq_pub_token_shape("sqc_", t, strlen(t)));
    ck_assert(!sq_pub_token_shape("sqo_", t, strlen(t)));
    ck_assert(!sq_pub_token_shape("sqc_", t, strlen(t) - 1));
    t[10] = '-';
    ck_assert(!sq_pub_token_shape("sqc_", t, strlen(t)));
    t[10] = '\0';
    ck_assert(!sq_pub_token_shape("sqc_", t, SQ_PUB_TOKEN_LEN));
}
END_TEST


START_TEST(test_id)
{
    ck_assert_uint_eq(sq_pub_id("1"), 1);
    ck_assert_uint_eq(sq_pub_id("9007199254740991"), 9007199254740991ULL);
    ck_assert_uint_eq(sq_pub_id("9007199254740992"), 0);
    ck_assert_uint_eq(sq_pub_id("0"), 0);
    ck_assert_uint_eq(sq_pub_id("01"), 0);
    ck_assert_uint_eq(sq_pub_id(""), 0);
    ck_assert_uint_eq(sq_pub_id("1a"), 0);
    ck_assert_uint_eq(sq_pub_id("-1"), 0);
}
END_TEST


static char *
t_buf(void (*fn)(struct evbuffer *b, const char *s), const char *s)
{
    char             *out;
    size_t            n;
    struct evbuffer  *b;

    b = evbuffer_new();
    ck_assert_ptr_nonnull(b);
    fn(b, s);
    n = evbuffer_get_length(b);
    out = calloc(1, n + 1);
    ck_assert_ptr_nonnull(out);
    evbuffer_remove(b, out, n);
    evbuffer_free(b);

    return out;
}


START_TEST(test_escape)
{
    char  *s;

    s = t_buf(sq_pub_esc, "<a href=\"x\">'&'</a>");
    ck_assert_str_eq(s, "&lt;a href=&quot;x&quot;&gt;"
                        "&#39;&amp;&#39;&lt;/a&gt;");
    free(s);

    s = t_buf(sq_pub_urlenc, "a b&c=d/é~-._");
    ck_assert_str_eq(s, "a%20b%26c%3Dd%2F%C3%A9~-._");
    free(s);
}
END_TEST


/* ---- the functions, against Redis ---- */

static redisReply *
t_fcall(redisContext *c, int argc, const char **argv)
{
    redisReply  *r;

    r = redisCommandArgv(c, argc, argv, NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(r->type == REDIS_REPLY_ARRAY, "reply type %d: %s",
                  r->type, r->type == REDIS_REPLY_ERROR ? r->str : "");

    return r;
}


static const char *
t_str(const redisReply *r, size_t i)
{
    ck_assert_uint_gt(r->elements, i);
    return r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str
                                                     : "";
}


static void
t_cmd(redisContext *c, const char *fmt, const char *arg)
{
    redisReply  *r;

    r = redisCommand(c, fmt, arg);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_ne(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
}


static char *
t_get(redisContext *c, const char *key, const char *field)
{
    char        *s;
    redisReply  *r;

    r = redisCommand(c, "HGET %s %s", key, field);
    ck_assert_ptr_nonnull(r);
    s = strdup(r->type == REDIS_REPLY_STRING ? r->str : "(nil)");
    freeReplyObject(r);

    return s;
}


static void
t_expect(redisContext *c, const char *key, const char *field,
    const char *want)
{
    char  *got;

    got = t_get(c, key, field);
    ck_assert_msg(strcmp(got, want) == 0, "%s %s: %s, not %s", key, field,
                  got, want);
    free(got);
}


/* the test's "now" (real: refresh records EXPIREAT their expiry) */
static long long  t_now;


/* now + off as text, in one of 4 rotating buffers */
static const char *
t_at(long long off)
{
    static char  buf[4][24];
    static int   i;

    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%lld", t_now + off);

    return buf[i];
}


/* app 1, active; a code for it with challenge ch, expiring at now + 60 */
static void
t_setup(redisContext *c, const char *ch)
{
    const char  *issue[] = {
        "FCALL", "sq_oauth_code_issue", "3", "sq:oauthcode:c1",
        "sq:app:{a1}:outcomes", "sq:app:{a1}:outcome_counts", "1", "sqapp_1",
        "https://a.example/cb", "7", "3", "chatbots:read workspace:read",
        ch, NULL
    };
    redisReply  *r;

    t_now = (long long) time(NULL);
    issue[13] = t_at(0);

    t_cmd(c, "HSET sq:app:{a1} id 1 status active scopes %s",
          "chatbots:read workspace:read");
    t_cmd(c, "HSET sq:app:{a2} id 2 status active scopes %s", "chatbots:read");
    t_cmd(c, "SADD sq:ws:{w3}:members %s", "7");

    r = t_fcall(c, 14, issue);
    ck_assert_str_eq(t_str(r, 0), "OK");
    freeReplyObject(r);
    t_expect(c, "sq:app:{a1}:outcome_counts", "approved", "1");
}


static redisReply *
t_redeem(redisContext *c, const char *app, const char *verifier_s256,
    long long off, const char *access, const char *refresh)
{
    const char  *now = t_at(off);
    char         ka[80], kr[80];
    const char  *argv[] = {
        "FCALL", "sq_oauth_code_redeem", "3", "sq:oauthcode:c1", ka, kr,
        app, "https://a.example/cb", verifier_s256, now, access, refresh,
        "last"
    };

    snprintf(ka, sizeof(ka), "sq:key:{%s}", access);
    snprintf(kr, sizeof(kr), "sq:refresh:%s", refresh);

    return t_fcall(c, 13, argv);
}


START_TEST(test_code_single_use)
{
    redisContext  *c;
    redisReply    *r;

    c = sq_test_redis_connect(&sq_test_redis, 1);
    t_setup(c, "CH");

    /* another app, a wrong verifier, none, too late: refused, unused */
    r = t_redeem(c, "2", "CH", 1, T_A, T_R);
    ck_assert_str_eq(t_str(r, 0), "INVALID_GRANT");
    freeReplyObject(r);
    r = t_redeem(c, "1", "XX", 1, T_A, T_R);
    ck_assert_str_eq(t_str(r, 0), "INVALID_GRANT");
    freeReplyObject(r);
    r = t_redeem(c, "1", "", 1, T_A, T_R);
    ck_assert_str_eq(t_str(r, 0), "INVALID_GRANT");
    freeReplyObject(r);
    r = t_redeem(c, "1", "CH", 60, T_A, T_R);
    ck_assert_str_eq(t_str(r, 0), "INVALID_GRANT");
    freeReplyObject(r);
    t_expect(c, "sq:oauthcode:c1", "used", "0");

    r = t_redeem(c, "1", "CH", 59, T_A, T_R);
    ck_assert_str_eq(t_str(r, 0), "OK");
    ck_assert_str_eq(t_str(r, 1), "1");
    ck_assert_str_eq(t_str(r, 2), "chatbots:read workspace:read");
    freeReplyObject(r);

    t_expect(c, "sq:key:{" T_A "}", "type", "oauth");
    t_expect(c, "sq:key:{" T_A "}", "workspaces", "3");
    t_expect(c, "sq:key:{" T_A "}", "expires_at", t_at(3659));
    t_expect(c, "sq:key:{" T_A "}", "app_id", "1");
    t_expect(c, "sq:refresh:" T_R, "status", "active");
    t_expect(c, "sq:grant:1", "status", "active");
    t_expect(c, "sq:app:{a1}", "last_used_at", t_at(59));

    /* the second use: refused, and the family ends */
    r = t_redeem(c, "1", "CH", 59, "c2", "d2");
    ck_assert_str_eq(t_str(r, 0), "INVALID_GRANT");
    freeReplyObject(r);
    t_expect(c, "sq:key:{" T_A "}", "status", "revoked");
    t_expect(c, "sq:refresh:" T_R, "status", "revoked");
    t_expect(c, "sq:grant:1", "revoke_reason", "code_reuse");
    t_expect(c, "sq:key:{c2}", "type", "(nil)");

    redisFree(c);
}
END_TEST


static redisReply *
t_refresh(redisContext *c, const char *app, const char *old,
    const char *scopes, const char *access, const char *refresh)
{
    char         ko[80], ka[80], kr[80];
    const char  *argv[] = {
        "FCALL", "sq_oauth_refresh", "3", ko, ka, kr, app, scopes,
        NULL, access, refresh, "last"
    };

    argv[8] = t_at(100);

    snprintf(ko, sizeof(ko), "sq:refresh:%s", old);
    snprintf(ka, sizeof(ka), "sq:key:{%s}", access);
    snprintf(kr, sizeof(kr), "sq:refresh:%s", refresh);

    return t_fcall(c, 12, argv);
}


START_TEST(test_refresh_rotation)
{
    redisContext  *c;
    redisReply    *r;

    c = sq_test_redis_connect(&sq_test_redis, 1);
    t_setup(c, "");
    r = t_redeem(c, "1", "", 1, T_A, T_R);
    ck_assert_str_eq(t_str(r, 0), "OK");
    freeReplyObject(r);

    r = t_refresh(c, "2", T_R, "", "a2", "r2");
    ck_assert_str_eq(t_str(r, 0), "INVALID_GRANT");
    freeReplyObject(r);
    r = t_refresh(c, "1", T_R, "chatbots:read urls:read", "a2", "r2");
    ck_assert_str_eq(t_str(r, 0), "INVALID_SCOPE");
    freeReplyObject(r);
    t_expect(c, "sq:refresh:" T_R, "status", "active");

    r = t_refresh(c, "1", T_R, "chatbots:read", "a2", "r2");
    ck_assert_str_eq(t_str(r, 0), "OK");
    ck_assert_str_eq(t_str(r, 2), "chatbots:read");
    freeReplyObject(r);
    t_expect(c, "sq:refresh:" T_R, "status", "used");
    t_expect(c, "sq:key:{a2}", "scopes", "chatbots:read");
    t_expect(c, "sq:refresh:r2", "grant_id", "1");

    /* narrowed: the next may not widen back */
    r = t_refresh(c, "1", "r2", "workspace:read", "a3", "r3");
    ck_assert_str_eq(t_str(r, 0), "INVALID_SCOPE");
    freeReplyObject(r);

    /* the used one again: the family ends */
    r = t_refresh(c, "1", T_R, "", "a3", "r3");
    ck_assert_str_eq(t_str(r, 0), "INVALID_GRANT");
    freeReplyObject(r);
    t_expect(c, "sq:key:{a2}", "status", "revoked");
    t_expect(c, "sq:key:{" T_A "}", "status", "revoked");
    t_expect(c, "sq:refresh:r2", "status", "revoked");
    t_expect(c, "sq:grant:1", "revoke_reason", "refresh_reuse");

    r = t_refresh(c, "1", "r2", "", "a3", "r3");
    ck_assert_str_eq(t_str(r, 0), "INVALID_GRANT");
    freeReplyObject(r);

    redisFree(c);
}
END_TEST


START_TEST(test_revoke_own_only)
{
    redisContext  *c;
    redisReply    *r;
    const char    *other[] = {
        "FCALL", "sq_oauth_revoke", "2", "sq:key:{" T_A "}", "sq:refresh:" T_R,
        "2", "0"
    };
    const char    *own[] = {
        "FCALL", "sq_oauth_revoke", "2", "", "sq:refresh:" T_R,
        "1", "0"
    };

    c = sq_test_redis_connect(&sq_test_redis, 1);
    t_setup(c, "");
    r = t_redeem(c, "1", "", 1, T_A, T_R);
    freeReplyObject(r);

    r = t_fcall(c, 7, other);
    ck_assert_str_eq(t_str(r, 0), "OK");
    ck_assert_int_eq(r->element[1]->integer, 0);
    freeReplyObject(r);
    t_expect(c, "sq:key:{" T_A "}", "status", "active");

    r = t_fcall(c, 7, own);
    ck_assert_int_eq(r->element[1]->integer, 1);
    freeReplyObject(r);
    t_expect(c, "sq:key:{" T_A "}", "status", "revoked");
    t_expect(c, "sq:grant:1", "revoke_reason", "revoked");

    redisFree(c);
}
END_TEST


START_TEST(test_signin_counters)
{
    int            i;
    redisContext  *c;
    redisReply    *r;
    const char    *fail[] = {
        "FCALL", "sq_oauth_signin_fail", "2", "sq:rl:signin:acct:a@x.org",
        "sq:rl:signin:ip:10.0.0.1"
    };
    const char    *read[] = {
        "FCALL_RO", "sq_oauth_signin_read", "3", "sq:useremail:a@x.org",
        "sq:rl:signin:acct:a@x.org", "sq:rl:signin:ip:10.0.0.1"
    };

    c = sq_test_redis_connect(&sq_test_redis, 1);
    t_cmd(c, "SET sq:useremail:a@x.org %s", "5");
    t_cmd(c, "HSET sq:user:{u5} password_hash %s", "$argon2id$x");

    for (i = 0; i < 3; i++) {
        r = t_fcall(c, 5, fail);
        freeReplyObject(r);
    }

    r = t_fcall(c, 6, read);
    ck_assert_str_eq(t_str(r, 1), "3");
    ck_assert_str_eq(t_str(r, 2), "3");
    ck_assert_str_eq(t_str(r, 3), "5");
    ck_assert_str_eq(t_str(r, 4), "$argon2id$x");
    freeReplyObject(r);

    r = redisCommand(c, "TTL sq:rl:signin:ip:10.0.0.1");
    ck_assert(r->integer > 890 && r->integer <= 900);
    freeReplyObject(r);

    redisFree(c);
}
END_TEST


Suite *
sq_suite_oauth(void)
{
    Suite  *s = suite_create("oauth");
    TCase  *tc = tcase_create("helpers");
    TCase  *tr = sq_test_redis_tcase();

    tcase_add_test(tc, test_token_shape);
    tcase_add_test(tc, test_id);
    tcase_add_test(tc, test_escape);
    tcase_add_test(tr, test_code_single_use);
    tcase_add_test(tr, test_refresh_rotation);
    tcase_add_test(tr, test_revoke_own_only);
    tcase_add_test(tr, test_signin_counters);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tr);

    return s;
}
