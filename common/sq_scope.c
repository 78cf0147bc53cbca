/*
 * sq_scope: scope names and bits (sq_scope.h).
 */

#include <string.h>

#include "sq_scope.h"


static const char  *const sq_scope_names[SQ_SCOPE_COUNT] = {
    "chatbots:read", "chatbots:write", "social:read", "social:write",
    "urls:read", "urls:write", "articles:read", "articles:write",
    "images:read", "images:write", "media:read", "media:write",
    "workspace:read", "apps:manage", "keys:manage"
};


const char *
sq_scope_name(sq_scope_t s)
{
    return (unsigned) s < SQ_SCOPE_COUNT ? sq_scope_names[s] : "unknown";
}


/*
 * The names by length (9 to 14 bytes, none longer): a lookup compares the
 * first byte, then the rest, of at most five names.  Every uncached
 * check turns a key's scope names into bits with it.
 */
#define SQ_SCOPE_LEN_MIN  9
#define SQ_SCOPE_LEN_MAX  14
#define SQ_SCOPE_PER_LEN  5

static const signed char
    sq_scope_by_len[SQ_SCOPE_LEN_MAX - SQ_SCOPE_LEN_MIN + 1]
                   [SQ_SCOPE_PER_LEN] = {
    /*  9 */ { SQ_SC_URLS_READ, -1, -1, -1, -1 },
    /* 10 */ { SQ_SC_URLS_WRITE, SQ_SC_MEDIA_READ, -1, -1, -1 },
    /* 11 */ { SQ_SC_SOCIAL_READ, SQ_SC_IMAGES_READ, SQ_SC_MEDIA_WRITE,
               SQ_SC_APPS_MANAGE, SQ_SC_KEYS_MANAGE },
    /* 12 */ { SQ_SC_SOCIAL_WRITE, SQ_SC_IMAGES_WRITE, -1, -1, -1 },
    /* 13 */ { SQ_SC_CHATBOTS_READ, SQ_SC_ARTICLES_READ, -1, -1, -1 },
    /* 14 */ { SQ_SC_CHATBOTS_WRITE, SQ_SC_ARTICLES_WRITE,
               SQ_SC_WORKSPACE_READ, -1, -1 }
};


static int
sq_scope_is(int i, const char *s, size_t len)
{
    return i >= 0 && sq_scope_names[i][0] == s[0]
           && memcmp(sq_scope_names[i], s, len) == 0;
}


int
sq_scope_lookup(const char *s, size_t len)
{
    int  k, i;

    if (len < SQ_SCOPE_LEN_MIN || len > SQ_SCOPE_LEN_MAX) {
        return -1;
    }

    for (k = 0; k < SQ_SCOPE_PER_LEN; k++) {
        i = sq_scope_by_len[len - SQ_SCOPE_LEN_MIN][k];
        if (sq_scope_is(i, s, len)) {
            return i;
        }
    }

    return -1;
}


uint32_t
sq_scope_bits(const char *s, size_t len)
{
    int          i;
    uint32_t     bits;
    const char  *p, *end, *sp;

    bits = 0;
    p = s;
    end = s + len;

    while (p < end) {
        sp = memchr(p, ' ', (size_t) (end - p));
        if (sp == NULL) {
            sp = end;
        }

        i = sq_scope_lookup(p, (size_t) (sp - p));
        if (i >= 0) {
            bits |= SQ_SCOPE_BIT(i);
        }

        p = sp + 1;
    }

    return bits;
}


size_t
sq_scope_hex(uint32_t bits, char out[SQ_SCOPES_HEX_MAX + 1])
{
    int                n, shift;
    static const char  digits[] = "0123456789abcdef";

    n = 0;

    for (shift = 28; shift > 0 && (bits >> shift) == 0; shift -= 4) {
        /* leading zeros */
    }

    for ( /* void */ ; shift >= 0; shift -= 4) {
        out[n++] = digits[(bits >> shift) & 0x0f];
    }

    out[n] = '\0';

    return (size_t) n;
}


int
sq_scope_hex_parse(const char *s, size_t len, uint32_t *bits)
{
    size_t    i;
    uint32_t  v;

    if (len == 0 || len > SQ_SCOPES_HEX_MAX || (s[0] == '0' && len > 1)) {
        return -1;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            v = (v << 4) | (uint32_t) (s[i] - '0');

        } else if (s[i] >= 'a' && s[i] <= 'f') {
            v = (v << 4) | (uint32_t) (s[i] - 'a' + 10);

        } else {
            return -1;
        }
    }

    if (v & ~(uint32_t) SQ_SCOPES_ALL) {
        return -1;
    }

    *bits = v;

    return 0;
}
