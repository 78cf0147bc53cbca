/*
 * sqctl_cmd_key: API keys.  A new key is printed once and never stored;
 * listings show it masked ("sqk_live_…a1b2").
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sq_identity.h"
#include "sq_keygen.h"
#include "sqctl.h"
#include "sqctl_args.h"


typedef struct {
    uint64_t        uid;
    sq_key_mode_t   mode;
    const char     *name;
    int64_t         expires_at;
} sqctl_key_args_t;


static int
sqctl_key_parse(int argc, char **argv, sqctl_key_args_t *k)
{
    const char   *exp;
    sqctl_opt_t   opts[] = {
        { "user", 1, NULL }, { "mode", 0, NULL }, { "name", 0, NULL },
        { "expires-at", 0, NULL }
    };

    if (sqctl_args(argc, argv, opts, 4) != 0
        || sqctl_arg_id("user", opts[0].value, &k->uid) != 0
        || (opts[2].value != NULL
            && sqctl_arg_text("name", opts[2].value) != 0))
    {
        return -1;
    }

    k->mode = SQ_KEY_LIVE;
    if (opts[1].value != NULL && strcmp(opts[1].value, "test") == 0) {
        k->mode = SQ_KEY_TEST;
    } else if (opts[1].value != NULL && strcmp(opts[1].value, "live") != 0) {
        fprintf(stderr, "sqctl: --mode must be live or test\n");
        return -1;
    }

    k->name = opts[2].value != NULL ? opts[2].value : "";
    k->expires_at = 0;
    exp = opts[3].value;

    if (exp != NULL
        && (sq_text_parse_u63(exp, strlen(exp), &k->expires_at) != 0
            || k->expires_at <= (int64_t) time(NULL)))
    {
        fprintf(stderr, "sqctl: --expires-at must be a future unix time\n");
        return -1;
    }

    return 0;
}


static int
sqctl_load_pepper(const sqctl_t *s, uint8_t pepper[SQ_SECRET_BYTES])
{
    char  err[512];

    if (s->pepper_file == NULL) {
        fprintf(stderr, "sqctl: key create needs --pepper-file or %s\n",
                SQCTL_PEPPER_ENV);
        return -1;
    }

    if (sq_secret_load(s->pepper_file, pepper, err, sizeof(err)) != 0) {
        fprintf(stderr, "sqctl: pepper: %s\n", err);
        return -1;
    }

    return 0;
}


int
sqctl_key_create(sqctl_t *s, int argc, char **argv)
{
    int               rc;
    char              key[SQ_KEY_GEN_LEN + 1];
    sq_rc_t           src;
    uint8_t           pepper[SQ_SECRET_BYTES];
    uint64_t          id;
    sqctl_key_args_t  k;

    if (sqctl_key_parse(argc, argv, &k) != 0) {
        return SQCTL_USAGE;
    }

    if (sqctl_load_pepper(s, pepper) != 0) {
        return SQCTL_FAIL;
    }

    rc = sqctl_connect(s);
    if (rc == SQCTL_OK) {
        src = sq_store_key_create(s->c, pepper, k.uid, k.mode, k.name,
                                  k.expires_at, (int64_t) time(NULL), key,
                                  sizeof(key), &id);
        if (src != SQ_OK) {
            rc = sqctl_fail("key create", src);
        } else {
            printf("%s\n", key);
            rc = fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
            fprintf(stderr, "sqctl: key %llu created\n",
                    (unsigned long long) id);
        }
    }

    sodium_memzero(key, sizeof(key));
    sodium_memzero(pepper, sizeof(pepper));

    return rc;
}


static int
sqctl_key_status(sqctl_t *s, int argc, char **argv, const char *status)
{
    int          rc;
    sq_rc_t      src;
    uint64_t     kid;
    sqctl_opt_t  opts[] = { { "id", 1, NULL } };

    if (sqctl_args(argc, argv, opts, 1) != 0
        || sqctl_arg_id("id", opts[0].value, &kid) != 0)
    {
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    src = sq_store_key_set_status(s->c, kid, status);
    if (src != SQ_OK) {
        return sqctl_fail("key", src);
    }

    return SQCTL_OK;
}


int
sqctl_key_disable(sqctl_t *s, int argc, char **argv)
{
    return sqctl_key_status(s, argc, argv, "disabled");
}


int
sqctl_key_enable(sqctl_t *s, int argc, char **argv)
{
    return sqctl_key_status(s, argc, argv, "active");
}


int
sqctl_key_list(sqctl_t *s, int argc, char **argv)
{
    int             rc;
    char            masked[SQ_KEY_MASK_MAX];
    size_t          i, n;
    sq_rc_t         src;
    uint64_t        uid;
    sqctl_opt_t     opts[] = { { "user", 1, NULL } };
    sq_key_info_t  *keys;

    if (sqctl_args(argc, argv, opts, 1) != 0
        || sqctl_arg_id("user", opts[0].value, &uid) != 0)
    {
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    src = sq_store_key_list(s->c, uid, &keys, &n);
    if (src != SQ_OK) {
        return sqctl_fail("key list", src);
    }

    for (i = 0; i < n; i++) {
        sq_key_mask(keys[i].mode, keys[i].last4, masked, sizeof(masked));
        printf("%llu\t%s\t%s\t%s\t%s\n", (unsigned long long) keys[i].id,
               masked, keys[i].name[0] ? keys[i].name : "-", keys[i].mode,
               keys[i].status);
    }

    free(keys);

    return fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
}
