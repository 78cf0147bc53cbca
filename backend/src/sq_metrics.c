/*
 * sq_metrics: requests by route and status, a latency histogram, Redis
 * link use and errors, as Prometheus text on GET /metrics.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "sq_metrics.h"
#include "sq_resource.h"


#define SQ_METRICS_ROUTE_MAX   48       /* bytes of a route label */
#define SQ_METRICS_SERIES_MAX  256      /* (route, status) pairs */
#define SQ_METRICS_NBUCKETS    12

typedef struct {
    char        route[SQ_METRICS_ROUTE_MAX];
    int         status;
    uint64_t    n;
} sq_metrics_series_t;

/* upper bounds in microseconds; the last is +Inf */
static const uint64_t  sq_metrics_le_us[SQ_METRICS_NBUCKETS - 1] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
    1000000
};

static struct {
    sq_metrics_series_t  series[SQ_METRICS_SERIES_MAX];
    size_t               nseries;
    uint64_t             overflow;          /* pairs past the table */
    uint64_t             bucket[SQ_METRICS_NBUCKETS];
    uint64_t             sum_us;
    uint64_t             count;
    uint64_t             redis_used;        /* requests given a link */
    uint64_t             redis_connects;    /* links established */
    uint64_t             redis_unavailable; /* requests with no link */
    uint64_t             redis_errors;      /* links dropped on an error */
} sq_m;

/* the request being served */
static struct {
    int         active;
    uint64_t    start_us;
    char        route[SQ_METRICS_ROUTE_MAX];
    int         status;
} sq_cur;


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
    sq_cur.active = 1;
    sq_cur.start_us = sq_metrics_now_us();
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
        sq_m.redis_unavailable++;
        return;
    }

    sq_m.redis_used++;

    if (!before) {
        sq_m.redis_connects++;
    }
}


void
sq_metrics_redis_done(const redisContext *c)
{
    if (c != NULL && c->err != 0) {
        sq_m.redis_errors++;
    }
}


void
sq_metrics_end(void)
{
    size_t     i;
    uint64_t   us;

    if (!sq_cur.active) {
        return;
    }

    sq_cur.active = 0;
    us = sq_metrics_now_us() - sq_cur.start_us;

    for (i = 0; i < SQ_METRICS_NBUCKETS - 1; i++) {
        if (us <= sq_metrics_le_us[i]) {
            break;
        }
    }

    sq_m.bucket[i]++;
    sq_m.sum_us += us;
    sq_m.count++;

    for (i = 0; i < sq_m.nseries; i++) {
        if (sq_m.series[i].status == sq_cur.status
            && strcmp(sq_m.series[i].route, sq_cur.route) == 0)
        {
            sq_m.series[i].n++;
            return;
        }
    }

    if (sq_m.nseries == SQ_METRICS_SERIES_MAX) {
        sq_m.overflow++;
        return;
    }

    memcpy(sq_m.series[i].route, sq_cur.route, sizeof(sq_cur.route));
    sq_m.series[i].status = sq_cur.status;
    sq_m.series[i].n = 1;
    sq_m.nseries++;
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


static void
sq_metrics_page(struct evbuffer *b)
{
    size_t     i;
    uint64_t   cum;

    evbuffer_add_printf(b,
        "# HELP smartlyq_backend_requests_total Requests answered, by route"
        " and status (route \"none\": refused before a route matched).\n"
        "# TYPE smartlyq_backend_requests_total counter\n");

    for (i = 0; i < sq_m.nseries; i++) {
        evbuffer_add_printf(b, "smartlyq_backend_requests_total{route=\"%s\","
                            "status=\"%d\"} %llu\n", sq_m.series[i].route,
                            sq_m.series[i].status,
                            (unsigned long long) sq_m.series[i].n);
    }

    sq_metrics_counter(b, "smartlyq_backend_requests_unlabelled_total",
                       "Requests past the label table's 256 series.",
                       sq_m.overflow);

    evbuffer_add_printf(b,
        "# HELP smartlyq_backend_request_duration_seconds Time from a"
        " request's arrival at the handler to its reply.\n"
        "# TYPE smartlyq_backend_request_duration_seconds histogram\n");

    for (i = 0, cum = 0; i < SQ_METRICS_NBUCKETS; i++) {
        cum += sq_m.bucket[i];

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
        (unsigned long long) (sq_m.sum_us / 1000000),
        (unsigned long long) (sq_m.sum_us % 1000000),
        (unsigned long long) sq_m.count);

    sq_metrics_counter(b, "smartlyq_backend_redis_requests_total",
                       "Requests that were given a Redis link.",
                       sq_m.redis_used);
    sq_metrics_counter(b, "smartlyq_backend_redis_connects_total",
                       "Redis links established for a request.",
                       sq_m.redis_connects);
    sq_metrics_counter(b, "smartlyq_backend_redis_unavailable_total",
                       "Requests answered 503 because no Redis link could"
                       " be made.", sq_m.redis_unavailable);
    sq_metrics_counter(b, "smartlyq_backend_redis_errors_total",
                       "Requests whose Redis link failed (I/O, timeout or"
                       " protocol error); the link is then dropped.",
                       sq_m.redis_errors);
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

    sq_metrics_page(b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    evhttp_send_reply(req, HTTP_OK, "OK", b);
    evbuffer_free(b);

    return 1;
}
