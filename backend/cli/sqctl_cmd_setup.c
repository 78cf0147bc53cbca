/*
 * sqctl_cmd_setup: `secret` and `init`.
 */

#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "sq_identity.h"
#include "sq_keys.h"
#include "sqctl.h"
#include "sqctl_args.h"


int
sqctl_secret(sqctl_t *s, int argc, char **argv)
{
    char  hex[SQ_SECRET_BYTES * 2 + 1];

    (void) s;
    (void) argv;

    if (argc != 0) {
        fprintf(stderr, "sqctl: secret takes no arguments\n");
        return SQCTL_USAGE;
    }

    sq_random_hex(hex, SQ_SECRET_BYTES);
    printf("%s\n", hex);
    sodium_memzero(hex, sizeof(hex));

    return fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
}


/* keys from before scopes existed keep the full access they had */
static int
sqctl_migrate_keys(sqctl_t *s)
{
    char        all[SQ_SCOPES_TEXT_MAX];
    redisReply *r;

    if (sq_scopes_format(SQ_SCOPES_ALL, all, sizeof(all)) != 0) {
        return SQCTL_FAIL;
    }

    r = redisCommand(s->c, "FCALL sq_migrate_keys 0 %s", all);

    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        fprintf(stderr, "sqctl: key migration failed\n");
        if (r) {
            freeReplyObject(r);
        }
        return SQCTL_FAIL;
    }

    if (r->integer > 0) {
        fprintf(stderr, "sqctl: %lld key(s) from before scopes now hold "
                "every scope\n", r->integer);
    }

    freeReplyObject(r);

    return SQCTL_OK;
}


int
sqctl_init(sqctl_t *s, int argc, char **argv)
{
    int           rc;
    char          err[512], *src;
    size_t        len;
    sqctl_opt_t   opts[] = { { "functions", 1, NULL } };

    if (sqctl_args(argc, argv, opts, 1) != 0) {
        return SQCTL_USAGE;
    }

    if (sq_file_read(opts[0].value, SQ_FUNCTIONS_MAX, &src, &len, err,
                     sizeof(err)) != 0)
    {
        fprintf(stderr, "sqctl: --functions: %s\n", err);
        return SQCTL_FAIL;
    }

    rc = sqctl_connect(s);
    if (rc == SQCTL_OK
        && sq_redis_function_load(s->c, src, len, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "sqctl: FUNCTION LOAD: %s\n", err);
        rc = SQCTL_FAIL;
    }

    if (rc == SQCTL_OK
        && sq_redis_marker(s->c, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "sqctl: SET " SQ_K_EPOCH ": %s\n", err);
        rc = SQCTL_FAIL;
    }

    if (rc == SQCTL_OK) {
        rc = sqctl_migrate_keys(s);
    }

    sodium_memzero(err, sizeof(err));
    free(src);

    return rc;
}
