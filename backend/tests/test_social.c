/*
 * POST /v1/social/accounts body validation and text rules.
 */

#include <string.h>

#include "sq_social.h"
#include "sq_text.h"
#include "tests.h"


static int
t_parse(const char *body, uint64_t ws, sq_social_input_t *in, char *err,
    size_t errlen)
{
    return sq_social_parse_body(body, strlen(body), ws, in, err, errlen);
}


START_TEST(test_valid)
{
    char               err[256];
    sq_social_input_t  in;

    ck_assert_int_eq(t_parse("{\"platform\": \"twitter\", \"handle\": "
                             "\"@acme\"}", 0, &in, err, sizeof(err)), 0);
    ck_assert_str_eq(in.platform, "twitter");
    ck_assert_str_eq(in.handle, "@acme");
    ck_assert_uint_eq(in.workspace_id, 0);

    ck_assert_int_eq(t_parse("{\"handle\": \"caf\\u00e9\", \"platform\": "
                             "\"youtube\", \"workspace_id\": 5}", 5, &in,
                             err, sizeof(err)), 0);
    ck_assert_str_eq(in.handle, "caf\xc3\xa9");
    ck_assert_uint_eq(in.workspace_id, 5);
}
END_TEST


/* The body must be rejected and the message must contain what. */
static void
t_reject(const char *body, uint64_t ws, const char *what)
{
    char               err[256];
    sq_social_input_t  in;

    ck_assert_int_eq(t_parse(body, ws, &in, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, what) != NULL, "\"%s\" -> \"%s\", want %s",
                  body, err, what);
}


START_TEST(test_invalid_fields)
{
    t_reject("{\"platform\": \"myspace\", \"handle\": \"a\"}", 0,
             "platform");
    t_reject("{\"platform\": 1, \"handle\": \"a\"}", 0, "platform");
    t_reject("{\"platform\": \"Twitter\", \"handle\": \"a\"}", 0,
             "platform");
    t_reject("{\"handle\": \"a\"}", 0, "platform");
    t_reject("{\"platform\": \"tiktok\"}", 0, "handle");
    t_reject("{\"platform\": \"tiktok\", \"handle\": \"\"}", 0, "handle");
    t_reject("{\"platform\": \"tiktok\", \"handle\": 5}", 0, "handle");
    t_reject("{\"platform\": \"tiktok\", \"handle\": null}", 0, "handle");
    t_reject("{\"platform\": \"tiktok\", \"handle\": \"a\\nb\"}", 0,
             "handle");
    t_reject("{\"platform\": \"tiktok\", \"handle\": \"a\", \"x\": 1}", 0,
             "x is not a known field");
    t_reject("{\"platform\": \"tiktok\", \"handle\": \"a\", "
             "\"workspace_id\": 6}", 5, "workspace_id");
    t_reject("{\"platform\": \"tiktok\", \"handle\": \"a\", "
             "\"workspace_id\": 5}", 0, "workspace_id");
    t_reject("{\"platform\": \"tiktok\", \"handle\": \"a\", "
             "\"workspace_id\": \"5\"}", 5, "workspace_id");
    t_reject("{\"platform\": \"tiktok\", \"handle\": \"a\", "
             "\"workspace_id\": 0}", 5, "workspace_id");
}
END_TEST


START_TEST(test_invalid_documents)
{
    t_reject("{\"platform\": \"tiktok\", \"handle\": \"a\", "
             "\"handle\": \"b\"}", 0, "duplicate");
    t_reject("[]", 0, "JSON object");
    t_reject("\"x\"", 0, "JSON object");
    t_reject("", 0, "JSON object");
    t_reject("{\"platform\": \"tiktok\", \"handle\": \"a\"} x", 0,
             "JSON object");
    t_reject("{\"platform\": \"tiktok\", \"handle\": \"a\\u0000b\"}", 0,
             "JSON object");
    t_reject("{\"platform\": \"tiktok\", \"handle\": \"\xff\"}", 0,
             "JSON object");
}
END_TEST


START_TEST(test_handle_length)
{
    char  h[512];

    memset(h, 'a', sizeof(h));
    ck_assert_int_eq(sq_social_check_handle(h, 100), 0);
    ck_assert_int_eq(sq_social_check_handle(h, 101), -1);
    ck_assert_int_eq(sq_social_check_handle(h, 0), -1);

    /* 100 two-byte characters are fine, 101 are not */
    for (size_t i = 0; i < 202; i += 2) {
        h[i] = (char) 0xc3;
        h[i + 1] = (char) 0xa9;
    }
    ck_assert_int_eq(sq_social_check_handle(h, 200), 0);
    ck_assert_int_eq(sq_social_check_handle(h, 202), -1);
    ck_assert_int_eq(sq_social_check_handle(h, 199), -1);
}
END_TEST


START_TEST(test_text_rules)
{
    ck_assert_int_eq(sq_text_check("ok", 2, 10, 10), 0);
    ck_assert_int_eq(sq_text_check("a\x7f", 2, 10, 10), -1);
    ck_assert_int_eq(sq_text_check("\xc0\xaf", 2, 10, 10), -1);
    ck_assert_int_eq(sq_text_check("\xed\xa0\x80", 3, 10, 10), -1);
    ck_assert_int_eq(sq_text_check_email("a@b.c", 5), 0);
    ck_assert_int_eq(sq_text_check_email("a@b@c", 5), -1);
    ck_assert_int_eq(sq_text_check_email("@bc", 3), -1);
    ck_assert_int_eq(sq_text_check_email("a b@c", 5), -1);
    ck_assert_ptr_nonnull(sq_social_platform("linkedin", 8));
    ck_assert_ptr_null(sq_social_platform("linked", 6));
}
END_TEST


Suite *
sq_suite_social(void)
{
    Suite  *s = suite_create("social");
    TCase  *tc = tcase_create("validation");

    tcase_add_test(tc, test_valid);
    tcase_add_test(tc, test_invalid_fields);
    tcase_add_test(tc, test_invalid_documents);
    tcase_add_test(tc, test_handle_length);
    tcase_add_test(tc, test_text_rules);
    suite_add_tcase(s, tc);

    return s;
}
