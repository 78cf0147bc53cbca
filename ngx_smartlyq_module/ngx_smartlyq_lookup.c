/*
 * ngx_smartlyq_lookup: the one Redis round trip that decides a request.
 *
 * FCALL_RO sq_authz (redis/smartlyq.lua) checks the key record and the
 * membership together.  The request waits (NGX_AGAIN) until the reply,
 * the timeout or the link's death, whichever is first; the others then
 * find the pending record detached and do nothing to the request.
 */

#include <hiredis/hiredis.h>

#include "ngx_smartlyq_lookup.h"
#include "ngx_smartlyq_metrics.h"
#include "ngx_smartlyq_redis.h"
#include "sq_keys.h"


/* the command's fixed part: 7 arguments, of which the first three */
#define NGX_SMARTLYQ_AUTHZ_HEAD                                               \
    "*7\r\n$8\r\nFCALL_RO\r\n$8\r\nsq_authz\r\n$1\r\n2\r\n"


/*
 * One lookup in flight.  It lives on the heap, not in the request pool:
 * the link calls back for every command (with NULL when it dies),
 * possibly after the request is gone, so the request only ever holds a
 * reference that its pool cleanup or the timeout clears.
 */
struct ngx_smartlyq_pending_s {
    ngx_http_request_t        *r;           /* NULL once detached */
    ngx_smartlyq_ctx_t        *ctx;
    ngx_event_t                timer;       /* the per-lookup timeout */
    ngx_smartlyq_link_t       *link;
    ngx_smartlyq_answer_pt     answered;
    ngx_smartlyq_pending_t    *next;        /* free list */
};


static u_char *ngx_smartlyq_decimal(u_char *p, uint64_t n);
static u_char *ngx_smartlyq_bulk_head(u_char *p, size_t len);
static u_char *ngx_smartlyq_bulk_time(u_char *p, time_t t);
static void ngx_smartlyq_lookup_reply(void *reply, void *data);
static void ngx_smartlyq_lookup_cleanup(void *data);
static void ngx_smartlyq_lookup_timeout(ngx_event_t *ev);
static void ngx_smartlyq_wake(ngx_http_request_t *r);
static void ngx_smartlyq_parse_reply(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, redisReply *reply,
    ngx_smartlyq_answer_pt answered);


/* this worker's spare pending records */
static ngx_smartlyq_pending_t  *ngx_smartlyq_pending_free;


/*
 * Sends the request's lookup: NGX_OK, the request waits; NGX_DECLINED,
 * no usable link; NGX_ERROR.  answered is called with Redis's answer
 * before the request is woken.
 */
ngx_int_t
ngx_smartlyq_lookup_start(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    ngx_smartlyq_answer_pt answered)
{
    u_char                    *cmd, *last;
    size_t                     size, members;
    ngx_pool_cleanup_t        *cln;
    ngx_smartlyq_pending_t    *p;
    ngx_smartlyq_loc_conf_t   *slcf;
    ngx_smartlyq_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module);
    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (ngx_smartlyq_link_ready(smcf->link) != NGX_OK) {
        return NGX_DECLINED;
    }

    /* the key names, as SQ_K_KEY and SQ_K_WS_MEMBERS_TEXT spell them */
    members = 0;

    if (ctx->workspace_id.len) {
        members = sizeof(SQ_K_WS_PREFIX SQ_K_MEMBERS_SUFFIX) - 1
                  + ctx->workspace_id.len;
    }

    /*
     * The command in RESP, written here so that hiredis copies it as it
     * is: FCALL_RO sq_authz 2 <key> <members or ""> <now> <workspace>
     */
    size = sizeof(NGX_SMARTLYQ_AUTHZ_HEAD) - 1
           + 4 * (sizeof("$\r\n\r\n") - 1 + NGX_SIZE_T_LEN)
           + sizeof(SQ_K_KEY_PREFIX) - 1 + SQ_DIGEST_HEX_LEN
           + members + NGX_TIME_T_LEN + ctx->workspace_id.len;

    cmd = ngx_pnalloc(r->pool, size);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    last = ngx_cpymem(cmd, NGX_SMARTLYQ_AUTHZ_HEAD,
                      sizeof(NGX_SMARTLYQ_AUTHZ_HEAD) - 1);

    last = ngx_smartlyq_bulk_head(last, sizeof(SQ_K_KEY_PREFIX) - 1
                                        + SQ_DIGEST_HEX_LEN);
    last = ngx_cpymem(last, SQ_K_KEY_PREFIX, sizeof(SQ_K_KEY_PREFIX) - 1);
    last = ngx_cpymem(last, ctx->digest, SQ_DIGEST_HEX_LEN);
    last = ngx_cpymem(last, CRLF, 2);

    last = ngx_smartlyq_bulk_head(last, members);

    if (members) {
        last = ngx_cpymem(last, SQ_K_WS_PREFIX, sizeof(SQ_K_WS_PREFIX) - 1);
        last = ngx_cpymem(last, ctx->workspace_id.data,
                          ctx->workspace_id.len);
        last = ngx_cpymem(last, SQ_K_MEMBERS_SUFFIX,
                          sizeof(SQ_K_MEMBERS_SUFFIX) - 1);
    }

    last = ngx_cpymem(last, CRLF, 2);

    last = ngx_smartlyq_bulk_time(last, ngx_time());

    /* no workspace: an empty bulk string (and no memcpy from NULL) */
    last = ngx_smartlyq_bulk_head(last, ctx->workspace_id.len);
    if (ctx->workspace_id.len) {
        last = ngx_cpymem(last, ctx->workspace_id.data,
                          ctx->workspace_id.len);
    }
    last = ngx_cpymem(last, CRLF, 2);

    /* detaches the lookup if the request goes first */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_smartlyq_lookup_cleanup;
    cln->data = ctx;

    p = ngx_smartlyq_pending_free;

    if (p) {
        ngx_smartlyq_pending_free = p->next;
        ngx_memzero(p, sizeof(ngx_smartlyq_pending_t));

    } else {
        p = ngx_calloc(sizeof(ngx_smartlyq_pending_t), r->connection->log);
        if (p == NULL) {
            return NGX_ERROR;
        }
    }

    p->r = r;
    p->ctx = ctx;
    p->link = smcf->link;
    p->answered = answered;

    if (ngx_smartlyq_link_send_resp(smcf->link, (const char *) cmd,
                                    last - cmd, ngx_smartlyq_lookup_reply, p)
        != NGX_OK)
    {
        p->next = ngx_smartlyq_pending_free;
        ngx_smartlyq_pending_free = p;
        return NGX_DECLINED;
    }

    ngx_smartlyq_metrics_redis(smcf, NGX_SMARTLYQ_M_ROUND_TRIPS);

    p->timer.handler = ngx_smartlyq_lookup_timeout;
    p->timer.data = p;
    p->timer.log = r->connection->log;
    ngx_add_timer(&p->timer, slcf->timeout);

    ctx->pending = p;
    ctx->state = NGX_SMARTLYQ_STATE_WAITING;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "smartlyq: redis lookup sent, timeout %M", slcf->timeout);

    return NGX_OK;
}


/* n in decimal, no ngx_sprintf: written per lookup */
static u_char *
ngx_smartlyq_decimal(u_char *p, uint64_t n)
{
    u_char   buf[NGX_INT64_LEN];
    u_char  *d;

    d = buf + sizeof(buf);

    do {
        *--d = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return ngx_cpymem(p, d, buf + sizeof(buf) - d);
}


/* "$<len>\r\n", the head of a RESP bulk string */
static u_char *
ngx_smartlyq_bulk_head(u_char *p, size_t len)
{
    *p++ = '$';
    p = ngx_smartlyq_decimal(p, len);
    *p++ = '\r';
    *p++ = '\n';

    return p;
}


/* t (never negative here) as a whole bulk string */
static u_char *
ngx_smartlyq_bulk_time(u_char *p, time_t t)
{
    u_char  buf[NGX_TIME_T_LEN];
    size_t  len;

    len = ngx_smartlyq_decimal(buf, (uint64_t) (t < 0 ? 0 : t)) - buf;

    p = ngx_smartlyq_bulk_head(p, len);
    p = ngx_cpymem(p, buf, len);
    *p++ = '\r';
    *p++ = '\n';

    return p;
}


/* the link's callback: the reply, or NULL (the link is gone) */
static void
ngx_smartlyq_lookup_reply(void *reply, void *data)
{
    ngx_smartlyq_pending_t  *p = data;

    ngx_http_request_t      *r;
    ngx_smartlyq_ctx_t      *ctx;
    ngx_smartlyq_answer_pt   answered;

    if (p->timer.timer_set) {
        ngx_del_timer(&p->timer);
    }

    r = p->r;
    ctx = p->ctx;
    answered = p->answered;

    p->r = NULL;
    p->next = ngx_smartlyq_pending_free;
    ngx_smartlyq_pending_free = p;

    if (r == NULL) {
        return;     /* timed out, or the request is gone: nothing to do */
    }

    ctx->pending = NULL;

    if (reply == NULL) {
        ctx->result = NGX_SMARTLYQ_UNAVAILABLE;

    } else {
        ngx_smartlyq_parse_reply(r, ctx, reply, answered);
    }

    if (ctx->result == NGX_SMARTLYQ_UNAVAILABLE) {
        ngx_smartlyq_metrics_redis(ngx_http_get_module_main_conf(r,
                                       ngx_http_smartlyq_module),
                                   NGX_SMARTLYQ_M_ERRORS);
    }

    ctx->state = NGX_SMARTLYQ_STATE_DONE;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "smartlyq: redis reply, %s",
                   reply ? "answered" : "link gone");

    ngx_smartlyq_wake(r);
}


static void
ngx_smartlyq_lookup_timeout(ngx_event_t *ev)
{
    ngx_http_request_t      *r;
    ngx_smartlyq_ctx_t      *ctx;
    ngx_smartlyq_link_t     *link;
    ngx_smartlyq_pending_t  *p = ev->data;

    r = p->r;
    link = p->link;

    if (r == NULL) {
        return;
    }

    p->r = NULL;

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "smartlyq: redis reply timed out");

    ngx_smartlyq_metrics_redis(ngx_http_get_module_main_conf(r,
                                   ngx_http_smartlyq_module),
                               NGX_SMARTLYQ_M_TIMEOUTS);

    ctx = p->ctx;
    ctx->pending = NULL;
    ctx->result = NGX_SMARTLYQ_UNAVAILABLE;
    ctx->state = NGX_SMARTLYQ_STATE_DONE;

    ngx_smartlyq_wake(r);

    /* may drop the link, which calls back and recycles p: last */
    ngx_smartlyq_link_timed_out(link);
}


/*
 * The request pool's cleanup: detaches a lookup still out, so that its
 * late reply or the link's death finds no request.
 */
static void
ngx_smartlyq_lookup_cleanup(void *data)
{
    ngx_smartlyq_ctx_t      *ctx = data;
    ngx_smartlyq_pending_t  *p;

    p = ctx->pending;
    if (p == NULL) {
        return;
    }

    ctx->pending = NULL;
    p->r = NULL;

    if (p->timer.timer_set) {
        ngx_del_timer(&p->timer);
    }
}


/* resume the phases on the request's own connection, outside hiredis */
static void
ngx_smartlyq_wake(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    r->write_event_handler = ngx_http_core_run_phases;

    ngx_post_event(c->write, &ngx_posted_events);
}


/* a copy of n bytes in the request's pool */
static ngx_int_t
ngx_smartlyq_copy(ngx_http_request_t *r, ngx_str_t *dst, const char *src,
    size_t n)
{
    dst->len = n;

    if (n == 0) {
        return NGX_OK;
    }

    dst->data = ngx_pnalloc(r->pool, n);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src, n);

    return NGX_OK;
}


/*
 * An answer (from Redis or the cache) into the request's ctx.  A record
 * whose mode or type differs from the key's prefix is no match.
 */
ngx_int_t
ngx_smartlyq_lookup_apply(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    const sq_authz_t *a)
{
    static const ngx_smartlyq_result_e  results[] = {
        NGX_SMARTLYQ_UNAVAILABLE,       /* SQ_AUTHZ_INVALID */
        NGX_SMARTLYQ_UNAVAILABLE,       /* SQ_AUTHZ_REDIS_ERROR */
        NGX_SMARTLYQ_ALLOW,
        NGX_SMARTLYQ_UNKNOWN_KEY,
        NGX_SMARTLYQ_DISABLED_KEY,
        NGX_SMARTLYQ_EXPIRED_KEY,
        NGX_SMARTLYQ_DELETED_KEY,
        NGX_SMARTLYQ_ROTATED_KEY,
        NGX_SMARTLYQ_FORBIDDEN
    };

    ctx->result = NGX_SMARTLYQ_UNAVAILABLE;
    ctx->rotated_at = 0;
    ctx->sunset_at = 0;

    if ((size_t) a->code >= sizeof(results) / sizeof(results[0])) {
        return NGX_OK;
    }

    if (a->code < SQ_AUTHZ_OK || a->code == SQ_AUTHZ_UNKNOWN) {
        ctx->result = results[a->code];
        return NGX_OK;
    }

    if (a->mode != ctx->mode || a->type != ctx->type) {
        ctx->result = NGX_SMARTLYQ_UNKNOWN_KEY;
        return NGX_OK;      /* not that key's use: not counted */
    }

    if (ngx_smartlyq_copy(r, &ctx->user_id, a->user_id, a->user_id_len)
           != NGX_OK
        || ngx_smartlyq_copy(r, &ctx->key_id, a->key_id, a->key_id_len)
           != NGX_OK
        || ngx_smartlyq_copy(r, &ctx->key_workspaces, a->workspaces,
                             a->workspaces_len)
           != NGX_OK
        || ngx_smartlyq_copy(r, &ctx->app_id, a->app_id, a->app_id_len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->scope_bits = a->scope_bits;
    ctx->rotated_at = (time_t) a->rotated_at;
    ctx->sunset_at = (time_t) a->sunset_at;
    ctx->result = results[a->code];

    return NGX_OK;
}


/* Redis's reply: checked, applied, and handed to answered */
static void
ngx_smartlyq_parse_reply(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    redisReply *reply, ngx_smartlyq_answer_pt answered)
{
    size_t      len;
    sq_authz_t  a;

    switch (sq_authz_parse(reply, &a)) {

    case SQ_AUTHZ_REDIS_ERROR:
        len = ngx_min(reply->len, 200);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "smartlyq: redis error: \"%*s\"", len, reply->str);
        ctx->result = NGX_SMARTLYQ_UNAVAILABLE;
        return;

    case SQ_AUTHZ_INVALID:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "smartlyq: unexpected reply from sq_authz, "
                      "is redis/smartlyq.lua loaded?");
        ctx->result = NGX_SMARTLYQ_UNAVAILABLE;
        return;

    default:
        break;
    }

    if (ngx_smartlyq_lookup_apply(r, ctx, &a) != NGX_OK) {
        ctx->result = NGX_SMARTLYQ_UNAVAILABLE;
        return;
    }

    if (answered) {
        answered(r, ctx, &a);
    }
}
