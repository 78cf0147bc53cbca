/*
 * sq_redis_auth: parses the Redis password file (see sq_redis_auth.h).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sq_redis_auth.h"


#define SQ_REDIS_AUTH_FILE_MAX  512


static int
sq_redis_auth_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}


static int
sq_redis_auth_hex(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')
              || (s[i] >= 'A' && s[i] <= 'F')))
        {
            return 0;
        }
    }

    return 1;
}


static int
sq_redis_auth_name(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > SQ_REDIS_USER_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z')
              || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' || s[i] == '.'
              || s[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/* one trimmed line: "user NAME" (before the password) or the password */
static int
sq_redis_auth_line(const char *s, size_t len, sq_redis_auth_t *a)
{
    while (len > 0 && sq_redis_auth_space(s[0])) {
        s++;
        len--;
    }

    while (len > 0 && sq_redis_auth_space(s[len - 1])) {
        len--;
    }

    if (len == 0) {
        return 0;
    }

    if (a->pass[0] != '\0') {
        return -1;          /* nothing may follow the password */
    }

    if (len > 5 && memcmp(s, "user", 4) == 0 && sq_redis_auth_space(s[4])) {
        if (a->user[0] != '\0') {
            return -1;
        }

        s += 5;
        len -= 5;

        while (len > 0 && sq_redis_auth_space(s[0])) {
            s++;
            len--;
        }

        if (!sq_redis_auth_name(s, len)) {
            return -1;
        }

        memcpy(a->user, s, len);
        a->user[len] = '\0';
        return 0;
    }

    if (len != SQ_REDIS_PASS_LEN || !sq_redis_auth_hex(s, len)) {
        return -1;
    }

    memcpy(a->pass, s, len);
    a->pass[len] = '\0';

    return 0;
}


int
sq_redis_auth_load(const char *path, sq_redis_auth_t *a, char *err,
    size_t errlen)
{
    int      rc;
    FILE    *f;
    char     buf[SQ_REDIS_AUTH_FILE_MAX + 1], *p, *nl, *end;
    size_t   n;

    memset(a, 0, sizeof(*a));

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }

    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);

    rc = (n == sizeof(buf)) ? -1 : 0;
    end = buf + (rc == 0 ? n : 0);

    for (p = buf; rc == 0 && p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) {
            nl = end;
        }

        rc = sq_redis_auth_line(p, (size_t) (nl - p), a);
    }

    sodium_memzero(buf, sizeof(buf));

    if (rc != 0 || a->pass[0] == '\0') {
        sq_redis_auth_clear(a);
        snprintf(err, errlen, "\"%s\" must hold %d hex digits, after an "
                 "optional line \"user NAME\"", path, SQ_REDIS_PASS_LEN);
        return -1;
    }

    return 0;
}


void
sq_redis_auth_clear(sq_redis_auth_t *a)
{
    sodium_memzero(a, sizeof(*a));
}
