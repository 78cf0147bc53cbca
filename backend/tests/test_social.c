/*
 * Social account and text rules (bodies: test_resource.c).
 */

#include <string.h>

#include "sq_social.h"
#include "sq_text.h"
#include "tests.h"


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

    tcase_add_test(tc, test_handle_length);
    tcase_add_test(tc, test_text_rules);
    suite_add_tcase(s, tc);

    return s;
}
