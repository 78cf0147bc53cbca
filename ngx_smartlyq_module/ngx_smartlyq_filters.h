/*
 * The module's output filters: ngx_smartlyq_rotation.c (Deprecation and
 * Sunset on a rotated key's replies) and ngx_smartlyq_errors.c (nginx's
 * own error pages as JSON envelopes).
 */

#ifndef NGX_SMARTLYQ_FILTERS_H
#define NGX_SMARTLYQ_FILTERS_H


#include "ngx_smartlyq_module.h"


ngx_int_t ngx_smartlyq_rotation_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_smartlyq_errors_filter_init(ngx_conf_t *cf);


#endif /* NGX_SMARTLYQ_FILTERS_H */
