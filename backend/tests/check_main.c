/*
 * Runs every backend suite; exit status 0 only when all pass.
 */

#include <stdlib.h>

#include "sq_identity.h"
#include "tests.h"


int
main(void)
{
    int       failed;
    SRunner  *sr;

    if (sq_crypto_init() != 0) {
        return EXIT_FAILURE;
    }

    sr = srunner_create(sq_suite_json());
    srunner_add_suite(sr, sq_suite_auth());
    srunner_add_suite(sr, sq_suite_social());
    srunner_add_suite(sr, sq_suite_route());
    srunner_add_suite(sr, sq_suite_store());
    srunner_add_suite(sr, sq_suite_resource());
    srunner_add_suite(sr, sq_suite_keys());
    srunner_add_suite(sr, sq_suite_replay());
    srunner_add_suite(sr, sq_suite_metrics());
    srunner_add_suite(sr, sq_suite_redis_auth());
    srunner_add_suite(sr, sq_suite_flat());
    srunner_add_suite(sr, sq_suite_apps());
    srunner_add_suite(sr, sq_suite_oauth());
    srunner_add_suite(sr, sq_suite_activity());     /* issue 16, keyops */
    srunner_add_suite(sr, sq_suite_sentinel());     /* issue 15 */

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
