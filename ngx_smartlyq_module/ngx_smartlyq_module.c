/*
 * ngx_http_smartlyq_module: directives, configuration, phase handler
 * registration and the per-worker Redis link's life.
 */

#include "ngx_smartlyq_module.h"
#include "ngx_smartlyq_cache.h"
#include "ngx_smartlyq_filters.h"
#include "ngx_smartlyq_handler.h"
#include "ngx_smartlyq_metrics.h"
#include "ngx_smartlyq_notify.h"
#include "ngx_smartlyq_redis.h"
#include "ngx_smartlyq_scope.h"
#include "ngx_smartlyq_sentinel.h"
#include "ngx_smartlyq_usage.h"
#include "ngx_smartlyq_variables.h"


static ngx_int_t ngx_smartlyq_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_smartlyq_postconfiguration(ngx_conf_t *cf);
static void *ngx_smartlyq_create_main_conf(ngx_conf_t *cf);
static char *ngx_smartlyq_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_smartlyq_create_loc_conf(ngx_conf_t *cf);
static char *ngx_smartlyq_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_smartlyq_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_smartlyq_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_smartlyq_password_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_smartlyq_password_wipe(void *data);
static char *ngx_smartlyq_cache_zone_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_smartlyq_cache_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_smartlyq_fail_mode(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_smartlyq_init_process(ngx_cycle_t *cycle);
static void ngx_smartlyq_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_smartlyq_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_smartlyq_commands[] = {

    /* smartlyq on|off; */
    { ngx_string("smartlyq"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_smartlyq_loc_conf_t, enable),
      NULL },

    /* smartlyq_publishable on|off; publishable keys here, GET/HEAD only */
    { ngx_string("smartlyq_publishable"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_smartlyq_loc_conf_t, publishable),
      NULL },

    /* smartlyq_oauth on|off; OAuth access tokens (sqo_) here */
    { ngx_string("smartlyq_oauth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_smartlyq_loc_conf_t, oauth),
      NULL },

    /* smartlyq_scope family | family:permission; */
    { ngx_string("smartlyq_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_smartlyq_scope_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* smartlyq_redis host:port | unix:/path; */
    { ngx_string("smartlyq_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_smartlyq_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* === issue 15, "sedge": replicas and Sentinel === */

    /* smartlyq_redis_write host:port; the edge's own writes */
    { ngx_string("smartlyq_redis_write"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_smartlyq_redis_write_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* smartlyq_redis_sentinel host:port ... master=NAME
     *     [role=replica|master] [prefer=host:port]; */
    { ngx_string("smartlyq_redis_sentinel"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_smartlyq_sentinel_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* smartlyq_redis_sentinel_password_file path; AUTH to the Sentinels */
    { ngx_string("smartlyq_redis_sentinel_password_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_smartlyq_sentinel_password_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* === end of issue 15, "sedge" === */

    /* smartlyq_redis_timeout 100ms; per command */
    { ngx_string("smartlyq_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_smartlyq_loc_conf_t, timeout),
      NULL },

    /* smartlyq_redis_connect_timeout 1s; */
    { ngx_string("smartlyq_redis_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_smartlyq_main_conf_t, connect_timeout),
      NULL },

    /* smartlyq_redis_password_file path; ["user NAME" line,] 64 hex */
    { ngx_string("smartlyq_redis_password_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_smartlyq_password_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* smartlyq_key_pepper_file path; 64 hex digits */
    { ngx_string("smartlyq_key_pepper_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_smartlyq_secret_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_smartlyq_main_conf_t, pepper_file),
      NULL },

    /* smartlyq_signing_key_file path; 64 hex digits, shared w/ backend */
    { ngx_string("smartlyq_signing_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_smartlyq_secret_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_smartlyq_main_conf_t, signing_key_file),
      NULL },

    /* smartlyq_body_limit 64k; bodies read for workspace_id */
    { ngx_string("smartlyq_body_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_smartlyq_loc_conf_t, body_limit),
      NULL },

    /* smartlyq_metrics; this location serves Prometheus text */
    { ngx_string("smartlyq_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_smartlyq_metrics_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* smartlyq_cache_zone zone=name:size [ttl=30s] [negative_ttl=5s]; */
    { ngx_string("smartlyq_cache_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_smartlyq_cache_zone_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /*
     * smartlyq_cache name | off; the zone's name, or off (on by default
     * where smartlyq_cache_zone is set); in the http block, the old
     * spelling "smartlyq_cache zone=..." of smartlyq_cache_zone still
     * works for one release, with a warning
     */
    { ngx_string("smartlyq_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_smartlyq_cache_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* smartlyq_fail_mode closed | stale=<time>; when Redis cannot answer */
    { ngx_string("smartlyq_fail_mode"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_smartlyq_fail_mode,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* smartlyq_log_level info | notice | warn | error; of refusals */
    { ngx_string("smartlyq_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_smartlyq_loc_conf_t, log_level),
      &ngx_smartlyq_log_levels },

    /* smartlyq_retry_after 1s; Retry-After of 503 refusals */
    { ngx_string("smartlyq_retry_after"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_smartlyq_loc_conf_t, retry_after),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_smartlyq_module_ctx = {
    ngx_smartlyq_preconfiguration,         /* preconfiguration */
    ngx_smartlyq_postconfiguration,        /* postconfiguration */

    ngx_smartlyq_create_main_conf,         /* create main configuration */
    ngx_smartlyq_init_main_conf,           /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_smartlyq_create_loc_conf,          /* create location configuration */
    ngx_smartlyq_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_smartlyq_module = {
    NGX_MODULE_V1,
    &ngx_smartlyq_module_ctx,              /* module context */
    ngx_smartlyq_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_smartlyq_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_smartlyq_exit_process,             /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_smartlyq_preconfiguration(ngx_conf_t *cf)
{
    if (sq_crypto_init() != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "smartlyq: libsodium initialisation failed");
        return NGX_ERROR;
    }

    return ngx_smartlyq_add_variables(cf);
}


static ngx_int_t
ngx_smartlyq_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_smartlyq_access_handler;

    if (ngx_smartlyq_errors_filter_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_smartlyq_rotation_filter_init(cf);
}


static void *
ngx_smartlyq_create_main_conf(ngx_conf_t *cf)
{
    ngx_smartlyq_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_smartlyq_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     smcf->host = { 0, NULL };
     *     smcf->unix_path = { 0, NULL };
     *     smcf->pepper_file = { 0, NULL };
     *     smcf->signing_key_file = { 0, NULL };
     *     smcf->password_file = { 0, NULL };
     *     smcf->auth = { "", "" };
     *     smcf->pepper, smcf->signing_key, smcf->signer: zeroes;
     *     smcf->used = 0;
     *     smcf->link = NULL;
     *     smcf->write_link = NULL;
     *     smcf->usage = NULL;
     *     smcf->metrics = NULL;
     *     smcf->cache_zone = NULL;
     *     smcf->cache_all = 0;
     *     smcf->cache = NULL;
     *     smcf->cache_ttl = 0;
     *     smcf->cache_negative_ttl = 0;
     *     smcf->cache_keep = 0;
     *     smcf->epoch = NULL;
     *     smcf->notify = NULL;
     *     smcf->redis_id = 0;
     */

    smcf->port = NGX_CONF_UNSET;
    smcf->connect_timeout = NGX_CONF_UNSET_MSEC;

    return smcf;
}


static char *
ngx_smartlyq_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_smartlyq_main_conf_t  *smcf = conf;

    ngx_conf_init_msec_value(smcf->connect_timeout, 1000);

    if (ngx_smartlyq_sentinel_check(cf, smcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_smartlyq_metrics_zone(cf, smcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_smartlyq_create_loc_conf(ngx_conf_t *cf)
{
    ngx_smartlyq_loc_conf_t  *slcf;

    slcf = ngx_pcalloc(cf->pool, sizeof(ngx_smartlyq_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     slcf->scope = { 0, NULL };
     *     slcf->cache_name = { 0, NULL };
     */

    slcf->enable = NGX_CONF_UNSET;
    slcf->publishable = NGX_CONF_UNSET;
    slcf->oauth = NGX_CONF_UNSET;
    slcf->timeout = NGX_CONF_UNSET_MSEC;
    slcf->retry_after = NGX_CONF_UNSET;
    slcf->body_limit = NGX_CONF_UNSET_SIZE;
    slcf->cache = NGX_CONF_UNSET;
    slcf->stale = NGX_CONF_UNSET_MSEC;
    slcf->log_level = NGX_CONF_UNSET_UINT;

    return slcf;
}


static char *
ngx_smartlyq_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_smartlyq_loc_conf_t  *prev = parent;
    ngx_smartlyq_loc_conf_t  *conf = child;

    ngx_smartlyq_main_conf_t  *smcf;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_value(conf->publishable, prev->publishable, 0);
    ngx_conf_merge_value(conf->oauth, prev->oauth, 0);
    if (conf->scope.data == NULL) {     /* smartlyq_scope's four, as one */
        conf->scope = prev->scope;
        conf->scope_read = prev->scope_read;
        conf->scope_write = prev->scope_write;
        conf->scope_read_bit = prev->scope_read_bit;
        conf->scope_write_bit = prev->scope_write_bit;
    }
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 100);
    ngx_conf_merge_sec_value(conf->retry_after, prev->retry_after, 1);
    ngx_conf_merge_size_value(conf->body_limit, prev->body_limit,
                              64 * 1024);
    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_smartlyq_module);

    /*
     * as limit_req: a location uses the cache it names; with the old
     * spelling, smartlyq_cache zone=..., every location uses the zone
     */
    ngx_conf_merge_value(conf->cache, prev->cache, smcf->cache_all);
    ngx_conf_merge_str_value(conf->cache_name, prev->cache_name, "");

    if (conf->cache_name.len
        && (smcf->cache_zone == NULL
            || conf->cache_name.len != smcf->cache_zone->shm.name.len
            || ngx_strncmp(conf->cache_name.data,
                           smcf->cache_zone->shm.name.data,
                           conf->cache_name.len)
               != 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown smartlyq_cache zone \"%V\"",
                           &conf->cache_name);
        return NGX_CONF_ERROR;
    }
    ngx_conf_merge_msec_value(conf->stale, prev->stale, 0);
    /* info: below nginx's default error_log level, as before the directive */
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level,
                              NGX_LOG_INFO);

    if (conf->timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"smartlyq_redis_timeout\" must be positive");
        return NGX_CONF_ERROR;
    }

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    if (smcf->port == NGX_CONF_UNSET && smcf->unix_path.len == 0
        && smcf->redis_name.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"smartlyq\" is on but \"smartlyq_redis\" "
                           "is not set in the http block (nor "
                           "\"smartlyq_redis_sentinel\")");
        return NGX_CONF_ERROR;
    }

    if (smcf->pepper_file.len == 0 || smcf->signing_key_file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"smartlyq\" is on but \"smartlyq_key_pepper_"
                           "file\" and \"smartlyq_signing_key_file\" are "
                           "not both set in the http block");
        return NGX_CONF_ERROR;
    }

    /*
     * With "satisfy any", another access module's "allow" would skip the
     * key check and send the client's own headers upstream: refused.
     */
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->satisfy == NGX_HTTP_SATISFY_ANY) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"smartlyq\" cannot be used with \"satisfy any\"");
        return NGX_CONF_ERROR;
    }

    if (conf->stale && smcf->cache == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"smartlyq_fail_mode stale\" needs "
                           "\"smartlyq_cache_zone\" in the http block");
        return NGX_CONF_ERROR;
    }

    if (conf->stale > smcf->cache_keep) {
        smcf->cache_keep = conf->stale;
    }

    smcf->used = 1;

    return NGX_CONF_OK;
}


/*
 * smartlyq_redis host[:port] | [ipv6]:port | unix:/path.  A host name is
 * resolved here, once: hiredis would resolve it with a blocking
 * getaddrinfo() on every reconnect, on the worker's event loop.
 */
static char *
ngx_smartlyq_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_smartlyq_main_conf_t  *smcf = conf;

    u_char     *p;
    ngx_str_t  *value;
    ngx_url_t   u;

    if (smcf->port != NGX_CONF_UNSET || smcf->unix_path.len) {
        return "is duplicate";
    }

    if (smcf->redis_name.len) {
        return "cannot be used with \"smartlyq_redis_sentinel\"";
    }

    value = cf->args->elts;

    if (value[1].len > 5 && ngx_strncmp(value[1].data, "unix:", 5) == 0) {
        smcf->unix_path.data = value[1].data + 5;
        smcf->unix_path.len = value[1].len - 5;

        if (smcf->unix_path.len >= NGX_MAX_PATH) {
            return "has a socket path that is too long";
        }

        return NGX_CONF_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = value[1];
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0
        || u.uri.len)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid redis address \"%V\"%s%s, expected "
                           "host:port, [ipv6]:port or unix:/path",
                           &value[1], u.err ? ": " : "",
                           u.err ? u.err : "");
        return NGX_CONF_ERROR;
    }

    if (u.naddrs > 1) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "redis host \"%V\" has several addresses, "
                           "using %V", &u.host, &u.addrs[0].name);
    }

    /* the first address, as text without the port, for hiredis */
    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                                   p, NGX_SOCKADDR_STRLEN, 0);
    smcf->host.data = p;
    smcf->port = ngx_inet_get_port(u.addrs[0].sockaddr);

    if (smcf->host.len == 0 || smcf->port == 0) {
        return "has an address that cannot be used";
    }

    /* ngx_sock_ntop() brackets IPv6 addresses; hiredis wants them bare */
    if (smcf->host.data[0] == '[') {
        smcf->host.data++;
        smcf->host.len -= 2;
    }

    return NGX_CONF_OK;
}


/* reads a 64-hex-digit secret at configuration time */
static char *
ngx_smartlyq_secret_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_smartlyq_main_conf_t  *smcf = conf;

    char        err[NGX_MAX_PATH + 128];
    u_char     *dst;
    ngx_str_t  *value, *field;

    field = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (field->len) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *field = value[1];

    if (ngx_conf_full_name(cf->cycle, field, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    dst = (field == &smcf->pepper_file) ? smcf->pepper : smcf->signing_key;

    /* field->data is NUL-terminated by ngx_conf_full_name() */
    if (sq_secret_load((const char *) field->data, dst, err, sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    if (dst == smcf->signing_key) {
        sq_signer_init(&smcf->signer, smcf->signing_key);
    }

    return NGX_CONF_OK;
}


/*
 * Reads the Redis password (and ACL user) at configuration time; every
 * link a worker opens sends AUTH first (ngx_smartlyq_redis.c).
 */
static char *
ngx_smartlyq_password_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_smartlyq_main_conf_t  *smcf = conf;

    char                 err[NGX_MAX_PATH + 128];
    ngx_str_t           *value;
    ngx_pool_cleanup_t  *cln;

    if (smcf->password_file.len) {
        return "is duplicate";
    }

    value = cf->args->elts;
    smcf->password_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &smcf->password_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_smartlyq_password_wipe;
    cln->data = &smcf->auth;

    /* password_file.data is NUL-terminated by ngx_conf_full_name() */
    if (sq_redis_auth_load((const char *) smcf->password_file.data,
                           &smcf->auth, err, sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the configuration's pool goes: no copy of the password stays behind */
static void
ngx_smartlyq_password_wipe(void *data)
{
    sq_redis_auth_clear(data);
}


static ngx_int_t
ngx_smartlyq_init_process(ngx_cycle_t *cycle)
{
    ngx_smartlyq_main_conf_t  *smcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_smartlyq_module);

    if (smcf == NULL || !smcf->used) {
        return NGX_OK;
    }

    smcf->link = ngx_smartlyq_link_create(cycle, smcf);
    smcf->write_link = smcf->write_addr.port
        ? ngx_smartlyq_link_create_at(cycle, smcf, &smcf->write_addr.host,
                                      smcf->write_addr.port, NULL)
        : ngx_smartlyq_link_create(cycle, smcf);

    if (smcf->link == NULL || smcf->write_link == NULL) {
        return NGX_ERROR;
    }

    if (ngx_smartlyq_notify_init(cycle, smcf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* after the links it moves: the first answer comes on the loop */
    if (ngx_smartlyq_sentinel_init(cycle, smcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_smartlyq_usage_init(cycle, smcf);
}


static void
ngx_smartlyq_exit_process(ngx_cycle_t *cycle)
{
    ngx_smartlyq_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_smartlyq_module);

    if (smcf) {
        ngx_smartlyq_sentinel_exit(smcf);
        ngx_smartlyq_usage_exit(smcf);
        ngx_smartlyq_notify_exit(smcf);
        ngx_smartlyq_link_exit(smcf->link);
        ngx_smartlyq_link_exit(smcf->write_link);
        smcf->link = NULL;
        smcf->write_link = NULL;
    }
}


/*
 * smartlyq_cache_zone zone=name:size [ttl=30s] [negative_ttl=5s];  (http)
 * as limit_req_zone; the old spelling "smartlyq_cache zone=..." comes
 * here too.
 */
static char *
ngx_smartlyq_cache_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_smartlyq_main_conf_t  *smcf = conf;

    u_char      *p;
    char        *rv;
    ssize_t      size;
    ngx_str_t   *value, name, s;
    ngx_uint_t   i;
    ngx_msec_t   ttl, negative_ttl;

    if (smcf->cache_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = 0;
    name.len = 0;
    ttl = 30000;
    negative_ttl = 5000;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            p = (u_char *) ngx_strchr(name.data, ':');

            if (p == NULL) {
                goto invalid;
            }

            name.len = p - name.data;
            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;
            size = ngx_parse_size(&s);

            if (name.len == 0 || size == NGX_ERROR) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;
            ttl = ngx_parse_time(&s, 0);

            if (ttl == (ngx_msec_t) NGX_ERROR || ttl == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "negative_ttl=", 13) == 0) {
            s.data = value[i].data + 13;
            s.len = value[i].len - 13;
            negative_ttl = ngx_parse_time(&s, 0);

            if (negative_ttl == (ngx_msec_t) NGX_ERROR) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (name.len == 0) {
        return "needs zone=name:size";
    }

    rv = ngx_smartlyq_cache_zone(cf, smcf, &name, size);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    smcf->cache_ttl = ttl;
    smcf->cache_negative_ttl = negative_ttl;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}


/* smartlyq_cache name | off;  or, deprecated, smartlyq_cache zone=... */
static char *
ngx_smartlyq_cache_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_smartlyq_loc_conf_t  *slcf = conf;

    ngx_str_t                 *value;
    ngx_smartlyq_main_conf_t  *smcf;

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "zone=", 5) == 0) {
        if (cf->cmd_type != NGX_HTTP_MAIN_CONF) {
            return "with zone= is allowed only in the http block; "
                   "\"smartlyq_cache off\" turns it off in a server or "
                   "location";
        }

        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"smartlyq_cache zone=\" is deprecated, "
                           "use \"smartlyq_cache_zone zone=\" instead");

        smcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_smartlyq_module);
        smcf->cache_all = 1;

        return ngx_smartlyq_cache_zone_directive(cf, cmd, smcf);
    }

    if (cf->args->nelts != 2) {
        return "takes a zone name or \"off\"";
    }

    if (slcf->cache != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    if (ngx_strcmp(value[1].data, "off") == 0) {
        slcf->cache = 0;
        return NGX_CONF_OK;
    }

    slcf->cache = 1;
    slcf->cache_name = value[1];

    return NGX_CONF_OK;
}


/* smartlyq_fail_mode closed | stale=<time>; */
static char *
ngx_smartlyq_fail_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_smartlyq_loc_conf_t  *slcf = conf;

    ngx_str_t   *value, s;
    ngx_msec_t   stale;

    if (slcf->stale != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "closed") == 0) {
        slcf->stale = 0;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[1].data, "stale=", 6) != 0) {
        return "must be \"closed\" or \"stale=<time>\"";
    }

    s.data = value[1].data + 6;
    s.len = value[1].len - 6;
    stale = ngx_parse_time(&s, 0);

    if (stale == (ngx_msec_t) NGX_ERROR || stale == 0) {
        return "has an invalid stale= time";
    }

    slcf->stale = stale;

    return NGX_CONF_OK;
}
