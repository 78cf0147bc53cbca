/*
 * sq_bearer: parse "Authorization: Bearer <key>" and check key shape
 * before anything is spent on a Redis round trip.
 */

#include <string.h>

#include "sq_bearer.h"
#include "sq_workspace.h"


static int
sq_is_base62(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z')
           || (ch >= 'A' && ch <= 'Z');
}


static int
sq_ascii_casecmp(const char *a, const char *b, size_t n)
{
    size_t         i;
    unsigned char  ca, cb;

    for (i = 0; i < n; i++) {
        ca = (unsigned char) a[i];
        cb = (unsigned char) b[i];

        if (ca >= 'A' && ca <= 'Z') {
            ca |= 0x20;
        }

        if (cb >= 'A' && cb <= 'Z') {
            cb |= 0x20;
        }

        if (ca != cb) {
            return 1;
        }
    }

    return 0;
}


/* 1 when s[0..len) is all base62 */
static int
sq_all_base62(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!sq_is_base62((unsigned char) s[i])) {
            return 0;
        }
    }

    return 1;
}


/* "sqo_" + SQ_OAUTH_BODY_MIN..MAX base62: an OAuth access token */
static sq_key_mode_t
sq_oauth_shape(const char *key, size_t len)
{
    if (len < SQ_OAUTH_PREFIX_LEN + SQ_OAUTH_BODY_MIN
        || len > SQ_OAUTH_PREFIX_LEN + SQ_OAUTH_BODY_MAX
        || !sq_all_base62(key + SQ_OAUTH_PREFIX_LEN,
                          len - SQ_OAUTH_PREFIX_LEN))
    {
        return SQ_KEY_BAD;
    }

    return SQ_KEY_LIVE;
}


sq_key_mode_t
sq_key_shape(const char *key, size_t len)
{
    sq_key_mode_t  mode;

    if (len >= SQ_OAUTH_PREFIX_LEN
        && memcmp(key, SQ_OAUTH_PREFIX, SQ_OAUTH_PREFIX_LEN) == 0)
    {
        return sq_oauth_shape(key, len);
    }

    if (len < SQ_KEY_PREFIX_LEN + SQ_KEY_BODY_MIN || len > SQ_KEY_MAX_LEN) {
        return SQ_KEY_BAD;
    }

    if (key[0] != 's' || key[1] != 'q' || (key[2] != 'k' && key[2] != 'p')
        || key[3] != '_')
    {
        return SQ_KEY_BAD;
    }

    if (memcmp(key + 4, "live_", 5) == 0) {
        mode = SQ_KEY_LIVE;

    } else if (memcmp(key + 4, "test_", 5) == 0) {
        mode = SQ_KEY_TEST;

    } else {
        return SQ_KEY_BAD;
    }

    if (!sq_all_base62(key + SQ_KEY_PREFIX_LEN, len - SQ_KEY_PREFIX_LEN)) {
        return SQ_KEY_BAD;
    }

    return mode;
}


sq_bearer_rc_t
sq_bearer_parse(const char *value, size_t len, const char **key,
    size_t *key_len, sq_key_mode_t *mode)
{
    size_t  i, start;

    /* leading and trailing optional white space */
    while (len > 0 && (value[0] == ' ' || value[0] == '\t')) {
        value++;
        len--;
    }

    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t')) {
        len--;
    }

    if (len < 7 || sq_ascii_casecmp(value, "bearer", 6) != 0
        || (value[6] != ' ' && value[6] != '\t'))
    {
        return SQ_BEARER_NOT_BEARER;
    }

    i = 6;
    while (i < len && (value[i] == ' ' || value[i] == '\t')) {
        i++;
    }

    start = i;

    if (start == len) {
        return SQ_BEARER_MALFORMED;
    }

    *mode = sq_key_shape(value + start, len - start);
    if (*mode == SQ_KEY_BAD) {
        return SQ_BEARER_MALFORMED;
    }

    *key = value + start;
    *key_len = len - start;

    return SQ_BEARER_OK;
}


sq_key_type_t
sq_key_type(const char *key)
{
    switch (key[2]) {

    case 'p':
        return SQ_KEY_PUBLISHABLE;

    case 'o':
        return SQ_KEY_OAUTH;

    default:
        return SQ_KEY_SECRET;
    }
}


const char *
sq_key_mode_name(sq_key_mode_t mode)
{
    return mode == SQ_KEY_TEST ? "test" : "live";
}


const char *
sq_key_type_name(sq_key_type_t type)
{
    switch (type) {

    case SQ_KEY_PUBLISHABLE:
        return "publishable";

    case SQ_KEY_OAUTH:
        return "oauth";

    default:
        return "secret";
    }
}


const char *
sq_key_prefix(sq_key_type_t type, sq_key_mode_t mode)
{
    if (type == SQ_KEY_PUBLISHABLE) {
        return mode == SQ_KEY_TEST ? "sqp_test_" : "sqp_live_";
    }

    return mode == SQ_KEY_TEST ? "sqk_test_" : "sqk_live_";
}


/*
 * The byte at *i, percent-decoded (a broken escape is a literal '%') and
 * lower-cased; advances *i
 */
static int
sq_query_char(const char *s, size_t len, size_t *i)
{
    int  c;

    c = sq_pct_byte(s, len, i);

    if (c < 0) {
        c = '%';
        (*i)++;
    }

    return (c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
}


int
sq_key_in_query(const char *args, size_t len)
{
    size_t       start, i, k, p;
    static const char  *prefixes[] = {
        "sqk_live_", "sqk_test_", "sqp_live_", "sqp_test_",
        "sqo_", "sqr_", "sqc_", "sqs_"
    };

    for (start = 0; start < len; start++) {
        /* a key starts with 's', 'S' or an escape of one: skip the rest */
        if (args[start] != 's' && args[start] != 'S' && args[start] != '%') {
            continue;
        }

        for (p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
            i = start;

            for (k = 0; prefixes[p][k] != '\0'; k++) {
                if (i >= len || sq_query_char(args, len, &i) != prefixes[p][k])
                {
                    break;
                }
            }

            if (prefixes[p][k] == '\0') {
                return 1;
            }
        }
    }

    return 0;
}
