/*
 * sq_ctx: the backend's one context; all mutable state hangs off it.
 */

#ifndef SQ_CTX_H
#define SQ_CTX_H

#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>

#include "sq_aredis.h"
#include "sq_asentinel.h"
#include "sq_identity.h"
#include "sq_redis.h"
#include "sq_replay.h"

typedef struct {
    struct event_base  *base;
    struct evhttp      *http;
    struct event       *sig_term;
    struct event       *sig_int;
    struct event       *redis_timer;
    sq_redis_t          redis;
    sq_replay_t         replay;         /* identities seen */
    const char         *pid_file;       /* set once written */
    uint8_t             signing_key[SQ_SECRET_BYTES];
    uint8_t             pepper[SQ_SECRET_BYTES];   /* key digests */
    int                 has_pepper;     /* else no keys are made */
    /* this worker process's listener and its graceful stop */
    struct evhttp_bound_socket  *bound;     /* NULL once closed */
    struct event       *drain_timer;
    unsigned            in_flight;      /* requests not answered yet */
    int                 draining;       /* stopped accepting */
    sq_aredis_t         aredis;         /* the requests' async link */
    unsigned            signin_verifying;   /* Argon2id threads running */
    /* issue 15: Sentinel and WAIT */
    int                 use_sentinel;   /* the primary is found through */
    sq_sentinel_conf_t  sentinel;
    sq_asentinel_t      asentinel;      /* the worker's lookup */
    sq_aredis_t         awrite;         /* writes + WAIT (wait_replicas) */
    int                 wait_replicas;  /* 0: no WAIT */
    int                 wait_timeout_ms;
} sq_ctx_t;

#endif /* SQ_CTX_H */
