/*
 * Check suites of the backend and the throwaway Redis they may use.
 */

#ifndef SQ_TESTS_H
#define SQ_TESTS_H

#include <check.h>
#include <sys/types.h>

Suite *sq_suite_json(void);
Suite *sq_suite_auth(void);
Suite *sq_suite_social(void);
Suite *sq_suite_route(void);
Suite *sq_suite_store(void);
Suite *sq_suite_resource(void);
Suite *sq_suite_store_resource(void);
Suite *sq_suite_keys(void);

typedef struct {
    pid_t   pid;
    int     port;
} sq_test_redis_t;

/* Starts redis-server on a free port, waits for PING; 0 or -1. */
int sq_test_redis_start(sq_test_redis_t *r);

void sq_test_redis_stop(sq_test_redis_t *r);

#endif /* SQ_TESTS_H */
