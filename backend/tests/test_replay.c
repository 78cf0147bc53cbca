/*
 * The per-process anti-replay window: fresh, replayed, reordered, slid
 * past, stale streams reused, and identities signed before the start.
 */

#include <stdio.h>
#include <string.h>

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
    ck_assert_uint_eq(rp.streams, 2);

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
    ck_assert_uint_eq(rp.streams, 0);

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
    ck_assert_uint_eq(rp.streams, SQ_REPLAY_PROBES);

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
    suite_add_tcase(s, tc);

    return s;
}
