/*
 * ngx_smartlyq_usage: per key, per day, how many requests were allowed
 * and denied, and when and from where a key was last used.
 *
 * Nothing is written to Redis on the request path: each worker counts in
 * a table of its own and a timer flushes it once a second, pipelined on
 * the worker's write link (never ahead of the lookups on the other one)
 * without waiting for replies, in MULTI/EXEC transactions of at most
 * NGX_SMARTLYQ_USAGE_TXN keys:
 *   HINCRBY sq:usage:<key id>:<yyyymmdd> allowed|denied <n>
 *   EXPIRE  sq:usage:<key id>:<yyyymmdd> <400 days>
 *   HSET    sq:keyuse:{<digest>} last_used_at <t> last_used_ip <ip>
 * (not on the key record sq:key:{<digest>}: every write there drops the
 * key's entries from the decision cache, ngx_smartlyq_cache.c).
 * The transactions are for Redis's single thread, not for atomicity:
 * with "appendfsync always" every event-loop pass that wrote anything
 * ends in an fsync() before any reply goes out, the lookups' included.
 * A plain pipeline of a few thousand keys is read 16 KB a pass, so one
 * flush cost a hundred fsyncs in a row, and one slow fsync (this host:
 * p99 16 ms, max 88 ms) was enough for every lookup in flight to pass
 * its 100 ms timeout (503).  Queued commands write nothing; EXEC writes
 * them all in one pass: one fsync per transaction.
 * While the link is down, counts wait in the table; counts sent on a link
 * that dies before Redis applies them, and at most one second of counts
 * when a worker exits, are lost: usage is a statistic, not a ledger.
 */

#include "ngx_smartlyq_usage.h"
#include "ngx_smartlyq_redis.h"
#include "sq_keys.h"


#define NGX_SMARTLYQ_USAGE_SLOTS   8192      /* a power of two */
#define NGX_SMARTLYQ_USAGE_FLUSH   1000      /* ms */
#define NGX_SMARTLYQ_USAGE_TTL     "34560000"  /* 400 days, in seconds */
#define NGX_SMARTLYQ_USAGE_TXN     512       /* keys per MULTI/EXEC */


typedef struct {
    uint64_t                   key_id;      /* 0: a free slot */
    uint32_t                   allowed;
    uint32_t                   denied;
    time_t                     last_used;
    size_t                     ip_len;
    u_char                     ip[NGX_SOCKADDR_STRLEN];
    u_char                     digest[SQ_DIGEST_HEX_LEN];
} ngx_smartlyq_usage_slot_t;


typedef struct {
    ngx_smartlyq_usage_slot_t  *slots;
    ngx_uint_t                  used;
    ngx_event_t                 timer;
    ngx_smartlyq_main_conf_t   *smcf;
} ngx_smartlyq_usage_t;


static void ngx_smartlyq_usage_flush(ngx_smartlyq_usage_t *u);
static void ngx_smartlyq_usage_timer(ngx_event_t *ev);


ngx_int_t
ngx_smartlyq_usage_init(ngx_cycle_t *cycle, ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_usage_t  *u;

    u = ngx_pcalloc(cycle->pool, sizeof(ngx_smartlyq_usage_t));
    if (u == NULL) {
        return NGX_ERROR;
    }

    u->slots = ngx_pcalloc(cycle->pool, NGX_SMARTLYQ_USAGE_SLOTS
                                        * sizeof(ngx_smartlyq_usage_slot_t));
    if (u->slots == NULL) {
        return NGX_ERROR;
    }

    u->smcf = smcf;
    u->timer.handler = ngx_smartlyq_usage_timer;
    u->timer.data = u;
    u->timer.log = cycle->log;
    u->timer.cancelable = 1;

    smcf->usage = u;

    ngx_add_timer(&u->timer, NGX_SMARTLYQ_USAGE_FLUSH);

    return NGX_OK;
}


void
ngx_smartlyq_usage_exit(ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_usage_t  *u = smcf->usage;

    if (u && u->timer.timer_set) {
        ngx_del_timer(&u->timer);
    }

    smcf->usage = NULL;
}


/*
 * Counts one decided request of a known key, once per request;
 * digest names the key's record for last_used_*.
 */
void
ngx_smartlyq_usage_count(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    const char *digest, ngx_uint_t allowed)
{
    uint64_t                    id;
    ngx_int_t                   n;
    ngx_uint_t                  i, probe;
    ngx_smartlyq_usage_t       *u;
    ngx_smartlyq_usage_slot_t  *s;
    ngx_smartlyq_main_conf_t   *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module);
    u = smcf->usage;

    if (u == NULL || ctx->counted || ctx->key_id.len == 0) {
        return;
    }

    ctx->counted = 1;

    n = ngx_atoi(ctx->key_id.data, ctx->key_id.len);
    if (n <= 0) {
        return;
    }

    id = (uint64_t) n;

    if (u->used >= NGX_SMARTLYQ_USAGE_SLOTS / 4 * 3) {
        ngx_smartlyq_usage_flush(u);    /* make room now */
    }

    i = (ngx_uint_t) (id * 0x9E3779B97F4A7C15ULL >> 40);

    for (probe = 0; probe < NGX_SMARTLYQ_USAGE_SLOTS; probe++) {
        s = &u->slots[(i + probe) & (NGX_SMARTLYQ_USAGE_SLOTS - 1)];

        if (s->key_id == id) {
            break;
        }

        if (s->key_id == 0) {
            s->key_id = id;
            u->used++;
            break;
        }
    }

    if (probe == NGX_SMARTLYQ_USAGE_SLOTS) {
        return;     /* full even after a flush (link down): not counted */
    }

    if (allowed) {
        s->allowed++;

    } else {
        s->denied++;
    }

    s->last_used = ngx_time();
    ngx_memcpy(s->digest, digest, SQ_DIGEST_HEX_LEN);

    s->ip_len = ngx_min(r->connection->addr_text.len, sizeof(s->ip));
    ngx_memcpy(s->ip, r->connection->addr_text.data, s->ip_len);
}


static ngx_int_t
ngx_smartlyq_usage_send(ngx_smartlyq_link_t *link,
    ngx_smartlyq_usage_slot_t *s, u_char *day)
{
    char         key[64];
    char         rec[sizeof(SQ_K_KEYUSE_PREFIX SQ_K_TAG_END)
                     + SQ_DIGEST_HEX_LEN];
    u_char       num[NGX_INT64_LEN], ts[NGX_TIME_T_LEN];
    size_t       len[8];
    ngx_int_t    rc;
    const char  *argv[8];

    argv[1] = key;
    len[1] = snprintf(key, sizeof(key), SQ_K_USAGE,
                      (unsigned long long) s->key_id, (const char *) day);

    argv[0] = "HINCRBY";
    len[0] = sizeof("HINCRBY") - 1;
    argv[3] = (const char *) num;
    rc = NGX_OK;

    if (s->allowed) {
        argv[2] = "allowed";
        len[2] = sizeof("allowed") - 1;
        len[3] = ngx_sprintf(num, "%uD", s->allowed) - num;
        rc = ngx_smartlyq_link_send(link, 4, argv, len, NULL, NULL);
    }

    if (rc == NGX_OK && s->denied) {
        argv[2] = "denied";
        len[2] = sizeof("denied") - 1;
        len[3] = ngx_sprintf(num, "%uD", s->denied) - num;
        rc = ngx_smartlyq_link_send(link, 4, argv, len, NULL, NULL);
    }

    if (rc == NGX_OK) {
        argv[0] = "EXPIRE";
        len[0] = sizeof("EXPIRE") - 1;
        argv[2] = NGX_SMARTLYQ_USAGE_TTL;
        len[2] = sizeof(NGX_SMARTLYQ_USAGE_TTL) - 1;
        rc = ngx_smartlyq_link_send(link, 3, argv, len, NULL, NULL);
    }

    if (rc == NGX_OK) {
        argv[0] = "HSET";
        len[0] = sizeof("HSET") - 1;
        argv[1] = rec;
        len[1] = snprintf(rec, sizeof(rec),
                          SQ_K_KEYUSE_PREFIX "%.*s" SQ_K_TAG_END,
                          (int) SQ_DIGEST_HEX_LEN, (const char *) s->digest);
        argv[2] = "last_used_at";
        len[2] = sizeof("last_used_at") - 1;
        argv[3] = (const char *) ts;
        len[3] = ngx_sprintf(ts, "%T", s->last_used) - ts;
        argv[4] = "last_used_ip";
        len[4] = sizeof("last_used_ip") - 1;
        argv[5] = (const char *) s->ip;
        len[5] = s->ip_len;
        rc = ngx_smartlyq_link_send(link, 6, argv, len, NULL, NULL);
    }

    return rc;
}


/* MULTI or EXEC on the write link, reply discarded */
static ngx_int_t
ngx_smartlyq_usage_txn(ngx_smartlyq_link_t *link, const char *cmd)
{
    size_t       len;
    const char  *argv[1];

    argv[0] = cmd;
    len = ngx_strlen(cmd);

    return ngx_smartlyq_link_send(link, 1, argv, &len, NULL, NULL);
}


static void
ngx_smartlyq_usage_flush(ngx_smartlyq_usage_t *u)
{
    u_char                      day[sizeof("yyyymmdd")];
    ngx_tm_t                    tm;
    ngx_uint_t                  i, n;
    ngx_smartlyq_link_t        *link;
    ngx_smartlyq_usage_slot_t  *s;

    link = u->smcf->write_link;

    if (u->used == 0 || ngx_smartlyq_link_ready(link) != NGX_OK) {
        return;     /* kept for the next flush */
    }

    ngx_gmtime(ngx_time(), &tm);
    ngx_sprintf(day, "%04d%02d%02d%Z", tm.ngx_tm_year, tm.ngx_tm_mon,
                tm.ngx_tm_mday);

    n = 0;

    for (i = 0; i < NGX_SMARTLYQ_USAGE_SLOTS; i++) {
        s = &u->slots[i];

        if (s->key_id == 0) {
            continue;
        }

        if (n == 0 && ngx_smartlyq_usage_txn(link, "MULTI") != NGX_OK) {
            return;
        }

        if (ngx_smartlyq_usage_send(link, s, day) != NGX_OK) {
            /* what is queued is applied; a dead link has lost it */
            (void) ngx_smartlyq_usage_txn(link, "EXEC");
            return;     /* the rest waits for the next flush */
        }

        ngx_memzero(s, sizeof(ngx_smartlyq_usage_slot_t));
        u->used--;

        if (++n == NGX_SMARTLYQ_USAGE_TXN) {
            if (ngx_smartlyq_usage_txn(link, "EXEC") != NGX_OK) {
                return;
            }

            n = 0;
        }
    }

    if (n) {
        (void) ngx_smartlyq_usage_txn(link, "EXEC");
    }
}


static void
ngx_smartlyq_usage_timer(ngx_event_t *ev)
{
    ngx_smartlyq_usage_t  *u = ev->data;

    ngx_smartlyq_usage_flush(u);

    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_add_timer(&u->timer, NGX_SMARTLYQ_USAGE_FLUSH);
    }
}
