/*
 * sq_app: API Applications' bodies, credentials and JSON forms.  Every
 * validation message names its field; nothing is guessed: an unknown
 * member, a duplicate URI or scope, a wrong type are all refused.
 */

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sq_app.h"
#include "sq_keygen.h"
#include "sq_resource.h"
#include "sq_workspace.h"

#define SQ_APP_URIS_RULE  "redirect_uris must be an array of 1 to 10 " \
    "distinct absolute URIs: https, or http only to 127.0.0.1, [::1] or " \
    "localhost; no fragment, no '*', no userinfo, at most 512 bytes each"
#define SQ_APP_SCOPES_RULE "scopes must be a non-empty array of distinct " \
    "scopes, each one of: chatbots:read, chatbots:write, social:read, " \
    "social:write, urls:read, urls:write, articles:read, articles:write, " \
    "images:read, images:write, media:read, media:write, workspace:read " \
    "(never keys:manage or apps:manage)."

typedef struct {
    sq_app_t   *a;
    unsigned    seen;           /* SQ_APP_F_* and the ones below */
    char       *err;
    size_t      errlen;
} sq_ap_t;

#define SQ_APP_F_TYPE   0x10u
#define SQ_APP_F_WS     0x20u


const char *
sq_app_type_name(sq_app_type_t t)
{
    return t == SQ_APP_PUBLIC ? "public" : "confidential";
}


static int
sq_ap_name(sq_ap_t *p, const json_t *v)
{
    size_t  len;

    if (!json_is_string(v)) {
        goto bad;
    }

    len = json_string_length(v);
    if (len >= sizeof(p->a->name)
        || sq_text_check_ex(json_string_value(v), len, 1, SQ_APP_NAME_MAX,
                            0) != 0)
    {
        goto bad;
    }

    memcpy(p->a->name, json_string_value(v), len + 1);
    p->seen |= SQ_APP_F_NAME;

    return 0;

bad:

    snprintf(p->err, p->errlen, "name must be a string of 1 to %d "
             "characters without control characters.", SQ_APP_NAME_MAX);
    return -1;
}


static int
sq_ap_type(sq_ap_t *p, const json_t *v)
{
    const char  *s;

    s = json_is_string(v) ? json_string_value(v) : "";

    if (strcmp(s, "confidential") == 0) {
        p->a->type = SQ_APP_CONFIDENTIAL;
    } else if (strcmp(s, "public") == 0) {
        p->a->type = SQ_APP_PUBLIC;
    } else {
        snprintf(p->err, p->errlen,
                 "type must be one of: confidential, public.");
        return -1;
    }

    p->seen |= SQ_APP_F_TYPE;

    return 0;
}


int
sq_app_uris_lines(const json_t *arr, char *out, size_t cap)
{
    size_t         i, len, used;
    const char    *s;
    const json_t  *v;

    used = 0;

    json_array_foreach(arr, i, v) {
        s = json_string_value(v);
        len = json_string_length(v);

        if (s == NULL || used + len + 2 > cap) {
            return -1;
        }

        if (i > 0) {
            out[used++] = '\n';
        }

        memcpy(out + used, s, len);
        used += len;
    }

    out[used] = '\0';

    return 0;
}


static int
sq_ap_uris(sq_ap_t *p, const json_t *v)
{
    size_t         i, j, n;
    const char    *why;
    const json_t  *u;

    n = json_is_array(v) ? json_array_size(v) : 0;
    if (n == 0 || n > SQ_APP_URIS_MAX) {
        goto bad;
    }

    json_array_foreach(v, i, u) {
        if (!json_is_string(u)
            || !sq_redirect_uri_valid(json_string_value(u),
                                      json_string_length(u), &why))
        {
            if (json_is_string(u)) {
                snprintf(p->err, p->errlen, "redirect_uris[%zu] is refused: "
                         "%s. " SQ_APP_URIS_RULE ".", i, why);
                return -1;
            }
            goto bad;
        }

        for (j = 0; j < i; j++) {
            if (json_equal(u, json_array_get(v, j))) {
                goto bad;
            }
        }
    }

    if (sq_app_uris_lines(v, p->a->uris, sizeof(p->a->uris)) != 0) {
        goto bad;
    }

    p->seen |= SQ_APP_F_URIS;

    return 0;

bad:

    snprintf(p->err, p->errlen, SQ_APP_URIS_RULE ".");
    return -1;
}


static int
sq_ap_scopes(sq_ap_t *p, const json_t *v)
{
    int            s;
    size_t         i;
    uint32_t       mask;
    const json_t  *e;

    mask = 0;

    if (!json_is_array(v) || json_array_size(v) == 0) {
        goto bad;
    }

    json_array_foreach(v, i, e) {
        s = json_is_string(e) ? sq_scope_lookup(json_string_value(e),
                                                json_string_length(e))
                              : -1;
        if (s < 0 || (mask & SQ_SCOPE_BIT(s))
            || !(SQ_APP_SCOPES & SQ_SCOPE_BIT(s)))
        {
            goto bad;
        }
        mask |= SQ_SCOPE_BIT(s);
    }

    p->a->scopes = mask;
    p->seen |= SQ_APP_F_SCOPES;

    return 0;

bad:

    snprintf(p->err, p->errlen, SQ_APP_SCOPES_RULE);
    return -1;
}


static int
sq_ap_ws(sq_ap_t *p, const json_t *v)
{
    char       buf[32];
    uint64_t   id;
    json_int_t n;

    if (json_is_integer(v)) {
        n = json_integer_value(v);
        snprintf(buf, sizeof(buf), "%lld", (long long) n);
    } else if (json_is_string(v) && json_string_length(v) < sizeof(buf)) {
        snprintf(buf, sizeof(buf), "%s", json_string_value(v));
    } else {
        buf[0] = '\0';
    }

    if (sq_workspace_parse_id(buf, strlen(buf), &id) != 0) {
        snprintf(p->err, p->errlen,
                 "workspace_id must be a positive integer.");
        return -1;
    }

    p->a->workspace_id = id;
    p->seen |= SQ_APP_F_WS;

    return 0;
}


/* issue 16 (keyops): free text of at most SQ_KEY_PURPOSE_MAX bytes */
static int
sq_ap_purpose(sq_ap_t *p, const json_t *v)
{
    size_t  len;

    len = json_is_string(v) ? json_string_length(v) : 0;

    if (!json_is_string(v) || len > SQ_KEY_PURPOSE_MAX
        || sq_text_check_ex(json_string_value(v), len, 0,
                            SQ_KEY_PURPOSE_MAX, 0) != 0)
    {
        snprintf(p->err, p->errlen, "purpose must be a string of at most "
                 "%d bytes without control characters.", SQ_KEY_PURPOSE_MAX);
        return -1;
    }

    memcpy(p->a->purpose, json_string_value(v), len + 1);
    p->seen |= SQ_APP_F_PURPOSE;

    return 0;
}


/* issue 16 (keyops): a user id; sq_app_update checks it names one */
static int
sq_ap_owner(sq_ap_t *p, const json_t *v)
{
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        snprintf(p->err, p->errlen, "owner_id must be a user id.");
        return -1;
    }

    p->a->owner_id = (uint64_t) json_integer_value(v);
    p->seen |= SQ_APP_F_OWNER;

    return 0;
}


typedef struct {
    const char  *name;
    int        (*parse)(sq_ap_t *p, const json_t *v);
    unsigned     create_only;   /* 1: create only; 2: update only */
} sq_ap_member_t;

static const sq_ap_member_t  sq_ap_members[] = {
    { "name", sq_ap_name, 0 },
    { "redirect_uris", sq_ap_uris, 0 },
    { "scopes", sq_ap_scopes, 0 },
    { "type", sq_ap_type, 1 },
    { "workspace_id", sq_ap_ws, 1 },
    { "purpose", sq_ap_purpose, 0 },
    { "owner_id", sq_ap_owner, 2 }
};


static int
sq_ap_body(const char *body, size_t len, int create, sq_ap_t *p)
{
    int          rc;
    size_t       i;
    json_t      *obj, *v;
    const char  *key;

    obj = sq_json_load_object(body, len, p->err, p->errlen);
    if (obj == NULL) {
        return -1;
    }

    rc = 0;

    json_object_foreach(obj, key, v) {
        for (i = 0; i < sizeof(sq_ap_members) / sizeof(sq_ap_members[0]);
             i++)
        {
            if (strcmp(sq_ap_members[i].name, key) == 0
                && sq_ap_members[i].create_only != (create ? 2u : 1u))
            {
                break;
            }
        }

        if (i == sizeof(sq_ap_members) / sizeof(sq_ap_members[0])) {
            sq_json_unknown_field(key, p->err, p->errlen);
            rc = -1;
            break;
        }

        if (sq_ap_members[i].parse(p, v) != 0) {
            rc = -1;
            break;
        }
    }

    json_decref(obj);

    return rc;
}


int
sq_app_parse_create(const char *body, size_t len, sq_app_t *a, char *err,
    size_t errlen)
{
    sq_ap_t  p;

    memset(a, 0, sizeof(*a));
    a->type = SQ_APP_CONFIDENTIAL;

    p.a = a;
    p.seen = 0;
    p.err = err;
    p.errlen = errlen;

    if (sq_ap_body(body, len, 1, &p) != 0) {
        return -1;
    }

    if (!(p.seen & SQ_APP_F_NAME)) {
        snprintf(err, errlen, "name is required.");
    } else if (!(p.seen & SQ_APP_F_URIS)) {
        snprintf(err, errlen, "redirect_uris is required.");
    } else if (!(p.seen & SQ_APP_F_SCOPES)) {
        snprintf(err, errlen, "scopes is required.");
    } else if (!(p.seen & SQ_APP_F_WS)) {
        snprintf(err, errlen, "workspace_id is required.");
    } else {
        return 0;
    }

    return -1;
}


int
sq_app_parse_update(const char *body, size_t len, sq_app_t *a,
    unsigned *fields, char *err, size_t errlen)
{
    sq_ap_t  p;

    memset(a, 0, sizeof(*a));

    p.a = a;
    p.seen = 0;
    p.err = err;
    p.errlen = errlen;

    if (sq_ap_body(body, len, 0, &p) != 0) {
        return -1;
    }

    *fields = p.seen & (SQ_APP_F_NAME | SQ_APP_F_URIS | SQ_APP_F_SCOPES
                        | SQ_APP_F_OWNER | SQ_APP_F_PURPOSE);

    if (*fields == 0) {
        snprintf(err, errlen, "Give at least one of name, redirect_uris, "
                 "scopes, owner_id, purpose.");
        return -1;
    }

    return 0;
}


int
sq_app_parse_rotate(const char *body, size_t len, int64_t *grace,
    int *revoke, char *err, size_t errlen)
{
    int          rc;
    json_t      *obj, *v;
    const char  *key;

    *grace = 0;
    *revoke = 0;

    if (len == 0) {
        return 0;
    }

    obj = sq_json_load_object(body, len, err, errlen);
    if (obj == NULL) {
        return -1;
    }

    rc = 0;

    json_object_foreach(obj, key, v) {
        if (strcmp(key, "grace_seconds") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0
                || json_integer_value(v) > SQ_KEY_GRACE_MAX)
            {
                snprintf(err, errlen, "grace_seconds must be an integer "
                         "from 0 to %d.", SQ_KEY_GRACE_MAX);
                rc = -1;
                break;
            }
            *grace = (int64_t) json_integer_value(v);

        } else if (strcmp(key, "revoke_tokens") == 0) {
            if (!json_is_boolean(v)) {
                snprintf(err, errlen, "revoke_tokens must be true or "
                         "false.");
                rc = -1;
                break;
            }
            *revoke = json_is_true(v);

        } else {
            sq_json_unknown_field(key, err, errlen);
            rc = -1;
            break;
        }
    }

    json_decref(obj);

    return rc;
}


int
sq_app_scopes_within(uint32_t app, uint32_t caller, sq_scope_t *missing)
{
    int       s;
    uint32_t  extra;

    extra = app & ~caller;
    if (extra == 0) {
        return 0;
    }

    for (s = 0; s < SQ_SCOPE_COUNT; s++) {
        if (extra & SQ_SCOPE_BIT(s)) {
            break;
        }
    }

    *missing = (sq_scope_t) s;

    return -1;
}


void
sq_app_new_client_id(sq_app_t *a)
{
    unsigned char  r[16];
    size_t         n;

    n = sizeof(SQ_APP_CLIENT_PREFIX) - 1;
    randombytes_buf(r, sizeof(r));
    memcpy(a->client_id, SQ_APP_CLIENT_PREFIX, n);
    sodium_bin2hex(a->client_id + n, sizeof(a->client_id) - n, r,
                   sizeof(r));
}


int
sq_app_new_secret(const uint8_t pepper[SQ_SECRET_BYTES], sq_app_t *a,
    char *secret, size_t cap, char digest[SQ_DIGEST_HEX_LEN + 1])
{
    if (cap < SQ_APP_SECRET_LEN + 1
        || sq_token_generate(SQ_APP_SECRET_PREFIX, secret, cap) != 0)
    {
        return -1;
    }

    sq_key_digest_hex(pepper, secret, SQ_APP_SECRET_LEN, digest);
    memcpy(a->secret_last4, secret + SQ_APP_SECRET_LEN - 4, 4);
    a->secret_last4[4] = '\0';

    return 0;
}


/* ---- JSON ---- */

static json_t *
sq_app_time(int64_t t)
{
    char  buf[32];

    if (t == 0) {
        return json_null();
    }

    return sq_text_iso8601(t, buf, sizeof(buf)) == 0 ? json_string(buf)
                                                     : NULL;
}


static json_t *
sq_app_uris_json(const char *lines)
{
    json_t      *arr;
    const char  *p, *nl;

    arr = json_array();
    p = lines;

    while (arr != NULL && *p != '\0') {
        nl = strchr(p, '\n');
        if (json_array_append_new(arr, json_stringn(p, nl != NULL
                                                       ? (size_t) (nl - p)
                                                       : strlen(p)))
            != 0)
        {
            json_decref(arr);
            return NULL;
        }

        if (nl == NULL) {
            break;
        }
        p = nl + 1;
    }

    return arr;
}


static json_t *
sq_app_id_or_null(uint64_t id)
{
    return id != 0 ? json_integer((json_int_t) id) : json_null();
}


json_t *
sq_app_render(const sq_app_t *a)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:s, "
                     "s:o, s:o, s:o, s:o, s:s}",
                     "id", (json_int_t) a->id,
                     "client_id", a->client_id,
                     "name", a->name,
                     "type", sq_app_type_name(a->type),
                     "redirect_uris", sq_app_uris_json(a->uris),
                     "scopes", sq_scopes_json(a->scopes),
                     "workspace_id", (json_int_t) a->workspace_id,
                     "owner_id", (json_int_t) a->owner_id,
                     "status", a->status,
                     "secret_last4", a->secret_last4[0] != '\0'
                                     ? json_string(a->secret_last4)
                                     : json_null(),
                     "created_at", sq_app_time(a->created_at),
                     "updated_at", sq_app_time(a->updated_at),
                     "last_used_at", sq_app_time(a->last_used_at),
                     "purpose", a->purpose);        /* issue 16 */
}


json_t *
sq_grant_render(const sq_grant_t *g)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:o, s:s, s:o, s:o, s:o}",
                     "id", (json_int_t) g->id,
                     "app_id", (json_int_t) g->app_id,
                     "user_id", (json_int_t) g->user_id,
                     "workspace_id", (json_int_t) g->workspace_id,
                     "scopes", sq_scopes_json(g->scopes),
                     "status", g->status,
                     "created_at", sq_app_time(g->created_at),
                     "revoked_at", sq_app_time(g->revoked_at),
                     "revoke_reason", g->reason[0] != '\0'
                                      ? json_string(g->reason) : json_null());
}


/* "a b" as ["a", "b"] */
static json_t *
sq_app_words_json(const char *s)
{
    size_t       n;
    json_t      *arr;
    const char  *p;

    arr = json_array();
    p = s;

    while (arr != NULL && *p != '\0') {
        n = strcspn(p, " ");
        if (n > 0 && json_array_append_new(arr, json_stringn(p, n)) != 0) {
            json_decref(arr);
            return NULL;
        }
        p += n;
        p += *p == ' ';
    }

    return arr;
}


static json_t *
sq_outcome_render(const sq_outcome_t *o)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
                     "id", o->id,
                     "outcome", o->outcome,
                     "reason", o->reason[0] != '\0' ? json_string(o->reason)
                                                    : json_null(),
                     "user_id", sq_app_id_or_null(o->user_id),
                     "workspace_id", sq_app_id_or_null(o->workspace_id),
                     "scopes", sq_app_words_json(o->scopes),
                     "at", sq_app_time(o->at));
}


json_t *
sq_outcomes_render(const sq_outcome_counts_t *c, const sq_outcome_t *o,
    size_t n)
{
    size_t   i;
    json_t  *recent;

    recent = json_array();

    for (i = 0; recent != NULL && i < n; i++) {
        if (json_array_append_new(recent, sq_outcome_render(&o[i])) != 0) {
            json_decref(recent);
            recent = NULL;
        }
    }

    return json_pack("{s:{s:I, s:I, s:I}, s:o}",
                     "counts", "approved", (json_int_t) c->approved,
                     "denied", (json_int_t) c->denied,
                     "error", (json_int_t) c->error,
                     "recent", recent);
}
