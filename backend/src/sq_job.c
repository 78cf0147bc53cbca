/*
 * sq_job: a request between its handler and its Redis reply: its one
 * function call on the asynchronous link (sq_aredis.h), and the reply
 * to the client from the callback.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sq_job.h"
#include "sq_keys.h"
#include "sq_log.h"
#include "sq_metrics.h"
#include "sq_nonce.h"
#include "sq_reply.h"
#include "sq_route.h"
#include "sq_workspace.h"


/* 409: the unique value a write gives is another record's */
static void
sq_job_taken(sq_job_t *j)
{
    char  msg[128];

    snprintf(msg, sizeof(msg), "%s is already used in this workspace.",
             j->r.res->unique);
    sq_reply_error(j->r.req, SQ_E_CONFLICT, msg);
}


sq_job_t *
sq_job_new_ext(sq_req_t *r, int write, size_t size)
{
    sq_job_t  *j;

    j = sq_job_new(r, write);
    if (j == NULL) {
        return NULL;
    }

    j->ext = calloc(1, size);
    if (j->ext == NULL) {
        sq_reply_error(r->req, SQ_E_INTERNAL, NULL);
        sq_job_free(j);
        return NULL;
    }
    j->ext_size = size;

    return j;
}


void
sq_job_who(const sq_job_t *j, int write, sq_key_who_t *w)
{
    w->uid = j->r.ident.user_id;
    w->wid = j->r.ident.workspace_id;
    w->kws = j->kws;
    w->test = j->r.ident.test_mode;
    w->nonce = write ? j->r.ident.nonce : NULL;
    w->ttl = j->ttl;
}


int
sq_job_path_id(sq_req_t *r, uint64_t *id)
{
    size_t       len;
    const char  *slash;

    if (r->id == NULL) {
        sq_reply_error(r->req, SQ_E_NOT_FOUND, NULL);
        return -1;
    }

    slash = strchr(r->id, '/');
    len = slash != NULL ? (size_t) (slash - r->id) : strlen(r->id);

    if (sq_workspace_parse_id(r->id, len, id) != 0) {
        sq_reply_error(r->req, SQ_E_NOT_FOUND, NULL);
        return -1;
    }

    return 0;
}


void
sq_job_free(sq_job_t *j)
{
    sq_record_clear(&j->rec);
    if (j->ext != NULL && j->ext_free != NULL) {
        j->ext_free(j->ext);

    } else if (j->ext != NULL) {
        sodium_memzero(j->ext, j->ext_size);
        free(j->ext);
    }
    free(j->kws);
    free(j);
}


/* A callback's start: the metrics of the reply it sends. */
void
sq_job_enter(sq_job_t *j)
{
    sq_route_t  route;

    memset(&route, 0, sizeof(route));
    route.res = j->r.res;
    route.id = j->r.id;
    route.keys = j->keys;
    route.apps = j->apps;

    sq_metrics_begin_at(j->start_us);
    sq_metrics_route(&route);
}


/* A callback's end, once it answered. */
void
sq_job_done(sq_job_t *j)
{
    sq_metrics_end();
    sq_job_free(j);
}


/* the key's workspace list as text, "" for none; -1 if it cannot be */
static int
sq_job_kws(sq_job_t *j)
{
    int     n;
    char    buf[SQ_WSLIST_TEXT_MAX + 1];
    size_t  i, len;

    if (j->r.ident.key_ws.n == 0) {
        return 0;
    }

    for (i = 0, len = 0; i < j->r.ident.key_ws.n; i++) {
        n = snprintf(buf + len, sizeof(buf) - len, "%s%llu",
                     i > 0 ? "," : "",
                     (unsigned long long) j->r.ident.key_ws.ids[i]);
        if (n < 0 || (size_t) n >= sizeof(buf) - len) {
            return -1;
        }
        len += (size_t) n;
    }

    j->kws = malloc(len + 1);
    if (j->kws == NULL) {
        return -1;
    }
    memcpy(j->kws, buf, len + 1);

    return 0;
}


/* The job of r, or NULL after a 500. */
sq_job_t *
sq_job_new(sq_req_t *r, int write)
{
    sq_job_t  *j;

    j = calloc(1, sizeof(*j));
    if (j == NULL) {
        sq_reply_error(r->req, SQ_E_INTERNAL, NULL);
        return NULL;
    }

    j->r = *r;
    j->start_us = sq_metrics_now();
    j->ttl = -1;
    if (write) {
        j->ttl = sq_nonce_ttl(r->ident.nonce, r->ident.timestamp,
                              (int64_t) time(NULL));
    }

    if (sq_job_kws(j) != 0 || (write && j->ttl < 0)) {
        sq_log(SQ_LOG_ERR, "store: %s", sq_rc_text(SQ_ERR_INVALID));
        sq_reply_error(r->req, SQ_E_INTERNAL, NULL);
        sq_job_free(j);
        return NULL;
    }

    return j;
}


/*
 * FCALL (FCALL_RO for reads) fn nkeys, KEYS[1] the nonce of a write or
 * "", KEYS[2] the identity workspace's members or ""; then the caller's
 * keys, then sq_job_common().
 */
void
sq_job_head(sq_argv_t *a, const sq_job_t *j, const char *fn, int nkeys)
{
    int  write;

    write = j->ttl >= 0;
    memset(a, 0, offsetof(sq_argv_t, buf));

    sq_argv_str(a, write ? "FCALL" : "FCALL_RO");
    sq_argv_str(a, fn);
    sq_argv_fmt(a, "%d", nkeys);

    if (write) {
        sq_argv_fmt(a, SQ_K_NONCE, j->r.ident.nonce);
    } else {
        sq_argv_str(a, "");
    }

    if (j->r.ident.workspace_id != 0) {
        sq_argv_fmt(a, SQ_K_WS_MEMBERS,
                    (unsigned long long) j->r.ident.workspace_id);
    } else {
        sq_argv_str(a, "");
    }
}


/* ARGV[1..5]: uid, the identity's workspace, the key's, mode, nonce TTL */
void
sq_job_common(sq_argv_t *a, const sq_job_t *j)
{
    sq_argv_u64(a, j->r.ident.user_id);

    if (j->r.ident.workspace_id != 0) {
        sq_argv_u64(a, j->r.ident.workspace_id);
    } else {
        sq_argv_str(a, "");
    }

    sq_argv_str(a, j->kws != NULL ? j->kws : "");
    sq_argv_str(a, j->r.ident.test_mode ? "test" : "live");

    if (j->ttl >= 0) {
        sq_argv_fmt(a, "%lld", (long long) j->ttl);
    } else {
        sq_argv_str(a, "");
    }
}


/* Sends; on failure answers (500 or 503) and returns -1. */
int
sq_job_send(sq_job_t *j, sq_argv_t *a, sq_aredis_fn fn)
{
    int           rc;
    sq_ctx_t     *ctx;
    sq_aredis_t  *l;

    if (a->failed) {
        sq_log(SQ_LOG_ERR, "store: %s", sq_rc_text(SQ_ERR_INVALID));
        sq_reply_error(j->r.req, SQ_E_INTERNAL, NULL);
        return -1;
    }

    ctx = j->r.ctx;
    l = &ctx->aredis;
    if (l->base == NULL) {
        sq_aredis_init(l, ctx->base, &ctx->redis);
    }

    /* issue 15: a write answers once enough replicas have it */
    if (ctx->wait_replicas > 0 && a->argc > 0 && a->lens[0] == 5
        && memcmp(a->argv[0], "FCALL", 5) == 0)
    {
        l = &ctx->awrite;
        rc = sq_aredis_send_wait(l, a->argc, a->argv, a->lens,
                                 ctx->wait_replicas, ctx->wait_timeout_ms,
                                 fn, j);
    } else {
        rc = sq_aredis_send(l, a->argc, a->argv, a->lens, fn, j);
    }

    if (rc != 0) {
        sq_metrics_redis_get(0, NULL);
        sq_reply_error(j->r.req, SQ_E_UNAVAILABLE, NULL);
        return -1;
    }

    sq_metrics_redis_get(1, sq_aredis_context(l));

    return 0;
}


/* The handler's end: answered later, or now (failed send). */
void
sq_job_start(sq_job_t *j, sq_req_t *r, sq_argv_t *a, sq_aredis_fn fn)
{
    if (sq_job_send(j, a, fn) != 0) {
        sq_job_free(j);
        return;
    }

    r->async = 1;
}


/* Redis errors that pass (a full disk, a loading or busy server): 503 */
static int
sq_job_transient(const redisReply *e)
{
    static const char  *const words[] = {
        "MISCONF", "LOADING", "BUSY", "OOM", "READONLY", "MASTERDOWN",
        "NOAUTH", "TRYAGAIN"
    };
    size_t  i, n;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        n = strlen(words[i]);
        if (e->len >= n && memcmp(e->str, words[i], n) == 0) {
            return 1;
        }
    }

    return 0;
}


/* 403: the identity is not a member of its workspace (any more) */
void
sq_job_forbidden(sq_job_t *j)
{
    sq_log(SQ_LOG_WARN, "user %llu is not a member of workspace %llu",
           (unsigned long long) j->r.ident.user_id,
           (unsigned long long) j->r.ident.workspace_id);
    sq_reply_error(j->r.req, SQ_E_FORBIDDEN, NULL);
}


/* 1 and answered unless the reply is an array whose first is "OK". */
int
sq_job_refused(sq_job_t *j, const redisReply *reply)
{
    const char         *st;
    const redisReply   *e;

    if (reply == NULL) {
        sq_reply_error(j->r.req, SQ_E_UNAVAILABLE, NULL);
        return 1;
    }

    if (sq_aredis_not_replicated(reply)) {
        sq_reply_error(j->r.req, SQ_E_NOT_REPLICATED, NULL);
        return 1;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        sq_log(SQ_LOG_ERR, "store: redis: %.*s", (int) reply->len,
               reply->str);
        sq_reply_error(j->r.req, sq_job_transient(reply)
                                 ? SQ_E_UNAVAILABLE : SQ_E_INTERNAL, NULL);
        return 1;
    }

    e = reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
        ? reply->element[0] : NULL;
    st = e != NULL && e->type == REDIS_REPLY_STRING ? e->str : "";

    if (strcmp(st, "OK") == 0) {
        return 0;
    }

    if (strcmp(st, "REPLAY") == 0) {
        sq_server_refuse(&j->r, SQ_AUTH_REPLAY);
    } else if (strcmp(st, "FORBIDDEN") == 0) {
        sq_job_forbidden(j);
    } else if (strcmp(st, "NOTFOUND") == 0) {
        sq_reply_error(j->r.req, SQ_E_NOT_FOUND, NULL);
    } else if (strcmp(st, "TAKEN") == 0) {
        sq_job_taken(j);
    } else if (strcmp(st, "BADREF") == 0) {
        sq_reply_error(j->r.req, SQ_E_VALIDATION, j->r.res->ref_rule);
    } else if (strcmp(st, "NOPRIMARY") == 0) {
        sq_reply_error(j->r.req, SQ_E_VALIDATION, "workspace_id: no "
                       "workspace was given and the user has no primary "
                       "workspace.");
    } else if (strcmp(st, "WSKEY") == 0) {
        sq_reply_error(j->r.req, SQ_E_VALIDATION,
                       "workspace_id is required for this key");
    } else {
        sq_log(SQ_LOG_ERR, "store: %s", sq_rc_text(SQ_ERR_REDIS));
        sq_reply_error(j->r.req, SQ_E_INTERNAL, NULL);
    }

    return 1;
}


void
sq_job_corrupt(sq_job_t *j)
{
    sq_log(SQ_LOG_ERR, "store: %s", sq_rc_text(SQ_ERR_REDIS));
    sq_reply_error(j->r.req, SQ_E_INTERNAL, NULL);
}
