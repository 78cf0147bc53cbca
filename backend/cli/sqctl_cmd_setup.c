/*
 * sqctl_cmd_setup: `secret` and `init`.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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


/*
 * The records' resource names (backend/src/sq_route.c's table; sqctl does
 * not link the resources): an old-layout record is sq:<res>:<id>.
 */
static const char  *sqctl_resource_names[] = {
    "chatbot", "social_account", "social_post", "url", "article", "image",
    "media"
};

#define SQCTL_NRES                                                          \
    (sizeof(sqctl_resource_names) / sizeof(sqctl_resource_names[0]))

#define SQCTL_RENAME_BATCH  "1000"


/* one FCALL sq_migrate_names batch: its four counts into n, its cursor */
static int
sqctl_rename_batch(sqctl_t *s, char *cursor, size_t size, long long n[3])
{
    int          i, argc;
    redisReply  *r;
    const char  *argv[6 + SQCTL_NRES];

    argc = 0;
    argv[argc++] = "FCALL";
    argv[argc++] = "sq_migrate_names";
    argv[argc++] = "0";
    argv[argc++] = cursor;
    argv[argc++] = SQCTL_RENAME_BATCH;
    for (i = 0; i < (int) SQCTL_NRES; i++) {
        argv[argc++] = sqctl_resource_names[i];
    }

    r = redisCommandArgv(s->c, argc, argv, NULL);

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 4
        || r->element[0]->type != REDIS_REPLY_STRING
        || r->element[0]->len >= size)
    {
        fprintf(stderr, "sqctl: renaming to the hash-tagged names failed%s%s\n",
                r && r->type == REDIS_REPLY_ERROR ? ": " : "",
                r && r->type == REDIS_REPLY_ERROR ? r->str : "");
        if (r) {
            freeReplyObject(r);
        }
        return SQCTL_FAIL;
    }

    memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
    for (i = 0; i < 3; i++) {
        n[i] += r->element[i + 1]->type == REDIS_REPLY_INTEGER
                ? r->element[i + 1]->integer : 0;
    }
    freeReplyObject(r);

    return SQCTL_OK;
}


/*
 * A database from before the hash tags gets its names (redis/SCHEMA.md
 * "Hash tags"): the whole keyspace walked once in SCAN batches, then the
 * marker.  A name whose new name exists already is left and reported,
 * without the marker: the next run looks again.  Runs before
 * sqctl_migrate_keys, which reads the new names.
 */
static int
sqctl_migrate_names(sqctl_t *s)
{
    int          done;
    char         cursor[32];
    long long    n[3];
    redisReply  *r;

    r = redisCommand(s->c, "HGET " SQ_K_SCHEMA " names");
    if (r == NULL || (r->type != REDIS_REPLY_STRING
                      && r->type != REDIS_REPLY_NIL))
    {
        fprintf(stderr, "sqctl: HGET " SQ_K_SCHEMA " failed\n");
        if (r) {
            freeReplyObject(r);
        }
        return SQCTL_FAIL;
    }
    done = r->type == REDIS_REPLY_STRING
           && strcmp(r->str, SQ_NAMES_VERSION) == 0;
    freeReplyObject(r);

    if (done) {
        return SQCTL_OK;
    }

    memcpy(cursor, "0", 2);
    n[0] = n[1] = n[2] = 0;

    do {
        if (sqctl_rename_batch(s, cursor, sizeof(cursor), n) != SQCTL_OK) {
            return SQCTL_FAIL;
        }
    } while (strcmp(cursor, "0") != 0);

    if (n[0] > 0) {
        fprintf(stderr, "sqctl: %lld name(s) renamed to the hash-tagged "
                "layout\n", n[0]);
    }
    if (n[2] > 0) {
        fprintf(stderr, "sqctl: %lld record(s) without a workspace_id left "
                "as they were\n", n[2]);
    }
    if (n[1] > 0) {
        fprintf(stderr, "sqctl: %lld old name(s) not renamed: their new "
                "name exists already; merge them by hand (redis/SCHEMA.md "
                "\"Hash tags\") and run sqctl init again\n", n[1]);
        return SQCTL_FAIL;
    }

    r = redisCommand(s->c, "HSET " SQ_K_SCHEMA " names " SQ_NAMES_VERSION);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        fprintf(stderr, "sqctl: HSET " SQ_K_SCHEMA " failed\n");
        if (r) {
            freeReplyObject(r);
        }
        return SQCTL_FAIL;
    }
    freeReplyObject(r);

    return SQCTL_OK;
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
        rc = sqctl_migrate_names(s);
    }

    if (rc == SQCTL_OK) {
        rc = sqctl_migrate_keys(s);
    }

    sodium_memzero(err, sizeof(err));
    free(src);

    return rc;
}
