/* Runs every unit suite; exit status is the number of failures (capped). */

#include <stdlib.h>
#include <string.h>

#include "unit.h"


void
sq_test_key(char *buf, const char *prefix, size_t body_len, char fill)
{
    size_t  n = strlen(prefix);

    memcpy(buf, prefix, n);
    memset(buf + n, fill, body_len);
    buf[n + body_len] = '\0';
}


int
main(void)
{
    int       failed;
    SRunner  *sr;

    sr = srunner_create(sq_bearer_suite());
    srunner_add_suite(sr, sq_workspace_suite());
    srunner_add_suite(sr, sq_identity_suite());
    srunner_add_suite(sr, sq_authz_suite());
    srunner_add_suite(sr, sq_redis_auth_suite());
    srunner_add_suite(sr, sq_form_suite());
    srunner_add_suite(sr, sq_redirect_suite());

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
