/* scope names and bits: the table the edge and the backend share */

#include <string.h>

#include "sq_scope.h"
#include "unit.h"


static uint32_t
bits(const char *s)
{
    return sq_scope_bits(s, strlen(s));
}


START_TEST(names_and_bits)
{
    int  i;

    for (i = 0; i < SQ_SCOPE_COUNT; i++) {
        ck_assert_int_eq(sq_scope_lookup(sq_scope_name(i),
                                         strlen(sq_scope_name(i))), i);
    }

    /* each name found, and a name one byte off (first or last) not */
    for (i = 0; i < SQ_SCOPE_COUNT; i++) {
        char    m[32];
        size_t  n = strlen(sq_scope_name(i));

        memcpy(m, sq_scope_name(i), n);
        m[n - 1] ^= 1;
        ck_assert_int_eq(sq_scope_lookup(m, n), -1);
        m[n - 1] ^= 1;
        m[0] ^= 1;
        ck_assert_int_eq(sq_scope_lookup(m, n), -1);
    }

    ck_assert_int_eq(sq_scope_lookup("keys:manage", 11), SQ_SC_KEYS_MANAGE);
    ck_assert_int_eq(sq_scope_lookup("apps:manage", 11), SQ_SC_APPS_MANAGE);
    ck_assert_int_eq(sq_scope_lookup("keys:manag", 10), -1);
    ck_assert_int_eq(sq_scope_lookup("", 0), -1);

    ck_assert_uint_eq(bits(""), 0);
    ck_assert_uint_eq(bits("social:read social:write"), 0xc);
    /* names it does not know give nothing; the others still count */
    ck_assert_uint_eq(bits("future:scope urls:write"),
                      SQ_SCOPE_BIT(SQ_SC_URLS_WRITE));
    ck_assert_uint_eq(bits("social:readx"), 0);
    ck_assert_uint_eq(bits("chatbots:read chatbots:write social:read "
                           "social:write urls:read urls:write "
                           "articles:read articles:write images:read "
                           "images:write media:read media:write "
                           "workspace:read apps:manage keys:manage"),
                      SQ_SCOPES_ALL);
}
END_TEST


START_TEST(hex_round_trip)
{
    char      out[SQ_SCOPES_HEX_MAX + 1];
    uint32_t  b, v;

    ck_assert_uint_eq(sq_scope_hex(0, out), 1);
    ck_assert_str_eq(out, "0");
    ck_assert_uint_eq(sq_scope_hex(SQ_SCOPES_ALL, out), 4);
    ck_assert_str_eq(out, "7fff");
    ck_assert_uint_eq(sq_scope_hex(0x80, out), 2);
    ck_assert_str_eq(out, "80");

    for (b = 0; b <= SQ_SCOPES_ALL; b++) {
        sq_scope_hex(b, out);
        ck_assert_int_eq(sq_scope_hex_parse(out, strlen(out), &v), 0);
        ck_assert_uint_eq(v, b);
    }
}
END_TEST


START_TEST(hex_strict)
{
    size_t       i;
    uint32_t     v;
    const char  *bad[] = { "", "00", "0c", "C", "7FFF", "8000", "g", "-1",
                           "123456789", "0x1", " c", "c ", "c c",
                           "social:read" };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 77;
        ck_assert_msg(sq_scope_hex_parse(bad[i], strlen(bad[i]), &v) == -1,
                      "%s", bad[i]);
        ck_assert_uint_eq(v, 77);
    }
}
END_TEST


Suite *
sq_scope_suite(void)
{
    Suite  *s = suite_create("sq_scope");
    TCase  *tc = tcase_create("scope");

    tcase_add_test(tc, names_and_bits);
    tcase_add_test(tc, hex_round_trip);
    tcase_add_test(tc, hex_strict);
    suite_add_tcase(s, tc);

    return s;
}
