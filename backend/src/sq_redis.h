/*
 * sq_redis: addresses, synchronous hiredis connections with timeouts,
 * FUNCTION LOAD, and the backend's self-healing connection.
 */

#ifndef SQ_REDIS_H
#define SQ_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "sq_redis_auth.h"

#define SQ_REDIS_DEFAULT        "127.0.0.1:6379"
#define SQ_REDIS_ENV            "SMARTLYQ_REDIS"
#define SQ_REDIS_TIMEOUT_MS     200
#define SQ_REDIS_RETRY_MS       100
#define SQ_FUNCTIONS_MAX        (1024 * 1024)

typedef struct {
    char             host[256];  /* host name, or socket path when is_unix */
    int              port;
    int              is_unix;
    sq_redis_auth_t  auth;       /* sent first when auth.pass is set */
} sq_redis_addr_t;

typedef struct {
    sq_redis_addr_t   addr;
    redisContext     *c;
    char             *functions;      /* owned, may be NULL */
    size_t            functions_len;
    int64_t           last_try_ms;
    int               down_logged;
} sq_redis_t;

/* "HOST:PORT", "[v6]:PORT" or "unix:/path"; returns 0 or -1 */
int sq_redis_addr_parse(const char *s, sq_redis_addr_t *a);

/*
 * Connected context with read/write timeouts, authenticated when a->auth
 * holds a password, or NULL and err set ("AUTH refused: <Redis's
 * error>" when Redis refused the password; never the password).
 */
redisContext *sq_redis_connect(const sq_redis_addr_t *a, int timeout_ms,
    char *err, size_t errlen);

/* FUNCTION LOAD REPLACE src; returns 0 or -1 and err set */
int sq_redis_function_load(redisContext *c, const char *src, size_t len,
    char *err, size_t errlen);

/*
 * SET SQ_K_EPOCH <random> NX: a new marker when there is none (a new or
 * flushed Redis; FLUSHALL, FLUSHDB and SWAPDB publish no keyspace
 * events, but they remove or replace this key, which the edge's cache
 * watches); returns 0 or -1 and err set.
 */
int sq_redis_marker(redisContext *c, char *err, size_t errlen);

/* Reads a whole file of at most max bytes, NUL-terminated. */
int sq_file_read(const char *path, size_t max, char **out, size_t *len,
    char *err, size_t errlen);

/* Takes ownership of functions (may be NULL). */
void sq_redis_init(sq_redis_t *r, const sq_redis_addr_t *a,
    char *functions, size_t functions_len);

/*
 * The live context, (re)connecting and loading the functions when no
 * connection is up and the last attempt is older than SQ_REDIS_RETRY_MS.
 * NULL when Redis is not available.
 */
redisContext *sq_redis_get(sq_redis_t *r);

void sq_redis_free(sq_redis_t *r);

#endif /* SQ_REDIS_H */
