/*
 * sq_sentinel: the sentinels' list, the readers of their replies and
 * sqctl's synchronous lookup of the primary.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sq_sentinel.h"


static int
sq_sentinel_name_ok(const char *s)
{
    size_t  i, len;

    len = strlen(s);
    if (len == 0 || len > SQ_MASTER_NAME_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'
              || s[i] == '.' || s[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
sq_sentinel_parse(const char *list, const char *master,
    sq_sentinel_conf_t *sc)
{
    char         item[300];
    size_t       len;
    const char  *p, *comma;

    memset(sc, 0, sizeof(*sc));

    if (list == NULL || master == NULL || !sq_sentinel_name_ok(master)) {
        return -1;
    }

    memcpy(sc->master, master, strlen(master) + 1);

    for (p = list; ; p = comma + 1) {
        comma = strchr(p, ',');
        len = comma != NULL ? (size_t) (comma - p) : strlen(p);

        if (len == 0 || len >= sizeof(item) || sc->n == SQ_SENTINEL_MAX) {
            goto failed;
        }

        memcpy(item, p, len);
        item[len] = '\0';

        if (sq_redis_addr_parse(item, &sc->addr[sc->n]) != 0
            || sc->addr[sc->n].is_unix)
        {
            goto failed;
        }
        sc->n++;

        if (comma == NULL) {
            return 0;
        }
    }

failed:

    memset(sc, 0, sizeof(*sc));
    return -1;
}


void
sq_sentinel_set_auth(sq_sentinel_conf_t *sc, const sq_redis_auth_t *a)
{
    size_t  i;

    for (i = 0; i < sc->n; i++) {
        sc->addr[i].auth = *a;
    }
}


void
sq_sentinel_clear(sq_sentinel_conf_t *sc)
{
    size_t  i;

    for (i = 0; i < SQ_SENTINEL_MAX; i++) {
        sq_redis_auth_clear(&sc->addr[i].auth);
    }
}


/* "1".."65535" of len bytes */
static int
sq_sentinel_port(const char *s, size_t len, int *port)
{
    int     n;
    size_t  i;

    if (len == 0 || len > 5) {
        return -1;
    }

    for (i = 0, n = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        n = n * 10 + (s[i] - '0');
    }

    if (n < 1 || n > 65535) {
        return -1;
    }

    *port = n;

    return 0;
}


/* host (no space, no bracket) and port into a; 0 or -1 */
static int
sq_sentinel_set(sq_redis_addr_t *a, const char *host, size_t hlen,
    const char *port, size_t plen)
{
    int  p;

    if (hlen == 0 || hlen >= sizeof(a->host)
        || memchr(host, ' ', hlen) != NULL || memchr(host, '\0', hlen)
        || sq_sentinel_port(port, plen, &p) != 0)
    {
        return -1;
    }

    memcpy(a->host, host, hlen);
    a->host[hlen] = '\0';
    a->port = p;
    a->is_unix = 0;

    return 0;
}


int
sq_sentinel_master_reply(const redisReply *r, sq_redis_addr_t *a)
{
    const redisReply  *h, *p;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        return -1;
    }

    h = r->element[0];
    p = r->element[1];

    if (h->type != REDIS_REPLY_STRING || p->type != REDIS_REPLY_STRING) {
        return -1;
    }

    return sq_sentinel_set(a, h->str, h->len, p->str, p->len);
}


int
sq_sentinel_role_master(const redisReply *r)
{
    const redisReply  *e;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        return 0;
    }

    e = r->element[0];

    return e->type == REDIS_REPLY_STRING && e->len == 6
           && memcmp(e->str, "master", 6) == 0;
}


int
sq_sentinel_switch_parse(const char *msg, size_t len, const char *name,
    sq_redis_addr_t *a)
{
    size_t       i, n, wlen[5];
    const char  *w[5], *end;

    end = msg + len;

    for (n = 0; n < 5; n++) {
        while (msg < end && *msg == ' ') {
            msg++;
        }

        w[n] = msg;
        while (msg < end && *msg != ' ') {
            msg++;
        }
        wlen[n] = (size_t) (msg - w[n]);

        if (wlen[n] == 0) {
            return -1;
        }
    }

    for (i = 0; msg + i < end; i++) {
        if (msg[i] != ' ') {
            return -1;
        }
    }

    if (wlen[0] != strlen(name) || memcmp(w[0], name, wlen[0]) != 0) {
        return -1;
    }

    return sq_sentinel_set(a, w[3], wlen[3], w[4], wlen[4]);
}


/* one sentinel's answer: the primary's address into a; 0 or -1 */
static int
sq_sentinel_ask(const sq_redis_addr_t *s, const char *master,
    int timeout_ms, sq_redis_addr_t *a, char *err, size_t errlen)
{
    int            rc;
    redisContext  *c;
    redisReply    *r;

    c = sq_redis_connect(s, timeout_ms, err, errlen);
    if (c == NULL) {
        return -1;
    }

    r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", master);
    rc = sq_sentinel_master_reply(r, a);

    if (rc != 0) {
        snprintf(err, errlen, "sentinel %s:%d: %s", s->host, s->port,
                 r == NULL ? c->errstr
                 : r->type == REDIS_REPLY_ERROR ? r->str
                 : "no such master");
    }

    if (r != NULL) {
        freeReplyObject(r);
    }
    redisFree(c);

    return rc;
}


redisContext *
sq_sentinel_connect(const sq_sentinel_conf_t *sc,
    const sq_redis_auth_t *auth, int timeout_ms, char *err, size_t errlen)
{
    size_t            i;
    redisReply       *r;
    redisContext     *c;
    sq_redis_addr_t   a;

    snprintf(err, errlen, "no sentinel");

    for (i = 0; i < sc->n; i++) {
        memset(&a, 0, sizeof(a));

        if (sq_sentinel_ask(&sc->addr[i], sc->master, timeout_ms, &a, err,
                            errlen) != 0)
        {
            continue;
        }

        a.auth = *auth;
        c = sq_redis_connect(&a, timeout_ms, err, errlen);
        sq_redis_auth_clear(&a.auth);

        if (c == NULL) {
            continue;
        }

        r = redisCommand(c, "ROLE");
        if (sq_sentinel_role_master(r)) {
            freeReplyObject(r);
            return c;
        }

        snprintf(err, errlen, "%s:%d is not a primary (failover under way)",
                 a.host, a.port);
        if (r != NULL) {
            freeReplyObject(r);
        }
        redisFree(c);
    }

    return NULL;
}
