/*
 * The shared anti-replay window: fresh, replayed, reordered, slid past,
 * stale streams reused, identities signed before the start; two
 * processes seeing each other's nonces, racing on the same ones, and one
 * dying while it holds the lock.
 */

#define _DEFAULT_SOURCE             /* MAP_ANONYMOUS */

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sq_replay.h"
#include "tests.h"

#define T_START  1795000000


/* the nonce of counter seq on a stream whose id starts with tag */
static void
t_nonce(char out[SQ_NONCE_HEX_LEN + 1], unsigned tag, uint64_t seq)
{
    snprintf(out, SQ_NONCE_HEX_LEN + 1, "%08x%08x%016llx", tag, tag * 7u,
             (unsigned long long) seq);
}


static sq_replay_rc_t
t_check(sq_replay_t *rp, unsigned tag, uint64_t seq, int64_t ts, int64_t now)
{
    char  n[SQ_NONCE_HEX_LEN + 1];

    t_nonce(n, tag, seq);

    return sq_replay_check(rp, n, strlen(n), ts, now);
}


START_TEST(test_replay_once)
{
    sq_replay_t  rp;

    ck_assert_int_eq(sq_replay_init(&rp, T_START), 0);

    ck_assert_int_eq(t_check(&rp, 1, 1, T_START, T_START), SQ_REPLAY_FRESH);
    ck_assert_int_eq(t_check(&rp, 1, 1, T_START, T_START), SQ_REPLAY_SEEN);
    ck_assert_int_eq(t_check(&rp, 1, 2, T_START, T_START), SQ_REPLAY_FRESH);
    /* another stream, same counter */
    ck_assert_int_eq(t_check(&rp, 2, 1, T_START, T_START), SQ_REPLAY_FRESH);
    ck_assert_int_eq(t_check(&rp, 2, 2, T_START, T_START), SQ_REPLAY_FRESH);
    ck_assert_int_eq(t_check(&rp, 1, 2, T_START, T_START), SQ_REPLAY_SEEN);
    ck_assert_uint_eq(rp.shm->streams, 2);

    sq_replay_free(&rp);
}
END_TEST


START_TEST(test_replay_reordered)
{
    uint64_t     c;
    sq_replay_t  rp;

    ck_assert_int_eq(sq_replay_init(&rp, T_START), 0);

    /* 10 and 5 first, then the gaps, each once */
    ck_assert_int_eq(t_check(&rp, 3, 10, T_START, T_START), SQ_REPLAY_FRESH);
    ck_assert_int_eq(t_check(&rp, 3, 5, T_START, T_START), SQ_REPLAY_FRESH);
    for (c = 1; c <= 10; c++) {
        ck_assert_int_eq(t_check(&rp, 3, c, T_START, T_START),
                         c == 5 || c == 10 ? SQ_REPLAY_SEEN
                                           : SQ_REPLAY_FRESH);
    }

    /* slide by less than the window: what was seen stays seen */
    c = 10 + SQ_REPLAY_WINDOW - 1;
    ck_assert_int_eq(t_check(&rp, 3, c, T_START, T_START), SQ_REPLAY_FRESH);
    ck_assert_int_eq(t_check(&rp, 3, 10, T_START, T_START), SQ_REPLAY_SEEN);
    ck_assert_int_eq(t_check(&rp, 3, 11, T_START, T_START), SQ_REPLAY_FRESH);
    /* below the window: cannot tell, never a pass */
    ck_assert_int_eq(t_check(&rp, 3, 9, T_START, T_START), SQ_REPLAY_UNSURE);

    /* a jump past the whole window clears it, the old bits do not alias */
    c += 3 * SQ_REPLAY_WINDOW;
    ck_assert_int_eq(t_check(&rp, 3, c, T_START, T_START), SQ_REPLAY_FRESH);
    ck_assert_int_eq(t_check(&rp, 3, c - SQ_REPLAY_WINDOW + 1, T_START,
                             T_START), SQ_REPLAY_FRESH);
    ck_assert_int_eq(t_check(&rp, 3, c, T_START, T_START), SQ_REPLAY_SEEN);

    sq_replay_free(&rp);
}
END_TEST


START_TEST(test_replay_unsure_and_malformed)
{
    sq_replay_t  rp;

    ck_assert_int_eq(sq_replay_init(&rp, T_START), 0);

    /* signed before this process started */
    ck_assert_int_eq(t_check(&rp, 4, 1, T_START - 1, T_START),
                     SQ_REPLAY_UNSURE);
    /* counter 0 is never sent, bad hex, a short nonce */
    ck_assert_int_eq(t_check(&rp, 4, 0, T_START, T_START), SQ_REPLAY_SEEN);
    ck_assert_int_eq(sq_replay_check(&rp, "zz", 2, T_START, T_START),
                     SQ_REPLAY_SEEN);
    ck_assert_int_eq(sq_replay_check(&rp,
                     "g0000000000000000000000000000001", 32, T_START,
                     T_START), SQ_REPLAY_SEEN);
    ck_assert_uint_eq(rp.shm->streams, 0);

    sq_replay_free(&rp);
}
END_TEST


START_TEST(test_replay_slots)
{
    char         n[SQ_NONCE_HEX_LEN + 1];
    unsigned     i;
    sq_replay_t  rp;

    ck_assert_int_eq(sq_replay_init(&rp, T_START), 0);

    /* SQ_REPLAY_PROBES + 1 live streams on one probe path: the last one
     * cannot be remembered, so it is not accepted */
    for (i = 0; i <= SQ_REPLAY_PROBES; i++) {
        snprintf(n, sizeof(n), "00000000%08x%016x", i + 1, 1u);
        ck_assert_int_eq(sq_replay_check(&rp, n, strlen(n), T_START,
                                         T_START),
                         i < SQ_REPLAY_PROBES ? SQ_REPLAY_FRESH
                                              : SQ_REPLAY_UNSURE);
    }

    /* once their identities are past the signature window, their slots
     * are taken again, and a stream still there is still remembered */
    snprintf(n, sizeof(n), "00000000%08x%016x", 1u, 1u);
    ck_assert_int_eq(sq_replay_check(&rp, n, strlen(n), T_START,
                                     T_START + 10), SQ_REPLAY_SEEN);
    snprintf(n, sizeof(n), "00000000%08x%016x", 9999u, 1u);
    ck_assert_int_eq(sq_replay_check(&rp, n, strlen(n),
                                     T_START + SQ_IDENTITY_SKEW + 1,
                                     T_START + SQ_IDENTITY_SKEW + 1),
                     SQ_REPLAY_FRESH);
    ck_assert_uint_eq(rp.shm->streams, SQ_REPLAY_PROBES);

    sq_replay_free(&rp);
}
END_TEST


START_TEST(test_replay_edge_stream)
{
    char               n[SQ_NONCE_HEX_LEN + 1];
    int                i;
    uint8_t            id[SQ_NONCE_STREAM_BYTES];
    uint64_t           seq;
    sq_replay_t        rp;
    sq_nonce_stream_t  s;

    /* what the edge sends: one stream id, counters from 1 */
    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(sq_replay_init(&rp, T_START), 0);

    for (i = 1; i <= 1000; i++) {
        sq_nonce_next_hex(&s, n);
        ck_assert_int_eq(sq_nonce_parse(n, strlen(n), id, &seq), 0);
        ck_assert_uint_eq(seq, (uint64_t) i);
        ck_assert_mem_eq(id, s.id, sizeof(id));
        ck_assert_int_eq(sq_replay_check(&rp, n, strlen(n), T_START,
                                         T_START), SQ_REPLAY_FRESH);
        ck_assert_int_eq(sq_replay_check(&rp, n, strlen(n), T_START,
                                         T_START), SQ_REPLAY_SEEN);
    }

    sq_replay_free(&rp);
}
END_TEST


/* runs fn(rp, arg) in a child process; returns its exit status */
static int
t_in_child(sq_replay_t *rp, int (*fn)(sq_replay_t *, unsigned), unsigned arg)
{
    int    st;
    pid_t  pid;

    pid = fork();
    ck_assert_int_ge(pid, 0);

    if (pid == 0) {
        _exit(fn(rp, arg));
    }

    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));

    return WEXITSTATUS(st);
}


/* 0 when the child finds counter 1 of stream tag seen and 2 fresh; 1
 * when 1 is not seen, 2 when 2 is not fresh */
static int
t_child_sees(sq_replay_t *rp, unsigned tag)
{
    if (t_check(rp, tag, 1, T_START, T_START) != SQ_REPLAY_SEEN) {
        return 1;
    }

    return t_check(rp, tag, 2, T_START, T_START) == SQ_REPLAY_FRESH ? 0 : 2;
}


START_TEST(test_replay_shared_across_fork)
{
    sq_replay_t  rp;

    ck_assert_int_eq(sq_replay_init(&rp, T_START), 0);

    /* the parent's nonce is seen by a child, the child's by the parent */
    ck_assert_int_eq(t_check(&rp, 5, 1, T_START, T_START), SQ_REPLAY_FRESH);
    ck_assert_int_eq(t_in_child(&rp, t_child_sees, 5), 0);
    ck_assert_int_eq(t_check(&rp, 5, 2, T_START, T_START), SQ_REPLAY_SEEN);
    ck_assert_int_eq(t_check(&rp, 5, 3, T_START, T_START), SQ_REPLAY_FRESH);
    /* a second child (a restarted worker) still sees both */
    ck_assert_int_eq(t_in_child(&rp, t_child_sees, 5), 2);
    ck_assert_uint_eq(rp.shm->streams, 1);

    sq_replay_free(&rp);
}
END_TEST


#define T_RACE_N  3000

/* every counter of stream tag, once; how many were fresh (255 at most,
 * an exit status) */
static int
t_child_race(sq_replay_t *rp, unsigned tag)
{
    unsigned  c, fresh;

    fresh = 0;
    for (c = 1; c <= T_RACE_N; c++) {
        fresh += t_check(rp, tag, c, T_START, T_START) == SQ_REPLAY_FRESH;
    }

    return fresh > 255 ? 255 : (int) fresh;
}


START_TEST(test_replay_race)
{
    int           st;
    pid_t         pid[3];
    unsigned      i, c, fresh, *counts;
    sq_replay_t   rp;

    ck_assert_int_eq(sq_replay_init(&rp, T_START), 0);
    counts = mmap(NULL, sizeof(unsigned) * 3, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert(counts != MAP_FAILED);

    /* three processes send the same 3000 nonces of one stream and of
     * another: each nonce is fresh to exactly one of them */
    for (i = 0; i < 3; i++) {
        pid[i] = fork();
        ck_assert_int_ge(pid[i], 0);
        if (pid[i] == 0) {
            counts[i] = 0;
            for (c = 1; c <= T_RACE_N; c++) {
                counts[i] += t_check(&rp, 6, c, T_START, T_START)
                             == SQ_REPLAY_FRESH;
                counts[i] += t_check(&rp, 7, c, T_START, T_START)
                             == SQ_REPLAY_FRESH;
            }
            _exit(0);
        }
    }

    fresh = 0;
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        fresh += counts[i];
    }

    ck_assert_uint_eq(fresh, 2 * T_RACE_N);
    /* and to none after them */
    ck_assert_int_eq(t_in_child(&rp, t_child_race, 6), 0);

    munmap(counts, sizeof(unsigned) * 3);
    sq_replay_free(&rp);
}
END_TEST


/* takes the lock and dies with it */
static int
t_child_die_locked(sq_replay_t *rp, unsigned tag)
{
    (void) tag;

    if (pthread_mutex_lock(&rp->shm->lock) != 0) {
        return 1;
    }

    return 0;
}


START_TEST(test_replay_holder_died)
{
    sq_replay_t  rp;

    ck_assert_int_eq(sq_replay_init(&rp, T_START), 0);

    ck_assert_int_eq(t_check(&rp, 8, 1, T_START, T_START), SQ_REPLAY_FRESH);
    ck_assert_int_eq(t_in_child(&rp, t_child_die_locked, 0), 0);

    /* not wedged; what was signed up to now cannot be told apart any
     * more: UNSURE, never FRESH a second time */
    ck_assert_int_eq(t_check(&rp, 8, 1, T_START, T_START + 5),
                     SQ_REPLAY_UNSURE);
    ck_assert_int_eq(t_check(&rp, 8, 2, T_START + 5, T_START + 5),
                     SQ_REPLAY_UNSURE);
    ck_assert_uint_eq(rp.shm->recovered, 1);
    ck_assert_uint_eq(rp.shm->streams, 0);

    /* identities signed after it are judged as before */
    ck_assert_int_eq(t_check(&rp, 8, 3, T_START + 6, T_START + 6),
                     SQ_REPLAY_FRESH);
    ck_assert_int_eq(t_check(&rp, 8, 3, T_START + 6, T_START + 6),
                     SQ_REPLAY_SEEN);
    ck_assert_int_eq(t_in_child(&rp, t_child_die_locked, 0), 0);
    ck_assert_int_eq(t_check(&rp, 8, 3, T_START + 6, T_START + 6),
                     SQ_REPLAY_UNSURE);
    ck_assert_uint_eq(rp.shm->recovered, 2);

    sq_replay_free(&rp);
}
END_TEST


Suite *
sq_suite_replay(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("replay");
    tc = tcase_create("window");
    tcase_add_test(tc, test_replay_once);
    tcase_add_test(tc, test_replay_reordered);
    tcase_add_test(tc, test_replay_unsure_and_malformed);
    tcase_add_test(tc, test_replay_slots);
    tcase_add_test(tc, test_replay_edge_stream);
    tcase_add_test(tc, test_replay_shared_across_fork);
    tcase_add_test(tc, test_replay_race);
    tcase_add_test(tc, test_replay_holder_died);
    suite_add_tcase(s, tc);

    return s;
}
