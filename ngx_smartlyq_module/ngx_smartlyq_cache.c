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
 * It is a store: get and put an answer for (key digest, workspace id).
 * Whether an entry is still true is ngx_smartlyq_epoch.c's rule, whose
 * state lives in this zone too; an entry also ends at the key's own
 * expiry or rotation sunset, because the passing of time publishes
 * nothing.
 */

#include "ngx_smartlyq_cache.h"
#include "ngx_smartlyq_epoch.h"


#define NGX_SMARTLYQ_EXPIRE_MAX   2          /* expired entries per insert */
#define NGX_SMARTLYQ_EVICT_MAX    2          /* forced, per try */
#define NGX_SMARTLYQ_TOKENS       128        /* distinct scope names */
#define NGX_SMARTLYQ_TOKEN_LEN    31
#define NGX_SMARTLYQ_PACK_MAX     32         /* scopes in a packed entry */


typedef struct {
    ngx_rbtree_t               rbtree;
    ngx_rbtree_node_t          sentinel;
    ngx_queue_t                queue;          /* LRU, newest at the head */
    ngx_uint_t                 entries;        /* under the lock */
    ngx_smartlyq_epoch_t       epoch;          /* ngx_smartlyq_epoch.c's */
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
    u_char                     app_id_len;     /* 0: a key */
    u_char                     packed;         /* scopes as token ids */
    uint16_t                   scopes_len;     /* bytes in data */
    uint16_t                   workspaces_len;
    ngx_queue_t                queue;
    uint64_t                   ws;             /* 0: no workspace_id */
    ngx_msec_t                 expires;        /* TTL, ngx_current_msec */
    int64_t                    until;          /* key expiry, unix; 0 */
    int64_t                    rotated_at;
    int64_t                    sunset_at;
    ngx_smartlyq_stamp_t       stamp;          /* read before lookup */
    u_char                     digest[SQ_DIGEST_BYTES];
    u_char                     data[1];        /* ids, scopes, workspaces,
                                                  app id */
} ngx_smartlyq_cache_node_t;


static ngx_int_t ngx_smartlyq_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_smartlyq_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


#define ngx_smartlyq_node(n)                                                  \
    ((ngx_smartlyq_cache_node_t *) &(n)->color)

#define ngx_smartlyq_count(cache, which)                                      \
    (void) ngx_atomic_fetch_add(&(cache)->sh->counters[which], 1)


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
 * The zone of "smartlyq_cache_zone zone=name:size" (or the old spelling
 * of it), parsed in ngx_smartlyq_module.c.
 */
char *
ngx_smartlyq_cache_zone(ngx_conf_t *cf, ngx_smartlyq_main_conf_t *smcf,
    ngx_str_t *name, ssize_t size)
{
    ngx_smartlyq_cache_t  *cache;

    if (size < (ssize_t) (sizeof(ngx_smartlyq_cache_sh_t)
                          + 8 * ngx_pagesize))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", name);
        return NGX_CONF_ERROR;
    }

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_smartlyq_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->cache_zone = ngx_shared_memory_add(cf, name, size,
                                             &ngx_http_smartlyq_module);
    if (smcf->cache_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (smcf->cache_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", name);
        return NGX_CONF_ERROR;
    }

    cache->smcf = smcf;
    smcf->cache_zone->init = ngx_smartlyq_cache_init_zone;
    smcf->cache_zone->data = cache;
    smcf->cache = cache;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_smartlyq_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_smartlyq_cache_t  *ocache = data;

    size_t                 len;
    ngx_smartlyq_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache || shm_zone->shm.exists) {
        /* a reload: the entries and counters carry over */
        if (ocache) {
            cache->sh = ocache->sh;
            cache->shpool = ocache->shpool;

        } else {
            cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
            cache->sh = cache->shpool->data;
        }

        if (ngx_smartlyq_epoch_init(cache->smcf, &cache->sh->epoch, 1)
            == NGX_DONE)
        {
            ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                          "smartlyq: smartlyq_redis changed, the cache "
                          "zone \"%V\" is flushed", &shm_zone->shm.name);
        }

        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    cache->sh = ngx_slab_calloc(cache->shpool,
                                sizeof(ngx_smartlyq_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;
    (void) ngx_smartlyq_epoch_init(cache->smcf, &cache->sh->epoch, 0);

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
    if (!ngx_smartlyq_epoch_current(&cache->sh->epoch, cn->digest, cn->ws,
                                    &cn->stamp))
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
    p += a->workspaces_len;

    a->app_id_len = cn->app_id_len;
    ngx_memcpy(a->app_id, p, a->app_id_len);
    a->app_id[a->app_id_len] = '\0';
}


/* is there a cache for this request's location */
ngx_uint_t
ngx_smartlyq_cache_enabled(ngx_http_request_t *r)
{
    return ngx_smartlyq_cache_for(r) != NULL;
}


/* the cache could not be trusted for this request: not even read */
void
ngx_smartlyq_cache_bypass(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    ngx_smartlyq_cache_t  *cache;

    cache = ngx_smartlyq_cache_for(r);
    if (cache == NULL) {
        return;
    }

    ctx->cache_status = NGX_SMARTLYQ_CACHE_BYPASS;
    ngx_smartlyq_count(cache, NGX_SMARTLYQ_C_BYPASS);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "smartlyq: cache bypass");
}


/*
 * The request's answer from the cache into a: NGX_OK, or NGX_DECLINED.
 * With stale, only a grant that is past its TTL by less than the
 * location's stale= and still current otherwise.
 */
ngx_int_t
ngx_smartlyq_cache_get(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    ngx_uint_t stale, sq_authz_t *a)
{
    u_char                     *bin;
    ngx_uint_t                  ok;
    ngx_msec_int_t              age;
    ngx_smartlyq_cache_t       *cache;
    ngx_smartlyq_cache_sh_t    *sh;
    ngx_smartlyq_loc_conf_t    *slcf;
    ngx_smartlyq_cache_node_t  *cn;

    cache = ngx_smartlyq_cache_for(r);
    if (cache == NULL) {
        return NGX_DECLINED;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);
    sh = cache->sh;

    bin = ctx->digest_bin;
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
        ngx_smartlyq_cache_answer(sh, cn, a);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    if (!ok) {
        if (!stale) {
            ctx->cache_status = NGX_SMARTLYQ_CACHE_MISS;
            ngx_smartlyq_count(cache, NGX_SMARTLYQ_C_MISSES);
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "smartlyq: cache miss%s", stale ? " (stale)" : "");

        return NGX_DECLINED;
    }

    ctx->cache_status = stale ? NGX_SMARTLYQ_CACHE_STALE
                              : NGX_SMARTLYQ_CACHE_HIT;
    ngx_smartlyq_count(cache, stale ? NGX_SMARTLYQ_C_STALE
                                    : NGX_SMARTLYQ_C_HITS);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "smartlyq: cache %s", stale ? "stale hit" : "hit");

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

    if (ngx_smartlyq_epoch_foreign(smcf)) {
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
           + (npacked ? npacked : a->scopes_len) + a->workspaces_len
           + a->app_id_len;

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
    cn->stamp = ctx->stamp;
    ngx_memcpy(cn->digest, bin, SQ_DIGEST_BYTES);

    cn->user_id_len = (u_char) a->user_id_len;
    cn->key_id_len = (u_char) a->key_id_len;
    cn->app_id_len = (u_char) a->app_id_len;
    cn->packed = (npacked != 0);
    cn->scopes_len = (uint16_t) (npacked ? npacked : a->scopes_len);
    cn->workspaces_len = (uint16_t) a->workspaces_len;

    p = ngx_cpymem(cn->data, a->user_id, a->user_id_len);
    p = ngx_cpymem(p, a->key_id, a->key_id_len);
    p = npacked ? ngx_cpymem(p, packed, npacked)
                : ngx_cpymem(p, a->scopes, a->scopes_len);
    p = ngx_cpymem(p, a->workspaces, a->workspaces_len);
    ngx_memcpy(p, a->app_id, a->app_id_len);

    ngx_rbtree_insert(&cache->sh->rbtree, node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);
    cache->sh->entries++;

    ngx_shmtx_unlock(&cache->shpool->mutex);

    ngx_smartlyq_count(cache, NGX_SMARTLYQ_C_INSERTS);
}


/* the zone's counters and use, for ngx_smartlyq_metrics.c to print */
ngx_int_t
ngx_smartlyq_cache_stats(ngx_smartlyq_main_conf_t *smcf,
    ngx_smartlyq_cache_stats_t *st)
{
    ngx_uint_t                i, pages;
    ngx_smartlyq_cache_t     *cache;
    ngx_smartlyq_cache_sh_t  *sh;

    cache = smcf->cache;

    if (cache == NULL || cache->sh == NULL) {
        return NGX_DECLINED;
    }

    sh = cache->sh;

    for (i = 0; i < NGX_SMARTLYQ_CACHE_COUNTERS; i++) {
        st->counters[i] = sh->counters[i];
    }

    /* counted by ngx_smartlyq_epoch.c, in the same zone */
    st->counters[NGX_SMARTLYQ_C_INVALIDATIONS] = sh->epoch.invalidations;
    st->counters[NGX_SMARTLYQ_C_FLUSHES] = sh->epoch.flushes;

    ngx_shmtx_lock(&cache->shpool->mutex);
    st->entries = sh->entries;
    pages = (cache->shpool->end - cache->shpool->start) / ngx_pagesize;
    st->used = (pages - cache->shpool->pfree) * ngx_pagesize;
    ngx_shmtx_unlock(&cache->shpool->mutex);

    st->size = pages * ngx_pagesize;

    return NGX_OK;
}
