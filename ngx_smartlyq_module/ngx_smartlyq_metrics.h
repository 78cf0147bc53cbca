/*
 * ngx_smartlyq_metrics: counters shared by the workers, and the page
 * that prints them as Prometheus text.
 */

#ifndef NGX_SMARTLYQ_METRICS_H
#define NGX_SMARTLYQ_METRICS_H


#include "ngx_smartlyq_module.h"


/* refusals by envelope code */
typedef enum {
    NGX_SMARTLYQ_CODE_UNAUTHORIZED = 0,
    NGX_SMARTLYQ_CODE_FORBIDDEN,
    NGX_SMARTLYQ_CODE_VALIDATION_ERROR,
    NGX_SMARTLYQ_CODE_PAYLOAD_TOO_LARGE,
    NGX_SMARTLYQ_CODE_PUBLISHABLE,
    NGX_SMARTLYQ_CODE_SCOPE,
    NGX_SMARTLYQ_CODE_UNAVAILABLE,
    NGX_SMARTLYQ_CODE_OAUTH,
    NGX_SMARTLYQ_CODES,
    NGX_SMARTLYQ_CODE_NONE = NGX_SMARTLYQ_CODES     /* allowed */
} ngx_smartlyq_code_e;


/* Redis counters */
typedef enum {
    NGX_SMARTLYQ_M_ROUND_TRIPS = 0,
    NGX_SMARTLYQ_M_ERRORS,
    NGX_SMARTLYQ_M_TIMEOUTS,
    NGX_SMARTLYQ_M_CONNECTS,
    NGX_SMARTLYQ_M_LINK_FAILURES,
    NGX_SMARTLYQ_REDIS_COUNTERS
} ngx_smartlyq_redis_metric_e;


ngx_int_t ngx_smartlyq_metrics_zone(ngx_conf_t *cf,
    ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_metrics_redis(ngx_smartlyq_main_conf_t *smcf,
    ngx_smartlyq_redis_metric_e which);
void ngx_smartlyq_metrics_decision(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, ngx_smartlyq_code_e code);
char *ngx_smartlyq_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* NGX_SMARTLYQ_METRICS_H */
