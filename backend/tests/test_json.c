/*
 * Envelopes, byte for byte.
 */

#include <stdlib.h>

#include "sq_json.h"
#include "tests.h"


START_TEST(test_error_forbidden)
{
    char  *s = sq_json_error(SQ_E_FORBIDDEN, NULL);

    ck_assert_str_eq(s, "{\"success\": false, \"error\": {\"code\": "
                     "\"FORBIDDEN\", \"message\": \"You do not have access "
                     "to this workspace.\"}}");
    free(s);
}
END_TEST


START_TEST(test_error_unauthorized)
{
    char  *s = sq_json_error(SQ_E_UNAUTHORIZED, NULL);

    ck_assert_str_eq(s, "{\"success\": false, \"error\": {\"code\": "
                     "\"UNAUTHORIZED\", \"message\": \"Request did not come "
                     "through the SmartlyQ edge.\"}}");
    ck_assert_int_eq(sq_err_status(SQ_E_UNAUTHORIZED), 401);
    free(s);
}
END_TEST


START_TEST(test_error_custom_message_escaped)
{
    char  *s = sq_json_error(SQ_E_VALIDATION, "handle \"x\" bad");

    ck_assert_str_eq(s, "{\"success\": false, \"error\": {\"code\": "
                     "\"VALIDATION_ERROR\", \"message\": \"handle \\\"x\\\" "
                     "bad\"}}");
    free(s);
}
END_TEST


START_TEST(test_status_codes)
{
    ck_assert_int_eq(sq_err_status(SQ_E_FORBIDDEN), 403);
    ck_assert_int_eq(sq_err_status(SQ_E_NOT_FOUND), 404);
    ck_assert_int_eq(sq_err_status(SQ_E_METHOD_NOT_ALLOWED), 405);
    ck_assert_int_eq(sq_err_status(SQ_E_VALIDATION), 400);
    ck_assert_int_eq(sq_err_status(SQ_E_PAYLOAD_TOO_LARGE), 413);
    ck_assert_int_eq(sq_err_status(SQ_E_UNAVAILABLE), 503);
    ck_assert_int_eq(sq_err_status(SQ_E_INTERNAL), 500);
    ck_assert_str_eq(sq_err_code(SQ_E_UNAVAILABLE), "SERVICE_UNAVAILABLE");
    ck_assert_str_eq(sq_err_code(SQ_E_PAYLOAD_TOO_LARGE),
                     "PAYLOAD_TOO_LARGE");
}
END_TEST


START_TEST(test_success)
{
    char  *s;

    s = sq_json_success(json_pack("{s:I, s:s}", "id", (json_int_t) 7,
                                  "name", "Acme"));
    ck_assert_str_eq(s, "{\"success\": true, \"data\": {\"id\": 7, "
                     "\"name\": \"Acme\"}}");
    free(s);

    s = sq_json_success(json_array());
    ck_assert_str_eq(s, "{\"success\": true, \"data\": []}");
    free(s);

    ck_assert_ptr_null(sq_json_success(NULL));
}
END_TEST


START_TEST(test_fallback_matches_renderer)
{
    char  *s = sq_json_error(SQ_E_INTERNAL, NULL);

    ck_assert_str_eq(s, sq_json_internal_fallback());
    free(s);
}
END_TEST


START_TEST(test_content_type)
{
    ck_assert_int_eq(sq_json_content_type_ok("application/json"), 1);
    ck_assert_int_eq(sq_json_content_type_ok("Application/JSON"), 1);
    ck_assert_int_eq(
        sq_json_content_type_ok("application/json; charset=utf-8"), 1);
    ck_assert_int_eq(sq_json_content_type_ok("application/jsonx"), 0);
    ck_assert_int_eq(sq_json_content_type_ok("text/plain"), 0);
    ck_assert_int_eq(sq_json_content_type_ok(""), 0);
    ck_assert_int_eq(sq_json_content_type_ok(NULL), 0);
}
END_TEST


Suite *
sq_suite_json(void)
{
    Suite  *s = suite_create("json");
    TCase  *tc = tcase_create("envelopes");

    tcase_add_test(tc, test_error_forbidden);
    tcase_add_test(tc, test_error_unauthorized);
    tcase_add_test(tc, test_error_custom_message_escaped);
    tcase_add_test(tc, test_status_codes);
    tcase_add_test(tc, test_success);
    tcase_add_test(tc, test_fallback_matches_renderer);
    tcase_add_test(tc, test_content_type);
    suite_add_tcase(s, tc);

    return s;
}
