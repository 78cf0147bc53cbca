/*
 * sq_resp: what a Redis reply may make hiredis allocate.
 *
 * hiredis 0.14 allocates the element table of an array when it reads
 * the array header, before any element has arrived: "*2147483647\r\n"
 * (13 bytes) asks for 16 GiB.  Strings and integers only take what was
 * received.  The edge's replies are small, so longer arrays are refused;
 * hiredis reports that as an error on the link, which fails the pending
 * checks closed (503) and reconnects.
 *
 * Plain C, no nginx types: the fuzz harness runs the same functions.
 */

#ifndef SQ_RESP_H
#define SQ_RESP_H

#include <hiredis/hiredis.h>

/*
 * sq_authz answers one string (older libraries: 10 elements); nothing
 * the edge sends needs more
 */
#define SQ_RESP_ARRAY_MAX  64

/* Makes reader refuse arrays of more than SQ_RESP_ARRAY_MAX elements. */
void sq_resp_bound(redisReader *reader);

#endif /* SQ_RESP_H */
