/*
 * A private redis-server for the tests: free port, no persistence,
 * killed with the test process; the fixture, connection and record
 * helpers the suites that use it share.
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sq_argv.h"
#include "sq_redis.h"
#include "tests.h"

#define SQ_TEST_FUNCTIONS  "../redis/smartlyq.lua"

sq_test_redis_t  sq_test_redis;     /* set by sq_test_redis_setup */


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


void
sq_test_redis_setup(void)
{
    ck_assert_msg(sq_test_redis_start(&sq_test_redis) == 0,
                  "cannot start redis-server");
}


void
sq_test_redis_teardown(void)
{
    sq_test_redis_stop(&sq_test_redis);
}


TCase *
sq_test_redis_tcase(void)
{
    TCase  *tc = tcase_create("redis");

    tcase_add_unchecked_fixture(tc, sq_test_redis_setup,
                                sq_test_redis_teardown);
    tcase_set_timeout(tc, 30);

    return tc;
}


void
sq_test_redis_load_functions(redisContext *c)
{
    char    err[256], *src;
    size_t  len;

    ck_assert_msg(sq_file_read(SQ_TEST_FUNCTIONS, SQ_FUNCTIONS_MAX, &src,
                               &len, err, sizeof(err)) == 0,
                  "read functions: %s", err);
    ck_assert_msg(sq_redis_function_load(c, src, len, err, sizeof(err)) == 0,
                  "function load: %s", err);
    free(src);
}


redisContext *
sq_test_redis_connect(const sq_test_redis_t *t, int load_functions)
{
    char             err[128], addr[32];
    redisReply      *r;
    redisContext    *c;
    sq_redis_addr_t  a;

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", t->port);
    ck_assert_int_eq(sq_redis_addr_parse(addr, &a), 0);
    c = sq_redis_connect(&a, 1000, err, sizeof(err));
    ck_assert_msg(c != NULL, "connect: %s", err);
    r = redisCommand(c, "FLUSHALL");
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);

    if (load_functions) {
        sq_test_redis_load_functions(c);
    }

    return c;
}


sq_rc_t
sq_test_record_create(redisContext *c, const sq_resource_t *res,
    uint64_t wid, int test, int64_t now, const char *json, sq_record_t *rec)
{
    char           err[256];
    sq_rc_t        rc;
    json_t        *u;
    sq_argv_t      a;
    redisReply    *r;
    const char    *infix, *st;
    json_error_t   jerr;

    memset(rec, 0, sizeof(*rec));
    rec->workspace_id = wid;
    rec->test_mode = test;
    rec->created_at = now;
    rec->updated_at = now;
    rec->fields = json_loads(json, 0, &jerr);
    ck_assert_ptr_nonnull(rec->fields);
    ck_assert_int_eq(sq_resource_complete(res, rec->fields, err,
                                          sizeof(err)), 0);

    /* sq_res_insert as the API calls it, without a nonce or member set */
    infix = test ? "test:" : "";
    u = res->unique != NULL ? json_object_get(rec->fields, res->unique)
                            : NULL;
    memset(&a, 0, offsetof(sq_argv_t, buf));
    sq_argv_str(&a, "FCALL");
    sq_argv_str(&a, "sq_res_insert");
    sq_argv_str(&a, "3");
    sq_argv_str(&a, "");
    sq_argv_str(&a, "");
    sq_argv_ref_key(&a, res, rec->fields, 1);
    sq_argv_str(&a, "0");
    sq_argv_u64(&a, wid);
    sq_argv_str(&a, "");
    sq_argv_str(&a, test ? "test" : "live");
    sq_argv_str(&a, "");
    sq_argv_str(&a, res->name);
    sq_argv_fmt(&a, "%s%s", infix, res->plural);
    if (res->unique == NULL) {
        sq_argv_str(&a, "");
    } else {
        sq_argv_fmt(&a, "%s%s", infix, res->unique_key);
    }
    sq_argv_str(&a, json_is_string(u) ? json_string_value(u) : "");
    sq_argv_fmt(&a, "%lld", (long long) now);
    sq_argv_str(&a, "");        /* no stored rendering: read as fields */
    sq_argv_fields(&a, res, rec->fields);
    ck_assert(!a.failed);

    r = redisCommandArgv(c, a.argc, a.argv, a.lens);
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(r->type == REDIS_REPLY_ARRAY && r->elements >= 1
                  && r->element[0]->type == REDIS_REPLY_STRING,
                  "sq_res_insert: %s",
                  r->type == REDIS_REPLY_ERROR ? r->str : "not a status");

    st = r->element[0]->str;
    if (strcmp(st, "OK") == 0) {
        ck_assert_uint_eq(r->elements, 3);
        rec->id = strtoull(r->element[1]->str, NULL, 10);
        rc = SQ_OK;
    } else if (strcmp(st, "TAKEN") == 0) {
        rc = SQ_ERR_TAKEN;
    } else if (strcmp(st, "BADREF") == 0) {
        rc = SQ_ERR_BADREF;
    } else {
        rc = SQ_ERR_REDIS;
    }

    freeReplyObject(r);

    return rc;
}
