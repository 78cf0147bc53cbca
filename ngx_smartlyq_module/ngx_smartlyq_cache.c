/*
 * ngx_smartlyq_cache: Redis's answers (key record + membership), shared
 * by the workers in a slab zone, so that a warm request needs no Redis
 * round trip.
 *
 * Layout, as in ngx_http_limit_req_module.c: an rbtree keyed by a hash
 * of (key digest, workspace id) with a full compare, an LRU queue, a
 * couple of expired entries removed per insert and the oldest evicted
 * when the zone is full; the zone is kept across reloads.
 *
 * Invalidation is pushed, not polled (ngx_smartlyq_notify.c): each
 * change to sq:key:<digest> bumps a generation counter chosen by the
 * digest, each change to sq:ws:<id>:members one chosen by the workspace,
 * and a (re)subscription bumps the zone's epoch.  An entry records the
 * three values read *before* its lookup was sent and is good only while
 * all three are unchanged, so an answer computed before a change can
 * never outlive the change's notification.  The epoch is bumped only
 * when no worker has been listening: a worker that subscribes while
 * another one is still hearing from Redis (a reload: the old workers
 * listen until they exit) keeps the entries.  Several digests share a
 * counter: a change costs its neighbours a miss, never a stale grant.
 * Entries end at the key's own expiry or rotation sunset, too, because
 * the passing of time publishes nothing.
 *
 * Some changes publish nothing at all: FLUSHALL, FLUSHDB, SWAPDB, a Redis
 * restarted from an older AOF, notify-keyspace-events turned off, a
 * reload onto another Redis.  The zone remembers the Redis address and
 * the value of its marker key (sq:epoch), which every worker reads with
 * its heartbeat, and bumps the epoch when either changes; a worker that
 * saw the events off bumps it when it sees them back, and so does the
 * first subscription after a worker lost one (ngx_smartlyq_notify.c).
 */

#include "ngx_smartlyq_module.h"


#define NGX_SMARTLYQ_GENS         1024       /* a power of two */
#define NGX_SMARTLYQ_EXPIRE_MAX   2          /* expired entries per insert */
#define NGX_SMARTLYQ_EVICT_MAX    2          /* forced, per try */
#define NGX_SMARTLYQ_TOKENS       128        /* distinct scope names */
#define NGX_SMARTLYQ_TOKEN_LEN    31
#define NGX_SMARTLYQ_PACK_MAX     32         /* scopes in a packed entry */


typedef enum {
    NGX_SMARTLYQ_C_HITS = 0,
    NGX_SMARTLYQ_C_MISSES,
    NGX_SMARTLYQ_C_STALE,
    NGX_SMARTLYQ_C_BYPASS,
    NGX_SMARTLYQ_C_INSERTS,
    NGX_SMARTLYQ_C_EVICTIONS,
    NGX_SMARTLYQ_C_EXPIRED,
    NGX_SMARTLYQ_C_INVALIDATIONS,
    NGX_SMARTLYQ_C_FLUSHES,
    NGX_SMARTLYQ_CACHE_COUNTERS
} ngx_smartlyq_cache_counter_e;


static const char  *ngx_smartlyq_cache_names[] = {
    "smartlyq_cache_hits_total",
    "smartlyq_cache_misses_total",
    "smartlyq_cache_stale_hits_total",
    "smartlyq_cache_bypasses_total",
    "smartlyq_cache_inserts_total",
    "smartlyq_cache_evictions_total",
    "smartlyq_cache_expired_total",
    "smartlyq_cache_invalidations_total",
    "smartlyq_cache_flushes_total"
};

static const char  *ngx_smartlyq_cache_help[] = {
    "Checks answered from the cache.",
    "Checks that found no usable entry and asked Redis.",
    "Grants served past their TTL while Redis was unreachable "
        "(smartlyq_fail_mode stale).",
    "Checks that skipped the cache: invalidations not subscribed, "
        "keyspace events off or the sq:epoch marker missing.",
    "Answers stored.",
    "Entries evicted before their time to make room.",
    "Entries removed after their time.",
    "Keyspace notifications applied (key or membership changes).",
    "Whole-cache invalidations (a subscription nobody held, a lost "
        "subscription, Redis flushed, swapped or replaced, keyspace "
        "events back on)."
};


typedef struct {
    ngx_rbtree_t               rbtree;
    ngx_rbtree_node_t          sentinel;
    ngx_queue_t                queue;          /* LRU, newest at the head */
    ngx_uint_t                 entries;        /* under the lock */
    ngx_atomic_t               epoch;
    ngx_atomic_t               heard_until;    /* some worker listens */
    ngx_atomic_t               subscriptions;  /* ever made */
    ngx_atomic_t               redis;          /* the address's crc32 */
    ngx_atomic_t               marker;         /* sq:epoch's crc32; 0 */
    ngx_atomic_t               lost;           /* a subscription was */
    ngx_atomic_t               key_gen[NGX_SMARTLYQ_GENS];
    ngx_atomic_t               ws_gen[NGX_SMARTLYQ_GENS];
    ngx_atomic_t               counters[NGX_SMARTLYQ_CACHE_COUNTERS];

    /*
     * Scope names, each stored once: an entry keeps its scopes as one
     * byte per name ("packed"), which halves the size of an entry for a
     * key with every scope.  Under the lock; names are never removed.
     */
    ngx_uint_t                 ntokens;
    u_char                     token_len[NGX_SMARTLYQ_TOKENS];
    u_char                     token[NGX_SMARTLYQ_TOKENS]
                                    [NGX_SMARTLYQ_TOKEN_LEN];
} ngx_smartlyq_cache_sh_t;


struct ngx_smartlyq_cache_s {
    ngx_smartlyq_cache_sh_t   *sh;
    ngx_slab_pool_t           *shpool;
    ngx_smartlyq_main_conf_t  *smcf;           /* of this cycle */
};


/* starts at ngx_rbtree_node_t's color, as limit_req's nodes do */
typedef struct {
    u_char                     color;
    u_char                     code;           /* sq_authz_code_t */
    u_char                     mode;           /* of the key record */
    u_char                     type;
    u_char                     user_id_len;
    u_char                     key_id_len;
    u_char                     packed;         /* scopes as token ids */
    uint16_t                   scopes_len;     /* bytes in data */
    uint16_t                   workspaces_len;
    ngx_queue_t                queue;
    uint64_t                   ws;             /* 0: no workspace_id */
    ngx_msec_t                 expires;        /* TTL, ngx_current_msec */
    int64_t                    until;          /* key expiry, unix; 0 */
    int64_t                    rotated_at;
    int64_t                    sunset_at;
    uint32_t                   epoch;          /* as read before lookup */
    uint32_t                   key_gen;
    uint32_t                   ws_gen;
    u_char                     digest[SQ_DIGEST_BYTES];
    u_char                     data[1];        /* ids, scopes, workspaces */
} ngx_smartlyq_cache_node_t;


static ngx_int_t ngx_smartlyq_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_smartlyq_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


#define ngx_smartlyq_node(n)                                                  \
    ((ngx_smartlyq_cache_node_t *) &(n)->color)

#define ngx_smartlyq_count(cache, which)                                      \
    (void) ngx_atomic_fetch_add(&(cache)->sh->counters[which], 1)


/* the digest is a keyed hash already: its first bytes are uniform */
static ngx_uint_t
ngx_smartlyq_key_slot(const u_char *bin)
{
    return ((ngx_uint_t) bin[0] << 8 | bin[1]) & (NGX_SMARTLYQ_GENS - 1);
}


static ngx_uint_t
ngx_smartlyq_ws_slot(uint64_t ws)
{
    return (ngx_uint_t) ((ws * 0x9e3779b97f4a7c15ULL) >> 52)
           & (NGX_SMARTLYQ_GENS - 1);
}


static ngx_rbtree_key_t
ngx_smartlyq_hash(const u_char *bin, uint64_t ws)
{
    uint64_t  h;

    ngx_memcpy(&h, bin + 8, sizeof(uint64_t));

    return (ngx_rbtree_key_t) (h ^ (ws * 0x9e3779b97f4a7c15ULL));
}


static ngx_int_t
ngx_smartlyq_cmp(const u_char *bin, uint64_t ws,
    ngx_smartlyq_cache_node_t *cn)
{
    ngx_int_t  rc;

    rc = ngx_memcmp(bin, cn->digest, SQ_DIGEST_BYTES);

    if (rc != 0) {
        return rc;
    }

    return (ws < cn->ws) ? -1 : (ws > cn->ws);
}


/* configuration */

/*
 * smartlyq_cache zone=name:size [ttl=30s] [negative_ttl=5s];  (http)
 * smartlyq_cache off;                      (http, server, location)
 */
char *
ngx_smartlyq_cache_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_smartlyq_loc_conf_t  *slcf = conf;

    u_char                    *p;
    ssize_t                    size;
    ngx_str_t                 *value, name, s;
    ngx_uint_t                 i;
    ngx_msec_t                 ttl, negative_ttl;
    ngx_smartlyq_cache_t      *cache;
    ngx_smartlyq_main_conf_t  *smcf;

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        if (slcf->cache != NGX_CONF_UNSET) {
            return "is duplicate";
        }

        slcf->cache = 0;
        return NGX_CONF_OK;
    }

    if (cf->cmd_type != NGX_HTTP_MAIN_CONF) {
        return "with zone= is allowed only in the http block; "
               "\"smartlyq_cache off\" turns it off in a server or location";
    }

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_smartlyq_module);

    if (smcf->cache_zone) {
        return "is duplicate";
    }

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

            if (size < (ssize_t) (sizeof(ngx_smartlyq_cache_sh_t)
                                  + 8 * ngx_pagesize))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small", &value[i]);
                return NGX_CONF_ERROR;
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

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_smartlyq_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->cache_zone = ngx_shared_memory_add(cf, &name, size,
                                             &ngx_http_smartlyq_module);
    if (smcf->cache_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (smcf->cache_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    cache->smcf = smcf;
    smcf->cache_zone->init = ngx_smartlyq_cache_init_zone;
    smcf->cache_zone->data = cache;
    smcf->cache = cache;
    smcf->cache_ttl = ttl;
    smcf->cache_negative_ttl = negative_ttl;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}


/* smartlyq_fail_mode closed | stale=<time>; */
char *
ngx_smartlyq_fail_mode_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
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


/* which Redis this cycle's workers read: crc32 of its address */
static uint32_t
ngx_smartlyq_cache_redis_id(ngx_smartlyq_main_conf_t *smcf)
{
    uint32_t  crc;

    ngx_crc32_init(crc);

    if (smcf->unix_path.len) {
        ngx_crc32_update(&crc, (u_char *) "unix:", 5);
        ngx_crc32_update(&crc, smcf->unix_path.data, smcf->unix_path.len);

    } else {
        ngx_crc32_update(&crc, smcf->host.data, smcf->host.len);
        ngx_crc32_update(&crc, (u_char *) &smcf->port, sizeof(ngx_int_t));
    }

    ngx_crc32_final(crc);

    return crc;
}


static ngx_int_t
ngx_smartlyq_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_smartlyq_cache_t  *ocache = data;

    size_t                 len;
    ngx_smartlyq_cache_t  *cache;

    cache = shm_zone->data;
    cache->smcf->redis_id = ngx_smartlyq_cache_redis_id(cache->smcf);

    if (ocache) {
        /* a reload: the entries and counters carry over */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;

        if (cache->sh->redis != cache->smcf->redis_id) {
            /*
             * Another Redis: nothing cached holds for it, and nobody
             * listens to it yet (the old workers listen to the old one).
             */
            cache->sh->redis = cache->smcf->redis_id;
            cache->sh->marker = 0;
            cache->sh->heard_until = ngx_current_msec;
            (void) ngx_atomic_fetch_add(&cache->sh->epoch, 1);
            ngx_smartlyq_count(cache, NGX_SMARTLYQ_C_FLUSHES);

            ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                          "smartlyq: smartlyq_redis changed, the cache "
                          "zone \"%V\" is flushed", &shm_zone->shm.name);
        }

        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_calloc(cache->shpool,
                                sizeof(ngx_smartlyq_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;
    cache->sh->redis = cache->smcf->redis_id;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_smartlyq_cache_insert_value);
    ngx_queue_init(&cache->sh->queue);

    len = sizeof(" in smartlyq_cache zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in smartlyq_cache zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* entries are evicted when the zone is full: no "no memory" alerts */
    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_smartlyq_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t         **p;
    ngx_smartlyq_cache_node_t  *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            cn = ngx_smartlyq_node(node);
            cnt = ngx_smartlyq_node(temp);

            p = (ngx_smartlyq_cmp(cn->digest, cn->ws, cnt) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* lookups; the caller holds the zone's lock */

static ngx_smartlyq_cache_node_t *
ngx_smartlyq_cache_find(ngx_smartlyq_cache_t *cache, const u_char *bin,
    uint64_t ws)
{
    ngx_int_t                   rc;
    ngx_rbtree_key_t            hash;
    ngx_rbtree_node_t          *node, *sentinel;
    ngx_smartlyq_cache_node_t  *cn;

    hash = ngx_smartlyq_hash(bin, ws);
    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        cn = ngx_smartlyq_node(node);
        rc = ngx_smartlyq_cmp(bin, ws, cn);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_smartlyq_cache_delete(ngx_smartlyq_cache_t *cache,
    ngx_smartlyq_cache_node_t *cn)
{
    ngx_rbtree_node_t  *node;

    node = (ngx_rbtree_node_t *)
               ((u_char *) cn - offsetof(ngx_rbtree_node_t, color));

    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, node);
    ngx_slab_free_locked(cache->shpool, node);
    cache->sh->entries--;
}


/* still true, as far as pushed changes and the key's own times go */
static ngx_uint_t
ngx_smartlyq_cache_current(ngx_smartlyq_cache_t *cache,
    ngx_smartlyq_cache_node_t *cn)
{
    ngx_smartlyq_cache_sh_t  *sh = cache->sh;

    if (cn->epoch != (uint32_t) sh->epoch
        || cn->key_gen
           != (uint32_t) sh->key_gen[ngx_smartlyq_key_slot(cn->digest)])
    {
        return 0;
    }

    if (cn->ws
        && cn->ws_gen != (uint32_t) sh->ws_gen[ngx_smartlyq_ws_slot(cn->ws)])
    {
        return 0;
    }

    return cn->until == 0 || ngx_time() < cn->until;
}


/*
 * A couple of entries from the LRU tail that are past their TTL (and
 * past the longest stale= any location may still want them for) or no
 * longer current; with force, the oldest entries whatever their state.
 */
static void
ngx_smartlyq_cache_expire(ngx_smartlyq_cache_t *cache, ngx_msec_t keep,
    ngx_uint_t force)
{
    ngx_uint_t                  n;
    ngx_queue_t                *q;
    ngx_msec_int_t              age;
    ngx_smartlyq_cache_node_t  *cn;

    for (n = 0; n < (force ? NGX_SMARTLYQ_EVICT_MAX
                           : NGX_SMARTLYQ_EXPIRE_MAX); n++)
    {
        if (ngx_queue_empty(&cache->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&cache->sh->queue);
        cn = ngx_queue_data(q, ngx_smartlyq_cache_node_t, queue);

        if (force) {
            ngx_smartlyq_count(cache, NGX_SMARTLYQ_C_EVICTIONS);
            ngx_smartlyq_cache_delete(cache, cn);
            continue;
        }

        age = (ngx_msec_int_t) (ngx_current_msec - cn->expires);

        if (age < (ngx_msec_int_t) keep
            && ngx_smartlyq_cache_current(cache, cn))
        {
            return;
        }

        ngx_smartlyq_count(cache, NGX_SMARTLYQ_C_EXPIRED);
        ngx_smartlyq_cache_delete(cache, cn);
    }
}


/* request side */

static ngx_smartlyq_cache_t *
ngx_smartlyq_cache_for(ngx_http_request_t *r)
{
    ngx_smartlyq_loc_conf_t   *slcf;
    ngx_smartlyq_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module);
    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (smcf->cache == NULL || smcf->cache->sh == NULL || !slcf->cache) {
        return NULL;
    }

    return smcf->cache;
}


/*
 * The scopes "a b c" (single spaces, each a known or new name) as one
 * byte per name into out; the count, or 0 when they do not pack.
 */
static size_t
ngx_smartlyq_cache_pack(ngx_smartlyq_cache_sh_t *sh, const sq_authz_t *a,
    u_char *out)
{
    size_t       n, len;
    ngx_uint_t   t;
    const char  *p, *end, *sp;

    p = a->scopes;
    end = p + a->scopes_len;
    n = 0;

    while (p < end) {
        sp = (const char *) ngx_strlchr((u_char *) p, (u_char *) end,
                                        ' ');
        len = (sp ? sp : end) - p;

        if (len == 0 || len > NGX_SMARTLYQ_TOKEN_LEN
            || n == NGX_SMARTLYQ_PACK_MAX || (sp && sp + 1 == end))
        {
            return 0;
        }

        for (t = 0; t < sh->ntokens; t++) {
            if (sh->token_len[t] == len
                && ngx_memcmp(sh->token[t], p, len) == 0)
            {
                break;
            }
        }

        if (t == sh->ntokens) {
            if (t == NGX_SMARTLYQ_TOKENS) {
                return 0;
            }

            ngx_memcpy(sh->token[t], p, len);
            sh->token_len[t] = (u_char) len;
            sh->ntokens++;
        }

        out[n++] = (u_char) t;
        p += len + (sp ? 1 : 0);
    }

    return n;
}


static void
ngx_smartlyq_cache_unpack(ngx_smartlyq_cache_sh_t *sh,
    ngx_smartlyq_cache_node_t *cn, u_char *p, sq_authz_t *a)
{
    char        *dst;
    ngx_uint_t   i, t;

    if (!cn->packed) {
        a->scopes_len = cn->scopes_len;
        ngx_memcpy(a->scopes, p, a->scopes_len);
        a->scopes[a->scopes_len] = '\0';
        return;
    }

    dst = a->scopes;

    for (i = 0; i < cn->scopes_len; i++) {
        t = p[i];

        if (i > 0) {
            *dst++ = ' ';
        }

        dst = (char *) ngx_cpymem(dst, sh->token[t], sh->token_len[t]);
    }

    *dst = '\0';
    a->scopes_len = dst - a->scopes;
}


/* a cache entry's answer, as sq_authz_parse() would have given it */
static void
ngx_smartlyq_cache_answer(ngx_smartlyq_cache_sh_t *sh,
    ngx_smartlyq_cache_node_t *cn, sq_authz_t *a)
{
    u_char  *p;

    a->code = cn->code;
    a->mode = cn->mode;
    a->type = cn->type;
    a->rotated_at = cn->rotated_at;
    a->sunset_at = cn->sunset_at;
    a->expires_at = 0;

    p = cn->data;

    a->user_id_len = cn->user_id_len;
    ngx_memcpy(a->user_id, p, a->user_id_len);
    a->user_id[a->user_id_len] = '\0';
    p += a->user_id_len;

    a->key_id_len = cn->key_id_len;
    ngx_memcpy(a->key_id, p, a->key_id_len);
    a->key_id[a->key_id_len] = '\0';
    p += a->key_id_len;

    ngx_smartlyq_cache_unpack(sh, cn, p, a);
    p += cn->scopes_len;

    a->workspaces_len = cn->workspaces_len;
    ngx_memcpy(a->workspaces, p, a->workspaces_len);
    a->workspaces[a->workspaces_len] = '\0';
}


/*
 * The request's answer from the cache: NGX_OK with ctx decided, or
 * NGX_DECLINED (ctx then holds the generations to store the answer
 * Redis gives under).  With stale, only a grant that is past its TTL by
 * less than the location's stale= and still current otherwise.
 */
ngx_int_t
ngx_smartlyq_cache_get(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    ngx_uint_t stale)
{
    u_char                     *bin;
    sq_authz_t                  a;
    ngx_uint_t                  ok;
    ngx_msec_int_t              age;
    ngx_smartlyq_cache_t       *cache;
    ngx_smartlyq_cache_sh_t    *sh;
    ngx_smartlyq_loc_conf_t    *slcf;
    ngx_smartlyq_main_conf_t   *smcf;
    ngx_smartlyq_cache_node_t  *cn;

    cache = ngx_smartlyq_cache_for(r);
    if (cache == NULL) {
        return NGX_DECLINED;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module);
    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);
    sh = cache->sh;

    bin = ctx->digest_bin;

    if (!stale) {
        /* read before the lookup is sent: see the top of this file */
        ctx->snap_epoch = (uint32_t) sh->epoch;
        ctx->snap_key_gen = (uint32_t) sh->key_gen[ngx_smartlyq_key_slot(bin)];
        ctx->snap_ws_gen = ctx->workspace_num
            ? (uint32_t) sh->ws_gen[ngx_smartlyq_ws_slot(ctx->workspace_num)]
            : 0;
        ctx->snapped = 1;

        if (!ngx_smartlyq_notify_trusted(smcf)) {
            ctx->cache_status = NGX_SMARTLYQ_CACHE_BYPASS;
            ngx_smartlyq_count(cache, NGX_SMARTLYQ_C_BYPASS);
            return NGX_DECLINED;
        }
    }

    ok = 0;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_smartlyq_cache_find(cache, bin, ctx->workspace_num);

    if (cn && ngx_smartlyq_cache_current(cache, cn)) {
        age = (ngx_msec_int_t) (ngx_current_msec - cn->expires);

        if (age < 0) {
            ok = 1;

        } else if (stale && cn->code == SQ_AUTHZ_OK
                   && age < (ngx_msec_int_t) slcf->stale)
        {
            ok = 1;
        }
    }

    if (ok) {
        ngx_queue_remove(&cn->queue);
        ngx_queue_insert_head(&sh->queue, &cn->queue);
        ngx_smartlyq_cache_answer(sh, cn, &a);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    if (!ok) {
        if (!stale) {
            ctx->cache_status = NGX_SMARTLYQ_CACHE_MISS;
            ngx_smartlyq_count(cache, NGX_SMARTLYQ_C_MISSES);
        }

        return NGX_DECLINED;
    }

    ctx->cache_status = stale ? NGX_SMARTLYQ_CACHE_STALE
                              : NGX_SMARTLYQ_CACHE_HIT;
    ngx_smartlyq_count(cache, stale ? NGX_SMARTLYQ_C_STALE
                                    : NGX_SMARTLYQ_C_HITS);

    if (ngx_smartlyq_lookup_apply(r, ctx, &a) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* Redis's answer for the request, stored under the generations read */
void
ngx_smartlyq_cache_put(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    const sq_authz_t *a)
{
    u_char                     *p, *bin;
    u_char                      packed[NGX_SMARTLYQ_PACK_MAX];
    size_t                      size, npacked;
    int64_t                     until;
    ngx_msec_t                  ttl;
    ngx_uint_t                  tries;
    ngx_rbtree_node_t          *node;
    ngx_smartlyq_cache_t       *cache;
    ngx_smartlyq_main_conf_t   *smcf;
    ngx_smartlyq_cache_node_t  *cn;

    cache = ngx_smartlyq_cache_for(r);

    if (cache == NULL || !ctx->snapped
        || a->code < SQ_AUTHZ_OK || a->code > SQ_AUTHZ_FORBIDDEN)
    {
        return;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module);

    if (cache->sh->redis != smcf->redis_id) {
        return;     /* an old worker, reading a Redis the zone left */
    }

    until = sq_authz_until(a);

    if (until < 0 || (until > 0 && until <= ngx_time())) {
        return;     /* an old function library, or already over */
    }

    ttl = (a->code == SQ_AUTHZ_OK) ? smcf->cache_ttl
                                   : smcf->cache_negative_ttl;

    if (ttl == 0) {
        return;
    }

    bin = ctx->digest_bin;

    ngx_shmtx_lock(&cache->shpool->mutex);

    npacked = ngx_smartlyq_cache_pack(cache->sh, a, packed);

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_smartlyq_cache_node_t, data)
           + a->user_id_len + a->key_id_len
           + (npacked ? npacked : a->scopes_len) + a->workspaces_len;

    cn = ngx_smartlyq_cache_find(cache, bin, ctx->workspace_num);
    if (cn) {
        ngx_smartlyq_cache_delete(cache, cn);   /* replaced below */
    }

    ngx_smartlyq_cache_expire(cache, smcf->cache_keep, 0);

    node = NULL;

    for (tries = 0; tries < 4; tries++) {
        node = ngx_slab_alloc_locked(cache->shpool, size);
        if (node) {
            break;
        }

        ngx_smartlyq_cache_expire(cache, 0, 1);
    }

    if (node == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "smartlyq: cache zone full, answer not stored");
        return;
    }

    cn = ngx_smartlyq_node(node);

    node->key = ngx_smartlyq_hash(bin, ctx->workspace_num);
    cn->code = (u_char) a->code;
    cn->mode = (u_char) a->mode;
    cn->type = (u_char) a->type;
    cn->ws = ctx->workspace_num;
    cn->expires = ngx_current_msec + ttl;
    cn->until = until;
    cn->rotated_at = a->rotated_at;
    cn->sunset_at = a->sunset_at;
    cn->epoch = ctx->snap_epoch;
    cn->key_gen = ctx->snap_key_gen;
    cn->ws_gen = ctx->snap_ws_gen;
    ngx_memcpy(cn->digest, bin, SQ_DIGEST_BYTES);

    cn->user_id_len = (u_char) a->user_id_len;
    cn->key_id_len = (u_char) a->key_id_len;
    cn->packed = (npacked != 0);
    cn->scopes_len = (uint16_t) (npacked ? npacked : a->scopes_len);
    cn->workspaces_len = (uint16_t) a->workspaces_len;

    p = ngx_cpymem(cn->data, a->user_id, a->user_id_len);
    p = ngx_cpymem(p, a->key_id, a->key_id_len);
    p = npacked ? ngx_cpymem(p, packed, npacked)
                : ngx_cpymem(p, a->scopes, a->scopes_len);
    ngx_memcpy(p, a->workspaces, a->workspaces_len);

    ngx_rbtree_insert(&cache->sh->rbtree, node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);
    cache->sh->entries++;

    ngx_shmtx_unlock(&cache->shpool->mutex);

    ngx_smartlyq_count(cache, NGX_SMARTLYQ_C_INSERTS);
}


/* invalidation, from ngx_smartlyq_notify.c */

/*
 * No zone, or a zone a reload has pointed at another Redis than this
 * (old) worker's: it neither reads, fills nor vouches for it.
 */
static ngx_uint_t
ngx_smartlyq_cache_foreign(ngx_smartlyq_main_conf_t *smcf)
{
    return smcf->cache == NULL || smcf->cache->sh == NULL
           || smcf->cache->sh->redis != smcf->redis_id;
}


/* sq:key:<64 hex digits> changed */
void
ngx_smartlyq_cache_bump_key(ngx_smartlyq_main_conf_t *smcf, const u_char *hex,
    size_t len)
{
    u_char      bin[2];
    ngx_uint_t  i;

    if (smcf->cache == NULL || smcf->cache->sh == NULL
        || len != SQ_DIGEST_HEX_LEN)
    {
        return;
    }

    for (i = 0; i < len; i++) {
        if (!((hex[i] >= '0' && hex[i] <= '9')
              || (hex[i] >= 'a' && hex[i] <= 'f')))
        {
            return;     /* not a record the edge reads */
        }
    }

    bin[0] = (u_char) ngx_hextoi((u_char *) hex, 2);
    bin[1] = (u_char) ngx_hextoi((u_char *) hex + 2, 2);

    (void) ngx_atomic_fetch_add(
               &smcf->cache->sh->key_gen[ngx_smartlyq_key_slot(bin)], 1);
    ngx_smartlyq_count(smcf->cache, NGX_SMARTLYQ_C_INVALIDATIONS);
}


/* sq:ws:<id>:members changed */
void
ngx_smartlyq_cache_bump_ws(ngx_smartlyq_main_conf_t *smcf, uint64_t ws)
{
    if (smcf->cache == NULL || smcf->cache->sh == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(
               &smcf->cache->sh->ws_gen[ngx_smartlyq_ws_slot(ws)], 1);
    ngx_smartlyq_count(smcf->cache, NGX_SMARTLYQ_C_INVALIDATIONS);
}


/*
 * A worker that is subscribed has heard from Redis at "heard": someone
 * listens until heard + window.
 */
void
ngx_smartlyq_cache_listening(ngx_smartlyq_main_conf_t *smcf,
    ngx_msec_t until)
{
    ngx_atomic_uint_t         old;
    ngx_smartlyq_cache_sh_t  *sh;

    if (ngx_smartlyq_cache_foreign(smcf)) {
        return;
    }

    sh = smcf->cache->sh;

    for ( ;; ) {
        old = sh->heard_until;

        if ((ngx_msec_int_t) (until - (ngx_msec_t) old) <= 0
            || ngx_atomic_cmp_set(&sh->heard_until, old, until))
        {
            return;
        }
    }
}


/*
 * This worker has just subscribed.  If no other worker was listening a
 * moment ago, changes may have gone unheard, and if a worker lost its
 * subscription since the last one, Redis may have been restarted from
 * an older AOF: either way every entry is dropped.
 */
void
ngx_smartlyq_cache_subscribed(ngx_smartlyq_main_conf_t *smcf,
    ngx_msec_t window)
{
    ngx_smartlyq_cache_sh_t  *sh;

    if (ngx_smartlyq_cache_foreign(smcf)) {
        return;
    }

    sh = smcf->cache->sh;

    if ((ngx_msec_int_t) ((ngx_msec_t) sh->heard_until - ngx_current_msec)
        <= 0
        || (sh->lost && ngx_atomic_cmp_set(&sh->lost, 1, 0)))
    {
        sh->lost = 0;
        (void) ngx_atomic_fetch_add(&sh->epoch, 1);
        ngx_smartlyq_count(smcf->cache, NGX_SMARTLYQ_C_FLUSHES);
    }

    (void) ngx_atomic_fetch_add(&sh->subscriptions, 1);
    ngx_smartlyq_cache_listening(smcf, ngx_current_msec + window);
}


/* this worker stops listening and cannot vouch for "until" any more */
void
ngx_smartlyq_cache_unlistening(ngx_smartlyq_main_conf_t *smcf)
{
    if (!ngx_smartlyq_cache_foreign(smcf)) {
        smcf->cache->sh->heard_until = ngx_current_msec;
    }
}


/*
 * A worker lost its subscription: the Redis the next one is made to may
 * be another one, or one restarted from an older AOF with the very same
 * marker, so the next subscription drops every entry.  Not now: until
 * then, smartlyq_fail_mode stale may still need them.
 */
void
ngx_smartlyq_cache_lost(ngx_smartlyq_main_conf_t *smcf)
{
    if (!ngx_smartlyq_cache_foreign(smcf)) {
        smcf->cache->sh->lost = 1;
    }
}


/* every entry goes: a worker saw Redis change in a way nobody heard */
void
ngx_smartlyq_cache_flush(ngx_smartlyq_main_conf_t *smcf)
{
    if (!ngx_smartlyq_cache_foreign(smcf)) {
        (void) ngx_atomic_fetch_add(&smcf->cache->sh->epoch, 1);
        ngx_smartlyq_count(smcf->cache, NGX_SMARTLYQ_C_FLUSHES);
    }
}


/*
 * A worker's heartbeat read the crc32 of Redis's sq:epoch marker (0: it
 * is absent).  Another value than the zone's flushes the cache: FLUSHALL,
 * FLUSHDB, SWAPDB, or another Redis.  A late answer from before a change
 * may flip it back once: that costs a flush, never a stale entry.
 */
void
ngx_smartlyq_cache_marker(ngx_smartlyq_main_conf_t *smcf, uint32_t marker)
{
    ngx_atomic_uint_t         old;
    ngx_smartlyq_cache_sh_t  *sh;

    if (ngx_smartlyq_cache_foreign(smcf)) {
        return;
    }

    sh = smcf->cache->sh;
    old = sh->marker;

    if (old != marker && ngx_atomic_cmp_set(&sh->marker, old, marker)) {
        (void) ngx_atomic_fetch_add(&sh->epoch, 1);
        ngx_smartlyq_count(smcf->cache, NGX_SMARTLYQ_C_FLUSHES);
    }
}


/*
 * May the cache be read as far as the zone knows: the zone is this
 * worker's Redis's, and its marker is there.
 */
ngx_uint_t
ngx_smartlyq_cache_usable(ngx_smartlyq_main_conf_t *smcf)
{
    ngx_smartlyq_cache_sh_t  *sh;

    if (ngx_smartlyq_cache_foreign(smcf)) {
        return 0;
    }

    sh = smcf->cache->sh;

    return sh->marker != 0;
}


/* how many subscriptions workers have made: a handover's signal */
ngx_uint_t
ngx_smartlyq_cache_subscriptions(ngx_smartlyq_main_conf_t *smcf)
{
    if (smcf->cache == NULL || smcf->cache->sh == NULL) {
        return 0;
    }

    return smcf->cache->sh->subscriptions;
}


/* Prometheus text for ngx_smartlyq_metrics.c */
u_char *
ngx_smartlyq_cache_metrics_text(ngx_smartlyq_main_conf_t *smcf, u_char *p,
    u_char *last)
{
    size_t                    used;
    ngx_uint_t                i, entries, pages;
    ngx_smartlyq_cache_t     *cache;
    ngx_smartlyq_cache_sh_t  *sh;

    cache = smcf->cache;

    if (cache == NULL || cache->sh == NULL) {
        return p;
    }

    sh = cache->sh;

    for (i = 0; i < NGX_SMARTLYQ_CACHE_COUNTERS; i++) {
        p = ngx_smartlyq_metrics_counter(p, last, ngx_smartlyq_cache_names[i],
                                         ngx_smartlyq_cache_help[i],
                                         sh->counters[i]);
    }

    ngx_shmtx_lock(&cache->shpool->mutex);
    entries = sh->entries;
    pages = (cache->shpool->end - cache->shpool->start) / ngx_pagesize;
    used = (pages - cache->shpool->pfree) * ngx_pagesize;
    ngx_shmtx_unlock(&cache->shpool->mutex);

    p = ngx_slprintf(p, last,
            "# HELP smartlyq_cache_entries Answers in the cache.\n"
            "# TYPE smartlyq_cache_entries gauge\n"
            "smartlyq_cache_entries %ui\n"
            "# HELP smartlyq_cache_bytes_used Bytes of the cache zone in "
            "use (whole slab pages).\n"
            "# TYPE smartlyq_cache_bytes_used gauge\n"
            "smartlyq_cache_bytes_used %uz\n"
            "# HELP smartlyq_cache_bytes Size of the cache zone.\n"
            "# TYPE smartlyq_cache_bytes gauge\n"
            "smartlyq_cache_bytes %uz\n",
            entries, used, pages * ngx_pagesize);

    return p;
}
