/*
 * sq_redis_auth: the Redis password file, shared by the module, the
 * backend and sqctl so that all three read it alike.
 *
 * The file holds the password as 64 hex digits (`sqctl secret`), alone
 * on its line, optionally after a line "user NAME" naming a Redis ACL
 * user; without it the password is the default user's (requirepass).
 * Blank lines and surrounding white space are ignored; anything else is
 * an error.  The password is sent as given, never logged.
 */

#ifndef SQ_REDIS_AUTH_H
#define SQ_REDIS_AUTH_H

#include <stddef.h>

#define SQ_REDIS_USER_MAX   64      /* [A-Za-z0-9_.-] */
#define SQ_REDIS_PASS_LEN   64      /* hex digits */
#define SQ_REDIS_AUTH_ENV   "SMARTLYQ_REDIS_PASSWORD_FILE"

typedef struct {
    char  user[SQ_REDIS_USER_MAX + 1];  /* "": the default user */
    char  pass[SQ_REDIS_PASS_LEN + 1];  /* "": no AUTH at all */
} sq_redis_auth_t;

/*
 * Reads path into a; returns 0, or -1 with err set (naming the file and
 * the problem, never its content) and a cleared.
 */
int sq_redis_auth_load(const char *path, sq_redis_auth_t *a, char *err,
    size_t errlen);

/* Wipes the password. */
void sq_redis_auth_clear(sq_redis_auth_t *a);

#endif /* SQ_REDIS_AUTH_H */
