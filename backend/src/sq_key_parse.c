/*
 * sq_key_parse: the bodies of POST /v1/keys and POST /v1/keys/{id}/rotate,
 * validated member by member; every message names its field.
 */

#include <stdio.h>
#include <string.h>

#include "sq_key.h"
#include "sq_resource.h"
#include "sq_workspace.h"

typedef struct {
    uint64_t     uid;
    int64_t      now;
    sq_key_t    *k;
    int          seen_name;
    int          seen_scopes;
} sq_kp_t;

typedef int (*sq_kp_member_t)(sq_kp_t *p, const json_t *v);

typedef struct {
    const char      *name;
    sq_kp_member_t   parse;
    const char      *rule;      /* "<name> must be <rule>." */
} sq_kp_field_t;


/* 1 when v is the string s */
static int
sq_kp_is(const json_t *v, const char *s)
{
    return json_is_string(v) && json_string_length(v) == strlen(s)
           && memcmp(json_string_value(v), s, strlen(s)) == 0;
}


static int
sq_kp_name(sq_kp_t *p, const json_t *v)
{
    size_t  len;

    if (!json_is_string(v)) {
        return -1;
    }

    len = json_string_length(v);
    if (len >= sizeof(p->k->name)
        || sq_text_check_ex(json_string_value(v), len, 1, SQ_KEY_NAME_MAX,
                            0) != 0)
    {
        return -1;
    }

    memcpy(p->k->name, json_string_value(v), len + 1);
    p->seen_name = 1;

    return 0;
}


static int
sq_kp_type(sq_kp_t *p, const json_t *v)
{
    if (sq_kp_is(v, "secret")) {
        p->k->type = SQ_KEY_SECRET;
    } else if (sq_kp_is(v, "publishable")) {
        p->k->type = SQ_KEY_PUBLISHABLE;
    } else {
        return -1;
    }

    return 0;
}


static int
sq_kp_mode(sq_kp_t *p, const json_t *v)
{
    if (sq_kp_is(v, "live")) {
        p->k->mode = SQ_KEY_LIVE;
    } else if (sq_kp_is(v, "test")) {
        p->k->mode = SQ_KEY_TEST;
    } else {
        return -1;
    }

    return 0;
}


static int
sq_kp_scopes(sq_kp_t *p, const json_t *v)
{
    int      s;
    size_t   i;
    json_t  *item;

    if (!json_is_array(v) || json_array_size(v) == 0) {
        return -1;
    }

    p->k->scopes = 0;

    json_array_foreach(v, i, item) {
        s = json_is_string(item)
            ? sq_scope_lookup(json_string_value(item),
                              json_string_length(item))
            : -1;
        if (s < 0 || (p->k->scopes & SQ_SCOPE_BIT(s))) {
            return -1;
        }
        p->k->scopes |= SQ_SCOPE_BIT(s);
    }

    p->seen_scopes = 1;

    return 0;
}


static int
sq_kp_workspaces(sq_kp_t *p, const json_t *v)
{
    size_t       i;
    json_t      *item;
    json_int_t   n;
    sq_wslist_t *l = &p->k->ws;

    if (!json_is_array(v) || json_array_size(v) > SQ_KEY_WS_MAX) {
        return -1;
    }

    l->n = 0;

    json_array_foreach(v, i, item) {
        n = json_is_integer(item) ? json_integer_value(item) : 0;
        if (n <= 0 || (unsigned long long) n > SQ_WORKSPACE_ID_MAX
            || (l->n > 0 && sq_wslist_allows(l, (uint64_t) n)))
        {
            l->n = 0;
            return -1;
        }
        l->ids[l->n++] = (uint64_t) n;
    }

    return 0;
}


static int
sq_kp_expires(sq_kp_t *p, const json_t *v)
{
    int64_t  t;

    if (json_is_null(v)) {
        p->k->expires_at = 0;
        return 0;
    }

    if (!json_is_string(v)
        || sq_text_parse_utc(json_string_value(v), json_string_length(v),
                             &t) != 0
        || t <= p->now)
    {
        return -1;
    }

    p->k->expires_at = t;

    return 0;
}


static int
sq_kp_owner(sq_kp_t *p, const json_t *v)
{
    return json_is_integer(v)
           && json_integer_value(v) == (json_int_t) p->uid ? 0 : -1;
}


/* issue 16 (keyops): free text of at most SQ_KEY_PURPOSE_MAX bytes */
static int
sq_kp_purpose(sq_kp_t *p, const json_t *v)
{
    size_t  len;

    if (!json_is_string(v)) {
        return -1;
    }

    len = json_string_length(v);
    if (len > SQ_KEY_PURPOSE_MAX
        || sq_text_check_ex(json_string_value(v), len, 0,
                            SQ_KEY_PURPOSE_MAX, 0) != 0)
    {
        return -1;
    }

    memcpy(p->k->purpose, json_string_value(v), len + 1);

    return 0;
}


/* issue 16 (keyops): a user id; sq_key_create checks it names one */
static int
sq_kp_owner_id(sq_kp_t *p, const json_t *v)
{
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        return -1;
    }

    p->k->owner_id = (uint64_t) json_integer_value(v);

    return 0;
}


static const sq_kp_field_t  sq_kp_fields[] = {
    { "name", sq_kp_name, "a string of 1 to 100 characters without "
      "control characters" },
    { "type", sq_kp_type, "one of: secret, publishable" },
    { "mode", sq_kp_mode, "one of: live, test" },
    { "scopes", sq_kp_scopes, "a non-empty array of distinct scopes, each "
      "one of: chatbots:read, chatbots:write, social:read, social:write, "
      "urls:read, urls:write, articles:read, articles:write, images:read, "
      "images:write, media:read, media:write, workspace:read, apps:manage, "
      "keys:manage" },
    { "workspaces", sq_kp_workspaces, "an array of at most 100 distinct "
      "workspace ids" },
    { "expires_at", sq_kp_expires, "a future UTC time written "
      "YYYY-MM-DDTHH:MM:SSZ, or null" },
    { "owner", sq_kp_owner, "your own user id" },
    { "purpose", sq_kp_purpose, "a string of at most 200 bytes without "
      "control characters" },
    { "owner_id", sq_kp_owner_id, "a user id" }
};


static int
sq_kp_member(sq_kp_t *p, const char *key, const json_t *v, char *err,
    size_t errlen)
{
    size_t  i;

    for (i = 0; i < sizeof(sq_kp_fields) / sizeof(sq_kp_fields[0]); i++) {
        if (strcmp(sq_kp_fields[i].name, key) != 0) {
            continue;
        }

        if (sq_kp_fields[i].parse(p, v) != 0) {
            snprintf(err, errlen, "%s must be %s.", key,
                     sq_kp_fields[i].rule);
            return -1;
        }

        return 0;
    }

    sq_json_unknown_field(key, err, errlen);

    return -1;
}


/* the rules across members, once all are read */
static int
sq_kp_finish(const sq_kp_t *p, char *err, size_t errlen)
{
    if (!p->seen_name) {
        snprintf(err, errlen, "name is required.");
        return -1;
    }

    if (!p->seen_scopes) {
        snprintf(err, errlen, "scopes is required.");
        return -1;
    }

    if (p->k->type == SQ_KEY_PUBLISHABLE
        && (p->k->scopes & ~SQ_SCOPES_READ) != 0)
    {
        snprintf(err, errlen, "scopes: a publishable key may hold only "
                 "read scopes.");
        return -1;
    }

    return 0;
}


int
sq_key_parse_create(const char *body, size_t len, uint64_t uid,
    int64_t now, sq_key_t *k, char *err, size_t errlen)
{
    sq_key_t  dflt;

    /* a live caller with no workspace limit */
    memset(&dflt, 0, sizeof(dflt));
    dflt.user_id = uid;
    dflt.mode = SQ_KEY_LIVE;

    return sq_key_parse_create_as(body, len, &dflt, now, k, err, errlen);
}


int
sq_key_parse_create_as(const char *body, size_t len,
    const sq_key_t *caller, int64_t now, sq_key_t *k, char *err,
    size_t errlen)
{
    int          rc;
    json_t      *obj, *v;
    sq_kp_t      p;
    const char  *key;

    memset(k, 0, sizeof(*k));
    k->user_id = caller->user_id;
    k->type = SQ_KEY_SECRET;
    k->mode = caller->mode;
    k->ws = caller->ws;

    memset(&p, 0, sizeof(p));
    p.uid = caller->user_id;
    p.now = now;
    p.k = k;

    obj = sq_json_load_object(body, len, err, errlen);
    if (obj == NULL) {
        return -1;
    }

    rc = 0;
    json_object_foreach(obj, key, v) {
        if (rc == 0) {
            rc = sq_kp_member(&p, key, v, err, errlen);
        }
    }

    json_decref(obj);

    return rc == 0 ? sq_kp_finish(&p, err, errlen) : -1;
}


int
sq_key_parse_rotate(const char *body, size_t len, int64_t *grace,
    char *err, size_t errlen)
{
    int          rc;
    json_t      *obj, *v;
    const char  *key;

    obj = sq_json_load_object(body, len, err, errlen);
    if (obj == NULL) {
        return -1;
    }

    rc = -1;
    snprintf(err, errlen, "grace_seconds is required.");

    json_object_foreach(obj, key, v) {
        if (strcmp(key, "grace_seconds") != 0) {
            sq_json_unknown_field(key, err, errlen);
            rc = -1;
            break;
        }

        if (!json_is_integer(v) || json_integer_value(v) < 0
            || json_integer_value(v) > SQ_KEY_GRACE_MAX)
        {
            snprintf(err, errlen, "grace_seconds must be an integer from 0 "
                     "to %d.", SQ_KEY_GRACE_MAX);
            rc = -1;
            break;
        }

        *grace = (int64_t) json_integer_value(v);
        rc = 0;
    }

    json_decref(obj);

    return rc;
}
