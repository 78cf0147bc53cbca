/* the Redis password file: what is accepted, what is refused */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sq_redis_auth.h"
#include "unit.h"


#define HEX64                                                                 \
    "0123456789abcdef0123456789abcdef0123456789ABCDEF0123456789abcdef"


static int
load(const char *text, sq_redis_auth_t *a, char *err, size_t errlen)
{
    int    rc;
    char   path[] = "/tmp/sq-redis-auth-XXXXXX";
    int    fd;
    FILE  *f;

    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);

    rc = sq_redis_auth_load(path, a, err, errlen);
    unlink(path);

    return rc;
}


START_TEST(password_alone)
{
    char             err[256];
    sq_redis_auth_t  a;

    ck_assert_int_eq(load(HEX64 "\n", &a, err, sizeof(err)), 0);
    ck_assert_str_eq(a.pass, HEX64);
    ck_assert_str_eq(a.user, "");

    ck_assert_int_eq(load("\n  " HEX64 " \r\n\n", &a, err, sizeof(err)), 0);
    ck_assert_str_eq(a.pass, HEX64);
}
END_TEST


START_TEST(user_then_password)
{
    char             err[256];
    sq_redis_auth_t  a;

    ck_assert_int_eq(load("user sq-edge\n" HEX64 "\n", &a, err,
                          sizeof(err)), 0);
    ck_assert_str_eq(a.user, "sq-edge");
    ck_assert_str_eq(a.pass, HEX64);
}
END_TEST


START_TEST(refused)
{
    char             err[256];
    sq_redis_auth_t  a;
    const char      *bad[] = {
        "",
        "\n\n",
        "0123456789abcdef\n",                        /* short */
        HEX64 "0\n",                                 /* long */
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
        HEX64 "\nuser sq-edge\n",                    /* user after */
        HEX64 "\n" HEX64 "\n",                       /* twice */
        "user a\nuser b\n" HEX64 "\n",
        "user \n" HEX64 "\n",
        "user a b\n" HEX64 "\n",
        "user a:b\n" HEX64 "\n",
        "user sq-edge\n",                            /* no password */
        "012345678 9abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    };
    size_t           i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(load(bad[i], &a, err, sizeof(err)) == -1,
                      "accepted case %zu", i);
        ck_assert_str_eq(a.pass, "");
        ck_assert_ptr_null(strstr(err, "0123456789"));
    }

    ck_assert_int_eq(sq_redis_auth_load("/nonexistent/sq-pass", &a, err,
                                        sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
}
END_TEST


Suite *
sq_redis_auth_suite(void)
{
    Suite  *s = suite_create("sq_redis_auth");
    TCase  *tc = tcase_create("file");

    tcase_add_test(tc, password_alone);
    tcase_add_test(tc, user_then_password);
    tcase_add_test(tc, refused);
    suite_add_tcase(s, tc);

    return s;
}
