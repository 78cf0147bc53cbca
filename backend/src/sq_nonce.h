/*
 * sq_nonce: a signed identity is accepted once.  A write's nonce is kept
 * in Redis, which every backend host shares, for as long as its
 * timestamp stays acceptable; the write's function call checks it
 * (EXISTS) and sets it with the write (redis/smartlyq.lua):
 *   sq:nonce:<32 hex digits>   string "1", EX until ts + SQ_IDENTITY_SKEW
 */

#ifndef SQ_NONCE_H
#define SQ_NONCE_H

#include <stdint.h>

/*
 * The seconds sq:nonce:<nonce> is kept for an identity signed at ts:
 * until ts + SQ_IDENTITY_SKEW, plus one.  -1 for a malformed nonce or
 * a timestamp outside the window.
 */
int64_t sq_nonce_ttl(const char *nonce, int64_t ts, int64_t now);

#endif /* SQ_NONCE_H */
