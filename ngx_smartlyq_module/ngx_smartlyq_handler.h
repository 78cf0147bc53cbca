/* ngx_smartlyq_handler: the access-phase check, the one caller */

#ifndef NGX_SMARTLYQ_HANDLER_H
#define NGX_SMARTLYQ_HANDLER_H


#include "ngx_smartlyq_module.h"


ngx_int_t ngx_smartlyq_access_handler(ngx_http_request_t *r);


#endif /* NGX_SMARTLYQ_HANDLER_H */
