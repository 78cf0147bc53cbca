/*
 * sqctl: shared state and helpers of the admin CLI.  Results go to
 * stdout, diagnostics to stderr; exit 0 ok, 1 failure, 2 usage.
 */

#ifndef SQCTL_H
#define SQCTL_H

#include <hiredis/hiredis.h>

#include "sq_redis.h"
#include "sq_store.h"

#define SQCTL_OK        0
#define SQCTL_FAIL      1
#define SQCTL_USAGE     2

#define SQCTL_PEPPER_ENV    "SMARTLYQ_PEPPER_FILE"
#define SQCTL_TIMEOUT_MS    2000

typedef struct {
    sq_redis_addr_t   addr;
    const char       *pepper_file;
    const char       *redis_password_file;  /* read on connecting */
    redisContext     *c;
    /* issue 15: the primary through Sentinel, WAIT after writes */
    const char       *sentinel;             /* NULL: addr */
    const char       *master;
    const char       *sentinel_password_file;
    int               wait_replicas;        /* -1: 1 with Sentinel */
    int               wait_timeout_ms;
} sqctl_t;

typedef int (*sqctl_cmd_t)(sqctl_t *s, int argc, char **argv);

/* Connects s->c; prints the reason and returns SQCTL_FAIL on error. */
int sqctl_connect(sqctl_t *s);

/* Prints "sqctl: what: reason" and returns SQCTL_FAIL. */
int sqctl_fail(const char *what, sq_rc_t rc);

/* commands */
int sqctl_secret(sqctl_t *s, int argc, char **argv);
int sqctl_init(sqctl_t *s, int argc, char **argv);
int sqctl_user_create(sqctl_t *s, int argc, char **argv);
int sqctl_user_password(sqctl_t *s, int argc, char **argv);
int sqctl_workspace_create(sqctl_t *s, int argc, char **argv);
int sqctl_member_add(sqctl_t *s, int argc, char **argv);
int sqctl_member_remove(sqctl_t *s, int argc, char **argv);
int sqctl_key_create(sqctl_t *s, int argc, char **argv);
int sqctl_key_disable(sqctl_t *s, int argc, char **argv);
int sqctl_key_enable(sqctl_t *s, int argc, char **argv);
int sqctl_key_list(sqctl_t *s, int argc, char **argv);
int sqctl_key_rotate(sqctl_t *s, int argc, char **argv);
int sqctl_key_delete(sqctl_t *s, int argc, char **argv);
int sqctl_key_review(sqctl_t *s, int argc, char **argv);
int sqctl_key_usage(sqctl_t *s, int argc, char **argv);
int sqctl_account_create(sqctl_t *s, int argc, char **argv);
/* issue 14 (apps): sqctl_cmd_app.c */
int sqctl_app_create(sqctl_t *s, int argc, char **argv);
int sqctl_app_list(sqctl_t *s, int argc, char **argv);
int sqctl_app_get(sqctl_t *s, int argc, char **argv);
int sqctl_app_update(sqctl_t *s, int argc, char **argv);
int sqctl_app_disable(sqctl_t *s, int argc, char **argv);
int sqctl_app_enable(sqctl_t *s, int argc, char **argv);
int sqctl_app_delete(sqctl_t *s, int argc, char **argv);
int sqctl_app_rotate_secret(sqctl_t *s, int argc, char **argv);
int sqctl_app_authorizations(sqctl_t *s, int argc, char **argv);
int sqctl_app_revoke(sqctl_t *s, int argc, char **argv);
int sqctl_app_outcomes(sqctl_t *s, int argc, char **argv);
/* issue 16 (keyops): sqctl_cmd_keyops.c; key review moved there */
int sqctl_key_activity(sqctl_t *s, int argc, char **argv);
int sqctl_key_set(sqctl_t *s, int argc, char **argv);
int sqctl_key_notify(sqctl_t *s, int argc, char **argv);
int sqctl_user_notifications(sqctl_t *s, int argc, char **argv);
int sqctl_app_owner_set(sqctl_t *s, int argc, char **argv);
int sqctl_activity_unknown(sqctl_t *s, int argc, char **argv);

#endif /* SQCTL_H */
