/*
 * sq_authz: the reply of FCALL_RO sq_authz.  See sq_authz.h; the reply's
 * layout is documented beside the function in redis/smartlyq.lua:
 *   {"UNKNOWN"}, or
 *   {code, user_id, key_id, mode, type, scopes, workspaces, rotated_at,
 *    sunset_at, expires_at}
 * (libraries from before the cache send no expires_at: 9 elements).
 */

#include <string.h>

#include "sq_authz.h"


#define SQ_AUTHZ_TIME_MAX   ((int64_t) 1 << 40)     /* far past 2100 */


static const char  *sq_authz_names[] = {
    "INVALID", "ERROR", "OK", "UNKNOWN", "DISABLED", "EXPIRED", "DELETED",
    "ROTATED", "FORBIDDEN"
};


static int
sq_authz_is(const redisReply *e, const char *name)
{
    size_t  n = strlen(name);

    return e->type == REDIS_REPLY_STRING && e->len == n
           && memcmp(e->str, name, n) == 0;
}


/* a string of at most max bytes, each in charset, copied with a NUL */
static int
sq_authz_str(const redisReply *e, const char *charset, size_t max,
    char *dst, size_t *len)
{
    size_t  i;

    if (e->type != REDIS_REPLY_STRING || e->len > max) {
        return -1;
    }

    for (i = 0; i < e->len; i++) {
        if (e->str[i] == '\0' || strchr(charset, e->str[i]) == NULL) {
            return -1;
        }
    }

    memcpy(dst, e->str, e->len);
    dst[e->len] = '\0';
    *len = e->len;

    return 0;
}


/* decimal digits only, no sign, 0..SQ_AUTHZ_TIME_MAX */
static int
sq_authz_time(const redisReply *e, int64_t *t)
{
    size_t   i;
    int64_t  n;

    if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > 19) {
        return -1;
    }

    n = 0;

    for (i = 0; i < e->len; i++) {
        if (e->str[i] < '0' || e->str[i] > '9') {
            return -1;
        }

        n = n * 10 + (e->str[i] - '0');

        if (n > SQ_AUTHZ_TIME_MAX) {
            return -1;
        }
    }

    *t = n;

    return 0;
}


static sq_authz_code_t
sq_authz_code(const redisReply *e)
{
    size_t  i;

    for (i = SQ_AUTHZ_OK; i <= SQ_AUTHZ_FORBIDDEN; i++) {
        if (sq_authz_is(e, sq_authz_names[i])) {
            return (sq_authz_code_t) i;
        }
    }

    return SQ_AUTHZ_INVALID;
}


static int
sq_authz_fields(redisReply **e, size_t n, sq_authz_t *a)
{
    if (sq_authz_str(e[1], "0123456789", SQ_AUTHZ_ID_MAX, a->user_id,
                     &a->user_id_len) != 0
        || a->user_id_len == 0
        || sq_authz_str(e[2], "0123456789", SQ_AUTHZ_ID_MAX, a->key_id,
                        &a->key_id_len) != 0
        || a->key_id_len == 0
        || sq_authz_str(e[5], "abcdefghijklmnopqrstuvwxyz_: ",
                        SQ_AUTHZ_LIST_MAX, a->scopes, &a->scopes_len) != 0
        || sq_authz_str(e[6], "0123456789,", SQ_AUTHZ_LIST_MAX,
                        a->workspaces, &a->workspaces_len) != 0
        || sq_authz_time(e[7], &a->rotated_at) != 0
        || sq_authz_time(e[8], &a->sunset_at) != 0)
    {
        return -1;
    }

    if (sq_authz_is(e[3], "live")) {
        a->mode = SQ_KEY_LIVE;

    } else if (sq_authz_is(e[3], "test")) {
        a->mode = SQ_KEY_TEST;

    } else {
        return -1;
    }

    if (sq_authz_is(e[4], "secret")) {
        a->type = SQ_KEY_SECRET;

    } else if (sq_authz_is(e[4], "publishable")) {
        a->type = SQ_KEY_PUBLISHABLE;

    } else {
        return -1;
    }

    a->expires_at = -1;

    if (n == 10 && sq_authz_time(e[9], &a->expires_at) != 0) {
        return -1;
    }

    return 0;
}


sq_authz_code_t
sq_authz_parse(const redisReply *reply, sq_authz_t *a)
{
    sq_authz_code_t  code;

    memset(a, 0, sizeof(*a));
    a->code = SQ_AUTHZ_INVALID;

    if (reply == NULL) {
        return a->code;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        a->code = SQ_AUTHZ_REDIS_ERROR;
        return a->code;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1
        || reply->element == NULL)
    {
        return a->code;
    }

    code = sq_authz_code(reply->element[0]);

    if (code == SQ_AUTHZ_UNKNOWN) {
        if (reply->elements == 1) {
            a->code = code;
        }

        return a->code;
    }

    if (code == SQ_AUTHZ_INVALID
        || (reply->elements != 9 && reply->elements != 10)
        || sq_authz_fields(reply->element, reply->elements, a) != 0)
    {
        memset(a, 0, sizeof(*a));
        a->code = SQ_AUTHZ_INVALID;
        return a->code;
    }

    a->code = code;

    return a->code;
}


int64_t
sq_authz_until(const sq_authz_t *a)
{
    int64_t  until;

    if (a->expires_at < 0) {
        return -1;
    }

    until = a->expires_at;

    if (a->sunset_at > 0 && (until == 0 || a->sunset_at < until)) {
        until = a->sunset_at;
    }

    return until;
}


const char *
sq_authz_code_name(sq_authz_code_t code)
{
    if ((size_t) code >= sizeof(sq_authz_names) / sizeof(sq_authz_names[0]))
    {
        return "INVALID";
    }

    return sq_authz_names[code];
}
