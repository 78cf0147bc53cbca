/*
 * ngx_http_smartlyq_module: bearer-key and workspace enforcement at the
 * edge.  Types shared by the module's files.
 */

#ifndef NGX_SMARTLYQ_MODULE_H
#define NGX_SMARTLYQ_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "sq_authz.h"
#include "sq_bearer.h"
#include "sq_identity.h"
#include "sq_redis_auth.h"
#include "sq_workspace.h"


#define NGX_SMARTLYQ_ID_MAX_LEN      20
#define NGX_SMARTLYQ_MAX_INFLIGHT    8192   /* commands on one link */


typedef struct ngx_smartlyq_link_s     ngx_smartlyq_link_t;
typedef struct ngx_smartlyq_pending_s  ngx_smartlyq_pending_t;
typedef struct ngx_smartlyq_cache_s    ngx_smartlyq_cache_t;
typedef struct ngx_smartlyq_notify_s   ngx_smartlyq_notify_t;

typedef void (*ngx_smartlyq_link_hook_pt)(void *data);


/* how the cache took part in a request ($smartlyq_cache_status) */
typedef enum {
    NGX_SMARTLYQ_CACHE_NONE = 0,     /* no cache here, or not reached */
    NGX_SMARTLYQ_CACHE_HIT,
    NGX_SMARTLYQ_CACHE_MISS,
    NGX_SMARTLYQ_CACHE_BYPASS,       /* not subscribed to invalidations */
    NGX_SMARTLYQ_CACHE_STALE         /* Redis unreachable, stale grant */
} ngx_smartlyq_cache_status_e;


/* what Redis (or its absence) said about a request */
typedef enum {
    NGX_SMARTLYQ_NONE = 0,
    NGX_SMARTLYQ_ALLOW,
    NGX_SMARTLYQ_UNKNOWN_KEY,
    NGX_SMARTLYQ_DISABLED_KEY,
    NGX_SMARTLYQ_EXPIRED_KEY,
    NGX_SMARTLYQ_DELETED_KEY,
    NGX_SMARTLYQ_ROTATED_KEY,        /* rotated, grace period over */
    NGX_SMARTLYQ_FORBIDDEN,
    NGX_SMARTLYQ_UNAVAILABLE,    /* down, timeout, error: fail closed */
    NGX_SMARTLYQ_NO_KEY,
    NGX_SMARTLYQ_MALFORMED_KEY,
    NGX_SMARTLYQ_BAD_WORKSPACE,
    NGX_SMARTLYQ_BAD_BODY,
    NGX_SMARTLYQ_PUBLISHABLE,        /* publishable key, not allowed here */
    NGX_SMARTLYQ_SCOPE,              /* the key lacks the scope */
    NGX_SMARTLYQ_KEY_IN_URL,         /* a key in the request-target */
    NGX_SMARTLYQ_RESULTS             /* how many there are */
} ngx_smartlyq_result_e;


/* refusals by envelope code, in the metrics zone */
typedef enum {
    NGX_SMARTLYQ_CODE_UNAUTHORIZED = 0,
    NGX_SMARTLYQ_CODE_FORBIDDEN,
    NGX_SMARTLYQ_CODE_VALIDATION_ERROR,
    NGX_SMARTLYQ_CODE_PAYLOAD_TOO_LARGE,
    NGX_SMARTLYQ_CODE_PUBLISHABLE,
    NGX_SMARTLYQ_CODE_SCOPE,
    NGX_SMARTLYQ_CODE_UNAVAILABLE,
    NGX_SMARTLYQ_CODES,
    NGX_SMARTLYQ_CODE_NONE = NGX_SMARTLYQ_CODES     /* allowed */
} ngx_smartlyq_code_e;


/* Redis counters in the metrics zone */
typedef enum {
    NGX_SMARTLYQ_M_ROUND_TRIPS = 0,
    NGX_SMARTLYQ_M_ERRORS,
    NGX_SMARTLYQ_M_TIMEOUTS,
    NGX_SMARTLYQ_M_CONNECTS,
    NGX_SMARTLYQ_M_LINK_FAILURES,
    NGX_SMARTLYQ_REDIS_COUNTERS
} ngx_smartlyq_redis_metric_e;


typedef struct ngx_smartlyq_metrics_s  ngx_smartlyq_metrics_t;


typedef enum {
    NGX_SMARTLYQ_STATE_NEW = 0,
    NGX_SMARTLYQ_STATE_READING_BODY,  /* suspended in body reading */
    NGX_SMARTLYQ_STATE_BODY_READ,     /* body in, lookup not sent yet */
    NGX_SMARTLYQ_STATE_WAITING,
    NGX_SMARTLYQ_STATE_DONE
} ngx_smartlyq_state_e;


/*
 * One Redis command in flight.  It lives on the heap, not in the request
 * pool: hiredis calls back for every command (with NULL when the link
 * dies), possibly after the request is gone, so the request only ever
 * holds a reference that its pool cleanup or the timeout clears.
 */
struct ngx_smartlyq_pending_s {
    ngx_http_request_t        *r;           /* NULL once detached */
    ngx_event_t                timer;       /* the per-command timeout */
    ngx_smartlyq_link_t       *link;
    ngx_smartlyq_pending_t    *next;        /* free list */
};


typedef struct {
    ngx_str_t                  host;        /* empty for a unix socket */
    ngx_int_t                  port;
    ngx_str_t                  unix_path;
    ngx_msec_t                 connect_timeout;
    ngx_str_t                  password_file;
    sq_redis_auth_t            auth;        /* pass "": no AUTH */

    u_char                     pepper[SQ_SECRET_BYTES];
    u_char                     signing_key[SQ_SECRET_BYTES];
    sq_signer_t                signer;      /* keyed with signing_key */
    ngx_str_t                  pepper_file;
    ngx_str_t                  signing_key_file;

    ngx_flag_t                 used;        /* some location enables us */
    ngx_smartlyq_link_t       *link;        /* this worker's lookups */
    ngx_smartlyq_link_t       *write_link;  /* this worker's usage writes */
    void                      *usage;       /* this worker's counters */
    ngx_smartlyq_metrics_t    *metrics;     /* in shared memory */

    ngx_shm_zone_t            *cache_zone;  /* smartlyq_cache zone= */
    ngx_smartlyq_cache_t      *cache;
    ngx_msec_t                 cache_ttl;
    ngx_msec_t                 cache_negative_ttl;
    ngx_msec_t                 cache_keep;  /* the longest stale= */
    ngx_smartlyq_notify_t     *notify;      /* this worker's subscriber */
    uint32_t                   redis_id;    /* crc32 of the address */
} ngx_smartlyq_main_conf_t;


typedef struct {
    ngx_flag_t                 enable;
    ngx_flag_t                 publishable;
    ngx_str_t                  scope;       /* "family" or "family:perm" */
    ngx_msec_t                 timeout;
    size_t                     body_limit;
    time_t                     retry_after;
    ngx_flag_t                 cache;       /* smartlyq_cache off: 0 */
    ngx_msec_t                 stale;       /* smartlyq_fail_mode; 0 */
    ngx_uint_t                 log_level;   /* of refusals */
} ngx_smartlyq_loc_conf_t;


typedef struct {
    ngx_smartlyq_state_e       state;
    ngx_smartlyq_result_e      result;
    sq_key_mode_t              mode;
    sq_key_type_t              type;
    ngx_uint_t                 counted;        /* usage counted once */
    ngx_uint_t                 metered;        /* metrics counted once */
    uint64_t                   started_us;     /* monotonic */

    ngx_str_t                  user_id;
    ngx_str_t                  key_id;
    char                       digest[SQ_DIGEST_HEX_LEN + 1];
    u_char                     digest_bin[SQ_DIGEST_BYTES];
    char                       body_digest[SQ_DIGEST_HEX_LEN + 1];
                                               /* "": no body bytes */
    ngx_str_t                  workspace_id;   /* empty: none given */
    uint64_t                   workspace_num;  /* 0: none given */
    ngx_str_t                  scopes;         /* the key's, from Redis */
    ngx_str_t                  key_workspaces; /* "" or "1,2" */
    ngx_str_t                  needed_scope;
    time_t                     rotated_at;
    time_t                     sunset_at;      /* 0: not rotated */

    sq_ws_rc_t                 query_rc;       /* workspace_id in the */
    uint64_t                   query_id;       /* query string */
    const char                *key;            /* in r->headers_in */
    size_t                     key_len;

    ngx_smartlyq_pending_t    *pending;

    ngx_smartlyq_cache_status_e  cache_status;
    ngx_uint_t                 snapped;        /* generations read */
    uint32_t                   snap_epoch;
    uint32_t                   snap_key_gen;
    uint32_t                   snap_ws_gen;
} ngx_smartlyq_ctx_t;


extern ngx_module_t  ngx_http_smartlyq_module;


/* ngx_smartlyq_redis.c: this worker's link to Redis */
ngx_smartlyq_link_t *ngx_smartlyq_link_create(ngx_cycle_t *cycle,
    ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_link_exit(ngx_smartlyq_link_t *link);
ngx_int_t ngx_smartlyq_link_ready(ngx_smartlyq_link_t *link);
ngx_int_t ngx_smartlyq_link_send(ngx_smartlyq_link_t *link,
    ngx_smartlyq_pending_t *p, int argc, const char **argv,
    const size_t *argvlen);
void ngx_smartlyq_link_timed_out(ngx_smartlyq_link_t *link);
ngx_smartlyq_pending_t *ngx_smartlyq_link_pending(ngx_smartlyq_link_t *link,
    ngx_log_t *log);
void ngx_smartlyq_link_recycle(ngx_smartlyq_link_t *link,
    ngx_smartlyq_pending_t *p);
void ngx_smartlyq_link_hooks(ngx_smartlyq_link_t *link,
    ngx_smartlyq_link_hook_pt up, ngx_smartlyq_link_hook_pt down,
    void *data);
ngx_int_t ngx_smartlyq_link_command(ngx_smartlyq_link_t *link,
    redisCallbackFn *fn, void *data, int argc, const char **argv,
    const size_t *argvlen);
ngx_msec_t ngx_smartlyq_link_heard(ngx_smartlyq_link_t *link);
void ngx_smartlyq_link_drop(ngx_smartlyq_link_t *link, const char *why);

/* ngx_smartlyq_lookup.c: one authz round trip for a request */
ngx_int_t ngx_smartlyq_lookup_start(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, const char *digest);
void ngx_smartlyq_pending_reply(ngx_smartlyq_pending_t *p, void *reply);
void ngx_smartlyq_ctx_cleanup(void *data);
ngx_int_t ngx_smartlyq_lookup_apply(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, const sq_authz_t *a);

/* ngx_smartlyq_cache.c: answers shared by the workers */
char *ngx_smartlyq_cache_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_smartlyq_fail_mode_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_smartlyq_cache_get(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, ngx_uint_t stale);
void ngx_smartlyq_cache_put(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    const sq_authz_t *a);
void ngx_smartlyq_cache_bump_key(ngx_smartlyq_main_conf_t *smcf,
    const u_char *hex, size_t len);
void ngx_smartlyq_cache_bump_ws(ngx_smartlyq_main_conf_t *smcf, uint64_t ws);
void ngx_smartlyq_cache_listening(ngx_smartlyq_main_conf_t *smcf,
    ngx_msec_t until);
void ngx_smartlyq_cache_subscribed(ngx_smartlyq_main_conf_t *smcf,
    ngx_msec_t window);
void ngx_smartlyq_cache_unlistening(ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_cache_lost(ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_cache_flush(ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_cache_marker(ngx_smartlyq_main_conf_t *smcf,
    uint32_t marker);
ngx_uint_t ngx_smartlyq_cache_usable(ngx_smartlyq_main_conf_t *smcf);
ngx_uint_t ngx_smartlyq_cache_subscriptions(ngx_smartlyq_main_conf_t *smcf);
u_char *ngx_smartlyq_cache_metrics_text(ngx_smartlyq_main_conf_t *smcf,
    u_char *p, u_char *last);

/* ngx_smartlyq_notify.c: invalidations pushed by Redis */
ngx_int_t ngx_smartlyq_notify_init(ngx_cycle_t *cycle,
    ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_notify_exit(ngx_smartlyq_main_conf_t *smcf);
ngx_uint_t ngx_smartlyq_notify_trusted(ngx_smartlyq_main_conf_t *smcf);

/* ngx_smartlyq_body.c: workspace_id from a bounded request body */
ngx_int_t ngx_smartlyq_body_read(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
ngx_int_t ngx_smartlyq_body_workspace(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, sq_ws_rc_t *rc, uint64_t *id);

/* ngx_smartlyq_json.c: JSON bodies parsed in a per-worker arena */
ngx_int_t ngx_smartlyq_json_workspace(ngx_http_request_t *r, u_char *body,
    size_t len, size_t limit, sq_ws_rc_t *rc, uint64_t *id);

/* ngx_smartlyq_refuse.c: JSON refusals */
#include "ngx_smartlyq_refuse.h"
ngx_int_t ngx_smartlyq_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value, ngx_table_elt_t **ref);

/* ngx_smartlyq_identity.c: the signed identity for the upstream */
ngx_int_t ngx_smartlyq_identity_set(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);

/* ngx_smartlyq_scope.c: key types and scopes */
ngx_int_t ngx_smartlyq_type_allowed(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
ngx_int_t ngx_smartlyq_scope_allowed(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);
char *ngx_smartlyq_scope_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_smartlyq_usage.c: per-key daily counts, flushed in batches */
ngx_int_t ngx_smartlyq_usage_init(ngx_cycle_t *cycle,
    ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_usage_count(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, const char *digest, ngx_uint_t allowed);
void ngx_smartlyq_usage_exit(ngx_smartlyq_main_conf_t *smcf);
ngx_int_t ngx_smartlyq_link_send_noreply(ngx_smartlyq_link_t *link,
    int argc, const char **argv, const size_t *argvlen);

/* ngx_smartlyq_rotation.c: Deprecation/Sunset on a rotated key's replies */
ngx_int_t ngx_smartlyq_rotation_filter_init(ngx_conf_t *cf);

/* ngx_smartlyq_errors.c: nginx's own error pages as JSON envelopes */
ngx_int_t ngx_smartlyq_errors_filter_init(ngx_conf_t *cf);

/* ngx_smartlyq_metrics.c: shared counters, Prometheus text */
ngx_int_t ngx_smartlyq_metrics_zone(ngx_conf_t *cf,
    ngx_smartlyq_main_conf_t *smcf);
void ngx_smartlyq_metrics_redis(ngx_smartlyq_main_conf_t *smcf,
    ngx_uint_t which);
void ngx_smartlyq_metrics_decision(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, ngx_smartlyq_code_e code);
uint64_t ngx_smartlyq_now_us(void);
u_char *ngx_smartlyq_metrics_counter(u_char *p, u_char *last,
    const char *name, const char *help, ngx_atomic_uint_t value);
char *ngx_smartlyq_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_smartlyq_variables.c */
ngx_int_t ngx_smartlyq_add_variables(ngx_conf_t *cf);
ngx_str_t *ngx_smartlyq_decision_name(ngx_uint_t result);

/* ngx_smartlyq_handler.c */
ngx_int_t ngx_smartlyq_access_handler(ngx_http_request_t *r);
ngx_smartlyq_ctx_t *ngx_smartlyq_get_ctx(ngx_http_request_t *r);


#endif /* NGX_SMARTLYQ_MODULE_H */
