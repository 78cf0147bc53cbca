/*
 * The shared counters: processes forked after sq_metrics_init count into
 * the same series; a series claimed by several at once is one series.
 */

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "sq_metrics.h"
#include "tests.h"

#define T_PROCS    4
#define T_ROUTES   40
#define T_EACH     50


/* the page as a NUL-terminated string, in out (cap bytes) */
static void
t_page(char *out, size_t cap)
{
    size_t            n;
    struct evbuffer  *b;

    b = evbuffer_new();
    ck_assert_ptr_nonnull(b);
    sq_metrics_render(b);
    n = evbuffer_get_length(b);
    ck_assert_uint_lt(n, cap);
    ck_assert_int_eq(evbuffer_remove(b, out, n), (int) n);
    out[n] = '\0';
    evbuffer_free(b);
}


/* how many lines of page start with prefix */
static int
t_lines(const char *page, const char *prefix)
{
    int          n;
    size_t       len;
    const char  *p, *nl;

    n = 0;
    len = strlen(prefix);

    for (p = page; *p != '\0'; p = nl + 1) {
        n += strncmp(p, prefix, len) == 0;

        nl = strchr(p, '\n');
        if (nl == NULL) {
            break;
        }
    }

    return n;
}


START_TEST(test_metrics_shared)
{
    int           i, r, k, st;
    char          route[32], line[96];
    pid_t         pid[T_PROCS];
    static char   page[256 * 1024];

    ck_assert_int_eq(sq_metrics_init(), 0);

    /* every process counts every route, the same order: they race to
     * claim each new series */
    for (i = 0; i < T_PROCS; i++) {
        pid[i] = fork();
        ck_assert_int_ge(pid[i], 0);
        if (pid[i] == 0) {
            for (k = 0; k < T_EACH; k++) {
                for (r = 0; r < T_ROUTES; r++) {
                    snprintf(route, sizeof(route), "/v1/r%d", r);
                    sq_metrics_observe(route, 200, 300);
                }
            }
            _exit(0);
        }
    }

    for (i = 0; i < T_PROCS; i++) {
        ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }

    t_page(page, sizeof(page));

    ck_assert_int_eq(t_lines(page, "smartlyq_backend_requests_total{"),
                     T_ROUTES);
    for (r = 0; r < T_ROUTES; r++) {
        snprintf(line, sizeof(line), "smartlyq_backend_requests_total"
                 "{route=\"/v1/r%d\",status=\"200\"} %d\n", r,
                 T_PROCS * T_EACH);
        ck_assert_msg(strstr(page, line) != NULL, "missing: %s", line);
    }

    snprintf(line, sizeof(line),
             "smartlyq_backend_request_duration_seconds_count %d\n",
             T_PROCS * T_EACH * T_ROUTES);
    ck_assert_ptr_nonnull(strstr(page, line));
    /* 300 us each: all in the 0.0005 bucket, none in 0.00025 */
    ck_assert_ptr_nonnull(strstr(page,
        "smartlyq_backend_request_duration_seconds_bucket"
        "{le=\"0.000250\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(page,
        "smartlyq_backend_requests_unlabelled_total 0\n"));
}
END_TEST


START_TEST(test_metrics_overflow)
{
    int           r;
    char          route[32];
    static char   page[256 * 1024];

    ck_assert_int_eq(sq_metrics_init(), 0);

    /* 256 series fit, the rest is counted without a label */
    for (r = 0; r < 300; r++) {
        snprintf(route, sizeof(route), "/v1/x%d", r);
        sq_metrics_observe(route, 404, 10);
    }
    sq_metrics_observe("/v1/x0", 404, 10);

    t_page(page, sizeof(page));
    ck_assert_int_eq(t_lines(page, "smartlyq_backend_requests_total{"), 256);
    ck_assert_ptr_nonnull(strstr(page,
        "smartlyq_backend_requests_unlabelled_total 44\n"));
    ck_assert_ptr_nonnull(strstr(page,
        "{route=\"/v1/x0\",status=\"404\"} 2\n"));
}
END_TEST


Suite *
sq_suite_metrics(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("metrics");
    tc = tcase_create("shared");
    tcase_add_test(tc, test_metrics_shared);
    tcase_add_test(tc, test_metrics_overflow);
    suite_add_tcase(s, tc);

    return s;
}
