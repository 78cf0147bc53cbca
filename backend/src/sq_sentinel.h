/*
 * sq_sentinel: finding the Redis primary through Redis Sentinel (issue
 * 15).  The list of sentinels and the master's name as the backend and
 * sqctl take them (--redis-sentinel HOST:PORT[,HOST:PORT...] and
 * --redis-master NAME), the readers of the sentinels' replies, and
 * sqctl's synchronous lookup.  The backend's own, asynchronous lookup
 * is sq_asentinel.h.
 */

#ifndef SQ_SENTINEL_H
#define SQ_SENTINEL_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "sq_redis.h"

#define SQ_SENTINEL_ENV         "SMARTLYQ_REDIS_SENTINEL"
#define SQ_MASTER_ENV           "SMARTLYQ_REDIS_MASTER"
#define SQ_SENTINEL_MAX         8
#define SQ_MASTER_NAME_MAX      64      /* [A-Za-z0-9_.-] */

typedef struct {
    sq_redis_addr_t  addr[SQ_SENTINEL_MAX];     /* each with its AUTH */
    size_t           n;
    char             master[SQ_MASTER_NAME_MAX + 1];
} sq_sentinel_conf_t;

/*
 * "HOST:PORT[,HOST:PORT...]" (no unix sockets, at most SQ_SENTINEL_MAX,
 * no empty item) and a master name; returns 0, or -1 with sc cleared.
 */
int sq_sentinel_parse(const char *list, const char *master,
    sq_sentinel_conf_t *sc);

/* AUTH to every sentinel (--sentinel-password-file); a is copied. */
void sq_sentinel_set_auth(sq_sentinel_conf_t *sc, const sq_redis_auth_t *a);

/* Wipes the sentinels' password. */
void sq_sentinel_clear(sq_sentinel_conf_t *sc);

/*
 * The reply to SENTINEL get-master-addr-by-name, ["ip", "port"], into
 * a's host and port (a's auth is left alone); 0, or -1 for anything
 * else (nil: the sentinel knows no such master).
 */
int sq_sentinel_master_reply(const redisReply *r, sq_redis_addr_t *a);

/* 1 when the reply to ROLE names a primary ("master", ...). */
int sq_sentinel_role_master(const redisReply *r);

/*
 * A +switch-master message, "<name> <old ip> <old port> <new ip> <new
 * port>": the new address into a's host and port when name is the
 * master's; 0, or -1 (another master's, or malformed).
 */
int sq_sentinel_switch_parse(const char *msg, size_t len,
    const char *name, sq_redis_addr_t *a);

/*
 * sqctl's lookup: asks the sentinels in turn for the primary, connects
 * to it with auth (Redis's password) and checks ROLE; the context, or
 * NULL with err set.
 */
redisContext *sq_sentinel_connect(const sq_sentinel_conf_t *sc,
    const sq_redis_auth_t *auth, int timeout_ms, char *err,
    size_t errlen);

#endif /* SQ_SENTINEL_H */
