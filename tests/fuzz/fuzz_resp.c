/*
 * fuzz_resp: RESP replies as the edge reads them from Redis: bytes fed
 * to hiredis's redisReader (the parser under the module's async link),
 * each complete reply then handed to the reply parser the module uses
 * for FCALL_RO sq_authz when that parser is built in (SQ_FUZZ_AUTHZ,
 * see the Makefile).
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
 *     huge element table before any element arrived.
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
