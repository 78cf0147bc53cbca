/*
 * sq_keygen: key bodies from randombytes_uniform(), so every base62
 * character is equally likely.
 */

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sq_keygen.h"


static const char  sq_base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";


int
sq_key_generate(sq_key_mode_t mode, char *out, size_t outlen)
{
    size_t  i;

    if (outlen < SQ_KEY_GEN_LEN + 1 || mode == SQ_KEY_BAD) {
        return -1;
    }

    memcpy(out, mode == SQ_KEY_TEST ? "sqk_test_" : "sqk_live_",
           SQ_KEY_PREFIX_LEN);

    for (i = 0; i < SQ_KEY_BODY_GEN; i++) {
        out[SQ_KEY_PREFIX_LEN + i] = sq_base62[randombytes_uniform(62)];
    }

    out[SQ_KEY_GEN_LEN] = '\0';

    return 0;
}


void
sq_key_mask(const char *mode, const char *last4, char *out, size_t outlen)
{
    snprintf(out, outlen, "sqk_%s_\xe2\x80\xa6%s",
             strcmp(mode, "test") == 0 ? "test" : "live", last4);
}
