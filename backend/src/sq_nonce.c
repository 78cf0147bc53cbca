/*
 * sq_nonce: how long a write's identity nonce is kept in Redis (the
 * write's own function call claims it: redis/smartlyq.lua).
 */

#include <string.h>

#include "sq_identity.h"
#include "sq_keys.h"
#include "sq_nonce.h"


int64_t
sq_nonce_ttl(const char *nonce, int64_t ts, int64_t now)
{
    int64_t  ttl;

    if (strlen(nonce) != SQ_NONCE_HEX_LEN) {
        return -1;
    }

    /* accepted while now <= ts + skew: remembered one second past that */
    ttl = ts + SQ_IDENTITY_SKEW - now + 1;
    if (ttl < 1 || ttl > 2 * SQ_IDENTITY_SKEW + 1) {
        return -1;
    }

    return ttl;
}
