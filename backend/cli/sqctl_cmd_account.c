/*
 * sqctl_cmd_account: social accounts, with the same validation and
 * storage as POST /v1/social/accounts.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sqctl.h"
#include "sqctl_args.h"


static int
sqctl_account_args(int argc, char **argv, uint64_t *wid,
    const char **platform, const char **handle)
{
    sqctl_opt_t  opts[] = {
        { "workspace", 1, NULL }, { "platform", 1, NULL },
        { "handle", 1, NULL }
    };

    if (sqctl_args(argc, argv, opts, 3) != 0
        || sqctl_arg_id("workspace", opts[0].value, wid) != 0)
    {
        return -1;
    }

    *platform = sq_social_platform(opts[1].value, strlen(opts[1].value));
    if (*platform == NULL) {
        fprintf(stderr, "sqctl: --platform must be one of twitter, "
                "facebook, instagram, linkedin, tiktok, youtube\n");
        return -1;
    }

    *handle = opts[2].value;
    if (sq_social_check_handle(*handle, strlen(*handle)) != 0) {
        fprintf(stderr, "sqctl: --handle must be 1..%d characters without "
                "control characters\n", SQ_HANDLE_MAX_CHARS);
        return -1;
    }

    return 0;
}


int
sqctl_account_create(sqctl_t *s, int argc, char **argv)
{
    int           rc, exists;
    sq_rc_t       src;
    uint64_t      wid;
    const char   *platform, *handle;
    sq_social_t   acct;

    if (sqctl_account_args(argc, argv, &wid, &platform, &handle) != 0) {
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    src = sq_store_ws_exists(s->c, wid, &exists);
    if (src == SQ_OK && !exists) {
        src = SQ_ERR_NOTFOUND;
    }

    if (src == SQ_OK) {
        src = sq_store_social_create(s->c, wid, platform, handle,
                                     (int64_t) time(NULL), &acct);
    }

    if (src != SQ_OK) {
        return sqctl_fail("account create", src);
    }

    printf("%llu\n", (unsigned long long) acct.id);

    return fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
}
