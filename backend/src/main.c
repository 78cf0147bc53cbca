/*
 * smartlyq-backend: options, the state shared by the workers, and each
 * worker's event base, signals and graceful stop.
 *
 * --workers N (default: the CPU count) worker processes serve one port
 * under a supervisor (sq_procs.h); --workers 1 is one process, which
 * serves itself.  What the workers share is made before they are forked:
 * the secrets, the anti-replay window and the metrics (both in shared
 * memory).  Each worker makes its own event base and its own Redis
 * connection after the fork.
 */

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sq_ctx.h"
#include "sq_json.h"
#include "sq_listen.h"
#include "sq_log.h"
#include "sq_metrics.h"
#include "sq_procs.h"
#include "sq_server.h"


#define SQ_OPT_PATH_MAX  4096
#define SQ_PEPPER_ENV    "SMARTLYQ_PEPPER_FILE"
#define SQ_DRAIN_MS      5000       /* a stopping worker's in-flight wait */
#define SQ_DRAIN_POLL_MS 20

typedef struct {
    const char  *listen;
    const char  *redis;
    const char  *signing_key_file;
    const char  *functions;
    const char  *pid_file;
    const char  *pepper_file;
    const char  *redis_password_file;
    int          workers;
    /* issue 15 */
    const char  *sentinel;              /* HOST:PORT[,HOST:PORT...] */
    const char  *master;
    const char  *sentinel_password_file;
    int          wait_replicas;         /* -1: the default */
    int          wait_timeout_ms;
} sq_opts_t;

#define SQ_WAIT_REPLICAS_MAX    16
#define SQ_WAIT_TIMEOUT_MAX     60000
#define SQ_WAIT_TIMEOUT_DEF     500


static void
sq_usage(FILE *f)
{
    fprintf(f, "usage: smartlyq-backend --listen HOST:PORT "
            "--signing-key-file FILE\n"
            "         [--redis HOST:PORT|unix:/path] [--functions FILE]"
            " [--pid-file FILE]\n"
            "         [--pepper-file FILE] [--redis-password-file FILE]"
            " [--workers N]\n"
            "         [--redis-sentinel HOST:PORT[,HOST:PORT...] "
            "--redis-master NAME\n"
            "          [--sentinel-password-file FILE]] "
            "[--wait-replicas N] [--wait-timeout-ms T]\n"
            "  --redis defaults to $%s, else %s\n"
            "  --redis-sentinel (exclusive with --redis) defaults to $"
            SQ_SENTINEL_ENV ",\n"
            "    --redis-master to $" SQ_MASTER_ENV "\n"
            "  --wait-replicas (WAIT after each write) defaults to 1 with "
            "Sentinel, else 0;\n"
            "    --wait-timeout-ms to %d\n"
            "  --pepper-file (to make keys in /v1/keys) defaults to $%s\n"
            "  --redis-password-file (AUTH to Redis) defaults to $%s\n"
            "  --workers (processes on the port, 1..%d) defaults to the"
            " CPU count\n",
            SQ_REDIS_ENV, SQ_REDIS_DEFAULT, SQ_WAIT_TIMEOUT_DEF, SQ_PEPPER_ENV,
            SQ_REDIS_AUTH_ENV, SQ_WORKERS_MAX);
}


/* "1".."64"; the CPU count (within those bounds) when s is NULL */
static int
sq_parse_workers(const char *s)
{
    int   n;
    long  cpus;

    if (s == NULL) {
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        return cpus < 1 ? 1 : cpus > SQ_WORKERS_MAX ? SQ_WORKERS_MAX
                                                    : (int) cpus;
    }

    for (n = 0; *s >= '0' && *s <= '9' && n <= SQ_WORKERS_MAX; s++) {
        n = n * 10 + (*s - '0');
    }

    return *s == '\0' && n >= 1 && n <= SQ_WORKERS_MAX ? n : -1;
}


/* "0".."max"; -1 when it is not */
static int
sq_parse_count(const char *s, int max)
{
    int  n;

    if (*s == '\0') {
        return -1;
    }

    for (n = 0; *s >= '0' && *s <= '9' && n <= max; s++) {
        n = n * 10 + (*s - '0');
    }

    return *s == '\0' && n <= max ? n : -1;
}


/* issue 15: Sentinel instead of --redis, and WAIT's defaults */
static int
sq_parse_sentinel(sq_opts_t *o)
{
    if (o->sentinel != NULL && o->redis != NULL) {
        sq_log(SQ_LOG_ERR, "--redis-sentinel and --redis exclude each other");
        return -1;
    }

    if (o->sentinel == NULL && o->redis == NULL) {
        o->sentinel = getenv(SQ_SENTINEL_ENV);
        if (o->sentinel != NULL && o->sentinel[0] == '\0') {
            o->sentinel = NULL;
        }
    }

    if (o->sentinel != NULL && o->master == NULL) {
        o->master = getenv(SQ_MASTER_ENV);
    }

    if (o->sentinel != NULL && (o->master == NULL || o->master[0] == '\0'))
    {
        sq_log(SQ_LOG_ERR, "--redis-sentinel needs --redis-master");
        return -1;
    }

    if (o->sentinel == NULL
        && (o->master != NULL || o->sentinel_password_file != NULL))
    {
        sq_log(SQ_LOG_ERR, "--redis-master and --sentinel-password-file "
               "need --redis-sentinel");
        return -1;
    }

    if (o->wait_replicas < 0) {
        o->wait_replicas = o->sentinel != NULL ? 1 : 0;
    }

    return 0;
}


static int
sq_parse_options(int argc, char **argv, sq_opts_t *o)
{
    int                         ch;
    const char                 *workers;
    static const struct option  longopts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "redis", required_argument, NULL, 'r' },
        { "signing-key-file", required_argument, NULL, 's' },
        { "functions", required_argument, NULL, 'f' },
        { "pid-file", required_argument, NULL, 'p' },
        { "pepper-file", required_argument, NULL, 'k' },
        { "redis-password-file", required_argument, NULL, 'a' },
        { "workers", required_argument, NULL, 'w' },
        { "redis-sentinel", required_argument, NULL, 'S' },
        { "redis-master", required_argument, NULL, 'M' },
        { "sentinel-password-file", required_argument, NULL, 'P' },
        { "wait-replicas", required_argument, NULL, 'W' },
        { "wait-timeout-ms", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(o, 0, sizeof(*o));
    workers = NULL;
    o->wait_replicas = -1;
    o->wait_timeout_ms = SQ_WAIT_TIMEOUT_DEF;

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (optarg != NULL && strlen(optarg) > SQ_OPT_PATH_MAX) {
            return -1;
        }

        switch (ch) {
        case 'l': o->listen = optarg; break;
        case 'r': o->redis = optarg; break;
        case 's': o->signing_key_file = optarg; break;
        case 'f': o->functions = optarg; break;
        case 'p': o->pid_file = optarg; break;
        case 'k': o->pepper_file = optarg; break;
        case 'a': o->redis_password_file = optarg; break;
        case 'w': workers = optarg; break;
        case 'S': o->sentinel = optarg; break;
        case 'M': o->master = optarg; break;
        case 'P': o->sentinel_password_file = optarg; break;
        case 'W':
            o->wait_replicas = sq_parse_count(optarg, SQ_WAIT_REPLICAS_MAX);
            if (o->wait_replicas < 0) {
                return -1;
            }
            break;
        case 'T':
            o->wait_timeout_ms = sq_parse_count(optarg, SQ_WAIT_TIMEOUT_MAX);
            if (o->wait_timeout_ms < 1) {
                return -1;
            }
            break;
        default: return -1;
        }
    }

    if (optind != argc || o->listen == NULL || o->signing_key_file == NULL)
    {
        return -1;
    }

    o->workers = sq_parse_workers(workers);
    if (o->workers < 0 || sq_parse_sentinel(o) != 0) {
        return -1;
    }

    if (o->redis == NULL && o->sentinel == NULL) {
        o->redis = getenv(SQ_REDIS_ENV);
    }

    if (o->pepper_file == NULL) {
        o->pepper_file = getenv(SQ_PEPPER_ENV);
    }

    if (o->pepper_file != NULL
        && (o->pepper_file[0] == '\0'
            || strlen(o->pepper_file) > SQ_OPT_PATH_MAX))
    {
        o->pepper_file = NULL;
    }

    if (o->redis_password_file == NULL) {
        o->redis_password_file = getenv(SQ_REDIS_AUTH_ENV);
    }

    if (o->redis_password_file != NULL
        && (o->redis_password_file[0] == '\0'
            || strlen(o->redis_password_file) > SQ_OPT_PATH_MAX))
    {
        o->redis_password_file = NULL;
    }

    if (o->redis == NULL || o->redis[0] == '\0') {
        o->redis = SQ_REDIS_DEFAULT;
    }

    return 0;
}


/* issue 15: the sentinels; the primary's address stays empty till found */
static int
sq_setup_sentinel(sq_ctx_t *ctx, const sq_opts_t *o, sq_redis_addr_t *addr)
{
    char             err[512];
    sq_redis_auth_t  auth;

    memset(addr, 0, sizeof(*addr));

    if (sq_sentinel_parse(o->sentinel, o->master, &ctx->sentinel) != 0) {
        sq_log(SQ_LOG_ERR, "bad --redis-sentinel list or --redis-master "
               "name");
        return -1;
    }

    if (o->sentinel_password_file != NULL) {
        if (sq_redis_auth_load(o->sentinel_password_file, &auth, err,
                               sizeof(err)) != 0)
        {
            sq_log(SQ_LOG_ERR, "--sentinel-password-file: %s", err);
            return -1;
        }

        sq_sentinel_set_auth(&ctx->sentinel, &auth);
        sq_redis_auth_clear(&auth);
    }

    ctx->use_sentinel = 1;
    sq_log(SQ_LOG_INFO, "redis primary: through %zu sentinel(s), master %s;"
           " WAIT %d replica(s), %d ms", ctx->sentinel.n,
           ctx->sentinel.master, o->wait_replicas, o->wait_timeout_ms);

    return 0;
}


static int
sq_setup_redis(sq_ctx_t *ctx, const sq_opts_t *o)
{
    char              err[512], *src;
    size_t            len;
    sq_redis_addr_t   addr;

    ctx->wait_replicas = o->wait_replicas;
    ctx->wait_timeout_ms = o->wait_timeout_ms;

    if (o->sentinel != NULL) {
        if (sq_setup_sentinel(ctx, o, &addr) != 0) {
            return -1;
        }

    } else if (sq_redis_addr_parse(o->redis, &addr) != 0) {
        sq_log(SQ_LOG_ERR, "bad --redis address");
        return -1;
    }

    if (o->redis_password_file != NULL
        && sq_redis_auth_load(o->redis_password_file, &addr.auth, err,
                              sizeof(err)) != 0)
    {
        sq_log(SQ_LOG_ERR, "--redis-password-file: %s", err);
        return -1;
    }

    src = NULL;
    len = 0;

    if (o->functions != NULL
        && sq_file_read(o->functions, SQ_FUNCTIONS_MAX, &src, &len, err,
                        sizeof(err)) != 0)
    {
        sq_log(SQ_LOG_ERR, "--functions: %s", err);
        sq_redis_auth_clear(&addr.auth);
        return -1;
    }

    if (o->functions == NULL) {
        sq_log(SQ_LOG_WARN, "no --functions: the Redis function library "
               "is not loaded by this process");
    }

    sq_redis_init(&ctx->redis, &addr, src, len);
    sq_redis_auth_clear(&addr.auth);

    return 0;
}


/* nothing in flight any more: the worker can go */
static void
sq_on_drain(evutil_socket_t fd, short what, void *arg)
{
    sq_ctx_t  *ctx = arg;

    (void) fd;
    (void) what;

    if (ctx->in_flight == 0) {
        event_base_loopexit(ctx->base, NULL);
    }
}


/*
 * SIGTERM, SIGINT: stop accepting, answer what is in flight (SQ_DRAIN_MS
 * at most), then leave the loop; idle connections are closed after it.
 */
static void
sq_on_signal(evutil_socket_t sig, short what, void *arg)
{
    sq_ctx_t        *ctx = arg;
    struct timeval   cap = { SQ_DRAIN_MS / 1000, 0 };
    struct timeval   poll = { 0, SQ_DRAIN_POLL_MS * 1000 };

    (void) what;

    if (ctx->draining) {
        return;
    }

    sq_log(SQ_LOG_INFO, "signal %d, %u requests in flight, shutting down",
           (int) sig, ctx->in_flight);
    ctx->draining = 1;
    sq_server_close_listener(ctx);

    ctx->drain_timer = event_new(ctx->base, -1, EV_PERSIST, sq_on_drain,
                                 ctx);
    if (ctx->drain_timer == NULL || evtimer_add(ctx->drain_timer, &poll) != 0
        || ctx->in_flight == 0)
    {
        event_base_loopexit(ctx->base, NULL);
        return;
    }

    event_base_loopexit(ctx->base, &cap);
}


/*
 * While Redis is down, keep trying so the functions get loaded; while it
 * is up, put the cache marker back if it went (FLUSHALL, FLUSHDB).
 */
static void
sq_on_redis_timer(evutil_socket_t fd, short what, void *arg)
{
    sq_ctx_t  *ctx = arg;

    (void) fd;
    (void) what;

    /* on the async link: a stalled Redis must not block the loop here */
    if (ctx->aredis.base == NULL) {
        sq_aredis_init(&ctx->aredis, ctx->base, &ctx->redis);
    }

    sq_aredis_tick(&ctx->aredis);
}


/* issue 15: Sentinel moved the primary: the links reconnect there */
static void
sq_on_primary_changed(void *arg)
{
    sq_ctx_t  *ctx = arg;

    sq_aredis_reset(&ctx->aredis, "the primary moved");
    sq_aredis_reset(&ctx->awrite, "the primary moved");
}


/* the worker's links; with Sentinel, its lookup of the primary */
static int
sq_setup_links(sq_ctx_t *ctx)
{
    sq_aredis_init(&ctx->aredis, ctx->base, &ctx->redis);
    sq_aredis_init(&ctx->awrite, ctx->base, &ctx->redis);
    /* a write may queue behind the WAIT before its own: two WAITs */
    ctx->awrite.timeout_ms = SQ_REDIS_TIMEOUT_MS
                             + 2 * ctx->wait_timeout_ms;

    if (!ctx->use_sentinel) {
        return 0;
    }

    ctx->aredis.check_role = 1;
    ctx->awrite.check_role = 1;
    ctx->aredis.lost = sq_asentinel_ask;
    ctx->awrite.lost = sq_asentinel_ask;
    ctx->aredis.lost_arg = &ctx->asentinel;
    ctx->awrite.lost_arg = &ctx->asentinel;

    if (sq_asentinel_start(&ctx->asentinel, ctx->base, &ctx->sentinel,
                           &ctx->redis.addr, sq_on_primary_changed, ctx)
        != 0)
    {
        sq_log(SQ_LOG_ERR, "cannot start the sentinel lookup");
        return -1;
    }

    return 0;
}


static int
sq_setup_events(sq_ctx_t *ctx)
{
    struct timeval  tv = { 1, 0 };

    ctx->sig_term = evsignal_new(ctx->base, SIGTERM, sq_on_signal, ctx);
    ctx->sig_int = evsignal_new(ctx->base, SIGINT, sq_on_signal, ctx);
    ctx->redis_timer = event_new(ctx->base, -1, EV_PERSIST,
                                 sq_on_redis_timer, ctx);

    if (ctx->sig_term == NULL || ctx->sig_int == NULL
        || ctx->redis_timer == NULL
        || evsignal_add(ctx->sig_term, NULL) != 0
        || evsignal_add(ctx->sig_int, NULL) != 0
        || evtimer_add(ctx->redis_timer, &tv) != 0)
    {
        sq_log(SQ_LOG_ERR, "cannot set up signal and timer events");
        return -1;
    }

    return 0;
}


/* what the workers share, made before they are forked */
static int
sq_setup(sq_ctx_t *ctx, const sq_opts_t *o, char *host, size_t cap,
    uint16_t *port)
{
    char  err[512];

    if (sq_secret_load(o->signing_key_file, ctx->signing_key, err,
                       sizeof(err)) != 0)
    {
        sq_log(SQ_LOG_ERR, "--signing-key-file: %s", err);
        return -1;
    }

    if (o->pepper_file == NULL) {
        sq_log(SQ_LOG_WARN, "no --pepper-file: POST /v1/keys and rotation "
               "answer 503");
    } else if (sq_secret_load(o->pepper_file, ctx->pepper, err,
                              sizeof(err)) != 0)
    {
        sq_log(SQ_LOG_ERR, "--pepper-file: %s", err);
        return -1;
    } else {
        ctx->has_pepper = 1;
    }

    if (sq_server_parse_listen(o->listen, host, cap, port) != 0) {
        sq_log(SQ_LOG_ERR, "bad --listen address");
        return -1;
    }

    if (sq_setup_redis(ctx, o) != 0) {
        return -1;
    }

    /* the service's start: what was signed before may have been seen */
    if (sq_replay_init(&ctx->replay, (int64_t) time(NULL)) != 0) {
        sq_log(SQ_LOG_ERR, "cannot map the shared replay window");
        return -1;
    }

    if (sq_metrics_init() != 0) {
        sq_log(SQ_LOG_ERR, "cannot map the shared metrics");
        return -1;
    }

    return 0;
}


/* what one process made for itself: its loop, server, Redis link */
static void
sq_cleanup_process(sq_ctx_t *ctx)
{
    /* first: requests waiting on Redis get their 503 while still alive */
    sq_aredis_free(&ctx->aredis);
    sq_aredis_free(&ctx->awrite);
    sq_asentinel_free(&ctx->asentinel);
    sq_server_stop(ctx);

    if (ctx->sig_term != NULL) {
        event_free(ctx->sig_term);
    }
    if (ctx->sig_int != NULL) {
        event_free(ctx->sig_int);
    }
    if (ctx->redis_timer != NULL) {
        event_free(ctx->redis_timer);
    }
    if (ctx->drain_timer != NULL) {
        event_free(ctx->drain_timer);
    }
    if (ctx->base != NULL) {
        event_base_free(ctx->base);
    }

    sq_redis_free(&ctx->redis);
    sq_sentinel_clear(&ctx->sentinel);
    sq_replay_free(&ctx->replay);
    sodium_memzero(ctx->signing_key, sizeof(ctx->signing_key));
    sodium_memzero(ctx->pepper, sizeof(ctx->pepper));

    if (ctx->pid_file != NULL) {
        unlink(ctx->pid_file);
    }
}


/*
 * A worker: its own event base and Redis connection, serving on fd (a
 * listening socket it owns) until SIGTERM or SIGINT; the exit status.
 */
static int
sq_worker_run(void *arg, int fd)
{
    int        rc;
    sq_ctx_t  *ctx = arg;

    ctx->base = event_base_new();
    if (ctx->base == NULL || sq_setup_events(ctx) != 0
        || sq_setup_links(ctx) != 0)
    {
        close(fd);
        sq_cleanup_process(ctx);
        return 1;
    }

    if (sq_server_start(ctx, fd) != 0) {
        close(fd);
        sq_cleanup_process(ctx);
        return 1;
    }

    if (!ctx->use_sentinel) {
        sq_redis_get(&ctx->redis);
    }

    rc = event_base_dispatch(ctx->base) >= 0 ? 0 : 1;
    sq_cleanup_process(ctx);

    return rc;
}


/* --workers 1: this process serves, as it always did */
static int
sq_run_single(sq_ctx_t *ctx, const sq_opts_t *o, const char *host,
    uint16_t port)
{
    int   fd;
    char  err[256];

    fd = sq_listen_open(host, port, 0, err, sizeof(err));
    if (fd < 0) {
        sq_log(SQ_LOG_ERR, "cannot listen on %s", err);
        sq_cleanup_process(ctx);
        return 1;
    }

    if (o->pid_file != NULL) {
        if (sq_procs_write_pid(o->pid_file) != 0) {
            close(fd);
            sq_cleanup_process(ctx);
            return 1;
        }
        ctx->pid_file = o->pid_file;
    }

    sq_log(SQ_LOG_INFO, "listening on %s:%u, one process", host,
           (unsigned) port);

    return sq_worker_run(ctx, fd);
}


static int
sq_run_workers(sq_ctx_t *ctx, const sq_opts_t *o, const char *host,
    uint16_t port)
{
    int          rc;
    char         err[256];
    sq_procs_t  *p;

    /* SO_REUSEPORT would share the port with a backend still there */
    if (sq_listen_probe(host, port, err, sizeof(err)) != 0) {
        sq_log(SQ_LOG_ERR, "cannot listen on %s", err);
        sq_cleanup_process(ctx);
        return 1;
    }

    p = calloc(1, sizeof(sq_procs_t));
    if (p == NULL) {
        sq_log(SQ_LOG_ERR, "out of memory for the supervisor");
        sq_cleanup_process(ctx);
        return 1;
    }

    p->host = host;
    p->port = port;
    p->n = o->workers;
    p->run = sq_worker_run;
    p->arg = ctx;
    p->pid_file = o->pid_file;

    rc = sq_procs_supervise(p);

    free(p);
    sq_cleanup_process(ctx);

    return rc;
}


int
main(int argc, char **argv)
{
    char       host[256];
    uint16_t   port;
    sq_ctx_t   ctx;
    sq_opts_t  o;

    if (sq_parse_options(argc, argv, &o) != 0) {
        sq_usage(stderr);
        return 2;
    }

    if (sq_crypto_init() != 0) {
        sq_log(SQ_LOG_ERR, "libsodium initialisation failed");
        return 1;
    }

    if (sq_json_reserve_init() != 0) {
        sq_log(SQ_LOG_ERR, "out of memory for the JSON reserve");
        return 1;
    }

    signal(SIGPIPE, SIG_IGN);
    memset(&ctx, 0, sizeof(ctx));

    if (sq_setup(&ctx, &o, host, sizeof(host), &port) != 0) {
        sq_cleanup_process(&ctx);
        return 1;
    }

    if (o.workers == 1) {
        return sq_run_single(&ctx, &o, host, port);
    }

    return sq_run_workers(&ctx, &o, host, port);
}
