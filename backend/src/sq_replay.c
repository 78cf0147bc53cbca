/*
 * sq_replay: the backend's anti-replay window of signed identities, in
 * memory shared by its worker processes.
 */

#define _DEFAULT_SOURCE             /* MAP_ANONYMOUS */

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "sq_replay.h"


#define SQ_REPLAY_WORDS  (SQ_REPLAY_WINDOW / 64)


static int
sq_replay_lock_init(pthread_mutex_t *m)
{
    int                  rc;
    pthread_mutexattr_t  a;

    if (pthread_mutexattr_init(&a) != 0) {
        return -1;
    }

    rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0
         || pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0
         || pthread_mutex_init(m, &a) != 0;

    pthread_mutexattr_destroy(&a);

    return rc ? -1 : 0;
}


int
sq_replay_init(sq_replay_t *rp, int64_t now)
{
    void  *p;

    rp->shm = NULL;

    /* zero-filled; pages are only backed once a stream touches them */
    p = mmap(NULL, sizeof(sq_replay_shm_t), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return -1;
    }

    rp->shm = p;
    rp->shm->started = now;

    if (sq_replay_lock_init(&rp->shm->lock) != 0) {
        sq_replay_free(rp);
        return -1;
    }

    return 0;
}


void
sq_replay_free(sq_replay_t *rp)
{
    if (rp->shm != NULL) {
        munmap(rp->shm, sizeof(sq_replay_shm_t));
        rp->shm = NULL;
    }
}


/*
 * The lock; when its holder died, a stream may be half updated (a slid
 * top with its bit unset would take a replay as new): forget every
 * stream and refuse, as UNSURE, whatever was signed up to this second.
 * Returns 0, or -1 when the lock cannot be had.
 */
static int
sq_replay_lock(sq_replay_shm_t *shm, int64_t now)
{
    int  rc;

    rc = pthread_mutex_lock(&shm->lock);

    if (rc == 0) {
        return 0;
    }

    if (rc != EOWNERDEAD) {
        return -1;
    }

    memset(shm->slots, 0, sizeof(shm->slots));
    shm->streams = 0;
    if (shm->started < now + 1) {
        shm->started = now + 1;
    }
    shm->recovered++;

    if (pthread_mutex_consistent(&shm->lock) != 0) {
        pthread_mutex_unlock(&shm->lock);
        return -1;
    }

    return 0;
}


static void
sq_replay_bit_clear(uint64_t *bits, uint64_t c)
{
    bits[(c / 64) % SQ_REPLAY_WORDS] &= ~((uint64_t) 1 << (c % 64));
}


/* sets counter c's bit; returns whether it was set already */
static int
sq_replay_bit_test_set(uint64_t *bits, uint64_t c)
{
    int        was;
    uint64_t  *w, m;

    w = &bits[(c / 64) % SQ_REPLAY_WORDS];
    m = (uint64_t) 1 << (c % 64);
    was = (*w & m) != 0;
    *w |= m;

    return was;
}


/*
 * The stream's slot: its own, else the first stale or empty one on its
 * probe path, taken for it; NULL when every slot looked at holds a live
 * stream.
 */
static sq_replay_stream_t *
sq_replay_slot(sq_replay_shm_t *shm, const uint8_t *id, int64_t now)
{
    size_t               h, i;
    sq_replay_stream_t  *s, *free_slot;

    h = ((size_t) id[0] << 24 | (size_t) id[1] << 16
         | (size_t) id[2] << 8 | id[3]);
    free_slot = NULL;

    for (i = 0; i < SQ_REPLAY_PROBES; i++) {
        s = &shm->slots[(h + i) & (SQ_REPLAY_STREAMS - 1)];

        if (!s->used) {
            if (free_slot == NULL) {
                free_slot = s;
            }
            break;
        }

        if (memcmp(s->id, id, SQ_NONCE_STREAM_BYTES) == 0) {
            return s;
        }

        /* every nonce it holds is outside the signature window now */
        if (free_slot == NULL && s->newest < now - SQ_IDENTITY_SKEW) {
            free_slot = s;
        }
    }

    return free_slot;
}


static sq_replay_rc_t
sq_replay_start(sq_replay_shm_t *shm, sq_replay_stream_t *s,
    const uint8_t *id, uint64_t seq, int64_t ts)
{
    memset(s->bits, 0, sizeof(s->bits));

    if (!s->used) {
        shm->streams++;
    }

    memcpy(s->id, id, SQ_NONCE_STREAM_BYTES);
    s->used = 1;
    s->top = seq;
    s->newest = ts;
    (void) sq_replay_bit_test_set(s->bits, seq);

    return SQ_REPLAY_FRESH;
}


/* the window's verdict on (id, seq, ts); the lock is held */
static sq_replay_rc_t
sq_replay_locked(sq_replay_shm_t *shm, const uint8_t *id, uint64_t seq,
    int64_t ts, int64_t now)
{
    uint64_t             c;
    sq_replay_stream_t  *s;

    if (ts < shm->started) {
        return SQ_REPLAY_UNSURE;
    }

    s = sq_replay_slot(shm, id, now);
    if (s == NULL) {
        return SQ_REPLAY_UNSURE;
    }

    if (!s->used || memcmp(s->id, id, SQ_NONCE_STREAM_BYTES) != 0) {
        return sq_replay_start(shm, s, id, seq, ts);
    }

    if (ts > s->newest) {
        s->newest = ts;
    }

    if (seq > s->top) {
        if (seq - s->top >= SQ_REPLAY_WINDOW) {
            memset(s->bits, 0, sizeof(s->bits));

        } else {
            for (c = s->top + 1; c < seq; c++) {
                sq_replay_bit_clear(s->bits, c);
            }
            sq_replay_bit_clear(s->bits, seq);
        }

        s->top = seq;
        (void) sq_replay_bit_test_set(s->bits, seq);

        return SQ_REPLAY_FRESH;
    }

    if (s->top - seq >= SQ_REPLAY_WINDOW) {
        return SQ_REPLAY_UNSURE;
    }

    return sq_replay_bit_test_set(s->bits, seq) ? SQ_REPLAY_SEEN
                                                : SQ_REPLAY_FRESH;
}


sq_replay_rc_t
sq_replay_check(sq_replay_t *rp, const char *nonce, size_t len, int64_t ts,
    int64_t now)
{
    uint8_t          id[SQ_NONCE_STREAM_BYTES];
    uint64_t         seq;
    sq_replay_rc_t   rc;

    if (sq_nonce_parse(nonce, len, id, &seq) != 0 || seq == 0) {
        return SQ_REPLAY_SEEN;
    }

    if (rp->shm == NULL || sq_replay_lock(rp->shm, now) != 0) {
        return SQ_REPLAY_UNSURE;
    }

    rc = sq_replay_locked(rp->shm, id, seq, ts, now);

    pthread_mutex_unlock(&rp->shm->lock);

    return rc;
}
