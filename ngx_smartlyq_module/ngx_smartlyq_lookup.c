/*
 * ngx_smartlyq_lookup: the one Redis round trip that decides a request.
 *
 * FCALL_RO sq_authz (redis/smartlyq.lua) checks the key record and the
 * membership together.  The request waits (NGX_AGAIN) until the reply,
 * the timeout or the link's death, whichever is first; the others then
 * find the pending record detached and do nothing to the request.
 */

#include <hiredis/hiredis.h>

#include "ngx_smartlyq_module.h"


static void ngx_smartlyq_lookup_timeout(ngx_event_t *ev);
static void ngx_smartlyq_wake(ngx_http_request_t *r);
static void ngx_smartlyq_parse_reply(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, redisReply *reply);


ngx_int_t
ngx_smartlyq_lookup_start(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    const char *digest)
{
    u_char                    *key, *members, *now;
    size_t                     lens[7];
    const char                *argv[7];
    ngx_smartlyq_pending_t    *p;
    ngx_smartlyq_loc_conf_t   *slcf;
    ngx_smartlyq_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module);
    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (ngx_smartlyq_link_ready(smcf->link) != NGX_OK) {
        return NGX_DECLINED;
    }

    key = ngx_pnalloc(r->pool, sizeof("sq:key:") - 1 + SQ_DIGEST_HEX_LEN);
    members = ngx_pnalloc(r->pool, sizeof("sq:ws::members") - 1
                                   + ctx->workspace_id.len);
    now = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);

    if (key == NULL || members == NULL || now == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "FCALL_RO";
    lens[0] = sizeof("FCALL_RO") - 1;
    argv[1] = "sq_authz";
    lens[1] = sizeof("sq_authz") - 1;
    argv[2] = "2";
    lens[2] = 1;

    argv[3] = (const char *) key;
    lens[3] = ngx_sprintf(key, "sq:key:%*s", (size_t) SQ_DIGEST_HEX_LEN,
                          digest) - key;

    argv[4] = (const char *) members;
    lens[4] = 0;

    if (ctx->workspace_id.len) {
        lens[4] = ngx_sprintf(members, "sq:ws:%V:members",
                              &ctx->workspace_id) - members;
    }

    argv[5] = (const char *) now;
    lens[5] = ngx_sprintf(now, "%T", ngx_time()) - now;

    argv[6] = (const char *) ctx->workspace_id.data;
    lens[6] = ctx->workspace_id.len;

    p = ngx_smartlyq_link_pending(smcf->link, r->connection->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p->r = r;

    if (ngx_smartlyq_link_send(smcf->link, p, 7, argv, lens) != NGX_OK) {
        ngx_smartlyq_link_recycle(smcf->link, p);
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


/* called from the link for every command: reply, or NULL (link gone) */
void
ngx_smartlyq_pending_reply(ngx_smartlyq_pending_t *p, void *reply)
{
    ngx_http_request_t  *r;
    ngx_smartlyq_ctx_t  *ctx;

    if (p->timer.timer_set) {
        ngx_del_timer(&p->timer);
    }

    r = p->r;
    if (r == NULL) {
        return;     /* timed out, or the request is gone: nothing to do */
    }

    p->r = NULL;

    ctx = ngx_http_get_module_ctx(r, ngx_http_smartlyq_module);
    ctx->pending = NULL;

    if (reply == NULL) {
        ctx->result = NGX_SMARTLYQ_UNAVAILABLE;

    } else {
        ngx_smartlyq_parse_reply(r, ctx, reply);
    }

    if (ctx->result == NGX_SMARTLYQ_UNAVAILABLE) {
        ngx_smartlyq_metrics_redis(ngx_http_get_module_main_conf(r,
                                       ngx_http_smartlyq_module),
                                   NGX_SMARTLYQ_M_ERRORS);
    }

    ctx->state = NGX_SMARTLYQ_STATE_DONE;

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

    ctx = ngx_http_get_module_ctx(r, ngx_http_smartlyq_module);
    ctx->pending = NULL;
    ctx->result = NGX_SMARTLYQ_UNAVAILABLE;
    ctx->state = NGX_SMARTLYQ_STATE_DONE;

    ngx_smartlyq_wake(r);

    /* may drop the link, which calls back and recycles p: last */
    ngx_smartlyq_link_timed_out(link);
}


/*
 * The request pool's cleanup, registered with the ctx: detaches a command
 * still out, so its late reply or the link's death finds no request.
 */
void
ngx_smartlyq_ctx_cleanup(void *data)
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


static ngx_int_t
ngx_smartlyq_copy_str(ngx_http_request_t *r, redisReply *e, ngx_str_t *dst,
    size_t max, const char *charset)
{
    size_t  i;

    if (e->type != REDIS_REPLY_STRING || (size_t) e->len > max) {
        return NGX_ERROR;
    }

    for (i = 0; i < (size_t) e->len; i++) {
        if (ngx_strchr(charset, e->str[i]) == NULL || e->str[i] == '\0') {
            return NGX_ERROR;
        }
    }

    dst->len = e->len;

    if (e->len == 0) {
        return NGX_OK;
    }

    dst->data = ngx_pnalloc(r->pool, e->len);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, e->str, e->len);

    return NGX_OK;
}


static ngx_int_t
ngx_smartlyq_copy_id(ngx_http_request_t *r, redisReply *e, ngx_str_t *dst)
{
    if (e->type != REDIS_REPLY_STRING || e->len == 0) {
        return NGX_ERROR;
    }

    return ngx_smartlyq_copy_str(r, e, dst, NGX_SMARTLYQ_ID_MAX_LEN,
                                 "0123456789");
}


static time_t
ngx_smartlyq_reply_time(redisReply *e)
{
    ngx_int_t  n;

    if (e->type != REDIS_REPLY_STRING || e->len == 0) {
        return NGX_ERROR;
    }

    n = ngx_atoi((u_char *) e->str, e->len);

    return n == NGX_ERROR ? NGX_ERROR : (time_t) n;
}


static ngx_int_t
ngx_smartlyq_is_name(redisReply *e, const char *name)
{
    return e->type == REDIS_REPLY_STRING && (size_t) e->len == strlen(name)
           && ngx_strncmp(e->str, name, e->len) == 0;
}


/*
 * {code, user_id, key_id, mode, type, scopes, workspaces, rotated_at,
 *  sunset_at}, or {"UNKNOWN"}: see redis/smartlyq.lua
 */
static void
ngx_smartlyq_parse_reply(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    redisReply *reply)
{
    size_t                  len;
    redisReply             *code, **e;
    ngx_smartlyq_result_e   result;

    ctx->result = NGX_SMARTLYQ_UNAVAILABLE;

    if (reply->type == REDIS_REPLY_ERROR) {
        len = ngx_min(reply->len, 200);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "smartlyq: redis error: \"%*s\"", len, reply->str);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        goto invalid;
    }

    e = reply->element;
    code = e[0];

    if (ngx_smartlyq_is_name(code, "UNKNOWN")) {
        ctx->result = NGX_SMARTLYQ_UNKNOWN_KEY;
        return;
    }

    if (ngx_smartlyq_is_name(code, "OK")) {
        result = NGX_SMARTLYQ_ALLOW;

    } else if (ngx_smartlyq_is_name(code, "FORBIDDEN")) {
        result = NGX_SMARTLYQ_FORBIDDEN;

    } else if (ngx_smartlyq_is_name(code, "DISABLED")) {
        result = NGX_SMARTLYQ_DISABLED_KEY;

    } else if (ngx_smartlyq_is_name(code, "EXPIRED")) {
        result = NGX_SMARTLYQ_EXPIRED_KEY;

    } else if (ngx_smartlyq_is_name(code, "DELETED")) {
        result = NGX_SMARTLYQ_DELETED_KEY;

    } else if (ngx_smartlyq_is_name(code, "ROTATED")) {
        result = NGX_SMARTLYQ_ROTATED_KEY;

    } else {
        goto invalid;
    }

    if (reply->elements != 9
        || ngx_smartlyq_copy_id(r, e[1], &ctx->user_id) != NGX_OK
        || ngx_smartlyq_copy_id(r, e[2], &ctx->key_id) != NGX_OK
        || ngx_smartlyq_copy_str(r, e[5], &ctx->scopes, 1024,
                                 "abcdefghijklmnopqrstuvwxyz_: ")
           != NGX_OK
        || ngx_smartlyq_copy_str(r, e[6], &ctx->key_workspaces, 1024,
                                 "0123456789,")
           != NGX_OK
        || (ctx->rotated_at = ngx_smartlyq_reply_time(e[7])) == NGX_ERROR
        || (ctx->sunset_at = ngx_smartlyq_reply_time(e[8])) == NGX_ERROR)
    {
        ctx->rotated_at = 0;
        ctx->sunset_at = 0;
        goto invalid;
    }

    /* a record whose mode or type differs from the key's prefix: no match */
    if (!ngx_smartlyq_is_name(e[3], sq_key_mode_name(ctx->mode))
        || !ngx_smartlyq_is_name(e[4], sq_key_type_name(ctx->type)))
    {
        ctx->result = NGX_SMARTLYQ_UNKNOWN_KEY;
        ctx->sunset_at = 0;
        ctx->key_id.len = 0;    /* not that key's use: not counted */
        return;
    }

    ctx->result = result;
    return;

invalid:

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "smartlyq: unexpected reply from sq_authz, "
                  "is redis/smartlyq.lua loaded?");
}
