/*
 * ngx_smartlyq_redis: a worker's link to Redis, an adapter between
 * hiredis and nginx's event loop and nothing more: connect, AUTH,
 * backoff, a watchdog, and commands sent with a callback.  It knows
 * nothing of requests, lookups or caches; its users hand it functions.
 */

#ifndef NGX_SMARTLYQ_REDIS_H
#define NGX_SMARTLYQ_REDIS_H


#include "ngx_smartlyq_module.h"


/* the link came up, or its context is gone */
typedef void (*ngx_smartlyq_link_hook_pt)(void *data);

/* a command's reply (a redisReply), or NULL: the link died */
typedef void (*ngx_smartlyq_reply_pt)(void *reply, void *data);


ngx_smartlyq_link_t *ngx_smartlyq_link_create(ngx_cycle_t *cycle,
    ngx_smartlyq_main_conf_t *smcf);
ngx_smartlyq_link_t *ngx_smartlyq_link_create_at(ngx_cycle_t *cycle,
    ngx_smartlyq_main_conf_t *smcf, ngx_str_t *host, ngx_int_t port,
    sq_redis_auth_t *auth);
ngx_int_t ngx_smartlyq_link_retarget(ngx_smartlyq_link_t *link,
    ngx_str_t *host, ngx_int_t port);
void ngx_smartlyq_link_hooks(ngx_smartlyq_link_t *link,
    ngx_smartlyq_link_hook_pt up, ngx_smartlyq_link_hook_pt down,
    void *data);
void ngx_smartlyq_link_exit(ngx_smartlyq_link_t *link);

ngx_int_t ngx_smartlyq_link_ready(ngx_smartlyq_link_t *link);
ngx_int_t ngx_smartlyq_link_send(ngx_smartlyq_link_t *link, int argc,
    const char **argv, const size_t *argvlen, ngx_smartlyq_reply_pt fn,
    void *data);
ngx_int_t ngx_smartlyq_link_send_resp(ngx_smartlyq_link_t *link,
    const char *cmd, size_t len, ngx_smartlyq_reply_pt fn, void *data);
void ngx_smartlyq_link_timed_out(ngx_smartlyq_link_t *link);
void ngx_smartlyq_link_drop(ngx_smartlyq_link_t *link, const char *why);

void *ngx_smartlyq_link_context(ngx_smartlyq_link_t *link);
ngx_msec_t ngx_smartlyq_link_heard(ngx_smartlyq_link_t *link);


#endif /* NGX_SMARTLYQ_REDIS_H */
