/*
 * ngx_smartlyq_metrics: counters shared by all workers, in a small shared
 * memory zone ("smartlyq_metrics", kept across reloads), served as
 * Prometheus text by a location with "smartlyq_metrics;".
 *
 * Every counter is an ngx_atomic_t bumped without a lock; a scrape reads
 * them one by one, so a scrape is not a snapshot of one instant.
 */

#include "ngx_smartlyq_metrics.h"
#include "ngx_smartlyq_cache.h"
#include "ngx_smartlyq_util.h"


#define NGX_SMARTLYQ_BUCKETS  10


/* the labels of smartlyq_refusals_total: the envelopes' codes */
static const char  *ngx_smartlyq_codes[NGX_SMARTLYQ_CODES] = {
    [NGX_SMARTLYQ_CODE_UNAUTHORIZED] = "UNAUTHORIZED",
    [NGX_SMARTLYQ_CODE_FORBIDDEN] = "FORBIDDEN",
    [NGX_SMARTLYQ_CODE_VALIDATION_ERROR] = "VALIDATION_ERROR",
    [NGX_SMARTLYQ_CODE_PAYLOAD_TOO_LARGE] = "PAYLOAD_TOO_LARGE",
    [NGX_SMARTLYQ_CODE_PUBLISHABLE] = "PUBLISHABLE_KEY_NOT_ALLOWED",
    [NGX_SMARTLYQ_CODE_SCOPE] = "INSUFFICIENT_SCOPE",
    [NGX_SMARTLYQ_CODE_UNAVAILABLE] = "SERVICE_UNAVAILABLE",
    [NGX_SMARTLYQ_CODE_OAUTH] = "OAUTH_TOKEN_NOT_ALLOWED"
};

/* upper bounds of the latency buckets, in microseconds */
static const ngx_uint_t  ngx_smartlyq_bucket_us[NGX_SMARTLYQ_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 250000
};


struct ngx_smartlyq_metrics_s {
    ngx_atomic_t   decisions[NGX_SMARTLYQ_RESULTS];
    ngx_atomic_t   refusals[NGX_SMARTLYQ_CODES];
    ngx_atomic_t   redis[NGX_SMARTLYQ_REDIS_COUNTERS];
    ngx_atomic_t   buckets[NGX_SMARTLYQ_BUCKETS];   /* not cumulative */
    ngx_atomic_t   checks;
    ngx_atomic_t   check_us;                        /* sum */
};


static const char  *ngx_smartlyq_cache_names[NGX_SMARTLYQ_CACHE_COUNTERS] = {
    "smartlyq_cache_hits_total",
    "smartlyq_cache_misses_total",
    "smartlyq_cache_stale_hits_total",
    "smartlyq_cache_bypasses_total",
    "smartlyq_cache_inserts_total",
    "smartlyq_cache_evictions_total",
    "smartlyq_cache_expired_total",
    "smartlyq_cache_invalidations_total",
    "smartlyq_cache_flushes_total"
};

static const char  *ngx_smartlyq_cache_help[NGX_SMARTLYQ_CACHE_COUNTERS] = {
    "Checks answered from the cache.",
    "Checks that found no usable entry and asked Redis.",
    "Grants served past their TTL while Redis was unreachable "
        "(smartlyq_fail_mode stale).",
    "Checks that skipped the cache: invalidations not subscribed, "
        "keyspace events off or the sq:epoch marker missing.",
    "Answers stored.",
    "Entries evicted before their time to make room.",
    "Entries removed after their time.",
    "Keyspace notifications applied (key or membership changes).",
    "Whole-cache invalidations (a subscription nobody held, a lost "
        "subscription, Redis flushed, swapped or replaced, keyspace "
        "events back on)."
};


static const char  *ngx_smartlyq_redis_names[NGX_SMARTLYQ_REDIS_COUNTERS] = {
    "smartlyq_redis_round_trips_total",
    "smartlyq_redis_errors_total",
    "smartlyq_redis_timeouts_total",
    "smartlyq_redis_connects_total",
    "smartlyq_redis_link_failures_total"
};

static const char  *ngx_smartlyq_redis_help[NGX_SMARTLYQ_REDIS_COUNTERS] = {
    "Authorization lookups sent to Redis.",
    "Lookups answered with an error, an unexpected reply or a dead link.",
    "Lookups that timed out (smartlyq_redis_timeout).",
    "Redis links established (first connections and reconnections).",
    "Redis links lost, failed to connect, or dropped as stalled."
};


static u_char *ngx_smartlyq_metrics_cache(u_char *p, u_char *last,
    ngx_smartlyq_main_conf_t *smcf);


static ngx_int_t
ngx_smartlyq_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t           *shpool;
    ngx_smartlyq_main_conf_t  *smcf = shm_zone->data;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    /*
     * A reload (data: the old cycle's zone data, i.e. its main conf, soon
     * freed) or a zone that already exists: the counters' address is kept
     * in the slab pool itself, which outlives both.
     */
    if (data || shm_zone->shm.exists) {
        smcf->metrics = shpool->data;
        return NGX_OK;
    }

    smcf->metrics = ngx_slab_calloc(shpool, sizeof(ngx_smartlyq_metrics_t));
    if (smcf->metrics == NULL) {
        return NGX_ERROR;
    }

    shpool->data = smcf->metrics;

    return NGX_OK;
}


ngx_int_t
ngx_smartlyq_metrics_zone(ngx_conf_t *cf, ngx_smartlyq_main_conf_t *smcf)
{
    ngx_str_t        name = ngx_string("smartlyq_metrics");
    ngx_shm_zone_t  *zone;

    zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                 &ngx_http_smartlyq_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_smartlyq_metrics_init_zone;
    zone->data = smcf;

    return NGX_OK;
}


static ngx_smartlyq_metrics_t *
ngx_smartlyq_metrics_get(ngx_http_request_t *r)
{
    ngx_smartlyq_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module);

    return smcf->metrics;
}


void
ngx_smartlyq_metrics_redis(ngx_smartlyq_main_conf_t *smcf,
    ngx_smartlyq_redis_metric_e which)
{
    if (smcf && smcf->metrics && which < NGX_SMARTLYQ_REDIS_COUNTERS) {
        (void) ngx_atomic_fetch_add(&smcf->metrics->redis[which], 1);
    }
}


/*
 * A request's final decision: once, with how long the check took; code
 * is the refusal's, or NGX_SMARTLYQ_CODE_NONE.
 */
void
ngx_smartlyq_metrics_decision(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    ngx_smartlyq_code_e code)
{
    uint64_t                 us;
    ngx_uint_t               i;
    ngx_smartlyq_metrics_t  *m;

    m = ngx_smartlyq_metrics_get(r);

    if (m == NULL || ctx->metered) {
        return;
    }

    ctx->metered = 1;

    if (ctx->result < NGX_SMARTLYQ_RESULTS) {
        (void) ngx_atomic_fetch_add(&m->decisions[ctx->result], 1);
    }

    if (code < NGX_SMARTLYQ_CODES) {
        (void) ngx_atomic_fetch_add(&m->refusals[code], 1);
    }

    us = ngx_smartlyq_now_us() - ctx->started_us;

    for (i = 0; i < NGX_SMARTLYQ_BUCKETS; i++) {
        if (us <= ngx_smartlyq_bucket_us[i]) {
            (void) ngx_atomic_fetch_add(&m->buckets[i], 1);
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&m->checks, 1);
    (void) ngx_atomic_fetch_add(&m->check_us, (ngx_atomic_int_t) us);
}


/* one counter with its HELP and TYPE lines */
static u_char *
ngx_smartlyq_metrics_counter(u_char *p, u_char *last, const char *name,
    const char *help, ngx_atomic_uint_t value)
{
    return ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s counter\n%s %uA\n",
                        name, help, name, name, value);
}


static u_char *
ngx_smartlyq_metrics_text(u_char *p, u_char *last, ngx_smartlyq_metrics_t *m,
    ngx_smartlyq_main_conf_t *smcf)
{
    ngx_str_t         *name;
    ngx_uint_t         i;
    ngx_atomic_uint_t  cumulative;

    p = ngx_slprintf(p, last,
            "# HELP smartlyq_decisions_total Access decisions by outcome.\n"
            "# TYPE smartlyq_decisions_total counter\n");

    for (i = 1; i < NGX_SMARTLYQ_RESULTS; i++) {
        name = ngx_smartlyq_decision_name(i);
        p = ngx_slprintf(p, last,
                         "smartlyq_decisions_total{decision=\"%V\"} %uA\n",
                         name, m->decisions[i]);
    }

    p = ngx_slprintf(p, last,
            "# HELP smartlyq_refusals_total Refusals by envelope code.\n"
            "# TYPE smartlyq_refusals_total counter\n");

    for (i = 0; i < NGX_SMARTLYQ_CODES; i++) {
        p = ngx_slprintf(p, last,
                         "smartlyq_refusals_total{code=\"%s\"} %uA\n",
                         ngx_smartlyq_codes[i], m->refusals[i]);
    }

    for (i = 0; i < NGX_SMARTLYQ_REDIS_COUNTERS; i++) {
        p = ngx_smartlyq_metrics_counter(p, last, ngx_smartlyq_redis_names[i],
                                         ngx_smartlyq_redis_help[i],
                                         m->redis[i]);
    }

    p = ngx_slprintf(p, last,
            "# HELP smartlyq_check_duration_seconds Time from the start of "
            "the access check to its decision.\n"
            "# TYPE smartlyq_check_duration_seconds histogram\n");

    cumulative = 0;

    for (i = 0; i < NGX_SMARTLYQ_BUCKETS; i++) {
        cumulative += m->buckets[i];
        p = ngx_slprintf(p, last,
                         "smartlyq_check_duration_seconds_bucket"
                         "{le=\"%ui.%06ui\"} %uA\n",
                         ngx_smartlyq_bucket_us[i] / 1000000,
                         ngx_smartlyq_bucket_us[i] % 1000000, cumulative);
    }

    p = ngx_slprintf(p, last,
                     "smartlyq_check_duration_seconds_bucket{le=\"+Inf\"} "
                     "%uA\n"
                     "smartlyq_check_duration_seconds_sum %uA.%06uA\n"
                     "smartlyq_check_duration_seconds_count %uA\n",
                     m->checks, m->check_us / 1000000, m->check_us % 1000000,
                     m->checks);

    return ngx_smartlyq_metrics_cache(p, last, smcf);
}


/* the cache zone's counters and use, if there is one */
static u_char *
ngx_smartlyq_metrics_cache(u_char *p, u_char *last,
    ngx_smartlyq_main_conf_t *smcf)
{
    ngx_uint_t                  i;
    ngx_smartlyq_cache_stats_t  st;

    if (ngx_smartlyq_cache_stats(smcf, &st) != NGX_OK) {
        return p;
    }

    for (i = 0; i < NGX_SMARTLYQ_CACHE_COUNTERS; i++) {
        p = ngx_smartlyq_metrics_counter(p, last, ngx_smartlyq_cache_names[i],
                                         ngx_smartlyq_cache_help[i],
                                         st.counters[i]);
    }

    return ngx_slprintf(p, last,
            "# HELP smartlyq_cache_entries Answers in the cache.\n"
            "# TYPE smartlyq_cache_entries gauge\n"
            "smartlyq_cache_entries %ui\n"
            "# HELP smartlyq_cache_bytes_used Bytes of the cache zone in "
            "use (whole slab pages).\n"
            "# TYPE smartlyq_cache_bytes_used gauge\n"
            "smartlyq_cache_bytes_used %uz\n"
            "# HELP smartlyq_cache_bytes Size of the cache zone.\n"
            "# TYPE smartlyq_cache_bytes gauge\n"
            "smartlyq_cache_bytes %uz\n",
            st.entries, st.used, st.size);
}


static ngx_int_t
ngx_smartlyq_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_buf_t               *b;
    ngx_chain_t              out;
    ngx_smartlyq_metrics_t  *m;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    m = ngx_smartlyq_metrics_get(r);
    if (m == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    b = ngx_create_temp_buf(r->pool, 16384);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_smartlyq_metrics_text(b->pos, b->end, m,
                  ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module));
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* smartlyq_metrics; */
char *
ngx_smartlyq_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_smartlyq_metrics_handler;

    return NGX_CONF_OK;
}
