/* ngx_smartlyq_notify: invalidations pushed by Redis */

#ifndef NGX_SMARTLYQ_NOTIFY_H
#define NGX_SMARTLYQ_NOTIFY_H


#include "ngx_smartlyq_module.h"


ngx_int_t ngx_smartlyq_notify_init(ngx_cycle_t *cycle,
    ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_notify_exit(ngx_smartlyq_main_conf_t *smcf);
ngx_smartlyq_link_t *ngx_smartlyq_notify_link(
    ngx_smartlyq_main_conf_t *smcf);
ngx_uint_t ngx_smartlyq_notify_trusted(ngx_smartlyq_main_conf_t *smcf);


#endif /* NGX_SMARTLYQ_NOTIFY_H */
