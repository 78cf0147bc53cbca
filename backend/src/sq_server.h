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

/*
 * Creates ctx->http accepting on fd, a listening socket (sq_listen.h)
 * that it owns from then on; returns 0, or -1 (logged) with fd still
 * the caller's.  Every request is counted in ctx->in_flight until its
 * reply is sent.
 */
int sq_server_start(sq_ctx_t *ctx, int fd);

/* Stops accepting: closes this process's listening socket. */
void sq_server_close_listener(sq_ctx_t *ctx);

/* Closes the listener and every connection. */
void sq_server_stop(sq_ctx_t *ctx);

#endif /* SQ_SERVER_H */
