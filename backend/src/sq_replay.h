/*
 * sq_replay: every signed identity is accepted once by the backend,
 * reads included, whichever of its worker processes gets it, with no
 * I/O and bounded memory.
 *
 * The edge's nonce is a per-worker stream id and a counter
 * (sq_nonce_next_hex).  For each stream seen, the backend keeps the
 * highest counter and a window of SQ_REPLAY_WINDOW bits below it, as
 * IPsec's anti-replay window does:
 *   - a counter above the highest is new: the window slides up to it;
 *   - a counter inside the window is new unless its bit is set;
 *   - a counter below the window cannot be told apart from a replay.
 * A stream whose newest timestamp is past the signature window holds no
 * acceptable nonce any more, and its slot may be reused.  Identities
 * signed before the window was made (the service's start: the
 * supervisor makes it before it forks the workers, and a restarted
 * worker keeps it) may have been seen by the service before it and
 * cannot be told apart either.  Both are UNSURE: the caller answers 503
 * (retry), never a pass.
 *
 * The window is one fixed-size MAP_SHARED mapping under one
 * process-shared robust mutex.  A worker that dies holding it may have
 * left a stream half updated: the next locker empties the window and
 * moves its start past the current second, so that every identity
 * signed until then is UNSURE, never FRESH twice.
 *
 * Writes are also claimed in Redis (sq_nonce.h), which every backend
 * process and host shares and which outlives a restart.
 */

#ifndef SQ_REPLAY_H
#define SQ_REPLAY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "sq_identity.h"

#define SQ_REPLAY_WINDOW   16384            /* counters, a multiple of 64 */
#define SQ_REPLAY_STREAMS  4096             /* slots, a power of two */
#define SQ_REPLAY_PROBES   64               /* slots looked at per stream */

typedef struct {
    uint8_t    id[SQ_NONCE_STREAM_BYTES];
    int        used;
    uint64_t   top;                         /* highest counter seen */
    int64_t    newest;                      /* highest timestamp seen */
    uint64_t   bits[SQ_REPLAY_WINDOW / 64];
} sq_replay_stream_t;

/* the shared mapping: about 8.5 MB, touched as streams come */
typedef struct {
    pthread_mutex_t      lock;              /* process-shared, robust */
    int64_t              started;           /* unix seconds */
    size_t               streams;           /* slots in use */
    uint64_t             recovered;         /* locks taken from the dead */
    sq_replay_stream_t   slots[SQ_REPLAY_STREAMS];
} sq_replay_shm_t;

typedef struct {
    sq_replay_shm_t     *shm;               /* shared by fork */
} sq_replay_t;

typedef enum {
    SQ_REPLAY_FRESH = 0,
    SQ_REPLAY_SEEN,         /* a replay, or a malformed nonce: 401 */
    SQ_REPLAY_UNSURE,       /* cannot tell: 503, never a pass */
    SQ_REPLAY_NOMEM         /* not returned by the shared window */
} sq_replay_rc_t;

/*
 * Maps the window, shared with every process forked after this call;
 * identities signed before now are UNSURE.  Returns 0, or -1 (no memory
 * or no process-shared mutex).
 */
int sq_replay_init(sq_replay_t *rp, int64_t now);

/* Unmaps this process's view; the others keep theirs. */
void sq_replay_free(sq_replay_t *rp);

/*
 * Records the nonce (SQ_NONCE_HEX_LEN hex digits) of an identity whose
 * signature and timestamp ts were verified at time now.
 */
sq_replay_rc_t sq_replay_check(sq_replay_t *rp, const char *nonce,
    size_t len, int64_t ts, int64_t now);

#endif /* SQ_REPLAY_H */
