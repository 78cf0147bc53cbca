/* workspace_id in the query string: strict, unambiguous */

#include <stdlib.h>
#include <string.h>

#include "sq_workspace.h"
#include "unit.h"


static sq_ws_rc_t
q(const char *args, uint64_t *id)
{
    return sq_workspace_from_query(args, strlen(args), id);
}


START_TEST(absent)
{
    uint64_t  id = 7;

    ck_assert_int_eq(q("", &id), SQ_WS_NONE);
    ck_assert_int_eq(q("a=1&b=2", &id), SQ_WS_NONE);
    ck_assert_int_eq(q("workspace_idx=1&xworkspace_id=2", &id), SQ_WS_NONE);
    ck_assert_int_eq(q("workspace_id[]=1", &id), SQ_WS_NONE);
    ck_assert_int_eq(q("&&&", &id), SQ_WS_NONE);
    ck_assert_uint_eq(id, 7);
}
END_TEST


START_TEST(valid)
{
    uint64_t  id = 0;

    ck_assert_int_eq(q("workspace_id=42", &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 42);
    ck_assert_int_eq(q("limit=5&workspace_id=7&x=y", &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 7);
    ck_assert_int_eq(q("workspace%5Fid=9", &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 9);
    ck_assert_int_eq(q("workspace_id=%31%32", &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 12);
    ck_assert_int_eq(q("workspace_id=9007199254740991", &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 9007199254740991ULL);
}
END_TEST


START_TEST(invalid)
{
    size_t       i;
    uint64_t     id;
    const char  *bad[] = {
        "workspace_id", "workspace_id=", "workspace_id=42abc",
        "workspace_id=-1", "workspace_id=0", "workspace_id=042",
        "workspace_id=+42", "workspace_id=%2B42", "workspace_id= 42",
        "workspace_id=42+", "workspace_id=4%202", "workspace_id=1.5",
        "workspace_id=0x10", "workspace_id=9007199254740992",
        "workspace_id=99999999999999999999999999",
        "workspace_id=%", "workspace_id=%4", "workspace_id=%zz",
        "workspace_id=%00", "workspace_id=4%002",
        "workspace_id=%EF%BC%94%EF%BC%92",      /* fullwidth digits */
        "workspace_id=\xd9\xa4"                 /* arabic-indic four */
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(q(bad[i], &id) == SQ_WS_INVALID, "accepted: %s",
                      bad[i]);
    }
}
END_TEST


START_TEST(duplicates)
{
    uint64_t  id;

    ck_assert_int_eq(q("workspace_id=1&workspace_id=1", &id),
                     SQ_WS_DUPLICATE);
    ck_assert_int_eq(q("workspace_id=1&workspace_id=2", &id),
                     SQ_WS_DUPLICATE);
    ck_assert_int_eq(q("workspace_id=1&workspace%5fid=2", &id),
                     SQ_WS_DUPLICATE);
    ck_assert_int_eq(q("workspace_id=&workspace_id=2", &id),
                     SQ_WS_DUPLICATE);
}
END_TEST


START_TEST(not_nul_terminated)
{
    uint64_t     id = 0;
    const char  *s = "workspace_id=123456";

    /* only the first 15 bytes are the query: "workspace_id=12" */
    ck_assert_int_eq(sq_workspace_from_query(s, 15, &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 12);
}
END_TEST


static sq_ws_rc_t
j(const char *body, uint64_t *id)
{
    return sq_workspace_from_json(body, strlen(body), id);
}


START_TEST(json_bodies)
{
    size_t       i;
    uint64_t     id = 0;
    const char  *invalid[] = {
        "{\"workspace_id\": null}", "{\"workspace_id\": 4.0}",
        "{\"workspace_id\": 4e0}", "{\"workspace_id\": -4}",
        "{\"workspace_id\": 0}", "{\"workspace_id\": true}",
        "{\"workspace_id\": [4]}", "{\"workspace_id\": {\"id\": 4}}",
        "{\"workspace_id\": \"04\"}", "{\"workspace_id\": \" 4\"}",
        "{\"workspace_id\": \"4abc\"}", "{\"workspace_id\": \"\"}",
        "{\"workspace_id\": 9007199254740992}",
        "{\"workspace_id\": \"\\u0664\"}"
    };

    ck_assert_int_eq(j("{\"workspace_id\": 42}", &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 42);
    ck_assert_int_eq(j(" {\"name\": \"x\", \"workspace_id\": \"7\"} ", &id),
                     SQ_WS_OK);
    ck_assert_uint_eq(id, 7);
    ck_assert_int_eq(j("{\"name\": \"x\"}", &id), SQ_WS_NONE);
    ck_assert_int_eq(j("{\"nested\": {\"workspace_id\": 9}}", &id),
                     SQ_WS_NONE);
    ck_assert_int_eq(j("{}", &id), SQ_WS_NONE);

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        ck_assert_msg(j(invalid[i], &id) == SQ_WS_INVALID, "accepted: %s",
                      invalid[i]);
    }
}
END_TEST


START_TEST(json_broken_or_ambiguous)
{
    uint64_t  id;

    /* duplicate keys: jansson would keep the last one; we refuse */
    ck_assert_int_eq(j("{\"workspace_id\": 1, \"workspace_id\": 2}", &id),
                     SQ_WS_BAD_JSON);
    ck_assert_int_eq(j("{\"a\": {\"b\": 1, \"b\": 2}}", &id),
                     SQ_WS_BAD_JSON);
    ck_assert_int_eq(j("{\"workspace_id\": 1", &id), SQ_WS_BAD_JSON);
    ck_assert_int_eq(j("{\"workspace_id\": 1} x", &id), SQ_WS_BAD_JSON);
    ck_assert_int_eq(j("", &id), SQ_WS_BAD_JSON);
    ck_assert_int_eq(j("{\"a\": \"\xff\"}", &id), SQ_WS_BAD_JSON);
    ck_assert_int_eq(j("[{\"workspace_id\": 1}]", &id), SQ_WS_NOT_OBJECT);
    /* jansson: an integer past int64 and a bare scalar are parse errors */
    ck_assert_int_eq(j("{\"workspace_id\": 99999999999999999999999}", &id),
                     SQ_WS_BAD_JSON);
    ck_assert_int_eq(j("42", &id), SQ_WS_BAD_JSON);
    ck_assert_int_eq(j("\"x\"", &id), SQ_WS_BAD_JSON);
}
END_TEST


START_TEST(json_deep_nesting)
{
    char      *deep;
    size_t     i, n = 100000;
    uint64_t   id;

    deep = malloc(2 * n + 1);
    ck_assert_ptr_nonnull(deep);

    for (i = 0; i < n; i++) {
        deep[i] = '[';
        deep[n + i] = ']';
    }

    deep[2 * n] = '\0';

    /* refused by jansson's depth limit, not a crash */
    ck_assert_int_eq(j(deep, &id), SQ_WS_BAD_JSON);
    free(deep);
}
END_TEST


START_TEST(content_types)
{
    ck_assert_int_eq(sq_body_type("application/json", 16), SQ_BODY_JSON);
    ck_assert_int_eq(sq_body_type("Application/JSON; charset=utf-8", 31),
                     SQ_BODY_JSON);
    ck_assert_int_eq(sq_body_type("application/x-www-form-urlencoded", 33),
                     SQ_BODY_FORM);
    ck_assert_int_eq(sq_body_type("application/jsonx", 17), SQ_BODY_OTHER);
    ck_assert_int_eq(sq_body_type("application/merge-patch+json", 28),
                     SQ_BODY_OTHER);
    ck_assert_int_eq(sq_body_type("text/plain", 10), SQ_BODY_OTHER);
    ck_assert_int_eq(sq_body_type("multipart/form-data; boundary=x", 31),
                     SQ_BODY_OTHER);
    ck_assert_int_eq(sq_body_type("", 0), SQ_BODY_OTHER);
}
END_TEST


START_TEST(merge_query_and_body)
{
    uint64_t  id = 0;

    ck_assert_int_eq(sq_workspace_merge(SQ_WS_NONE, 0, SQ_WS_NONE, 0, &id),
                     SQ_WS_NONE);
    ck_assert_int_eq(sq_workspace_merge(SQ_WS_OK, 3, SQ_WS_NONE, 0, &id),
                     SQ_WS_OK);
    ck_assert_uint_eq(id, 3);
    ck_assert_int_eq(sq_workspace_merge(SQ_WS_NONE, 0, SQ_WS_OK, 5, &id),
                     SQ_WS_OK);
    ck_assert_uint_eq(id, 5);
    ck_assert_int_eq(sq_workspace_merge(SQ_WS_OK, 5, SQ_WS_OK, 5, &id),
                     SQ_WS_OK);
    ck_assert_int_eq(sq_workspace_merge(SQ_WS_OK, 5, SQ_WS_OK, 6, &id),
                     SQ_WS_CONFLICT);
    ck_assert_int_eq(sq_workspace_merge(SQ_WS_OK, 5, SQ_WS_INVALID, 0, &id),
                     SQ_WS_INVALID);
    ck_assert_int_eq(sq_workspace_merge(SQ_WS_NONE, 0, SQ_WS_DUPLICATE, 0,
                                        &id), SQ_WS_DUPLICATE);
}
END_TEST


START_TEST(form_bodies)
{
    uint64_t     id = 0;
    const char  *f = "name=bot&workspace_id=12";

    /* a form body follows the query string's rules exactly */
    ck_assert_int_eq(sq_workspace_from_query(f, strlen(f), &id), SQ_WS_OK);
    ck_assert_uint_eq(id, 12);
    f = "workspace_id=1&workspace_id=1";
    ck_assert_int_eq(sq_workspace_from_query(f, strlen(f), &id),
                     SQ_WS_DUPLICATE);
}
END_TEST


Suite *
sq_workspace_suite(void)
{
    Suite  *s = suite_create("workspace");
    TCase  *tc = tcase_create("query");

    tcase_add_test(tc, absent);
    tcase_add_test(tc, valid);
    tcase_add_test(tc, invalid);
    tcase_add_test(tc, duplicates);
    tcase_add_test(tc, not_nul_terminated);
    tcase_add_test(tc, json_bodies);
    tcase_add_test(tc, json_broken_or_ambiguous);
    tcase_add_test(tc, json_deep_nesting);
    tcase_add_test(tc, content_types);
    tcase_add_test(tc, merge_query_and_body);
    tcase_add_test(tc, form_bodies);
    suite_add_tcase(s, tc);

    return s;
}
