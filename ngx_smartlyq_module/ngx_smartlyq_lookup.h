/*
 * ngx_smartlyq_lookup: the one Redis round trip that decides a request,
 * and an answer (from Redis or the cache) applied to the request's ctx.
 */

#ifndef NGX_SMARTLYQ_LOOKUP_H
#define NGX_SMARTLYQ_LOOKUP_H


#include "ngx_smartlyq_module.h"


/* Redis answered a lookup: the caller's chance to keep the answer */
typedef void (*ngx_smartlyq_answer_pt)(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, const sq_authz_t *a);


ngx_int_t ngx_smartlyq_lookup_start(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, ngx_smartlyq_answer_pt answered);
ngx_int_t ngx_smartlyq_lookup_apply(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, const sq_authz_t *a);


#endif /* NGX_SMARTLYQ_LOOKUP_H */
