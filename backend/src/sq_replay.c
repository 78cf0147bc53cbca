/*
 * sq_replay: the per-process anti-replay window of signed identities.
 */

#include <stdlib.h>
#include <string.h>

#include "sq_replay.h"


#define SQ_REPLAY_WORDS  (SQ_REPLAY_WINDOW / 64)


int
sq_replay_init(sq_replay_t *rp, int64_t now)
{
    memset(rp, 0, sizeof(*rp));

    rp->slots = calloc(SQ_REPLAY_STREAMS, sizeof(sq_replay_stream_t));
    if (rp->slots == NULL) {
        return -1;
    }

    rp->started = now;

    return 0;
}


void
sq_replay_free(sq_replay_t *rp)
{
    size_t  i;

    if (rp->slots != NULL) {
        for (i = 0; i < SQ_REPLAY_STREAMS; i++) {
            free(rp->slots[i].bits);
        }
        free(rp->slots);
    }

    memset(rp, 0, sizeof(*rp));
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
sq_replay_slot(sq_replay_t *rp, const uint8_t *id, int64_t now)
{
    size_t               h, i;
    sq_replay_stream_t  *s, *free_slot;

    h = ((size_t) id[0] << 24 | (size_t) id[1] << 16
         | (size_t) id[2] << 8 | id[3]);
    free_slot = NULL;

    for (i = 0; i < SQ_REPLAY_PROBES; i++) {
        s = &rp->slots[(h + i) & (SQ_REPLAY_STREAMS - 1)];

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
sq_replay_start(sq_replay_t *rp, sq_replay_stream_t *s, const uint8_t *id,
    uint64_t seq, int64_t ts)
{
    if (s->bits == NULL) {
        s->bits = calloc(SQ_REPLAY_WORDS, sizeof(uint64_t));
        if (s->bits == NULL) {
            return SQ_REPLAY_NOMEM;
        }

    } else {
        memset(s->bits, 0, SQ_REPLAY_WORDS * sizeof(uint64_t));
    }

    if (!s->used) {
        rp->streams++;
    }

    memcpy(s->id, id, SQ_NONCE_STREAM_BYTES);
    s->used = 1;
    s->top = seq;
    s->newest = ts;
    (void) sq_replay_bit_test_set(s->bits, seq);

    return SQ_REPLAY_FRESH;
}


sq_replay_rc_t
sq_replay_check(sq_replay_t *rp, const char *nonce, size_t len, int64_t ts,
    int64_t now)
{
    uint8_t              id[SQ_NONCE_STREAM_BYTES];
    uint64_t             seq, c;
    sq_replay_stream_t  *s;

    if (sq_nonce_parse(nonce, len, id, &seq) != 0 || seq == 0) {
        return SQ_REPLAY_SEEN;
    }

    if (ts < rp->started) {
        return SQ_REPLAY_UNSURE;
    }

    s = sq_replay_slot(rp, id, now);
    if (s == NULL) {
        return SQ_REPLAY_UNSURE;
    }

    if (!s->used || memcmp(s->id, id, SQ_NONCE_STREAM_BYTES) != 0) {
        return sq_replay_start(rp, s, id, seq, ts);
    }

    if (ts > s->newest) {
        s->newest = ts;
    }

    if (seq > s->top) {
        if (seq - s->top >= SQ_REPLAY_WINDOW) {
            memset(s->bits, 0, SQ_REPLAY_WORDS * sizeof(uint64_t));

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
