/* application/x-www-form-urlencoded for the OAuth endpoints */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_form.h"
#include "unit.h"


static sq_form_t  form;


static sq_form_rc_t
parse(const char *s)
{
    return sq_form_parse(&form, s, strlen(s));
}


START_TEST(values)
{
    size_t       len;
    const char  *v;

    ck_assert_int_eq(parse("grant_type=authorization_code&code=sqc_ab"
                           "&redirect_uri=https%3A%2F%2Fa.example%2Fcb"),
                     SQ_FORM_OK);
    ck_assert_uint_eq(form.n, 3);
    ck_assert_str_eq(sq_form_get(&form, "grant_type", NULL),
                     "authorization_code");
    v = sq_form_get(&form, "redirect_uri", &len);
    ck_assert_str_eq(v, "https://a.example/cb");
    ck_assert_uint_eq(len, strlen("https://a.example/cb"));
    ck_assert_ptr_null(sq_form_get(&form, "code_verifier", NULL));
    ck_assert_ptr_null(sq_form_get(&form, "grant_typ", NULL));
    ck_assert_ptr_null(sq_form_get(&form, "grant_type_", NULL));

    ck_assert_int_eq(parse("scope=a+b%20c&x%5Fy=%7e"), SQ_FORM_OK);
    ck_assert_str_eq(sq_form_get(&form, "scope", NULL), "a b c");
    ck_assert_str_eq(sq_form_get(&form, "x_y", NULL), "~");
}
END_TEST


START_TEST(empty)
{
    ck_assert_int_eq(parse(""), SQ_FORM_OK);
    ck_assert_uint_eq(form.n, 0);
    ck_assert_int_eq(parse("&&&"), SQ_FORM_OK);
    ck_assert_uint_eq(form.n, 0);

    /* an empty value is an omitted parameter (RFC 6749 3.1) */
    ck_assert_int_eq(parse("a=&b&c=1&&"), SQ_FORM_OK);
    ck_assert_uint_eq(form.n, 3);
    ck_assert_ptr_null(sq_form_get(&form, "a", NULL));
    ck_assert_ptr_null(sq_form_get(&form, "b", NULL));
    ck_assert_str_eq(sq_form_get(&form, "c", NULL), "1");

    /* '=' in a value stays */
    ck_assert_int_eq(parse("state=a=b"), SQ_FORM_OK);
    ck_assert_str_eq(sq_form_get(&form, "state", NULL), "a=b");
}
END_TEST


START_TEST(duplicate)
{
    ck_assert_int_eq(parse("code=1&code=2"), SQ_FORM_DUPLICATE);
    ck_assert_uint_eq(form.n, 0);
    ck_assert_int_eq(parse("code=1&code=1"), SQ_FORM_DUPLICATE);
    /* the same name however it is encoded, and even empty */
    ck_assert_int_eq(parse("code=1&c%6Fde=2"), SQ_FORM_DUPLICATE);
    ck_assert_int_eq(parse("code=&code=2"), SQ_FORM_DUPLICATE);
    ck_assert_int_eq(parse("code=1&codex=2&xcode=3"), SQ_FORM_OK);
}
END_TEST


START_TEST(malformed)
{
    size_t       i;
    const char  *bad_escape[] = {
        "a=%", "a=%4", "a=%zz", "a=%g1", "%=1", "a=1%2", "a=%%41"
    };
    const char  *bad_byte[] = {
        "a=%00", "a=%0a", "a=%0D", "a=%7f", "a%09=1", "a=\x01", "a=b\tc"
    };

    for (i = 0; i < sizeof(bad_escape) / sizeof(bad_escape[0]); i++) {
        ck_assert_msg(parse(bad_escape[i]) == SQ_FORM_BAD_ESCAPE, "%s",
                      bad_escape[i]);
        ck_assert_uint_eq(form.n, 0);
    }

    for (i = 0; i < sizeof(bad_byte) / sizeof(bad_byte[0]); i++) {
        ck_assert_msg(parse(bad_byte[i]) == SQ_FORM_BAD_BYTE, "%zu", i);
    }

    /* a NUL inside the given length */
    ck_assert_int_eq(sq_form_parse(&form, "a=b\0c", 5), SQ_FORM_BAD_BYTE);

    /* UTF-8 passes as bytes */
    ck_assert_int_eq(parse("name=%C3%A9t%C3%A9"), SQ_FORM_OK);
    ck_assert_str_eq(sq_form_get(&form, "name", NULL), "\xc3\xa9t\xc3\xa9");
}
END_TEST


START_TEST(bounds)
{
    char    *big;
    size_t   i, n;

    /* 32 parameters pass, 33 do not */
    big = malloc(SQ_FORM_INPUT_MAX + 16);
    ck_assert_ptr_nonnull(big);

    for (i = 0, n = 0; i < SQ_FORM_PARAMS_MAX; i++) {
        n += (size_t) sprintf(big + n, "%sp%zu=1", i ? "&" : "", i);
    }
    ck_assert_int_eq(sq_form_parse(&form, big, n), SQ_FORM_OK);
    ck_assert_uint_eq(form.n, SQ_FORM_PARAMS_MAX);
    n += (size_t) sprintf(big + n, "&q=1");
    ck_assert_int_eq(sq_form_parse(&form, big, n), SQ_FORM_TOO_MANY);

    /* the longest input, one value; one byte more is refused */
    memcpy(big, "v=", 2);
    memset(big + 2, 'x', SQ_FORM_INPUT_MAX - 2);
    ck_assert_int_eq(sq_form_parse(&form, big, SQ_FORM_INPUT_MAX),
                     SQ_FORM_OK);
    ck_assert_uint_eq(strlen(sq_form_get(&form, "v", NULL)),
                      SQ_FORM_INPUT_MAX - 2);
    big[SQ_FORM_INPUT_MAX] = 'x';
    ck_assert_int_eq(sq_form_parse(&form, big, SQ_FORM_INPUT_MAX + 1),
                     SQ_FORM_TOO_LONG);

    /* names: 64 bytes pass, 65 do not */
    memset(big, 'n', SQ_FORM_NAME_MAX);
    memcpy(big + SQ_FORM_NAME_MAX, "=1", 2);
    ck_assert_int_eq(sq_form_parse(&form, big, SQ_FORM_NAME_MAX + 2),
                     SQ_FORM_OK);
    memset(big, 'n', SQ_FORM_NAME_MAX + 1);
    memcpy(big + SQ_FORM_NAME_MAX + 1, "=1", 2);
    ck_assert_int_eq(sq_form_parse(&form, big, SQ_FORM_NAME_MAX + 3),
                     SQ_FORM_TOO_LONG);

    /* the most pieces with no '=' (two NULs each) still fit */
    for (i = 0, n = 0; i < SQ_FORM_PARAMS_MAX; i++) {
        n += (size_t) sprintf(big + n, "%s%c%c", i ? "&" : "",
                              'a' + (int) (i / 26), 'a' + (int) (i % 26));
    }
    ck_assert_int_eq(sq_form_parse(&form, big, n), SQ_FORM_OK);

    free(big);
}
END_TEST


Suite *
sq_form_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("form");
    tc = tcase_create("form");
    tcase_add_test(tc, values);
    tcase_add_test(tc, empty);
    tcase_add_test(tc, duplicate);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, bounds);
    suite_add_tcase(s, tc);

    return s;
}
