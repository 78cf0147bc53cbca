/* Check suites for the plain-C parts shared by the module and backend */

#ifndef SQ_UNIT_H
#define SQ_UNIT_H

#include <check.h>

Suite *sq_bearer_suite(void);
Suite *sq_workspace_suite(void);
Suite *sq_identity_suite(void);
Suite *sq_authz_suite(void);
Suite *sq_redis_auth_suite(void);
Suite *sq_form_suite(void);
Suite *sq_redirect_suite(void);

/* a key of the right shape, built at run time (no key in the source) */
void sq_test_key(char *buf, const char *prefix, size_t body_len, char fill);

#endif
