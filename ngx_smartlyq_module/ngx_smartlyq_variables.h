/* ngx_smartlyq_variables: $smartlyq_* for access logs */

#ifndef NGX_SMARTLYQ_VARIABLES_H
#define NGX_SMARTLYQ_VARIABLES_H


#include "ngx_smartlyq_module.h"


ngx_int_t ngx_smartlyq_add_variables(ngx_conf_t *cf);


#endif /* NGX_SMARTLYQ_VARIABLES_H */
