/*
 * sq_metrics: requests by route and status, a latency histogram, Redis
 * link use and errors, as Prometheus text on GET /metrics.
 *
 * The counters live in one MAP_SHARED mapping made by the supervisor
 * before it forks the workers (sq_metrics_init), so that any worker's
 * page shows the whole service's totals, a restarted worker's counts
 * included.  Every update is a relaxed atomic add; a (route, status)
 * series is claimed once, by compare-and-swap on its slot's state.
 */

#define _DEFAULT_SOURCE             /* MAP_ANONYMOUS */

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "sq_metrics.h"
#include "sq_resource.h"


#define SQ_METRICS_ROUTE_MAX   48       /* bytes of a route label */
#define SQ_METRICS_SERIES_MAX  256      /* (route, status) pairs */
#define SQ_METRICS_NBUCKETS    12
#define SQ_METRICS_SPINS       1000     /* yields while a slot is written */

_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
               "64-bit atomics must be lock-free to be shared by processes");

enum {
    SQ_METRICS_FREE = 0,
    SQ_METRICS_BUSY,                    /* claimed, label being written */
    SQ_METRICS_READY,
    SQ_METRICS_DEAD                     /* its writer never finished */
};

typedef struct {
    atomic_uint         state;
    int                 status;
    char                route[SQ_METRICS_ROUTE_MAX];
    atomic_uint_least64_t  n;
} sq_metrics_series_t;

/* upper bounds in microseconds; the last is +Inf */
static const uint64_t  sq_metrics_le_us[SQ_METRICS_NBUCKETS - 1] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
    1000000
};

typedef struct {
    sq_metrics_series_t    series[SQ_METRICS_SERIES_MAX];
    atomic_uint_least64_t  overflow;           /* pairs past the table */
    atomic_uint_least64_t  bucket[SQ_METRICS_NBUCKETS];
    atomic_uint_least64_t  sum_us;
    atomic_uint_least64_t  redis_used;         /* requests given a link */
    atomic_uint_least64_t  redis_connects;     /* links established */
    atomic_uint_least64_t  redis_unavailable;  /* requests with no link */
    atomic_uint_least64_t  redis_errors;       /* links dropped on error */
} sq_metrics_shm_t;

/* this process's own until sq_metrics_init maps the shared ones; the
 * pointer is set once, before any worker is forked */
static sq_metrics_shm_t   sq_m_local;
static sq_metrics_shm_t  *sq_m = &sq_m_local;

/* the request being served, in this process */
static struct {
    int         active;
    uint64_t    start_us;
    char        route[SQ_METRICS_ROUTE_MAX];
    int         status;
} sq_cur;


int
sq_metrics_init(void)
{
    void  *p;

    p = mmap(NULL, sizeof(sq_metrics_shm_t), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return -1;
    }

    /* zero-filled: every slot SQ_METRICS_FREE, every counter 0 */
    sq_m = p;

    return 0;
}


static void
sq_metrics_add(atomic_uint_least64_t *c, uint64_t v)
{
    atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}


static uint64_t
sq_metrics_get(atomic_uint_least64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}


static uint64_t
sq_metrics_now_us(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


void
sq_metrics_begin(void)
{
    sq_metrics_begin_at(sq_metrics_now_us());
}


uint64_t
sq_metrics_now(void)
{
    return sq_metrics_now_us();
}


void
sq_metrics_begin_at(uint64_t start_us)
{
    sq_cur.active = 1;
    sq_cur.start_us = start_us;
    snprintf(sq_cur.route, sizeof(sq_cur.route), "none");
    sq_cur.status = 0;
}


void
sq_metrics_route(const sq_route_t *route)
{
    const char  *base;

    if (route->res != NULL) {
        base = route->res->path;
    } else if (route->keys) {
        base = "/v1/keys";
    } else if (route->apps) {
        base = "/v1/apps";      /* issue 14 (apps) */
    } else {
        base = "/v1/me";
    }

    snprintf(sq_cur.route, sizeof(sq_cur.route), "%s%s", base,
             route->id != NULL ? "/{id}" : "");
}


void
sq_metrics_status(int status)
{
    if (sq_cur.active) {
        sq_cur.status = status;
    }
}


void
sq_metrics_redis_get(int before, const redisContext *c)
{
    if (c == NULL) {
        sq_metrics_add(&sq_m->redis_unavailable, 1);
        return;
    }

    sq_metrics_add(&sq_m->redis_used, 1);

    if (!before) {
        sq_metrics_add(&sq_m->redis_connects, 1);
    }
}


void
sq_metrics_redis_error(void)
{
    sq_metrics_add(&sq_m->redis_errors, 1);
}


/*
 * The slot's state once its writer is done; a writer that takes too long
 * (it died between claim and publish) loses the slot: DEAD, passed over
 * by everyone from then on.
 */
static unsigned
sq_metrics_wait(sq_metrics_series_t *s)
{
    int       i;
    unsigned  st;

    for (i = 0; i < SQ_METRICS_SPINS; i++) {
        st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st != SQ_METRICS_BUSY) {
            return st;
        }
        sched_yield();
    }

    st = SQ_METRICS_BUSY;
    if (atomic_compare_exchange_strong_explicit(&s->state, &st,
            SQ_METRICS_DEAD, memory_order_acq_rel, memory_order_acquire))
    {
        return SQ_METRICS_DEAD;
    }

    return st;
}


/*
 * One request more in the (route, status) series: found from a hash of
 * both by linear probing, or claimed in the first free slot.  A slot
 * whose writer died before it was ready is passed over.
 */
static void
sq_metrics_count(const char *route, int status)
{
    size_t                i;
    uint32_t              h;
    unsigned              st, expect;
    const char           *p;
    sq_metrics_series_t  *s;

    h = 2166136261u ^ (uint32_t) status;
    for (p = route; *p != '\0'; p++) {
        h = (h ^ (unsigned char) *p) * 16777619u;
    }

    for (i = 0; i < SQ_METRICS_SERIES_MAX; i++) {
        s = &sq_m->series[(h + i) % SQ_METRICS_SERIES_MAX];
        st = atomic_load_explicit(&s->state, memory_order_acquire);

        if (st == SQ_METRICS_FREE) {
            expect = SQ_METRICS_FREE;
            if (atomic_compare_exchange_strong_explicit(&s->state, &expect,
                    SQ_METRICS_BUSY, memory_order_acq_rel,
                    memory_order_acquire))
            {
                snprintf(s->route, sizeof(s->route), "%s", route);
                s->status = status;
                atomic_store_explicit(&s->n, 1, memory_order_relaxed);

                /* else declared dead while writing: a label may be in
                 * another slot by now, so this one stays unlabelled */
                expect = SQ_METRICS_BUSY;
                if (!atomic_compare_exchange_strong_explicit(&s->state,
                        &expect, SQ_METRICS_READY, memory_order_acq_rel,
                        memory_order_acquire))
                {
                    sq_metrics_add(&sq_m->overflow, 1);
                }
                return;
            }
            st = expect;
        }

        if (st == SQ_METRICS_BUSY) {
            st = sq_metrics_wait(s);
        }

        if (st == SQ_METRICS_READY && s->status == status
            && strcmp(s->route, route) == 0)
        {
            sq_metrics_add(&s->n, 1);
            return;
        }
    }

    sq_metrics_add(&sq_m->overflow, 1);
}


void
sq_metrics_observe(const char *route, int status, uint64_t us)
{
    size_t  i;

    for (i = 0; i < SQ_METRICS_NBUCKETS - 1; i++) {
        if (us <= sq_metrics_le_us[i]) {
            break;
        }
    }

    sq_metrics_add(&sq_m->bucket[i], 1);
    sq_metrics_add(&sq_m->sum_us, us);
    sq_metrics_count(route, status);
}


void
sq_metrics_end(void)
{
    if (!sq_cur.active) {
        return;
    }

    sq_cur.active = 0;
    sq_metrics_observe(sq_cur.route, sq_cur.status,
                       sq_metrics_now_us() - sq_cur.start_us);
}


static int
sq_metrics_loopback(struct evhttp_request *req)
{
    const struct sockaddr          *sa;
    struct evhttp_connection       *evcon;
    const struct sockaddr_in       *in;
    const struct sockaddr_in6      *in6;

    evcon = evhttp_request_get_connection(req);
    sa = evcon != NULL ? evhttp_connection_get_addr(evcon) : NULL;

    if (sa == NULL) {
        return 0;
    }

    if (sa->sa_family == AF_INET) {
        in = (const struct sockaddr_in *) sa;
        return ntohl(in->sin_addr.s_addr) == INADDR_LOOPBACK;
    }

    if (sa->sa_family == AF_INET6) {
        in6 = (const struct sockaddr_in6 *) sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }

    return sa->sa_family == AF_UNIX;
}


static void
sq_metrics_counter(struct evbuffer *b, const char *name, const char *help,
    uint64_t v)
{
    evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n",
                        name, help, name, name, (unsigned long long) v);
}


void
sq_metrics_render(struct evbuffer *b)
{
    size_t                i;
    uint64_t              cum, sum;
    sq_metrics_series_t  *s;

    evbuffer_add_printf(b,
        "# HELP smartlyq_backend_requests_total Requests answered, by route"
        " and status (route \"none\": refused before a route matched).\n"
        "# TYPE smartlyq_backend_requests_total counter\n");

    for (i = 0; i < SQ_METRICS_SERIES_MAX; i++) {
        s = &sq_m->series[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire)
            != SQ_METRICS_READY)
        {
            continue;
        }

        evbuffer_add_printf(b, "smartlyq_backend_requests_total{route=\"%s\","
                            "status=\"%d\"} %llu\n", s->route, s->status,
                            (unsigned long long) sq_metrics_get(&s->n));
    }

    sq_metrics_counter(b, "smartlyq_backend_requests_unlabelled_total",
                       "Requests past the label table's 256 series.",
                       sq_metrics_get(&sq_m->overflow));

    evbuffer_add_printf(b,
        "# HELP smartlyq_backend_request_duration_seconds Time from a"
        " request's arrival at the handler to its reply.\n"
        "# TYPE smartlyq_backend_request_duration_seconds histogram\n");

    /* the count is the +Inf bucket, read once: the two always agree */
    sum = sq_metrics_get(&sq_m->sum_us);

    for (i = 0, cum = 0; i < SQ_METRICS_NBUCKETS; i++) {
        cum += sq_metrics_get(&sq_m->bucket[i]);

        if (i < SQ_METRICS_NBUCKETS - 1) {
            evbuffer_add_printf(b,
                "smartlyq_backend_request_duration_seconds_bucket"
                "{le=\"%llu.%06llu\"} %llu\n",
                (unsigned long long) (sq_metrics_le_us[i] / 1000000),
                (unsigned long long) (sq_metrics_le_us[i] % 1000000),
                (unsigned long long) cum);
        } else {
            evbuffer_add_printf(b,
                "smartlyq_backend_request_duration_seconds_bucket"
                "{le=\"+Inf\"} %llu\n", (unsigned long long) cum);
        }
    }

    evbuffer_add_printf(b,
        "smartlyq_backend_request_duration_seconds_sum %llu.%06llu\n"
        "smartlyq_backend_request_duration_seconds_count %llu\n",
        (unsigned long long) (sum / 1000000),
        (unsigned long long) (sum % 1000000),
        (unsigned long long) cum);

    sq_metrics_counter(b, "smartlyq_backend_redis_requests_total",
                       "Requests that were given a Redis link.",
                       sq_metrics_get(&sq_m->redis_used));
    sq_metrics_counter(b, "smartlyq_backend_redis_connects_total",
                       "Redis links established for a request.",
                       sq_metrics_get(&sq_m->redis_connects));
    sq_metrics_counter(b, "smartlyq_backend_redis_unavailable_total",
                       "Requests answered 503 because no Redis link could"
                       " be made.", sq_metrics_get(&sq_m->redis_unavailable));
    sq_metrics_counter(b, "smartlyq_backend_redis_errors_total",
                       "Redis links lost (I/O or protocol error) or dropped"
                       " after a command got no reply in time.",
                       sq_metrics_get(&sq_m->redis_errors));
}


int
sq_metrics_serve(struct evhttp_request *req)
{
    const char               *path;
    struct evbuffer          *b;
    const struct evhttp_uri  *uri;

    uri = evhttp_request_get_evhttp_uri(req);
    path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

    if (path == NULL || strcmp(path, "/metrics") != 0
        || evhttp_request_get_command(req) != EVHTTP_REQ_GET
        || !sq_metrics_loopback(req))
    {
        return 0;
    }

    b = evbuffer_new();
    if (b == NULL) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return 1;
    }

    sq_metrics_render(b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    evhttp_send_reply(req, HTTP_OK, "OK", b);
    evbuffer_free(b);

    return 1;
}
