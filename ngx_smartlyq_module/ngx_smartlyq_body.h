/* ngx_smartlyq_body: workspace_id from a bounded request body */

#ifndef NGX_SMARTLYQ_BODY_H
#define NGX_SMARTLYQ_BODY_H


#include "ngx_smartlyq_module.h"


ngx_int_t ngx_smartlyq_body_read(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
ngx_int_t ngx_smartlyq_body_workspace(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, sq_ws_rc_t *rc, uint64_t *id);


#endif /* NGX_SMARTLYQ_BODY_H */
