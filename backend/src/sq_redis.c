/*
 * sq_redis: hiredis connections.  Errors from Redis go to the log and
 * to callers' err buffers, never into HTTP responses.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "sq_keys.h"
#include "sq_log.h"
#include "sq_redis.h"
#include "sq_text.h"


static int64_t
sq_monotonic_ms(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static int
sq_redis_parse_port(const char *s, int *port)
{
    int64_t  v;

    if (sq_text_parse_u63(s, strlen(s), &v) != 0 || v < 1 || v > 65535) {
        return -1;
    }

    *port = (int) v;

    return 0;
}


int
sq_redis_addr_parse(const char *s, sq_redis_addr_t *a)
{
    size_t       len, hlen;
    const char  *colon, *host;

    memset(a, 0, sizeof(*a));
    len = strlen(s);

    if (len > 5 && strncmp(s, "unix:", 5) == 0) {
        if (len - 5 >= sizeof(a->host) || len - 5 > 107) {
            return -1;
        }
        memcpy(a->host, s + 5, len - 5 + 1);
        a->is_unix = 1;
        return 0;
    }

    colon = strrchr(s, ':');
    if (colon == NULL || sq_redis_parse_port(colon + 1, &a->port) != 0) {
        return -1;
    }

    host = s;
    hlen = (size_t) (colon - s);

    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }

    if (hlen == 0 || hlen >= sizeof(a->host)
        || memchr(host, '[', hlen) != NULL || memchr(host, ']', hlen) != NULL)
    {
        return -1;
    }

    memcpy(a->host, host, hlen);
    a->host[hlen] = '\0';

    return 0;
}


/* AUTH [user] password; 0, or -1 and err set */
static int
sq_redis_auth(redisContext *c, const sq_redis_auth_t *auth, char *err,
    size_t errlen)
{
    int          rc, argc;
    size_t       len[3];
    const char  *argv[3];
    redisReply  *reply;

    argc = 0;
    argv[argc] = "AUTH";
    len[argc++] = 4;

    if (auth->user[0] != '\0') {
        argv[argc] = auth->user;
        len[argc++] = strlen(auth->user);
    }

    argv[argc] = auth->pass;
    len[argc++] = strlen(auth->pass);

    reply = redisCommandArgv(c, argc, argv, len);
    if (reply == NULL) {
        snprintf(err, errlen, "AUTH: %s", c->errstr);
        return -1;
    }

    rc = 0;
    if (reply->type != REDIS_REPLY_STATUS) {
        /* Redis's error names neither the password nor anything of it */
        snprintf(err, errlen, "AUTH refused: %.*s",
                 reply->type == REDIS_REPLY_ERROR ? (int) reply->len : 0,
                 reply->type == REDIS_REPLY_ERROR ? reply->str : "");
        rc = -1;
    }

    freeReplyObject(reply);

    return rc;
}


redisContext *
sq_redis_connect(const sq_redis_addr_t *a, int timeout_ms, char *err,
    size_t errlen)
{
    redisContext    *c;
    struct timeval   tv;

    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;

    if (a->is_unix) {
        c = redisConnectUnixWithTimeout(a->host, tv);
    } else {
        c = redisConnectWithTimeout(a->host, a->port, tv);
    }

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    if (c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        snprintf(err, errlen, "%s", c->errstr[0] ? c->errstr : "timeout");
        redisFree(c);
        return NULL;
    }

    if (a->auth.pass[0] != '\0'
        && sq_redis_auth(c, &a->auth, err, errlen) != 0)
    {
        redisFree(c);
        return NULL;
    }

    return c;
}


/*
 * 0 when a command got a reply other than an error, which it frees;
 * else -1 with the connection's or Redis's error in err.
 */
static int
sq_redis_reply_ok(redisContext *c, redisReply *reply, char *err,
    size_t errlen)
{
    int  rc;

    if (reply == NULL) {
        snprintf(err, errlen, "%s", c->errstr);
        return -1;
    }

    rc = 0;
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "%.*s", (int) reply->len, reply->str);
        rc = -1;
    }

    freeReplyObject(reply);

    return rc;
}


int
sq_redis_function_load(redisContext *c, const char *src, size_t len,
    char *err, size_t errlen)
{
    redisReply  *reply;

    reply = redisCommand(c, "FUNCTION LOAD REPLACE %b", src, len);

    return sq_redis_reply_ok(c, reply, err, errlen);
}


int
sq_redis_marker(redisContext *c, char *err, size_t errlen)
{
    char            hex[33];
    unsigned char   rnd[16];
    redisReply     *reply;

    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));

    reply = redisCommand(c, "SET %s %s NX", SQ_K_EPOCH, hex);

    return sq_redis_reply_ok(c, reply, err, errlen);
}


int
sq_file_read(const char *path, size_t max, char **out, size_t *len,
    char *err, size_t errlen)
{
    FILE         *f;
    char         *buf;
    size_t        n;
    struct stat   st;

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }

    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)
        || st.st_size <= 0 || (size_t) st.st_size > max)
    {
        snprintf(err, errlen, "\"%s\" is not a regular file of 1..%zu "
                 "bytes", path, max);
        fclose(f);
        return -1;
    }

    buf = malloc((size_t) st.st_size + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        fclose(f);
        return -1;
    }

    n = fread(buf, 1, (size_t) st.st_size, f);
    fclose(f);

    if (n != (size_t) st.st_size) {
        snprintf(err, errlen, "short read on \"%s\"", path);
        free(buf);
        return -1;
    }

    buf[n] = '\0';
    *out = buf;
    *len = n;

    return 0;
}


void
sq_redis_init(sq_redis_t *r, const sq_redis_addr_t *a, char *functions,
    size_t functions_len)
{
    memset(r, 0, sizeof(*r));
    r->addr = *a;
    r->functions = functions;
    r->functions_len = functions_len;
    r->last_try_ms = -SQ_REDIS_RETRY_MS;
}


static void
sq_redis_log_down(sq_redis_t *r, const char *what, const char *err)
{
    if (!r->down_logged) {
        sq_log(SQ_LOG_ERR, "redis %s: %s (retrying)", what, err);
        r->down_logged = 1;
    }
}


redisContext *
sq_redis_get(sq_redis_t *r)
{
    char          err[256];
    int64_t       now;
    redisContext *c;

    if (r->c != NULL) {
        return r->c;
    }

    now = sq_monotonic_ms();
    if (now - r->last_try_ms < SQ_REDIS_RETRY_MS) {
        return NULL;
    }
    r->last_try_ms = now;

    c = sq_redis_connect(&r->addr, SQ_REDIS_TIMEOUT_MS, err, sizeof(err));
    if (c == NULL) {
        sq_redis_log_down(r, "connect", err);
        return NULL;
    }

    if (r->functions != NULL
        && sq_redis_function_load(c, r->functions, r->functions_len, err,
                                  sizeof(err)) != 0)
    {
        sq_redis_log_down(r, "FUNCTION LOAD", err);
        redisFree(c);
        return NULL;
    }

    if (sq_redis_marker(c, err, sizeof(err)) != 0) {
        sq_redis_log_down(r, "SET " SQ_K_EPOCH, err);
        redisFree(c);
        return NULL;
    }

    sq_log(SQ_LOG_INFO, "redis connected%s",
           r->functions != NULL ? ", functions loaded" : "");
    r->down_logged = 0;
    r->c = c;

    return c;
}


void
sq_redis_free(sq_redis_t *r)
{
    if (r->c != NULL) {
        redisFree(r->c);
        r->c = NULL;
    }

    free(r->functions);
    r->functions = NULL;
    sq_redis_auth_clear(&r->addr.auth);
}
