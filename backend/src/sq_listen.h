/*
 * sq_listen: the backend's listening sockets.  With several worker
 * processes, each has its own socket on the same address, bound with
 * SO_REUSEPORT: the kernel spreads new connections over them.
 */

#ifndef SQ_LISTEN_H
#define SQ_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#define SQ_LISTEN_BACKLOG  1024

/*
 * A nonblocking, close-on-exec socket listening on host:port (a numeric
 * address or a name), with SO_REUSEPORT when shared is set; returns it,
 * or -1 with err set.
 */
int sq_listen_open(const char *host, uint16_t port, int shared, char *err,
    size_t errlen);

/*
 * 0 when nothing listens on host:port: a bind without SO_REUSEPORT
 * fails while any socket, shared or not, is bound there (another
 * backend still running); -1 with err set otherwise.
 */
int sq_listen_probe(const char *host, uint16_t port, char *err,
    size_t errlen);

#endif /* SQ_LISTEN_H */
