/*
 * ngx_smartlyq_sentinel: the edge on a replicated Redis.
 *
 *   smartlyq_redis_write host:port;
 *       the edge's own writes (the usage and last-seen flush) go there;
 *       lookups, the cache's watch and the invalidation subscription stay
 *       on smartlyq_redis (which may be a replica).
 *   smartlyq_redis_sentinel host:port [host:port ...] master=NAME
 *       [role=replica|master] [prefer=host:port];
 *   smartlyq_redis_sentinel_password_file path;
 *       the nodes found through Sentinel: writes to the primary, reads
 *       (and the subscription: replicas publish keyspace notifications
 *       for the writes they replay, t/151-sentinel.t) to a replica, the
 *       prefer= one while Sentinel reports it up, else the one in use,
 *       else the first up; the primary with role=master or when no
 *       replica is up.
 *
 * Each worker asks one Sentinel, over a link of its own on the event
 * loop, every NGX_SMARTLYQ_SENTINEL_TICK ms: SENTINEL
 * get-master-addr-by-name, then SENTINEL replicas, and picks the node to
 * read from (ngx_smartlyq_sentinel_replicas_cb: sticky, never a replica
 * flagged s_down or o_down; replicas whose link to the primary is down
 * still count: while the primary is, they all are, and their answers are
 * what keeps reads going).  A Sentinel that fails or does not answer
 * within NGX_SMARTLYQ_SENTINEL_WAIT ms gives way to the next.  A second
 * link to the same Sentinel subscribes to +switch-master, +sdown, -sdown,
 * +slave and +reboot: any of them asks at once rather than at the next
 * tick (the tick alone is enough to be right; the events make it
 * sooner), and so does the loss of the lookup or the write link.  The
 * links move (ngx_smartlyq_link_retarget) when the answer changes.
 *
 * One worker asks for the whole edge: worker 0 publishes each answer in
 * a small shared zone (smartlyq_sentinel_1; the suffix is the layout's
 * version), and while its answer is fresh (NGX_SMARTLYQ_SENTINEL_FRESH)
 * the other workers ask nothing: every NGX_SMARTLYQ_SENTINEL_FOLLOW ms
 * they read the zone and move their own links when the answer changes.
 * A worker 0 that goes silent (stuck, being respawned, no Sentinel
 * answering) makes every worker ask for itself again, as each did before.
 *
 * After each answer applied, the node read from is asked ROLE (by worker
 * 0 alone while the others follow): a change of node, of role (a replica
 * promoted, a primary demoted), of the primary a replica follows, or a
 * replica whose link to its primary comes back (a full resync publishes
 * nothing) bumps the cache's epoch: a new primary may have lost the last
 * writes, and what changed meanwhile may not have been announced.
 */

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "ngx_smartlyq_sentinel.h"
#include "ngx_smartlyq_epoch.h"
#include "ngx_smartlyq_notify.h"
#include "ngx_smartlyq_redis.h"


#define NGX_SMARTLYQ_SENTINEL_TICK   250    /* ms between questions */
#define NGX_SMARTLYQ_SENTINEL_WAIT   1000   /* ms before the next one */
#define NGX_SMARTLYQ_SENTINEL_PORT   26379
#define NGX_SMARTLYQ_SENTINEL_FOLLOW 50     /* ms between reads of the zone */
#define NGX_SMARTLYQ_SENTINEL_FRESH  1000   /* ms: worker 0's answer holds */


typedef enum {
    NGX_SMARTLYQ_ROLE_UNKNOWN = 0,
    NGX_SMARTLYQ_ROLE_MASTER,
    NGX_SMARTLYQ_ROLE_REPLICA
} ngx_smartlyq_role_e;


/* worker 0's last answer, in the shared zone */
typedef struct {
    uint32_t                   master;      /* crc32 of master=NAME */
    ngx_uint_t                 seq;         /* bumped on each change */
    ngx_msec_t                 updated;     /* ngx_current_msec, monotonic */
    u_char                     primary[NGX_SOCKADDR_STRLEN + 1];
    ngx_int_t                  primary_port;
    u_char                     read[NGX_SOCKADDR_STRLEN + 1];
    ngx_int_t                  read_port;
} ngx_smartlyq_sentinel_sh_t;


struct ngx_smartlyq_sentinel_s {
    /* configuration */
    ngx_array_t                addrs;       /* of ngx_smartlyq_addr_t */
    ngx_str_t                  master;
    ngx_uint_t                 role_master; /* role=master */
    ngx_smartlyq_addr_t        prefer;      /* port 0: none */
    ngx_str_t                  password_file;
    sq_redis_auth_t            auth;        /* to the Sentinels */
    ngx_shm_zone_t            *zone;        /* worker 0's answer */

    /* this worker's */
    ngx_smartlyq_main_conf_t  *smcf;
    ngx_log_t                 *log;
    ngx_smartlyq_link_t       *link;        /* to addrs[current] */
    ngx_smartlyq_link_t       *sub;         /* its events, subscribed */
    ngx_uint_t                 current;
    ngx_event_t                tick;        /* cancelable */
    ngx_uint_t                 asking;      /* a question in flight */
    ngx_msec_t                 asked;
    ngx_uint_t                 failures;    /* of addrs[current] */
    ngx_uint_t                 moving;      /* in apply(): links moved */
    ngx_slab_pool_t           *shpool;
    ngx_smartlyq_sentinel_sh_t *sh;
    uint32_t                   master_crc;
    ngx_uint_t                 seq;         /* of the answer followed */

    u_char                     primary[NGX_SOCKADDR_STRLEN + 1];
    ngx_int_t                  primary_port;
    u_char                     named[NGX_SOCKADDR_STRLEN + 1];
    ngx_int_t                  named_port;  /* the primary just named */
    u_char                     read[NGX_SOCKADDR_STRLEN + 1];
    ngx_int_t                  read_port;

    ngx_smartlyq_role_e        role;        /* of the node read from */
    u_char                     follows[NGX_SOCKADDR_STRLEN + 8];
    ngx_uint_t                 synced;      /* its link to it is up */
};


/* configuration */

/* host[:port] (resolved here, once) into addr; NGX_ERROR: logged */
static ngx_int_t
ngx_smartlyq_sentinel_addr(ngx_conf_t *cf, ngx_str_t *text,
    in_port_t default_port, ngx_smartlyq_addr_t *addr, const char *what)
{
    u_char     *p;
    ngx_url_t   u;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *text;
    u.default_port = default_port;

    if (text->len == 0 || (text->len > 5
                           && ngx_strncmp(text->data, "unix:", 5) == 0)
        || ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0
        || u.uri.len)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %s address \"%V\"%s%s, expected "
                           "host:port or [ipv6]:port", what, text,
                           u.err ? ": " : "", u.err ? u.err : "");
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    addr->host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                                   p, NGX_SOCKADDR_STRLEN, 0);
    addr->host.data = p;
    addr->port = ngx_inet_get_port(u.addrs[0].sockaddr);

    if (addr->host.len < 3 || addr->port == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s address \"%V\" cannot be used", what, text);
        return NGX_ERROR;
    }

    if (addr->host.data[0] == '[') {        /* hiredis wants IPv6 bare */
        addr->host.data++;
        addr->host.len -= 2;
    }

    return NGX_OK;
}


static ngx_smartlyq_sentinel_t *
ngx_smartlyq_sentinel_conf(ngx_conf_t *cf, ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_sentinel_t  *sn;

    if (smcf->sentinel) {
        return smcf->sentinel;
    }

    sn = ngx_pcalloc(cf->pool, sizeof(ngx_smartlyq_sentinel_t));
    if (sn == NULL) {
        return NULL;
    }

    if (ngx_array_init(&sn->addrs, cf->pool, 3, sizeof(ngx_smartlyq_addr_t))
        != NGX_OK)
    {
        return NULL;
    }

    smcf->sentinel = sn;

    return sn;
}


/* smartlyq_redis_write host:port; */
char *
ngx_smartlyq_redis_write_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_smartlyq_main_conf_t  *smcf = conf;

    ngx_str_t  *value;

    if (smcf->write_addr.port) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_smartlyq_sentinel_addr(cf, &value[1], 6379, &smcf->write_addr,
                                   "redis write")
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a name=value parameter: NGX_OK, NGX_ERROR (logged); NGX_DECLINED: none */
static ngx_int_t
ngx_smartlyq_sentinel_param(ngx_conf_t *cf, ngx_smartlyq_sentinel_t *sn,
    ngx_str_t *v)
{
    ngx_str_t  s;

    if (v->len >= 7 && ngx_strncmp(v->data, "master=", 7) == 0) {
        if (sn->master.len || v->len == 7) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s master= in \"%V\"",
                               sn->master.len ? "duplicate" : "empty", v);
            return NGX_ERROR;
        }

        sn->master.data = v->data + 7;
        sn->master.len = v->len - 7;
        return NGX_OK;
    }

    if (v->len >= 5 && ngx_strncmp(v->data, "role=", 5) == 0) {
        s.data = v->data + 5;
        s.len = v->len - 5;

        if (s.len == 6 && ngx_strncmp(s.data, "master", 6) == 0) {
            sn->role_master = 1;
            return NGX_OK;
        }

        if (s.len == 7 && ngx_strncmp(s.data, "replica", 7) == 0) {
            sn->role_master = 0;
            return NGX_OK;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid role \"%V\", expected replica or master",
                           &s);
        return NGX_ERROR;
    }

    if (v->len >= 7 && ngx_strncmp(v->data, "prefer=", 7) == 0) {
        if (sn->prefer.port) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "duplicate prefer=");
            return NGX_ERROR;
        }

        s.data = v->data + 7;
        s.len = v->len - 7;

        return ngx_smartlyq_sentinel_addr(cf, &s, 6379, &sn->prefer,
                                          "prefer=");
    }

    if (ngx_strlchr(v->data, v->data + v->len, '=') != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", v);
        return NGX_ERROR;
    }

    return NGX_DECLINED;
}


/* the shared answer survives a reload; a new zone starts empty */
static ngx_int_t
ngx_smartlyq_sentinel_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_smartlyq_sentinel_t  *osn = data;
    ngx_smartlyq_sentinel_t  *sn = shm_zone->data;

    if (osn) {
        sn->shpool = osn->shpool;
        sn->sh = osn->sh;
        return NGX_OK;
    }

    sn->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        sn->sh = sn->shpool->data;
        return NGX_OK;
    }

    sn->sh = ngx_slab_calloc(sn->shpool, sizeof(ngx_smartlyq_sentinel_sh_t));
    if (sn->sh == NULL) {
        return NGX_ERROR;
    }

    sn->shpool->data = sn->sh;

    return NGX_OK;
}


static ngx_int_t
ngx_smartlyq_sentinel_zone(ngx_conf_t *cf, ngx_smartlyq_sentinel_t *sn)
{
    ngx_str_t  name;

    ngx_str_set(&name, "smartlyq_sentinel_1");

    sn->zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                     &ngx_http_smartlyq_module);
    if (sn->zone == NULL) {
        return NGX_ERROR;
    }

    sn->zone->init = ngx_smartlyq_sentinel_init_zone;
    sn->zone->data = sn;

    ngx_crc32_init(sn->master_crc);
    ngx_crc32_update(&sn->master_crc, sn->master.data, sn->master.len);
    ngx_crc32_final(sn->master_crc);

    return NGX_OK;
}


/*
 * smartlyq_redis_sentinel host:port [host:port ...] master=NAME
 *     [role=replica|master] [prefer=host:port];
 */
char *
ngx_smartlyq_sentinel_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_smartlyq_main_conf_t  *smcf = conf;

    u_char                   *p;
    ngx_int_t                 rc;
    ngx_str_t                *value;
    ngx_uint_t                i;
    ngx_smartlyq_addr_t      *a;
    ngx_smartlyq_sentinel_t  *sn;

    if (smcf->redis_name.len) {
        return "is duplicate";
    }

    if (smcf->port != NGX_CONF_UNSET || smcf->unix_path.len) {
        return "cannot be used with \"smartlyq_redis\"";
    }

    sn = ngx_smartlyq_sentinel_conf(cf, smcf);
    if (sn == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        rc = ngx_smartlyq_sentinel_param(cf, sn, &value[i]);
        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_OK) {
            continue;
        }

        a = ngx_array_push(&sn->addrs);
        if (a == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_smartlyq_sentinel_addr(cf, &value[i],
                                       NGX_SMARTLYQ_SENTINEL_PORT, a,
                                       "sentinel")
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (sn->addrs.nelts == 0) {
        return "needs at least one sentinel address";
    }

    if (sn->master.len == 0) {
        return "needs master=NAME";
    }

    if (sn->role_master && sn->prefer.port) {
        return "cannot have prefer= with role=master";
    }

    if (ngx_smartlyq_sentinel_zone(cf, sn) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, sizeof("sentinel:") - 1 + sn->master.len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->redis_name.data = p;
    smcf->redis_name.len = ngx_cpymem(ngx_cpymem(p, "sentinel:", 9),
                                      sn->master.data, sn->master.len) - p;

    return NGX_CONF_OK;
}


static void
ngx_smartlyq_sentinel_wipe(void *data)
{
    sq_redis_auth_clear(data);
}


/* smartlyq_redis_sentinel_password_file path; as the Redis one */
char *
ngx_smartlyq_sentinel_password_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_smartlyq_main_conf_t  *smcf = conf;

    char                      err[NGX_MAX_PATH + 128];
    ngx_str_t                *value;
    ngx_pool_cleanup_t       *cln;
    ngx_smartlyq_sentinel_t  *sn;

    sn = ngx_smartlyq_sentinel_conf(cf, smcf);
    if (sn == NULL) {
        return NGX_CONF_ERROR;
    }

    if (sn->password_file.len) {
        return "is duplicate";
    }

    value = cf->args->elts;
    sn->password_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &sn->password_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_smartlyq_sentinel_wipe;
    cln->data = &sn->auth;

    if (sq_redis_auth_load((const char *) sn->password_file.data, &sn->auth,
                           err, sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the http block is read: the directives that need one another */
char *
ngx_smartlyq_sentinel_check(ngx_conf_t *cf, ngx_smartlyq_main_conf_t *smcf)
{
    if (smcf->sentinel && smcf->redis_name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"smartlyq_redis_sentinel_password_file\" needs "
                           "\"smartlyq_redis_sentinel\"");
        return NGX_CONF_ERROR;
    }

    if (smcf->redis_name.len && smcf->write_addr.port) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"smartlyq_redis_write\" cannot be used with "
                           "\"smartlyq_redis_sentinel\": writes go to the "
                           "primary it names");
        return NGX_CONF_ERROR;
    }

    if (smcf->write_addr.port && smcf->port == NGX_CONF_UNSET
        && smcf->unix_path.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"smartlyq_redis_write\" needs "
                           "\"smartlyq_redis\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the worker's side: replies */

static ngx_uint_t
ngx_smartlyq_reply_str(redisReply *r, const char *s)
{
    size_t  n = ngx_strlen(s);

    return r != NULL
           && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
           && (size_t) r->len == n && ngx_strncmp(r->str, s, n) == 0;
}


static ngx_int_t
ngx_smartlyq_reply_port(redisReply *r)
{
    ngx_int_t  port;

    if (r == NULL) {
        return NGX_ERROR;
    }

    if (r->type == REDIS_REPLY_INTEGER) {
        return (r->integer > 0 && r->integer < 65536)
               ? (ngx_int_t) r->integer : NGX_ERROR;
    }

    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 5) {
        return NGX_ERROR;
    }

    port = ngx_atoi((u_char *) r->str, r->len);

    return (port > 0 && port < 65536) ? port : NGX_ERROR;
}


/* a host as Sentinel names it: bounded, no spaces, no port */
static ngx_uint_t
ngx_smartlyq_reply_host(redisReply *r)
{
    return r != NULL && r->type == REDIS_REPLY_STRING && r->len > 0
           && r->len <= NGX_SOCKADDR_STRLEN
           && ngx_strlchr((u_char *) r->str, (u_char *) r->str + r->len, ' ')
              == NULL;
}


static ngx_uint_t
ngx_smartlyq_same(u_char *host, ngx_int_t port, ngx_str_t *h, ngx_int_t p)
{
    return port == p && ngx_strlen(host) == h->len
           && ngx_strncmp(host, h->data, h->len) == 0;
}


static void ngx_smartlyq_sentinel_next(ngx_smartlyq_sentinel_t *sn);


/* a question failed: after two in a row, ask the next Sentinel */
static void
ngx_smartlyq_sentinel_failed(ngx_smartlyq_sentinel_t *sn, const char *why)
{
    sn->asking = 0;

    if (++sn->failures >= 2) {
        ngx_log_error(NGX_LOG_WARN, sn->log, 0,
                      "smartlyq: sentinel %V:%i: %s, asking the next one",
                      &((ngx_smartlyq_addr_t *) sn->addrs.elts)[sn->current]
                       .host,
                      ((ngx_smartlyq_addr_t *) sn->addrs.elts)[sn->current]
                       .port, why);
        ngx_smartlyq_sentinel_next(sn);
    }
}


static void
ngx_smartlyq_sentinel_next(ngx_smartlyq_sentinel_t *sn)
{
    ngx_smartlyq_addr_t  *a;

    sn->failures = 0;

    if (sn->addrs.nelts < 2) {
        return;
    }

    sn->current = (sn->current + 1) % sn->addrs.nelts;
    a = sn->addrs.elts;
    (void) ngx_smartlyq_link_retarget(sn->link, &a[sn->current].host,
                                      a[sn->current].port);
    (void) ngx_smartlyq_link_retarget(sn->sub, &a[sn->current].host,
                                      a[sn->current].port);
}


/*
 * ROLE of the node read from: ["master", ...] or ["slave", host, port,
 * state, offset].  A change the cache cannot have heard of flushes it.
 */
static void
ngx_smartlyq_sentinel_role_cb(void *reply, void *data)
{
    ngx_smartlyq_sentinel_t  *sn = data;

    u_char               *p, follows[NGX_SOCKADDR_STRLEN + 8];
    ngx_uint_t            synced, flush;
    redisReply           *r = reply;
    ngx_smartlyq_role_e   role;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
        return;
    }

    ngx_memzero(follows, sizeof(follows));
    synced = 0;

    if (ngx_smartlyq_reply_str(r->element[0], "master")) {
        role = NGX_SMARTLYQ_ROLE_MASTER;

    } else if (ngx_smartlyq_reply_str(r->element[0], "slave")
               && r->elements >= 4
               && ngx_smartlyq_reply_host(r->element[1])
               && ngx_smartlyq_reply_port(r->element[2]) != NGX_ERROR)
    {
        role = NGX_SMARTLYQ_ROLE_REPLICA;
        p = ngx_snprintf(follows, sizeof(follows) - 1, "%*s:%i",
                         (size_t) r->element[1]->len, r->element[1]->str,
                         ngx_smartlyq_reply_port(r->element[2]));
        *p = '\0';
        synced = ngx_smartlyq_reply_str(r->element[3], "connected");

    } else {
        return;
    }

    flush = 0;

    if (sn->role != NGX_SMARTLYQ_ROLE_UNKNOWN) {
        if (role != sn->role) {
            ngx_log_error(NGX_LOG_NOTICE, sn->log, 0,
                          "smartlyq: redis %s:%i is now a %s: cache flushed",
                          sn->read, sn->read_port,
                          role == NGX_SMARTLYQ_ROLE_MASTER ? "primary"
                                                           : "replica");
            flush = 1;

        } else if (role == NGX_SMARTLYQ_ROLE_REPLICA
                   && (ngx_strcmp(follows, sn->follows) != 0
                       || (synced && !sn->synced)))
        {
            ngx_log_error(NGX_LOG_NOTICE, sn->log, 0,
                          "smartlyq: replica %s:%i synced with %s: "
                          "cache flushed", sn->read, sn->read_port, follows);
            flush = 1;
        }
    }

    if (flush) {
        ngx_smartlyq_epoch_flush(sn->smcf);
    }

    sn->role = role;
    sn->synced = synced;
    ngx_memcpy(sn->follows, follows, sizeof(follows));
}


static void
ngx_smartlyq_sentinel_ask_role(ngx_smartlyq_sentinel_t *sn)
{
    static const char    *argv[] = { "ROLE" };
    static const size_t   lens[] = { 4 };

    (void) ngx_smartlyq_link_send(sn->smcf->link, 1, argv, lens,
                                  ngx_smartlyq_sentinel_role_cb, sn);
}


/* worker 0: the answer it applied, for the others */
static void
ngx_smartlyq_sentinel_publish(ngx_smartlyq_sentinel_t *sn)
{
    ngx_smartlyq_sentinel_sh_t  *sh = sn->sh;

    if (sh == NULL || ngx_worker != 0) {
        return;
    }

    ngx_shmtx_lock(&sn->shpool->mutex);

    if (sh->master != sn->master_crc || sh->primary_port != sn->primary_port
        || sh->read_port != sn->read_port
        || ngx_strcmp(sh->primary, sn->primary) != 0
        || ngx_strcmp(sh->read, sn->read) != 0)
    {
        sh->master = sn->master_crc;
        ngx_memcpy(sh->primary, sn->primary, sizeof(sh->primary));
        sh->primary_port = sn->primary_port;
        ngx_memcpy(sh->read, sn->read, sizeof(sh->read));
        sh->read_port = sn->read_port;
        sh->seq++;
    }

    sh->updated = ngx_current_msec;

    ngx_shmtx_unlock(&sn->shpool->mutex);
}


static void ngx_smartlyq_sentinel_apply(ngx_smartlyq_sentinel_t *sn,
    ngx_str_t *primary, ngx_int_t primary_port, ngx_str_t *read,
    ngx_int_t read_port);


/*
 * Another worker than 0: while worker 0's answer is fresh, follow it and
 * ask nothing (1); else (0) ask for itself.  The links move (apply) only
 * from the tick, never from a link's own hook.
 */
static ngx_uint_t
ngx_smartlyq_sentinel_follow(ngx_smartlyq_sentinel_t *sn, ngx_uint_t move)
{
    u_char                       primary[NGX_SOCKADDR_STRLEN + 1];
    u_char                       read[NGX_SOCKADDR_STRLEN + 1];
    ngx_int_t                    primary_port, read_port;
    ngx_str_t                    p, r;
    ngx_uint_t                   seq;
    ngx_smartlyq_sentinel_sh_t  *sh = sn->sh;

    if (sh == NULL || ngx_worker == 0) {
        return 0;
    }

    ngx_shmtx_lock(&sn->shpool->mutex);

    if (sh->master != sn->master_crc || sh->read_port == 0
        || sh->primary_port == 0
        || ngx_current_msec - sh->updated >= NGX_SMARTLYQ_SENTINEL_FRESH)
    {
        ngx_shmtx_unlock(&sn->shpool->mutex);
        return 0;
    }

    seq = sh->seq;
    ngx_memcpy(primary, sh->primary, sizeof(primary));
    primary_port = sh->primary_port;
    ngx_memcpy(read, sh->read, sizeof(read));
    read_port = sh->read_port;

    ngx_shmtx_unlock(&sn->shpool->mutex);

    if (!move) {
        return 1;
    }

    p.data = primary;
    p.len = ngx_strlen(primary);
    r.data = read;
    r.len = ngx_strlen(read);

    /* a change, or this worker's own answer (asked before it followed) */
    if (seq != sn->seq
        || !ngx_smartlyq_same(sn->primary, sn->primary_port, &p, primary_port)
        || !ngx_smartlyq_same(sn->read, sn->read_port, &r, read_port))
    {
        sn->seq = seq;
        ngx_smartlyq_sentinel_apply(sn, &p, primary_port, &r, read_port);
    }

    return 1;
}


/* the links go where Sentinel says */
static void
ngx_smartlyq_sentinel_apply(ngx_smartlyq_sentinel_t *sn, ngx_str_t *primary,
    ngx_int_t primary_port, ngx_str_t *read, ngx_int_t read_port)
{
    ngx_smartlyq_link_t  *sub;

    sn->moving = 1;

    if (!ngx_smartlyq_same(sn->primary, sn->primary_port, primary,
                           primary_port))
    {
        ngx_log_error(NGX_LOG_NOTICE, sn->log, 0,
                      "smartlyq: sentinel: primary of \"%V\" is %V:%i",
                      &sn->master, primary, primary_port);
        ngx_memcpy(sn->primary, primary->data, primary->len);
        sn->primary[primary->len] = '\0';
        sn->primary_port = primary_port;
    }

    (void) ngx_smartlyq_link_retarget(sn->smcf->write_link, primary,
                                      primary_port);

    if (!ngx_smartlyq_same(sn->read, sn->read_port, read, read_port)) {
        if (sn->read_port) {
            /* another node: it may not have what the last one had */
            ngx_smartlyq_epoch_flush(sn->smcf);
        }

        ngx_log_error(NGX_LOG_NOTICE, sn->log, 0,
                      "smartlyq: sentinel: reading from %V:%i (%s)%s",
                      read, read_port,
                      (read_port == primary_port
                       && read->len == primary->len
                       && ngx_strncmp(read->data, primary->data, read->len)
                          == 0)
                      ? "the primary" : "a replica",
                      sn->read_port ? ": cache flushed" : "");
        ngx_memcpy(sn->read, read->data, read->len);
        sn->read[read->len] = '\0';
        sn->read_port = read_port;
        sn->role = NGX_SMARTLYQ_ROLE_UNKNOWN;
        sn->synced = 0;
        sn->follows[0] = '\0';
    }

    (void) ngx_smartlyq_link_retarget(sn->smcf->link, read, read_port);

    sub = ngx_smartlyq_notify_link(sn->smcf);
    if (sub) {
        (void) ngx_smartlyq_link_retarget(sub, read, read_port);
    }

    sn->moving = 0;

    ngx_smartlyq_sentinel_publish(sn);
    ngx_smartlyq_sentinel_ask_role(sn);
}


/*
 * One of SENTINEL replicas' entries (a flat field, value list): 0, not
 * to be read from (s_down, o_down, or no address); 1, "disconnected"
 * (Sentinel's own link to it is down: the node in use is kept then, as
 * Sentinel kills every client of a node it reconfigures, its own too);
 * 2, up.
 */
static ngx_uint_t
ngx_smartlyq_sentinel_replica(redisReply *e, ngx_str_t *host,
    ngx_int_t *port)
{
    size_t       j;
    u_char      *last;
    ngx_uint_t   up;
    redisReply  *f, *v;

    if (e == NULL || e->type != REDIS_REPLY_ARRAY) {
        return 0;
    }

    host->len = 0;
    *port = NGX_ERROR;
    up = 0;

    for (j = 0; j + 1 < e->elements; j += 2) {
        f = e->element[j];
        v = e->element[j + 1];

        if (ngx_smartlyq_reply_str(f, "ip") && ngx_smartlyq_reply_host(v)) {
            host->data = (u_char *) v->str;
            host->len = v->len;

        } else if (ngx_smartlyq_reply_str(f, "port")) {
            *port = ngx_smartlyq_reply_port(v);

        } else if (ngx_smartlyq_reply_str(f, "flags")
                   && v->type == REDIS_REPLY_STRING)
        {
            last = (u_char *) v->str + v->len;

            if (ngx_strlcasestrn((u_char *) v->str, last,
                                 (u_char *) "_down", 5 - 1)
                != NULL)
            {
                return 0;                       /* s_down, o_down */
            }

            up = ngx_strlcasestrn((u_char *) v->str, last,
                                  (u_char *) "disconnected", 12 - 1)
                 ? 1 : 2;
        }
    }

    return (host->len && *port != NGX_ERROR) ? up : 0;
}


/*
 * Which node to read from: the preferred replica if up, else the one in
 * use if listed and not down, else the first up, else the one in use
 * while the link to it is up (just after a failover Sentinel lists no
 * replica for a moment: no move to the primary and back, each a flush
 * and a few lookups failed), else the primary.
 */
static void
ngx_smartlyq_sentinel_replicas_cb(void *reply, void *data)
{
    ngx_smartlyq_sentinel_t  *sn = data;

    size_t        i;
    ngx_int_t     port, first_port;
    ngx_str_t     host, first, primary, current;
    redisReply   *r = reply;
    ngx_uint_t    state, listed;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        ngx_smartlyq_sentinel_failed(sn, "no answer to SENTINEL replicas");
        return;
    }

    sn->asking = 0;
    sn->failures = 0;

    primary.data = sn->named;
    primary.len = ngx_strlen(sn->named);
    current.data = sn->read;
    current.len = ngx_strlen(sn->read);
    first.len = 0;
    first_port = 0;
    listed = 0;

    for (i = 0; i < r->elements; i++) {
        state = ngx_smartlyq_sentinel_replica(r->element[i], &host, &port);

        if (state == 0) {
            continue;
        }

        if (state == 2 && sn->prefer.port && port == sn->prefer.port
            && host.len == sn->prefer.host.len
            && ngx_strncmp(host.data, sn->prefer.host.data, host.len) == 0)
        {
            ngx_smartlyq_sentinel_apply(sn, &primary, sn->named_port, &host,
                                        port);
            return;
        }

        if (ngx_smartlyq_same(sn->read, sn->read_port, &host, port)) {
            listed = 1;

        } else if (state == 2 && first.len == 0) {
            first = host;
            first_port = port;
        }
    }

    if (sn->read_port
        && (listed || (first.len == 0
                       && ngx_smartlyq_link_context(sn->smcf->link) != NULL)))
    {
        ngx_smartlyq_sentinel_apply(sn, &primary, sn->named_port, &current,
                                    sn->read_port);
        return;
    }

    if (first.len) {
        ngx_smartlyq_sentinel_apply(sn, &primary, sn->named_port, &first,
                                    first_port);
        return;
    }

    ngx_smartlyq_sentinel_apply(sn, &primary, sn->named_port, &primary,
                                sn->named_port);
}


static void
ngx_smartlyq_sentinel_master_cb(void *reply, void *data)
{
    ngx_smartlyq_sentinel_t  *sn = data;

    const char   *argv[3];
    size_t        lens[3];
    ngx_int_t     port;
    ngx_str_t     host;
    redisReply   *r = reply;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || !ngx_smartlyq_reply_host(r->element[0])
        || (port = ngx_smartlyq_reply_port(r->element[1])) == NGX_ERROR)
    {
        ngx_smartlyq_sentinel_failed(sn, "no primary named");
        return;
    }

    host.data = (u_char *) r->element[0]->str;
    host.len = r->element[0]->len;

    if (sn->role_master) {
        sn->asking = 0;
        sn->failures = 0;
        ngx_smartlyq_sentinel_apply(sn, &host, port, &host, port);
        return;
    }

    /* kept for the replicas' answer (the reply is freed on return) */
    ngx_memcpy(sn->named, host.data, host.len);
    sn->named[host.len] = '\0';
    sn->named_port = port;

    argv[0] = "SENTINEL";
    lens[0] = 8;
    argv[1] = "replicas";
    lens[1] = 8;
    argv[2] = (const char *) sn->master.data;
    lens[2] = sn->master.len;

    if (ngx_smartlyq_link_send(sn->link, 3, argv, lens,
                               ngx_smartlyq_sentinel_replicas_cb, sn)
        != NGX_OK)
    {
        ngx_smartlyq_sentinel_failed(sn, "SENTINEL replicas not sent");
    }
}


static void
ngx_smartlyq_sentinel_ask(ngx_smartlyq_sentinel_t *sn)
{
    const char  *argv[3];
    size_t       lens[3];

    argv[0] = "SENTINEL";
    lens[0] = 8;
    argv[1] = "get-master-addr-by-name";
    lens[1] = sizeof("get-master-addr-by-name") - 1;
    argv[2] = (const char *) sn->master.data;
    lens[2] = sn->master.len;

    if (ngx_smartlyq_link_send(sn->link, 3, argv, lens,
                               ngx_smartlyq_sentinel_master_cb, sn)
        != NGX_OK)
    {
        ngx_smartlyq_sentinel_failed(sn, "not reachable");
        return;
    }

    sn->asking = 1;
    sn->asked = ngx_current_msec;
}


/* a message on the subscribed link: Sentinel saw something; ask now */
static void
ngx_smartlyq_sentinel_event_cb(redisAsyncContext *ac, void *data,
    void *privdata)
{
    redisReply               *r = data;
    ngx_smartlyq_sentinel_t  *sn = privdata;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3
        || !ngx_smartlyq_reply_str(r->element[0], "message")
        || r->element[1]->type != REDIS_REPLY_STRING)
    {
        return;     /* a confirmation, or the link is going */
    }

    ngx_log_error(NGX_LOG_INFO, sn->log, 0,
                  "smartlyq: sentinel event %*s",
                  (size_t) ngx_min(r->element[1]->len, 32),
                  r->element[1]->str);

    if (!sn->asking && !ngx_exiting && !ngx_quit && !ngx_terminate
        && !ngx_smartlyq_sentinel_follow(sn, 0))
    {
        ngx_smartlyq_sentinel_ask(sn);
    }
}


/* the subscribed link is up (again): subscribe */
static void
ngx_smartlyq_sentinel_sub_up(void *data)
{
    ngx_smartlyq_sentinel_t  *sn = data;

    redisAsyncContext  *ac;

    static const char    *argv[] = {
        "SUBSCRIBE", "+switch-master", "+sdown", "-sdown", "+slave",
        "+reboot"
    };
    static const size_t   lens[] = { 9, 14, 6, 6, 6, 7 };

    ac = ngx_smartlyq_link_context(sn->sub);
    if (ac == NULL) {
        return;
    }

    if (redisAsyncCommandArgv(ac, ngx_smartlyq_sentinel_event_cb, sn, 6,
                              argv, lens)
        != REDIS_OK)
    {
        ngx_smartlyq_link_drop(sn->sub, "SUBSCRIBE could not be queued");
    }
}


/* a lookup or write link lost (not moved by us): ask Sentinel now */
static void
ngx_smartlyq_sentinel_node_down(void *data)
{
    ngx_smartlyq_sentinel_t  *sn = data;

    if (!sn->moving && !sn->asking && !ngx_exiting && !ngx_quit
        && !ngx_terminate && !ngx_smartlyq_sentinel_follow(sn, 0))
    {
        ngx_smartlyq_sentinel_ask(sn);
    }
}


static void
ngx_smartlyq_sentinel_tick(ngx_event_t *ev)
{
    ngx_smartlyq_sentinel_t  *sn = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (sn->asking
        && ngx_current_msec - sn->asked >= NGX_SMARTLYQ_SENTINEL_WAIT)
    {
        /* its reply, if it ever comes, finds the link moved: NULL */
        sn->failures = 1;
        ngx_smartlyq_sentinel_failed(sn, "no reply within 1s");
    }

    if (ngx_smartlyq_sentinel_follow(sn, 1)) {
        ngx_add_timer(&sn->tick, NGX_SMARTLYQ_SENTINEL_FOLLOW);
        return;
    }

    if (!sn->asking) {
        ngx_smartlyq_sentinel_ask(sn);
    }

    ngx_add_timer(&sn->tick, NGX_SMARTLYQ_SENTINEL_TICK);
}


/* exported: the worker's life */

ngx_int_t
ngx_smartlyq_sentinel_init(ngx_cycle_t *cycle, ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_addr_t      *a;
    ngx_smartlyq_sentinel_t  *sn = smcf->sentinel;

    if (sn == NULL || smcf->redis_name.len == 0) {
        return NGX_OK;
    }

    sn->smcf = smcf;
    sn->log = cycle->log;
    a = sn->addrs.elts;

    sn->link = ngx_smartlyq_link_create_at(cycle, smcf, &a[0].host,
                                           a[0].port, &sn->auth);
    sn->sub = ngx_smartlyq_link_create_at(cycle, smcf, &a[0].host,
                                          a[0].port, &sn->auth);
    if (sn->link == NULL || sn->sub == NULL) {
        return NGX_ERROR;
    }

    ngx_smartlyq_link_hooks(sn->sub, ngx_smartlyq_sentinel_sub_up, NULL, sn);
    ngx_smartlyq_link_hooks(smcf->link, NULL,
                            ngx_smartlyq_sentinel_node_down, sn);
    ngx_smartlyq_link_hooks(smcf->write_link, NULL,
                            ngx_smartlyq_sentinel_node_down, sn);

    sn->tick.handler = ngx_smartlyq_sentinel_tick;
    sn->tick.data = sn;
    sn->tick.log = cycle->log;
    sn->tick.cancelable = 1;

    /* the first question is queued while the link connects */
    ngx_smartlyq_sentinel_ask(sn);
    ngx_add_timer(&sn->tick, NGX_SMARTLYQ_SENTINEL_TICK);

    return NGX_OK;
}


void
ngx_smartlyq_sentinel_exit(ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_sentinel_t  *sn = smcf->sentinel;

    if (sn == NULL || sn->link == NULL) {
        return;
    }

    if (sn->tick.timer_set) {
        ngx_del_timer(&sn->tick);
    }

    ngx_smartlyq_link_exit(sn->sub);
    ngx_smartlyq_link_exit(sn->link);
    sn->sub = NULL;
    sn->link = NULL;
}
