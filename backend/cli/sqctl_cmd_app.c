/*
 * sqctl_cmd_app: API Applications (issue 14), the same calls as
 * /v1/apps, as the operator (any app).  create and update build the
 * JSON body /v1/apps would get and validate it with the same code
 * (sq_app_parse_*), so the rules cannot drift apart.  A client secret is
 * printed once, in the JSON of create and rotate-secret.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sq_identity.h"
#include "sq_store_app.h"
#include "sqctl.h"
#include "sqctl_args.h"


static int
sqctl_app_pepper(const sqctl_t *s, uint8_t pepper[SQ_SECRET_BYTES])
{
    char  err[512];

    if (s->pepper_file == NULL) {
        fprintf(stderr, "sqctl: making a client secret needs "
                "--pepper-file or %s\n", SQCTL_PEPPER_ENV);
        return -1;
    }

    if (sq_secret_load(s->pepper_file, pepper, err, sizeof(err)) != 0) {
        fprintf(stderr, "sqctl: pepper: %s\n", err);
        return -1;
    }

    return 0;
}


/* "a b c" (single spaces) as a JSON array of strings, into obj[name] */
static int
sqctl_app_words(json_t *obj, const char *name, const char *v)
{
    size_t       n;
    json_t      *arr;
    const char  *p;

    arr = json_array();
    if (arr == NULL || json_object_set_new(obj, name, arr) != 0) {
        return -1;
    }

    for (p = v; *p != '\0'; /* void */) {
        n = strcspn(p, " ");
        if (json_array_append_new(arr, json_stringn(p, n)) != 0) {
            return -1;
        }
        p += n;
        p += *p == ' ';
    }

    return 0;
}


/*
 * The body /v1/apps would get from the options: name, type,
 * redirect_uris, scopes, workspace_id (those that are set), as text.
 */
static char *
sqctl_app_body(const char *name, const char *type, const char *uris,
    const char *scopes, const char *ws)
{
    char    *out;
    json_t  *obj;

    obj = json_object();
    out = NULL;

    if (obj != NULL
        && (name == NULL
            || json_object_set_new(obj, "name", json_string(name)) == 0)
        && (type == NULL
            || json_object_set_new(obj, "type", json_string(type)) == 0)
        && (uris == NULL
            || sqctl_app_words(obj, "redirect_uris", uris) == 0)
        && (scopes == NULL || sqctl_app_words(obj, "scopes", scopes) == 0)
        && (ws == NULL
            || json_object_set_new(obj, "workspace_id", json_string(ws))
               == 0))
    {
        out = json_dumps(obj, JSON_COMPACT);
    }

    json_decref(obj);

    return out;
}


/* prints obj on one line (stolen); SQCTL_OK or SQCTL_FAIL */
static int
sqctl_app_print(json_t *obj)
{
    char  *s;
    int    rc;

    s = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
    rc = s != NULL && printf("%s\n", s) > 0 && fflush(stdout) == 0
         ? SQCTL_OK : SQCTL_FAIL;

    if (s != NULL) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
    json_decref(obj);

    return rc;
}


/* the app of {'OK', entry, ...} with the secret when given (wiped) */
static int
sqctl_app_print_reply(const redisReply *r, char *secret, size_t cap)
{
    json_t    *obj;
    sq_app_t   app;

    if (r->elements < 2 || sq_app_entry(r->element[1], &app) != SQ_OK) {
        sodium_memzero(secret, cap);
        return sqctl_fail("app", SQ_ERR_REDIS);
    }

    obj = sq_app_render(&app);
    if (obj != NULL && secret != NULL && secret[0] != '\0'
        && json_object_set_new(obj, "client_secret", json_string(secret))
           != 0)
    {
        json_decref(obj);
        obj = NULL;
    }

    if (secret != NULL) {
        sodium_memzero(secret, cap);
    }

    if (obj != NULL && r->elements == 3
        && r->element[2]->type == REDIS_REPLY_INTEGER
        && json_object_set_new(obj, "tokens_revoked",
                               json_integer(r->element[2]->integer)) != 0)
    {
        json_decref(obj);
        obj = NULL;
    }

    return sqctl_app_print(obj);
}


/* the call a; prints what print does with its reply */
static int
sqctl_app_run(sqctl_t *s, const char *what, sq_argv_t *a,
    char *secret, size_t cap)
{
    int          rc;
    sq_rc_t      src;
    redisReply  *r;

    if (sqctl_connect(s) != SQCTL_OK) {
        return SQCTL_FAIL;
    }

    src = sq_store_app_call(s->c, a, &r);
    if (src != SQ_OK) {
        if (secret != NULL) {
            sodium_memzero(secret, cap);
        }
        return sqctl_fail(what, src);
    }

    rc = sqctl_app_print_reply(r, secret, cap);
    freeReplyObject(r);

    return rc;
}


int
sqctl_app_create(sqctl_t *s, int argc, char **argv)
{
    int            rc;
    char           err[512], *body;
    char           secret[SQ_APP_SECRET_LEN + 1];
    uint8_t        pepper[SQ_SECRET_BYTES];
    sq_app_t       app;
    sq_argv_t      a;
    sq_key_who_t   w;
    sq_app_text_t  t;
    sqctl_opt_t    opts[] = {
        { "workspace", 1, NULL }, { "owner", 1, NULL }, { "name", 1, NULL },
        { "type", 0, NULL }, { "redirect-uris", 1, NULL },
        { "scopes", 1, NULL }
    };

    if (sqctl_args(argc, argv, opts, 6) != 0
        || sqctl_arg_id("workspace", opts[0].value, &app.workspace_id) != 0
        || sqctl_arg_id("owner", opts[1].value, &app.owner_id) != 0)
    {
        return SQCTL_USAGE;
    }

    body = sqctl_app_body(opts[2].value, opts[3].value, opts[4].value,
                          opts[5].value, opts[0].value);
    if (body == NULL) {
        return SQCTL_FAIL;
    }

    rc = sq_app_parse_create(body, strlen(body), &app, err, sizeof(err));
    free(body);

    if (rc != 0) {
        fprintf(stderr, "sqctl: %s\n", err);
        return SQCTL_USAGE;
    }

    if (sqctl_arg_id("owner", opts[1].value, &app.owner_id) != 0
        || sqctl_app_pepper(s, pepper) != 0)
    {
        return SQCTL_FAIL;
    }

    memset(&t, 0, sizeof(t));
    secret[0] = '\0';
    sq_app_new_client_id(&app);

    if (app.type == SQ_APP_CONFIDENTIAL
        && sq_app_new_secret(pepper, &app, secret, sizeof(secret), t.digest)
           != 0)
    {
        sodium_memzero(pepper, sizeof(pepper));
        return sqctl_fail("app create", SQ_ERR_INVALID);
    }
    sodium_memzero(pepper, sizeof(pepper));

    memset(&w, 0, sizeof(w));
    sq_app_argv_create(&a, &w, &app, (int64_t) time(NULL), &t);

    return sqctl_app_run(s, "app create", &a, secret, sizeof(secret));
}


/* --id A (and the other options of opts[1..n)) */
static int
sqctl_app_id(int argc, char **argv, sqctl_opt_t *opts, size_t n,
    uint64_t *id)
{
    if (sqctl_args(argc, argv, opts, n) != 0
        || sqctl_arg_id("id", opts[0].value, id) != 0)
    {
        return -1;
    }

    return 0;
}


int
sqctl_app_get(sqctl_t *s, int argc, char **argv)
{
    uint64_t      id;
    sq_argv_t     a;
    sq_key_who_t  w;
    sqctl_opt_t   opts[] = { { "id", 1, NULL } };

    if (sqctl_app_id(argc, argv, opts, 1, &id) != 0) {
        return SQCTL_USAGE;
    }

    memset(&w, 0, sizeof(w));
    sq_app_argv_one(&a, &w, id);

    return sqctl_app_run(s, "app get", &a, NULL, 0);
}


int
sqctl_app_update(sqctl_t *s, int argc, char **argv)
{
    int            rc;
    char           err[512], *body;
    uint64_t       id;
    unsigned       fields;
    sq_app_t       app;
    sq_argv_t      a;
    sq_key_who_t   w;
    sq_app_text_t  t;
    sqctl_opt_t    opts[] = {
        { "id", 1, NULL }, { "name", 0, NULL },
        { "redirect-uris", 0, NULL }, { "scopes", 0, NULL }
    };

    if (sqctl_app_id(argc, argv, opts, 4, &id) != 0) {
        return SQCTL_USAGE;
    }

    body = sqctl_app_body(opts[1].value, NULL, opts[2].value,
                          opts[3].value, NULL);
    if (body == NULL) {
        return SQCTL_FAIL;
    }

    rc = sq_app_parse_update(body, strlen(body), &app, &fields, err,
                             sizeof(err));
    free(body);

    if (rc != 0) {
        fprintf(stderr, "sqctl: %s\n", err);
        return SQCTL_USAGE;
    }

    memset(&w, 0, sizeof(w));
    sq_app_argv_update(&a, &w, id, &app, fields, (int64_t) time(NULL), &t);

    return sqctl_app_run(s, "app update", &a, NULL, 0);
}


static int
sqctl_app_set(sqctl_t *s, int argc, char **argv, const char *status)
{
    uint64_t      id;
    sq_argv_t     a;
    sq_key_who_t  w;
    sqctl_opt_t   opts[] = { { "id", 1, NULL } };

    if (sqctl_app_id(argc, argv, opts, 1, &id) != 0) {
        return SQCTL_USAGE;
    }

    memset(&w, 0, sizeof(w));
    sq_app_argv_set(&a, &w, id, status, (int64_t) time(NULL));

    return sqctl_app_run(s, "app", &a, NULL, 0);
}


int
sqctl_app_disable(sqctl_t *s, int argc, char **argv)
{
    return sqctl_app_set(s, argc, argv, "disabled");
}


int
sqctl_app_enable(sqctl_t *s, int argc, char **argv)
{
    return sqctl_app_set(s, argc, argv, "active");
}


int
sqctl_app_delete(sqctl_t *s, int argc, char **argv)
{
    return sqctl_app_set(s, argc, argv, "deleted");
}


int
sqctl_app_rotate_secret(sqctl_t *s, int argc, char **argv)
{
    int            revoke;
    char           secret[SQ_APP_SECRET_LEN + 1];
    int64_t        grace;
    uint8_t        pepper[SQ_SECRET_BYTES];
    uint64_t       id;
    sq_app_t       app;
    sq_argv_t      a;
    sq_key_who_t   w;
    sq_app_text_t  t;
    sqctl_opt_t    opts[] = {
        { "id", 1, NULL }, { "grace", 0, NULL }, { "revoke-tokens", 0, NULL }
    };

    if (sqctl_app_id(argc, argv, opts, 3, &id) != 0) {
        return SQCTL_USAGE;
    }

    grace = 0;
    if (opts[1].value != NULL
        && (sq_text_parse_u63(opts[1].value, strlen(opts[1].value), &grace)
            != 0 || grace > SQ_KEY_GRACE_MAX))
    {
        fprintf(stderr, "sqctl: --grace must be 0..%d seconds\n",
                SQ_KEY_GRACE_MAX);
        return SQCTL_USAGE;
    }

    revoke = opts[2].value != NULL && strcmp(opts[2].value, "yes") == 0;
    if (opts[2].value != NULL && !revoke && strcmp(opts[2].value, "no") != 0)
    {
        fprintf(stderr, "sqctl: --revoke-tokens must be yes or no\n");
        return SQCTL_USAGE;
    }

    if (sqctl_app_pepper(s, pepper) != 0) {
        return SQCTL_FAIL;
    }

    memset(&app, 0, sizeof(app));
    memset(&t, 0, sizeof(t));
    if (sq_app_new_secret(pepper, &app, secret, sizeof(secret), t.digest)
        != 0)
    {
        sodium_memzero(pepper, sizeof(pepper));
        return sqctl_fail("app rotate-secret", SQ_ERR_INVALID);
    }
    sodium_memzero(pepper, sizeof(pepper));

    memset(&w, 0, sizeof(w));
    sq_app_argv_rotate(&a, &w, id, &app, &t, grace, revoke,
                       (int64_t) time(NULL));

    return sqctl_app_run(s, "app rotate-secret", &a, secret, sizeof(secret));
}


/* apps or grants, every page: one line each */
static int
sqctl_app_lines(sqctl_t *s, uint64_t id, uint64_t wid, int grants)
{
    char          scopes[SQ_SCOPES_TEXT_MAX + 1];
    void         *items;
    size_t        i, n;
    sq_rc_t       src;
    uint64_t      after;
    sq_argv_t     a;
    redisReply   *r;
    sq_key_who_t  w;

    if (sqctl_connect(s) != SQCTL_OK) {
        return SQCTL_FAIL;
    }

    memset(&w, 0, sizeof(w));
    after = 0;

    do {
        if (grants) {
            sq_app_argv_grants(&a, &w, id, after, SQ_PAGE_MAX);
        } else {
            sq_app_argv_page(&a, &w, wid, after, SQ_PAGE_MAX);
        }

        src = sq_store_app_call(s->c, &a, &r);
        if (src == SQ_OK) {
            src = sq_app_page_parse(r, SQ_PAGE_MAX, grants, &items, &n,
                                    &after);
            freeReplyObject(r);
        }

        if (src != SQ_OK) {
            return sqctl_fail(grants ? "app authorizations" : "app list",
                              src);
        }

        for (i = 0; i < n; i++) {
            if (grants) {
                const sq_grant_t  *g = (const sq_grant_t *) items + i;

                if (sq_scopes_format(g->scopes, scopes, sizeof(scopes)) != 0)
                {
                    scopes[0] = '\0';
                }
                printf("%llu\t%llu\t%llu\t%s\t%s\n",
                       (unsigned long long) g->id,
                       (unsigned long long) g->user_id,
                       (unsigned long long) g->workspace_id, g->status,
                       scopes);
            } else {
                const sq_app_t  *p = (const sq_app_t *) items + i;

                printf("%llu\t%s\t%llu\t%s\t%s\t%s\n",
                       (unsigned long long) p->id, p->client_id,
                       (unsigned long long) p->workspace_id,
                       sq_app_type_name(p->type), p->status, p->name);
            }
        }
        free(items);
    } while (after != 0);

    return fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
}


int
sqctl_app_list(sqctl_t *s, int argc, char **argv)
{
    uint64_t     wid;
    sqctl_opt_t  opts[] = { { "workspace", 0, NULL } };

    wid = 0;

    if (sqctl_args(argc, argv, opts, 1) != 0
        || (opts[0].value != NULL
            && sqctl_arg_id("workspace", opts[0].value, &wid) != 0))
    {
        return SQCTL_USAGE;
    }

    return sqctl_app_lines(s, 0, wid, 0);
}


int
sqctl_app_authorizations(sqctl_t *s, int argc, char **argv)
{
    uint64_t     id;
    sqctl_opt_t  opts[] = { { "id", 1, NULL } };

    if (sqctl_app_id(argc, argv, opts, 1, &id) != 0) {
        return SQCTL_USAGE;
    }

    return sqctl_app_lines(s, id, 0, 1);
}


int
sqctl_app_revoke(sqctl_t *s, int argc, char **argv)
{
    int           rc;
    sq_rc_t       src;
    uint64_t      id, gid;
    sq_argv_t     a;
    sq_grant_t    g;
    redisReply   *r;
    sq_key_who_t  w;
    sqctl_opt_t   opts[] = { { "id", 1, NULL }, { "grant", 1, NULL } };

    if (sqctl_app_id(argc, argv, opts, 2, &id) != 0
        || sqctl_arg_id("grant", opts[1].value, &gid) != 0)
    {
        return SQCTL_USAGE;
    }

    if (sqctl_connect(s) != SQCTL_OK) {
        return SQCTL_FAIL;
    }

    memset(&w, 0, sizeof(w));
    sq_app_argv_grant_revoke(&a, &w, id, gid, (int64_t) time(NULL));
    src = sq_store_app_call(s->c, &a, &r);
    if (src != SQ_OK) {
        return sqctl_fail("app revoke", src);
    }

    if (r->elements != 3 || sq_grant_entry(r->element[1], &g) != SQ_OK) {
        freeReplyObject(r);
        return sqctl_fail("app revoke", SQ_ERR_REDIS);
    }

    rc = sqctl_app_print(sq_grant_render(&g));
    freeReplyObject(r);

    return rc;
}


int
sqctl_app_outcomes(sqctl_t *s, int argc, char **argv)
{
    int                   rc;
    size_t                n;
    int64_t               limit;
    sq_rc_t               src;
    uint64_t              id;
    sq_argv_t             a;
    redisReply           *r;
    sq_key_who_t          w;
    sq_outcome_t         *o;
    sq_outcome_counts_t   c;
    sqctl_opt_t           opts[] = { { "id", 1, NULL }, { "limit", 0, NULL } };

    if (sqctl_app_id(argc, argv, opts, 2, &id) != 0) {
        return SQCTL_USAGE;
    }

    limit = SQ_APP_RECENT_DEF;
    if (opts[1].value != NULL
        && (sq_text_parse_u63(opts[1].value, strlen(opts[1].value), &limit)
            != 0 || limit < 1 || limit > SQ_APP_RECENT_MAX))
    {
        fprintf(stderr, "sqctl: --limit must be 1..%d\n", SQ_APP_RECENT_MAX);
        return SQCTL_USAGE;
    }

    if (sqctl_connect(s) != SQCTL_OK) {
        return SQCTL_FAIL;
    }

    memset(&w, 0, sizeof(w));
    sq_app_argv_outcomes(&a, &w, id, (size_t) limit);
    src = sq_store_app_call(s->c, &a, &r);
    if (src != SQ_OK) {
        return sqctl_fail("app outcomes", src);
    }

    o = calloc((size_t) limit, sizeof(*o));
    src = o == NULL ? SQ_ERR_NOMEM
                    : sq_app_outcomes_parse(r, &c, o, (size_t) limit, &n);
    freeReplyObject(r);

    rc = src == SQ_OK ? sqctl_app_print(sq_outcomes_render(&c, o, n))
                      : sqctl_fail("app outcomes", src);
    free(o);

    return rc;
}
