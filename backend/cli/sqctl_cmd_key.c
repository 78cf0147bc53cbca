/*
 * sqctl_cmd_key: API keys, through the same store as /v1/keys.  A new
 * key is printed once and never stored; listings show it masked
 * ("sqk_live_…a1b2").
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


/* --type, --mode: the second value sets *flag */
static int
sqctl_key_enum(const char *name, const char *v, const char *no,
    const char *yes, int *flag)
{
    *flag = 0;

    if (v == NULL || strcmp(v, no) == 0) {
        return 0;
    }

    if (strcmp(v, yes) == 0) {
        *flag = 1;
        return 0;
    }

    fprintf(stderr, "sqctl: --%s must be %s or %s\n", name, no, yes);

    return -1;
}


/*
 * --scopes, defaulting by type: a secret key gets every scope but
 * keys:manage and apps:manage, which only an explicit list or "all"
 * gives (issue 11: a leaked key must not manage its owner's keys unless
 * meant to; issue 14: nor register OAuth clients).
 */
static int
sqctl_key_scopes(const char *v, sq_key_t *k)
{
    if (v == NULL) {
        k->scopes = k->type == SQ_KEY_PUBLISHABLE
                    ? SQ_SCOPES_READ
                    : SQ_SCOPES_ALL & ~SQ_SCOPE_BIT(SQ_SC_KEYS_MANAGE)
                      & ~SQ_SCOPE_BIT(SQ_SC_APPS_MANAGE);
        return 0;
    }

    if (strcmp(v, "all") == 0) {
        k->scopes = SQ_SCOPES_ALL;
    } else if (sq_scopes_parse(v, strlen(v), &k->scopes) != 0
               || k->scopes == 0)
    {
        fprintf(stderr, "sqctl: --scopes must be \"all\" or distinct "
                "scopes separated by single spaces\n");
        return -1;
    }

    if (k->type == SQ_KEY_PUBLISHABLE && (k->scopes & ~SQ_SCOPES_READ)) {
        fprintf(stderr, "sqctl: a publishable key may hold only read "
                "scopes\n");
        return -1;
    }

    return 0;
}


static int
sqctl_key_expiry(const char *v, sq_key_t *k)
{
    k->expires_at = 0;

    if (v != NULL
        && (sq_text_parse_u63(v, strlen(v), &k->expires_at) != 0
            || k->expires_at <= (int64_t) time(NULL)))
    {
        fprintf(stderr, "sqctl: --expires-at must be a future unix time\n");
        return -1;
    }

    return 0;
}


static int
sqctl_key_parse(int argc, char **argv, sq_key_t *k)
{
    int           test, pub;
    const char   *ws;
    sqctl_opt_t   opts[] = {
        { "user", 1, NULL }, { "type", 0, NULL }, { "mode", 0, NULL },
        { "name", 0, NULL }, { "scopes", 0, NULL },
        { "workspaces", 0, NULL }, { "expires-at", 0, NULL }
    };

    memset(k, 0, sizeof(*k));

    if (sqctl_args(argc, argv, opts, 7) != 0
        || sqctl_arg_id("user", opts[0].value, &k->user_id) != 0
        || sqctl_key_enum("type", opts[1].value, "secret", "publishable",
                          &pub) != 0
        || sqctl_key_enum("mode", opts[2].value, "live", "test", &test) != 0
        || (opts[3].value != NULL
            && sqctl_arg_text("name", opts[3].value) != 0))
    {
        return -1;
    }

    k->type = pub ? SQ_KEY_PUBLISHABLE : SQ_KEY_SECRET;
    k->mode = test ? SQ_KEY_TEST : SQ_KEY_LIVE;
    snprintf(k->name, sizeof(k->name), "%s",
             opts[3].value != NULL ? opts[3].value : "");

    ws = opts[5].value;
    if (ws != NULL && (ws[0] == '\0'
                       || sq_wslist_parse(ws, strlen(ws), &k->ws) != 0))
    {
        fprintf(stderr, "sqctl: --workspaces must be distinct workspace "
                "ids separated by commas\n");
        return -1;
    }

    return sqctl_key_scopes(opts[4].value, k) != 0
           || sqctl_key_expiry(opts[6].value, k) != 0 ? -1 : 0;
}


static int
sqctl_load_pepper(const sqctl_t *s, uint8_t pepper[SQ_SECRET_BYTES])
{
    char  err[512];

    if (s->pepper_file == NULL) {
        fprintf(stderr, "sqctl: making a key needs --pepper-file or %s\n",
                SQCTL_PEPPER_ENV);
        return -1;
    }

    if (sq_secret_load(s->pepper_file, pepper, err, sizeof(err)) != 0) {
        fprintf(stderr, "sqctl: pepper: %s\n", err);
        return -1;
    }

    return 0;
}


/* prints the new key alone; wipes it */
static int
sqctl_key_print(char *key, size_t cap, uint64_t id, const char *what)
{
    int  rc;

    printf("%s\n", key);
    rc = fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
    sodium_memzero(key, cap);
    fprintf(stderr, "sqctl: key %llu %s\n", (unsigned long long) id, what);

    return rc;
}


static int
sqctl_key_make(sqctl_t *s, sq_key_t *k)
{
    int      all;
    char     key[SQ_KEY_GEN_LEN + 1];
    sq_rc_t  src;
    uint8_t  pepper[SQ_SECRET_BYTES];

    if (sqctl_load_pepper(s, pepper) != 0 || sqctl_connect(s) != SQCTL_OK) {
        return SQCTL_FAIL;
    }

    src = sq_store_is_member_all(s->c, &k->ws, k->user_id, &all);
    if (src == SQ_OK && !all) {
        fprintf(stderr, "sqctl: --workspaces: the user is not a member of "
                "them all\n");
        return SQCTL_FAIL;
    }

    if (src == SQ_OK) {
        src = sq_store_key_create(s->c, pepper, k, (int64_t) time(NULL), key,
                                  sizeof(key));
    }
    sodium_memzero(pepper, sizeof(pepper));

    if (src != SQ_OK) {
        return sqctl_fail("key create", src);
    }

    return sqctl_key_print(key, sizeof(key), k->id, "created");
}


int
sqctl_key_create(sqctl_t *s, int argc, char **argv)
{
    sq_key_t  k;

    if (sqctl_key_parse(argc, argv, &k) != 0) {
        return SQCTL_USAGE;
    }

    return sqctl_key_make(s, &k);
}


int
sqctl_key_rotate(sqctl_t *s, int argc, char **argv)
{
    char          key[SQ_KEY_GEN_LEN + 1];
    int64_t       grace;
    sq_rc_t       src;
    uint8_t       pepper[SQ_SECRET_BYTES];
    uint64_t      kid;
    sq_key_t      nk;
    sqctl_opt_t   opts[] = { { "id", 1, NULL }, { "grace", 1, NULL } };

    if (sqctl_args(argc, argv, opts, 2) != 0
        || sqctl_arg_id("id", opts[0].value, &kid) != 0)
    {
        return SQCTL_USAGE;
    }

    if (sq_text_parse_u63(opts[1].value, strlen(opts[1].value), &grace) != 0
        || grace > SQ_KEY_GRACE_MAX)
    {
        fprintf(stderr, "sqctl: --grace must be 0..%d seconds\n",
                SQ_KEY_GRACE_MAX);
        return SQCTL_USAGE;
    }

    if (sqctl_load_pepper(s, pepper) != 0 || sqctl_connect(s) != SQCTL_OK) {
        return SQCTL_FAIL;
    }

    src = sq_store_key_rotate(s->c, pepper, kid, 0, grace,
                              (int64_t) time(NULL), key, sizeof(key), &nk);
    sodium_memzero(pepper, sizeof(pepper));

    if (src != SQ_OK) {
        return sqctl_fail("key rotate", src);
    }

    return sqctl_key_print(key, sizeof(key), nk.id, "created by rotation");
}


/* --id K of a command acting on one key */
static int
sqctl_key_id(sqctl_t *s, int argc, char **argv, uint64_t *kid)
{
    sqctl_opt_t  opts[] = { { "id", 1, NULL } };

    if (sqctl_args(argc, argv, opts, 1) != 0
        || sqctl_arg_id("id", opts[0].value, kid) != 0)
    {
        return SQCTL_USAGE;
    }

    return sqctl_connect(s);
}


static int
sqctl_key_status(sqctl_t *s, int argc, char **argv, const char *status)
{
    int       rc;
    sq_rc_t   src;
    uint64_t  kid;

    rc = sqctl_key_id(s, argc, argv, &kid);
    if (rc != SQCTL_OK) {
        return rc;
    }

    src = status != NULL ? sq_store_key_set_status(s->c, kid, 0, status)
                         : sq_store_key_delete(s->c, kid, 0);

    return src == SQ_OK ? SQCTL_OK : sqctl_fail("key", src);
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
sqctl_key_delete(sqctl_t *s, int argc, char **argv)
{
    return sqctl_key_status(s, argc, argv, NULL);
}


/* an ISO time, or dflt for 0 */
static const char *
sqctl_time(int64_t t, char *buf, size_t cap, const char *dflt)
{
    if (t == 0 || sq_text_iso8601(t, buf, cap) != 0) {
        return dflt;
    }

    return buf;
}


static void
sqctl_key_line(const sq_key_t *k, int64_t now)
{
    char  masked[SQ_KEY_MASK_MAX], scopes[SQ_SCOPES_TEXT_MAX + 1], t[32];

    sq_key_mask(k->type, k->mode, k->last4, masked, sizeof(masked));
    if (sq_scopes_format(k->scopes, scopes, sizeof(scopes)) != 0) {
        scopes[0] = '\0';
    }

    printf("%llu\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
           (unsigned long long) k->id, masked, k->name[0] ? k->name : "-",
           sq_key_mode_name(k->mode), sq_key_status(k, now),
           sq_key_type_name(k->type), scopes[0] ? scopes : "-",
           sqctl_time(k->last_used_at, t, sizeof(t), "never"));
}


int
sqctl_key_list(sqctl_t *s, int argc, char **argv)
{
    int           rc;
    size_t        i, n;
    int64_t       now;
    sq_rc_t       src;
    uint64_t      uid, after;
    sq_key_t     *keys;
    sqctl_opt_t   opts[] = { { "user", 1, NULL } };

    if (sqctl_args(argc, argv, opts, 1) != 0
        || sqctl_arg_id("user", opts[0].value, &uid) != 0)
    {
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    now = (int64_t) time(NULL);
    after = 0;

    while (rc == SQCTL_OK) {
        src = sq_store_key_list(s->c, uid, after, SQ_PAGE_MAX, &keys, &n,
                                &after);
        if (src != SQ_OK) {
            return sqctl_fail("key list", src);
        }

        for (i = 0; i < n; i++) {
            sqctl_key_line(&keys[i], now);
        }
        free(keys);

        if (after == 0) {
            break;
        }
    }

    return rc == SQCTL_OK && fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
}


/* key review: sqctl_cmd_keyops.c (issue 16) */


int
sqctl_key_usage(sqctl_t *s, int argc, char **argv)
{
    int             rc;
    size_t          i;
    int64_t         days;
    sq_rc_t         src;
    uint64_t        kid;
    sq_key_t        k;
    sqctl_opt_t     opts[] = { { "id", 1, NULL }, { "days", 0, NULL } };
    sq_usage_day_t  d[SQ_USAGE_DAYS_MAX];

    days = SQ_USAGE_DAYS_DEF;
    if (sqctl_args(argc, argv, opts, 2) != 0
        || sqctl_arg_id("id", opts[0].value, &kid) != 0)
    {
        return SQCTL_USAGE;
    }

    if (opts[1].value != NULL
        && (sq_text_parse_u63(opts[1].value, strlen(opts[1].value), &days)
            != 0 || days < 1 || days > SQ_USAGE_DAYS_MAX))
    {
        fprintf(stderr, "sqctl: --days must be 1..%d\n", SQ_USAGE_DAYS_MAX);
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    src = sq_store_key_get(s->c, kid, 0, &k);
    if (src == SQ_OK) {
        src = sq_store_key_usage(s->c, kid, (int64_t) time(NULL),
                                 (size_t) days, d);
    }

    if (src != SQ_OK) {
        return sqctl_fail("key usage", src);
    }

    for (i = 0; i < (size_t) days; i++) {
        printf("%s\t%lld\t%lld\n", d[i].date, (long long) d[i].allowed,
               (long long) d[i].denied);
    }

    return fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
}
