/* ngx_smartlyq_identity: the signed identity for the upstream */

#ifndef NGX_SMARTLYQ_IDENTITY_H
#define NGX_SMARTLYQ_IDENTITY_H


#include "ngx_smartlyq_module.h"


ngx_int_t ngx_smartlyq_identity_set(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);


#endif /* NGX_SMARTLYQ_IDENTITY_H */
