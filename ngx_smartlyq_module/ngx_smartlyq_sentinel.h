/*
 * ngx_smartlyq_sentinel: where the links go when Redis is replicated.
 * smartlyq_redis_write (the edge's own writes to another address than
 * its reads), smartlyq_redis_sentinel (the primary and a replica found
 * through Sentinel, followed on the event loop) and its password file.
 */

#ifndef NGX_SMARTLYQ_SENTINEL_H
#define NGX_SMARTLYQ_SENTINEL_H


#include "ngx_smartlyq_module.h"


char *ngx_smartlyq_redis_write_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_smartlyq_sentinel_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_smartlyq_sentinel_password_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_smartlyq_sentinel_check(ngx_conf_t *cf,
    ngx_smartlyq_main_conf_t *smcf);

ngx_int_t ngx_smartlyq_sentinel_init(ngx_cycle_t *cycle,
    ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_sentinel_exit(ngx_smartlyq_main_conf_t *smcf);


#endif /* NGX_SMARTLYQ_SENTINEL_H */
