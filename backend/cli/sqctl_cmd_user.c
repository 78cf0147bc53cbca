/*
 * sqctl_cmd_user: users, workspaces and memberships.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sq_keys.h"
#include "sqctl.h"
#include "sqctl_args.h"


static int
sqctl_print_id(uint64_t id)
{
    printf("%llu\n", (unsigned long long) id);

    return fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
}


int
sqctl_user_create(sqctl_t *s, int argc, char **argv)
{
    int          rc;
    sq_rc_t      src;
    uint64_t     id;
    sqctl_opt_t  opts[] = { { "email", 1, NULL }, { "name", 1, NULL } };

    if (sqctl_args(argc, argv, opts, 2) != 0
        || sqctl_arg_email("email", opts[0].value) != 0
        || sqctl_arg_text("name", opts[1].value) != 0)
    {
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    src = sq_store_user_create(s->c, opts[0].value, opts[1].value,
                               (int64_t) time(NULL), &id);
    if (src == SQ_ERR_TAKEN) {
        /* sign-in finds a user by the email: one user per email */
        fprintf(stderr, "sqctl: user create: another user has the email "
                "\"%s\"\n", opts[0].value);
        return SQCTL_FAIL;
    }
    if (src != SQ_OK) {
        return sqctl_fail("user create", src);
    }

    return sqctl_print_id(id);
}


/*
 * user password --id U: the password from stdin (one line, 8..1024
 * bytes) as an Argon2id hash (crypto_pwhash_str_alg) on sq:user:{u<id>},
 * and the email's sign-in index (issue 14).  The cost is OWASP's
 * Argon2id minimum, 19 MiB and 2 passes: the backend verifies on its
 * event loop, and this costs it about 60 ms a sign-in (libsodium's
 * "interactive" 64 MiB took 245 ms, past the Redis link's timeout).
 */
#define SQCTL_PWHASH_OPS    2
#define SQCTL_PWHASH_MEM    (19 * 1024 * 1024)

int
sqctl_user_password(sqctl_t *s, int argc, char **argv)
{
    int          rc;
    char         pw[1026], hash[crypto_pwhash_STRBYTES];
    size_t       len;
    sq_rc_t      src;
    uint64_t     id;
    redisReply  *r;
    sqctl_opt_t  opts[] = { { "id", 1, NULL } };

    if (sqctl_args(argc, argv, opts, 1) != 0
        || sqctl_arg_id("id", opts[0].value, &id) != 0)
    {
        return SQCTL_USAGE;
    }

    if (fgets(pw, sizeof(pw), stdin) == NULL) {
        fputs("sqctl: user password: no password on stdin\n", stderr);
        return SQCTL_FAIL;
    }

    len = strcspn(pw, "\r\n");
    pw[len] = '\0';
    if (len < 8 || len > 1024) {
        sodium_memzero(pw, sizeof(pw));
        fputs("sqctl: user password: 8 to 1024 bytes, one line\n", stderr);
        return SQCTL_FAIL;
    }

    if (sodium_init() < 0
        || crypto_pwhash_str_alg(hash, pw, len, SQCTL_PWHASH_OPS,
                                 SQCTL_PWHASH_MEM,
                                 crypto_pwhash_ALG_ARGON2ID13) != 0)
    {
        sodium_memzero(pw, sizeof(pw));
        fputs("sqctl: user password: cannot hash (out of memory?)\n",
              stderr);
        return SQCTL_FAIL;
    }
    sodium_memzero(pw, sizeof(pw));

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    src = sq_cmd(s->c, &r, "FCALL sq_oauth_user_password 1 " SQ_K_USER
                 " %s", (unsigned long long) id, hash);
    if (src != SQ_OK) {
        return sqctl_fail("user password", src);
    }

    rc = r->type == REDIS_REPLY_ARRAY && r->elements > 0
         && r->element[0]->type == REDIS_REPLY_STRING
         && strcmp(r->element[0]->str, "OK") == 0;
    freeReplyObject(r);

    if (!rc) {
        return sqctl_fail("user password", SQ_ERR_NOTFOUND);
    }

    return sqctl_print_id(id);
}


int
sqctl_workspace_create(sqctl_t *s, int argc, char **argv)
{
    int          rc;
    sq_rc_t      src;
    uint64_t     owner, id;
    sqctl_opt_t  opts[] = { { "owner", 1, NULL }, { "name", 1, NULL } };

    if (sqctl_args(argc, argv, opts, 2) != 0
        || sqctl_arg_id("owner", opts[0].value, &owner) != 0
        || sqctl_arg_text("name", opts[1].value) != 0)
    {
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    src = sq_store_ws_create(s->c, owner, opts[1].value,
                             (int64_t) time(NULL), &id);
    if (src != SQ_OK) {
        return sqctl_fail(src == SQ_ERR_NOTFOUND ? "workspace create: owner"
                                                 : "workspace create", src);
    }

    return sqctl_print_id(id);
}


static int
sqctl_member(sqctl_t *s, int argc, char **argv, int add)
{
    int          rc;
    sq_rc_t      src;
    uint64_t     wid, uid;
    sqctl_opt_t  opts[] = { { "workspace", 1, NULL }, { "user", 1, NULL } };

    if (sqctl_args(argc, argv, opts, 2) != 0
        || sqctl_arg_id("workspace", opts[0].value, &wid) != 0
        || sqctl_arg_id("user", opts[1].value, &uid) != 0)
    {
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    src = add ? sq_store_member_add(s->c, wid, uid)
              : sq_store_member_remove(s->c, wid, uid);
    if (src != SQ_OK) {
        return sqctl_fail(add ? "member add" : "member remove", src);
    }

    return SQCTL_OK;
}


int
sqctl_member_add(sqctl_t *s, int argc, char **argv)
{
    return sqctl_member(s, argc, argv, 1);
}


int
sqctl_member_remove(sqctl_t *s, int argc, char **argv)
{
    return sqctl_member(s, argc, argv, 0);
}
