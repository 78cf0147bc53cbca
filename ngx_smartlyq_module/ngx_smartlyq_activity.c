/*
 * ngx_smartlyq_activity: what each key did, for the operator (issue 16;
 * the layout is redis/SCHEMA.md's "Key activity").
 *
 * In the log phase, every request whose check named a key id (allowed
 * or refused) is counted in this worker's table under its tuple
 * (second, key id, client IP, method, route, workspace, status sent,
 * refusal code); a request that presented a key no record matches is
 * counted under (day, IP) alone.  Nothing is written per request: a
 * timer flushes the table once a second on the worker's write link, in
 * MULTI/EXEC transactions of at most NGX_SMARTLYQ_ACT_TXN records, as
 * ngx_smartlyq_usage.c does and for the same reason (one fsync each):
 *   XADD    sq:act:<id> MAXLEN ~ <max> * t <t> ip .. m .. r .. ws ..
 *                                          s .. c .. n <n>
 *   XTRIM   sq:act:<id> MINID ~ <(now - days) * 1000>
 *   EXPIRE  sq:act:<id> <days * 86400>
 *   HINCRBY sq:act:unknown:<yyyymmdd> <ip> <n>
 *   EXPIRE  sq:act:unknown:<yyyymmdd> <days * 86400>
 * Entry ids are Redis's (the flush's time; two workers' flushes are not
 * ordered by the requests' second): t is the requests' second.
 * No key material is recorded: a key is its id, an unknown key nothing.
 * What waits while the link is down stays in the table; a table full
 * even after a flush drops what does not fit (counted, and logged at
 * the next flush): activity is an audit aid, not a ledger.
 */

#include <hiredis/hiredis.h>

#include "ngx_smartlyq_activity.h"
#include "ngx_smartlyq_redis.h"
#include "ngx_smartlyq_util.h"
#include "sq_keys.h"


#define NGX_SMARTLYQ_ACT_SLOTS      4096    /* a power of two */
#define NGX_SMARTLYQ_ACT_FLUSH      1000    /* ms */
#define NGX_SMARTLYQ_ACT_TXN        256     /* records per MULTI/EXEC */
#define NGX_SMARTLYQ_ACT_ROUTE_LEN  128
#define NGX_SMARTLYQ_ACT_METHOD_LEN 16
#define NGX_SMARTLYQ_ACT_WS_LEN     SQ_AUTHZ_ID_MAX
#define NGX_SMARTLYQ_ACT_DAYS_MAX   3650
#define NGX_SMARTLYQ_ACT_MAX_MAX    10000000


typedef struct {
    uint32_t                   n;          /* 0: a free slot */
    uint32_t                   hash;
    uint64_t                   key_id;     /* 0: an unknown key, by IP */
    time_t                     t;          /* unknown: the day's start */
    ngx_uint_t                 status;
    ngx_uint_t                 max;
    ngx_uint_t                 days;
    ngx_str_t                 *code;       /* NULL: allowed */
    u_char                     ip_len;
    u_char                     method_len;
    u_char                     route_len;
    u_char                     ws_len;
    u_char                     ip[NGX_SOCKADDR_STRLEN];
    u_char                     method[NGX_SMARTLYQ_ACT_METHOD_LEN];
    u_char                     route[NGX_SMARTLYQ_ACT_ROUTE_LEN];
    u_char                     ws[NGX_SMARTLYQ_ACT_WS_LEN];
} ngx_smartlyq_act_slot_t;


typedef struct {
    ngx_smartlyq_act_slot_t   *slots;
    ngx_uint_t                 used;
    ngx_uint_t                 dropped;    /* since the last flush */
    ngx_event_t                timer;
    ngx_log_t                 *log;
    ngx_smartlyq_main_conf_t  *smcf;
} ngx_smartlyq_act_t;


static ngx_int_t ngx_smartlyq_activity_log(ngx_http_request_t *r);
static void ngx_smartlyq_activity_add(ngx_smartlyq_act_t *a,
    ngx_smartlyq_act_slot_t *rec);
static ngx_uint_t ngx_smartlyq_activity_same(ngx_smartlyq_act_slot_t *s,
    ngx_smartlyq_act_slot_t *rec);
static void ngx_smartlyq_activity_flush(ngx_smartlyq_act_t *a);
static ngx_int_t ngx_smartlyq_activity_send(ngx_smartlyq_link_t *link,
    ngx_smartlyq_act_slot_t *s);
static ngx_int_t ngx_smartlyq_activity_unknown(ngx_smartlyq_link_t *link,
    ngx_smartlyq_act_slot_t *s);
static ngx_int_t ngx_smartlyq_activity_expire(ngx_smartlyq_link_t *link,
    const char *key, size_t key_len, ngx_uint_t days);
static void ngx_smartlyq_activity_exec(ngx_smartlyq_act_t *a,
    ngx_smartlyq_link_t *link);
static void ngx_smartlyq_activity_exec_done(void *reply, void *data);
static void ngx_smartlyq_activity_timer(ngx_event_t *ev);


/* smartlyq_activity on | off [max=N] [days=D]; */
char *
ngx_smartlyq_activity_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_smartlyq_loc_conf_t  *slcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (slcf->activity != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "on") == 0) {
        slcf->activity = 1;

    } else if (ngx_strcmp(value[1].data, "off") == 0) {
        slcf->activity = 0;

    } else {
        return "must be \"on\" or \"off\"";
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "max=", 4) == 0
            && slcf->activity_max == NGX_CONF_UNSET_UINT)
        {
            n = ngx_atoi(value[i].data + 4, value[i].len - 4);

            if (n < 1 || n > NGX_SMARTLYQ_ACT_MAX_MAX) {
                goto invalid;
            }

            slcf->activity_max = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "days=", 5) == 0
            && slcf->activity_days == NGX_CONF_UNSET_UINT)
        {
            n = ngx_atoi(value[i].data + 5, value[i].len - 5);

            if (n < 1 || n > NGX_SMARTLYQ_ACT_DAYS_MAX) {
                goto invalid;
            }

            slcf->activity_days = (ngx_uint_t) n;
            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" (max=1..%d, days=1..%d, "
                       "each once)", &value[i], NGX_SMARTLYQ_ACT_MAX_MAX,
                       NGX_SMARTLYQ_ACT_DAYS_MAX);

    return NGX_CONF_ERROR;
}


/* the log-phase handler: the status sent is known there */
ngx_int_t
ngx_smartlyq_activity_postconf(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_smartlyq_activity_log;

    return NGX_OK;
}


ngx_int_t
ngx_smartlyq_activity_init(ngx_cycle_t *cycle,
    ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_act_t  *a;

    a = ngx_pcalloc(cycle->pool, sizeof(ngx_smartlyq_act_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    a->slots = ngx_pcalloc(cycle->pool, NGX_SMARTLYQ_ACT_SLOTS
                                        * sizeof(ngx_smartlyq_act_slot_t));
    if (a->slots == NULL) {
        return NGX_ERROR;
    }

    a->smcf = smcf;
    a->log = cycle->log;
    a->timer.handler = ngx_smartlyq_activity_timer;
    a->timer.data = a;
    a->timer.log = cycle->log;
    a->timer.cancelable = 1;

    smcf->activity = a;

    ngx_add_timer(&a->timer, NGX_SMARTLYQ_ACT_FLUSH);

    return NGX_OK;
}


void
ngx_smartlyq_activity_exit(ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_act_t  *a = smcf->activity;

    if (a && a->timer.timer_set) {
        ngx_del_timer(&a->timer);
    }

    smcf->activity = NULL;
}


/*
 * One request: known key -> its tuple; a key no record matched -> its
 * IP; anything else (no key, refused before a lookup) -> nothing.
 */
static ngx_int_t
ngx_smartlyq_activity_log(ngx_http_request_t *r)
{
    ngx_int_t                  id;
    ngx_smartlyq_ctx_t        *ctx;
    ngx_smartlyq_act_t        *a;
    ngx_smartlyq_act_slot_t    rec;
    ngx_smartlyq_loc_conf_t   *slcf;
    ngx_smartlyq_main_conf_t  *smcf;
    ngx_http_core_loc_conf_t  *clcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module);
    a = smcf->activity;

    if (a == NULL) {
        return NGX_OK;
    }

    ctx = ngx_smartlyq_get_ctx(r);

    if (ctx == NULL || ctx->act_loc_conf == NULL
        || ctx->state != NGX_SMARTLYQ_STATE_DONE)
    {
        return NGX_OK;
    }

    slcf = ctx->act_loc_conf[ngx_http_smartlyq_module.ctx_index];

    if (!slcf->activity) {
        return NGX_OK;
    }

    ngx_memzero(&rec, sizeof(ngx_smartlyq_act_slot_t));

    rec.max = slcf->activity_max;
    rec.days = slcf->activity_days;
    rec.ip_len = (u_char) ngx_min(r->connection->addr_text.len,
                                  sizeof(rec.ip));
    ngx_memcpy(rec.ip, r->connection->addr_text.data, rec.ip_len);

    if (ctx->key_id.len == 0) {

        switch (ctx->result) {
        case NGX_SMARTLYQ_UNKNOWN_KEY:
        case NGX_SMARTLYQ_MALFORMED_KEY:
        case NGX_SMARTLYQ_KEY_IN_URL:
            break;
        default:
            return NGX_OK;
        }

        rec.t = ngx_time() - ngx_time() % 86400;
        ngx_smartlyq_activity_add(a, &rec);

        return NGX_OK;
    }

    id = ngx_atoi(ctx->key_id.data, ctx->key_id.len);
    if (id <= 0) {
        return NGX_OK;
    }

    clcf = ctx->act_loc_conf[ngx_http_core_module.ctx_index];

    rec.key_id = (uint64_t) id;
    rec.t = ngx_time();
    rec.code = (ctx->result == NGX_SMARTLYQ_ALLOW)
               ? NULL : ngx_smartlyq_decision_name(ctx->result);

    /* as the access log's $status */
    rec.status = r->err_status ? r->err_status : r->headers_out.status;

    rec.method_len = (u_char) ngx_min(r->method_name.len,
                                      sizeof(rec.method));
    ngx_memcpy(rec.method, r->method_name.data, rec.method_len);

    rec.route_len = (u_char) ngx_min(clcf->name.len, sizeof(rec.route));
    ngx_memcpy(rec.route, clcf->name.data, rec.route_len);

    rec.ws_len = (u_char) ngx_min(ctx->workspace_id.len, sizeof(rec.ws));
    ngx_memcpy(rec.ws, ctx->workspace_id.data, rec.ws_len);

    ngx_smartlyq_activity_add(a, &rec);

    return NGX_OK;
}


/* rec into the table: its tuple's count + 1, or a new slot */
static void
ngx_smartlyq_activity_add(ngx_smartlyq_act_t *a, ngx_smartlyq_act_slot_t *rec)
{
    uint32_t                  hash;
    ngx_uint_t                i, probe;
    ngx_smartlyq_act_slot_t  *s;

    ngx_crc32_init(hash);
    ngx_crc32_update(&hash, (u_char *) &rec->key_id, sizeof(rec->key_id));
    ngx_crc32_update(&hash, (u_char *) &rec->t, sizeof(rec->t));
    ngx_crc32_update(&hash, (u_char *) &rec->status, sizeof(rec->status));
    ngx_crc32_update(&hash, rec->ip, rec->ip_len);
    ngx_crc32_update(&hash, rec->method, rec->method_len);
    ngx_crc32_update(&hash, rec->route, rec->route_len);
    ngx_crc32_update(&hash, rec->ws, rec->ws_len);
    ngx_crc32_final(hash);

    rec->hash = hash;
    rec->n = 1;

    if (a->used >= NGX_SMARTLYQ_ACT_SLOTS / 4 * 3) {
        ngx_smartlyq_activity_flush(a);     /* make room now */
    }

    i = hash;

    for (probe = 0; probe < NGX_SMARTLYQ_ACT_SLOTS; probe++) {
        s = &a->slots[(i + probe) & (NGX_SMARTLYQ_ACT_SLOTS - 1)];

        if (s->n == 0) {
            if (a->used >= NGX_SMARTLYQ_ACT_SLOTS / 4 * 3) {
                break;      /* full even after a flush (link down) */
            }

            *s = *rec;
            a->used++;
            return;
        }

        if (s->hash == hash && ngx_smartlyq_activity_same(s, rec)) {
            if (s->n < UINT32_MAX) {
                s->n++;
            }

            return;
        }
    }

    a->dropped++;
}


static ngx_uint_t
ngx_smartlyq_activity_same(ngx_smartlyq_act_slot_t *s,
    ngx_smartlyq_act_slot_t *rec)
{
    return s->key_id == rec->key_id && s->t == rec->t
           && s->status == rec->status && s->code == rec->code
           && s->max == rec->max && s->days == rec->days
           && s->ip_len == rec->ip_len && s->method_len == rec->method_len
           && s->route_len == rec->route_len && s->ws_len == rec->ws_len
           && ngx_memcmp(s->ip, rec->ip, s->ip_len) == 0
           && ngx_memcmp(s->method, rec->method, s->method_len) == 0
           && ngx_memcmp(s->route, rec->route, s->route_len) == 0
           && ngx_memcmp(s->ws, rec->ws, s->ws_len) == 0;
}


/* MULTI or EXEC on the write link; EXEC's reply checked */
static ngx_int_t
ngx_smartlyq_activity_txn(ngx_smartlyq_link_t *link, const char *cmd,
    ngx_smartlyq_act_t *a)
{
    size_t       len;
    const char  *argv[1];

    argv[0] = cmd;
    len = ngx_strlen(cmd);

    return ngx_smartlyq_link_send(link, 1, argv, &len,
                                  a ? ngx_smartlyq_activity_exec_done : NULL,
                                  a);
}


static void
ngx_smartlyq_activity_exec(ngx_smartlyq_act_t *a, ngx_smartlyq_link_t *link)
{
    (void) ngx_smartlyq_activity_txn(link, "EXEC", a);
}


/*
 * The table to Redis.  A slot is freed once its commands are queued on
 * the link; the rest waits for the next flush.  Rebuilding the table is
 * not needed: a slot is found by probing from its hash, and a freed slot
 * in a probe chain only makes a later equal tuple a second entry.
 */
static void
ngx_smartlyq_activity_flush(ngx_smartlyq_act_t *a)
{
    ngx_int_t                 rc;
    ngx_uint_t                i, n;
    ngx_smartlyq_link_t      *link;
    ngx_smartlyq_act_slot_t  *s;

    if (a->dropped) {
        ngx_log_error(NGX_LOG_WARN, a->log, 0,
                      "smartlyq: activity table full, %ui records "
                      "dropped", a->dropped);
        a->dropped = 0;
    }

    link = a->smcf->write_link;

    if (a->used == 0 || ngx_smartlyq_link_ready(link) != NGX_OK) {
        return;     /* kept for the next flush */
    }

    n = 0;

    for (i = 0; i < NGX_SMARTLYQ_ACT_SLOTS; i++) {
        s = &a->slots[i];

        if (s->n == 0) {
            continue;
        }

        if (n == 0 && ngx_smartlyq_activity_txn(link, "MULTI", NULL)
                      != NGX_OK)
        {
            return;
        }

        rc = s->key_id ? ngx_smartlyq_activity_send(link, s)
                       : ngx_smartlyq_activity_unknown(link, s);

        if (rc != NGX_OK) {
            /* what is queued is applied; a dead link has lost it */
            ngx_smartlyq_activity_exec(a, link);
            return;
        }

        ngx_memzero(s, sizeof(ngx_smartlyq_act_slot_t));
        a->used--;

        if (++n == NGX_SMARTLYQ_ACT_TXN) {
            ngx_smartlyq_activity_exec(a, link);
            n = 0;
        }
    }

    if (n) {
        ngx_smartlyq_activity_exec(a, link);
    }
}


/* one tuple: XADD, XTRIM, EXPIRE on sq:act:<id> */
static ngx_int_t
ngx_smartlyq_activity_send(ngx_smartlyq_link_t *link,
    ngx_smartlyq_act_slot_t *s)
{
    char         key[sizeof("sq:act:") + NGX_INT64_LEN];
    u_char       max[NGX_INT_T_LEN], t[NGX_TIME_T_LEN], st[NGX_INT_T_LEN];
    u_char       n[NGX_INT_T_LEN], minid[NGX_TIME_T_LEN + 4];
    size_t       len[23], key_len;
    ngx_int_t    rc;
    const char  *argv[23];
    time_t       oldest;

    key_len = snprintf(key, sizeof(key), SQ_K_ACT,
                       (unsigned long long) s->key_id);

#define ngx_smartlyq_arg(i, p, l)                                             \
    argv[i] = (const char *) (p); len[i] = (l)
#define ngx_smartlyq_lit(i, s)                                                \
    ngx_smartlyq_arg(i, s, sizeof(s) - 1)

    ngx_smartlyq_lit(0, "XADD");
    ngx_smartlyq_arg(1, key, key_len);
    ngx_smartlyq_lit(2, "MAXLEN");
    ngx_smartlyq_lit(3, "~");
    ngx_smartlyq_arg(4, max, ngx_sprintf(max, "%ui", s->max) - max);
    ngx_smartlyq_lit(5, "*");
    ngx_smartlyq_lit(6, "t");
    ngx_smartlyq_arg(7, t, ngx_sprintf(t, "%T", s->t) - t);
    ngx_smartlyq_lit(8, "ip");
    ngx_smartlyq_arg(9, s->ip, s->ip_len);
    ngx_smartlyq_lit(10, "m");
    ngx_smartlyq_arg(11, s->method, s->method_len);
    ngx_smartlyq_lit(12, "r");
    ngx_smartlyq_arg(13, s->route, s->route_len);
    ngx_smartlyq_lit(14, "ws");
    ngx_smartlyq_arg(15, s->ws, s->ws_len);
    ngx_smartlyq_lit(16, "s");
    ngx_smartlyq_arg(17, st, ngx_sprintf(st, "%ui", s->status) - st);
    ngx_smartlyq_lit(18, "c");
    ngx_smartlyq_arg(19, s->code ? s->code->data : (u_char *) "",
                     s->code ? s->code->len : 0);
    ngx_smartlyq_lit(20, "n");
    ngx_smartlyq_arg(21, n, ngx_sprintf(n, "%uD", s->n) - n);

    rc = ngx_smartlyq_link_send(link, 22, argv, len, NULL, NULL);
    if (rc != NGX_OK) {
        return rc;
    }

    oldest = ngx_time() - (time_t) s->days * 86400;

    ngx_smartlyq_lit(0, "XTRIM");
    ngx_smartlyq_lit(2, "MINID");
    ngx_smartlyq_arg(4, minid, ngx_sprintf(minid, "%T000", oldest) - minid);

    rc = ngx_smartlyq_link_send(link, 5, argv, len, NULL, NULL);
    if (rc != NGX_OK) {
        return rc;
    }

#undef ngx_smartlyq_arg
#undef ngx_smartlyq_lit

    return ngx_smartlyq_activity_expire(link, key, key_len, s->days);
}


/* one IP's refusals of unknown keys that day */
static ngx_int_t
ngx_smartlyq_activity_unknown(ngx_smartlyq_link_t *link,
    ngx_smartlyq_act_slot_t *s)
{
    char         key[sizeof("sq:act:unknown:yyyymmdd")];
    char         day[sizeof("yyyymmdd")];
    u_char       n[NGX_INT_T_LEN];
    size_t       len[4], key_len;
    ngx_tm_t     tm;
    ngx_int_t    rc;
    const char  *argv[4];

    ngx_gmtime(s->t, &tm);
    (void) snprintf(day, sizeof(day), "%04d%02d%02d",
                    (int) tm.ngx_tm_year, (int) tm.ngx_tm_mon,
                    (int) tm.ngx_tm_mday);
    key_len = snprintf(key, sizeof(key), SQ_K_ACT_UNKNOWN, day);

    argv[0] = "HINCRBY";
    len[0] = sizeof("HINCRBY") - 1;
    argv[1] = key;
    len[1] = key_len;
    argv[2] = (const char *) s->ip;
    len[2] = s->ip_len;
    argv[3] = (const char *) n;
    len[3] = ngx_sprintf(n, "%uD", s->n) - n;

    rc = ngx_smartlyq_link_send(link, 4, argv, len, NULL, NULL);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_smartlyq_activity_expire(link, key, key_len, s->days);
}


static ngx_int_t
ngx_smartlyq_activity_expire(ngx_smartlyq_link_t *link, const char *key,
    size_t key_len, ngx_uint_t days)
{
    u_char       ttl[NGX_INT_T_LEN];
    size_t       len[3];
    const char  *argv[3];

    argv[0] = "EXPIRE";
    len[0] = sizeof("EXPIRE") - 1;
    argv[1] = key;
    len[1] = key_len;
    argv[2] = (const char *) ttl;
    len[2] = ngx_sprintf(ttl, "%ui", days * 86400) - ttl;

    return ngx_smartlyq_link_send(link, 3, argv, len, NULL, NULL);
}


/*
 * EXEC's reply: an error (a command refused while queued, by the ACL
 * say, aborts the whole transaction) or an error among the replies is
 * logged, once per transaction; NULL: the link died, already logged.
 */
static void
ngx_smartlyq_activity_exec_done(void *reply, void *data)
{
    ngx_smartlyq_act_t  *a = data;

    size_t       i;
    redisReply  *rp = reply, *err;

    if (rp == NULL) {
        return;
    }

    err = NULL;

    if (rp->type == REDIS_REPLY_ERROR) {
        err = rp;

    } else if (rp->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < rp->elements; i++) {
            if (rp->element[i]->type == REDIS_REPLY_ERROR) {
                err = rp->element[i];
                break;
            }
        }
    }

    if (err) {
        ngx_log_error(NGX_LOG_ERR, a->log, 0,
                      "smartlyq: activity flush refused: \"%*s\"",
                      ngx_min(err->len, 200), err->str);
    }
}


static void
ngx_smartlyq_activity_timer(ngx_event_t *ev)
{
    ngx_smartlyq_act_t  *a = ev->data;

    ngx_smartlyq_activity_flush(a);

    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_add_timer(&a->timer, NGX_SMARTLYQ_ACT_FLUSH);
    }
}
