/*
 * sq_authz: the reply of FCALL_RO sq_authz.  See sq_authz.h; the reply's
 * layout is documented beside the function in redis/smartlyq.lua:
 *   "UNKNOWN", or
 *   "code|user_id|key_id|mode|type|scopes|workspaces|rotated_at|
 *    sunset_at|expires_at|app_id"
 * one bulk string, so hiredis makes one reply object, not twelve.
 * app_id (issue 14: empty for a key, the app's id for an OAuth access
 * token, type "oauth") is absent from libraries before it: 10 fields.
 * Libraries from before those send the same fields as an array of
 * strings (before the cache, without expires_at: 9 elements); all are
 * read.
 */

#include <string.h>

#include "sq_authz.h"
#include "sq_scope.h"


#define SQ_AUTHZ_TIME_MAX   ((int64_t) 1 << 40)     /* far past 2100 */
#define SQ_AUTHZ_FIELDS     11      /* the most a reply has */
#define SQ_AUTHZ_FIELDS_V10 10      /* before app_id */


/* one field of the reply, where it lies in hiredis's buffers */
typedef struct {
    const char  *s;
    size_t       len;
} sq_authz_field_t;


static const char  *sq_authz_names[] = {
    "INVALID", "ERROR", "OK", "UNKNOWN", "DISABLED", "EXPIRED", "DELETED",
    "ROTATED", "FORBIDDEN"
};


static int
sq_authz_is(const sq_authz_field_t *f, const char *name)
{
    size_t  n = strlen(name);

    return f->len == n && memcmp(f->s, name, n) == 0;
}


/* the charsets of the fields, tested by range, not by strchr per byte */
typedef enum {
    SQ_AUTHZ_DIGITS,            /* 0-9: ids */
    SQ_AUTHZ_SCOPES,            /* a-z _ : and space: "a:read b" */
    SQ_AUTHZ_IDS                /* 0-9 and ',': "1,2" */
} sq_authz_charset_t;


/*
 * Each byte's sets, one bit per sq_authz_charset_t, so that a span is one
 * load and one test per byte (the scopes of a key with every scope are
 * about 200 of them, on every uncached check).
 */
#define SQ_AUTHZ_B_DIGITS  (1 << SQ_AUTHZ_DIGITS)
#define SQ_AUTHZ_B_SCOPES  (1 << SQ_AUTHZ_SCOPES)
#define SQ_AUTHZ_B_IDS     (1 << SQ_AUTHZ_IDS)
#define SQ_AUTHZ_B_DIGIT   (SQ_AUTHZ_B_DIGITS | SQ_AUTHZ_B_IDS)
#define SQ_AUTHZ_B_LETTER  SQ_AUTHZ_B_SCOPES

static const unsigned char  sq_authz_sets[256] = {
    [' '] = SQ_AUTHZ_B_SCOPES, [','] = SQ_AUTHZ_B_IDS,
    [':'] = SQ_AUTHZ_B_SCOPES, ['_'] = SQ_AUTHZ_B_SCOPES,
    ['0'] = SQ_AUTHZ_B_DIGIT, ['1'] = SQ_AUTHZ_B_DIGIT,
    ['2'] = SQ_AUTHZ_B_DIGIT, ['3'] = SQ_AUTHZ_B_DIGIT,
    ['4'] = SQ_AUTHZ_B_DIGIT, ['5'] = SQ_AUTHZ_B_DIGIT,
    ['6'] = SQ_AUTHZ_B_DIGIT, ['7'] = SQ_AUTHZ_B_DIGIT,
    ['8'] = SQ_AUTHZ_B_DIGIT, ['9'] = SQ_AUTHZ_B_DIGIT,
    ['a'] = SQ_AUTHZ_B_LETTER, ['b'] = SQ_AUTHZ_B_LETTER,
    ['c'] = SQ_AUTHZ_B_LETTER, ['d'] = SQ_AUTHZ_B_LETTER,
    ['e'] = SQ_AUTHZ_B_LETTER, ['f'] = SQ_AUTHZ_B_LETTER,
    ['g'] = SQ_AUTHZ_B_LETTER, ['h'] = SQ_AUTHZ_B_LETTER,
    ['i'] = SQ_AUTHZ_B_LETTER, ['j'] = SQ_AUTHZ_B_LETTER,
    ['k'] = SQ_AUTHZ_B_LETTER, ['l'] = SQ_AUTHZ_B_LETTER,
    ['m'] = SQ_AUTHZ_B_LETTER, ['n'] = SQ_AUTHZ_B_LETTER,
    ['o'] = SQ_AUTHZ_B_LETTER, ['p'] = SQ_AUTHZ_B_LETTER,
    ['q'] = SQ_AUTHZ_B_LETTER, ['r'] = SQ_AUTHZ_B_LETTER,
    ['s'] = SQ_AUTHZ_B_LETTER, ['t'] = SQ_AUTHZ_B_LETTER,
    ['u'] = SQ_AUTHZ_B_LETTER, ['v'] = SQ_AUTHZ_B_LETTER,
    ['w'] = SQ_AUTHZ_B_LETTER, ['x'] = SQ_AUTHZ_B_LETTER,
    ['y'] = SQ_AUTHZ_B_LETTER, ['z'] = SQ_AUTHZ_B_LETTER
};


/* the first byte of s[0..len) outside set, or len */
static size_t
sq_authz_span(sq_authz_charset_t set, const unsigned char *s, size_t len)
{
    size_t         i;
    unsigned char  bit;

    bit = (unsigned char) (1 << set);

    for (i = 0; i < len && (sq_authz_sets[s[i]] & bit); i++) {
        /* void */
    }

    return i;
}


/* a string of at most max bytes, each in set, copied with a NUL */
static int
sq_authz_str(const sq_authz_field_t *f, sq_authz_charset_t set, size_t max,
    char *dst, size_t *len)
{
    if (f->len > max
        || sq_authz_span(set, (const unsigned char *) f->s, f->len) != f->len)
    {
        return -1;
    }

    memcpy(dst, f->s, f->len);
    dst[f->len] = '\0';
    *len = f->len;

    return 0;
}


/* decimal digits only, no sign, 0..SQ_AUTHZ_TIME_MAX */
static int
sq_authz_time(const sq_authz_field_t *f, int64_t *t)
{
    size_t   i;
    int64_t  n;

    if (f->len == 0 || f->len > 19) {
        return -1;
    }

    n = 0;

    for (i = 0; i < f->len; i++) {
        if (f->s[i] < '0' || f->s[i] > '9') {
            return -1;
        }

        n = n * 10 + (f->s[i] - '0');

        if (n > SQ_AUTHZ_TIME_MAX) {
            return -1;
        }
    }

    *t = n;

    return 0;
}


static sq_authz_code_t
sq_authz_code(const sq_authz_field_t *f)
{
    size_t  i;

    for (i = SQ_AUTHZ_OK; i <= SQ_AUTHZ_FORBIDDEN; i++) {
        if (sq_authz_is(f, sq_authz_names[i])) {
            return (sq_authz_code_t) i;
        }
    }

    return SQ_AUTHZ_INVALID;
}


/* the fields after the code; n is 9 (no expires_at), 10 or 11 (app_id) */
static int
sq_authz_fields(const sq_authz_field_t *f, size_t n, sq_authz_t *a)
{
    if (sq_authz_str(&f[1], SQ_AUTHZ_DIGITS, SQ_AUTHZ_ID_MAX, a->user_id,
                     &a->user_id_len) != 0
        || a->user_id_len == 0
        || sq_authz_str(&f[2], SQ_AUTHZ_DIGITS, SQ_AUTHZ_ID_MAX, a->key_id,
                        &a->key_id_len) != 0
        || a->key_id_len == 0
        || sq_authz_str(&f[5], SQ_AUTHZ_SCOPES, SQ_AUTHZ_LIST_MAX,
                        a->scopes, &a->scopes_len) != 0
        || sq_authz_str(&f[6], SQ_AUTHZ_IDS, SQ_AUTHZ_LIST_MAX,
                        a->workspaces, &a->workspaces_len) != 0
        || sq_authz_time(&f[7], &a->rotated_at) != 0
        || sq_authz_time(&f[8], &a->sunset_at) != 0)
    {
        return -1;
    }

    if (sq_authz_is(&f[3], "live")) {
        a->mode = SQ_KEY_LIVE;

    } else if (sq_authz_is(&f[3], "test")) {
        a->mode = SQ_KEY_TEST;

    } else {
        return -1;
    }

    if (sq_authz_is(&f[4], "secret")) {
        a->type = SQ_KEY_SECRET;

    } else if (sq_authz_is(&f[4], "publishable")) {
        a->type = SQ_KEY_PUBLISHABLE;

    } else if (sq_authz_is(&f[4], "oauth")) {
        a->type = SQ_KEY_OAUTH;

    } else {
        return -1;
    }

    a->scope_bits = sq_scope_bits(a->scopes, a->scopes_len);
    a->expires_at = -1;

    if (n >= SQ_AUTHZ_FIELDS_V10
        && sq_authz_time(&f[9], &a->expires_at) != 0)
    {
        return -1;
    }

    if (n == SQ_AUTHZ_FIELDS
        && sq_authz_str(&f[10], SQ_AUTHZ_DIGITS, SQ_AUTHZ_ID_MAX, a->app_id,
                        &a->app_id_len) != 0)
    {
        return -1;
    }

    /* a token always names its app, a key never does */
    if ((a->type == SQ_KEY_OAUTH) != (a->app_id_len != 0)) {
        return -1;
    }

    return 0;
}


/*
 * The one-string form: fields split at SQ_AUTHZ_SEP.  No field's charset
 * holds the separator, so a stored value carrying one adds a field, and
 * a count other than 1, 10 or 11 is refused.  Returns the count, 0 if
 * more.
 */
static size_t
sq_authz_split(const redisReply *reply, sq_authz_field_t *f)
{
    size_t       n;
    const char  *p, *end, *sep;

    p = reply->str;
    end = p + reply->len;
    n = 0;

    for ( ;; ) {
        if (n == SQ_AUTHZ_FIELDS) {
            return 0;
        }

        sep = memchr(p, SQ_AUTHZ_SEP, (size_t) (end - p));

        f[n].s = p;
        f[n].len = (size_t) ((sep ? sep : end) - p);
        n++;

        if (sep == NULL) {
            return n;
        }

        p = sep + 1;
    }
}


/* the array form of older libraries: 1, 9, 10 or 11 strings */
static size_t
sq_authz_elements(const redisReply *reply, sq_authz_field_t *f)
{
    size_t  i;

    if (reply->elements < 1 || reply->elements > SQ_AUTHZ_FIELDS
        || reply->element == NULL)
    {
        return 0;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i] == NULL
            || reply->element[i]->type != REDIS_REPLY_STRING)
        {
            return 0;
        }

        f[i].s = reply->element[i]->str;
        f[i].len = (size_t) reply->element[i]->len;
    }

    return reply->elements;
}


sq_authz_code_t
sq_authz_parse(const redisReply *reply, sq_authz_t *a)
{
    size_t            n;
    sq_authz_code_t   code;
    sq_authz_field_t  f[SQ_AUTHZ_FIELDS];

    memset(a, 0, sizeof(*a));
    a->code = SQ_AUTHZ_INVALID;

    if (reply == NULL) {
        return a->code;
    }

    switch (reply->type) {

    case REDIS_REPLY_ERROR:
        a->code = SQ_AUTHZ_REDIS_ERROR;
        return a->code;

    case REDIS_REPLY_STRING:
        n = sq_authz_split(reply, f);

        if (n != 1 && n != SQ_AUTHZ_FIELDS_V10 && n != SQ_AUTHZ_FIELDS) {
            return a->code;
        }

        break;

    case REDIS_REPLY_ARRAY:
        n = sq_authz_elements(reply, f);

        if (n != 1 && n != SQ_AUTHZ_FIELDS_V10 - 1
            && n != SQ_AUTHZ_FIELDS_V10 && n != SQ_AUTHZ_FIELDS)
        {
            return a->code;
        }

        break;

    default:
        return a->code;
    }

    code = sq_authz_code(&f[0]);

    if (code == SQ_AUTHZ_UNKNOWN) {
        if (n == 1) {
            a->code = code;
        }

        return a->code;
    }

    if (code == SQ_AUTHZ_INVALID || n == 1
        || sq_authz_fields(f, n, a) != 0)
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
