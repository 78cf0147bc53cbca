/*
 * Store round trips against a private redis-server: keys (shape, only
 * the digest stored, sq_authz agrees), memberships, social accounts.
 */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sq_argv.h"
#include "sq_identity.h"
#include "sq_keygen.h"
#include "sq_keys.h"
#include "sq_redis.h"
#include "sq_res_flat.h"
#include "sq_store.h"
#include "tests.h"

#define T_NOW        1795000000

static const uint8_t  t_pepper[SQ_SECRET_BYTES] = { 7, 7, 7 };


static uint64_t
t_user(redisContext *c, const char *email)
{
    uint64_t  id;

    ck_assert_int_eq(sq_store_user_create(c, email, "Test User", T_NOW,
                                          &id), SQ_OK);
    return id;
}


static redisReply *
t_cmd(redisContext *c, const char *fmt, const char *arg)
{
    redisReply  *r = redisCommand(c, fmt, arg);

    ck_assert_ptr_nonnull(r);
    ck_assert_int_ne(r->type, REDIS_REPLY_ERROR);

    return r;
}


/* No key or string/hash value in the whole database contains needle. */
static void
t_assert_absent(redisContext *c, const char *needle)
{
    size_t       i, j;
    redisReply  *keys, *v;

    keys = t_cmd(c, "KEYS %s", "*");

    for (i = 0; i < keys->elements; i++) {
        const char  *k = keys->element[i]->str;

        ck_assert_ptr_null(strstr(k, needle));
        v = redisCommand(c, "TYPE %s", k);
        ck_assert_ptr_nonnull(v);

        if (strcmp(v->str, "string") == 0) {
            freeReplyObject(v);
            v = t_cmd(c, "GET %s", k);
            ck_assert_ptr_null(strstr(v->str, needle));
        } else if (strcmp(v->str, "hash") == 0) {
            freeReplyObject(v);
            v = t_cmd(c, "HGETALL %s", k);
            for (j = 0; j < v->elements; j++) {
                ck_assert_ptr_null(strstr(v->element[j]->str, needle));
            }
        }

        freeReplyObject(v);
    }

    freeReplyObject(keys);
}


START_TEST(test_key_shape)
{
    int       seen[256] = { 0 }, i, j, distinct;
    char      key[SQ_KEY_GEN_LEN + 1], prev[SQ_KEY_GEN_LEN + 1] = "";

    distinct = 0;

    for (i = 0; i < 300; i++) {
        ck_assert_int_eq(sq_key_generate(i & 2 ? SQ_KEY_PUBLISHABLE
                                                : SQ_KEY_SECRET,
                                          i & 1 ? SQ_KEY_TEST : SQ_KEY_LIVE,
                                          key, sizeof(key)), 0);
        ck_assert_uint_eq(strlen(key), SQ_KEY_PREFIX_LEN + SQ_KEY_BODY_GEN);
        ck_assert_int_eq(sq_key_shape(key, strlen(key)),
                         i & 1 ? SQ_KEY_TEST : SQ_KEY_LIVE);
        ck_assert_int_eq(sq_key_type(key), i & 2 ? SQ_KEY_PUBLISHABLE
                                                 : SQ_KEY_SECRET);
        ck_assert_str_ne(key, prev);
        memcpy(prev, key, sizeof(key));

        for (j = SQ_KEY_PREFIX_LEN; j < SQ_KEY_GEN_LEN; j++) {
            seen[(unsigned char) key[j]]++;
        }
    }

    for (i = 0; i < 256; i++) {
        distinct += seen[i] > 0;
    }
    ck_assert_int_eq(distinct, 62);
    ck_assert_int_eq(sq_key_generate(SQ_KEY_SECRET, SQ_KEY_LIVE, key, 10),
                     -1);

    sq_key_mask(SQ_KEY_SECRET, SQ_KEY_LIVE, "a1b2", key, sizeof(key));
    ck_assert_str_eq(key, "sqk_live_\xe2\x80\xa6" "a1b2");
    sq_key_mask(SQ_KEY_PUBLISHABLE, SQ_KEY_TEST, "zz99", key, sizeof(key));
    ck_assert_str_eq(key, "sqp_test_\xe2\x80\xa6" "zz99");
}
END_TEST


static void
t_check_key_record(redisContext *c, const char *key, uint64_t id,
    uint64_t uid)
{
    char         digest[SQ_DIGEST_HEX_LEN + 1], num[32];
    redisReply  *r;

    sq_key_digest_hex(t_pepper, key, strlen(key), digest);

    r = redisCommand(c, "HMGET sq:key:{%s} id user_id mode status "
                     "expires_at name created_at last4 type scopes "
                     "workspaces sunset_at", digest);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->elements, 12);
    snprintf(num, sizeof(num), "%llu", (unsigned long long) id);
    ck_assert_str_eq(r->element[0]->str, num);
    snprintf(num, sizeof(num), "%llu", (unsigned long long) uid);
    ck_assert_str_eq(r->element[1]->str, num);
    ck_assert_str_eq(r->element[2]->str, "test");
    ck_assert_str_eq(r->element[3]->str, "active");
    ck_assert_str_eq(r->element[4]->str, "0");
    ck_assert_str_eq(r->element[5]->str, "ci");
    ck_assert_str_eq(r->element[6]->str, "1795000000");
    ck_assert_str_eq(r->element[7]->str, key + strlen(key) - 4);
    ck_assert_str_eq(r->element[8]->str, "secret");
    ck_assert_str_eq(r->element[9]->str, "social:read urls:write");
    ck_assert_str_eq(r->element[10]->str, "");
    ck_assert_str_eq(r->element[11]->str, "0");
    freeReplyObject(r);

    r = redisCommand(c, "GET sq:keyid:%llu", (unsigned long long) id);
    ck_assert_str_eq(r->str, digest);
    freeReplyObject(r);

    r = redisCommand(c, "SISMEMBER sq:user:{u%llu}:keys %llu",
                     (unsigned long long) uid, (unsigned long long) id);
    ck_assert_int_eq(r->integer, 1);
    freeReplyObject(r);
}


/* FCALL sq_authz with the key's digest; returns the code in out. */
static void
t_authz(redisContext *c, const char *key, const char *ws, char *out,
    size_t outlen)
{
    char         digest[SQ_DIGEST_HEX_LEN + 1];
    redisReply  *r;

    sq_key_digest_hex(t_pepper, key, strlen(key), digest);
    r = redisCommand(c, "FCALL sq_authz 2 sq:key:{%s} %s %d", digest, ws,
                     T_NOW);
    ck_assert_ptr_nonnull(r);
    /* "code|user_id|...", or "UNKNOWN" */
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    snprintf(out, outlen, "%.*s", (int) strcspn(r->str, "|"), r->str);
    freeReplyObject(r);
}


START_TEST(test_key_create_stores_digest_only)
{
    char             key[SQ_KEY_GEN_LEN + 1], code[32];
    size_t           n;
    uint64_t         uid, id, wid, next;
    sq_key_t         k, *keys;
    redisContext    *c = sq_test_redis_connect(&sq_test_redis, 1);

    uid = t_user(c, "k@example.com");
    ck_assert_int_eq(sq_store_ws_create(c, uid, "W", T_NOW, &wid), SQ_OK);
    memset(&k, 0, sizeof(k));
    k.user_id = uid;
    k.mode = SQ_KEY_TEST;
    k.scopes = SQ_SCOPE_BIT(SQ_SC_SOCIAL_READ)
               | SQ_SCOPE_BIT(SQ_SC_URLS_WRITE);
    memcpy(k.name, "ci", 3);
    ck_assert_int_eq(sq_store_key_create(c, t_pepper, &k, T_NOW, key,
                                         sizeof(key)), SQ_OK);
    id = k.id;
    ck_assert_int_eq(sq_key_shape(key, strlen(key)), SQ_KEY_TEST);
    t_check_key_record(c, key, id, uid);
    t_assert_absent(c, key + SQ_KEY_PREFIX_LEN);
    t_assert_absent(c, key + SQ_KEY_PREFIX_LEN + 8);

    sq_test_redis_load_functions(c);

    t_authz(c, key, "sq:ws:{w1}:members", code, sizeof(code));
    ck_assert_str_eq(code, "OK");
    t_authz(c, key, "sq:ws:{w2}:members", code, sizeof(code));
    ck_assert_str_eq(code, "FORBIDDEN");
    ck_assert_int_eq(sq_store_key_set_status(c, id, 0, "disabled"), SQ_OK);
    t_authz(c, key, "", code, sizeof(code));
    ck_assert_str_eq(code, "DISABLED");
    ck_assert_int_eq(sq_store_key_set_status(c, id + 1, 0, "active"),
                     SQ_ERR_NOTFOUND);

    ck_assert_int_eq(sq_store_key_list(c, uid, 0, 10, &keys, &n, &next),
                     SQ_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(next, 0);
    ck_assert_str_eq(keys[0].status, "disabled");
    ck_assert_str_eq(keys[0].last4, key + SQ_KEY_GEN_LEN - 4);
    free(keys);

    k.user_id = uid + 10;
    ck_assert_int_eq(sq_store_key_create(c, t_pepper, &k, T_NOW, key,
                                         sizeof(key)), SQ_ERR_NOTFOUND);
    redisFree(c);
}
END_TEST


static uint64_t
t_primary(redisContext *c, uint64_t uid)
{
    sq_user_t  u;

    ck_assert_int_eq(sq_store_user_get(c, uid, &u), SQ_OK);

    return u.primary_workspace_id;
}


static int
t_member(redisContext *c, uint64_t wid, uint64_t uid)
{
    int          m;
    redisReply  *r;

    ck_assert_int_eq(sq_store_is_member(c, wid, uid, &m), SQ_OK);
    r = redisCommand(c, "ZSCORE sq:user:{u%llu}:workspaces %llu",
                     (unsigned long long) uid, (unsigned long long) wid);
    ck_assert_int_eq(r->type == REDIS_REPLY_STRING, m);   /* in step */
    freeReplyObject(r);

    return m;
}


START_TEST(test_membership)
{
    uint64_t       a, b, w1, w2;
    redisReply    *r;
    redisContext  *c = sq_test_redis_connect(&sq_test_redis, 0);

    a = t_user(c, "a@example.com");
    b = t_user(c, "b@example.com");
    ck_assert_int_eq(sq_store_ws_create(c, 99, "X", T_NOW, &w1),
                     SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_ws_create(c, a, "One", T_NOW, &w1), SQ_OK);
    ck_assert_int_eq(sq_store_ws_create(c, a, "Two", T_NOW, &w2), SQ_OK);
    ck_assert_uint_eq(t_primary(c, a), w1);
    ck_assert_uint_eq(t_primary(c, b), 0);

    ck_assert_int_eq(sq_store_member_add(c, w2, b), SQ_OK);
    ck_assert_int_eq(t_member(c, w2, b), 1);
    ck_assert_uint_eq(t_primary(c, b), w2);
    ck_assert_int_eq(sq_store_member_add(c, w2 + 5, b), SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_member_add(c, w2, b + 5), SQ_ERR_NOTFOUND);

    /* a's workspaces, in order, and their names */
    r = redisCommand(c, "ZRANGE sq:user:{u%llu}:workspaces 0 -1",
                     (unsigned long long) a);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 2);
    ck_assert_uint_eq(strtoull(r->element[0]->str, NULL, 10), w1);
    ck_assert_uint_eq(strtoull(r->element[1]->str, NULL, 10), w2);
    freeReplyObject(r);
    r = redisCommand(c, "HMGET sq:ws:{w%llu} name", (unsigned long long) w1);
    ck_assert_str_eq(r->element[0]->str, "One");
    freeReplyObject(r);
    r = redisCommand(c, "HMGET sq:ws:{w%llu} name", (unsigned long long) w2);
    ck_assert_str_eq(r->element[0]->str, "Two");
    freeReplyObject(r);

    ck_assert_int_eq(sq_store_member_remove(c, w1, a), SQ_OK);
    ck_assert_int_eq(t_member(c, w1, a), 0);
    ck_assert_uint_eq(t_primary(c, a), w2);
    ck_assert_int_eq(sq_store_member_remove(c, w1, a), SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_member_remove(c, w2, a), SQ_OK);
    ck_assert_uint_eq(t_primary(c, a), 0);
    ck_assert_int_eq(t_member(c, w2, b), 1);
    redisFree(c);
}
END_TEST


/*
 * One page of social accounts as the API reads it (sq_res_page): user
 * u's, in workspace wid or (0) over all u's workspaces, ids after after.
 */
static redisReply *
t_accounts_page(redisContext *c, uint64_t u, uint64_t wid, uint64_t after)
{
    size_t                i;
    sq_argv_t             a;
    redisReply           *r;
    const sq_resource_t  *res = &sq_res_social_accounts;

    memset(&a, 0, offsetof(sq_argv_t, buf));
    sq_argv_str(&a, "FCALL_RO");
    sq_argv_str(&a, "sq_res_page");
    sq_argv_str(&a, "3");
    sq_argv_str(&a, "");
    if (wid != 0) {
        sq_argv_fmt(&a, SQ_K_WS_MEMBERS, (unsigned long long) wid);
        sq_argv_fmt(&a, SQ_K_WS_INDEX, (unsigned long long) wid, "",
                    res->plural);
    } else {
        sq_argv_str(&a, "");
        sq_argv_fmt(&a, SQ_K_USER_WORKSPACES, (unsigned long long) u);
    }
    sq_argv_u64(&a, u);
    if (wid != 0) {
        sq_argv_u64(&a, wid);
    } else {
        sq_argv_str(&a, "");
    }
    sq_argv_str(&a, "");
    sq_argv_str(&a, "live");
    sq_argv_str(&a, "");
    sq_argv_str(&a, res->name);
    sq_argv_str(&a, res->plural);
    sq_argv_u64(&a, after);
    sq_argv_str(&a, "100");
    for (i = 0; i < res->nfields; i++) {
        sq_argv_str(&a, res->fields[i].name);
    }
    ck_assert(!a.failed);

    r = redisCommandArgv(c, a.argc, a.argv, a.lens);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_ge(r->elements, 2);
    ck_assert_str_eq(r->element[0]->str, "OK");

    return r;
}


/* the id of a page's record i, and its workspace */
static uint64_t
t_page_id(const redisReply *r, size_t i, int wid)
{
    return strtoull(r->element[2 + i]->element[wid ? 1 : 0]->str, NULL, 10);
}


START_TEST(test_social_accounts)
{
    int            i;
    uint64_t       u, w[2];
    redisReply    *r;
    sq_social_t    s;
    sq_record_t    rec;
    redisContext  *c = sq_test_redis_connect(&sq_test_redis, 1);

    u = t_user(c, "s@example.com");
    ck_assert_int_eq(sq_store_ws_create(c, u, "A", T_NOW, &w[0]), SQ_OK);
    ck_assert_int_eq(sq_store_ws_create(c, u, "B", T_NOW, &w[1]), SQ_OK);

    for (i = 0; i < 120; i++) {
        ck_assert_int_eq(sq_store_social_create(c, w[i % 2], "twitter",
                                                "@h", T_NOW, &s), SQ_OK);
        ck_assert_uint_eq(s.id, (uint64_t) i + 1);
    }

    ck_assert_int_eq(sq_store_social_create(c, w[0], "myspace", "@h",
                                            T_NOW, &s), SQ_ERR_INVALID);
    ck_assert_int_eq(sq_store_social_create(c, w[0], "twitter", "",
                                            T_NOW, &s), SQ_ERR_INVALID);

    /* what sqctl writes, the API reads */
    r = t_accounts_page(c, u, 0, 0);
    ck_assert_uint_eq(r->elements, 2 + 100);
    ck_assert_str_eq(r->element[1]->str, "100");
    for (i = 0; i < 100; i++) {
        ck_assert_uint_eq(t_page_id(r, (size_t) i, 0), (uint64_t) i + 1);
    }
    ck_assert_uint_eq(t_page_id(r, 1, 1), w[1]);
    ck_assert_int_eq(sq_flat_record(&sq_res_social_accounts,
                                    r->element[2]->element[2]->element, 1,
                                    &rec), 0);
    ck_assert_str_eq(json_string_value(json_object_get(rec.fields,
                                                       "platform")),
                     "twitter");
    ck_assert_int_eq(rec.created_at, T_NOW);
    sq_record_clear(&rec);
    freeReplyObject(r);

    r = t_accounts_page(c, u, w[1], 100);
    ck_assert_uint_eq(r->elements, 2 + 10);
    ck_assert_str_eq(r->element[1]->str, "0");
    ck_assert_uint_eq(t_page_id(r, 0, 0), 102);
    freeReplyObject(r);
    redisFree(c);
}
END_TEST


Suite *
sq_suite_store(void)
{
    Suite  *s = suite_create("store");
    TCase  *tc = sq_test_redis_tcase();

    tcase_add_test(tc, test_key_shape);
    tcase_add_test(tc, test_key_create_stores_digest_only);
    tcase_add_test(tc, test_membership);
    tcase_add_test(tc, test_social_accounts);
    suite_add_tcase(s, tc);

    return s;
}
