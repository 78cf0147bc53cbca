/* ngx_smartlyq_json: JSON bodies parsed in a per-worker arena */

#ifndef NGX_SMARTLYQ_JSON_H
#define NGX_SMARTLYQ_JSON_H


#include "ngx_smartlyq_module.h"


ngx_int_t ngx_smartlyq_json_workspace(ngx_http_request_t *r, u_char *body,
    size_t len, size_t limit, sq_ws_rc_t *rc, uint64_t *id);


#endif /* NGX_SMARTLYQ_JSON_H */
