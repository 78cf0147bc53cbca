/*
 * sq_listen: listening sockets, shared by SO_REUSEPORT or not.
 */

#define _DEFAULT_SOURCE             /* SOCK_NONBLOCK, SOCK_CLOEXEC */

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/types.h>

#include "sq_listen.h"


int
sq_listen_open(const char *host, uint16_t port, int shared, char *err,
    size_t errlen)
{
    int               fd, on, rc;
    char              service[8];
    struct addrinfo   hints, *ai;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(service, sizeof(service), "%u", (unsigned) port);

    rc = getaddrinfo(host, service, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
        return -1;
    }

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        freeaddrinfo(ai);
        return -1;
    }

    on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0
        || (shared
            && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
        || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0
        || listen(fd, SQ_LISTEN_BACKLOG) != 0)
    {
        snprintf(err, errlen, "%s:%u: %s", host, (unsigned) port,
                 strerror(errno));
        close(fd);
        freeaddrinfo(ai);
        return -1;
    }

    freeaddrinfo(ai);

    return fd;
}


int
sq_listen_probe(const char *host, uint16_t port, char *err, size_t errlen)
{
    int  fd;

    fd = sq_listen_open(host, port, 0, err, errlen);
    if (fd < 0) {
        return -1;
    }

    close(fd);

    return 0;
}
