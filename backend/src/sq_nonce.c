/*
 * sq_nonce: the replay check of signed identities (SET NX EX).
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


sq_rc_t
sq_nonce_claim(redisContext *c, const char *nonce, int64_t ts, int64_t now,
    int *fresh)
{
    sq_rc_t      rc;
    int64_t      ttl;
    redisReply  *r;

    *fresh = 0;

    ttl = sq_nonce_ttl(nonce, ts, now);
    if (ttl < 0) {
        return SQ_ERR_INVALID;
    }

    rc = sq_cmd(c, &r, "SET " SQ_K_NONCE " 1 NX EX %lld", nonce,
                (long long) ttl);
    if (rc != SQ_OK) {
        return rc;
    }

    if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0) {
        *fresh = 1;

    } else if (r->type != REDIS_REPLY_NIL) {
        rc = SQ_ERR_REDIS;
    }

    freeReplyObject(r);

    return rc;
}
