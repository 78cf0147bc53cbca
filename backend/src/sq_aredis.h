/*
 * sq_aredis: the backend's asynchronous Redis link, hiredis's async API
 * on the server's own event loop, so that no request waits for another's
 * reply.  The link connects on first use, authenticates, loads the
 * functions and puts the epoch marker back, then carries every request's
 * command; it reconnects after SQ_REDIS_RETRY_MS when it drops.
 *
 * A command gets exactly one answer through its callback: its reply, or
 * NULL when no reply came within SQ_REDIS_TIMEOUT_MS, the link dropped,
 * or the link went away (sq_aredis_free).  A reply that comes after that
 * answer is read and thrown away; it reaches nobody.
 */

#ifndef SQ_AREDIS_H
#define SQ_AREDIS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <hiredis/async.h>

#include "sq_redis.h"

/* commands sent and not yet answered by Redis, timed out ones included */
#define SQ_AREDIS_INFLIGHT_MAX  1024

/* the reply is hiredis's: valid during the call only */
typedef void (*sq_aredis_fn)(redisReply *reply, void *data);

typedef struct {
    struct event_base   *base;
    const sq_redis_t    *conf;          /* address, password, functions */
    redisAsyncContext   *ac;            /* NULL: down */
    int64_t              last_try_ms;
    int64_t              last_reply_ms;
    size_t               inflight;
    int                  down_logged;
    int                  full_logged;
} sq_aredis_t;

/* Binds the link to a loop and a configuration; connects on first use. */
void sq_aredis_init(sq_aredis_t *l, struct event_base *base,
    const sq_redis_t *conf);

/*
 * Sends argv; fn will be called exactly once, later, never from within
 * this call.  Returns 0, or -1 when Redis is unavailable (down and in
 * its retry delay, or SQ_AREDIS_INFLIGHT_MAX commands in flight): then
 * fn is not called.
 */
int sq_aredis_send(sq_aredis_t *l, int argc, const char **argv,
    const size_t *lens, sq_aredis_fn fn, void *data);

/*
 * Once a second, without waiting: connects when the link is down (which
 * loads the functions and sets the marker), else SET SQ_K_EPOCH NX, so
 * a FLUSHALL's missing marker is back within a second.
 */
void sq_aredis_tick(sq_aredis_t *l);

/* The hiredis context of the link, or NULL (metrics). */
const redisContext *sq_aredis_context(const sq_aredis_t *l);

/* Drops the link: every command in flight is answered NULL. */
void sq_aredis_free(sq_aredis_t *l);

#endif /* SQ_AREDIS_H */
