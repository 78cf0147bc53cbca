/*
 * Check suites of the backend and the throwaway Redis they may use.
 */

#ifndef SQ_TESTS_H
#define SQ_TESTS_H

#include <check.h>
#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#include "sq_store.h"

Suite *sq_suite_json(void);
Suite *sq_suite_auth(void);
Suite *sq_suite_social(void);
Suite *sq_suite_route(void);
Suite *sq_suite_store(void);
Suite *sq_suite_resource(void);
Suite *sq_suite_keys(void);
Suite *sq_suite_replay(void);
Suite *sq_suite_metrics(void);
Suite *sq_suite_redis_auth(void);
Suite *sq_suite_flat(void);
Suite *sq_suite_apps(void);       /* issue 14 */
Suite *sq_suite_oauth(void);      /* issue 14, oauth */
Suite *sq_suite_activity(void);   /* issue 16, keyops */
Suite *sq_suite_sentinel(void);   /* issue 15 */

typedef struct {
    pid_t   pid;
    int     port;
} sq_test_redis_t;

/* Starts redis-server on a free port, waits for PING; 0 or -1. */
int sq_test_redis_start(sq_test_redis_t *r);

void sq_test_redis_stop(sq_test_redis_t *r);

/* The server of a TCase made by sq_test_redis_tcase. */
extern sq_test_redis_t  sq_test_redis;

/* Unchecked fixture: starts sq_test_redis, stops it. */
void sq_test_redis_setup(void);
void sq_test_redis_teardown(void);

/* A TCase "redis" with that fixture and a 30 s timeout. */
TCase *sq_test_redis_tcase(void);

/* Connects to t and flushes it; load_functions: loads the library too. */
redisContext *sq_test_redis_connect(const sq_test_redis_t *t,
    int load_functions);

/* Loads the Redis function library into c. */
void sq_test_redis_load_functions(redisContext *c);

/* Creates a record of res in wid (test mode if test), created and updated
 * at now, from a JSON object of its fields completed with defaults, with
 * the API's function (sq_res_insert); SQ_ERR_TAKEN or SQ_ERR_BADREF as
 * it refuses. */
sq_rc_t sq_test_record_create(redisContext *c, const sq_resource_t *res,
    uint64_t wid, int test, int64_t now, const char *json, sq_record_t *rec);

#endif /* SQ_TESTS_H */
