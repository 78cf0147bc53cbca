/*
 * fuzz_bearer: the Authorization header parser and the key-in-URL scan
 * (common/sq_bearer.c) on arbitrary bytes.
 *
 * Properties checked besides memory safety:
 *   - sq_bearer_parse is deterministic and, on SQ_BEARER_OK, returns a
 *     key inside the input whose shape, mode and type agree with
 *     sq_key_shape and its prefix (an OAuth access token, "sqo_", is
 *     live and of type oauth; "sqr_", "sqc_", "sqs_" never parse);
 *   - a key the header parser accepts is also found by sq_key_in_query,
 *     raw and fully percent-encoded, wherever it sits in a query string;
 *   - sq_key_shape never accepts anything sq_key_in_query would miss.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sq_bearer.h"
#include "fuzz.h"


static void
check_key(const char *key, size_t len, sq_key_mode_t mode)
{
    size_t          i, n;
    char            buf[3 * SQ_KEY_MAX_LEN + 16];
    static const char  hex[] = "0123456789ABCDEF";

    SQ_FUZZ_ASSERT(len <= SQ_KEY_MAX_LEN);
    SQ_FUZZ_ASSERT(sq_key_shape(key, len) == mode);
    SQ_FUZZ_ASSERT(mode == SQ_KEY_LIVE || mode == SQ_KEY_TEST);
    SQ_FUZZ_ASSERT((sq_key_type(key) == SQ_KEY_PUBLISHABLE)
                   == (key[2] == 'p'));
    SQ_FUZZ_ASSERT((sq_key_type(key) == SQ_KEY_OAUTH) == (key[2] == 'o'));

    if (sq_key_type(key) == SQ_KEY_OAUTH) {
        SQ_FUZZ_ASSERT(len >= SQ_OAUTH_PREFIX_LEN + SQ_OAUTH_BODY_MIN
                       && len <= SQ_OAUTH_PREFIX_LEN + SQ_OAUTH_BODY_MAX);
        SQ_FUZZ_ASSERT(mode == SQ_KEY_LIVE);
        SQ_FUZZ_ASSERT(memcmp(key, SQ_OAUTH_PREFIX, SQ_OAUTH_PREFIX_LEN)
                       == 0);

    } else {
        SQ_FUZZ_ASSERT(len >= SQ_KEY_PREFIX_LEN + SQ_KEY_BODY_MIN);
        SQ_FUZZ_ASSERT(memcmp(key, sq_key_prefix(sq_key_type(key), mode),
                              SQ_KEY_PREFIX_LEN) == 0);
    }

    /* the key as a query value, raw */
    memcpy(buf, "a=1&k=", 6);
    memcpy(buf + 6, key, len);
    SQ_FUZZ_ASSERT(sq_key_in_query(buf, len + 6) == 1);

    /* and with every byte percent-encoded */
    n = 0;
    for (i = 0; i < len; i++) {
        buf[n++] = '%';
        buf[n++] = hex[(unsigned char) key[i] >> 4];
        buf[n++] = hex[(unsigned char) key[i] & 0x0f];
    }
    SQ_FUZZ_ASSERT(sq_key_in_query(buf, n) == 1);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              q1, q2;
    char            *copy;
    size_t           klen, klen2;
    const char      *key, *key2;
    sq_key_mode_t    mode, mode2, shape;
    sq_bearer_rc_t   rc, rc2;

    /* an exact-size copy: ASan sees any read past the header's end */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);

    key = key2 = NULL;
    klen = klen2 = 0;
    mode = mode2 = SQ_KEY_BAD;

    rc = sq_bearer_parse(copy, size, &key, &klen, &mode);
    rc2 = sq_bearer_parse(copy, size, &key2, &klen2, &mode2);

    SQ_FUZZ_ASSERT(rc == rc2);
    SQ_FUZZ_ASSERT(rc == SQ_BEARER_OK || rc == SQ_BEARER_NOT_BEARER
                   || rc == SQ_BEARER_MALFORMED);

    if (rc == SQ_BEARER_OK) {
        SQ_FUZZ_ASSERT(key == key2 && klen == klen2 && mode == mode2);
        SQ_FUZZ_ASSERT(key >= copy && key + klen <= copy + size);
        check_key(key, klen, mode);
    }

    /* the whole input as a key */
    shape = sq_key_shape(copy, size);
    if (shape != SQ_KEY_BAD) {
        check_key(copy, size, shape);
    }

    /* the whole input as a query string */
    q1 = sq_key_in_query(copy, size);
    q2 = sq_key_in_query(copy, size);
    SQ_FUZZ_ASSERT(q1 == q2 && (q1 == 0 || q1 == 1));

    free(copy);

    return 0;
}
