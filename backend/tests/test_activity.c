/*
 * Issue 16 (keyops): the activity query's parsing, and sq_key_activity,
 * sq_key_review, sq_key_own, sq_notify_owner, sq_notifications against
 * a throwaway Redis through the synchronous sq_store_activity_call.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_keygen.h"
#include "sq_store_activity.h"
#include "tests.h"

#define T_NOW   1796000000

static const uint8_t  t_pepper[32] = { 7 };


START_TEST(test_time_parse)
{
    int64_t  t;

    ck_assert_int_eq(sq_act_time_parse("1796000000", 10, &t), 0);
    ck_assert_int_eq(t, 1796000000);
    ck_assert_int_eq(sq_act_time_parse("2026-11-30", 10, &t), 0);
    ck_assert_int_eq(t % 86400, 0);
    ck_assert_int_eq(sq_act_time_parse("2026-11-30T00:00:10Z", 20, &t), 0);
    ck_assert_int_eq(t % 86400, 10);
    ck_assert_int_eq(sq_act_time_parse("2026-13-01", 10, &t), -1);
    ck_assert_int_eq(sq_act_time_parse("yesterday", 9, &t), -1);
    ck_assert_int_eq(sq_act_time_parse("", 0, &t), -1);
    ck_assert_int_eq(sq_act_time_parse("0123", 4, &t), -1);
}
END_TEST


START_TEST(test_query_parse)
{
    char            err[256];
    sq_act_query_t  q;

    ck_assert_int_eq(sq_act_query_parse(NULL, &q, err, sizeof(err)), 0);
    ck_assert_int_eq(q.outcome, SQ_ACT_ANY);
    ck_assert_uint_eq(q.limit, SQ_ACT_LIMIT_DEF);
    ck_assert_str_eq(q.cursor, "");

    ck_assert_int_eq(sq_act_query_parse("since=100&until=200&outcome=refused"
                                        "&workspace=7&limit=3"
                                        "&cursor=1796000000123-4", &q, err,
                                        sizeof(err)), 0);
    ck_assert_int_eq(q.since, 100);
    ck_assert_int_eq(q.until, 200);
    ck_assert_int_eq(q.outcome, SQ_ACT_REFUSED);
    ck_assert_uint_eq(q.wid, 7);
    ck_assert_uint_eq(q.limit, 3);
    ck_assert_str_eq(q.cursor, "1796000000123-4");

    ck_assert_int_eq(sq_act_query_parse("outcome=denied", &q, err,
                                        sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "outcome"));
    ck_assert_int_eq(sq_act_query_parse("cursor=12-", &q, err, sizeof(err)),
                     -1);
    ck_assert_int_eq(sq_act_query_parse("cursor=-1", &q, err, sizeof(err)),
                     -1);
    ck_assert_int_eq(sq_act_query_parse("since=200&until=100", &q, err,
                                        sizeof(err)), -1);
    ck_assert_int_eq(sq_act_query_parse("limit=501", &q, err, sizeof(err)),
                     -1);
    ck_assert_int_eq(sq_act_query_parse("workspace=2&workspace_id=3", &q,
                                        err, sizeof(err)), -1);
    ck_assert_int_eq(sq_act_query_parse("since=1&since=2", &q, err,
                                        sizeof(err)), -1);
}
END_TEST


/* a new live secret key of uid with scopes; its id */
static uint64_t
t_key(redisContext *c, uint64_t uid, uint32_t scopes)
{
    char      key[SQ_KEY_GEN_LEN + 1];
    sq_key_t  k;

    memset(&k, 0, sizeof(k));
    k.user_id = uid;
    k.mode = SQ_KEY_LIVE;
    k.type = SQ_KEY_SECRET;
    k.scopes = scopes;
    memcpy(k.name, "k", 2);
    ck_assert_int_eq(sq_store_key_create(c, t_pepper, &k, T_NOW, key,
                                         sizeof(key)), SQ_OK);

    return k.id;
}


static void
t_xadd(redisContext *c, uint64_t kid, int64_t t, const char *ip,
    const char *code, int n)
{
    redisReply  *r;

    r = redisCommand(c, "XADD sq:act:%llu * t %lld ip %s m GET r /v1/urls "
                     "ws 1 s %d c %s n %d", (unsigned long long) kid,
                     (long long) t, ip, code[0] ? 403 : 200, code, n);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
}


START_TEST(test_activity_call)
{
    uint64_t        a, b, kid;
    json_t         *d, *s;
    sq_argv_t       av;
    sq_key_who_t    w;
    sq_act_text_t   t;
    sq_act_query_t  q;
    redisContext   *c = sq_test_redis_connect(&sq_test_redis, 1);

    ck_assert_int_eq(sq_store_user_create(c, "a@x.org", "A", T_NOW, &a),
                     SQ_OK);
    ck_assert_int_eq(sq_store_user_create(c, "b@x.org", "B", T_NOW, &b),
                     SQ_OK);
    kid = t_key(c, a, SQ_SCOPES_READ);

    t_xadd(c, kid, T_NOW - 30, "10.0.0.1", "", 5);
    t_xadd(c, kid, T_NOW - 20, "10.0.0.2", "forbidden", 2);
    t_xadd(c, kid, T_NOW - 10, "10.0.0.1", "", 1);

    memset(&w, 0, sizeof(w));
    w.uid = a;
    memset(&q, 0, sizeof(q));
    q.limit = 2;
    sq_act_argv(&av, &w, kid, &q, &t);
    ck_assert_int_eq(sq_store_activity_call(c, &av, 0, 0, &d), SQ_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(d, "data")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(
        json_object_get(d, "data"), 0), "time")), T_NOW - 10);
    ck_assert(json_is_string(json_object_get(d, "next_cursor")));
    s = json_object_get(d, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(s, "requests")), 8);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "refused")), 2);
    ck_assert_uint_eq(json_array_size(json_object_get(s, "ips")), 2);
    json_decref(d);

    /* another user's key: not found */
    w.uid = b;
    sq_act_argv(&av, &w, kid, &q, &t);
    ck_assert_int_eq(sq_store_activity_call(c, &av, 0, 0, &d),
                     SQ_ERR_NOTFOUND);
    ck_assert_ptr_null(d);

    /* a limit over the bound does not build */
    w.uid = a;
    q.limit = SQ_ACT_LIMIT_MAX + 1;
    sq_act_argv(&av, &w, kid, &q, &t);
    ck_assert_int_eq(av.failed, 1);

    redisFree(c);
}
END_TEST


/* the ids of the review's list cat */
static int
t_in(json_t *d, const char *cat, uint64_t id)
{
    size_t   i;
    json_t  *k;

    json_array_foreach(json_object_get(d, cat), i, k) {
        if ((uint64_t) json_integer_value(json_object_get(k, "id")) == id) {
            return 1;
        }
    }

    return 0;
}


START_TEST(test_review_notify)
{
    uint64_t       a, b, broad, narrow;
    json_t        *d;
    sq_argv_t      av;
    redisReply    *r;
    sq_key_who_t   w;
    redisContext  *c = sq_test_redis_connect(&sq_test_redis, 1);

    ck_assert_int_eq(sq_store_user_create(c, "a@x.org", "A", T_NOW, &a),
                     SQ_OK);
    ck_assert_int_eq(sq_store_user_create(c, "b@x.org", "B", T_NOW, &b),
                     SQ_OK);
    broad = t_key(c, a, SQ_SCOPES_ALL);
    narrow = t_key(c, a, SQ_SCOPES_READ);

    memset(&w, 0, sizeof(w));
    w.uid = a;

    /* created at T_NOW, read 100 days later: unused and aging */
    sq_review_argv(&av, &w, T_NOW + 100 * 86400, 0, 0);
    ck_assert_int_eq(sq_store_activity_call(c, &av, 1, T_NOW, &d), SQ_OK);
    ck_assert(t_in(d, "broad", broad));
    ck_assert(!t_in(d, "broad", narrow));
    ck_assert(t_in(d, "unused", narrow));
    ck_assert(t_in(d, "aging", narrow));
    ck_assert(!t_in(d, "no_owner", narrow));
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(
        json_object_get(d, "broad"), 0), "owner_id")), (json_int_t) a);
    json_decref(d);

    /* read at creation: neither unused nor aging */
    sq_review_argv(&av, &w, T_NOW, 0, 0);
    ck_assert_int_eq(sq_store_activity_call(c, &av, 1, T_NOW, &d), SQ_OK);
    ck_assert(!t_in(d, "unused", narrow));
    ck_assert(!t_in(d, "aging", narrow));
    json_decref(d);

    /* an owner Alice shares no workspace with: NOUSER */
    sq_own_argv(&av, &w, narrow, b, NULL);
    r = redisCommandArgv(c, av.argc, av.argv, av.lens);
    ck_assert_int_eq(sq_key_reply_rc(r), SQ_ERR_BADREF);
    freeReplyObject(r);

    /* a notice to the owner, then none once the owner is gone */
    sq_notify_argv(&av, &w, narrow, "rotate me", T_NOW);
    ck_assert_int_eq(sq_store_activity_call(c, &av, 0, 0, &d), SQ_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "owner_id")),
                     (json_int_t) a);
    json_decref(d);

    sq_notices_argv(&av, &w, 0);
    ck_assert_int_eq(sq_store_activity_call(c, &av, 0, 0, &d), SQ_OK);
    ck_assert_uint_eq(json_array_size(d), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(d, 0),
                                                       "message")),
                     "rotate me");
    json_decref(d);

    r = redisCommand(c, "DEL sq:user:{u%llu}", (unsigned long long) a);
    freeReplyObject(r);
    sq_notify_argv(&av, &w, narrow, "again", T_NOW);
    ck_assert_int_eq(sq_store_activity_call(c, &av, 0, 0, &d),
                     SQ_ERR_STATE);

    redisFree(c);
}
END_TEST


Suite *
sq_suite_activity(void)
{
    Suite  *s = suite_create("activity");
    TCase  *tc = tcase_create("parse");
    TCase  *tr = sq_test_redis_tcase();

    tcase_add_test(tc, test_time_parse);
    tcase_add_test(tc, test_query_parse);
    suite_add_tcase(s, tc);

    tcase_add_test(tr, test_activity_call);
    tcase_add_test(tr, test_review_notify);
    suite_add_tcase(s, tr);

    return s;
}
