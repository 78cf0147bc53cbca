/*
 * ngx_smartlyq_cache: a store of Redis's answers in a zone shared by the
 * workers: get and put, LRU, expiry and eviction.
 */

#ifndef NGX_SMARTLYQ_CACHE_H
#define NGX_SMARTLYQ_CACHE_H


#include "ngx_smartlyq_module.h"


typedef enum {
    NGX_SMARTLYQ_C_HITS = 0,
    NGX_SMARTLYQ_C_MISSES,
    NGX_SMARTLYQ_C_STALE,
    NGX_SMARTLYQ_C_BYPASS,
    NGX_SMARTLYQ_C_INSERTS,
    NGX_SMARTLYQ_C_EVICTIONS,
    NGX_SMARTLYQ_C_EXPIRED,
    NGX_SMARTLYQ_C_INVALIDATIONS,
    NGX_SMARTLYQ_C_FLUSHES,
    NGX_SMARTLYQ_CACHE_COUNTERS
} ngx_smartlyq_cache_counter_e;


typedef struct {
    ngx_atomic_uint_t          counters[NGX_SMARTLYQ_CACHE_COUNTERS];
    ngx_uint_t                 entries;
    size_t                     used;        /* bytes, whole slab pages */
    size_t                     size;        /* bytes */
} ngx_smartlyq_cache_stats_t;


char *ngx_smartlyq_cache_zone(ngx_conf_t *cf, ngx_smartlyq_main_conf_t *smcf,
    ngx_str_t *name, ssize_t size);
ngx_uint_t ngx_smartlyq_cache_enabled(ngx_http_request_t *r);
void ngx_smartlyq_cache_bypass(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
ngx_int_t ngx_smartlyq_cache_get(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, ngx_uint_t stale, sq_authz_t *a);
void ngx_smartlyq_cache_put(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    const sq_authz_t *a);
ngx_int_t ngx_smartlyq_cache_stats(ngx_smartlyq_main_conf_t *smcf,
    ngx_smartlyq_cache_stats_t *st);


#endif /* NGX_SMARTLYQ_CACHE_H */
