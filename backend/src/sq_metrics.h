/*
 * sq_metrics: the backend's own Prometheus counters, served on
 * GET /metrics to peers at 127.0.0.1 or ::1 only.  The counters are
 * shared by the worker processes (sq_metrics_init), so any worker's page
 * shows the totals.  A worker is one thread on one event loop and
 * answers each request before its handler returns, so a request's
 * record is simply "the current one" of its process.
 */

#ifndef SQ_METRICS_H
#define SQ_METRICS_H

#include <stdint.h>

#include <event2/http.h>
#include <hiredis/hiredis.h>

#include "sq_route.h"

/* Maps the counters shared with every process forked after it; before
 * it (or when it fails: -1), a process counts on its own. */
int sq_metrics_init(void);

/* The Prometheus page of the counters, appended to b. */
void sq_metrics_render(struct evbuffer *b);

/* Answers GET /metrics from 127.0.0.1 or ::1 and returns 1, or returns 0:
 * the request goes through the pipeline, which refuses an unsigned one. */
int sq_metrics_serve(struct evhttp_request *req);

/* Around the pipeline of one request. */
void sq_metrics_begin(void);
void sq_metrics_end(void);

/*
 * A request answered from a Redis callback: sq_metrics_now() when it
 * arrived, then sq_metrics_begin_at(that) in the callback instead of
 * sq_metrics_begin(), so its time includes the wait for Redis.
 */
uint64_t sq_metrics_now(void);
void sq_metrics_begin_at(uint64_t start_us);

/*
 * One answered request: its route label (at most 47 bytes are kept),
 * status and time in microseconds; for a caller that keeps its own
 * record per request (a pipeline with several requests in flight)
 * instead of begin/route/status/end.
 */
void sq_metrics_observe(const char *route, int status, uint64_t us);

/* The request matched this route. */
void sq_metrics_route(const sq_route_t *route);

/* The status the reply was sent with (sq_reply). */
void sq_metrics_status(int status);

/* Redis: before is whether a link was up before the request's command,
 * c the link it got (NULL: none, 503). */
void sq_metrics_redis_get(int before, const redisContext *c);

/* A Redis link was lost, or dropped because a command got no reply. */
void sq_metrics_redis_error(void);

#endif /* SQ_METRICS_H */
