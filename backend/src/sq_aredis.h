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
    /* issue 15: Sentinel and WAIT */
    int64_t              timeout_ms;    /* an op's wait for its reply */
    int                  check_role;    /* ROLE must say master */
    void               (*lost)(void *arg);  /* dropped, READONLY, ... */
    void                *lost_arg;
    int                  wait_logged;
    void                *wait_batch;    /* writes awaiting their WAIT */
    int                  wait_flush_set;    /* the batch's WAIT is due */
    int                  wait_inflight;     /* a WAIT sent, not answered */
    int                  wait_ms;
    int                  flushing;      /* in hiredis's write handler */
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

/*
 * issue 15: argv, then WAIT n ms pipelined on the same link (one WAIT for
 * all the writes sent in the same pass of the loop); fn gets the
 * command's reply once WAIT reported at least n replicas, or the reply
 * itself when it is an error, or NULL (no reply, or the link dropped),
 * or else an error reply "NOTREPLICATED <acked> <n>": the command ran on
 * the primary but n replicas did not confirm it within ms (it may still
 * reach them, or be lost in a failover).  As sq_aredis_send otherwise.
 */
int sq_aredis_send_wait(sq_aredis_t *l, int argc, const char **argv,
    const size_t *lens, int n, int ms, sq_aredis_fn fn, void *data);

/* 1 when reply is the NOTREPLICATED answer of sq_aredis_send_wait */
int sq_aredis_not_replicated(const redisReply *reply);

/* Drops the link (the primary moved); it reconnects on its next use. */
void sq_aredis_reset(sq_aredis_t *l, const char *why);

/* Drops the link: every command in flight is answered NULL. */
void sq_aredis_free(sq_aredis_t *l);

#endif /* SQ_AREDIS_H */
