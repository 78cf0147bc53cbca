/*
 * The generic record store against a private redis-server with the
 * function library loaded: create/get/update/delete, the unique slug
 * index, references across workspaces, null fields, and paging across
 * workspaces with writes between pages.
 */

#include <stdlib.h>
#include <string.h>

#include "sq_redis.h"
#include "sq_store.h"
#include "tests.h"

#define T_NOW        1795000000

/* a record of res in wid from a JSON object of its fields */
static sq_rc_t
t_create(redisContext *c, const sq_resource_t *res, uint64_t wid,
    const char *json, sq_record_t *rec)
{
    return sq_test_record_create(c, res, wid, 0, T_NOW, json, rec);
}


static uint64_t
t_new(redisContext *c, const sq_resource_t *res, uint64_t wid,
    const char *json)
{
    uint64_t     id;
    sq_record_t  rec;

    ck_assert_int_eq(t_create(c, res, wid, json, &rec), SQ_OK);
    id = rec.id;
    sq_record_clear(&rec);

    return id;
}


static const char *
t_str(const sq_record_t *rec, const char *name)
{
    return json_string_value(json_object_get(rec->fields, name));
}


START_TEST(test_crud)
{
    uint64_t       id;
    redisContext  *c = sq_test_redis_connect(&sq_test_redis, 1);
    sq_record_t    rec, got;

    ck_assert_int_eq(t_create(c, &sq_res_chatbots, 4, "{\"name\": \"Bot\", "
                              "\"model\": \"m-1\"}", &rec), SQ_OK);
    ck_assert_uint_eq(rec.id, 1);
    id = rec.id;
    sq_record_clear(&rec);
    ck_assert_uint_eq(t_new(c, &sq_res_chatbots, 4, "{\"name\": \"B2\", "
                            "\"model\": \"m\"}"), 2);

    ck_assert_int_eq(sq_store_res_get(c, &sq_res_chatbots, id, &got), SQ_OK);
    ck_assert_uint_eq(got.workspace_id, 4);
    ck_assert_int_eq(got.created_at, T_NOW);
    ck_assert_str_eq(t_str(&got, "name"), "Bot");
    ck_assert_str_eq(t_str(&got, "instructions"), "");

    json_object_set_new(got.fields, "name", json_string("Renamed"));
    got.updated_at = T_NOW + 5;
    ck_assert_int_eq(sq_store_res_update(c, &sq_res_chatbots, &got, 0),
                     SQ_OK);
    got.workspace_id = 5;       /* a record never moves */
    ck_assert_int_eq(sq_store_res_update(c, &sq_res_chatbots, &got, 0),
                     SQ_ERR_NOTFOUND);
    sq_record_clear(&got);

    ck_assert_int_eq(sq_store_res_get(c, &sq_res_chatbots, id, &got), SQ_OK);
    ck_assert_str_eq(t_str(&got, "name"), "Renamed");
    ck_assert_int_eq(got.updated_at, T_NOW + 5);
    ck_assert_int_eq(got.created_at, T_NOW);
    ck_assert_uint_eq(got.workspace_id, 4);

    ck_assert_int_eq(sq_store_res_delete(c, &sq_res_chatbots, id, 5, 0),
                     SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_res_delete(c, &sq_res_chatbots, id, 4, 0),
                     SQ_OK);
    ck_assert_int_eq(sq_store_res_delete(c, &sq_res_chatbots, id, 4, 0),
                     SQ_ERR_NOTFOUND);
    /* an update racing the delete does not bring the record back */
    ck_assert_int_eq(sq_store_res_update(c, &sq_res_chatbots, &got, 0),
                     SQ_ERR_NOTFOUND);
    sq_record_clear(&got);
    ck_assert_int_eq(sq_store_res_get(c, &sq_res_chatbots, id, &got),
                     SQ_ERR_NOTFOUND);
    ck_assert_int_eq(sq_store_res_get(c, &sq_res_articles, 2, &got),
                     SQ_ERR_NOTFOUND);
    redisFree(c);
}
END_TEST


START_TEST(test_slugs)
{
    redisContext  *c = sq_test_redis_connect(&sq_test_redis, 1);
    sq_record_t    rec, got;
    uint64_t       a;
    redisReply    *r;

    a = t_new(c, &sq_res_urls, 1, "{\"target\": \"http://a.org\", "
              "\"slug\": \"go\"}");
    ck_assert_int_eq(t_create(c, &sq_res_urls, 1, "{\"target\": "
                              "\"http://b.org\", \"slug\": \"go\"}", &rec),
                     SQ_ERR_TAKEN);
    sq_record_clear(&rec);
    /* another workspace has its own slugs */
    t_new(c, &sq_res_urls, 2, "{\"target\": \"http://b.org\", \"slug\": "
          "\"go\"}");
    ck_assert_int_eq(t_create(c, &sq_res_urls, 1, "{\"target\": "
                              "\"http://b.org\"}", &rec), SQ_OK);
    ck_assert_uint_eq(strlen(t_str(&rec, "slug")), 8);
    ck_assert_int_eq(json_integer_value(json_object_get(rec.fields,
                                                        "clicks")), 0);
    sq_record_clear(&rec);

    /* renaming frees the old slug; deleting frees the new one */
    ck_assert_int_eq(sq_store_res_get(c, &sq_res_urls, a, &got), SQ_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(got.fields,
                                                        "clicks")), 0);
    json_object_set_new(got.fields, "slug", json_string("went"));
    ck_assert_int_eq(sq_store_res_update(c, &sq_res_urls, &got, 0), SQ_OK);
    sq_record_clear(&got);
    t_new(c, &sq_res_urls, 1, "{\"target\": \"http://c.org\", \"slug\": "
          "\"go\"}");
    ck_assert_int_eq(sq_store_res_get(c, &sq_res_urls, a, &got), SQ_OK);
    json_object_set_new(got.fields, "slug", json_string("go"));
    ck_assert_int_eq(sq_store_res_update(c, &sq_res_urls, &got, 0),
                     SQ_ERR_TAKEN);
    sq_record_clear(&got);
    ck_assert_int_eq(sq_store_res_delete(c, &sq_res_urls, a, 1, 0), SQ_OK);
    t_new(c, &sq_res_urls, 1, "{\"target\": \"http://d.org\", \"slug\": "
          "\"went\"}");

    r = redisCommand(c, "HLEN sq:ws:1:url_slugs");
    ck_assert_int_eq(r->integer, 3);        /* go, went, the random one */
    freeReplyObject(r);
    redisFree(c);
}
END_TEST


START_TEST(test_references_and_nulls)
{
    uint64_t       mine, theirs, post, m;
    redisContext  *c = sq_test_redis_connect(&sq_test_redis, 1);
    sq_record_t    rec, got;
    redisReply    *r;

    mine = t_new(c, &sq_res_social_accounts, 1, "{\"platform\": "
                 "\"twitter\", \"handle\": \"@a\"}");
    theirs = t_new(c, &sq_res_social_accounts, 2, "{\"platform\": "
                   "\"twitter\", \"handle\": \"@b\"}");

    ck_assert_int_eq(t_create(c, &sq_res_social_posts, 1, "{\"account_id\": "
                              "2, \"text\": \"x\"}", &rec), SQ_ERR_BADREF);
    sq_record_clear(&rec);
    ck_assert_int_eq(t_create(c, &sq_res_social_posts, 1, "{\"account_id\": "
                              "99, \"text\": \"x\"}", &rec), SQ_ERR_BADREF);
    sq_record_clear(&rec);
    ck_assert_uint_eq(theirs, 2);
    post = t_new(c, &sq_res_social_posts, 1, "{\"account_id\": 1, "
                 "\"text\": \"x\", \"status\": \"scheduled\", "
                 "\"scheduled_at\": \"2030-01-01T00:00:00Z\"}");

    ck_assert_int_eq(sq_store_res_get(c, &sq_res_social_posts, post, &got),
                     SQ_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(got.fields,
                                                        "account_id")),
                     (json_int_t) mine);
    ck_assert_str_eq(t_str(&got, "scheduled_at"), "2030-01-01T00:00:00Z");
    json_object_set_new(got.fields, "account_id", json_integer(2));
    ck_assert_int_eq(sq_store_res_update(c, &sq_res_social_posts, &got, 1),
                     SQ_ERR_BADREF);
    json_object_set_new(got.fields, "account_id", json_integer(1));
    json_object_set_new(got.fields, "scheduled_at", json_null());
    json_object_set_new(got.fields, "status", json_string("draft"));
    ck_assert_int_eq(sq_store_res_update(c, &sq_res_social_posts, &got, 1),
                     SQ_OK);
    sq_record_clear(&got);
    ck_assert_int_eq(sq_store_res_get(c, &sq_res_social_posts, post, &got),
                     SQ_OK);
    ck_assert(json_is_null(json_object_get(got.fields, "scheduled_at")));
    sq_record_clear(&got);
    r = redisCommand(c, "HEXISTS sq:social_post:%llu scheduled_at",
                     (unsigned long long) post);
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);

    m = t_new(c, &sq_res_media, 1, "{\"url\": \"http://a/b\", \"mime_type\": "
              "\"audio/ogg\", \"size\": 7, \"duration_seconds\": 60}");
    ck_assert_int_eq(sq_store_res_get(c, &sq_res_media, m, &got), SQ_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(got.fields,
                                                        "duration_seconds")),
                     60);
    ck_assert_int_eq(json_integer_value(json_object_get(got.fields, "size")),
                     7);
    sq_record_clear(&got);
    redisFree(c);
}
END_TEST


/* Reads every page of limit 7 over wids; returns the ids in order. */
static size_t
t_page(redisContext *c, const uint64_t *wids, size_t nws, uint64_t *after,
    uint64_t *seen, size_t nseen)
{
    size_t        i, n;
    uint64_t      next;
    sq_record_t  *recs;

    ck_assert_int_eq(sq_store_res_list(c, &sq_res_articles, 0, wids, nws,
                                       *after, 7, &recs, &n, &next), SQ_OK);
    ck_assert_uint_le(n, 7);

    for (i = 0; i < n; i++) {
        ck_assert(recs[i].workspace_id == wids[0]
                  || (nws > 1 && recs[i].workspace_id == wids[1]));
        seen[nseen++] = recs[i].id;
    }

    sq_records_free(recs, n);
    *after = next;

    return nseen;
}


START_TEST(test_paging)
{
    int            pages;
    size_t         i, nseen, nw1;
    uint64_t       w[2] = { 3, 8 }, ws_of[128], made[45], after;
    uint64_t       seen[128], extra, gone, late;
    redisContext  *c = sq_test_redis_connect(&sq_test_redis, 1);

    memset(ws_of, 0, sizeof(ws_of));

    /* 45 articles over two workspaces, unevenly interleaved, and noise */
    for (i = 0; i < 45; i++) {
        made[i] = t_new(c, &sq_res_articles, w[(i % 3) == 0],
                        "{\"title\": \"t\"}");
        ws_of[made[i]] = w[(i % 3) == 0];
        if (i % 10 == 0) {
            t_new(c, &sq_res_articles, 99, "{\"title\": \"other\"}");
        }
    }

    after = 0;
    nseen = t_page(c, w, 2, &after, seen, 0);
    ck_assert_uint_eq(nseen, 7);
    ck_assert_uint_eq(after, seen[6]);

    /* between pages: an insert, a delete ahead and one behind the cursor */
    extra = t_new(c, &sq_res_articles, w[1], "{\"title\": \"new\"}");
    ws_of[extra] = w[1];
    gone = made[30];
    ck_assert_int_eq(sq_store_res_delete(c, &sq_res_articles, gone,
                                         ws_of[gone], 0), SQ_OK);
    ws_of[gone] = 0;
    ck_assert_int_eq(sq_store_res_delete(c, &sq_res_articles, seen[2],
                                         ws_of[seen[2]], 0), SQ_OK);
    ws_of[seen[2]] = 0;
    late = 0;

    for (pages = 1; after != 0 && pages < 20; pages++) {
        if (pages == 3) {
            late = t_new(c, &sq_res_articles, w[0], "{\"title\": \"l\"}");
            ws_of[late] = w[0];
        }
        nseen = t_page(c, w, 2, &after, seen, nseen);
    }

    /* 45 - 1 deleted ahead + 2 inserted, ascending, none lost/repeated */
    ck_assert_uint_eq(nseen, 46);
    ck_assert_int_eq(pages, 7);
    for (i = 1; i < nseen; i++) {
        ck_assert_uint_lt(seen[i - 1], seen[i]);
        ck_assert_uint_ne(seen[i], gone);
    }
    ck_assert_uint_eq(seen[nseen - 2], extra);
    ck_assert_uint_eq(seen[nseen - 1], late);

    /* one workspace alone: exactly its live records */
    nw1 = 0;
    for (i = 0; i < 128; i++) {
        nw1 += ws_of[i] == w[1];
    }

    after = 0;
    nseen = 0;
    for (pages = 0; (pages == 0 || after != 0) && pages < 20; pages++) {
        nseen = t_page(c, &w[1], 1, &after, seen, nseen);
    }
    ck_assert_uint_eq(nseen, nw1);
    for (i = 0; i < nseen; i++) {
        ck_assert_uint_eq(ws_of[seen[i]], w[1]);
        ck_assert(i == 0 || seen[i - 1] < seen[i]);
    }
    redisFree(c);
}
END_TEST


Suite *
sq_suite_store_resource(void)
{
    Suite  *s = suite_create("store_resource");
    TCase  *tc = sq_test_redis_tcase();

    tcase_add_test(tc, test_crud);
    tcase_add_test(tc, test_slugs);
    tcase_add_test(tc, test_references_and_nulls);
    tcase_add_test(tc, test_paging);
    suite_add_tcase(s, tc);

    return s;
}
