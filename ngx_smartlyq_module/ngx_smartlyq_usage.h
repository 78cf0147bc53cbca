/* ngx_smartlyq_usage: per-key daily counts, flushed in batches */

#ifndef NGX_SMARTLYQ_USAGE_H
#define NGX_SMARTLYQ_USAGE_H


#include "ngx_smartlyq_module.h"


ngx_int_t ngx_smartlyq_usage_init(ngx_cycle_t *cycle,
    ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_usage_count(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, const char *digest, ngx_uint_t allowed);
void ngx_smartlyq_usage_exit(ngx_smartlyq_main_conf_t *smcf);


#endif /* NGX_SMARTLYQ_USAGE_H */
