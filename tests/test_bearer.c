/* Authorization header parsing and key shape */

#include <stdio.h>
#include <string.h>

#include "sq_bearer.h"
#include "unit.h"


static sq_bearer_rc_t
parse(const char *value, const char **key, size_t *len, sq_key_mode_t *mode)
{
    return sq_bearer_parse(value, strlen(value), key, len, mode);
}


START_TEST(accepts_bearer_any_case)
{
    char           hdr[128], key[80];
    size_t         len;
    const char    *k, *schemes[] = { "Bearer ", "bearer ", "BEARER   ",
                                     "BeArEr\t" };
    sq_key_mode_t  mode;

    sq_test_key(key, "sqk_live_", 40, 'a');

    for (size_t i = 0; i < 4; i++) {
        strcpy(hdr, schemes[i]);
        strcat(hdr, key);
        ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_OK);
        ck_assert_uint_eq(len, strlen(key));
        ck_assert_int_eq(memcmp(k, key, len), 0);
        ck_assert_int_eq(mode, SQ_KEY_LIVE);
    }
}
END_TEST


START_TEST(test_mode_and_trailing_space)
{
    char           hdr[128], key[80];
    size_t         len;
    const char    *k;
    sq_key_mode_t  mode;

    sq_test_key(key, "sqk_test_", 32, '9');
    strcpy(hdr, "  Bearer ");
    strcat(hdr, key);
    strcat(hdr, "  ");

    ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_OK);
    ck_assert_uint_eq(len, strlen(key));
    ck_assert_int_eq(mode, SQ_KEY_TEST);
}
END_TEST


START_TEST(other_schemes_are_not_bearer)
{
    size_t         len;
    const char    *k;
    sq_key_mode_t  mode;

    ck_assert_int_eq(parse("", &k, &len, &mode), SQ_BEARER_NOT_BEARER);
    ck_assert_int_eq(parse("Basic dXNlcjpwYXNz", &k, &len, &mode),
                     SQ_BEARER_NOT_BEARER);
    ck_assert_int_eq(parse("Bearer", &k, &len, &mode), SQ_BEARER_NOT_BEARER);
    ck_assert_int_eq(parse("Bearerx abc", &k, &len, &mode),
                     SQ_BEARER_NOT_BEARER);
    ck_assert_int_eq(parse("Token abc", &k, &len, &mode),
                     SQ_BEARER_NOT_BEARER);
}
END_TEST


START_TEST(malformed_keys)
{
    char           hdr[256], key[200];
    size_t         len;
    const char    *k;
    sq_key_mode_t  mode;

    ck_assert_int_eq(parse("Bearer ", &k, &len, &mode), SQ_BEARER_NOT_BEARER);
    ck_assert_int_eq(parse("Bearer  \t", &k, &len, &mode),
                     SQ_BEARER_NOT_BEARER);

    /* too short, too long */
    sq_test_key(key, "sqk_live_", 31, 'a');
    strcpy(hdr, "Bearer ");
    strcat(hdr, key);
    ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_MALFORMED);

    sq_test_key(key, "sqk_live_", 65, 'a');
    strcpy(hdr, "Bearer ");
    strcat(hdr, key);
    ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_MALFORMED);

    /* wrong prefixes */
    sq_test_key(key, "sqk_prod_", 40, 'a');
    strcpy(hdr, "Bearer ");
    strcat(hdr, key);
    ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_MALFORMED);

    sq_test_key(key, "SQK_LIVE_", 40, 'a');
    strcpy(hdr, "Bearer ");
    strcat(hdr, key);
    ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_MALFORMED);

    /* bad characters: '-', '_', space inside, non-ASCII */
    sq_test_key(key, "sqk_live_", 40, 'a');
    key[20] = '-';
    strcpy(hdr, "Bearer ");
    strcat(hdr, key);
    ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_MALFORMED);

    key[20] = ' ';
    strcpy(hdr, "Bearer ");
    strcat(hdr, key);
    ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_MALFORMED);

    key[20] = (char) 0xc3;
    strcpy(hdr, "Bearer ");
    strcat(hdr, key);
    ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_MALFORMED);
}
END_TEST


START_TEST(nul_inside_key_is_malformed)
{
    char           hdr[128];
    size_t         n, len;
    const char    *k;
    sq_key_mode_t  mode;

    sq_test_key(hdr, "Bearer sqk_live_", 40, 'b');
    n = strlen(hdr);
    hdr[30] = '\0';

    ck_assert_int_eq(sq_bearer_parse(hdr, n, &k, &len, &mode),
                     SQ_BEARER_MALFORMED);
}
END_TEST


START_TEST(shape_bounds)
{
    char  key[80];

    sq_test_key(key, "sqk_live_", 32, 'Z');
    ck_assert_int_eq(sq_key_shape(key, strlen(key)), SQ_KEY_LIVE);
    sq_test_key(key, "sqk_test_", 64, '0');
    ck_assert_int_eq(sq_key_shape(key, strlen(key)), SQ_KEY_TEST);
    ck_assert_int_eq(sq_key_shape("sqk_live_", 9), SQ_KEY_BAD);

    sq_test_key(key, "sqp_test_", 40, 'p');
    ck_assert_int_eq(sq_key_shape(key, strlen(key)), SQ_KEY_TEST);
    ck_assert_int_eq(sq_key_type(key), SQ_KEY_PUBLISHABLE);
    sq_test_key(key, "sqk_test_", 40, 'p');
    ck_assert_int_eq(sq_key_type(key), SQ_KEY_SECRET);
    sq_test_key(key, "sqx_live_", 40, 'p');
    ck_assert_int_eq(sq_key_shape(key, strlen(key)), SQ_KEY_BAD);
    sq_test_key(key, "sqp-live_", 40, 'p');
    ck_assert_int_eq(sq_key_shape(key, strlen(key)), SQ_KEY_BAD);
    ck_assert_str_eq(sq_key_prefix(SQ_KEY_PUBLISHABLE, SQ_KEY_LIVE),
                     "sqp_live_");
    ck_assert_str_eq(sq_key_prefix(SQ_KEY_SECRET, SQ_KEY_TEST), "sqk_test_");
    ck_assert_str_eq(sq_key_type_name(SQ_KEY_PUBLISHABLE), "publishable");
    ck_assert_str_eq(sq_key_mode_name(SQ_KEY_TEST), "test");
    ck_assert_str_eq(sq_key_mode_name(SQ_KEY_LIVE), "live");
}
END_TEST


/* "sqo_" + 40..64 base62: an OAuth access token, live (issue 14) */
START_TEST(oauth_tokens)
{
    char           hdr[160], key[100];
    size_t         len, n;
    const char    *k;
    sq_key_mode_t  mode;

    static const size_t  good[] = { 40, 41, 64 };
    static const size_t  bad[] = { 0, 1, 32, 39, 65, 69 };

    for (n = 0; n < sizeof(good) / sizeof(good[0]); n++) {
        sq_test_key(key, "sqo_", good[n], 'Q');
        snprintf(hdr, sizeof(hdr), "Bearer %s", key);
        ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_OK);
        ck_assert_uint_eq(len, 4 + good[n]);
        ck_assert_int_eq(mode, SQ_KEY_LIVE);
        ck_assert_int_eq(sq_key_type(k), SQ_KEY_OAUTH);
        ck_assert_uint_le(len, SQ_KEY_MAX_LEN);
    }

    for (n = 0; n < sizeof(bad) / sizeof(bad[0]); n++) {
        sq_test_key(key, "sqo_", bad[n], 'Q');
        ck_assert_msg(sq_key_shape(key, strlen(key)) == SQ_KEY_BAD,
                      "sqo_ + %zu accepted", bad[n]);
    }

    /* not base62, or another prefix's case */
    sq_test_key(key, "sqo_", 40, 'Q');
    key[10] = '_';
    ck_assert_int_eq(sq_key_shape(key, strlen(key)), SQ_KEY_BAD);
    sq_test_key(key, "SQO_", 40, 'Q');
    ck_assert_int_eq(sq_key_shape(key, strlen(key)), SQ_KEY_BAD);
    sq_test_key(key, "sqo_live_", 40, 'Q');
    ck_assert_int_eq(sq_key_shape(key, strlen(key)), SQ_KEY_BAD);

    /* the flow's other strings are never bearers: malformed, a 401 */
    sq_test_key(hdr, "Bearer sqr_", 40, 'Q');
    ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_MALFORMED);
    sq_test_key(hdr, "Bearer sqc_", 40, 'Q');
    ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_MALFORMED);
    sq_test_key(hdr, "Bearer sqs_", 40, 'Q');
    ck_assert_int_eq(parse(hdr, &k, &len, &mode), SQ_BEARER_MALFORMED);

    ck_assert_str_eq(sq_key_type_name(SQ_KEY_OAUTH), "oauth");
    ck_assert_str_eq(sq_key_type_name(SQ_KEY_SECRET), "secret");
}
END_TEST


static int
kq(const char *q)
{
    return sq_key_in_query(q, strlen(q));
}


START_TEST(keys_in_query_strings)
{
    char  q[128], key[80];

    sq_test_key(key, "sqk_live_", 40, 'a');
    snprintf(q, sizeof(q), "api_key=%s", key);
    ck_assert_int_eq(kq(q), 1);
    snprintf(q, sizeof(q), "workspace_id=4&token=%s&x=1", key);
    ck_assert_int_eq(kq(q), 1);

    ck_assert_int_eq(kq("k=sqp_test_"), 1);
    ck_assert_int_eq(kq("k=SQK_LIVE_abc"), 1);
    ck_assert_int_eq(kq("k=sqk%5Flive%5Fabc"), 1);
    ck_assert_int_eq(kq("k=%73%71%6b_test_abc"), 1);
    ck_assert_int_eq(kq("sqk_live_=1"), 1);

    ck_assert_int_eq(kq(""), 0);
    ck_assert_int_eq(kq("workspace_id=4&limit=20"), 0);
    ck_assert_int_eq(kq("q=sqk_prod_abc"), 0);
    ck_assert_int_eq(kq("q=sqk_liv"), 0);
    ck_assert_int_eq(kq("q=sqklive_"), 0);
    ck_assert_int_eq(kq("q=%"), 0);
    ck_assert_int_eq(kq("q=sqk_live%"), 0);

    /* the OAuth strings: token, refresh token, code, client secret */
    ck_assert_int_eq(kq("access_token=sqo_abc"), 1);
    ck_assert_int_eq(kq("refresh_token=sqr_abc"), 1);
    ck_assert_int_eq(kq("code=sqc_abc"), 1);
    ck_assert_int_eq(kq("client_secret=sqs_abc"), 1);
    ck_assert_int_eq(kq("x=SQO_abc"), 1);
    ck_assert_int_eq(kq("x=sq%6F%5Fabc"), 1);
    ck_assert_int_eq(kq("q=sqo"), 0);
    ck_assert_int_eq(kq("q=sqa_abc&r=sqox"), 0);
}
END_TEST


Suite *
sq_bearer_suite(void)
{
    Suite  *s = suite_create("bearer");
    TCase  *tc = tcase_create("parse");

    tcase_add_test(tc, accepts_bearer_any_case);
    tcase_add_test(tc, test_mode_and_trailing_space);
    tcase_add_test(tc, other_schemes_are_not_bearer);
    tcase_add_test(tc, malformed_keys);
    tcase_add_test(tc, nul_inside_key_is_malformed);
    tcase_add_test(tc, shape_bounds);
    tcase_add_test(tc, keys_in_query_strings);
    tcase_add_test(tc, oauth_tokens);
    suite_add_tcase(s, tc);

    return s;
}
