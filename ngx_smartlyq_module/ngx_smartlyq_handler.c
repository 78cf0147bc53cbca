/*
 * ngx_smartlyq_handler: the access-phase check, and the one caller of
 * the module's parts: the refusal table, the cache, the notifier, the
 * lookup; none of them calls back up, what must come back (an answer to
 * store) is a function handed down.
 *
 * First pass: key shape and workspace_id syntax are checked locally;
 * then the cache is read if the notifier vouches for it, and on a miss
 * one Redis lookup is sent and the request waits (NGX_AGAIN).  When the
 * reply, a timeout or a link failure has decided, the phases run again
 * and the second pass allows (NGX_OK, identity set for the upstream) or
 * answers the refusal itself.
 */

#include "ngx_smartlyq_handler.h"
#include "ngx_smartlyq_body.h"
#include "ngx_smartlyq_cache.h"
#include "ngx_smartlyq_epoch.h"
#include "ngx_smartlyq_identity.h"
#include "ngx_smartlyq_lookup.h"
#include "ngx_smartlyq_metrics.h"
#include "ngx_smartlyq_notify.h"
#include "ngx_smartlyq_refuse.h"
#include "ngx_smartlyq_scope.h"
#include "ngx_smartlyq_usage.h"
#include "ngx_smartlyq_util.h"


static ngx_int_t ngx_smartlyq_start(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
static ngx_int_t ngx_smartlyq_continue(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
static ngx_int_t ngx_smartlyq_lookup(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
static ngx_int_t ngx_smartlyq_decide(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
static ngx_int_t ngx_smartlyq_bearer(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, const char **key, size_t *key_len);
static ngx_int_t ngx_smartlyq_workspace(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, sq_ws_rc_t rc, uint64_t id);
static ngx_int_t ngx_smartlyq_cached(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, ngx_uint_t stale);
static void ngx_smartlyq_store(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, const sq_authz_t *a);
static void ngx_smartlyq_key_digest(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
static void ngx_smartlyq_memo_cleanup(void *data);
static ngx_uint_t ngx_smartlyq_same_key(const u_char *a, const u_char *b,
    size_t len);


/*
 * The last key seen on a client connection and its digest: a keep-alive
 * client sends the same key on every request, and the keyed BLAKE2b of
 * it is then paid once per connection.  It lives in the connection's
 * pool and is wiped when the connection closes.
 */
typedef struct {
    ngx_smartlyq_main_conf_t  *smcf;        /* whose pepper */
    size_t                     key_len;     /* 0: nothing yet */
    u_char                     key[SQ_KEY_MAX_LEN];
    u_char                     digest_bin[SQ_DIGEST_BYTES];
    char                       digest[SQ_DIGEST_HEX_LEN + 1];
} ngx_smartlyq_memo_t;


ngx_int_t
ngx_smartlyq_access_handler(ngx_http_request_t *r)
{
    ngx_smartlyq_ctx_t       *ctx;
    ngx_smartlyq_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (!slcf->enable) {
        return NGX_DECLINED;
    }

    ctx = ngx_smartlyq_get_ctx(r);

    if (ctx == NULL) {
        ctx = ngx_smartlyq_create_ctx(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->act_loc_conf = r->loc_conf;    /* the route of its activity */

        return ngx_smartlyq_start(r, ctx);
    }

    switch (ctx->state) {

    case NGX_SMARTLYQ_STATE_READING_BODY:
    case NGX_SMARTLYQ_STATE_WAITING:
        return NGX_AGAIN;

    case NGX_SMARTLYQ_STATE_BODY_READ:
        return ngx_smartlyq_continue(r, ctx);

    default: /* NGX_SMARTLYQ_STATE_DONE */
        return ngx_smartlyq_decide(r, ctx);
    }
}


/* first pass: what can be decided without I/O, then the body */
static ngx_int_t
ngx_smartlyq_start(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    ngx_int_t  rc;

    /* a key in the URL is in logs and histories already: refuse it */
    if (sq_key_in_query((const char *) r->unparsed_uri.data,
                        r->unparsed_uri.len))
    {
        ctx->state = NGX_SMARTLYQ_STATE_DONE;
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_KEY_IN_URL);
    }

    rc = ngx_smartlyq_bearer(r, ctx, &ctx->key, &ctx->key_len);
    if (rc != NGX_OK) {
        ctx->state = NGX_SMARTLYQ_STATE_DONE;
        return rc;
    }

    /* the key's type, from its prefix, before anything else */
    ctx->type = sq_key_type(ctx->key);

    rc = ngx_smartlyq_type_allowed(r, ctx);
    if (rc != NGX_OK) {
        ctx->state = NGX_SMARTLYQ_STATE_DONE;
        return rc;
    }

    ctx->query_rc = sq_workspace_from_query((const char *) r->args.data,
                                            r->args.len, &ctx->query_id);

    if (ctx->query_rc != SQ_WS_NONE && ctx->query_rc != SQ_WS_OK) {
        ctx->state = NGX_SMARTLYQ_STATE_DONE;
        return ngx_smartlyq_workspace(r, ctx, ctx->query_rc, 0);
    }

    rc = ngx_smartlyq_body_read(r, ctx);

    if (rc == NGX_DECLINED || rc == NGX_OK) {
        return ngx_smartlyq_continue(r, ctx);
    }

    if (rc != NGX_AGAIN) {
        ctx->state = NGX_SMARTLYQ_STATE_DONE;
    }

    return rc;
}


/* the body (if any) is in: settle the workspace, then ask Redis */
static ngx_int_t
ngx_smartlyq_continue(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    uint64_t    bid, id;
    ngx_int_t   rc;
    sq_ws_rc_t  brc, wrc;

    ctx->state = NGX_SMARTLYQ_STATE_DONE;

    rc = ngx_smartlyq_body_workspace(r, ctx, &brc, &bid);
    if (rc != NGX_OK) {
        return rc;
    }

    id = 0;
    wrc = sq_workspace_merge(ctx->query_rc, ctx->query_id, brc, bid, &id);

    rc = ngx_smartlyq_workspace(r, ctx, wrc, id);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_smartlyq_lookup(r, ctx);
}


static ngx_int_t
ngx_smartlyq_lookup(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    ngx_int_t  rc;

    ngx_smartlyq_key_digest(r, ctx);

    rc = ngx_smartlyq_cached(r, ctx, 0);

    if (rc == NGX_OK) {
        ctx->state = NGX_SMARTLYQ_STATE_DONE;
        return ngx_smartlyq_decide(r, ctx);
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_smartlyq_lookup_start(r, ctx, ngx_smartlyq_store);

    if (rc == NGX_OK) {
        return NGX_AGAIN;
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* no usable link: fail closed at once rather than wait */
    ctx->state = NGX_SMARTLYQ_STATE_DONE;
    ctx->result = NGX_SMARTLYQ_UNAVAILABLE;

    return ngx_smartlyq_decide(r, ctx);
}


/*
 * Redis could not answer: with "smartlyq_fail_mode stale=", a read may
 * still go on a cached grant that is past its TTL by less than that.
 * NGX_OK when ctx now holds such a grant.
 */
static ngx_int_t
ngx_smartlyq_stale(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    ngx_smartlyq_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (slcf->stale == 0 || ctx->digest[0] == '\0'
        || ctx->cache_status == NGX_SMARTLYQ_CACHE_STALE
        || !(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)))
    {
        return NGX_DECLINED;
    }

    if (ngx_smartlyq_cached(r, ctx, 1) != NGX_OK
        || ctx->result != NGX_SMARTLYQ_ALLOW)
    {
        ctx->result = NGX_SMARTLYQ_UNAVAILABLE;
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "smartlyq: redis unavailable, stale grant used for "
                  "key %V", &ctx->key_id);

    return NGX_OK;
}


/*
 * Second pass: the key's state first (401s), then the location's scope,
 * then the workspace (403), then allow.
 */
static ngx_int_t
ngx_smartlyq_decide(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ctx->result == NGX_SMARTLYQ_UNAVAILABLE
        || ctx->result == NGX_SMARTLYQ_NONE)
    {
        (void) ngx_smartlyq_stale(r, ctx);
    }

    switch (ctx->result) {

    case NGX_SMARTLYQ_ALLOW:
    case NGX_SMARTLYQ_FORBIDDEN:
        break;

    case NGX_SMARTLYQ_UNKNOWN_KEY:
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_UNKNOWN_KEY);

    case NGX_SMARTLYQ_DISABLED_KEY:
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_DISABLED_KEY);

    case NGX_SMARTLYQ_EXPIRED_KEY:
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_EXPIRED_KEY);

    case NGX_SMARTLYQ_DELETED_KEY:
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_DELETED_KEY);

    case NGX_SMARTLYQ_ROTATED_KEY:
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_ROTATED_KEY);

    default: /* NGX_SMARTLYQ_UNAVAILABLE, or nothing decided: fail closed */
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_UNAVAILABLE);
    }

    rc = ngx_smartlyq_scope_allowed(r, ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->result == NGX_SMARTLYQ_FORBIDDEN) {
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_FORBIDDEN);
    }

    /* NGX_SMARTLYQ_ALLOW; any refusal above was final */
    if (r->connection->error) {
        return NGX_HTTP_CLIENT_CLOSED_REQUEST;
    }

    if (ngx_smartlyq_identity_set(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_smartlyq_usage_count(r, ctx, ctx->digest, 1);
    ngx_smartlyq_metrics_decision(r, ctx, NGX_SMARTLYQ_CODE_NONE);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "smartlyq: allow user %V key %V",
                   &ctx->user_id, &ctx->key_id);

    return NGX_OK;
}


/*
 * Exactly one Authorization header carrying "Bearer <key>" with a key of
 * the right shape; NGX_OK, or the refusal already sent.
 */
static ngx_int_t
ngx_smartlyq_bearer(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    const char **key, size_t *key_len)
{
    ngx_uint_t        n;
    sq_bearer_rc_t    rc;
    ngx_table_elt_t  *auth;

    static ngx_str_t  name = ngx_string("Authorization");

    auth = NULL;
    n = ngx_smartlyq_headers_in(r, &name, &auth);

    if (n > 1) {
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_AUTH_HEADERS);
    }

    if (n == 0 || auth->value.len == 0) {
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_NO_KEY);
    }

    rc = sq_bearer_parse((const char *) auth->value.data, auth->value.len,
                         key, key_len, &ctx->mode);

    if (rc == SQ_BEARER_NOT_BEARER) {
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_NO_KEY);
    }

    if (rc != SQ_BEARER_OK) {
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_MALFORMED_KEY);
    }

    return NGX_OK;
}


/* the settled workspace_id; NGX_OK, or the refusal sent */
static ngx_int_t
ngx_smartlyq_workspace(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    sq_ws_rc_t rc, uint64_t id)
{
    u_char  *p;

    switch (rc) {

    case SQ_WS_NONE:
        return NGX_OK;

    case SQ_WS_OK:
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->workspace_id.data = p;
        ctx->workspace_id.len = ngx_sprintf(p, "%uL", id) - p;
        ctx->workspace_num = id;
        return NGX_OK;

    case SQ_WS_DUPLICATE:
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_WS_DUPLICATE);

    case SQ_WS_CONFLICT:
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_WS_CONFLICT);

    default: /* SQ_WS_INVALID */
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_WS_INVALID);
    }
}


/*
 * The request's answer from the cache: NGX_OK with ctx decided, or
 * NGX_DECLINED.  A fresh read stamps ctx first with what an answer from
 * Redis will be stored under, and reads nothing unless the notifier
 * vouches for the cache now.
 */
static ngx_int_t
ngx_smartlyq_cached(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    ngx_uint_t stale)
{
    ngx_int_t                  rc;
    sq_authz_t                 a;
    ngx_smartlyq_main_conf_t  *smcf;

    if (!ngx_smartlyq_cache_enabled(r)) {
        return NGX_DECLINED;
    }

    if (!stale) {
        smcf = ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module);

        /* read before the lookup is sent: see ngx_smartlyq_epoch.c */
        ngx_smartlyq_epoch_stamp(smcf, ctx->digest_bin, ctx->workspace_num,
                                 &ctx->stamp);
        ctx->snapped = 1;

        if (!ngx_smartlyq_notify_trusted(smcf)) {
            ngx_smartlyq_cache_bypass(r, ctx);
            return NGX_DECLINED;
        }
    }

    rc = ngx_smartlyq_cache_get(r, ctx, stale, &a);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_smartlyq_lookup_apply(r, ctx, &a);
}


/* Redis's answer for the request, kept in the cache */
static void
ngx_smartlyq_store(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    const sq_authz_t *a)
{
    ngx_smartlyq_cache_put(r, ctx, a);
}


/*
 * ctx->digest of ctx->key: the connection's memo when the key is the
 * one it holds (compared in constant time), else computed and memoized.
 */
static void
ngx_smartlyq_key_digest(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    ngx_pool_t                *pool;
    ngx_pool_cleanup_t        *cln;
    ngx_smartlyq_memo_t       *memo;
    ngx_smartlyq_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module);
    pool = r->connection->pool;
    memo = NULL;

    for (cln = pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_smartlyq_memo_cleanup) {
            memo = cln->data;
            break;
        }
    }

    if (memo != NULL && memo->smcf == smcf && memo->key_len == ctx->key_len
        && ngx_smartlyq_same_key(memo->key, (const u_char *) ctx->key,
                                 ctx->key_len))
    {
        ngx_memcpy(ctx->digest_bin, memo->digest_bin, SQ_DIGEST_BYTES);
        ngx_memcpy(ctx->digest, memo->digest, SQ_DIGEST_HEX_LEN + 1);

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "smartlyq: key digest from the connection");
        return;
    }

    sq_key_digest(smcf->pepper, ctx->key, ctx->key_len, ctx->digest_bin,
                  ctx->digest);

    if (ctx->key_len > SQ_KEY_MAX_LEN) {
        return;     /* the bearer parser allows none: not memoized */
    }

    if (memo == NULL) {
        cln = ngx_pool_cleanup_add(pool, sizeof(ngx_smartlyq_memo_t));
        if (cln == NULL) {
            return;     /* no memo: the next request digests again */
        }

        memo = cln->data;
        memo->key_len = 0;
        cln->handler = ngx_smartlyq_memo_cleanup;
    }

    memo->smcf = smcf;
    memo->key_len = ctx->key_len;
    ngx_memcpy(memo->key, ctx->key, ctx->key_len);
    ngx_memcpy(memo->digest_bin, ctx->digest_bin, SQ_DIGEST_BYTES);
    ngx_memcpy(memo->digest, ctx->digest, SQ_DIGEST_HEX_LEN + 1);
}


/* the connection closes: no key stays in freed memory */
static void
ngx_smartlyq_memo_cleanup(void *data)
{
    sodium_memzero(data, sizeof(ngx_smartlyq_memo_t));
}


/*
 * 1 when the two keys are equal, in time that depends on len only (as
 * timingsafe_bcmp): every byte is read, no branch on the bytes.
 * sodium_memcmp() does the same through volatile reads, one at a time.
 */
static ngx_uint_t
ngx_smartlyq_same_key(const u_char *a, const u_char *b, size_t len)
{
    size_t  i;
    u_char  d;

    d = 0;

    for (i = 0; i < len; i++) {
        d |= a[i] ^ b[i];
    }

    return d == 0;
}
