/*
 * ngx_smartlyq_epoch: when a cached answer stops being true; the rule
 * the notifier (ngx_smartlyq_notify.c) applies and the cache obeys.
 *
 * Invalidation is pushed, not polled: each change to sq:key:{<digest>}
 * bumps a generation counter chosen by the digest, each change to
 * sq:ws:{w<id>}:members one chosen by the workspace, and a (re)subscription
 * bumps the zone's epoch.  An answer is stamped with the three values
 * read *before* its lookup was sent and is good only while all three are
 * unchanged, so an answer computed before a change can never outlive the
 * change's notification.  The epoch is bumped only when no worker has
 * been listening: a worker that subscribes while another one is still
 * hearing from Redis (a reload: the old workers listen until they exit)
 * keeps the entries.  Several digests share a counter: a change costs
 * its neighbours a miss, never a stale grant.  Entries end at the key's
 * own expiry or rotation sunset, too (ngx_smartlyq_cache.c), because the
 * passing of time publishes nothing.
 *
 * Some changes publish nothing at all: FLUSHALL, FLUSHDB, SWAPDB, a Redis
 * restarted from an older AOF, notify-keyspace-events turned off, a
 * reload onto another Redis.  The state remembers the Redis address and
 * the value of its marker key (sq:epoch), which every worker reads with
 * its heartbeat, and bumps the epoch when either changes; a worker that
 * saw the events off bumps it when it sees them back, and so does the
 * first subscription after a worker lost one.
 *
 * The state lives in the cache's zone (ngx_smartlyq_cache.c embeds it),
 * and smcf->epoch points at it once the zone is up.
 */

#include "ngx_smartlyq_epoch.h"


/* the digest is a keyed hash already: its first bytes are uniform */
static ngx_uint_t
ngx_smartlyq_key_slot(const u_char *bin)
{
    return ((ngx_uint_t) bin[0] << 8 | bin[1]) & (NGX_SMARTLYQ_GENS - 1);
}


static ngx_uint_t
ngx_smartlyq_ws_slot(uint64_t ws)
{
    return (ngx_uint_t) ((ws * 0x9e3779b97f4a7c15ULL) >> 52)
           & (NGX_SMARTLYQ_GENS - 1);
}


/* which Redis this cycle's workers read: crc32 of its address */
static uint32_t
ngx_smartlyq_epoch_redis_id(ngx_smartlyq_main_conf_t *smcf)
{
    uint32_t  crc;

    ngx_crc32_init(crc);

    if (smcf->redis_name.len) {
        /* Sentinel: the master's name, whichever node serves it now */
        ngx_crc32_update(&crc, smcf->redis_name.data, smcf->redis_name.len);

    } else if (smcf->unix_path.len) {
        ngx_crc32_update(&crc, (u_char *) "unix:", 5);
        ngx_crc32_update(&crc, smcf->unix_path.data, smcf->unix_path.len);

    } else {
        ngx_crc32_update(&crc, smcf->host.data, smcf->host.len);
        ngx_crc32_update(&crc, (u_char *) &smcf->port, sizeof(ngx_int_t));
    }

    ngx_crc32_final(crc);

    return crc;
}


/*
 * The cache zone is up, with ep in it: new (zeroed), or carried over a
 * reload (old) or from a zone that existed.  Another Redis than the
 * zone's after a reload: nothing cached holds for it, and nobody listens
 * to it yet (the old workers listen to the old one).  NGX_DONE then.
 */
ngx_int_t
ngx_smartlyq_epoch_init(ngx_smartlyq_main_conf_t *smcf,
    ngx_smartlyq_epoch_t *ep, ngx_uint_t old)
{
    smcf->redis_id = ngx_smartlyq_epoch_redis_id(smcf);
    smcf->epoch = ep;

    if (!old) {
        ep->redis = smcf->redis_id;
        return NGX_OK;
    }

    if (ep->redis == smcf->redis_id) {
        return NGX_OK;
    }

    ep->redis = smcf->redis_id;
    ep->marker = 0;
    ep->heard_until = ngx_current_msec;
    (void) ngx_atomic_fetch_add(&ep->epoch, 1);
    (void) ngx_atomic_fetch_add(&ep->flushes, 1);

    return NGX_DONE;
}


/*
 * No zone, or a zone a reload has pointed at another Redis than this
 * (old) worker's: it neither reads, fills nor vouches for it.
 */
ngx_uint_t
ngx_smartlyq_epoch_foreign(ngx_smartlyq_main_conf_t *smcf)
{
    return smcf->epoch == NULL || smcf->epoch->redis != smcf->redis_id;
}


/* the values an answer for (digest, ws) is stored under */
void
ngx_smartlyq_epoch_stamp(ngx_smartlyq_main_conf_t *smcf, const u_char *bin,
    uint64_t ws, ngx_smartlyq_stamp_t *st)
{
    ngx_smartlyq_epoch_t  *ep = smcf->epoch;

    st->epoch = (uint32_t) ep->epoch;
    st->key_gen = (uint32_t) ep->key_gen[ngx_smartlyq_key_slot(bin)];
    st->ws_gen = ws ? (uint32_t) ep->ws_gen[ngx_smartlyq_ws_slot(ws)] : 0;
}


/* nothing an answer stamped st depends on has changed since */
ngx_uint_t
ngx_smartlyq_epoch_current(ngx_smartlyq_epoch_t *ep, const u_char *bin,
    uint64_t ws, const ngx_smartlyq_stamp_t *st)
{
    if (st->epoch != (uint32_t) ep->epoch
        || st->key_gen != (uint32_t) ep->key_gen[ngx_smartlyq_key_slot(bin)])
    {
        return 0;
    }

    return ws == 0
           || st->ws_gen == (uint32_t) ep->ws_gen[ngx_smartlyq_ws_slot(ws)];
}


/* invalidations, from ngx_smartlyq_notify.c */

/* sq:key:{<64 hex digits>} changed */
void
ngx_smartlyq_epoch_bump_key(ngx_smartlyq_main_conf_t *smcf, const u_char *hex,
    size_t len)
{
    u_char      bin[2];
    ngx_uint_t  i;

    if (smcf->epoch == NULL || len != SQ_DIGEST_HEX_LEN) {
        return;
    }

    for (i = 0; i < len; i++) {
        if (!((hex[i] >= '0' && hex[i] <= '9')
              || (hex[i] >= 'a' && hex[i] <= 'f')))
        {
            return;     /* not a record the edge reads */
        }
    }

    bin[0] = (u_char) ngx_hextoi((u_char *) hex, 2);
    bin[1] = (u_char) ngx_hextoi((u_char *) hex + 2, 2);

    (void) ngx_atomic_fetch_add(
               &smcf->epoch->key_gen[ngx_smartlyq_key_slot(bin)], 1);
    (void) ngx_atomic_fetch_add(&smcf->epoch->invalidations, 1);
}


/* sq:ws:{w<id>}:members changed */
void
ngx_smartlyq_epoch_bump_ws(ngx_smartlyq_main_conf_t *smcf, uint64_t ws)
{
    if (smcf->epoch == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(
               &smcf->epoch->ws_gen[ngx_smartlyq_ws_slot(ws)], 1);
    (void) ngx_atomic_fetch_add(&smcf->epoch->invalidations, 1);
}


/*
 * A worker that is subscribed has heard from Redis at "heard": someone
 * listens until heard + window.
 */
void
ngx_smartlyq_epoch_listening(ngx_smartlyq_main_conf_t *smcf,
    ngx_msec_t until)
{
    ngx_atomic_uint_t      old;
    ngx_smartlyq_epoch_t  *ep;

    if (ngx_smartlyq_epoch_foreign(smcf)) {
        return;
    }

    ep = smcf->epoch;

    for ( ;; ) {
        old = ep->heard_until;

        if ((ngx_msec_int_t) (until - (ngx_msec_t) old) <= 0
            || ngx_atomic_cmp_set(&ep->heard_until, old, until))
        {
            return;
        }
    }
}


/*
 * This worker has just subscribed.  If no other worker was listening a
 * moment ago, changes may have gone unheard, and if a worker lost its
 * subscription since the last one, Redis may have been restarted from
 * an older AOF: either way every entry is dropped.
 */
void
ngx_smartlyq_epoch_subscribed(ngx_smartlyq_main_conf_t *smcf,
    ngx_msec_t window)
{
    ngx_smartlyq_epoch_t  *ep;

    if (ngx_smartlyq_epoch_foreign(smcf)) {
        return;
    }

    ep = smcf->epoch;

    if ((ngx_msec_int_t) ((ngx_msec_t) ep->heard_until - ngx_current_msec)
        <= 0
        || (ep->lost && ngx_atomic_cmp_set(&ep->lost, 1, 0)))
    {
        ep->lost = 0;
        (void) ngx_atomic_fetch_add(&ep->epoch, 1);
        (void) ngx_atomic_fetch_add(&smcf->epoch->flushes, 1);
    }

    (void) ngx_atomic_fetch_add(&ep->subscriptions, 1);
    ngx_smartlyq_epoch_listening(smcf, ngx_current_msec + window);
}


/* this worker stops listening and cannot vouch for "until" any more */
void
ngx_smartlyq_epoch_unlistening(ngx_smartlyq_main_conf_t *smcf)
{
    if (!ngx_smartlyq_epoch_foreign(smcf)) {
        smcf->epoch->heard_until = ngx_current_msec;
    }
}


/*
 * A worker lost its subscription: the Redis the next one is made to may
 * be another one, or one restarted from an older AOF with the very same
 * marker, so the next subscription drops every entry.  Not now: until
 * then, smartlyq_fail_mode stale may still need them.
 */
void
ngx_smartlyq_epoch_lost(ngx_smartlyq_main_conf_t *smcf)
{
    if (!ngx_smartlyq_epoch_foreign(smcf)) {
        smcf->epoch->lost = 1;
    }
}


/* every entry goes: a worker saw Redis change in a way nobody heard */
void
ngx_smartlyq_epoch_flush(ngx_smartlyq_main_conf_t *smcf)
{
    if (!ngx_smartlyq_epoch_foreign(smcf)) {
        (void) ngx_atomic_fetch_add(&smcf->epoch->epoch, 1);
        (void) ngx_atomic_fetch_add(&smcf->epoch->flushes, 1);
    }
}


/*
 * A worker's heartbeat read the crc32 of Redis's sq:epoch marker (0: it
 * is absent).  Another value than the zone's flushes the cache: FLUSHALL,
 * FLUSHDB, SWAPDB, or another Redis.  A late answer from before a change
 * may flip it back once: that costs a flush, never a stale entry.
 */
void
ngx_smartlyq_epoch_marker(ngx_smartlyq_main_conf_t *smcf, uint32_t marker)
{
    ngx_atomic_uint_t      old;
    ngx_smartlyq_epoch_t  *ep;

    if (ngx_smartlyq_epoch_foreign(smcf)) {
        return;
    }

    ep = smcf->epoch;
    old = ep->marker;

    if (old != marker && ngx_atomic_cmp_set(&ep->marker, old, marker)) {
        (void) ngx_atomic_fetch_add(&ep->epoch, 1);
        (void) ngx_atomic_fetch_add(&smcf->epoch->flushes, 1);
    }
}


/*
 * May the cache be read as far as the zone knows: the zone is this
 * worker's Redis's, and its marker is there.
 */
ngx_uint_t
ngx_smartlyq_epoch_usable(ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_epoch_t  *ep;

    if (ngx_smartlyq_epoch_foreign(smcf)) {
        return 0;
    }

    ep = smcf->epoch;

    return ep->marker != 0;
}


/* how many subscriptions workers have made: a handover's signal */
ngx_uint_t
ngx_smartlyq_epoch_subscriptions(ngx_smartlyq_main_conf_t *smcf)
{
    if (smcf->epoch == NULL) {
        return 0;
    }

    return smcf->epoch->subscriptions;
}
