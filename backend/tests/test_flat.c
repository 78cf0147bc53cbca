/*
 * The one-round-trip functions of redis/smartlyq.lua (sq_res_page,
 * sq_res_one, sq_res_insert, sq_res_remove) and the renderer of their
 * flat replies (sq_res_flat.c), which must write exactly what jansson
 * writes for the same record.
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "sq_json.h"
#include "sq_res_flat.h"
#include "tests.h"

#define T_NONCE  "0123456789abcdef0123456789abcdef"


/* sq_flat_string(s) against json_dumps of the same string */
static void
t_same_string(const char *s, size_t len)
{
    char             *want;
    size_t            n;
    json_t           *j;
    struct evbuffer  *b;

    j = json_stringn(s, len);
    ck_assert_ptr_nonnull(j);
    want = json_dumps(j, JSON_ENCODE_ANY);
    json_decref(j);

    b = evbuffer_new();
    ck_assert_int_eq(sq_flat_string(b, s, len), 0);
    n = evbuffer_get_length(b);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_int_eq(memcmp(evbuffer_pullup(b, -1), want, n), 0);

    evbuffer_free(b);
    free(want);
}


START_TEST(test_flat_string)
{
    size_t            i;
    char              all[127];
    struct evbuffer  *b;

    t_same_string("", 0);
    t_same_string("plain", 5);
    t_same_string("q\"b\\s/\n\r\t\b\f\x01\x1f\x7f", 14);
    t_same_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14);

    for (i = 0; i < sizeof(all); i++) {
        all[i] = (char) (i + 1);
    }
    t_same_string(all, sizeof(all));

    b = evbuffer_new();
    ck_assert_int_eq(sq_flat_string(b, "\xc3", 1), -1);       /* cut */
    ck_assert_int_eq(sq_flat_string(b, "\xc0\xaf", 2), -1);   /* overlong */
    ck_assert_int_eq(sq_flat_string(b, "\xed\xa0\x80", 3), -1); /* surrogate */
    ck_assert_int_eq(sq_flat_string(b, "\xff", 1), -1);
    evbuffer_free(b);
}
END_TEST


/* a set-up command; its reply is checked and freed */
static void
t_cmd(redisContext *c, const char *fmt, ...)
{
    va_list      ap;
    redisReply  *r;

    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);

    ck_assert_ptr_nonnull(r);
    ck_assert_int_ne(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
}


static redisReply *
t_fcall(redisContext *c, const char *fmt, ...)
{
    va_list      ap;
    redisReply  *r;

    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);

    ck_assert_ptr_nonnull(r);
    ck_assert_msg(r->type == REDIS_REPLY_ARRAY, "not an array: %s",
                  r->type == REDIS_REPLY_ERROR ? r->str : "?");
    ck_assert_uint_ge(r->elements, 1);

    return r;
}


static void
t_status(redisReply *r, const char *want)
{
    ck_assert_str_eq(r->element[0]->str, want);
    freeReplyObject(r);
}


/* the flat record at v renders as jansson renders the record created */
static void
t_same_record(redisReply **v, const sq_record_t *rec, int test)
{
    char             *want;
    size_t            n;
    json_t           *j;
    uint64_t          id;
    struct evbuffer  *b;

    id = rec->id;
    j = sq_resource_render(&sq_res_articles, rec);
    want = json_dumps(j, 0);
    json_decref(j);

    b = evbuffer_new();
    ck_assert_int_eq(sq_flat_render(b, &sq_res_articles, v, id, 0, test), 0);
    n = evbuffer_get_length(b);
    ck_assert_msg(n == strlen(want)
                  && memcmp(evbuffer_pullup(b, -1), want, n) == 0,
                  "got %.*s want %s", (int) n,
                  (char *) evbuffer_pullup(b, -1), want);

    /* the wrong mode or id is corrupt data */
    evbuffer_drain(b, n);
    ck_assert_int_eq(sq_flat_render(b, &sq_res_articles, v, id, 0, !test),
                     -1);
    ck_assert_int_eq(sq_flat_render(b, &sq_res_articles, v, id + 1, 0,
                                    test), -1);

    evbuffer_free(b);
    free(want);
}


#define T_PAGE  "FCALL_RO sq_res_page 3 %s %s %s %s %s %s live %s " \
                "article %s %s %s title body status"


/*
 * A create's and a patch's rendering, written straight, are the bytes
 * jansson writes from sq_resource_render(): strings with every escape,
 * control bytes, non-ASCII, integers (negative too) and nulls.
 */
START_TEST(test_flat_record_json)
{
    char         *ours, *theirs;
    size_t        i;
    json_t       *obj;
    sq_record_t   rec;
    const char   *titles[] = {
        "plain", "q\"uote b\\ack s/lash", "tab\tnl\ncr\rbs\bff\f",
        "\x01\x1f\x7f", "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xa8", ""
    };

    for (i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
        memset(&rec, 0, sizeof(rec));
        rec.id = 42 + i;
        rec.workspace_id = 7;
        rec.created_at = 1700000000;
        rec.updated_at = 1700000001 + (int64_t) i;
        rec.fields = json_pack("{s:s, s:n}", "title", titles[i], "body");
        ck_assert_ptr_nonnull(rec.fields);

        ours = sq_flat_record_json(&sq_res_articles, &rec);
        obj = sq_resource_render(&sq_res_articles, &rec);
        ck_assert_ptr_nonnull(obj);
        theirs = json_dumps(obj, 0);
        json_decref(obj);

        ck_assert_ptr_nonnull(ours);
        ck_assert_str_eq(ours, theirs);
        free(ours);
        sq_json_str_free(theirs);
        sq_record_clear(&rec);
    }

    /* an integer field, negative too, and an absent one (null) */
    memset(&rec, 0, sizeof(rec));
    rec.id = 1;
    rec.workspace_id = 2;
    rec.fields = json_pack("{s:s, s:s, s:I}", "url", "https://e.com/a.png",
                           "mime_type", "image/png", "size",
                           (json_int_t) -5);
    ours = sq_flat_record_json(&sq_res_images, &rec);
    obj = sq_resource_render(&sq_res_images, &rec);
    theirs = json_dumps(obj, 0);
    json_decref(obj);
    ck_assert_ptr_nonnull(ours);
    ck_assert_str_eq(ours, theirs);
    free(ours);
    sq_json_str_free(theirs);

    /* a type no schema holds is refused, not written */
    json_object_set_new(rec.fields, "size", json_real(1.5));
    ck_assert_ptr_null(sq_flat_record_json(&sq_res_images, &rec));
    sq_record_clear(&rec);
}
END_TEST


START_TEST(test_flat_page)
{
    size_t        i;
    uint64_t      ids[5];
    redisReply   *r;
    sq_record_t   rec, recs[5];
    redisContext *c;

    c = sq_test_redis_connect(&sq_test_redis, 1);

    /* user 7 is in workspaces 1 and 2; 3 is someone else's */
    t_cmd(c, "SADD sq:ws:{w1}:members 7");
    t_cmd(c, "SADD sq:ws:{w2}:members 7");
    t_cmd(c, "ZADD sq:user:{u7}:workspaces "
          "1 1 2 2");

    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(sq_test_record_create(c, &sq_res_articles,
                                               i < 3 ? 1 + i % 2 : 3, 0,
                                               1700000000 + (int64_t) i,
                                               "{\"title\": \"t\\n\\u00e9\"}",
                                               &recs[i]), SQ_OK);
        ids[i] = recs[i].id;
    }
    ck_assert_int_eq(sq_test_record_create(c, &sq_res_articles, 1, 1, 1,
                                           "{\"title\": \"test\"}", &rec),
                     SQ_OK);
    sq_record_clear(&rec);

    /* no workspace named: ws 1 and 2 merged by id, two a page */
    r = t_fcall(c, T_PAGE, "", "", "sq:user:{u7}:workspaces", "7", "", "", "",
                "articles", "0", "2");
    ck_assert_str_eq(r->element[0]->str, "OK");
    ck_assert_uint_eq(r->elements, 2 + 2);
    ck_assert_uint_eq(strtoull(r->element[1]->str, NULL, 10), ids[1]);
    ck_assert_uint_eq(strtoull(r->element[2]->element[0]->str, NULL, 10),
                      ids[0]);
    ck_assert_str_eq(r->element[2]->element[1]->str, "1");
    ck_assert_uint_eq(strtoull(r->element[3]->element[0]->str, NULL, 10),
                      ids[1]);
    ck_assert_str_eq(r->element[3]->element[1]->str, "2");
    t_same_record(r->element[2]->element[2]->element, &recs[0], 0);
    t_same_record(r->element[3]->element[2]->element, &recs[1], 0);
    freeReplyObject(r);

    /* the key limited to ws 2: ws 1's records are not listed */
    r = t_fcall(c, T_PAGE, "", "", "sq:user:{u7}:workspaces", "7", "", "2", "",
                "articles", "0", "20");
    ck_assert_uint_eq(r->elements, 2 + 1);
    ck_assert_str_eq(r->element[1]->str, "0");
    ck_assert_uint_eq(strtoull(r->element[2]->element[0]->str, NULL, 10),
                      ids[1]);
    freeReplyObject(r);

    /* workspace 1 named, after the first id: the third record only */
    r = t_fcall(c, T_PAGE, "", "sq:ws:{w1}:members", "sq:ws:{w1}:articles", "7",
                "1", "", "", "articles", "1", "20");
    ck_assert_uint_eq(r->elements, 2 + 1);
    ck_assert_uint_eq(strtoull(r->element[2]->element[0]->str, NULL, 10),
                      ids[2]);
    freeReplyObject(r);

    /* workspace 3: user 7 is no member */
    t_status(t_fcall(c, T_PAGE, "", "sq:ws:{w3}:members", "sq:ws:{w3}:articles",
                     "7", "3", "", "", "articles", "0", "20"), "FORBIDDEN");

    /* one record: visible in its workspace, 404 elsewhere or for test */
    r = t_fcall(c, "FCALL_RO sq_res_one 3 %s %s "
                "sq:recws:article:%llu 7 %s %s live %s "
                "title body status", "", "",
                (unsigned long long) ids[0], "", "", "");
    ck_assert_uint_eq(r->elements, 2);
    ck_assert_uint_eq(r->element[1]->elements, SQ_FLAT_META + 3);
    t_same_record(r->element[1]->element, &recs[0], 0);
    freeReplyObject(r);

    t_status(t_fcall(c, "FCALL_RO sq_res_one 3 %s %s "
                     "sq:recws:article:%llu 7 %s %s live %s "
                     "title body status", "", "",
                     (unsigned long long) ids[3], "", "", ""), "NOTFOUND");
    t_status(t_fcall(c, "FCALL_RO sq_res_one 3 %s %s "
                     "sq:recws:article:%llu 7 %s %s test %s "
                     "title body status", "", "",
                     (unsigned long long) ids[0], "", "", ""), "NOTFOUND");
    t_status(t_fcall(c, "FCALL_RO sq_res_one 3 %s sq:ws:{w2}:members "
                     "sq:recws:article:%llu 7 2 %s live %s "
                     "title body status", "",
                     (unsigned long long) ids[0], "", ""), "NOTFOUND");

    for (i = 0; i < 5; i++) {
        sq_record_clear(&recs[i]);
    }
    redisFree(c);
}
END_TEST


/* times rendered without strftime: the same text as with it */
START_TEST(test_flat_times)
{
    size_t         i;
    redisReply    *r;
    sq_record_t    rec;
    redisContext  *c;
    static const int64_t  times[] = {
        0, 59, 86399, 86400, 951782400, 951868799, 978307200,
        1700000000, 2147483647, 4102444799, 4107542400, 253402300799
    };

    c = sq_test_redis_connect(&sq_test_redis, 1);

    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        ck_assert_int_eq(sq_test_record_create(c, &sq_res_articles, 1, 0,
                                               times[i], "{\"title\": \"x\"}",
                                               &rec), SQ_OK);

        r = t_fcall(c, "FCALL_RO sq_res_one 3 %s %s "
                    "sq:recws:article:%llu 7 1 %s live %s "
                    "title body status", "", "",
                    (unsigned long long) rec.id, "", "");
        ck_assert_uint_eq(r->elements, 2);
        t_same_record(r->element[1]->element, &rec, 0);
        freeReplyObject(r);
        sq_record_clear(&rec);
    }

    redisFree(c);
}
END_TEST


#define T_INSERT  "FCALL sq_res_insert 3 sq:nonce:%s %s %s 7 %s %s live 60 " \
                  "url urls url_slugs %s 1700000000 %s target %s slug %s " \
                  "clicks 0"


START_TEST(test_flat_writes)
{
    redisReply   *r;
    redisContext *c;

    c = sq_test_redis_connect(&sq_test_redis, 1);

    t_cmd(c, "SADD sq:ws:{w1}:members 7");
    t_cmd(c, "HSET sq:user:{u7} "
          "primary_workspace_id 1");

    /* no workspace named: the primary one; the nonce is claimed */
    r = t_fcall(c, T_INSERT, T_NONCE "1", "",
                "", "", "", "s1", "", "https://a.example", "s1");
    ck_assert_str_eq(r->element[0]->str, "OK");
    ck_assert_str_eq(r->element[2]->str, "1");
    freeReplyObject(r);

    r = redisCommand(c, "TTL sq:nonce:" T_NONCE "1");
    ck_assert_int_gt(r->integer, 0);
    freeReplyObject(r);

    /* the same nonce again: a replay, nothing written */
    t_status(t_fcall(c, T_INSERT, T_NONCE "1", "",
                     "", "", "", "s2", "", "https://b.example", "s2"),
             "REPLAY");

    /* a taken slug does not use the nonce: the retry goes through */
    t_status(t_fcall(c, T_INSERT, T_NONCE "2", "sq:ws:{w1}:members", "",
                     "1", "", "s1", "", "https://c.example", "s1"), "TAKEN");
    t_status(t_fcall(c, T_INSERT, T_NONCE "2", "sq:ws:{w1}:members", "",
                     "1", "", "s3", "", "https://c.example", "s3"), "OK");

    /* outside the key's list, not a member, no primary */
    t_status(t_fcall(c, T_INSERT, T_NONCE "3", "",
                     "", "", "5", "s4", "", "https://d.example", "s4"),
             "WSKEY");
    t_status(t_fcall(c, T_INSERT, T_NONCE "3", "sq:ws:{w9}:members", "",
                     "9", "", "s4", "", "https://d.example", "s4"),
             "FORBIDDEN");
    t_cmd(c, "HDEL sq:user:{u7} "
          "primary_workspace_id");
    t_status(t_fcall(c, T_INSERT, T_NONCE "3", "",
                     "", "", "", "s4", "", "https://d.example", "s4"),
             "NOPRIMARY");

    /* delete: a replayed nonce, then the record goes with its slug */
    t_status(t_fcall(c, "FCALL sq_res_remove 3 sq:nonce:%s %s "
                     "sq:recws:url:1 7 %s %s live 60 urls slug url_slugs",
                     T_NONCE "1", "", "", ""), "REPLAY");
    r = t_fcall(c, "FCALL sq_res_remove 3 sq:nonce:%s %s "
                "sq:recws:url:1 7 %s %s live 60 urls slug url_slugs",
                T_NONCE "4", "", "", "");
    ck_assert_str_eq(r->element[0]->str, "OK");
    freeReplyObject(r);

    r = redisCommand(c, "EXISTS sq:ws:{w1}:rec:url:1 sq:recws:url:1 "
                     "sq:ws:{w1}:url_slugs:s1");
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);
    r = redisCommand(c, "HEXISTS sq:ws:{w1}:url_slugs s1");
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);

    t_status(t_fcall(c, "FCALL sq_res_remove 3 sq:nonce:%s %s "
                     "sq:recws:url:1 7 %s %s live 60 urls slug url_slugs",
                     T_NONCE "5", "", "", ""), "NOTFOUND");

    redisFree(c);
}
END_TEST


#define T_URLS  "FCALL_RO sq_res_page 3 %s %s sq:ws:{w1}:urls 7 1 %s live %s " \
                "url urls 0 20 target"


/*
 * A page returns the rendering sq_res_insert stored behind the drawn id
 * and workspace (in the index's rendering hash); a record without one (or
 * whose update dropped it) is returned as its fields; a page whose
 * records all have one comes joined.
 */
START_TEST(test_flat_stored)
{
    redisReply   *r;
    redisContext *c;

    c = sq_test_redis_connect(&sq_test_redis, 1);

    t_cmd(c, "SADD sq:ws:{w1}:members 7");

    freeReplyObject(t_fcall(c, "FCALL sq_res_insert 3 sq:nonce:%s %s %s 7 "
                            "%s %s live 60 url urls %s %s 1700000000 %s "
                            "target %s", T_NONCE "s1", "sq:ws:{w1}:members",
                            "", "1", "", "", "", ", \"x\": 1}",
                            "https://a.example"));
    freeReplyObject(t_fcall(c, "FCALL sq_res_insert 3 sq:nonce:%s %s %s 7 "
                            "%s %s live 60 url urls %s %s 1700000000 %s "
                            "target %s", T_NONCE "s2", "sq:ws:{w1}:members",
                            "", "1", "", "", "", "", "https://b.example"));

    r = t_fcall(c, T_URLS, "", "sq:ws:{w1}:members", "", "");
    ck_assert_uint_eq(r->elements, 2 + 2);
    ck_assert_int_eq(r->element[2]->element[2]->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(r->element[2]->element[2]->str,
                     "{\"id\": 1, \"workspace_id\": 1, \"x\": 1}");
    ck_assert_int_eq(r->element[3]->element[2]->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);

    /* an update (sqctl's, or PATCH's) drops it */
    t_cmd(c, "FCALL sq_res_update 4 sq:ws:{w1}:rec:url:1 %s %s "
          "sq:ws:{w1}:urls:json 1 1 "
          "%s %s 0 target https://c.example", "", "", "", "");
    r = t_fcall(c, T_URLS, "", "sq:ws:{w1}:members", "", "");
    ck_assert_int_eq(r->element[2]->element[2]->type, REDIS_REPLY_ARRAY);
    ck_assert_str_eq(r->element[2]->element[2]->element[SQ_FLAT_META]->str,
                     "https://c.example");
    freeReplyObject(r);

    /* PATCH's write stores the merged record's rendering again */
    freeReplyObject(t_fcall(c, "FCALL sq_res_modify 6 sq:nonce:%s %s "
                            "sq:ws:{w1}:rec:url:1 %s %s "
                            "sq:ws:{w1}:urls:json 7 1 %s live 60 "
                            "%s 1 1 %s %s 0 target https://d.example",
                            T_NONCE "s3",
                            "sq:ws:{w1}:members", "", "", "", "{\"id\": 1, "
                            "\"workspace_id\": 1, \"y\": 2}", "", ""));
    r = t_fcall(c, T_URLS, "", "sq:ws:{w1}:members", "", "");
    ck_assert_str_eq(r->element[2]->element[2]->str,
                     "{\"id\": 1, \"workspace_id\": 1, \"y\": 2}");
    freeReplyObject(r);

    /*
     * every record of the workspace's page rendered: the ids as the index
     * holds them, joined, and the renderings as stored, unchecked (the
     * backend checks them: sq_res_page_each)
     */
    t_cmd(c, "HSET sq:ws:{w1}:urls:json 2 %s", "{\"id\": 2, \"z\": 3}");
    r = t_fcall(c, T_URLS, "", "sq:ws:{w1}:members", "", "");
    ck_assert_uint_eq(r->elements, 5);
    ck_assert_str_eq(r->element[1]->str, "0");
    ck_assert_str_eq(r->element[2]->str, "EACH");
    ck_assert_str_eq(r->element[3]->str, "1,2");
    ck_assert_uint_eq(r->element[4]->elements, 2);
    ck_assert_str_eq(r->element[4]->element[0]->str,
                     "{\"id\": 1, \"workspace_id\": 1, \"y\": 2}");
    ck_assert_str_eq(r->element[4]->element[1]->str, "{\"id\": 2, \"z\": 3}");
    freeReplyObject(r);

    /* one a page: the next page's first id */
    r = t_fcall(c, "FCALL_RO sq_res_page 3 %s %s sq:ws:{w1}:urls 7 1 %s "
                "live %s url urls 0 1 target", "", "sq:ws:{w1}:members", "",
                "");
    ck_assert_uint_eq(r->elements, 5);
    ck_assert_str_eq(r->element[1]->str, "1");
    ck_assert_str_eq(r->element[3]->str, "1");
    ck_assert_uint_eq(r->element[4]->elements, 1);
    freeReplyObject(r);

    redisFree(c);
}
END_TEST


START_TEST(test_flat_me)
{
    redisReply   *r;
    redisContext *c;

    c = sq_test_redis_connect(&sq_test_redis, 1);

    t_cmd(c, "HSET sq:user:{u7} id 7 email a@b.c "
          "name A primary_workspace_id 2");
    t_cmd(c, "ZADD sq:user:{u7}:workspaces 1 1 "
          "2 2");
    t_cmd(c, "HSET sq:ws:{w2} name Two");
    t_cmd(c, "SADD sq:ws:{w2}:members 7");

    r = t_fcall(c, "FCALL_RO sq_me 4 %s %s sq:user:{u7} "
                "sq:user:{u7}:workspaces 7 %s %s live %s", "", "", "", "", "");
    ck_assert_uint_eq(r->elements, 3);
    ck_assert_uint_eq(r->element[1]->elements, 4);
    ck_assert_str_eq(r->element[1]->element[1]->str, "a@b.c");
    ck_assert_str_eq(r->element[1]->element[3]->str, "2");
    ck_assert_uint_eq(r->element[2]->elements, 4);
    ck_assert_str_eq(r->element[2]->element[0]->str, "1");
    ck_assert_int_eq(r->element[2]->element[1]->type, REDIS_REPLY_NIL);
    ck_assert_str_eq(r->element[2]->element[3]->str, "Two");
    freeReplyObject(r);

    /* the identity's workspace is re-checked */
    t_status(t_fcall(c, "FCALL_RO sq_me 4 %s sq:ws:{w1}:members sq:user:{u7} "
                     "sq:user:{u7}:workspaces 7 1 %s live %s", "", "", ""),
             "FORBIDDEN");

    redisFree(c);
}
END_TEST


Suite *
sq_suite_flat(void)
{
    Suite  *s;
    TCase  *tc, *tr;

    s = suite_create("flat");

    tc = tcase_create("render");
    tcase_add_test(tc, test_flat_string);
    suite_add_tcase(s, tc);

    tr = sq_test_redis_tcase();
    tcase_add_test(tr, test_flat_page);
    tcase_add_test(tc, test_flat_record_json);
    tcase_add_test(tr, test_flat_writes);
    tcase_add_test(tr, test_flat_stored);
    tcase_add_test(tr, test_flat_me);
    tcase_add_test(tr, test_flat_times);
    suite_add_tcase(s, tr);

    return s;
}
