/*
 * sq_asentinel: Sentinel questions and the +switch-master subscription
 * on the worker's loop.  Each of the two links is one hiredis async
 * context, made when needed and forgotten (hiredis frees it) when it
 * drops; a silent sentinel is dropped by the tick.
 */

#include <string.h>
#include <time.h>

#include <hiredis/adapters/libevent.h>

#include "sq_asentinel.h"
#include "sq_log.h"


static int64_t
sq_asentinel_now_ms(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void
sq_asentinel_on_disconnect(const redisAsyncContext *ac, int status)
{
    sq_asentinel_t  *s = ac->data;

    (void) status;

    if (s == NULL) {
        return;
    }

    if (s->q == ac) {
        s->q = NULL;
        s->q_sent_ms = 0;
        s->q_idx = (s->q_idx + 1) % s->conf->n;
    }

    if (s->sub == ac) {
        s->sub = NULL;
        s->sub_idx = (s->sub_idx + 1) % s->conf->n;
    }
}


static void
sq_asentinel_on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        /* hiredis frees it; forget it as a disconnect would */
        sq_asentinel_on_disconnect(ac, status);
    }
}


/* drops a link (the next question goes to the next sentinel) */
static void
sq_asentinel_drop(sq_asentinel_t *s, redisAsyncContext *ac)
{
    (void) s;       /* ac->data is s */

    if (ac == NULL) {
        return;
    }

    sq_asentinel_on_disconnect(ac, REDIS_ERR);
    ac->data = NULL;
    redisAsyncFree(ac);
}


/* the primary is at a (host, port): switch to it if it is new */
static void
sq_asentinel_found(sq_asentinel_t *s, const sq_redis_addr_t *a)
{
    if (s->primary->port == a->port
        && strcmp(s->primary->host, a->host) == 0)
    {
        return;
    }

    sq_log(SQ_LOG_INFO, "redis primary (sentinel, master %s): %s:%d",
           s->conf->master, a->host, a->port);

    memcpy(s->primary->host, a->host, sizeof(a->host));
    s->primary->port = a->port;
    s->primary->is_unix = 0;

    s->changed(s->arg);
}


/* AUTH's answer: a refused password makes the link useless */
static void
sq_asentinel_on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
    redisReply      *r = reply;
    sq_asentinel_t  *s = privdata;

    if (r == NULL || r->type != REDIS_REPLY_ERROR || ac->data == NULL) {
        return;
    }

    sq_log(SQ_LOG_ERR, "sentinel AUTH: %.*s", (int) r->len, r->str);
    sq_asentinel_drop(s, ac);
}


/* a new link to sentinel i, authenticated when a password is set */
static redisAsyncContext *
sq_asentinel_link(sq_asentinel_t *s, size_t i)
{
    redisAsyncContext      *ac;
    const sq_redis_addr_t  *a;

    a = &s->conf->addr[i];

    ac = redisAsyncConnect(a->host, a->port);
    if (ac == NULL) {
        return NULL;
    }

    if (ac->err) {
        redisAsyncFree(ac);
        return NULL;
    }

    ac->data = s;

    if (redisLibeventAttach(ac, s->base) != REDIS_OK
        || redisAsyncSetConnectCallback(ac, sq_asentinel_on_connect)
           != REDIS_OK
        || redisAsyncSetDisconnectCallback(ac, sq_asentinel_on_disconnect)
           != REDIS_OK)
    {
        redisAsyncFree(ac);
        return NULL;
    }

    if (a->auth.pass[0] != '\0') {
        if ((a->auth.user[0] != '\0'
             ? redisAsyncCommand(ac, sq_asentinel_on_auth, s, "AUTH %s %s",
                                 a->auth.user, a->auth.pass)
             : redisAsyncCommand(ac, sq_asentinel_on_auth, s, "AUTH %s",
                                 a->auth.pass)) != REDIS_OK)
        {
            ac->data = NULL;
            redisAsyncFree(ac);
            return NULL;
        }
    }

    return ac;
}


static void
sq_asentinel_on_master(redisAsyncContext *ac, void *reply, void *privdata)
{
    redisReply       *r = reply;
    sq_asentinel_t   *s = privdata;
    sq_redis_addr_t   a;

    if (r == NULL || ac->data == NULL || s->q != ac) {
        return;         /* dropped already, or dropping */
    }

    s->q_sent_ms = 0;

    memset(&a, 0, sizeof(a));
    if (sq_sentinel_master_reply(r, &a) == 0) {
        if (s->logged) {
            sq_log(SQ_LOG_INFO, "sentinels answer again");
            s->logged = 0;
        }
        sq_asentinel_found(s, &a);
        return;
    }

    if (!s->logged) {
        sq_log(SQ_LOG_ERR, "sentinel %s:%d: no primary for %s: %.*s",
               s->conf->addr[s->q_idx].host, s->conf->addr[s->q_idx].port,
               s->conf->master,
               r != NULL && r->type == REDIS_REPLY_ERROR ? (int) r->len : 0,
               r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : "");
        s->logged = 1;
    }

    sq_asentinel_drop(s, ac);
}


static void
sq_asentinel_question(sq_asentinel_t *s, int64_t now)
{
    if (s->q_sent_ms != 0) {
        return;         /* one question at a time */
    }

    if (s->q == NULL) {
        s->q = sq_asentinel_link(s, s->q_idx);
        if (s->q == NULL) {
            s->q_idx = (s->q_idx + 1) % s->conf->n;
            return;
        }
    }

    if (redisAsyncCommand(s->q, sq_asentinel_on_master, s,
                          "SENTINEL get-master-addr-by-name %s",
                          s->conf->master) != REDIS_OK)
    {
        sq_asentinel_drop(s, s->q);
        return;
    }

    s->q_sent_ms = now;
    s->last_ask_ms = now;
}


/* ["message", "+switch-master", "<name> <old> <port> <new> <port>"] */
static void
sq_asentinel_on_switch(redisAsyncContext *ac, void *reply, void *privdata)
{
    redisReply        *r = reply, *m;
    sq_asentinel_t    *s = privdata;
    sq_redis_addr_t    a;

    if (r == NULL || ac->data == NULL || r->type != REDIS_REPLY_ARRAY
        || r->elements != 3 || r->element[0]->type != REDIS_REPLY_STRING
        || strcmp(r->element[0]->str, "message") != 0)
    {
        return;
    }

    m = r->element[2];
    memset(&a, 0, sizeof(a));

    if (m->type == REDIS_REPLY_STRING
        && sq_sentinel_switch_parse(m->str, m->len, s->conf->master, &a)
           == 0)
    {
        sq_log(SQ_LOG_INFO, "sentinel: +switch-master %s", s->conf->master);
        sq_asentinel_found(s, &a);
    }
}


static void
sq_asentinel_subscribe(sq_asentinel_t *s, int64_t now)
{
    if (s->sub != NULL || now - s->sub_try_ms < SQ_ASENTINEL_TICK_MS) {
        return;
    }

    s->sub_try_ms = now;

    s->sub = sq_asentinel_link(s, s->sub_idx);
    if (s->sub == NULL) {
        s->sub_idx = (s->sub_idx + 1) % s->conf->n;
        return;
    }

    if (redisAsyncCommand(s->sub, sq_asentinel_on_switch, s,
                          "SUBSCRIBE +switch-master") != REDIS_OK)
    {
        sq_asentinel_drop(s, s->sub);
    }
}


static void
sq_asentinel_on_tick(evutil_socket_t fd, short what, void *arg)
{
    int64_t          now;
    sq_asentinel_t  *s = arg;

    (void) fd;
    (void) what;

    now = sq_asentinel_now_ms();

    if (s->q_sent_ms != 0 && now - s->q_sent_ms > SQ_ASENTINEL_SILENT_MS) {
        sq_log(SQ_LOG_WARN, "sentinel %s:%d silent, asking the next",
               s->conf->addr[s->q_idx].host, s->conf->addr[s->q_idx].port);
        sq_asentinel_drop(s, s->q);
    }

    sq_asentinel_question(s, now);
    sq_asentinel_subscribe(s, now);
}


void
sq_asentinel_ask(void *arg)
{
    int64_t          now;
    sq_asentinel_t  *s = arg;

    if (s == NULL || s->base == NULL) {
        return;
    }

    now = sq_asentinel_now_ms();
    if (now - s->last_ask_ms < SQ_ASENTINEL_ASK_MS) {
        return;
    }

    sq_asentinel_question(s, now);
}


int
sq_asentinel_start(sq_asentinel_t *s, struct event_base *base,
    const sq_sentinel_conf_t *conf, sq_redis_addr_t *primary,
    sq_asentinel_fn changed, void *arg)
{
    struct timeval  tv;

    memset(s, 0, sizeof(*s));
    s->base = base;
    s->conf = conf;
    s->primary = primary;
    s->changed = changed;
    s->arg = arg;
    s->sub_try_ms = -SQ_ASENTINEL_TICK_MS;
    s->last_ask_ms = -SQ_ASENTINEL_ASK_MS;

    if (conf->n == 0) {
        return -1;
    }

    s->timer = event_new(base, -1, EV_PERSIST, sq_asentinel_on_tick, s);
    if (s->timer == NULL) {
        return -1;
    }

    tv.tv_sec = SQ_ASENTINEL_TICK_MS / 1000;
    tv.tv_usec = (SQ_ASENTINEL_TICK_MS % 1000) * 1000;

    if (evtimer_add(s->timer, &tv) != 0) {
        return -1;
    }

    sq_asentinel_on_tick(-1, 0, s);

    return 0;
}


void
sq_asentinel_free(sq_asentinel_t *s)
{
    if (s->timer != NULL) {
        event_free(s->timer);
        s->timer = NULL;
    }

    sq_asentinel_drop(s, s->q);
    sq_asentinel_drop(s, s->sub);
    s->base = NULL;
}
