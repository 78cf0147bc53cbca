/*
 * sq_resource_page: list parameters.  A cursor is the last id a page
 * returned, wrapped as base64url("c1:<id>") so clients treat it as
 * opaque; the next page holds the ids above it.
 */

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sq_resource.h"
#include "sq_text.h"
#include "sq_workspace.h"

#define SQ_CURSOR_PREFIX    "c1:"
#define SQ_QUERY_NAME_MAX   32
#define SQ_VARIANT          sodium_base64_VARIANT_URLSAFE_NO_PADDING

typedef struct {
    const char  *name;
    int          seen;
    char         value[SQ_CURSOR_MAX + 1];
    size_t       len;
    int          bad;       /* undecodable or too long */
} sq_qparam_t;


int
sq_cursor_encode(uint64_t id, char *out, size_t outlen)
{
    int   n;
    char  raw[32];

    n = snprintf(raw, sizeof(raw), SQ_CURSOR_PREFIX "%llu",
                 (unsigned long long) id);

    if (id == 0 || n <= 0 || (size_t) n >= sizeof(raw)
        || outlen < sodium_base64_ENCODED_LEN((size_t) n, SQ_VARIANT))
    {
        return -1;
    }

    sodium_bin2base64(out, outlen, (const unsigned char *) raw, (size_t) n,
                      SQ_VARIANT);

    return 0;
}


int
sq_cursor_decode(const char *s, size_t len, uint64_t *id)
{
    size_t         n, plen;
    unsigned char  raw[SQ_CURSOR_MAX];

    plen = sizeof(SQ_CURSOR_PREFIX) - 1;

    if (len == 0 || len > SQ_CURSOR_MAX
        || sodium_base642bin(raw, sizeof(raw), s, len, NULL, &n, NULL,
                             SQ_VARIANT) != 0
        || n <= plen || memcmp(raw, SQ_CURSOR_PREFIX, plen) != 0)
    {
        return -1;
    }

    return sq_workspace_parse_id((const char *) raw + plen, n - plen, id);
}


static int
sq_hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}


/* Percent-decodes s[0..len) ('+' is a space); -1 if bad or too long. */
static int
sq_unescape(const char *s, size_t len, char *dst, size_t cap, size_t *out)
{
    int     hi, lo;
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        if (n + 1 >= cap) {
            return -1;
        }

        if (s[i] == '%') {
            hi = i + 2 < len ? sq_hex(s[i + 1]) : -1;
            lo = i + 2 < len ? sq_hex(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return -1;
            }
            dst[n++] = (char) (hi * 16 + lo);
            i += 2;
        } else {
            dst[n++] = s[i] == '+' ? ' ' : s[i];
        }
    }

    dst[n] = '\0';
    *out = n;

    return 0;
}


/* One "name[=value]" of the query; -1 when a parameter comes twice. */
static int
sq_page_param(const char *s, size_t len, sq_qparam_t *p, size_t np,
    char *err, size_t errlen)
{
    char         name[SQ_QUERY_NAME_MAX + 1];
    size_t       i, nlen;
    const char  *eq;

    eq = memchr(s, '=', len);
    nlen = eq != NULL ? (size_t) (eq - s) : len;

    if (sq_unescape(s, nlen, name, sizeof(name), &i) != 0) {
        return 0;       /* not a name of ours */
    }

    for (i = 0; i < np; i++) {
        if (strcmp(name, p[i].name) != 0) {
            continue;
        }

        if (p[i].seen++) {
            snprintf(err, errlen, "%s must be given only once.",
                     p[i].name);
            return -1;
        }

        p[i].bad = eq == NULL
                   || sq_unescape(eq + 1, len - nlen - 1, p[i].value,
                                  sizeof(p[i].value), &p[i].len) != 0;
    }

    return 0;
}


static int
sq_page_scan(const char *q, sq_qparam_t *p, size_t np, char *err,
    size_t errlen)
{
    size_t       len;
    const char  *amp;

    while (q != NULL && *q != '\0') {
        amp = strchr(q, '&');
        len = amp != NULL ? (size_t) (amp - q) : strlen(q);

        if (sq_page_param(q, len, p, np, err, errlen) != 0) {
            return -1;
        }

        q = amp != NULL ? amp + 1 : NULL;
    }

    return 0;
}


int
sq_page_parse(const char *query, size_t *limit, uint64_t *after,
    char *err, size_t errlen)
{
    int64_t      n;
    sq_qparam_t  p[2];

    memset(p, 0, sizeof(p));
    p[0].name = "limit";
    p[1].name = "cursor";
    n = SQ_PAGE_DEFAULT;

    *limit = SQ_PAGE_DEFAULT;
    *after = 0;

    if (sq_page_scan(query, p, 2, err, errlen) != 0) {
        return -1;
    }

    if (p[0].seen
        && (p[0].bad || sq_text_parse_u63(p[0].value, p[0].len, &n) != 0
            || n < 1 || n > SQ_PAGE_MAX))
    {
        snprintf(err, errlen, "limit must be an integer from 1 to %d.",
                 SQ_PAGE_MAX);
        return -1;
    }

    if (p[1].seen
        && (p[1].bad || sq_cursor_decode(p[1].value, p[1].len, after) != 0))
    {
        snprintf(err, errlen, "cursor is not valid; use the next_cursor of "
                 "a previous page.");
        return -1;
    }

    if (p[0].seen) {
        *limit = (size_t) n;
    }

    return 0;
}


int
sq_query_int(const char *query, const char *name, int64_t min, int64_t max,
    int64_t def, int64_t *out, char *err, size_t errlen)
{
    int64_t      n;
    sq_qparam_t  p;

    memset(&p, 0, sizeof(p));
    p.name = name;
    *out = def;

    if (sq_page_scan(query, &p, 1, err, errlen) != 0) {
        return -1;
    }

    if (!p.seen) {
        return 0;
    }

    if (p.bad || sq_text_parse_u63(p.value, p.len, &n) != 0 || n < min
        || n > max)
    {
        snprintf(err, errlen, "%s must be an integer from %lld to %lld.",
                 name, (long long) min, (long long) max);
        return -1;
    }

    *out = n;

    return 0;
}


/* === keyops (issue 16) === */

int
sq_query_str(const char *query, const char *name, char *out, size_t cap,
    int *seen, char *err, size_t errlen)
{
    sq_qparam_t  p;

    memset(&p, 0, sizeof(p));
    p.name = name;
    *seen = 0;
    out[0] = '\0';

    if (sq_page_scan(query, &p, 1, err, errlen) != 0) {
        return -1;
    }

    if (!p.seen) {
        return 0;
    }

    if (p.bad || p.len >= cap || memchr(p.value, '\0', p.len) != NULL) {
        snprintf(err, errlen, "%s is not valid.", name);
        return -1;
    }

    memcpy(out, p.value, p.len);
    out[p.len] = '\0';
    *seen = 1;

    return 0;
}
