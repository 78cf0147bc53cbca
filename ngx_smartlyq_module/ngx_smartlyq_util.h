/*
 * ngx_smartlyq_util: small helpers every concern may use; they call
 * nothing else of the module's.
 */

#ifndef NGX_SMARTLYQ_UTIL_H
#define NGX_SMARTLYQ_UTIL_H


#include "ngx_smartlyq_module.h"


ngx_smartlyq_ctx_t *ngx_smartlyq_get_ctx(ngx_http_request_t *r);
ngx_smartlyq_ctx_t *ngx_smartlyq_create_ctx(ngx_http_request_t *r);
ngx_int_t ngx_smartlyq_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value, ngx_table_elt_t **ref);
ngx_table_elt_t *ngx_smartlyq_header_next(ngx_list_part_t **part,
    ngx_uint_t *i);
ngx_uint_t ngx_smartlyq_headers_in(ngx_http_request_t *r, ngx_str_t *name,
    ngx_table_elt_t **last);
uint64_t ngx_smartlyq_now_us(void);
ngx_str_t *ngx_smartlyq_decision_name(ngx_smartlyq_result_e result);


#endif /* NGX_SMARTLYQ_UTIL_H */
