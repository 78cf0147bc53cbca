/*
 * ngx_smartlyq_notify: push invalidation of the decision cache.
 *
 * Each worker keeps a third Redis link, subscribed to the keyspace
 * notifications of the records sq_authz reads:
 *   __keyspace@0__:sq:key:{*           a key record changed or went
 *   __keyspace@0__:sq:ws:{w*}:members  a workspace's members changed
 * and bumps the matching generation for each message, by the rule of
 * ngx_smartlyq_epoch.c.  Redis sends them only when its
 * notify-keyspace-events has K plus the g, h, s, x, e classes (see
 * redis/redis.conf); that is checked with CONFIG GET before subscribing.
 *
 * This worker reads the cache only while it is subscribed and has heard
 * from Redis within NGX_SMARTLYQ_TRUST_MS: a heartbeat (a PSUBSCRIBE of a
 * pattern nothing publishes to, whose confirmation is the "pong") goes
 * out every NGX_SMARTLYQ_BEAT_MS, and a link silent for
 * NGX_SMARTLYQ_DEAD_MS is dropped.  A subscription made while no other
 * worker has heard from Redis within NGX_SMARTLYQ_TRUST_MS bumps the
 * zone's epoch: whatever changed while nobody listened is forgotten.
 *
 * Changes that publish nothing are watched for on the lookup link (a
 * subscribed link takes no other commands): with each heartbeat, a
 * worker asks CONFIG GET notify-keyspace-events and GET sq:epoch, a
 * random marker that sqctl init and the backend write and the backend
 * writes again when it is gone.  Events turned off, or a marker that
 * is missing (FLUSHALL, FLUSHDB, SWAPDB) bypass the cache; a new marker
 * flushes it, and so does this worker when it sees events back on
 * after it saw them off.  This
 * worker reads the cache only while such an answer, all well, is less
 * than NGX_SMARTLYQ_TRUST_MS old.  A Redis restarted from an older AOF
 * holds the very same marker, but it drops every link: the subscription
 * made after one was lost flushes the cache.
 *
 * On a reload the old workers keep listening until a new one has
 * subscribed (at most NGX_SMARTLYQ_HANDOVER_MS), so that the cache's
 * entries outlive the reload: the heartbeat timer is not cancelable
 * while this worker is subscribed, which holds its exit.
 */

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "ngx_smartlyq_notify.h"
#include "ngx_smartlyq_epoch.h"
#include "ngx_smartlyq_redis.h"
#include "sq_keys.h"


#define NGX_SMARTLYQ_BEAT_MS     200
#define NGX_SMARTLYQ_TRUST_MS    1000
#define NGX_SMARTLYQ_DEAD_MS     2000
#define NGX_SMARTLYQ_RECHECK_MS  5000       /* a misconfigured Redis */
#define NGX_SMARTLYQ_HANDOVER_MS 2000       /* an exiting worker waits */

#define NGX_SMARTLYQ_BEAT        "__smartlyq_edge_heartbeat__"


typedef enum {
    NGX_SMARTLYQ_SUB_DOWN = 0,
    NGX_SMARTLYQ_SUB_CHECKING,          /* CONFIG GET sent */
    NGX_SMARTLYQ_SUB_MISCONFIGURED,     /* no keyspace events: bypass */
    NGX_SMARTLYQ_SUB_SUBSCRIBING,       /* PSUBSCRIBE sent */
    NGX_SMARTLYQ_SUB_SUBSCRIBED
} ngx_smartlyq_sub_state_e;


struct ngx_smartlyq_notify_s {
    ngx_smartlyq_main_conf_t  *smcf;
    ngx_smartlyq_link_t       *link;
    ngx_log_t                 *log;
    ngx_event_t                beat;        /* cancelable */
    ngx_smartlyq_sub_state_e   state;
    ngx_uint_t                 confirmed;   /* patterns confirmed */
    ngx_msec_t                 checked;     /* last CONFIG GET */
    ngx_uint_t                 warned;
    ngx_uint_t                 leaving;     /* exiting, handing over */
    ngx_msec_t                 left_at;
    ngx_uint_t                 handover;    /* subscriptions seen then */

    /* the watch on the lookup link */
    ngx_uint_t                 watching;    /* its replies are due */
    ngx_msec_t                 watch_sent;
    ngx_msec_t                 watched;     /* last answer, all well */
    ngx_uint_t                 watch_events;  /* the CONFIG GET's */
    ngx_uint_t                 events_lost;   /* seen off, not back */
    ngx_uint_t                 watch_warned;  /* a CONFIG GET refused */
    ngx_uint_t                 marker_warned;
};


static const char  *ngx_smartlyq_patterns[] = {
    SQ_K_NOTIFY_KEY_PREFIX "*",
    SQ_K_NOTIFY_WS_PREFIX "*" SQ_K_WS_MEMBERS_TAIL,
    NGX_SMARTLYQ_BEAT
};

#define NGX_SMARTLYQ_PATTERNS                                                 \
    (sizeof(ngx_smartlyq_patterns) / sizeof(ngx_smartlyq_patterns[0]))


/* CONFIG GET notify-keyspace-events, on either link */
static const char  *ngx_smartlyq_config_argv[] = {
    "CONFIG", "GET", "notify-keyspace-events"
};

static const size_t  ngx_smartlyq_config_lens[] = {
    sizeof("CONFIG") - 1, sizeof("GET") - 1,
    sizeof("notify-keyspace-events") - 1
};


static void ngx_smartlyq_notify_check(ngx_smartlyq_notify_t *nt);
static void ngx_smartlyq_notify_events_off(ngx_smartlyq_notify_t *nt);


/*
 * A command with a hiredis callback of its own, on a link that is up:
 * a subscription's callback is called once per message, so these go
 * through the link's hiredis context rather than its one-reply send.
 */
static ngx_int_t
ngx_smartlyq_notify_command(ngx_smartlyq_link_t *link, redisCallbackFn *fn,
    void *data, int argc, const char **argv, const size_t *argvlen)
{
    redisAsyncContext  *ac;

    ac = ngx_smartlyq_link_context(link);
    if (ac == NULL) {
        return NGX_DECLINED;
    }

    if (redisAsyncCommandArgv(ac, fn, data, argc, argv, argvlen) != REDIS_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_smartlyq_reply_is(redisReply *e, const char *s)
{
    size_t  n = ngx_strlen(s);

    return e->type == REDIS_REPLY_STRING && (size_t) e->len == n
           && ngx_strncasecmp((u_char *) e->str, (u_char *) s, n) == 0;
}


/* K and every class whose events can narrow access */
static ngx_uint_t
ngx_smartlyq_events_enough(redisReply *e)
{
    const char  *need;

    if (e->type != REDIS_REPLY_STRING
        || ngx_strlchr((u_char *) e->str, (u_char *) e->str + e->len, 'K')
           == NULL)
    {
        return 0;
    }

    if (ngx_strlchr((u_char *) e->str, (u_char *) e->str + e->len, 'A')) {
        return 1;
    }

    for (need = "ghsxe"; *need; need++) {
        if (ngx_strlchr((u_char *) e->str, (u_char *) e->str + e->len, *need)
            == NULL)
        {
            return 0;
        }
    }

    return 1;
}


/* one pmessage: [pmessage, pattern, channel, event] */
static void
ngx_smartlyq_notify_message(ngx_smartlyq_notify_t *nt, redisReply *channel)
{
    u_char     *p, *last;
    size_t      len;
    ngx_int_t   ws;

    if (channel->type != REDIS_REPLY_STRING) {
        return;
    }

    p = (u_char *) channel->str;
    last = p + channel->len;
    len = sizeof(SQ_K_NOTIFY_KEY_PREFIX) - 1;

    /* sq:key:{<digest>}: the digest between the braces (else ignored) */
    if ((size_t) (last - p) > len + sizeof(SQ_K_TAG_END) - 1
        && ngx_strncmp(p, SQ_K_NOTIFY_KEY_PREFIX, len) == 0)
    {
        if (last[-1] == SQ_K_TAG_END[0]) {
            ngx_smartlyq_epoch_bump_key(nt->smcf, p + len,
                                        last - p - len - 1);
        }
        return;
    }

    /* sq:ws:{w<id>}:members: the id after "{w", before "}:members" */
    len = sizeof(SQ_K_NOTIFY_WS_PREFIX) - 1;

    if ((size_t) (last - p) <= len + sizeof(SQ_K_WS_MEMBERS_TAIL) - 1
        || ngx_strncmp(p, SQ_K_NOTIFY_WS_PREFIX, len) != 0)
    {
        return;
    }

    p += len;
    last -= sizeof(SQ_K_WS_MEMBERS_TAIL) - 1;

    if (ngx_strncmp(last, SQ_K_WS_MEMBERS_TAIL,
                    sizeof(SQ_K_WS_MEMBERS_TAIL) - 1)
        != 0)
    {
        return;
    }

    ws = ngx_atoi(p, last - p);

    if (ws > 0) {
        ngx_smartlyq_epoch_bump_ws(nt->smcf, (uint64_t) ws);
    }
}


/*
 * Every reply on the subscribed link: subscription confirmations
 * (including the heartbeat's) and messages.
 */
static void
ngx_smartlyq_notify_cb(redisAsyncContext *ac, void *data, void *privdata)
{
    redisReply             *reply = data;
    ngx_smartlyq_notify_t  *nt = privdata;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements < 3)
    {
        return;     /* the link is going: the down hook says so */
    }

    if (ngx_smartlyq_reply_is(reply->element[0], "pmessage")
        && reply->elements == 4)
    {
        ngx_smartlyq_notify_message(nt, reply->element[2]);
        return;
    }

    if (!ngx_smartlyq_reply_is(reply->element[0], "psubscribe")
        || nt->state != NGX_SMARTLYQ_SUB_SUBSCRIBING)
    {
        return;
    }

    if (++nt->confirmed < NGX_SMARTLYQ_PATTERNS) {
        return;
    }

    /* listening now; if nobody was, what changed cannot be known */
    nt->state = NGX_SMARTLYQ_SUB_SUBSCRIBED;
    ngx_smartlyq_epoch_subscribed(nt->smcf, NGX_SMARTLYQ_TRUST_MS);

    ngx_log_error(NGX_LOG_INFO, nt->log, 0,
                  "smartlyq: cache invalidation subscribed");
}


static void
ngx_smartlyq_notify_subscribe(ngx_smartlyq_notify_t *nt)
{
    size_t       lens[NGX_SMARTLYQ_PATTERNS + 1];
    ngx_uint_t   i;
    const char  *argv[NGX_SMARTLYQ_PATTERNS + 1];

    argv[0] = "PSUBSCRIBE";
    lens[0] = sizeof("PSUBSCRIBE") - 1;

    for (i = 0; i < NGX_SMARTLYQ_PATTERNS; i++) {
        argv[i + 1] = ngx_smartlyq_patterns[i];
        lens[i + 1] = ngx_strlen(ngx_smartlyq_patterns[i]);
    }

    nt->confirmed = 0;
    nt->state = NGX_SMARTLYQ_SUB_SUBSCRIBING;

    if (ngx_smartlyq_notify_command(nt->link, ngx_smartlyq_notify_cb, nt,
                                    NGX_SMARTLYQ_PATTERNS + 1, argv, lens)
        != NGX_OK)
    {
        nt->state = NGX_SMARTLYQ_SUB_DOWN;
    }
}


static void
ngx_smartlyq_notify_events_off(ngx_smartlyq_notify_t *nt)
{
    if (!nt->warned) {
        ngx_log_error(NGX_LOG_ERR, nt->log, 0,
                      "smartlyq: redis does not publish the keyspace events "
                      "the cache needs (notify-keyspace-events must include "
                      "K and g, h, s, x, e, or KA; see redis/redis.conf): "
                      "the cache is bypassed");
        nt->warned = 1;
    }
}


static void
ngx_smartlyq_notify_events_on(ngx_smartlyq_notify_t *nt)
{
    if (nt->warned) {
        ngx_log_error(NGX_LOG_NOTICE, nt->log, 0,
                      "smartlyq: redis now publishes keyspace events");
        nt->warned = 0;
    }
}


/* CONFIG GET notify-keyspace-events: [name, value] */
static void
ngx_smartlyq_notify_config_cb(redisAsyncContext *ac, void *data,
    void *privdata)
{
    redisReply             *reply = data;
    ngx_smartlyq_notify_t  *nt = privdata;

    if (reply == NULL || nt->state != NGX_SMARTLYQ_SUB_CHECKING) {
        return;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
        && ngx_smartlyq_events_enough(reply->element[1]))
    {
        ngx_smartlyq_notify_events_on(nt);
        ngx_smartlyq_notify_subscribe(nt);
        return;
    }

    nt->state = NGX_SMARTLYQ_SUB_MISCONFIGURED;

    ngx_smartlyq_notify_events_off(nt);
}


static void
ngx_smartlyq_notify_check(ngx_smartlyq_notify_t *nt)
{
    nt->state = NGX_SMARTLYQ_SUB_CHECKING;
    nt->checked = ngx_current_msec;

    if (ngx_smartlyq_notify_command(nt->link, ngx_smartlyq_notify_config_cb,
                                    nt, 3, ngx_smartlyq_config_argv,
                                    ngx_smartlyq_config_lens)
        != NGX_OK)
    {
        nt->state = NGX_SMARTLYQ_SUB_DOWN;
    }
}


/* the watch: CONFIG GET notify-keyspace-events on the lookup link */
static void
ngx_smartlyq_watch_events_cb(redisAsyncContext *ac, void *data,
    void *privdata)
{
    redisReply             *reply = data;
    ngx_smartlyq_notify_t  *nt = privdata;

    nt->watch_events = 0;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
        nt->watch_events = ngx_smartlyq_events_enough(reply->element[1]);
        return;
    }

    if (!nt->watch_warned) {
        ngx_log_error(NGX_LOG_ERR, nt->log, 0,
                      "smartlyq: CONFIG GET notify-keyspace-events failed: "
                      "\"%*s\" (the edge's Redis user needs +config|get): "
                      "the cache is bypassed",
                      reply->type == REDIS_REPLY_ERROR ? (size_t) reply->len
                                                       : 0,
                      reply->str);
        nt->watch_warned = 1;
    }
}


/* the watch: GET sq:epoch, whose reply ends it */
static void
ngx_smartlyq_watch_marker_cb(redisAsyncContext *ac, void *data,
    void *privdata)
{
    redisReply             *reply = data;
    ngx_smartlyq_notify_t  *nt = privdata;

    uint32_t  marker;

    nt->watching = 0;

    if (reply == NULL || nt->smcf->notify != nt) {
        nt->watched = 0;
        return;
    }

    if (reply->type == REDIS_REPLY_STRING && reply->len > 0) {
        marker = ngx_crc32_short((u_char *) reply->str, reply->len);
        marker = marker ? marker : 1;

    } else if (reply->type == REDIS_REPLY_NIL) {
        marker = 0;

    } else {
        nt->watched = 0;
        return;
    }

    ngx_smartlyq_epoch_marker(nt->smcf, marker);

    /* this link's answers come in order: "back on" is after "off" */
    if (!nt->watch_events) {
        nt->events_lost = 1;
        ngx_smartlyq_notify_events_off(nt);

    } else {
        if (nt->events_lost) {
            nt->events_lost = 0;
            ngx_smartlyq_epoch_flush(nt->smcf);
        }

        nt->watch_warned = 0;
        ngx_smartlyq_notify_events_on(nt);

        if (nt->state == NGX_SMARTLYQ_SUB_MISCONFIGURED) {
            ngx_smartlyq_notify_check(nt);      /* subscribe at once */
        }
    }

    if (marker == 0) {
        if (!nt->marker_warned) {
            ngx_log_error(NGX_LOG_WARN, nt->log, 0,
                          "smartlyq: redis has no \"" SQ_K_EPOCH
                          "\" (flushed, swapped, or not set up by sqctl "
                          "init or the backend yet): the cache is "
                          "bypassed");
            nt->marker_warned = 1;
        }

    } else if (nt->marker_warned) {
        ngx_log_error(NGX_LOG_NOTICE, nt->log, 0,
                      "smartlyq: redis has \"" SQ_K_EPOCH
                      "\" again, the cache was flushed");
        nt->marker_warned = 0;
    }

    nt->watched = (nt->watch_events && marker) ? ngx_current_msec : 0;
}


static void
ngx_smartlyq_watch(ngx_smartlyq_notify_t *nt)
{
    size_t       lens[3];
    const char  *argv[3];

    if (nt->watching
        && ngx_current_msec - nt->watch_sent < NGX_SMARTLYQ_DEAD_MS)
    {
        return;     /* the last one is still out: a slow Redis */
    }

    if (ngx_smartlyq_notify_command(nt->smcf->link,
                                    ngx_smartlyq_watch_events_cb, nt, 3,
                                    ngx_smartlyq_config_argv,
                                    ngx_smartlyq_config_lens)
        != NGX_OK)
    {
        return;
    }

    argv[0] = "GET";
    lens[0] = sizeof("GET") - 1;
    argv[1] = SQ_K_EPOCH;
    lens[1] = sizeof(SQ_K_EPOCH) - 1;

    if (ngx_smartlyq_notify_command(nt->smcf->link,
                                    ngx_smartlyq_watch_marker_cb, nt, 2, argv,
                                    lens)
        != NGX_OK)
    {
        return;
    }

    nt->watching = 1;
    nt->watch_sent = ngx_current_msec;
}


/* link hooks */

static void
ngx_smartlyq_notify_up(void *data)
{
    ngx_smartlyq_notify_t  *nt = data;

    ngx_smartlyq_notify_check(nt);
}


static void
ngx_smartlyq_notify_down(void *data)
{
    ngx_smartlyq_notify_t  *nt = data;

    if (nt->state == NGX_SMARTLYQ_SUB_SUBSCRIBED) {
        ngx_log_error(NGX_LOG_WARN, nt->log, 0,
                      "smartlyq: cache invalidation link lost, the cache "
                      "is bypassed until it is back, then flushed");

        /* the Redis that comes back may be another, or an older one */
        ngx_smartlyq_epoch_unlistening(nt->smcf);
        ngx_smartlyq_epoch_lost(nt->smcf);
    }

    nt->state = NGX_SMARTLYQ_SUB_DOWN;
}


/*
 * The worker is exiting: keep listening until a newer worker has
 * subscribed or for NGX_SMARTLYQ_HANDOVER_MS; 0 when done.
 */
static ngx_uint_t
ngx_smartlyq_notify_leave(ngx_smartlyq_notify_t *nt)
{
    ngx_uint_t  n;

    if (ngx_terminate || nt->state != NGX_SMARTLYQ_SUB_SUBSCRIBED) {
        return 0;
    }

    n = ngx_smartlyq_epoch_subscriptions(nt->smcf);

    if (!nt->leaving) {
        nt->leaving = 1;
        nt->left_at = ngx_current_msec;
        nt->handover = n;
    }

    if (n != nt->handover) {
        return 0;       /* handed over: someone else listens */
    }

    if (ngx_current_msec - nt->left_at >= NGX_SMARTLYQ_HANDOVER_MS) {
        ngx_smartlyq_epoch_unlistening(nt->smcf);
        return 0;
    }

    return 1;
}


static void
ngx_smartlyq_notify_beat(ngx_event_t *ev)
{
    size_t                  lens[2];
    ngx_msec_t              heard;
    const char             *argv[2];
    ngx_smartlyq_notify_t  *nt = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        if (!ngx_smartlyq_notify_leave(nt)) {
            return;     /* no timer left: the worker may exit */
        }
    }

    /* while subscribed, the timer holds a graceful exit: the handover */
    nt->beat.cancelable = (nt->state != NGX_SMARTLYQ_SUB_SUBSCRIBED);
    ngx_add_timer(&nt->beat, NGX_SMARTLYQ_BEAT_MS);

    heard = ngx_smartlyq_link_heard(nt->link);

    ngx_smartlyq_watch(nt);

    switch (nt->state) {

    case NGX_SMARTLYQ_SUB_SUBSCRIBED:
    case NGX_SMARTLYQ_SUB_SUBSCRIBING:
        if (ngx_current_msec - heard >= NGX_SMARTLYQ_DEAD_MS) {
            ngx_smartlyq_link_drop(nt->link, "invalidation link silent");
            return;
        }

        if (nt->state == NGX_SMARTLYQ_SUB_SUBSCRIBED
            && ngx_current_msec - heard < NGX_SMARTLYQ_TRUST_MS)
        {
            ngx_smartlyq_epoch_listening(nt->smcf,
                                         heard + NGX_SMARTLYQ_TRUST_MS);
        }

        argv[0] = "PSUBSCRIBE";
        lens[0] = sizeof("PSUBSCRIBE") - 1;
        argv[1] = NGX_SMARTLYQ_BEAT;
        lens[1] = sizeof(NGX_SMARTLYQ_BEAT) - 1;

        (void) ngx_smartlyq_notify_command(nt->link, ngx_smartlyq_notify_cb,
                                           nt, 2, argv, lens);
        return;

    case NGX_SMARTLYQ_SUB_MISCONFIGURED:
        if (ngx_current_msec - nt->checked >= NGX_SMARTLYQ_RECHECK_MS) {
            ngx_smartlyq_notify_check(nt);
        }

        return;

    default:
        return;
    }
}


/* exported */

ngx_int_t
ngx_smartlyq_notify_init(ngx_cycle_t *cycle, ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_notify_t  *nt;

    if (smcf->cache == NULL) {
        return NGX_OK;
    }

    nt = ngx_pcalloc(cycle->pool, sizeof(ngx_smartlyq_notify_t));
    if (nt == NULL) {
        return NGX_ERROR;
    }

    nt->smcf = smcf;
    nt->log = cycle->log;

    nt->beat.handler = ngx_smartlyq_notify_beat;
    nt->beat.data = nt;
    nt->beat.log = cycle->log;
    nt->beat.cancelable = 1;

    nt->link = ngx_smartlyq_link_create(cycle, smcf);
    if (nt->link == NULL) {
        return NGX_ERROR;
    }

    /* connecting completes on the event loop, after this returns */
    ngx_smartlyq_link_hooks(nt->link, ngx_smartlyq_notify_up,
                            ngx_smartlyq_notify_down, nt);

    ngx_add_timer(&nt->beat, NGX_SMARTLYQ_BEAT_MS);

    smcf->notify = nt;

    return NGX_OK;
}


void
ngx_smartlyq_notify_exit(ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_notify_t  *nt = smcf->notify;

    if (nt == NULL) {
        return;
    }

    if (nt->beat.timer_set) {
        ngx_del_timer(&nt->beat);
    }

    /* not handed over: nobody may be listening from now on */
    if (nt->state == NGX_SMARTLYQ_SUB_SUBSCRIBED
        && (!nt->leaving
            || ngx_smartlyq_epoch_subscriptions(smcf) == nt->handover))
    {
        ngx_smartlyq_epoch_unlistening(smcf);
    }

    ngx_smartlyq_link_exit(nt->link);
    nt->state = NGX_SMARTLYQ_SUB_DOWN;
    smcf->notify = NULL;
}


/* the subscriber's link (NULL: no cache), for Sentinel to move it */
ngx_smartlyq_link_t *
ngx_smartlyq_notify_link(ngx_smartlyq_main_conf_t *smcf)
{
    return smcf->notify ? smcf->notify->link : NULL;
}


/* may this worker answer from the cache now? */
ngx_uint_t
ngx_smartlyq_notify_trusted(ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_notify_t  *nt = smcf->notify;

    return nt != NULL && nt->state == NGX_SMARTLYQ_SUB_SUBSCRIBED
           && ngx_current_msec - ngx_smartlyq_link_heard(nt->link)
              < NGX_SMARTLYQ_TRUST_MS
           && nt->watched
           && ngx_current_msec - nt->watched < NGX_SMARTLYQ_TRUST_MS
           && ngx_smartlyq_epoch_usable(smcf);
}
