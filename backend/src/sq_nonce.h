/*
 * sq_nonce: a signed identity is accepted once.  Its nonce is kept in
 * Redis, which every backend process shares, for as long as its
 * timestamp stays acceptable:
 *   sq:nonce:<32 hex digits>   string "1", EX until ts + SQ_IDENTITY_SKEW
 */

#ifndef SQ_NONCE_H
#define SQ_NONCE_H

#include <stdint.h>

#include <hiredis/hiredis.h>

#include "sq_store.h"

/*
 * SET sq:nonce:<nonce> 1 NX EX <seconds left in the window>: SQ_OK with
 * *fresh 1 when this is the nonce's first use, 0 when it was seen; an
 * error when Redis cannot tell (the caller fails closed).
 */
sq_rc_t sq_nonce_claim(redisContext *c, const char *nonce, int64_t ts,
    int64_t now, int *fresh);

/*
 * The seconds sq:nonce:<nonce> is kept for an identity signed at ts:
 * until ts + SQ_IDENTITY_SKEW, plus one.  -1 for a malformed nonce or
 * a timestamp outside the window.
 */
int64_t sq_nonce_ttl(const char *nonce, int64_t ts, int64_t now);

#endif /* SQ_NONCE_H */
