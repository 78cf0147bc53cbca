/*
 * sq_key: scopes and workspace lists in their stored (and signed header)
 * forms, what a caller key may manage, the computed status and the key
 * object of the API.
 */

#include <stdio.h>
#include <string.h>

#include "sq_key.h"
#include "sq_resource.h"
#include "sq_workspace.h"


/*
 * Calls item() on each sep-separated token of s[0..len); an empty s has
 * none, an empty token is an error.
 */
static int
sq_tokens(const char *s, size_t len, char sep,
    int (*item)(const char *t, size_t n, void *arg), void *arg)
{
    size_t       n;
    const char  *end, *next;

    end = s + len;

    while (len != 0 && s <= end) {
        next = memchr(s, sep, (size_t) (end - s));
        n = next != NULL ? (size_t) (next - s) : (size_t) (end - s);

        if (n == 0 || item(s, n, arg) != 0) {
            return -1;
        }

        if (next == NULL) {
            break;
        }
        s = next + 1;
    }

    return 0;
}


static int
sq_scope_item(const char *t, size_t n, void *arg)
{
    int        i;
    uint32_t  *mask = arg;

    i = sq_scope_lookup(t, n);
    if (i < 0 || (*mask & SQ_SCOPE_BIT(i))) {
        return -1;
    }

    *mask |= SQ_SCOPE_BIT(i);

    return 0;
}


int
sq_scopes_parse(const char *s, size_t len, uint32_t *mask)
{
    *mask = 0;

    if (len > SQ_SCOPES_TEXT_MAX || sq_tokens(s, len, ' ', sq_scope_item,
                                             mask) != 0)
    {
        *mask = 0;
        return -1;
    }

    return 0;
}


int
sq_scopes_format(uint32_t mask, char *out, size_t cap)
{
    int     i, n;
    size_t  used;

    used = 0;
    if (cap == 0) {
        return -1;
    }
    out[0] = '\0';

    for (i = 0; i < SQ_SCOPE_COUNT; i++) {
        if (!(mask & SQ_SCOPE_BIT(i))) {
            continue;
        }

        n = snprintf(out + used, cap - used, "%s%s", used ? " " : "",
                     sq_scope_name(i));
        if (n < 0 || (size_t) n >= cap - used) {
            return -1;
        }
        used += (size_t) n;
    }

    return 0;
}


static int
sq_ws_item(const char *t, size_t n, void *arg)
{
    uint64_t      id;
    sq_wslist_t  *l = arg;

    if (l->n >= SQ_KEY_WS_MAX || sq_workspace_parse_id(t, n, &id) != 0
        || (l->n > 0 && sq_wslist_allows(l, id)))
    {
        return -1;
    }

    l->ids[l->n++] = id;

    return 0;
}


int
sq_wslist_parse(const char *s, size_t len, sq_wslist_t *l)
{
    l->n = 0;

    if (len > SQ_WSLIST_TEXT_MAX || sq_tokens(s, len, ',', sq_ws_item, l)
                                    != 0)
    {
        l->n = 0;
        return -1;
    }

    return 0;
}


int
sq_wslist_format(const sq_wslist_t *l, char *out, size_t cap)
{
    int     n;
    size_t  i, used;

    used = 0;
    if (cap == 0) {
        return -1;
    }
    out[0] = '\0';

    for (i = 0; i < l->n; i++) {
        n = snprintf(out + used, cap - used, "%s%llu", i ? "," : "",
                     (unsigned long long) l->ids[i]);
        if (n < 0 || (size_t) n >= cap - used) {
            return -1;
        }
        used += (size_t) n;
    }

    return 0;
}


int
sq_wslist_allows(const sq_wslist_t *l, uint64_t wid)
{
    size_t  i;

    if (l->n == 0) {
        return 1;
    }

    for (i = 0; i < l->n; i++) {
        if (l->ids[i] == wid) {
            return 1;
        }
    }

    return 0;
}


int
sq_wslist_within(const sq_wslist_t *l, const sq_wslist_t *limit)
{
    size_t  i;

    if (limit->n == 0) {
        return 1;
    }

    if (l->n == 0) {
        return 0;
    }

    for (i = 0; i < l->n; i++) {
        if (!sq_wslist_allows(limit, l->ids[i])) {
            return 0;
        }
    }

    return 1;
}


sq_key_reach_t
sq_key_reach(const sq_key_t *caller, const sq_key_t *k)
{
    if (caller->type == SQ_KEY_PUBLISHABLE) {
        return SQ_REACH_PUBLISHABLE;
    }

    if (k->mode != caller->mode) {
        return SQ_REACH_MODE;
    }

    if ((k->scopes & ~caller->scopes) != 0) {
        return SQ_REACH_SCOPES;
    }

    if (sq_wslist_within(&k->ws, &caller->ws)) {
        return SQ_REACH_WITHIN;
    }

    return k->ws.n == 0 ? SQ_REACH_UNLIMITED : SQ_REACH_WORKSPACES;
}


/* the lowest scope of mask, which must not be 0 */
static sq_scope_t
sq_scope_first(uint32_t mask)
{
    int  s;

    for (s = 0; s < SQ_SCOPE_COUNT - 1; s++) {
        if (mask & SQ_SCOPE_BIT(s)) {
            break;
        }
    }

    return (sq_scope_t) s;
}


void
sq_key_reach_message(sq_key_reach_t r, const char *verb,
    const sq_key_t *caller, const sq_key_t *k, char *out, size_t cap)
{
    switch (r) {
    case SQ_REACH_PUBLISHABLE:
        snprintf(out, cap, "A publishable key cannot %s keys.", verb);
        break;
    case SQ_REACH_MODE:
        snprintf(out, cap, "This key cannot %s a %s key: it is a %s key.",
                 verb, sq_key_mode_name(k->mode),
                 sq_key_mode_name(caller->mode));
        break;
    case SQ_REACH_SCOPES:
        snprintf(out, cap, "This key cannot %s a key with wider scopes "
                 "than its own (it lacks %s).", verb,
                 sq_scope_name(sq_scope_first(k->scopes & ~caller->scopes)));
        break;
    case SQ_REACH_UNLIMITED:
        snprintf(out, cap, "This key cannot %s a key without a workspace "
                 "limit: it is limited to some workspaces.", verb);
        break;
    case SQ_REACH_WORKSPACES:
        snprintf(out, cap, "This key cannot %s a key for workspaces "
                 "outside its own limit.", verb);
        break;
    default:
        snprintf(out, cap, "This key may %s that key.", verb);
        break;
    }
}


const char *
sq_key_status(const sq_key_t *k, int64_t now)
{
    if (strcmp(k->status, "deleted") == 0) {
        return "deleted";
    }

    if (strcmp(k->status, "active") != 0) {
        return "disabled";
    }

    if (k->expires_at > 0 && now >= k->expires_at) {
        return "expired";
    }

    if (k->sunset_at > 0 && now >= k->sunset_at) {
        return "rotated";
    }

    return "active";
}


void
sq_key_mask(sq_key_type_t type, sq_key_mode_t mode, const char *last4,
    char *out, size_t outlen)
{
    snprintf(out, outlen, "%s\xe2\x80\xa6%s",
             sq_key_prefix(type, mode == SQ_KEY_TEST ? SQ_KEY_TEST
                                                     : SQ_KEY_LIVE),
             last4);
}


/* builds an object member by member; the first failure drops it */
typedef struct {
    json_t  *obj;
} sq_jb_t;


static void
sq_jb_set(sq_jb_t *b, const char *name, json_t *v)
{
    if (b->obj == NULL || v == NULL) {
        json_decref(v);
        json_decref(b->obj);
        b->obj = NULL;
        return;
    }

    if (json_object_set_new(b->obj, name, v) != 0) {
        json_decref(b->obj);
        b->obj = NULL;
    }
}


/* an ISO time, or null for 0 */
static json_t *
sq_json_time(int64_t t)
{
    char  buf[32];

    if (t == 0) {
        return json_null();
    }

    return sq_text_iso8601(t, buf, sizeof(buf)) == 0 ? json_string(buf)
                                                     : NULL;
}


static json_t *
sq_json_id_or_null(uint64_t id)
{
    return id != 0 ? json_integer((json_int_t) id) : json_null();
}


json_t *
sq_scopes_json(uint32_t mask)
{
    int      i;
    json_t  *arr;

    arr = json_array();

    for (i = 0; arr != NULL && i < SQ_SCOPE_COUNT; i++) {
        if ((mask & SQ_SCOPE_BIT(i))
            && json_array_append_new(arr, json_string(sq_scope_name(i)))
               != 0)
        {
            json_decref(arr);
            arr = NULL;
        }
    }

    return arr;
}


static json_t *
sq_wslist_json(const sq_wslist_t *l)
{
    size_t   i;
    json_t  *arr;

    arr = json_array();

    for (i = 0; arr != NULL && i < l->n; i++) {
        if (json_array_append_new(arr, json_integer((json_int_t) l->ids[i]))
            != 0)
        {
            json_decref(arr);
            arr = NULL;
        }
    }

    return arr;
}


json_t *
sq_key_render(const sq_key_t *k, int64_t now)
{
    char     masked[64];
    sq_jb_t  b;

    sq_key_mask(k->type, k->mode, k->last4, masked, sizeof(masked));

    b.obj = json_object();
    sq_jb_set(&b, "id", json_integer((json_int_t) k->id));
    sq_jb_set(&b, "name", json_string(k->name));
    sq_jb_set(&b, "owner", json_integer((json_int_t) k->user_id));
    sq_jb_set(&b, "type", json_string(sq_key_type_name(k->type)));
    sq_jb_set(&b, "mode", json_string(sq_key_mode_name(k->mode)));
    sq_jb_set(&b, "masked", json_string(masked));
    sq_jb_set(&b, "scopes", sq_scopes_json(k->scopes));
    sq_jb_set(&b, "workspaces", sq_wslist_json(&k->ws));
    sq_jb_set(&b, "status", json_string(sq_key_status(k, now)));
    sq_jb_set(&b, "created_at", sq_json_time(k->created_at));
    sq_jb_set(&b, "expires_at", sq_json_time(k->expires_at));
    sq_jb_set(&b, "rotated_at", sq_json_time(k->rotated_at));
    sq_jb_set(&b, "sunset_at", sq_json_time(k->sunset_at));
    sq_jb_set(&b, "replaced_by", sq_json_id_or_null(k->replaced_by));
    sq_jb_set(&b, "last_used_at", sq_json_time(k->last_used_at));
    sq_jb_set(&b, "last_used_ip", k->last_used_ip[0] != '\0'
                                  ? json_string(k->last_used_ip)
                                  : json_null());
    sq_jb_set(&b, "owner_id", sq_json_id_or_null(k->owner_id));
    sq_jb_set(&b, "purpose", json_string(k->purpose));

    return b.obj;
}
