/* ngx_smartlyq_scope: key types and scopes */

#ifndef NGX_SMARTLYQ_SCOPE_H
#define NGX_SMARTLYQ_SCOPE_H


#include "ngx_smartlyq_module.h"


ngx_int_t ngx_smartlyq_type_allowed(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
ngx_int_t ngx_smartlyq_scope_allowed(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
char *ngx_smartlyq_scope_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* NGX_SMARTLYQ_SCOPE_H */
