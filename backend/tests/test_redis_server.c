/*
 * A private redis-server for the tests: free port, no persistence,
 * killed with the test process.
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sq_redis.h"
#include "tests.h"


static int
sq_test_free_port(void)
{
    int                 fd, port;
    socklen_t           len;
    struct sockaddr_in  sa;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sa);

    port = -1;
    if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0
        && getsockname(fd, (struct sockaddr *) &sa, &len) == 0)
    {
        port = ntohs(sa.sin_port);
    }

    close(fd);

    return port;
}


static void
sq_test_redis_exec(int port)
{
    int   null;
    char  p[16];

    snprintf(p, sizeof(p), "%d", port);
    prctl(PR_SET_PDEATHSIG, SIGKILL);

    null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        close(null);
    }

    execlp("redis-server", "redis-server", "--port", p, "--bind",
           "127.0.0.1", "--save", "", "--appendonly", "no",
           "--loglevel", "warning", (char *) NULL);
    _exit(127);
}


static int
sq_test_redis_wait(sq_test_redis_t *r)
{
    int               i;
    char              err[128], addr[32];
    redisReply       *reply;
    redisContext     *c;
    sq_redis_addr_t   a;
    struct timespec   ts = { 0, 50 * 1000 * 1000 };

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", r->port);
    if (sq_redis_addr_parse(addr, &a) != 0) {
        return -1;
    }

    for (i = 0; i < 100; i++) {
        c = sq_redis_connect(&a, 200, err, sizeof(err));
        if (c != NULL) {
            reply = redisCommand(c, "PING");
            if (reply != NULL) {
                freeReplyObject(reply);
                redisFree(c);
                return 0;
            }
            redisFree(c);
        }
        nanosleep(&ts, NULL);
    }

    return -1;
}


int
sq_test_redis_start(sq_test_redis_t *r)
{
    r->pid = -1;
    r->port = sq_test_free_port();
    if (r->port < 0) {
        return -1;
    }

    r->pid = fork();
    if (r->pid < 0) {
        return -1;
    }

    if (r->pid == 0) {
        sq_test_redis_exec(r->port);
    }

    if (sq_test_redis_wait(r) != 0) {
        sq_test_redis_stop(r);
        return -1;
    }

    return 0;
}


void
sq_test_redis_stop(sq_test_redis_t *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        waitpid(r->pid, NULL, 0);
        r->pid = -1;
    }
}
