/*
 * sqctl: SmartlyQ admin CLI: global flags and command dispatch.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_identity.h"
#include "sq_sentinel.h"
#include "sqctl.h"


typedef struct {
    const char   *noun;
    const char   *verb;         /* NULL: a one-word command */
    sqctl_cmd_t   run;
} sqctl_entry_t;

static const sqctl_entry_t  sqctl_commands[] = {
    { "secret", NULL, sqctl_secret },
    { "init", NULL, sqctl_init },
    { "user", "create", sqctl_user_create },
    { "user", "password", sqctl_user_password },
    { "workspace", "create", sqctl_workspace_create },
    { "member", "add", sqctl_member_add },
    { "member", "remove", sqctl_member_remove },
    { "key", "create", sqctl_key_create },
    { "key", "disable", sqctl_key_disable },
    { "key", "enable", sqctl_key_enable },
    { "key", "list", sqctl_key_list },
    { "key", "rotate", sqctl_key_rotate },
    { "key", "delete", sqctl_key_delete },
    { "key", "review", sqctl_key_review },
    { "key", "usage", sqctl_key_usage },
    { "account", "create", sqctl_account_create },
    /* issue 14 (apps) */
    { "app", "create", sqctl_app_create },
    { "app", "list", sqctl_app_list },
    { "app", "get", sqctl_app_get },
    { "app", "update", sqctl_app_update },
    { "app", "disable", sqctl_app_disable },
    { "app", "enable", sqctl_app_enable },
    { "app", "delete", sqctl_app_delete },
    { "app", "rotate-secret", sqctl_app_rotate_secret },
    { "app", "authorizations", sqctl_app_authorizations },
    { "app", "revoke", sqctl_app_revoke },
    { "app", "outcomes", sqctl_app_outcomes },
    /* issue 16 (keyops) */
    { "key", "activity", sqctl_key_activity },
    { "key", "set", sqctl_key_set },
    { "key", "notify", sqctl_key_notify },
    { "user", "notifications", sqctl_user_notifications },
    { "app", "set", sqctl_app_owner_set },
    { "activity", "unknown", sqctl_activity_unknown }
};


static int
sqctl_usage(void)
{
    fputs("usage: sqctl [--redis HOST:PORT|unix:/path] "
          "[--pepper-file FILE]\n"
          "             [--redis-password-file FILE]\n"
          "             [--redis-sentinel HOST:PORT[,HOST:PORT...] "
          "--redis-master NAME\n"
          "              [--sentinel-password-file FILE]]\n"
          "             [--wait-replicas N] [--wait-timeout-ms T] COMMAND\n"
          "  secret\n"
          "  init --functions FILE\n"
          "  user create --email E --name N\n"
          "  user password --id U   (the password on stdin)\n"
          "  workspace create --owner UID --name N\n"
          "  member add|remove --workspace W --user U\n"
          "  key create --user U [--type secret|publishable] "
          "[--mode live|test]\n"
          "             [--name N] [--scopes \"a b\"|all] [--workspaces 1,2] "
          "[--expires-at UNIX]\n"
          "             (secret keys default to every scope but "
          "keys:manage and apps:manage)\n"
          "  key rotate --id K --grace SECONDS\n"
          "  key disable|enable|delete --id K\n"
          "  key list --user U\n"
          "  key review [--unused-days N] [--age-days M] [--user U] "
          "[--json]\n"
          "  key activity --id K [--since T] [--until T] "
          "[--outcome allowed|refused]\n"
          "             [--workspace W] [--limit N] [--cursor C] [--json]\n"
          "  key set --id K [--owner U] [--purpose TEXT]\n"
          "  key notify --id K --message TEXT\n"
          "  user notifications --user U [--limit N] [--json]\n"
          "  app set --id A [--owner U] [--purpose TEXT]\n"
          "  activity unknown [--days N]   unknown keys' refusals per IP\n"
          "  key usage --id K [--days N]\n"
          "  account create --workspace W --platform P --handle H\n"
          "  app create --workspace W --owner U --name N "
          "[--type confidential|public]\n"
          "             --redirect-uris \"u1 u2\" --scopes \"a b\"\n"
          "  app list [--workspace W]\n"
          "  app get|disable|enable|delete|authorizations --id A\n"
          "  app update --id A [--name N] [--redirect-uris \"u1 u2\"] "
          "[--scopes \"a b\"]\n"
          "  app rotate-secret --id A [--grace SECONDS] "
          "[--revoke-tokens yes|no]\n"
          "  app revoke --id A --grant G\n"
          "  app outcomes --id A [--limit N]\n"
          "env: " SQ_REDIS_ENV " (default " SQ_REDIS_DEFAULT "), "
          SQCTL_PEPPER_ENV ", " SQ_REDIS_AUTH_ENV ",\n"
          "     " SQ_SENTINEL_ENV ", " SQ_MASTER_ENV "\n"
          "--wait-replicas defaults to 1 with Sentinel, else 0; "
          "--wait-timeout-ms to 500\n", stderr);

    return SQCTL_USAGE;
}


/* issue 15: the primary, asking the sentinels */
static int
sqctl_connect_sentinel(sqctl_t *s, char *err, size_t errlen)
{
    sq_redis_auth_t     auth;
    sq_sentinel_conf_t  sc;

    if (sq_sentinel_parse(s->sentinel, s->master, &sc) != 0) {
        fprintf(stderr, "sqctl: bad --redis-sentinel list or "
                "--redis-master name\n");
        return SQCTL_FAIL;
    }

    if (s->sentinel_password_file != NULL) {
        if (sq_redis_auth_load(s->sentinel_password_file, &auth, err,
                               errlen) != 0)
        {
            fprintf(stderr, "sqctl: --sentinel-password-file: %s\n", err);
            return SQCTL_FAIL;
        }
        sq_sentinel_set_auth(&sc, &auth);
        sq_redis_auth_clear(&auth);
    }

    s->c = sq_sentinel_connect(&sc, &s->addr.auth, SQCTL_TIMEOUT_MS, err,
                               errlen);
    sq_sentinel_clear(&sc);
    sq_redis_auth_clear(&s->addr.auth);

    if (s->c == NULL) {
        fprintf(stderr, "sqctl: redis (sentinel): %s\n", err);
        return SQCTL_FAIL;
    }

    return SQCTL_OK;
}


int
sqctl_connect(sqctl_t *s)
{
    char  err[4096 + 256];     /* a path of up to 4096 bytes, and why */

    if (s->redis_password_file != NULL
        && sq_redis_auth_load(s->redis_password_file, &s->addr.auth, err,
                              sizeof(err)) != 0)
    {
        fprintf(stderr, "sqctl: --redis-password-file: %s\n", err);
        return SQCTL_FAIL;
    }

    if (s->sentinel != NULL) {
        return sqctl_connect_sentinel(s, err, sizeof(err));
    }

    s->c = sq_redis_connect(&s->addr, SQCTL_TIMEOUT_MS, err, sizeof(err));
    sq_redis_auth_clear(&s->addr.auth);

    if (s->c == NULL) {
        fprintf(stderr, "sqctl: redis: %s\n", err);
        return SQCTL_FAIL;
    }

    return SQCTL_OK;
}


int
sqctl_fail(const char *what, sq_rc_t rc)
{
    fprintf(stderr, "sqctl: %s: %s\n", what, sq_rc_text(rc));

    return SQCTL_FAIL;
}


/* "0".."max", or -1 */
static int
sqctl_count(const char *v, int max)
{
    int  n;

    for (n = 0; *v >= '0' && *v <= '9' && n <= max; v++) {
        n = n * 10 + (*v - '0');
    }

    return *v == '\0' && n <= max ? n : -1;
}


/* issue 15: one of the Sentinel and WAIT flags; 0, or -1 if not one */
static int
sqctl_global_sentinel(sqctl_t *s, const char *flag, const char *v)
{
    if (strcmp(flag, "--redis-sentinel") == 0) {
        s->sentinel = v;
    } else if (strcmp(flag, "--redis-master") == 0) {
        s->master = v;
    } else if (strcmp(flag, "--sentinel-password-file") == 0) {
        s->sentinel_password_file = v;
    } else if (strcmp(flag, "--wait-replicas") == 0) {
        s->wait_replicas = v[0] != '\0' ? sqctl_count(v, 16) : -1;
        if (s->wait_replicas < 0) {
            s->wait_replicas = -2;      /* refused below */
        }
    } else if (strcmp(flag, "--wait-timeout-ms") == 0) {
        s->wait_timeout_ms = v[0] != '\0' ? sqctl_count(v, 60000) : -1;
    } else {
        return -1;
    }

    return 0;
}


/* the environment's Sentinel unless --redis was given; checks */
static int
sqctl_sentinel_defaults(sqctl_t *s, int redis_given)
{
    if (s->wait_replicas == -2 || s->wait_timeout_ms < 1) {
        return -1;
    }

    if (s->sentinel != NULL && redis_given) {
        fprintf(stderr, "sqctl: --redis-sentinel and --redis exclude each "
                "other\n");
        return -1;
    }

    if (s->sentinel == NULL && !redis_given) {
        s->sentinel = getenv(SQ_SENTINEL_ENV);
        if (s->sentinel != NULL && s->sentinel[0] == '\0') {
            s->sentinel = NULL;
        }
    }

    if (s->sentinel != NULL && s->master == NULL) {
        s->master = getenv(SQ_MASTER_ENV);
    }

    if (s->sentinel != NULL && s->master == NULL) {
        fprintf(stderr, "sqctl: --redis-sentinel needs --redis-master\n");
        return -1;
    }

    if (s->wait_replicas == -1) {
        s->wait_replicas = s->sentinel != NULL ? 1 : 0;
    }

    return 0;
}


/*
 * issue 15: WAIT after a command that wrote; SQCTL_FAIL when fewer
 * replicas than asked confirmed it (it may still have been applied).
 */
static int
sqctl_wait(sqctl_t *s)
{
    int          rc;
    redisReply  *r;

    r = redisCommand(s->c, "WAIT %d %d", s->wait_replicas,
                     s->wait_timeout_ms);

    rc = r != NULL && r->type == REDIS_REPLY_INTEGER
         && r->integer >= s->wait_replicas ? SQCTL_OK : SQCTL_FAIL;

    if (rc != SQCTL_OK) {
        fprintf(stderr, "sqctl: the write was not confirmed by %d "
                "replica(s) within %d ms (WRITE_NOT_REPLICATED); it may "
                "still have been applied\n", s->wait_replicas,
                s->wait_timeout_ms);
    }

    if (r != NULL) {
        freeReplyObject(r);
    }

    return rc;
}


/* commands that only read: no WAIT after them */
static int
sqctl_reads(const sqctl_entry_t *e)
{
    size_t                     i;
    static const char  *const  verbs[] = {
        "list", "review", "usage", "get", "authorizations", "outcomes"
    };

    if (e->verb == NULL) {
        return strcmp(e->noun, "secret") == 0;
    }

    for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(e->verb, verbs[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


/* Global flags; returns the index of the command word or -1. */
static int
sqctl_globals(int argc, char **argv, sqctl_t *s)
{
    int          i, given;
    const char  *redis;

    redis = getenv(SQ_REDIS_ENV);
    given = 0;
    s->wait_replicas = -1;
    s->wait_timeout_ms = 500;
    s->pepper_file = getenv(SQCTL_PEPPER_ENV);
    s->redis_password_file = getenv(SQ_REDIS_AUTH_ENV);

    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc || strlen(argv[i + 1]) > 4096) {
            return -1;
        }

        if (strcmp(argv[i], "--redis") == 0) {
            redis = argv[i + 1];
            given = 1;
        } else if (sqctl_global_sentinel(s, argv[i], argv[i + 1]) == 0) {
            continue;
        } else if (strcmp(argv[i], "--pepper-file") == 0) {
            s->pepper_file = argv[i + 1];
        } else if (strcmp(argv[i], "--redis-password-file") == 0) {
            s->redis_password_file = argv[i + 1];
        } else {
            return -1;
        }
    }

    if (sqctl_sentinel_defaults(s, given) != 0) {
        return -1;
    }

    if (redis == NULL || redis[0] == '\0') {
        redis = SQ_REDIS_DEFAULT;
    }

    if (s->redis_password_file != NULL && s->redis_password_file[0] == '\0')
    {
        s->redis_password_file = NULL;
    }

    if (sq_redis_addr_parse(redis, &s->addr) != 0) {
        fprintf(stderr, "sqctl: bad redis address\n");
        return -1;
    }

    return i < argc ? i : -1;
}


static const sqctl_entry_t *
sqctl_lookup(int argc, char **argv, int *used)
{
    size_t  i;

    for (i = 0; i < sizeof(sqctl_commands) / sizeof(sqctl_commands[0]);
         i++)
    {
        const sqctl_entry_t  *e = &sqctl_commands[i];

        if (strcmp(e->noun, argv[0]) != 0) {
            continue;
        }

        if (e->verb == NULL) {
            *used = 1;
            return e;
        }

        if (argc > 1 && strcmp(e->verb, argv[1]) == 0) {
            *used = 2;
            return e;
        }
    }

    return NULL;
}


int
main(int argc, char **argv)
{
    int                   first, used, rc;
    sqctl_t               s;
    const sqctl_entry_t  *e;

    memset(&s, 0, sizeof(s));

    if (sq_crypto_init() != 0) {
        fprintf(stderr, "sqctl: libsodium initialisation failed\n");
        return SQCTL_FAIL;
    }

    first = sqctl_globals(argc, argv, &s);
    if (first < 0) {
        return sqctl_usage();
    }

    e = sqctl_lookup(argc - first, argv + first, &used);
    if (e == NULL) {
        return sqctl_usage();
    }

    rc = e->run(&s, argc - first - used, argv + first + used);

    if (rc == SQCTL_OK && s.c != NULL && s.wait_replicas > 0
        && !sqctl_reads(e))
    {
        rc = sqctl_wait(&s);
    }

    if (s.c != NULL) {
        redisFree(s.c);
    }

    return rc;
}
