/*
 * ngx_smartlyq_lookup: the one Redis round trip that decides a request.
 *
 * FCALL_RO sq_authz (redis/smartlyq.lua) checks the key record and the
 * membership together.  The request waits (NGX_AGAIN) until the reply,
 * the timeout or the link's death, whichever is first; the others then
 * find the pending record detached and do nothing to the request.
 *
 * The same decision costs Redis about half as much without the Lua call
 * (callgrind, /work/notes-perf3.md: 57k instructions per FCALL_RO
 * sq_authz, 27k for its two commands in MULTI/EXEC), so when the edge
 * can, it sends sq_authz's own commands and decides as sq_authz does
 * (sq_authz_decide): for a request with a workspace, MULTI HMGET
 * SISMEMBER EXEC, atomic as the function is.  SISMEMBER needs the
 * key's user id before the record is read: it comes from this worker's
 * memory of the last answer for that key digest (a key's user never
 * changes; the reply's record is checked to be that user's, or the
 * lookup is asked again with FCALL_RO).  A digest not in that memory
 * goes to FCALL_RO sq_authz, whose answer fills it.
 */

#include <hiredis/hiredis.h>

#include "ngx_smartlyq_lookup.h"
#include "ngx_smartlyq_metrics.h"
#include "ngx_smartlyq_redis.h"
#include "sq_keys.h"


/* the command's fixed part: 7 arguments, of which the first three */
#define NGX_SMARTLYQ_AUTHZ_HEAD                                               \
    "*7\r\n$8\r\nFCALL_RO\r\n$8\r\nsq_authz\r\n$1\r\n2\r\n"

#define NGX_SMARTLYQ_MULTI      "*1\r\n$5\r\nMULTI\r\n"
#define NGX_SMARTLYQ_EXEC       "*1\r\n$4\r\nEXEC\r\n"
#define NGX_SMARTLYQ_SISMEMBER  "*3\r\n$9\r\nSISMEMBER\r\n"

/* the user ids remembered per key digest: a power of two */
#define NGX_SMARTLYQ_UIDS       8192


typedef enum {
    NGX_SMARTLYQ_ASK_FCALL = 0,     /* FCALL_RO sq_authz */
    NGX_SMARTLYQ_ASK_MULTI          /* MULTI HMGET SISMEMBER EXEC */
} ngx_smartlyq_ask_e;


/* a key digest's user id, as the last answer for it gave it */
typedef struct {
    u_char                     digest[SQ_DIGEST_BYTES];
    u_char                     len;         /* 0: empty slot */
    u_char                     uid[SQ_AUTHZ_ID_MAX];
} ngx_smartlyq_uid_t;


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
    ngx_smartlyq_ask_e         ask;
    time_t                     now;         /* sq_authz's ARGV[1] */
    size_t                     uid_len;     /* ASK_MULTI: SISMEMBER's */
    u_char                     uid[SQ_AUTHZ_ID_MAX];
};


static u_char *ngx_smartlyq_decimal(u_char *p, uint64_t n);
static u_char *ngx_smartlyq_bulk_head(u_char *p, size_t len);
static u_char *ngx_smartlyq_bulk_time(u_char *p, time_t t);
static void ngx_smartlyq_lookup_reply(void *reply, void *data);
static void ngx_smartlyq_lookup_cleanup(void *data);
static void ngx_smartlyq_lookup_timeout(ngx_event_t *ev);
static void ngx_smartlyq_wake(ngx_http_request_t *r);
static ngx_int_t ngx_smartlyq_parse_reply(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, redisReply *reply,
    ngx_smartlyq_pending_t *p);
static ngx_int_t ngx_smartlyq_lookup_send(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, ngx_smartlyq_answer_pt answered,
    ngx_uint_t plain);
static u_char *ngx_smartlyq_cmd_fcall(u_char *last, ngx_smartlyq_ctx_t *ctx,
    time_t now);
static u_char *ngx_smartlyq_cmd_hmget(u_char *last, ngx_smartlyq_ctx_t *ctx);
static u_char *ngx_smartlyq_cmd_members(u_char *last,
    ngx_smartlyq_ctx_t *ctx);
static ngx_smartlyq_uid_t *ngx_smartlyq_uid_slot(ngx_smartlyq_ctx_t *ctx,
    ngx_log_t *log);
static void ngx_smartlyq_uid_keep(ngx_smartlyq_ctx_t *ctx,
    const sq_authz_t *a, ngx_log_t *log);
static void ngx_smartlyq_uid_forget(ngx_smartlyq_ctx_t *ctx, ngx_log_t *log);


/* this worker's spare pending records */
static ngx_smartlyq_pending_t  *ngx_smartlyq_pending_free;

/* this worker's user ids per key digest (allocated on first use) */
static ngx_smartlyq_uid_t      *ngx_smartlyq_uids;

/* HMGET's field names in RESP, written once */
static u_char                   ngx_smartlyq_hmget_fields[256];
static size_t                   ngx_smartlyq_hmget_fields_len;


/*
 * Sends the request's lookup: NGX_OK, the request waits; NGX_DECLINED,
 * no usable link; NGX_ERROR.  answered is called with Redis's answer
 * before the request is woken.
 */
ngx_int_t
ngx_smartlyq_lookup_start(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    ngx_smartlyq_answer_pt answered)
{
    return ngx_smartlyq_lookup_send(r, ctx, answered, 1);
}


/* as ngx_smartlyq_lookup_start; plain 0: FCALL_RO sq_authz only */
static ngx_int_t
ngx_smartlyq_lookup_send(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    ngx_smartlyq_answer_pt answered, ngx_uint_t plain)
{
    u_char                    *cmd, *last, *cut[3];
    size_t                     size, members;
    time_t                     now;
    ngx_int_t                  rc;
    ngx_uint_t                 i;
    ngx_pool_cleanup_t        *cln;
    ngx_smartlyq_uid_t        *slot;
    ngx_smartlyq_ask_e         ask;
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

    ask = NGX_SMARTLYQ_ASK_FCALL;
    slot = NULL;

    /*
     * Without a workspace, sq_authz is one HMGET that the edge could send
     * as well; it does not, so that a request without the library loaded
     * (or with Redis refusing it) fails as before: t/000 and t/040.
     */
    if (plain && members) {
        slot = ngx_smartlyq_uid_slot(ctx, r->connection->log);

        if (slot != NULL && slot->len
            && ngx_memcmp(slot->digest, ctx->digest_bin, SQ_DIGEST_BYTES)
               == 0)
        {
            ask = NGX_SMARTLYQ_ASK_MULTI;
        }
    }

    /*
     * The commands in RESP, written here so that hiredis copies them as
     * they are: FCALL_RO sq_authz 2 <key> <members or ""> <now>
     * <workspace>; or MULTI, HMGET <key> <fields>, SISMEMBER <members>
     * <uid>, EXEC.
     */
    size = sizeof(NGX_SMARTLYQ_AUTHZ_HEAD) - 1
           + 4 * (sizeof("$\r\n\r\n") - 1 + NGX_SIZE_T_LEN)
           + sizeof(SQ_K_KEY_PREFIX) - 1 + SQ_DIGEST_HEX_LEN
           + members + NGX_TIME_T_LEN + ctx->workspace_id.len
           + sizeof(NGX_SMARTLYQ_MULTI "*13\r\n$5\r\nHMGET\r\n"
                    NGX_SMARTLYQ_SISMEMBER NGX_SMARTLYQ_EXEC)
           + ngx_smartlyq_hmget_fields_len + SQ_AUTHZ_ID_MAX;

    cmd = ngx_pnalloc(r->pool, size);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    now = ngx_time();
    last = cmd;

    switch (ask) {

    case NGX_SMARTLYQ_ASK_FCALL:
        last = ngx_smartlyq_cmd_fcall(last, ctx, now);
        break;

    default: /* NGX_SMARTLYQ_ASK_MULTI */
        last = ngx_cpymem(last, NGX_SMARTLYQ_MULTI,
                          sizeof(NGX_SMARTLYQ_MULTI) - 1);
        cut[0] = last;
        last = ngx_smartlyq_cmd_hmget(last, ctx);
        cut[1] = last;
        last = ngx_cpymem(last, NGX_SMARTLYQ_SISMEMBER,
                          sizeof(NGX_SMARTLYQ_SISMEMBER) - 1);
        last = ngx_smartlyq_cmd_members(last, ctx);
        last = ngx_smartlyq_bulk_head(last, slot->len);
        last = ngx_cpymem(last, slot->uid, slot->len);
        last = ngx_cpymem(last, CRLF, 2);
        cut[2] = last;
        last = ngx_cpymem(last, NGX_SMARTLYQ_EXEC,
                          sizeof(NGX_SMARTLYQ_EXEC) - 1);
        break;
    }

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
    p->ask = ask;
    p->now = now;

    if (ask == NGX_SMARTLYQ_ASK_MULTI) {
        p->uid_len = slot->len;
        ngx_memcpy(p->uid, slot->uid, slot->len);

        /*
         * MULTI, HMGET and SISMEMBER answer +OK, +QUEUED, +QUEUED, which
         * nobody reads; EXEC's reply comes to the lookup.  Should a part
         * not be queued, the link drops: no transaction is left open.
         */
        rc = ngx_smartlyq_link_send_quiet(smcf->link, (const char *) cmd,
                                          cut[0] - cmd);

        for (i = 0; rc == NGX_OK && i < 2; i++) {
            rc = ngx_smartlyq_link_send_quiet(smcf->link,
                                              (const char *) cut[i],
                                              cut[i + 1] - cut[i]);
        }

        if (rc == NGX_OK) {
            rc = ngx_smartlyq_link_send_resp(smcf->link,
                                             (const char *) cut[2],
                                             last - cut[2],
                                             ngx_smartlyq_lookup_reply, p);
        }

        if (rc != NGX_OK) {
            ngx_smartlyq_link_drop(smcf->link, "MULTI not queued");
        }

    } else {
        rc = ngx_smartlyq_link_send_resp(smcf->link, (const char *) cmd,
                                         last - cmd,
                                         ngx_smartlyq_lookup_reply, p);
    }

    if (rc != NGX_OK) {
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

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "smartlyq: redis lookup sent (%ui), timeout %M",
                   (ngx_uint_t) ask, slcf->timeout);

    return NGX_OK;
}


/* FCALL_RO sq_authz 2 <key> <members or ""> <now> <workspace> */
static u_char *
ngx_smartlyq_cmd_fcall(u_char *last, ngx_smartlyq_ctx_t *ctx, time_t now)
{
    last = ngx_cpymem(last, NGX_SMARTLYQ_AUTHZ_HEAD,
                      sizeof(NGX_SMARTLYQ_AUTHZ_HEAD) - 1);

    last = ngx_smartlyq_bulk_head(last, sizeof(SQ_K_KEY_PREFIX) - 1
                                        + SQ_DIGEST_HEX_LEN);
    last = ngx_cpymem(last, SQ_K_KEY_PREFIX, sizeof(SQ_K_KEY_PREFIX) - 1);
    last = ngx_cpymem(last, ctx->digest, SQ_DIGEST_HEX_LEN);
    last = ngx_cpymem(last, CRLF, 2);

    if (ctx->workspace_id.len) {
        last = ngx_smartlyq_cmd_members(last, ctx);

    } else {
        last = ngx_smartlyq_bulk_head(last, 0);
        last = ngx_cpymem(last, CRLF, 2);
    }

    last = ngx_smartlyq_bulk_time(last, now);

    /* no workspace: an empty bulk string (and no memcpy from NULL) */
    last = ngx_smartlyq_bulk_head(last, ctx->workspace_id.len);
    if (ctx->workspace_id.len) {
        last = ngx_cpymem(last, ctx->workspace_id.data,
                          ctx->workspace_id.len);
    }

    return ngx_cpymem(last, CRLF, 2);
}


/* HMGET <key> <sq_authz's fields> */
static u_char *
ngx_smartlyq_cmd_hmget(u_char *last, ngx_smartlyq_ctx_t *ctx)
{
    last = ngx_cpymem(last, "*13\r\n$5\r\nHMGET\r\n",
                      sizeof("*13\r\n$5\r\nHMGET\r\n") - 1);

    last = ngx_smartlyq_bulk_head(last, sizeof(SQ_K_KEY_PREFIX) - 1
                                        + SQ_DIGEST_HEX_LEN);
    last = ngx_cpymem(last, SQ_K_KEY_PREFIX, sizeof(SQ_K_KEY_PREFIX) - 1);
    last = ngx_cpymem(last, ctx->digest, SQ_DIGEST_HEX_LEN);
    last = ngx_cpymem(last, CRLF, 2);

    return ngx_cpymem(last, ngx_smartlyq_hmget_fields,
                      ngx_smartlyq_hmget_fields_len);
}


/* the workspace's members key, as a bulk string */
static u_char *
ngx_smartlyq_cmd_members(u_char *last, ngx_smartlyq_ctx_t *ctx)
{
    last = ngx_smartlyq_bulk_head(last,
                                  sizeof(SQ_K_WS_PREFIX SQ_K_MEMBERS_SUFFIX)
                                  - 1 + ctx->workspace_id.len);
    last = ngx_cpymem(last, SQ_K_WS_PREFIX, sizeof(SQ_K_WS_PREFIX) - 1);
    last = ngx_cpymem(last, ctx->workspace_id.data, ctx->workspace_id.len);
    last = ngx_cpymem(last, SQ_K_MEMBERS_SUFFIX,
                      sizeof(SQ_K_MEMBERS_SUFFIX) - 1);

    return ngx_cpymem(last, CRLF, 2);
}


/*
 * The slot of ctx's key digest in this worker's user ids (the digest is
 * a keyed BLAKE2b: its first bytes spread evenly); NULL if the table
 * could not be allocated, and then no plain command is sent.
 */
static ngx_smartlyq_uid_t *
ngx_smartlyq_uid_slot(ngx_smartlyq_ctx_t *ctx, ngx_log_t *log)
{
    u_char      *p;
    size_t       i;
    ngx_uint_t   h;
    static const char  *fields[] = { SQ_AUTHZ_HMGET_FIELDS };

    if (ngx_smartlyq_uids == NULL) {
        ngx_smartlyq_uids = ngx_calloc(NGX_SMARTLYQ_UIDS
                                       * sizeof(ngx_smartlyq_uid_t), log);
        if (ngx_smartlyq_uids == NULL) {
            return NULL;
        }

        p = ngx_smartlyq_hmget_fields;

        for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            p = ngx_smartlyq_bulk_head(p, ngx_strlen(fields[i]));
            p = ngx_cpymem(p, fields[i], ngx_strlen(fields[i]));
            p = ngx_cpymem(p, CRLF, 2);
        }

        ngx_smartlyq_hmget_fields_len = p - ngx_smartlyq_hmget_fields;
    }

    h = ((ngx_uint_t) ctx->digest_bin[0] << 8) | ctx->digest_bin[1];

    return &ngx_smartlyq_uids[h & (NGX_SMARTLYQ_UIDS - 1)];
}


/* remembers the user id of an answer about a key */
static void
ngx_smartlyq_uid_keep(ngx_smartlyq_ctx_t *ctx, const sq_authz_t *a,
    ngx_log_t *log)
{
    ngx_smartlyq_uid_t  *slot;

    if (a->code < SQ_AUTHZ_OK || a->code == SQ_AUTHZ_UNKNOWN
        || a->user_id_len == 0 || a->user_id_len > SQ_AUTHZ_ID_MAX)
    {
        return;
    }

    slot = ngx_smartlyq_uid_slot(ctx, log);
    if (slot == NULL) {
        return;
    }

    ngx_memcpy(slot->digest, ctx->digest_bin, SQ_DIGEST_BYTES);
    ngx_memcpy(slot->uid, a->user_id, a->user_id_len);
    slot->len = (u_char) a->user_id_len;
}


static void
ngx_smartlyq_uid_forget(ngx_smartlyq_ctx_t *ctx, ngx_log_t *log)
{
    ngx_smartlyq_uid_t  *slot;

    slot = ngx_smartlyq_uid_slot(ctx, log);
    if (slot != NULL) {
        slot->len = 0;
    }
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

    ngx_int_t                rc;
    ngx_http_request_t      *r;
    ngx_smartlyq_ctx_t      *ctx;
    ngx_smartlyq_pending_t   asked;

    if (p->timer.timer_set) {
        ngx_del_timer(&p->timer);
    }

    r = p->r;
    ctx = p->ctx;
    asked = *p;

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
        rc = ngx_smartlyq_parse_reply(r, ctx, reply, &asked);

        if (rc == NGX_AGAIN) {
            return;     /* asked again, with FCALL_RO sq_authz */
        }
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


/*
 * The answer in a reply to the commands p asked: sq_authz's, or its own
 * decision over EXEC's replies.  NGX_AGAIN: the
 * record was another user's than remembered, and the lookup went out
 * again as FCALL_RO sq_authz.
 */
static ngx_int_t
ngx_smartlyq_reply_answer(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    redisReply *reply, ngx_smartlyq_pending_t *p, sq_authz_t *a)
{
    redisReply  *exec;

    switch (p->ask) {

    case NGX_SMARTLYQ_ASK_FCALL:
        sq_authz_parse(reply, a);
        ngx_smartlyq_uid_keep(ctx, a, r->connection->log);
        return NGX_OK;

    default: /* NGX_SMARTLYQ_ASK_MULTI */
        break;
    }

    exec = reply;

    if (exec->type == REDIS_REPLY_ERROR) {
        /* EXECABORT: one of the commands was refused */
        (void) sq_authz_decide(exec, NULL, 0, "", 0, "", 0, a);
        return NGX_OK;
    }

    if (exec->type != REDIS_REPLY_ARRAY || exec->elements != 2
        || exec->element == NULL)
    {
        ngx_memzero(a, sizeof(sq_authz_t));
        a->code = SQ_AUTHZ_INVALID;
        return NGX_OK;
    }

    if (sq_authz_decide(exec->element[0], exec->element[1],
                        (int64_t) p->now, (const char *) ctx->workspace_id.data,
                        ctx->workspace_id.len, (const char *) p->uid,
                        p->uid_len, a)
        == 0)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "smartlyq: key record of another user than remembered, "
                  "asking sq_authz");

    ngx_smartlyq_uid_forget(ctx, r->connection->log);

    if (ngx_smartlyq_lookup_send(r, ctx, p->answered, 0) == NGX_OK) {
        return NGX_AGAIN;
    }

    ngx_memzero(a, sizeof(sq_authz_t));
    a->code = SQ_AUTHZ_INVALID;

    return NGX_OK;
}


/* Redis's reply: checked, applied, and handed to p->answered */
static ngx_int_t
ngx_smartlyq_parse_reply(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    redisReply *reply, ngx_smartlyq_pending_t *p)
{
    size_t       i, len;
    sq_authz_t   a;
    redisReply  *err;

    if (ngx_smartlyq_reply_answer(r, ctx, reply, p, &a) == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    switch (a.code) {

    case SQ_AUTHZ_REDIS_ERROR:
        /* the error: the reply, or one of EXEC's */
        err = reply;

        for (i = 0; reply->type == REDIS_REPLY_ARRAY && reply->element
                    && i < reply->elements; i++)
        {
            if (reply->element[i]->type == REDIS_REPLY_ERROR) {
                err = reply->element[i];
                break;
            }
        }

        len = err->type == REDIS_REPLY_ERROR ? ngx_min(err->len, 200) : 0;
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "smartlyq: redis error: \"%*s\"", len, err->str);
        ctx->result = NGX_SMARTLYQ_UNAVAILABLE;
        return NGX_OK;

    case SQ_AUTHZ_INVALID:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "smartlyq: unexpected reply from sq_authz, "
                      "is redis/smartlyq.lua loaded?");
        ctx->result = NGX_SMARTLYQ_UNAVAILABLE;
        return NGX_OK;

    default:
        break;
    }

    if (ngx_smartlyq_lookup_apply(r, ctx, &a) != NGX_OK) {
        ctx->result = NGX_SMARTLYQ_UNAVAILABLE;
        return NGX_OK;
    }

    if (p->answered) {
        p->answered(r, ctx, &a);
    }

    return NGX_OK;
}
