/*
 * sq_asentinel: the backend's lookup of the Redis primary through
 * Sentinel, on the worker's libevent loop (hiredis async), never
 * blocking it.
 *
 * It asks one sentinel at a time SENTINEL get-master-addr-by-name,
 * every SQ_ASENTINEL_TICK_MS and whenever the Redis link asks
 * (sq_asentinel_ask: link lost, READONLY, a ROLE that is not master),
 * moving on to the next sentinel when one fails or stays silent; and it
 * stays subscribed to +switch-master on one sentinel.  When the answer
 * differs from the address in use, it writes the new one into the
 * primary's address and calls changed(), which drops the links so that
 * they reconnect there (and check ROLE).
 */

#ifndef SQ_ASENTINEL_H
#define SQ_ASENTINEL_H

#include <stdint.h>

#include <event2/event.h>
#include <hiredis/async.h>

#include "sq_sentinel.h"

#define SQ_ASENTINEL_TICK_MS    500     /* the periodic re-check */
#define SQ_ASENTINEL_ASK_MS     50      /* at most one question per */
#define SQ_ASENTINEL_SILENT_MS  1000    /* a sentinel that long silent */

typedef void (*sq_asentinel_fn)(void *arg);

typedef struct {
    struct event_base         *base;
    const sq_sentinel_conf_t  *conf;
    sq_redis_addr_t           *primary;     /* host "" while unknown */
    sq_asentinel_fn            changed;
    void                      *arg;
    redisAsyncContext         *q;           /* questions, or NULL */
    redisAsyncContext         *sub;         /* +switch-master, or NULL */
    size_t                     q_idx;       /* the sentinel asked */
    size_t                     sub_idx;
    int64_t                    q_sent_ms;   /* 0: no question out */
    int64_t                    last_ask_ms;
    int64_t                    sub_try_ms;
    struct event              *timer;
    int                        logged;      /* "no sentinel answers" */
} sq_asentinel_t;

/* Starts asking (now and every SQ_ASENTINEL_TICK_MS); 0 or -1. */
int sq_asentinel_start(sq_asentinel_t *s, struct event_base *base,
    const sq_sentinel_conf_t *conf, sq_redis_addr_t *primary,
    sq_asentinel_fn changed, void *arg);

/* Asks again now (at most once per SQ_ASENTINEL_ASK_MS). */
void sq_asentinel_ask(void *s);

void sq_asentinel_free(sq_asentinel_t *s);

#endif /* SQ_ASENTINEL_H */
