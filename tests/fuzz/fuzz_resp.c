/*
 * fuzz_resp: RESP replies as the edge reads them from Redis: bytes fed
 * to hiredis's redisReader (the parser under the module's async link),
 * each complete reply then handed to sq_authz_parse
 * (common/sq_authz.c), the module's parser of the
 * FCALL_RO sq_authz reply, when it is built in (SQ_FUZZ_AUTHZ, set by the
 * Makefile when sq_authz.c exists).
 *
 * Properties checked besides memory safety:
 *   - feeding the bytes at once or in arbitrary small pieces gives the
 *     same replies and the same error (the link reads whatever recv()
 *     returns);
 *   - every reply is well formed: strings NUL-terminated at len, array
 *     elements never NULL;
 *   - the reader stays bounded: with sq_resp_bound (what the module
 *     installs on its link) no array holds more than SQ_RESP_ARRAY_MAX
 *     elements, so an array header cannot make hiredis 0.14 calloc a
 *     huge element table before any element arrived;
 *   - sq_authz_parse is deterministic, returns a known code, fills the
 *     record only for a decision (every string NUL-terminated, in its
 *     charset and bounds, times in range), leaves it zeroed otherwise,
 *     and agrees with sq_authz_until;
 *   - a parsed decision written back as RESP, in both forms (one string
 *     of '|'-joined fields, the array of older libraries), and read
 *     again by hiredis parses to the very same record.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "sq_resp.h"
#include "fuzz.h"

#ifdef SQ_FUZZ_AUTHZ
#include "sq_authz.h"
#endif

#define SQ_FUZZ_REPLIES_MAX  64


static redisReader *
reader_create(void)
{
    redisReader  *r;

    r = redisReaderCreate();
    if (r == NULL) {
        return NULL;
    }

    sq_resp_bound(r);

    return r;
}


static uint64_t
mix(uint64_t h, uint64_t v)
{
    h ^= v;
    return h * 0x100000001b3ULL;
}


/* a digest of the reply tree, checking its shape on the way */
static uint64_t
reply_digest(const redisReply *r, uint64_t h, int depth)
{
    size_t  i;

    SQ_FUZZ_ASSERT(r != NULL && depth < 16);

    h = mix(h, (uint64_t) r->type);

    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        SQ_FUZZ_ASSERT(r->str != NULL && r->len >= 0);
        SQ_FUZZ_ASSERT(r->str[r->len] == '\0');
        h = mix(h, (uint64_t) r->len);
        for (i = 0; i < (size_t) r->len; i++) {
            h = mix(h, (unsigned char) r->str[i]);
        }
        break;

    case REDIS_REPLY_INTEGER:
        h = mix(h, (uint64_t) r->integer);
        break;

    case REDIS_REPLY_ARRAY:
        SQ_FUZZ_ASSERT(r->elements <= SQ_RESP_ARRAY_MAX);
        SQ_FUZZ_ASSERT(r->elements == 0 || r->element != NULL);
        h = mix(h, (uint64_t) r->elements);
        for (i = 0; i < r->elements; i++) {
            h = reply_digest(r->element[i], h, depth + 1);
        }
        break;

    case REDIS_REPLY_NIL:
        break;

    default:
        SQ_FUZZ_ASSERT(0 && "unknown reply type");
    }

    return h;
}


#ifdef SQ_FUZZ_AUTHZ

static void
authz_charset_ok(const char *s, size_t len, const char *charset)
{
    size_t  i;

    SQ_FUZZ_ASSERT(s[len] == '\0');

    for (i = 0; i < len; i++) {
        SQ_FUZZ_ASSERT(s[i] != '\0' && strchr(charset, s[i]) != NULL);
    }
}


/* appends "$<len>\r\n<s>\r\n"; returns the new length */
static size_t
resp_bulk(char *out, size_t n, size_t cap, const char *s, size_t len)
{
    int  w;

    w = snprintf(out + n, cap - n, "$%zu\r\n", len);
    SQ_FUZZ_ASSERT(w > 0 && n + (size_t) w + len + 2 < cap);
    n += (size_t) w;
    memcpy(out + n, s, len);
    n += len;
    memcpy(out + n, "\r\n", 2);

    return n + 2;
}


/* appends s as is; returns the new length */
static size_t
raw(char *out, size_t n, size_t cap, const char *s, size_t len)
{
    SQ_FUZZ_ASSERT(n + len < cap);
    memcpy(out + n, s, len);

    return n + len;
}


/*
 * The record as sq_authz sends it: one string of fields joined by '|'
 * (joined) or, as older libraries did, an array of them.
 */
static size_t
authz_write(const sq_authz_t *a, int joined, char *out, size_t cap)
{
    char         t[3][32];
    size_t       n, i, nf, len[11], body;
    const char  *f[11];

    f[0] = sq_authz_code_name(a->code);
    f[1] = a->user_id;
    f[2] = a->key_id;
    f[3] = sq_key_mode_name(a->mode);
    f[4] = sq_key_type_name(a->type);
    f[5] = a->scopes;
    f[6] = a->workspaces;
    snprintf(t[0], sizeof(t[0]), "%lld", (long long) a->rotated_at);
    snprintf(t[1], sizeof(t[1]), "%lld", (long long) a->sunset_at);
    snprintf(t[2], sizeof(t[2]), "%lld", (long long) a->expires_at);
    f[7] = t[0];
    f[8] = t[1];
    f[9] = t[2];
    f[10] = a->app_id;
    nf = a->expires_at < 0 ? 9 : 11;       /* today's: with app_id */

    for (i = 0; i < nf; i++) {
        len[i] = strlen(f[i]);
    }

    if (!joined) {
        n = (size_t) snprintf(out, cap, "*%zu\r\n", nf);

        for (i = 0; i < nf; i++) {
            n = resp_bulk(out, n, cap, f[i], len[i]);
        }

        return n;
    }

    SQ_FUZZ_ASSERT(nf == 11);

    body = nf - 1;
    for (i = 0; i < nf; i++) {
        body += len[i];
    }

    n = (size_t) snprintf(out, cap, "$%zu\r\n", body);

    for (i = 0; i < nf; i++) {
        n = raw(out, n, cap, f[i], len[i]);
        n = raw(out, n, cap, i + 1 < nf ? "|" : "\r\n", i + 1 < nf ? 1 : 2);
    }

    return n;
}


/* the record written back in each form the edge reads, parsed again */
static void
authz_round_trip(const sq_authz_t *a)
{
    int           joined;
    char         *out;
    void         *reply;
    size_t        n, cap;
    sq_authz_t    b;
    redisReader  *r;

    cap = 4 * SQ_AUTHZ_LIST_MAX + 512;
    out = malloc(cap);

    if (out == NULL) {
        return;
    }

    for (joined = 0; joined <= (a->expires_at >= 0); joined++) {
        r = reader_create();
        if (r == NULL) {
            break;
        }

        n = authz_write(a, joined, out, cap);

        reply = NULL;
        SQ_FUZZ_ASSERT(redisReaderFeed(r, out, n) == REDIS_OK);
        SQ_FUZZ_ASSERT(redisReaderGetReply(r, &reply) == REDIS_OK
                       && reply != NULL);

        SQ_FUZZ_ASSERT(sq_authz_parse(reply, &b) == a->code);
        SQ_FUZZ_ASSERT(memcmp(a, &b, sizeof(b)) == 0);

        freeReplyObject(reply);
        redisReaderFree(r);
    }

    free(out);
}


static void
sq_fuzz_authz(const redisReply *reply)
{
    size_t            n;
    int64_t           until;
    const char       *name;
    sq_authz_t        a, b;
    sq_authz_code_t   code;
    static const sq_authz_t  zero;

    code = sq_authz_parse(reply, &a);
    SQ_FUZZ_ASSERT(sq_authz_parse(reply, &b) == code);
    SQ_FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);

    SQ_FUZZ_ASSERT(code == a.code);
    SQ_FUZZ_ASSERT(code >= SQ_AUTHZ_INVALID && code <= SQ_AUTHZ_FORBIDDEN);
    SQ_FUZZ_ASSERT(sq_authz_code_name(code) != NULL);

    if (reply->type == REDIS_REPLY_ERROR) {
        SQ_FUZZ_ASSERT(code == SQ_AUTHZ_REDIS_ERROR);
    }

    if (code == SQ_AUTHZ_INVALID || code == SQ_AUTHZ_REDIS_ERROR
        || code == SQ_AUTHZ_UNKNOWN)
    {
        b = zero;
        b.code = code;
        SQ_FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
        return;
    }

    /* a decision: the reply had its shape, the record holds its fields */
    name = sq_authz_code_name(code);

    if (reply->type == REDIS_REPLY_STRING) {
        n = strlen(name);
        SQ_FUZZ_ASSERT(a.expires_at >= 0);
        SQ_FUZZ_ASSERT((size_t) reply->len > n && reply->str[n] == '|'
                       && memcmp(reply->str, name, n) == 0);

    } else {
        SQ_FUZZ_ASSERT(reply->type == REDIS_REPLY_ARRAY
                       && reply->elements >= 9 && reply->elements <= 11);
        SQ_FUZZ_ASSERT(strcmp(reply->element[0]->str, name) == 0);
        SQ_FUZZ_ASSERT((a.expires_at == -1) == (reply->elements == 9));
    }

    SQ_FUZZ_ASSERT(a.user_id_len >= 1 && a.user_id_len <= SQ_AUTHZ_ID_MAX);
    SQ_FUZZ_ASSERT(a.key_id_len >= 1 && a.key_id_len <= SQ_AUTHZ_ID_MAX);
    SQ_FUZZ_ASSERT(a.scopes_len <= SQ_AUTHZ_LIST_MAX);
    SQ_FUZZ_ASSERT(a.workspaces_len <= SQ_AUTHZ_LIST_MAX);
    authz_charset_ok(a.user_id, a.user_id_len, "0123456789");
    authz_charset_ok(a.key_id, a.key_id_len, "0123456789");
    authz_charset_ok(a.scopes, a.scopes_len,
                     "abcdefghijklmnopqrstuvwxyz_: ");
    authz_charset_ok(a.workspaces, a.workspaces_len, "0123456789,");

    SQ_FUZZ_ASSERT(a.mode == SQ_KEY_LIVE || a.mode == SQ_KEY_TEST);
    SQ_FUZZ_ASSERT(a.type == SQ_KEY_SECRET || a.type == SQ_KEY_PUBLISHABLE
                   || a.type == SQ_KEY_OAUTH);

    /* an OAuth access token, and only one, names its app */
    SQ_FUZZ_ASSERT(a.app_id_len <= SQ_AUTHZ_ID_MAX);
    SQ_FUZZ_ASSERT((a.type == SQ_KEY_OAUTH) == (a.app_id_len != 0));
    authz_charset_ok(a.app_id, a.app_id_len, "0123456789");
    SQ_FUZZ_ASSERT(a.rotated_at >= 0 && a.sunset_at >= 0);
    SQ_FUZZ_ASSERT(a.expires_at >= -1);

    until = sq_authz_until(&a);

    if (a.expires_at < 0) {
        SQ_FUZZ_ASSERT(until == -1);

    } else {
        SQ_FUZZ_ASSERT(until >= 0);
        SQ_FUZZ_ASSERT(a.expires_at == 0 || until <= a.expires_at);
        SQ_FUZZ_ASSERT(a.sunset_at == 0 || until <= a.sunset_at);
        SQ_FUZZ_ASSERT(until == a.expires_at || until == a.sunset_at);
    }

    authz_round_trip(&a);
}

#endif


static void
use_reply(redisReply *reply)
{
#ifdef SQ_FUZZ_AUTHZ
    sq_fuzz_authz(reply);
#else
    (void) reply;
#endif
}


/*
 * Feeds data in pieces (step 0: all at once) and digests the replies.
 * Returns the number of replies; *err is the reader's error flag.
 */
static size_t
read_all(const uint8_t *data, size_t size, size_t step, uint64_t *digest,
    int *err, int use)
{
    int           rc;
    void         *reply;
    size_t        n, off, len;
    redisReader  *r;

    *digest = 0xcbf29ce484222325ULL;
    *err = 0;
    n = 0;

    r = reader_create();
    if (r == NULL) {
        *err = -1;
        return 0;
    }

    for (off = 0; off < size || (size == 0 && off == 0); off += len) {
        len = step == 0 ? size : step;
        if (len > size - off) {
            len = size - off;
        }

        if (redisReaderFeed(r, (const char *) data + off, len) != REDIS_OK)
        {
            *err = 1;
            break;
        }

        for ( ;; ) {
            reply = NULL;
            rc = redisReaderGetReply(r, &reply);

            if (rc != REDIS_OK) {
                *err = 1;
                break;
            }

            if (reply == NULL) {
                break;
            }

            *digest = reply_digest(reply, *digest, 0);
            n++;

            if (use) {
                use_reply(reply);
            }

            freeReplyObject(reply);

            if (n == SQ_FUZZ_REPLIES_MAX) {
                break;
            }
        }

        if (*err || n == SQ_FUZZ_REPLIES_MAX || size == 0) {
            break;
        }
    }

    redisReaderFree(r);

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int       err1, err2;
    size_t    n1, n2, step;
    uint64_t  d1, d2;

    n1 = read_all(data, size, 0, &d1, &err1, 1);

    /* a piece size from the input, so every split gets tried */
    step = size > 0 ? (size_t) (data[size - 1] % 7) + 1 : 1;
    n2 = read_all(data, size, step, &d2, &err2, 0);

    if (err1 == -1 || err2 == -1) {
        return 0;
    }

    if (n1 < SQ_FUZZ_REPLIES_MAX && n2 < SQ_FUZZ_REPLIES_MAX) {
        SQ_FUZZ_ASSERT(n1 == n2 && d1 == d2 && err1 == err2);
    }

    return 0;
}
