/*
 * sq_server: the evhttp front: limits, identity check, routing, the
 * workspace membership check, and dispatch to the resource handlers.
 */

#ifndef SQ_SERVER_H
#define SQ_SERVER_H

#include <stdint.h>

#include "sq_ctx.h"

/* "HOST:PORT" or "[v6]:PORT" into host (cap bytes) and port */
int sq_server_parse_listen(const char *s, char *host, size_t cap,
    uint16_t *port);

/* Creates ctx->http bound to host:port; returns 0 or -1 (logged). */
int sq_server_start(sq_ctx_t *ctx, const char *host, uint16_t port);

void sq_server_stop(sq_ctx_t *ctx);

#endif /* SQ_SERVER_H */
