/*
 * ngx_http_smartlyq_module: bearer-key and workspace enforcement at the
 * edge.  The module-wide types only: the configuration and the request's
 * ctx.  Each concern's functions are in its own ngx_smartlyq_<concern>.h;
 * no header here brings hiredis in.
 */

#ifndef NGX_SMARTLYQ_MODULE_H
#define NGX_SMARTLYQ_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sq_authz.h"
#include "sq_bearer.h"
#include "sq_identity.h"
#include "sq_redis_auth.h"
#include "sq_workspace.h"



typedef struct ngx_smartlyq_link_s     ngx_smartlyq_link_t;
typedef struct ngx_smartlyq_pending_s  ngx_smartlyq_pending_t;
typedef struct ngx_smartlyq_cache_s    ngx_smartlyq_cache_t;
typedef struct ngx_smartlyq_notify_s   ngx_smartlyq_notify_t;
typedef struct ngx_smartlyq_epoch_s    ngx_smartlyq_epoch_t;
typedef struct ngx_smartlyq_metrics_s  ngx_smartlyq_metrics_t;
typedef struct ngx_smartlyq_sentinel_s ngx_smartlyq_sentinel_t;


/* a TCP address as hiredis takes it: the host bare, resolved */
typedef struct {
    ngx_str_t                  host;
    ngx_int_t                  port;        /* 0: not set */
} ngx_smartlyq_addr_t;


/* what a cached answer was read under (ngx_smartlyq_epoch.c) */
typedef struct {
    uint32_t                   epoch;
    uint32_t                   key_gen;
    uint32_t                   ws_gen;         /* 0: no workspace */
} ngx_smartlyq_stamp_t;


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
    NGX_SMARTLYQ_OAUTH,              /* OAuth token, not allowed here */
    NGX_SMARTLYQ_RESULTS             /* how many there are */
} ngx_smartlyq_result_e;


typedef enum {
    NGX_SMARTLYQ_STATE_NEW = 0,
    NGX_SMARTLYQ_STATE_READING_BODY,  /* suspended in body reading */
    NGX_SMARTLYQ_STATE_BODY_READ,     /* body in, lookup not sent yet */
    NGX_SMARTLYQ_STATE_WAITING,
    NGX_SMARTLYQ_STATE_DONE
} ngx_smartlyq_state_e;


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

    ngx_shm_zone_t            *cache_zone;  /* smartlyq_cache_zone */
    ngx_flag_t                 cache_all;   /* the old smartlyq_cache
                                               zone=: used everywhere */
    ngx_smartlyq_cache_t      *cache;
    ngx_msec_t                 cache_ttl;
    ngx_msec_t                 cache_negative_ttl;
    ngx_msec_t                 cache_keep;  /* the longest stale= */
    ngx_smartlyq_epoch_t      *epoch;       /* in the cache zone */
    ngx_smartlyq_notify_t     *notify;      /* this worker's subscriber */
    uint32_t                   redis_id;    /* crc32 of the address */

    /* issue 15: replicas and Sentinel (ngx_smartlyq_sentinel.c) */
    ngx_smartlyq_addr_t        write_addr;  /* smartlyq_redis_write */
    ngx_smartlyq_sentinel_t   *sentinel;    /* smartlyq_redis_sentinel */
    ngx_str_t                  redis_name;  /* "sentinel:<master>" */
} ngx_smartlyq_main_conf_t;


typedef struct {
    ngx_flag_t                 enable;
    ngx_flag_t                 publishable;
    ngx_flag_t                 oauth;       /* smartlyq_oauth */
    ngx_str_t                  scope;       /* "family" or "family:perm" */
    ngx_str_t                  scope_read;  /* what GET, HEAD need */
    ngx_str_t                  scope_write; /* what other methods need */
    uint32_t                   scope_read_bit;   /* the same as bits */
    uint32_t                   scope_write_bit;
    ngx_msec_t                 timeout;
    size_t                     body_limit;
    time_t                     retry_after;
    ngx_flag_t                 cache;       /* smartlyq_cache off: 0 */
    ngx_str_t                  cache_name;  /* smartlyq_cache name */
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
    uint32_t                   scope_bits;     /* the key's (sq_scope.h) */
    ngx_str_t                  key_workspaces; /* "" or "1,2" */
    ngx_str_t                  app_id;         /* "": a key, not a token */
    ngx_str_t                  needed_scope;
    time_t                     rotated_at;
    time_t                     sunset_at;      /* 0: not rotated */

    sq_ws_rc_t                 query_rc;       /* workspace_id in the */
    uint64_t                   query_id;       /* query string */
    const char                *key;            /* in r->headers_in */
    size_t                     key_len;

    ngx_smartlyq_pending_t    *pending;

    ngx_smartlyq_cache_status_e  cache_status;
    ngx_uint_t                 snapped;        /* stamp read */
    ngx_smartlyq_stamp_t       stamp;
} ngx_smartlyq_ctx_t;


extern ngx_module_t  ngx_http_smartlyq_module;


#endif /* NGX_SMARTLYQ_MODULE_H */
