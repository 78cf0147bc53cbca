/*
 * sq_keygen: key bodies from randombytes_uniform(), so every base62
 * character is equally likely.
 */

#include <string.h>

#include <sodium.h>

#include "sq_keygen.h"


static const char  sq_base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";


int
sq_key_generate(sq_key_type_t type, sq_key_mode_t mode, char *out,
    size_t outlen)
{
    size_t  i;

    if (outlen < SQ_KEY_GEN_LEN + 1 || mode == SQ_KEY_BAD) {
        return -1;
    }

    memcpy(out, sq_key_prefix(type, mode), SQ_KEY_PREFIX_LEN);

    for (i = 0; i < SQ_KEY_BODY_GEN; i++) {
        out[SQ_KEY_PREFIX_LEN + i] = sq_base62[randombytes_uniform(62)];
    }

    out[SQ_KEY_GEN_LEN] = '\0';

    return 0;
}


/* issue 14 (apps): client secrets, and the flow's codes and tokens */
int
sq_token_generate(const char *prefix, char *out, size_t outlen)
{
    size_t  i, n;

    n = strlen(prefix);

    if (outlen < n + SQ_KEY_BODY_GEN + 1) {
        return -1;
    }

    memcpy(out, prefix, n);

    for (i = 0; i < SQ_KEY_BODY_GEN; i++) {
        out[n + i] = sq_base62[randombytes_uniform(62)];
    }

    out[n + SQ_KEY_BODY_GEN] = '\0';

    return 0;
}
