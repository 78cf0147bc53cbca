/*
 * ngx_smartlyq_activity: what each key did (issue 16), aggregated per
 * worker per second and flushed in one batch to sq:act:<key id>.
 */

#ifndef NGX_SMARTLYQ_ACTIVITY_H
#define NGX_SMARTLYQ_ACTIVITY_H


#include "ngx_smartlyq_module.h"


#define NGX_SMARTLYQ_ACT_MAX    10000   /* entries per key, by default */
#define NGX_SMARTLYQ_ACT_DAYS   30      /* retention, by default */


char *ngx_smartlyq_activity_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_smartlyq_activity_postconf(ngx_conf_t *cf);
ngx_int_t ngx_smartlyq_activity_init(ngx_cycle_t *cycle,
    ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_activity_exit(ngx_smartlyq_main_conf_t *smcf);


#endif /* NGX_SMARTLYQ_ACTIVITY_H */
