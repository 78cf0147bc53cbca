/*
 * ngx_smartlyq_epoch: generations and epoch, the rule that says when a
 * cached answer stops being true.
 */

#ifndef NGX_SMARTLYQ_EPOCH_H
#define NGX_SMARTLYQ_EPOCH_H


#include "ngx_smartlyq_module.h"


#define NGX_SMARTLYQ_GENS  1024             /* a power of two */


/* in the cache's shared zone */
struct ngx_smartlyq_epoch_s {
    ngx_atomic_t               epoch;
    ngx_atomic_t               heard_until;    /* some worker listens */
    ngx_atomic_t               subscriptions;  /* ever made */
    ngx_atomic_t               redis;          /* the address's crc32 */
    ngx_atomic_t               marker;         /* sq:epoch's crc32; 0 */
    ngx_atomic_t               lost;           /* a subscription was */
    ngx_atomic_t               invalidations;  /* notifications applied */
    ngx_atomic_t               flushes;        /* epoch bumps */
    ngx_atomic_t               key_gen[NGX_SMARTLYQ_GENS];
    ngx_atomic_t               ws_gen[NGX_SMARTLYQ_GENS];
};


/* the cache's side */
ngx_int_t ngx_smartlyq_epoch_init(ngx_smartlyq_main_conf_t *smcf,
    ngx_smartlyq_epoch_t *ep, ngx_uint_t old);
ngx_uint_t ngx_smartlyq_epoch_foreign(ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_epoch_stamp(ngx_smartlyq_main_conf_t *smcf,
    const u_char *bin, uint64_t ws, ngx_smartlyq_stamp_t *st);
ngx_uint_t ngx_smartlyq_epoch_current(ngx_smartlyq_epoch_t *ep,
    const u_char *bin, uint64_t ws, const ngx_smartlyq_stamp_t *st);

/* the notifier's side */
void ngx_smartlyq_epoch_bump_key(ngx_smartlyq_main_conf_t *smcf,
    const u_char *hex, size_t len);
void ngx_smartlyq_epoch_bump_ws(ngx_smartlyq_main_conf_t *smcf, uint64_t ws);
void ngx_smartlyq_epoch_listening(ngx_smartlyq_main_conf_t *smcf,
    ngx_msec_t until);
void ngx_smartlyq_epoch_subscribed(ngx_smartlyq_main_conf_t *smcf,
    ngx_msec_t window);
void ngx_smartlyq_epoch_unlistening(ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_epoch_lost(ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_epoch_flush(ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_epoch_marker(ngx_smartlyq_main_conf_t *smcf,
    uint32_t marker);
ngx_uint_t ngx_smartlyq_epoch_usable(ngx_smartlyq_main_conf_t *smcf);
ngx_uint_t ngx_smartlyq_epoch_subscriptions(ngx_smartlyq_main_conf_t *smcf);


#endif /* NGX_SMARTLYQ_EPOCH_H */
