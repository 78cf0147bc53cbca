/*
 * sq_aredis: the asynchronous Redis link.  Every command carries an op:
 * its callback, the caller's data and a timer.  The op lives until
 * hiredis gives it back (a reply, or NULL when the context goes away),
 * which hiredis always does; the caller is answered once, by whichever
 * comes first of that and the timer, and the other finds fn cleared.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <hiredis/async.h>
#include <sodium.h>

#include "sq_aredis.h"
#include "sq_keys.h"
#include "sq_log.h"
#include "sq_metrics.h"
#include "sq_sentinel.h"
#include "sq_text.h"

typedef struct {
    sq_aredis_t    *link;
    sq_aredis_fn    fn;             /* NULL once the caller was answered */
    void           *data;
    int64_t         sent_ms;
    struct event    timer;
} sq_aredis_op_t;


/*
 * hiredis's events on the link's loop: its libevent adapter, with two
 * changes that save four epoll_ctl per command (strace of a worker, one
 * article create: 8 epoll_ctl, of which 4 for the Redis link):
 *   - the read event is persistent and added once (hiredis adds it back
 *     after every read, which for libevent's one-shot event was a DEL
 *     and an ADD each time);
 *   - once connected, a write does not wait for EV_WRITE on the socket:
 *     an event of no fd is made active for this pass of the loop
 *     (event_active: no system call), so the commands queued by every
 *     request of the pass go out in one write.  Only a socket that
 *     would block (hiredis asks again from inside its write handler)
 *     or a connect in progress waits for EV_WRITE.
 */
typedef struct {
    sq_aredis_t         *link;
    redisAsyncContext   *ac;
    struct event        *rev;
    struct event        *wev;
    struct event        *flush;
    int                  reading;
    int                  writing;       /* wev added */
} sq_aredis_ev_t;


static void
sq_aredis_ev_read(evutil_socket_t fd, short what, void *arg)
{
    sq_aredis_ev_t  *e = arg;

    (void) fd;
    (void) what;

    redisAsyncHandleRead(e->ac);
}


/* EV_WRITE or the flush: e may be freed in there, the link is not */
static void
sq_aredis_ev_write(evutil_socket_t fd, short what, void *arg)
{
    sq_aredis_ev_t  *e = arg;
    sq_aredis_t     *l = e->link;

    (void) fd;
    (void) what;

    if (what & EV_WRITE) {
        e->writing = 0;
    }

    l->flushing = 1;
    redisAsyncHandleWrite(e->ac);
    l->flushing = 0;
}


static void
sq_aredis_ev_add_read(void *arg)
{
    sq_aredis_ev_t  *e = arg;

    if (!e->reading && event_add(e->rev, NULL) == 0) {
        e->reading = 1;
    }
}


static void
sq_aredis_ev_del_read(void *arg)
{
    sq_aredis_ev_t  *e = arg;

    if (e->reading) {
        event_del(e->rev);
        e->reading = 0;
    }
}


static void
sq_aredis_ev_add_write(void *arg)
{
    sq_aredis_ev_t  *e = arg;

    if (e->writing) {
        return;
    }

    if (!e->link->flushing && (e->ac->c.flags & REDIS_CONNECTED)) {
        event_active(e->flush, EV_TIMEOUT, 0);
        return;
    }

    if (event_add(e->wev, NULL) == 0) {
        e->writing = 1;
    }
}


static void
sq_aredis_ev_del_write(void *arg)
{
    sq_aredis_ev_t  *e = arg;

    if (e->writing) {
        event_del(e->wev);
        e->writing = 0;
    }
}


static void
sq_aredis_ev_cleanup(void *arg)
{
    sq_aredis_ev_t  *e = arg;

    if (e->rev != NULL) {
        event_free(e->rev);
    }

    if (e->wev != NULL) {
        event_free(e->wev);
    }

    if (e->flush != NULL) {
        event_free(e->flush);
    }

    free(e);
}


/* as redisLibeventAttach; 0 or -1 (nothing attached) */
static int
sq_aredis_attach(sq_aredis_t *l, redisAsyncContext *ac)
{
    sq_aredis_ev_t  *e;

    if (ac->ev.data != NULL) {
        return -1;
    }

    e = calloc(1, sizeof(sq_aredis_ev_t));
    if (e == NULL) {
        return -1;
    }

    e->link = l;
    e->ac = ac;
    e->rev = event_new(l->base, ac->c.fd, EV_READ | EV_PERSIST,
                       sq_aredis_ev_read, e);
    e->wev = event_new(l->base, ac->c.fd, EV_WRITE, sq_aredis_ev_write, e);
    e->flush = event_new(l->base, -1, 0, sq_aredis_ev_write, e);

    if (e->rev == NULL || e->wev == NULL || e->flush == NULL) {
        sq_aredis_ev_cleanup(e);
        return -1;
    }

    ac->ev.addRead = sq_aredis_ev_add_read;
    ac->ev.delRead = sq_aredis_ev_del_read;
    ac->ev.addWrite = sq_aredis_ev_add_write;
    ac->ev.delWrite = sq_aredis_ev_del_write;
    ac->ev.cleanup = sq_aredis_ev_cleanup;
    ac->ev.data = e;

    /* as the adapter: both, so that the connect completes */
    sq_aredis_ev_add_read(e);

    if (event_add(e->wev, NULL) == 0) {
        e->writing = 1;
    }

    return 0;
}


static int64_t
sq_aredis_now_ms(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


void
sq_aredis_init(sq_aredis_t *l, struct event_base *base,
    const sq_redis_t *conf)
{
    memset(l, 0, sizeof(*l));
    l->base = base;
    l->conf = conf;
    l->last_try_ms = -SQ_REDIS_RETRY_MS;
    l->timeout_ms = SQ_REDIS_TIMEOUT_MS;
}


const redisContext *
sq_aredis_context(const sq_aredis_t *l)
{
    return l->ac != NULL ? &l->ac->c : NULL;
}


/* Forgets the context and frees it; its ops are answered NULL. */
static void
sq_aredis_drop(sq_aredis_t *l, const char *why)
{
    redisAsyncContext  *ac;

    ac = l->ac;
    if (ac == NULL) {
        return;
    }

    if (!l->down_logged) {
        sq_log(SQ_LOG_ERR, "redis async link: %s (reconnecting)", why);
        l->down_logged = 1;
    }

    l->ac = NULL;
    ac->data = NULL;
    redisAsyncFree(ac);     /* deferred by hiredis inside its callbacks */

    if (l->lost != NULL) {
        l->lost(l->lost_arg);
    }
}


static void
sq_aredis_answer(sq_aredis_op_t *op, redisReply *reply)
{
    sq_aredis_fn  fn;

    fn = op->fn;
    op->fn = NULL;
    evtimer_del(&op->timer);

    if (fn != NULL) {
        fn(reply, op->data);
    }
}


static int
sq_aredis_no_function(const redisReply *r)
{
    static const char  msg[] = "ERR Function not found";

    return r->type == REDIS_REPLY_ERROR && r->len >= sizeof(msg) - 1
           && memcmp(r->str, msg, sizeof(msg) - 1) == 0;
}


/* a replica, or a primary cut off from its replicas: ask Sentinel */
static int
sq_aredis_not_primary(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR
           && ((r->len >= 8 && memcmp(r->str, "READONLY", 8) == 0)
               || (r->len >= 10 && memcmp(r->str, "MASTERDOWN", 10) == 0));
}


static void
sq_aredis_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    sq_aredis_op_t  *op = privdata;
    sq_aredis_t     *l;
    redisReply      *r = reply;

    l = op->link;
    l->inflight--;

    if (r != NULL) {
        l->last_reply_ms = sq_aredis_now_ms();
        if (l->down_logged && l->ac != NULL) {
            sq_log(SQ_LOG_INFO, "redis async link up");
            l->down_logged = 0;
        }
    }

    sq_aredis_answer(op, r);
    free(op);

    /* FUNCTION FLUSH, or a Redis that lost them: a new link loads them */
    if (r != NULL && l->ac == ac && sq_aredis_no_function(r)) {
        sq_aredis_drop(l, "functions missing, reconnecting to load them");

    } else if (r != NULL && l->ac == ac && l->check_role
               && sq_aredis_not_primary(r))
    {
        sq_aredis_drop(l, "not the primary any more");
    }
}


/*
 * The caller gets NULL now; the op waits for hiredis.  When nothing at
 * all came back on the link since the command went out, the link is
 * taken as dead (a stopped Redis, a dropped network) and freed, which
 * answers every other command in flight as well.
 */
static void
sq_aredis_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    sq_aredis_op_t  *op = arg;
    sq_aredis_t     *l;
    int              dead;

    (void) fd;
    (void) what;

    l = op->link;
    dead = l->last_reply_ms < op->sent_ms;

    sq_aredis_answer(op, NULL);

    if (dead) {
        sq_metrics_redis_error();
        sq_aredis_drop(l, "no reply within the timeout");
    }
}


static void
sq_aredis_on_connect(const redisAsyncContext *ac, int status)
{
    sq_aredis_t  *l = ac->data;

    if (l == NULL || l->ac != ac) {
        return;
    }

    if (status != REDIS_OK) {
        if (!l->down_logged) {
            sq_log(SQ_LOG_ERR, "redis async link: connect: %s "
                   "(retrying)", ac->errstr);
            l->down_logged = 1;
        }
        l->ac = NULL;       /* hiredis frees it */

        if (l->lost != NULL) {
            l->lost(l->lost_arg);
        }
    }
}


static void
sq_aredis_on_disconnect(const redisAsyncContext *ac, int status)
{
    sq_aredis_t  *l = ac->data;

    if (l == NULL || l->ac != ac) {
        return;
    }

    if (status != REDIS_OK) {
        sq_metrics_redis_error();
    }

    if (status != REDIS_OK && !l->down_logged) {
        sq_log(SQ_LOG_ERR, "redis async link lost: %s (reconnecting)",
               ac->errstr);
        l->down_logged = 1;
    }

    l->ac = NULL;

    if (l->lost != NULL) {
        l->lost(l->lost_arg);
    }
}


/* "<c><n>\r\n" */
static char *
sq_aredis_resp_head(char *p, char c, size_t n)
{
    *p++ = c;
    p += sq_text_u64(p, n);
    *p++ = '\r';
    *p++ = '\n';

    return p;
}


/*
 * argv in RESP, handed to hiredis as it is: its own formatting
 * (redisFormatSdsCommandArgv, sdscatfmt per argument) was 14k of the
 * worker's 137k instructions per article create (callgrind).
 */
static int
sq_aredis_format_send(sq_aredis_t *l, sq_aredis_op_t *op, int argc,
    const char **argv, const size_t *lens)
{
    int      i, rc;
    char     stack[2048], *cmd, *p;
    size_t   size;

    size = 1 + SQ_TEXT_U64_MAX + 2;

    for (i = 0; i < argc; i++) {
        size += 1 + SQ_TEXT_U64_MAX + 2 + lens[i] + 2;
    }

    cmd = size <= sizeof(stack) ? stack : malloc(size);
    if (cmd == NULL) {
        return -1;
    }

    p = sq_aredis_resp_head(cmd, '*', (size_t) argc);

    for (i = 0; i < argc; i++) {
        p = sq_aredis_resp_head(p, '$', lens[i]);
        if (lens[i] > 0) {
            memcpy(p, argv[i], lens[i]);
            p += lens[i];
        }
        *p++ = '\r';
        *p++ = '\n';
    }

    rc = redisAsyncFormattedCommand(l->ac, sq_aredis_on_reply, op, cmd,
                                    (size_t) (p - cmd));

    if (cmd != stack) {
        free(cmd);
    }

    return rc == REDIS_OK ? 0 : -1;
}


static int
sq_aredis_queue(sq_aredis_t *l, int argc, const char **argv,
    const size_t *lens, sq_aredis_fn fn, void *data)
{
    struct timeval   tv;
    sq_aredis_op_t  *op;

    op = malloc(sizeof(*op));
    if (op == NULL) {
        sq_log(SQ_LOG_ERR, "out of memory for a redis command");
        return -1;
    }

    op->link = l;
    op->fn = fn;
    op->data = data;
    op->sent_ms = sq_aredis_now_ms();

    if (evtimer_assign(&op->timer, l->base, sq_aredis_on_timeout, op) != 0
        || sq_aredis_format_send(l, op, argc, argv, lens) != 0)
    {
        free(op);
        return -1;
    }

    l->inflight++;

    tv.tv_sec = l->timeout_ms / 1000;
    tv.tv_usec = (l->timeout_ms % 1000) * 1000;
    evtimer_add(&op->timer, &tv);

    return 0;
}


/* A set-up command failed: the link is not usable. */
static void
sq_aredis_on_setup(redisReply *reply, void *data)
{
    sq_aredis_t  *l = data;

    if (reply != NULL && reply->type != REDIS_REPLY_ERROR) {
        return;
    }

    if (reply != NULL) {
        /* Redis's error names no secret (AUTH: "WRONGPASS ...") */
        sq_log(SQ_LOG_ERR, "redis async link set-up: %.*s",
               (int) reply->len, reply->str);
        l->down_logged = 1;
    }

    sq_aredis_drop(l, "set-up failed");
}


/* ROLE: a link found through Sentinel must reach the primary */
static void
sq_aredis_on_role(redisReply *reply, void *data)
{
    sq_aredis_t  *l = data;

    if (reply == NULL || sq_sentinel_role_master(reply)) {
        return;
    }

    sq_log(SQ_LOG_WARN, "redis async link: %s:%d is not the primary",
           l->conf->addr.host, l->conf->addr.port);
    sq_aredis_drop(l, "not the primary");
}


/* SET sq:epoch <16 random bytes, hex> NX: the marker of a Redis */
static int
sq_aredis_queue_marker(sq_aredis_t *l, sq_aredis_fn fn, void *data)
{
    char            hex[33];
    size_t          lens[4];
    const char     *argv[4];
    unsigned char   rnd[16];

    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));

    argv[0] = "SET";
    lens[0] = 3;
    argv[1] = SQ_K_EPOCH;
    lens[1] = sizeof(SQ_K_EPOCH) - 1;
    argv[2] = hex;
    lens[2] = 32;
    argv[3] = "NX";
    lens[3] = 2;

    return sq_aredis_queue(l, 4, argv, lens, fn, data);
}


/* AUTH, FUNCTION LOAD REPLACE and the marker, ahead of any request. */
static int
sq_aredis_setup(sq_aredis_t *l)
{
    int                     argc;
    size_t                  lens[4];
    const char             *argv[4];
    const sq_redis_auth_t  *auth;

    auth = &l->conf->addr.auth;

    if (auth->pass[0] != '\0') {
        argc = 0;
        argv[argc] = "AUTH";
        lens[argc++] = 4;
        if (auth->user[0] != '\0') {
            argv[argc] = auth->user;
            lens[argc++] = strlen(auth->user);
        }
        argv[argc] = auth->pass;
        lens[argc++] = strlen(auth->pass);

        if (sq_aredis_queue(l, argc, argv, lens, sq_aredis_on_setup, l)
            != 0)
        {
            return -1;
        }
    }

    if (l->check_role) {
        argv[0] = "ROLE";
        lens[0] = 4;

        if (sq_aredis_queue(l, 1, argv, lens, sq_aredis_on_role, l) != 0) {
            return -1;
        }
    }

    if (l->conf->functions != NULL) {
        argv[0] = "FUNCTION";
        lens[0] = 8;
        argv[1] = "LOAD";
        lens[1] = 4;
        argv[2] = "REPLACE";
        lens[2] = 7;
        argv[3] = l->conf->functions;
        lens[3] = l->conf->functions_len;

        if (sq_aredis_queue(l, 4, argv, lens, sq_aredis_on_setup, l) != 0) {
            return -1;
        }
    }

    return sq_aredis_queue_marker(l, sq_aredis_on_setup, l);
}


/* The link, connecting when it is down and the retry delay is over. */
static int
sq_aredis_link(sq_aredis_t *l)
{
    int64_t                 now;
    redisAsyncContext      *ac;
    const sq_redis_addr_t  *a;

    if (l->ac != NULL) {
        return 0;
    }

    now = sq_aredis_now_ms();
    if (now - l->last_try_ms < SQ_REDIS_RETRY_MS) {
        return -1;
    }

    a = &l->conf->addr;
    if (a->host[0] == '\0') {
        return -1;      /* Sentinel named no primary yet */
    }

    l->last_try_ms = now;
    ac = a->is_unix ? redisAsyncConnectUnix(a->host)
                    : redisAsyncConnect(a->host, a->port);
    if (ac == NULL) {
        sq_log(SQ_LOG_ERR, "out of memory for the redis async link");
        return -1;
    }

    if (ac->err) {
        if (!l->down_logged) {
            sq_log(SQ_LOG_ERR, "redis async link: connect: %s (retrying)",
                   ac->errstr);
            l->down_logged = 1;
        }
        redisAsyncFree(ac);
        return -1;
    }

    ac->data = l;

    if (sq_aredis_attach(l, ac) != 0
        || redisAsyncSetConnectCallback(ac, sq_aredis_on_connect)
           != REDIS_OK
        || redisAsyncSetDisconnectCallback(ac, sq_aredis_on_disconnect)
           != REDIS_OK)
    {
        redisAsyncFree(ac);
        return -1;
    }

    l->ac = ac;
    l->last_reply_ms = now;

    if (sq_aredis_setup(l) != 0) {
        sq_aredis_drop(l, "cannot queue the set-up");
        return -1;
    }

    return 0;
}


static void
sq_aredis_on_marker(redisReply *reply, void *data)
{
    (void) data;

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        sq_log(SQ_LOG_ERR, "redis SET " SQ_K_EPOCH ": %.*s",
               (int) reply->len, reply->str);
    }
}


void
sq_aredis_tick(sq_aredis_t *l)
{
    /* a new link sets the marker (and loads the functions) itself */
    if (l->ac != NULL) {
        if (l->inflight >= SQ_AREDIS_INFLIGHT_MAX) {
            return;
        }

        (void) sq_aredis_queue_marker(l, sq_aredis_on_marker, NULL);
        return;
    }

    (void) sq_aredis_link(l);
}


int
sq_aredis_send(sq_aredis_t *l, int argc, const char **argv,
    const size_t *lens, sq_aredis_fn fn, void *data)
{
    if (sq_aredis_link(l) != 0) {
        return -1;
    }

    if (l->inflight >= SQ_AREDIS_INFLIGHT_MAX) {
        if (!l->full_logged) {
            sq_log(SQ_LOG_WARN, "%d redis commands in flight: 503 until "
                   "some are answered", SQ_AREDIS_INFLIGHT_MAX);
            l->full_logged = 1;
        }
        return -1;
    }
    l->full_logged = 0;

    return sq_aredis_queue(l, argc, argv, lens, fn, data);
}


/*
 * issue 15: writes and their WAIT, as a group commit.  A write goes out
 * at once; the writes sent since the last WAIT then share one WAIT, sent
 * after them on the same link (WAIT covers every write the link made
 * before it) at the end of the loop's pass, or when the WAIT in flight
 * answers: one WAIT in flight per link.  Redis blocks the link while
 * WAIT waits, so one WAIT per write, or per pass, would serialize the
 * writes behind each other's replication.
 * A write's reply is copied (hiredis frees its own after the callback)
 * and handed on once its WAIT answered: each write waits for two answers,
 * its own and its WAIT's, and the last one answers the caller.
 */
typedef struct sq_aredis_wait_s  sq_aredis_wait_t;

struct sq_aredis_wait_s {
    sq_aredis_t        *link;
    sq_aredis_fn        fn;
    void               *data;
    redisReply         *copy;       /* the write's reply, or NULL */
    long long           acked;      /* WAIT's count, -1: none */
    int                 want;
    int                 pending;    /* answers still to come */
    sq_aredis_wait_t   *next;       /* in its WAIT's batch */
};

#define SQ_AREDIS_NOTREPLICATED  "NOTREPLICATED"
#define SQ_AREDIS_DUP_DEPTH      8


static redisReply *
sq_aredis_dup(const redisReply *r, int depth)
{
    size_t       i;
    redisReply  *c;

    if (depth > SQ_AREDIS_DUP_DEPTH) {
        return NULL;
    }

    c = malloc(sizeof(*c));
    if (c == NULL) {
        return NULL;
    }

    memcpy(c, r, sizeof(*c));
    c->str = NULL;
    c->element = NULL;
    c->elements = 0;

    if (r->str != NULL) {
        c->str = malloc(r->len + 1);
        if (c->str == NULL) {
            goto failed;
        }
        memcpy(c->str, r->str, r->len);
        c->str[r->len] = '\0';
    }

    if (r->element != NULL && r->elements > 0) {
        c->element = calloc(r->elements, sizeof(redisReply *));
        if (c->element == NULL) {
            goto failed;
        }

        for (i = 0; i < r->elements; i++) {
            c->elements = i + 1;
            c->element[i] = sq_aredis_dup(r->element[i], depth + 1);
            if (c->element[i] == NULL) {
                goto failed;
            }
        }
    }

    return c;

failed:

    freeReplyObject(c);
    return NULL;
}


int
sq_aredis_not_replicated(const redisReply *reply)
{
    size_t  n;

    n = sizeof(SQ_AREDIS_NOTREPLICATED) - 1;

    return reply != NULL && reply->type == REDIS_REPLY_ERROR
           && reply->len >= n
           && memcmp(reply->str, SQ_AREDIS_NOTREPLICATED, n) == 0;
}


/* both answered: the caller gets its reply, NULL, or NOTREPLICATED */
static void
sq_aredis_wait_end(sq_aredis_wait_t *w)
{
    int          len;
    char         msg[96];
    redisReply   nr;

    if (w->copy == NULL) {
        w->fn(NULL, w->data);

    } else if (w->copy->type == REDIS_REPLY_ERROR || w->acked >= w->want) {
        w->fn(w->copy, w->data);

    } else {
        len = snprintf(msg, sizeof(msg), SQ_AREDIS_NOTREPLICATED " %lld %d",
                       w->acked, w->want);

        if (!w->link->wait_logged) {
            sq_log(SQ_LOG_WARN, "a write was confirmed by %lld of the %d "
                   "replicas it waits for: 503 WRITE_NOT_REPLICATED",
                   w->acked < 0 ? 0 : w->acked, w->want);
            w->link->wait_logged = 1;
        }

        memset(&nr, 0, sizeof(nr));
        nr.type = REDIS_REPLY_ERROR;
        nr.str = msg;
        nr.len = (size_t) len;
        w->fn(&nr, w->data);
    }

    if (w->copy != NULL) {
        freeReplyObject(w->copy);
    }
    free(w);
}


static void
sq_aredis_on_written(redisReply *reply, void *data)
{
    sq_aredis_wait_t  *w = data;

    if (reply != NULL) {
        w->copy = sq_aredis_dup(reply, 0);
        if (w->copy == NULL) {
            sq_log(SQ_LOG_ERR, "out of memory for a redis reply");
        }
    }

    if (--w->pending == 0) {
        sq_aredis_wait_end(w);
    }
}


/* a batch's WAIT answered (count, error or NULL): each write learns it */
static void
sq_aredis_on_waited(redisReply *reply, void *data)
{
    long long          acked;
    sq_aredis_wait_t  *w, *next;

    acked = -1;

    if (data == NULL) {
        return;     /* the WAIT of an empty batch: none are sent */
    }

    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER) {
        acked = reply->integer;

    } else if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        sq_log(SQ_LOG_ERR, "redis WAIT: %.*s", (int) reply->len, reply->str);
    }

    for (w = data; w != NULL; w = next) {
        next = w->next;
        w->acked = acked;

        if (acked >= w->want) {
            w->link->wait_logged = 0;
        }

        if (--w->pending == 0) {
            sq_aredis_wait_end(w);
        }
    }
}


/* the batch's WAIT answered: the next batch's WAIT goes out now */
static void sq_aredis_on_flush(evutil_socket_t fd, short what, void *arg);

static void
sq_aredis_on_waited_next(redisReply *reply, void *data)
{
    sq_aredis_wait_t  *w = data;
    sq_aredis_t       *l;

    l = w->link;
    l->wait_inflight = 0;

    sq_aredis_on_waited(reply, data);

    if (l->wait_batch != NULL && !l->wait_flush_set) {
        sq_aredis_on_flush(-1, 0, l);
    }
}


/* one WAIT for the writes sent since the last, unless one is in flight */
static void
sq_aredis_on_flush(evutil_socket_t fd, short what, void *arg)
{
    char               nb[16], mb[16];
    size_t             wl[3];
    const char        *wv[3];
    sq_aredis_t       *l = arg;
    sq_aredis_wait_t  *batch;

    (void) fd;
    (void) what;

    if (what != 0) {
        l->wait_flush_set = 0;      /* the loop's event, not a call */
    }

    batch = l->wait_batch;
    if (batch == NULL || (l->wait_inflight && l->ac != NULL)) {
        return;     /* the WAIT in flight sends this one when it answers */
    }

    l->wait_batch = NULL;

    wv[0] = "WAIT";
    wl[0] = 4;
    wv[1] = nb;
    wl[1] = (size_t) snprintf(nb, sizeof(nb), "%d", batch->want);
    wv[2] = mb;
    wl[2] = (size_t) snprintf(mb, sizeof(mb), "%d", l->wait_ms);

    /* the link that sent them dropped: their own answers say so (NULL) */
    if (l->ac == NULL
        || sq_aredis_queue(l, 3, wv, wl, sq_aredis_on_waited_next, batch)
           != 0)
    {
        sq_aredis_on_waited(NULL, batch);
        return;
    }

    l->wait_inflight = 1;
}


int
sq_aredis_send_wait(sq_aredis_t *l, int argc, const char **argv,
    const size_t *lens, int n, int ms, sq_aredis_fn fn, void *data)
{
    struct timeval     now = { 0, 0 };
    sq_aredis_wait_t  *w;

    if (sq_aredis_link(l) != 0 || l->inflight + 2 > SQ_AREDIS_INFLIGHT_MAX) {
        return -1;
    }

    if (!l->wait_flush_set
        && event_base_once(l->base, -1, EV_TIMEOUT, sq_aredis_on_flush, l,
                           &now) != 0)
    {
        return -1;
    }

    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        sq_log(SQ_LOG_ERR, "out of memory for a redis command");
        l->wait_flush_set = 1;      /* the event is set, with no batch */
        return -1;
    }

    l->wait_flush_set = 1;
    l->wait_ms = ms;

    w->link = l;
    w->fn = fn;
    w->data = data;
    w->acked = -1;
    w->want = n;
    w->pending = 2;

    if (sq_aredis_queue(l, argc, argv, lens, sq_aredis_on_written, w) != 0)
    {
        free(w);
        return -1;
    }

    w->next = l->wait_batch;
    l->wait_batch = w;

    return 0;
}


void
sq_aredis_reset(sq_aredis_t *l, const char *why)
{
    sq_aredis_drop(l, why);
}


void
sq_aredis_free(sq_aredis_t *l)
{
    l->lost = NULL;
    l->down_logged = 1;     /* an exit, not an outage */
    sq_aredis_drop(l, "closed");

    /* writes still awaiting their WAIT: answered now (NULL) */
    sq_aredis_on_flush(-1, 0, l);
}
