/*
 * sqctl_cmd_user: users, workspaces and memberships.
 */

#include <stdio.h>
#include <time.h>

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
    if (src != SQ_OK) {
        return sqctl_fail("user create", src);
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
