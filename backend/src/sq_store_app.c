/*
 * sq_store_app: the calls of the sq_app_* functions and their replies.
 * Only a client secret's keyed digest is ever sent; a reply never
 * carries one (the functions leave the digests out of an app's entry).
 */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sq_keys.h"
#include "sq_store_app.h"

#define SQ_APP_ENTRY_FIELDS     15      /* 15th: purpose, issue 16 */
#define SQ_GRANT_ENTRY_FIELDS   9


/* head, KEYS[3] sq:app:{a<id>}, common: what most calls start with */
static void
sq_app_start(sq_argv_t *a, const sq_key_who_t *w, const char *fn,
    int write, uint64_t id)
{
    sq_store_who_head(a, w, fn, write, 3);
    sq_argv_fmt(a, SQ_K_APP, (unsigned long long) id);
    sq_store_who_common(a, w, write);
}


void
sq_app_argv_create(sq_argv_t *a, const sq_key_who_t *w, const sq_app_t *app,
    int64_t now, sq_app_text_t *t)
{
    sq_store_who_head(a, w, "sq_app_create", 1, 3);
    sq_argv_fmt(a, SQ_K_APP_CLIENT, app->client_id);
    sq_store_who_common(a, w, 1);

    if (sq_scopes_format(app->scopes, t->scopes, sizeof(t->scopes)) != 0) {
        a->failed = 1;
        return;
    }

    sq_argv_u64(a, app->workspace_id);
    sq_argv_u64(a, app->owner_id);
    sq_argv_str(a, app->client_id);
    sq_argv_str(a, app->name);
    sq_argv_str(a, sq_app_type_name(app->type));
    sq_argv_str(a, app->uris);
    sq_argv_str(a, t->scopes);
    sq_argv_str(a, app->type == SQ_APP_PUBLIC ? "" : t->digest);
    sq_argv_str(a, app->secret_last4);
    sq_argv_fmt(a, "%lld", (long long) now);
    sq_argv_str(a, app->purpose);          /* issue 16 */
}


void
sq_app_argv_one(sq_argv_t *a, const sq_key_who_t *w, uint64_t id)
{
    sq_app_start(a, w, "sq_app_one", 0, id);
}


void
sq_app_argv_page(sq_argv_t *a, const sq_key_who_t *w, uint64_t wid,
    uint64_t after, size_t limit)
{
    sq_store_who_head(a, w, "sq_app_page", 0, 3);

    if (wid != 0) {
        sq_argv_fmt(a, SQ_K_WS_APPS, (unsigned long long) wid);
    } else if (w->uid != 0) {
        sq_argv_fmt(a, SQ_K_USER_WORKSPACES, (unsigned long long) w->uid);
    } else {
        sq_argv_str(a, "");
    }

    sq_store_who_common(a, w, 0);
    sq_argv_u64(a, after);
    sq_argv_fmt(a, "%zu", limit);

    if (wid != 0) {
        sq_argv_u64(a, wid);
    } else {
        sq_argv_str(a, "");
    }
}


void
sq_app_argv_update(sq_argv_t *a, const sq_key_who_t *w, uint64_t id,
    const sq_app_t *app, unsigned fields, int64_t now, sq_app_text_t *t)
{
    sq_app_start(a, w, "sq_app_update", 1, id);
    sq_argv_fmt(a, "%lld", (long long) now);

    if (fields & SQ_APP_F_NAME) {
        sq_argv_str(a, "name");
        sq_argv_str(a, app->name);
    }

    if (fields & SQ_APP_F_URIS) {
        sq_argv_str(a, "redirect_uris");
        sq_argv_str(a, app->uris);
    }

    if (fields & SQ_APP_F_SCOPES) {
        if (sq_scopes_format(app->scopes, t->scopes, sizeof(t->scopes))
            != 0)
        {
            a->failed = 1;
            return;
        }
        sq_argv_str(a, "scopes");
        sq_argv_str(a, t->scopes);
    }

    /* issue 16 (keyops) */
    if (fields & SQ_APP_F_OWNER) {
        sq_argv_str(a, "owner_id");
        sq_argv_u64(a, app->owner_id);
    }

    if (fields & SQ_APP_F_PURPOSE) {
        sq_argv_str(a, "purpose");
        sq_argv_str(a, app->purpose);
    }
}


void
sq_app_argv_set(sq_argv_t *a, const sq_key_who_t *w, uint64_t id,
    const char *status, int64_t now)
{
    sq_app_start(a, w, "sq_app_set", 1, id);
    sq_argv_str(a, status);
    sq_argv_fmt(a, "%lld", (long long) now);
}


void
sq_app_argv_rotate(sq_argv_t *a, const sq_key_who_t *w, uint64_t id,
    const sq_app_t *app, const sq_app_text_t *t, int64_t grace, int revoke,
    int64_t now)
{
    sq_app_start(a, w, "sq_app_rotate_secret", 1, id);
    sq_argv_str(a, t->digest);
    sq_argv_str(a, app->secret_last4);
    sq_argv_fmt(a, "%lld", (long long) grace);
    sq_argv_str(a, revoke ? "1" : "0");
    sq_argv_fmt(a, "%lld", (long long) now);
}


void
sq_app_argv_grants(sq_argv_t *a, const sq_key_who_t *w, uint64_t id,
    uint64_t after, size_t limit)
{
    sq_app_start(a, w, "sq_app_grants", 0, id);
    sq_argv_u64(a, after);
    sq_argv_fmt(a, "%zu", limit);
    sq_argv_fmt(a, "%d", SQ_APP_GRANTS_READ_MAX);
}


void
sq_app_argv_grant_revoke(sq_argv_t *a, const sq_key_who_t *w, uint64_t id,
    uint64_t gid, int64_t now)
{
    sq_store_who_head(a, w, "sq_app_grant_revoke", 1, 4);
    sq_argv_fmt(a, SQ_K_APP, (unsigned long long) id);
    sq_argv_fmt(a, SQ_K_GRANT, (unsigned long long) gid);
    sq_store_who_common(a, w, 1);
    sq_argv_u64(a, gid);
    sq_argv_fmt(a, "%lld", (long long) now);
}


void
sq_app_argv_outcomes(sq_argv_t *a, const sq_key_who_t *w, uint64_t id,
    size_t recent)
{
    sq_app_start(a, w, "sq_app_outcomes", 0, id);
    sq_argv_fmt(a, "%zu", recent);
}


/* ---- replies ---- */

sq_rc_t
sq_app_reply_rc(const redisReply *r)
{
    static const sq_reply_word_t  words[] = {
        { "OK", SQ_OK },
        { "NOTFOUND", SQ_ERR_NOTFOUND },
        { "CONFLICT", SQ_ERR_CONFLICT },
        { "STATE", SQ_ERR_STATE },
        { "FORBIDDEN", SQ_ERR_INVALID },
        { "TOOMANY", SQ_ERR_TAKEN },
        { "NOUSER", SQ_ERR_BADREF }         /* issue 16: sq_app_update */
    };

    return sq_reply_word_rc(r, words, sizeof(words) / sizeof(words[0]));
}


/* a positive id; opt: "" and "0" are 0 */
static int
sq_app_f_id(const redisReply *v, int opt, uint64_t *out)
{
    int64_t  n;

    if (opt && (v->len == 0 || (v->len == 1 && v->str[0] == '0'))) {
        *out = 0;
        return 0;
    }

    if (sq_text_parse_u63(v->str, v->len, &n) != 0 || n <= 0) {
        return -1;
    }

    *out = (uint64_t) n;

    return 0;
}


/* a time: "" is 0 */
static int
sq_app_f_num(const redisReply *v, int64_t *out)
{
    *out = 0;

    return v->len == 0 ? 0 : sq_text_parse_u63(v->str, v->len, out);
}


static int
sq_app_f_text(const redisReply *v, char *dst, size_t cap)
{
    if (v->len >= cap || memchr(v->str, '\0', v->len) != NULL) {
        return -1;
    }

    memcpy(dst, v->str, v->len);
    dst[v->len] = '\0';

    return 0;
}


/* an array of n strings */
static int
sq_app_strings(const redisReply *e, size_t n)
{
    size_t  i;

    if (e->type != REDIS_REPLY_ARRAY || e->elements != n) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (e->element[i]->type != REDIS_REPLY_STRING) {
            return -1;
        }
    }

    return 0;
}


sq_rc_t
sq_app_entry(const redisReply *e, sq_app_t *app)
{
    char               type[16];
    redisReply *const  *f;

    memset(app, 0, sizeof(*app));

    if (sq_app_strings(e, SQ_APP_ENTRY_FIELDS) != 0) {
        return SQ_ERR_REDIS;
    }

    f = e->element;

    if (sq_app_f_id(f[0], 0, &app->id) != 0
        || sq_app_f_text(f[1], app->client_id, sizeof(app->client_id)) != 0
        || sq_app_f_text(f[2], app->name, sizeof(app->name)) != 0
        || sq_app_f_text(f[3], type, sizeof(type)) != 0
        || sq_app_f_text(f[4], app->uris, sizeof(app->uris)) != 0
        || sq_scopes_parse(f[5]->str, f[5]->len, &app->scopes) != 0
        || sq_app_f_id(f[6], 0, &app->workspace_id) != 0
        || sq_app_f_id(f[7], 0, &app->owner_id) != 0
        || sq_app_f_text(f[8], app->status, sizeof(app->status)) != 0
        || sq_app_f_text(f[9], app->secret_last4,
                         sizeof(app->secret_last4)) != 0
        || sq_app_f_num(f[10], &app->created_at) != 0
        || sq_app_f_num(f[11], &app->updated_at) != 0
        || sq_app_f_num(f[12], &app->last_used_at) != 0
        || sq_app_f_num(f[13], &app->prev_secret_until) != 0
        || sq_app_f_text(f[14], app->purpose, sizeof(app->purpose)) != 0
        || app->status[0] == '\0')
    {
        return SQ_ERR_REDIS;
    }

    if (strcmp(type, "confidential") == 0) {
        app->type = SQ_APP_CONFIDENTIAL;
    } else if (strcmp(type, "public") == 0) {
        app->type = SQ_APP_PUBLIC;
    } else {
        return SQ_ERR_REDIS;
    }

    return SQ_OK;
}


sq_rc_t
sq_grant_entry(const redisReply *e, sq_grant_t *g)
{
    redisReply *const  *f;

    memset(g, 0, sizeof(*g));

    if (sq_app_strings(e, SQ_GRANT_ENTRY_FIELDS) != 0) {
        return SQ_ERR_REDIS;
    }

    f = e->element;

    if (sq_app_f_id(f[0], 0, &g->id) != 0
        || sq_app_f_id(f[1], 0, &g->app_id) != 0
        || sq_app_f_id(f[2], 0, &g->user_id) != 0
        || sq_app_f_id(f[3], 0, &g->workspace_id) != 0
        || sq_scopes_parse(f[4]->str, f[4]->len, &g->scopes) != 0
        || sq_app_f_text(f[5], g->status, sizeof(g->status)) != 0
        || sq_app_f_num(f[6], &g->created_at) != 0
        || sq_app_f_num(f[7], &g->revoked_at) != 0
        || sq_app_f_text(f[8], g->reason, sizeof(g->reason)) != 0)
    {
        return SQ_ERR_REDIS;
    }

    return SQ_OK;
}


sq_rc_t
sq_app_page_parse(const redisReply *r, size_t limit, int grants,
    void **items, size_t *n, uint64_t *next)
{
    size_t   i, size;
    sq_rc_t  rc;
    char    *out;

    *items = NULL;
    *n = 0;
    *next = 0;

    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2
        || r->elements - 2 > limit
        || r->element[1]->type != REDIS_REPLY_STRING
        || sq_app_f_id(r->element[1], 1, next) != 0)
    {
        return SQ_ERR_REDIS;
    }

    size = grants ? sizeof(sq_grant_t) : sizeof(sq_app_t);
    out = calloc(limit > 0 ? limit : 1, size);
    if (out == NULL) {
        return SQ_ERR_NOMEM;
    }

    rc = SQ_OK;
    for (i = 2; rc == SQ_OK && i < r->elements; i++) {
        rc = grants
             ? sq_grant_entry(r->element[i],
                              (sq_grant_t *) (out + (i - 2) * size))
             : sq_app_entry(r->element[i],
                            (sq_app_t *) (out + (i - 2) * size));
    }

    if (rc != SQ_OK) {
        free(out);
        *next = 0;
        return rc;
    }

    *items = out;
    *n = r->elements - 2;

    return SQ_OK;
}


/* "approved" "denied" "error" counts; "" is 0 */
static sq_rc_t
sq_app_counts(const redisReply *e, sq_outcome_counts_t *c)
{
    if (sq_app_strings(e, 3) != 0
        || sq_app_f_num(e->element[0], &c->approved) != 0
        || sq_app_f_num(e->element[1], &c->denied) != 0
        || sq_app_f_num(e->element[2], &c->error) != 0)
    {
        return SQ_ERR_REDIS;
    }

    return SQ_OK;
}


/* one field of an outcome entry; unknown ones are ignored */
static int
sq_app_outcome_field(const redisReply *k, const redisReply *v,
    sq_outcome_t *o)
{
    if (strcmp(k->str, "outcome") == 0) {
        return sq_app_f_text(v, o->outcome, sizeof(o->outcome));
    }
    if (strcmp(k->str, "reason") == 0) {
        return sq_app_f_text(v, o->reason, sizeof(o->reason));
    }
    if (strcmp(k->str, "user_id") == 0) {
        return sq_app_f_id(v, 1, &o->user_id);
    }
    if (strcmp(k->str, "workspace_id") == 0) {
        return sq_app_f_id(v, 1, &o->workspace_id);
    }
    if (strcmp(k->str, "scopes") == 0) {
        return sq_app_f_text(v, o->scopes, sizeof(o->scopes));
    }
    if (strcmp(k->str, "at") == 0) {
        return sq_app_f_num(v, &o->at);
    }

    return 0;
}


/* {id, {field, value, ...}} of XREVRANGE */
static sq_rc_t
sq_app_outcome(const redisReply *e, sq_outcome_t *o)
{
    size_t             i;
    const redisReply  *f;

    memset(o, 0, sizeof(*o));

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
        || e->element[0]->type != REDIS_REPLY_STRING
        || sq_app_f_text(e->element[0], o->id, sizeof(o->id)) != 0)
    {
        return SQ_ERR_REDIS;
    }

    f = e->element[1];
    if (f->type != REDIS_REPLY_ARRAY || f->elements % 2 != 0
        || sq_app_strings(f, f->elements) != 0)
    {
        return SQ_ERR_REDIS;
    }

    for (i = 0; i < f->elements; i += 2) {
        if (sq_app_outcome_field(f->element[i], f->element[i + 1], o) != 0) {
            return SQ_ERR_REDIS;
        }
    }

    return o->outcome[0] != '\0' ? SQ_OK : SQ_ERR_REDIS;
}


sq_rc_t
sq_app_outcomes_parse(const redisReply *r, sq_outcome_counts_t *c,
    sq_outcome_t *o, size_t max, size_t *n)
{
    size_t             i;
    sq_rc_t            rc;
    const redisReply  *s;

    *n = 0;
    memset(c, 0, sizeof(*c));

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3
        || sq_app_counts(r->element[1], c) != SQ_OK)
    {
        return SQ_ERR_REDIS;
    }

    s = r->element[2];
    if (s->type != REDIS_REPLY_ARRAY || s->elements > max) {
        return SQ_ERR_REDIS;
    }

    for (i = 0; i < s->elements; i++) {
        rc = sq_app_outcome(s->element[i], &o[i]);
        if (rc != SQ_OK) {
            return rc;
        }
    }

    *n = s->elements;

    return SQ_OK;
}


sq_rc_t
sq_store_app_call(redisContext *c, sq_argv_t *a, redisReply **out)
{
    sq_rc_t      rc;
    redisReply  *r;

    *out = NULL;

    rc = sq_store_argv_call(c, a, &r);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = r->type == REDIS_REPLY_ERROR ? SQ_ERR_REDIS : sq_app_reply_rc(r);
    if (rc != SQ_OK) {
        freeReplyObject(r);
        return rc;
    }

    *out = r;

    return SQ_OK;
}
