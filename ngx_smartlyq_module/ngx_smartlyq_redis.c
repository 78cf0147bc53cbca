/*
 * ngx_smartlyq_redis: one asynchronous Redis link per worker, driven by
 * nginx's own event loop.
 *
 * hiredis's async API asks its host event library to watch the socket
 * (addRead/delRead/addWrite/delWrite/cleanup); here those hooks map onto
 * an ngx_connection_t wrapped around hiredis's fd, level-triggered, so a
 * reply longer than hiredis's 16 KiB read chunk is still read in full.
 * hiredis 0.14 has no timeouts of its own: connecting and stalls are
 * watched by nginx timers; a command's own timeout is its sender's.
 *
 * The link knows nothing of what it carries: a command goes with a
 * callback and its data, called exactly once, with the reply or with
 * NULL when the link dies (model: hiredis's adapters/, nchan's
 * redis_nginx_adapter.c).
 *
 * With smartlyq_redis_password_file, AUTH is the first command queued on
 * every new context, ahead of anything a user of the link queues while it
 * connects, and the link only counts as up once Redis accepted it: a
 * refused AUTH drops the link, so every command on it fails closed.
 */

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "ngx_smartlyq_redis.h"
#include "ngx_smartlyq_metrics.h"
#include "sq_resp.h"


#define NGX_SMARTLYQ_BACKOFF_MIN   25       /* ms */
#define NGX_SMARTLYQ_BACKOFF_MAX   500      /* ms */
#define NGX_SMARTLYQ_STALL_MIN     1000     /* ms without any reply */
#define NGX_SMARTLYQ_MAX_INFLIGHT  8192     /* commands on one link */


typedef enum {
    NGX_SMARTLYQ_LINK_DOWN = 0,
    NGX_SMARTLYQ_LINK_CONNECTING,
    NGX_SMARTLYQ_LINK_UP
} ngx_smartlyq_link_state_e;


/* a command in flight: on the heap, hiredis may call back late */
typedef struct ngx_smartlyq_cmd_s  ngx_smartlyq_cmd_t;

struct ngx_smartlyq_cmd_s {
    ngx_smartlyq_reply_pt       fn;
    void                       *data;
    ngx_smartlyq_link_t        *link;
    ngx_smartlyq_cmd_t         *next;       /* free list */
};


struct ngx_smartlyq_link_s {
    redisAsyncContext          *ac;
    ngx_connection_t           *conn;
    ngx_smartlyq_main_conf_t   *smcf;
    ngx_log_t                  *log;

    ngx_event_t                 reconnect;      /* cancelable */
    ngx_event_t                 connect_timer;  /* cancelable */

    ngx_smartlyq_link_state_e   state;
    ngx_msec_t                  backoff;
    ngx_msec_t                  progress;   /* last reply, or first send
                                               after an idle spell */
    ngx_uint_t                  inflight;
    ngx_uint_t                  reported;   /* a failure was logged */
    ngx_uint_t                  exiting;
    ngx_msec_t                  heard;      /* last bytes read */
    ngx_uint_t                  flushing;   /* in redisAsyncHandleWrite */

    ngx_smartlyq_cmd_t         *free;

    ngx_smartlyq_link_hook_pt   up;         /* connected */
    ngx_smartlyq_link_hook_pt   down;       /* the context is gone */
    void                       *hook_data;

    /* where it connects: port 0 and no unix path: nowhere yet (parked) */
    u_char                      host[NGX_SOCKADDR_STRLEN + 1];
    ngx_int_t                   port;
    ngx_str_t                   unix_path;
    sq_redis_auth_t            *auth;       /* pass "": no AUTH */
};


static void ngx_smartlyq_link_connect(ngx_smartlyq_link_t *link);
static void ngx_smartlyq_link_schedule(ngx_smartlyq_link_t *link);
static void ngx_smartlyq_link_gone(ngx_smartlyq_link_t *link);
static void ngx_smartlyq_link_up(ngx_smartlyq_link_t *link);
static ngx_int_t ngx_smartlyq_link_auth(ngx_smartlyq_link_t *link);
static ngx_int_t ngx_smartlyq_link_queue(ngx_smartlyq_link_t *link,
    int argc, const char **argv, const size_t *argvlen, const char *cmd,
    size_t len, ngx_smartlyq_reply_pt fn, void *data);
static void ngx_smartlyq_cmd_free(ngx_smartlyq_link_t *link,
    ngx_smartlyq_cmd_t *c);


/* event hooks hiredis calls */

static void
ngx_smartlyq_ev_add_read(void *data)
{
    ngx_smartlyq_link_t  *link = data;

    if (link->conn && !link->conn->read->active) {
        if (ngx_add_event(link->conn->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, link->log, 0,
                          "smartlyq: redis read event add failed");
        }
    }
}


static void
ngx_smartlyq_ev_del_read(void *data)
{
    ngx_smartlyq_link_t  *link = data;

    if (link->conn && link->conn->read->active) {
        (void) ngx_del_event(link->conn->read, NGX_READ_EVENT, 0);
    }
}


/*
 * A command was queued, or a write is unfinished.  On a connected link
 * the flush is a posted event: it runs once at the end of this pass of
 * the event loop, so the commands of every request handled in the pass
 * go out in one write, with no epoll_ctl to arm and disarm the write
 * event around it.  Only a write that did not finish (the socket is
 * full), or a connect under way, waits on epoll.
 */
static void
ngx_smartlyq_ev_add_write(void *data)
{
    ngx_smartlyq_link_t  *link = data;

    ngx_event_t  *wev;

    if (link->conn == NULL) {
        return;
    }

    wev = link->conn->write;

    if (!link->flushing && !wev->active && link->ac != NULL
        && (link->ac->c.flags & REDIS_CONNECTED))
    {
        if (!wev->posted) {
            ngx_post_event(wev, &ngx_posted_events);
        }

        return;
    }

    if (!wev->active) {
        if (ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, link->log, 0,
                          "smartlyq: redis write event add failed");
        }
    }
}


static void
ngx_smartlyq_ev_del_write(void *data)
{
    ngx_smartlyq_link_t  *link = data;

    if (link->conn && link->conn->write->active) {
        (void) ngx_del_event(link->conn->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis frees the context: give the connection back, hiredis closes fd */
static void
ngx_smartlyq_ev_cleanup(void *data)
{
    ngx_connection_t     *c;
    ngx_smartlyq_link_t  *link = data;

    c = link->conn;
    if (c == NULL) {
        return;
    }

    link->conn = NULL;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
}


static void
ngx_smartlyq_read_handler(ngx_event_t *ev)
{
    ngx_connection_t     *c = ev->data;
    ngx_smartlyq_link_t  *link = c->data;

    /* hiredis may free the context (and this connection) in here */
    if (link->ac) {
        link->heard = ngx_current_msec;
        redisAsyncHandleRead(link->ac);
    }
}


static void
ngx_smartlyq_write_handler(ngx_event_t *ev)
{
    ngx_connection_t     *c = ev->data;
    ngx_smartlyq_link_t  *link = c->data;

    if (link->ac) {
        /* the link outlives its context: the flag is safe to clear */
        link->flushing = 1;
        redisAsyncHandleWrite(link->ac);
        link->flushing = 0;
    }
}


/* hiredis callbacks */

static void
ngx_smartlyq_connect_cb(const redisAsyncContext *ac, int status)
{
    ngx_smartlyq_link_t  *link = ac->data;

    if (link->ac != ac) {
        return;
    }

    if (status != REDIS_OK) {
        if (link->connect_timer.timer_set) {
            ngx_del_timer(&link->connect_timer);
        }

        /* hiredis frees the context after this returns */
        if (!link->reported) {
            ngx_log_error(NGX_LOG_ERR, link->log, 0,
                          "smartlyq: redis connect failed: %s", ac->errstr);
            link->reported = 1;
        }

        link->ac = NULL;
        link->state = NGX_SMARTLYQ_LINK_DOWN;
        ngx_smartlyq_link_schedule(link);
        ngx_smartlyq_link_gone(link);
        return;
    }

    if (link->auth->pass[0] != '\0') {
        /* AUTH is queued: up on its reply, within the connect timeout */
        return;
    }

    ngx_smartlyq_link_up(link);
}


/* the reply to the AUTH that ngx_smartlyq_link_auth() queued first */
static void
ngx_smartlyq_auth_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    redisReply           *rr = reply;
    ngx_smartlyq_link_t  *link = privdata;

    if (rr == NULL || link->ac != ac || link->exiting) {
        return;     /* the context is going: its own path says so */
    }

    if (rr->type == REDIS_REPLY_STATUS) {
        ngx_smartlyq_link_up(link);
        return;
    }

    /* Redis's error names neither the password nor anything of it */
    if (!link->reported) {
        ngx_log_error(NGX_LOG_ERR, link->log, 0,
                      "smartlyq: redis AUTH as user \"%s\" refused: %*s",
                      link->auth->user[0] ? link->auth->user : "default",
                      rr->type == REDIS_REPLY_ERROR
                      ? (size_t) ngx_min((size_t) rr->len, 200) : 0,
                      rr->type == REDIS_REPLY_ERROR ? rr->str : "");
        link->reported = 1;
    }

    /* hiredis defers the free until this callback returns */
    ngx_smartlyq_link_drop(link, "AUTH refused");
}


static void
ngx_smartlyq_link_up(ngx_smartlyq_link_t *link)
{
    if (link->connect_timer.timer_set) {
        ngx_del_timer(&link->connect_timer);
    }

    if (link->reported) {
        ngx_log_error(NGX_LOG_NOTICE, link->log, 0,
                      "smartlyq: redis link up again");

    } else {
        ngx_log_error(NGX_LOG_INFO, link->log, 0, "smartlyq: redis link up");
    }

    ngx_smartlyq_metrics_redis(link->smcf, NGX_SMARTLYQ_M_CONNECTS);

    link->state = NGX_SMARTLYQ_LINK_UP;
    link->backoff = NGX_SMARTLYQ_BACKOFF_MIN;
    link->reported = 0;
    link->progress = ngx_current_msec;
    link->heard = ngx_current_msec;

    if (link->up) {
        link->up(link->hook_data);
    }
}


/*
 * Queues AUTH [user] password on a context still connecting, so that it
 * goes out before any other command.
 */
static ngx_int_t
ngx_smartlyq_link_auth(ngx_smartlyq_link_t *link)
{
    int               argc;
    size_t            len[3];
    const char       *argv[3];
    sq_redis_auth_t  *auth = link->auth;

    if (auth->pass[0] == '\0') {
        return NGX_OK;
    }

    argc = 0;
    argv[argc] = "AUTH";
    len[argc++] = 4;

    if (auth->user[0] != '\0') {
        argv[argc] = auth->user;
        len[argc++] = ngx_strlen(auth->user);
    }

    argv[argc] = auth->pass;
    len[argc++] = ngx_strlen(auth->pass);

    if (redisAsyncCommandArgv(link->ac, ngx_smartlyq_auth_cb, link, argc,
                              argv, len)
        != REDIS_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_smartlyq_disconnect_cb(const redisAsyncContext *ac, int status)
{
    ngx_smartlyq_link_t  *link = ac->data;

    if (link->ac != ac) {
        return;     /* we dropped it ourselves and already rescheduled */
    }

    if (link->connect_timer.timer_set) {
        ngx_del_timer(&link->connect_timer);    /* lost before AUTH's reply */
    }

    if (!link->reported) {
        ngx_log_error(NGX_LOG_ERR, link->log, 0,
                      "smartlyq: redis link lost: %s",
                      status == REDIS_OK ? "closed" : ac->errstr);
        link->reported = 1;
    }

    link->ac = NULL;
    link->state = NGX_SMARTLYQ_LINK_DOWN;
    ngx_smartlyq_link_schedule(link);
    ngx_smartlyq_link_gone(link);
}


/* the hiredis context is gone, whichever way: tell the link's user */
static void
ngx_smartlyq_link_gone(ngx_smartlyq_link_t *link)
{
    if (link->down && !link->exiting) {
        link->down(link->hook_data);
    }
}


static void
ngx_smartlyq_command_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    ngx_smartlyq_cmd_t   *c = privdata;
    ngx_smartlyq_link_t  *link = c->link;

    link->inflight--;

    if (reply) {
        link->progress = ngx_current_msec;
    }

    c->fn(link->exiting ? NULL : reply, c->data);

    ngx_smartlyq_cmd_free(link, c);
}


/* timers */

static void
ngx_smartlyq_reconnect_handler(ngx_event_t *ev)
{
    ngx_smartlyq_link_t  *link = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate || link->exiting
        || (link->port == 0 && link->unix_path.len == 0))
    {
        return;
    }

    ngx_smartlyq_link_connect(link);
}


static void
ngx_smartlyq_connect_timeout_handler(ngx_event_t *ev)
{
    ngx_smartlyq_link_t  *link = ev->data;

    if (link->state == NGX_SMARTLYQ_LINK_CONNECTING) {
        ngx_smartlyq_link_drop(link, "connect timed out");
    }
}


static void
ngx_smartlyq_link_schedule(ngx_smartlyq_link_t *link)
{
    if (link->exiting || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_smartlyq_metrics_redis(link->smcf, NGX_SMARTLYQ_M_LINK_FAILURES);

    if (!link->reconnect.timer_set) {
        ngx_add_timer(&link->reconnect, link->backoff);
    }

    link->backoff *= 2;
    if (link->backoff > NGX_SMARTLYQ_BACKOFF_MAX) {
        link->backoff = NGX_SMARTLYQ_BACKOFF_MAX;
    }
}


/*
 * Frees the context now: every pending command is called back with NULL
 * and fails closed; a new link is scheduled.
 */
void
ngx_smartlyq_link_drop(ngx_smartlyq_link_t *link, const char *why)
{
    redisAsyncContext  *ac;

    ac = link->ac;
    if (ac == NULL) {
        return;
    }

    if (!link->reported) {
        ngx_log_error(NGX_LOG_ERR, link->log, 0,
                      "smartlyq: dropping redis link: %s", why);
        link->reported = 1;
    }

    link->ac = NULL;
    link->state = NGX_SMARTLYQ_LINK_DOWN;

    if (link->connect_timer.timer_set) {
        ngx_del_timer(&link->connect_timer);
    }

    redisAsyncFree(ac);

    ngx_smartlyq_link_schedule(link);
    ngx_smartlyq_link_gone(link);
}


static void
ngx_smartlyq_link_connect(ngx_smartlyq_link_t *link)
{
    u_char                    *p, addr[NGX_MAX_PATH + 1];
    ngx_connection_t          *c;
    redisAsyncContext         *ac;
    ngx_smartlyq_main_conf_t  *smcf = link->smcf;

    if (link->unix_path.len) {
        p = ngx_cpymem(addr, link->unix_path.data,
                       ngx_min(link->unix_path.len, NGX_MAX_PATH));
        *p = '\0';
        ac = redisAsyncConnectUnix((char *) addr);

    } else if (link->port) {
        p = ngx_cpymem(addr, link->host,
                       ngx_strlen(link->host));
        *p = '\0';
        ac = redisAsyncConnect((char *) addr, (int) link->port);

    } else {
        return;     /* parked: no address yet */
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, link->log, 0,
                      "smartlyq: redis context allocation failed");
        ngx_smartlyq_link_schedule(link);
        return;
    }

    if (ac->err) {
        if (!link->reported) {
            ngx_log_error(NGX_LOG_ERR, link->log, 0,
                          "smartlyq: redis connect to \"%s\" failed: %s",
                          addr, ac->errstr);
            link->reported = 1;
        }

        redisAsyncFree(ac);
        ngx_smartlyq_link_schedule(link);
        return;
    }

    /* no reply may make hiredis allocate more than it needs */
    sq_resp_bound(ac->c.reader);

    c = ngx_get_connection(ac->c.fd, link->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_smartlyq_link_schedule(link);
        return;
    }

    c->data = link;
    c->read->handler = ngx_smartlyq_read_handler;
    c->write->handler = ngx_smartlyq_write_handler;
    c->read->log = link->log;
    c->write->log = link->log;

    link->conn = c;
    link->ac = ac;
    link->state = NGX_SMARTLYQ_LINK_CONNECTING;

    ac->data = link;
    ac->ev.data = link;
    ac->ev.addRead = ngx_smartlyq_ev_add_read;
    ac->ev.delRead = ngx_smartlyq_ev_del_read;
    ac->ev.addWrite = ngx_smartlyq_ev_add_write;
    ac->ev.delWrite = ngx_smartlyq_ev_del_write;
    ac->ev.cleanup = ngx_smartlyq_ev_cleanup;

    /* the connect callback arms the first write event: hooks go first */
    redisAsyncSetConnectCallback(ac, ngx_smartlyq_connect_cb);
    redisAsyncSetDisconnectCallback(ac, ngx_smartlyq_disconnect_cb);

    ngx_add_timer(&link->connect_timer, smcf->connect_timeout);

    if (ngx_smartlyq_link_auth(link) != NGX_OK) {
        ngx_smartlyq_link_drop(link, "AUTH could not be queued");
    }
}


/* exported */

/*
 * A new link, connecting.  Each worker has two: one for the lookups and
 * one for the usage writes, so that a large flush never queues ahead of
 * the lookups (and so that reads could later go to a replica).
 */
ngx_smartlyq_link_t *
ngx_smartlyq_link_create(ngx_cycle_t *cycle, ngx_smartlyq_main_conf_t *smcf)
{
    if (smcf->redis_name.len) {
        /* parked until Sentinel names a node (ngx_smartlyq_sentinel.c) */
        return ngx_smartlyq_link_create_at(cycle, smcf, NULL, 0, NULL);
    }

    if (smcf->unix_path.len) {
        return ngx_smartlyq_link_create_at(cycle, smcf, &smcf->unix_path, 0,
                                           NULL);
    }

    return ngx_smartlyq_link_create_at(cycle, smcf, &smcf->host, smcf->port,
                                       NULL);
}


/*
 * A link to host:port (port 0: host is a unix socket's path; host NULL:
 * parked, connecting nowhere until ngx_smartlyq_link_retarget), with the
 * credentials of auth (NULL: smartlyq_redis_password_file's).
 */
ngx_smartlyq_link_t *
ngx_smartlyq_link_create_at(ngx_cycle_t *cycle,
    ngx_smartlyq_main_conf_t *smcf, ngx_str_t *host, ngx_int_t port,
    sq_redis_auth_t *auth)
{
    ngx_smartlyq_link_t  *link;

    link = ngx_pcalloc(cycle->pool, sizeof(ngx_smartlyq_link_t));
    if (link == NULL) {
        return NULL;
    }

    link->auth = auth ? auth : &smcf->auth;

    if (host && port == 0) {
        link->unix_path = *host;

    } else if (host) {
        if (host->len > NGX_SOCKADDR_STRLEN) {
            return NULL;
        }

        ngx_memcpy(link->host, host->data, host->len);
        link->host[host->len] = '\0';
        link->port = port;
    }

    link->smcf = smcf;
    link->log = cycle->log;
    link->backoff = NGX_SMARTLYQ_BACKOFF_MIN;

    link->reconnect.handler = ngx_smartlyq_reconnect_handler;
    link->reconnect.data = link;
    link->reconnect.log = cycle->log;
    link->reconnect.cancelable = 1;

    link->connect_timer.handler = ngx_smartlyq_connect_timeout_handler;
    link->connect_timer.data = link;
    link->connect_timer.log = cycle->log;
    link->connect_timer.cancelable = 1;

    ngx_smartlyq_link_connect(link);

    return link;
}


void
ngx_smartlyq_link_exit(ngx_smartlyq_link_t *link)
{
    redisAsyncContext   *ac;
    ngx_smartlyq_cmd_t  *c;

    if (link == NULL) {
        return;
    }

    link->exiting = 1;

    if (link->reconnect.timer_set) {
        ngx_del_timer(&link->reconnect);
    }

    if (link->connect_timer.timer_set) {
        ngx_del_timer(&link->connect_timer);
    }

    ac = link->ac;
    if (ac) {
        link->ac = NULL;
        redisAsyncFree(ac);
    }

    while (link->free) {
        c = link->free;
        link->free = c->next;
        ngx_free(c);
    }
}


/* NGX_OK when a command may be queued now (connected or connecting) */
ngx_int_t
ngx_smartlyq_link_ready(ngx_smartlyq_link_t *link)
{
    if (link == NULL || link->ac == NULL
        || link->state == NGX_SMARTLYQ_LINK_DOWN
        || link->inflight >= NGX_SMARTLYQ_MAX_INFLIGHT)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Queues a command.  With fn, on a link connected or connecting: on
 * NGX_OK, fn is called exactly once, with the reply or with NULL when
 * the link dies.  Without fn, the reply is discarded, and only a link
 * that is up takes it, so that nothing piles up while connecting.
 */
ngx_int_t
ngx_smartlyq_link_send(ngx_smartlyq_link_t *link, int argc,
    const char **argv, const size_t *argvlen, ngx_smartlyq_reply_pt fn,
    void *data)
{
    if (fn == NULL) {
        if (ngx_smartlyq_link_context(link) == NULL) {
            return NGX_DECLINED;
        }

        if (redisAsyncCommandArgv(link->ac, NULL, NULL, argc, argv, argvlen)
            != REDIS_OK)
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    return ngx_smartlyq_link_queue(link, argc, argv, argvlen, NULL, 0, fn,
                                   data);
}


/*
 * As ngx_smartlyq_link_send with fn, for a command the caller already
 * wrote in RESP (cmd, len bytes): hiredis copies it to its output
 * buffer as it is, with no formatting of its own.
 */
ngx_int_t
ngx_smartlyq_link_send_resp(ngx_smartlyq_link_t *link, const char *cmd,
    size_t len, ngx_smartlyq_reply_pt fn, void *data)
{
    return ngx_smartlyq_link_queue(link, 0, NULL, NULL, cmd, len, fn, data);
}


/* queues one command with its callback: argv, or cmd when argv is NULL */
static ngx_int_t
ngx_smartlyq_link_queue(ngx_smartlyq_link_t *link, int argc,
    const char **argv, const size_t *argvlen, const char *cmd, size_t len,
    ngx_smartlyq_reply_pt fn, void *data)
{
    int                  rc;
    ngx_smartlyq_cmd_t  *c;

    if (ngx_smartlyq_link_ready(link) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (link->free) {
        c = link->free;
        link->free = c->next;

    } else {
        c = ngx_alloc(sizeof(ngx_smartlyq_cmd_t), link->log);
        if (c == NULL) {
            return NGX_ERROR;
        }
    }

    c->fn = fn;
    c->data = data;
    c->link = link;
    c->next = NULL;

    if (argv) {
        rc = redisAsyncCommandArgv(link->ac, ngx_smartlyq_command_cb, c,
                                   argc, argv, argvlen);

    } else {
        rc = redisAsyncFormattedCommand(link->ac, ngx_smartlyq_command_cb, c,
                                        cmd, len);
    }

    if (rc != REDIS_OK) {
        ngx_smartlyq_cmd_free(link, c);
        return NGX_ERROR;
    }

    if (link->inflight++ == 0) {
        link->progress = ngx_current_msec;
    }

    return NGX_OK;
}


static void
ngx_smartlyq_cmd_free(ngx_smartlyq_link_t *link, ngx_smartlyq_cmd_t *c)
{
    if (!link->exiting) {
        c->next = link->free;
        link->free = c;
        return;
    }

    ngx_free(c);
}


/* what a link's user hears of its life; set right after creating it */
void
ngx_smartlyq_link_hooks(ngx_smartlyq_link_t *link,
    ngx_smartlyq_link_hook_pt up, ngx_smartlyq_link_hook_pt down,
    void *data)
{
    link->up = up;
    link->down = down;
    link->hook_data = data;
}


/*
 * The hiredis context of a link that is up, or NULL: for a subscriber,
 * whose callback hiredis calls once per message, not once per command.
 */
void *
ngx_smartlyq_link_context(ngx_smartlyq_link_t *link)
{
    if (link == NULL || link->ac == NULL
        || link->state != NGX_SMARTLYQ_LINK_UP)
    {
        return NULL;
    }

    return link->ac;
}


/* when bytes last came in on the link */
ngx_msec_t
ngx_smartlyq_link_heard(ngx_smartlyq_link_t *link)
{
    return link->heard;
}


/*
 * A command timed out.  One slow reply is no reason to drop the link and
 * everything queued on it; a link with commands in flight and no reply at
 * all for NGX_SMARTLYQ_STALL_MIN ms (Redis stopped, packets dropped) is.
 */
void
ngx_smartlyq_link_timed_out(ngx_smartlyq_link_t *link)
{
    if (link == NULL || link->ac == NULL || link->inflight == 0) {
        return;
    }

    if (ngx_current_msec - link->progress >= NGX_SMARTLYQ_STALL_MIN) {
        ngx_smartlyq_link_drop(link, "no reply within 1s");
    }
}


/*
 * Points the link at host:port (Sentinel named another node): a link to
 * another address is dropped, its commands fail closed, and it connects
 * to the new one at once.  NGX_DECLINED when it already points there.
 */
ngx_int_t
ngx_smartlyq_link_retarget(ngx_smartlyq_link_t *link, ngx_str_t *host,
    ngx_int_t port)
{
    if (link == NULL || host->len == 0 || host->len > NGX_SOCKADDR_STRLEN
        || port <= 0)
    {
        return NGX_DECLINED;
    }

    if (link->port == port && ngx_strlen(link->host) == host->len
        && ngx_strncmp(link->host, host->data, host->len) == 0)
    {
        return NGX_DECLINED;
    }

    if (link->port) {
        ngx_log_error(NGX_LOG_NOTICE, link->log, 0,
                      "smartlyq: redis link moves from %s:%i to %V:%i",
                      link->host, link->port, host, port);
    }

    ngx_memcpy(link->host, host->data, host->len);
    link->host[host->len] = '\0';
    link->port = port;

    if (link->ac) {
        link->reported = 1;     /* no "lost" error: we moved it */
        ngx_smartlyq_link_drop(link, "moved");
    }

    if (link->exiting || ngx_exiting || ngx_quit || ngx_terminate) {
        return NGX_OK;
    }

    if (link->reconnect.timer_set) {
        ngx_del_timer(&link->reconnect);
    }

    link->backoff = NGX_SMARTLYQ_BACKOFF_MIN;
    link->reported = 0;
    ngx_smartlyq_link_connect(link);

    return NGX_OK;
}
