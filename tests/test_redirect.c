/* OAuth redirect URIs: what may be registered, and exact matching */

#include <string.h>

#include "sq_redirect.h"
#include "unit.h"


static int
listed(const char *list, const char *uri)
{
    return sq_redirect_uri_listed(list, strlen(list), uri, strlen(uri));
}


START_TEST(accepted)
{
    size_t       i;
    const char  *why;
    const char  *good[] = {
        "https://example.com/cb",
        "https://example.com",
        "https://example.com/",
        "https://app.example.com:8443/oauth/callback?x=1&y=%2F",
        "https://example.com?from=oauth",
        "https://192.0.2.7/cb",
        "https://[2001:db8::1]:443/cb",
        "https://xn--bcher-kva.example/cb",
        "https://example.com/a/b;c=d/~e/f(g)!$'+,=",
        "http://127.0.0.1/cb",
        "http://127.0.0.1:53127/cb",
        "http://[::1]:8080/cb",
        "http://localhost/cb",
        "http://localhost:3000",
        "http://localhost?x=1",
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        why = "unset";
        ck_assert_msg(sq_redirect_uri_valid(good[i], strlen(good[i]), &why),
                      "%s refused: %s", good[i], why);
        ck_assert_ptr_null(why);
    }
}
END_TEST


START_TEST(refused)
{
    size_t       i;
    const char  *why;
    const char  *bad[] = {
        "",
        "/cb",
        "example.com/cb",
        "//example.com/cb",
        "https:/example.com/cb",
        "https:example.com",
        "HTTPS://example.com/cb",
        "Https://example.com/cb",
        "ftp://example.com/cb",
        "javascript:alert(1)",
        "data:text/html,x",
        "custom.app:/cb",
        /* http only on loopback, hosts exactly as written */
        "http://example.com/cb",
        "http://127.0.0.2/cb",
        "http://127.1/cb",
        "http://LOCALHOST/cb",
        "http://localhost.example.com/cb",
        "http://[::2]/cb",
        "http://[0:0:0:0:0:0:0:1]/cb",
        /* fragments, wildcards */
        "https://example.com/cb#",
        "https://example.com/cb#frag",
        "https://*.example.com/cb",
        "https://example.com/*",
        "https://example.com/cb?x=*",
        /* userinfo */
        "https://user@example.com/cb",
        "https://user:pw@example.com/cb",
        "https://example.com@evil.com/cb",
        "http://localhost@evil.com/cb",
        "https://@example.com/cb",
        /* white space, control, non-ASCII, not-a-URI characters */
        "https://example.com/c b",
        "https://example.com/cb ",
        " https://example.com/cb",
        "https://example.com/cb\t",
        "https://example.com/cb\r\nX: y",
        "https://example.com/cb\n",
        "https://example.com/\x7f",
        "https://ex\xc3\xa4mple.com/cb",
        "https://example.com\\@evil.com/",
        "https://example.com/<script>",
        "https://example.com/\"",
        "https://example.com/{x}",
        "https://example.com/a|b",
        "https://example.com/a^b",
        "https://example.com/`",
        /* broken escapes, escapes in the host */
        "https://example.com/%",
        "https://example.com/%4",
        "https://example.com/%zz",
        "https://ex%61mple.com/cb",
        /* hosts and ports */
        "https:///cb",
        "https://:443/cb",
        "https://.example.com/cb",
        "https://-example.com/cb",
        "https://a..b/cb",
        "https://ex_ample.com/cb",
        "https://example.com:/cb",
        "https://example.com:0/cb",
        "https://example.com:65536/cb",
        "https://example.com:123456/cb",
        "https://example.com:8a/cb",
        "https://example.com:443:443/cb",
        "https://[::1/cb",
        "https://[]/cb",
        "https://[v1.x]/cb",
        "https://[fe80::1%25eth0]/cb",
        "https://[::1]x/cb",
        "https://example.com/[x]",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        ck_assert_msg(!sq_redirect_uri_valid(bad[i], strlen(bad[i]), &why),
                      "%s accepted", bad[i]);
        ck_assert_ptr_nonnull(why);
    }

    /* why may be NULL */
    ck_assert_int_eq(sq_redirect_uri_valid("x", 1, NULL), 0);
    ck_assert_int_eq(sq_redirect_uri_valid(NULL, 0, &why), 0);
}
END_TEST


START_TEST(nul_inside)
{
    static const char  uri[] = "https://example.com/cb\0.evil.com";

    ck_assert_int_eq(sq_redirect_uri_valid(uri, sizeof(uri) - 1, NULL), 0);
}
END_TEST


START_TEST(length)
{
    char    buf[SQ_REDIRECT_URI_MAX + 2];
    size_t  head;

    head = strlen("https://example.com/");
    memcpy(buf, "https://example.com/", head);
    memset(buf + head, 'a', sizeof(buf) - head);

    ck_assert_int_eq(sq_redirect_uri_valid(buf, SQ_REDIRECT_URI_MAX, NULL),
                     1);
    ck_assert_int_eq(sq_redirect_uri_valid(buf, SQ_REDIRECT_URI_MAX + 1,
                                           NULL), 0);
}
END_TEST


START_TEST(reasons)
{
    const char  *why;

    ck_assert_int_eq(sq_redirect_uri_valid("https://a.b/#x", 14, &why), 0);
    ck_assert_str_eq(why, "a fragment ('#')");
    ck_assert_int_eq(sq_redirect_uri_valid("https://u@a.b/", 14, &why), 0);
    ck_assert_str_eq(why, "userinfo ('@') in the authority");
    ck_assert_int_eq(sq_redirect_uri_valid("http://a.b/x", 12, &why), 0);
    ck_assert_str_eq(why,
                     "http other than to 127.0.0.1, [::1] or localhost");
}
END_TEST


START_TEST(listed_exact)
{
    const char  *list = "https://a.example/cb\n"
                        "http://127.0.0.1:8080/cb\n"
                        "https://b.example/x?y=1";

    ck_assert_int_eq(listed(list, "https://a.example/cb"), 1);
    ck_assert_int_eq(listed(list, "http://127.0.0.1:8080/cb"), 1);
    ck_assert_int_eq(listed(list, "https://b.example/x?y=1"), 1);

    /* one character, a trailing slash, a case difference */
    ck_assert_int_eq(listed(list, "https://a.example/cc"), 0);
    ck_assert_int_eq(listed(list, "https://a.example/cb/"), 0);
    ck_assert_int_eq(listed(list, "https://a.example/c"), 0);
    ck_assert_int_eq(listed(list, "https://A.example/cb"), 0);
    ck_assert_int_eq(listed(list, "https://a.example/CB"), 0);
    ck_assert_int_eq(listed(list, "HTTPS://a.example/cb"), 0);
    ck_assert_int_eq(listed(list, "https://a.example:443/cb"), 0);
    ck_assert_int_eq(listed(list, "https://a.example/%63b"), 0);
    ck_assert_int_eq(listed(list, "http://127.0.0.1:8081/cb"), 0);
    ck_assert_int_eq(listed(list, "http://localhost:8080/cb"), 0);
    ck_assert_int_eq(listed(list, "https://b.example/x?y=1&z=2"), 0);
    ck_assert_int_eq(listed(list, "https://b.example/x"), 0);

    /* no line spanning, no prefix or suffix of a line */
    ck_assert_int_eq(listed(list, "https://a.example/cb\nhttp://127.0.0.1"
                                  ":8080/cb"), 0);
    ck_assert_int_eq(listed(list, "https://a.example/cb\n"), 0);
    ck_assert_int_eq(listed(list, "cb"), 0);
    ck_assert_int_eq(listed(list, ""), 0);
}
END_TEST


START_TEST(listed_edges)
{
    ck_assert_int_eq(listed("", "https://a/"), 0);
    ck_assert_int_eq(listed("\n\n", ""), 0);
    ck_assert_int_eq(listed("https://a/\n", "https://a/"), 1);
    ck_assert_int_eq(listed("\nhttps://a/", "https://a/"), 1);
    ck_assert_int_eq(listed("https://a/\r\n", "https://a/"), 0);
    ck_assert_int_eq(sq_redirect_uri_listed(NULL, 0, "x", 1), 0);

    /* the list's length bounds it, not a NUL */
    ck_assert_int_eq(sq_redirect_uri_listed("https://a/bc", 10,
                                            "https://a/", 10), 1);
    ck_assert_int_eq(sq_redirect_uri_listed("https://a/bc", 10,
                                            "https://a/bc", 12), 0);
}
END_TEST


Suite *
sq_redirect_suite(void)
{
    Suite  *s = suite_create("redirect");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, accepted);
    tcase_add_test(tc, refused);
    tcase_add_test(tc, nul_inside);
    tcase_add_test(tc, length);
    tcase_add_test(tc, reasons);
    tcase_add_test(tc, listed_exact);
    tcase_add_test(tc, listed_edges);
    suite_add_tcase(s, tc);

    return s;
}
