/*
 * ngx_smartlyq_refuse: every refusal the edge answers itself, one row of
 * a table each, and the JSON envelope all of them (and errors.c's pages)
 * are written in.
 */

#ifndef NGX_SMARTLYQ_REFUSE_H
#define NGX_SMARTLYQ_REFUSE_H


#include "ngx_smartlyq_module.h"


/* one row of ngx_smartlyq_refusals[] each; a new refusal is a new row */
typedef enum {
    NGX_SMARTLYQ_R_KEY_IN_URL = 0,
    NGX_SMARTLYQ_R_AUTH_HEADERS,      /* two Authorization headers */
    NGX_SMARTLYQ_R_NO_KEY,
    NGX_SMARTLYQ_R_MALFORMED_KEY,
    NGX_SMARTLYQ_R_PUBLISHABLE,
    NGX_SMARTLYQ_R_OAUTH,             /* "smartlyq_oauth off" here */
    NGX_SMARTLYQ_R_WS_DUPLICATE,
    NGX_SMARTLYQ_R_WS_CONFLICT,
    NGX_SMARTLYQ_R_WS_INVALID,
    NGX_SMARTLYQ_R_CONTENT_TYPES,     /* two Content-Type headers */
    NGX_SMARTLYQ_R_BODY_TOO_LARGE,
    NGX_SMARTLYQ_R_BODY_BAD_JSON,
    NGX_SMARTLYQ_R_BODY_NOT_OBJECT,
    NGX_SMARTLYQ_R_UNKNOWN_KEY,
    NGX_SMARTLYQ_R_DISABLED_KEY,
    NGX_SMARTLYQ_R_EXPIRED_KEY,
    NGX_SMARTLYQ_R_DELETED_KEY,
    NGX_SMARTLYQ_R_ROTATED_KEY,
    NGX_SMARTLYQ_R_SCOPE,
    NGX_SMARTLYQ_R_FORBIDDEN,
    NGX_SMARTLYQ_R_UNAVAILABLE,
    NGX_SMARTLYQ_REFUSALS             /* how many there are */
} ngx_smartlyq_refusal_e;


ngx_int_t ngx_smartlyq_refuse(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, ngx_smartlyq_refusal_e refusal);
ngx_int_t ngx_smartlyq_envelope(ngx_pool_t *pool, ngx_str_t *out,
    const char *code, const char *message, ngx_str_t *detail);


#endif /* NGX_SMARTLYQ_REFUSE_H */
