/*
 * sq_console_keys: the keys list with its 30-day sparklines, create (the
 * key shown once), and disable / enable / rotate / delete, each confirmed
 * on a page of its own first.  The calls are those of /v1/keys
 * (sq_store_key.h) as the session's user; the edge sees a change on its
 * next request through the keyspace notification of the key's record.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "sq_console.h"
#include "sq_log.h"

#define SQ_CON_SPARK_W  120
#define SQ_CON_SPARK_H  24

static const int64_t  sq_con_graces[] = { 0, 3600, 86400, 604800 };


static void
sq_con_scopes(struct evbuffer *b, uint32_t scopes)
{
    char  s[SQ_SCOPES_TEXT_MAX + 1];

    if (scopes == SQ_SCOPES_ALL) {
        evbuffer_add_printf(b, "<span class=\"broad\">all scopes</span>");
        return;
    }

    if (sq_scopes_format(scopes, s, sizeof(s)) != 0) {
        s[0] = '\0';
    }
    sq_pub_esc(b, s);
}


static void
sq_con_ws(struct evbuffer *b, const sq_wslist_t *ws)
{
    char  s[SQ_WSLIST_TEXT_MAX + 1];

    if (ws->n == 0) {
        evbuffer_add_printf(b, "any");
        return;
    }

    if (sq_wslist_format(ws, s, sizeof(s)) != 0) {
        s[0] = '\0';
    }
    sq_pub_esc(b, s);
}


/* the 30 days as an inline SVG polyline (allowed + refused) */
static void
sq_con_spark(struct evbuffer *b, const sq_con_row_t *row)
{
    size_t   i;
    int64_t  max, sum, refused, v;

    if (!row->usage) {
        evbuffer_add_printf(b, "-");
        return;
    }

    max = 1;
    sum = 0;
    refused = 0;
    for (i = 0; i < SQ_CON_DAYS; i++) {
        v = row->d[i].allowed + row->d[i].denied;
        max = v > max ? v : max;
        sum += v;
        refused += row->d[i].denied;
    }

    evbuffer_add_printf(b, "<svg class=\"spark\" width=\"%d\" height=\"%d\" "
                        "viewBox=\"0 0 %d %d\" role=\"img\"><title>%lld "
                        "requests, %lld refused, in %d days</title>"
                        "<polyline fill=\"none\" stroke=\"#2a6\" "
                        "stroke-width=\"1.5\" points=\"",
                        SQ_CON_SPARK_W, SQ_CON_SPARK_H, SQ_CON_SPARK_W,
                        SQ_CON_SPARK_H, (long long) sum, (long long) refused,
                        SQ_CON_DAYS);

    for (i = 0; i < SQ_CON_DAYS; i++) {
        v = row->d[i].allowed + row->d[i].denied;
        evbuffer_add_printf(b, "%s%.1f,%.1f", i ? " " : "",
                            (double) i * (SQ_CON_SPARK_W - 2)
                            / (SQ_CON_DAYS - 1) + 1,
                            SQ_CON_SPARK_H - 1 - (double) v
                            * (SQ_CON_SPARK_H - 2) / (double) max);
    }

    evbuffer_add_printf(b, "\"/></svg>");
}


static void
sq_con_action(struct evbuffer *b, uint64_t kid, const char *verb)
{
    evbuffer_add_printf(b, "<a class=\"act\" id=\"%s-%llu\" "
                        "href=\"/console/keys/%llu/confirm?do=%s\">%s</a> ",
                        verb, (unsigned long long) kid,
                        (unsigned long long) kid, verb, verb);
}


static void
sq_con_keys_render(sq_pub_t *p)
{
    char              mask[64];
    size_t            i;
    int64_t           now;
    const char       *st;
    sq_con_t         *c = p->console;
    sq_key_t         *k;
    sq_con_row_t     *row;
    struct evbuffer  *b;

    now = p->now;
    b = sq_con_page(p, "API keys", "keys");
    if (b == NULL) {
        return;
    }

    sq_con_flash(p, b);
    evbuffer_add_printf(b, "<p><a class=\"button\" id=\"create\" "
                        "href=\"/console/keys/new\">Create a key</a></p>\n"
                        "<table id=\"keys\"><thead><tr><th>Name</th>"
                        "<th>Owner</th><th>Purpose</th><th>Key</th>"
                        "<th>Type</th><th>Mode</th><th>Status</th>"
                        "<th>Scopes</th><th>Workspaces</th><th>Created</th>"
                        "<th>Last used</th><th>30 days</th><th>Actions</th>"
                        "</tr></thead><tbody>\n");

    for (i = 0; i < c->n; i++) {
        k = &c->keys[i];
        row = &c->rows[i];
        st = sq_key_status(k, now);
        sq_key_mask(k->type, k->mode, k->last4, mask, sizeof(mask));

        evbuffer_add_printf(b, "<tr id=\"key-%llu\" data-status=\"%s\">"
                            "<td><a href=\"/console/keys/%llu\">",
                            (unsigned long long) k->id, st,
                            (unsigned long long) k->id);
        sq_pub_esc(b, k->name[0] ? k->name : "(unnamed)");
        evbuffer_add_printf(b, "</a></td><td>");
        sq_con_owner(p, b, row->owner);
        evbuffer_add_printf(b, "</td><td>");
        sq_pub_esc(b, row->purpose);
        evbuffer_add_printf(b, "</td><td><code>");
        sq_pub_esc(b, mask);
        evbuffer_add_printf(b, "</code></td><td>%s</td><td>%s</td>"
                            "<td class=\"st-%s\">%s</td><td>",
                            k->type == SQ_KEY_PUBLISHABLE ? "publishable"
                                                          : "secret",
                            k->mode == SQ_KEY_TEST ? "test" : "live",
                            st, st);
        sq_con_scopes(b, k->scopes);
        evbuffer_add_printf(b, "</td><td>");
        sq_con_ws(b, &k->ws);
        evbuffer_add_printf(b, "</td><td>");
        sq_con_time(b, k->created_at);
        evbuffer_add_printf(b, "</td><td>");
        sq_con_time(b, k->last_used_at);
        if (k->last_used_ip[0]) {
            evbuffer_add_printf(b, "<br><small>");
            sq_pub_esc(b, k->last_used_ip);
            evbuffer_add_printf(b, "</small>");
        }
        evbuffer_add_printf(b, "</td><td>");
        sq_con_spark(b, row);
        evbuffer_add_printf(b, "</td><td>");

        if (strcmp(k->status, "disabled") == 0) {
            sq_con_action(b, k->id, "enable");
        } else {
            sq_con_action(b, k->id, "disable");
        }
        if (k->rotated_at == 0) {
            sq_con_action(b, k->id, "rotate");
        }
        sq_con_action(b, k->id, "delete");
        evbuffer_add_printf(b, "</td></tr>\n");
    }

    sq_con_table_end(b, c->n, "empty", "You have no keys yet.");

    sq_con_send(p, 200, b);
}


static void
sq_con_on_usage(redisReply *reply, void *data)
{
    size_t         i;
    sq_pub_t      *p = data;
    sq_con_t      *c = p->console;
    sq_con_row_t  *row;

    i = sq_con_fan_in(p);
    row = &c->rows[i];

    if (reply != NULL && reply->type == REDIS_REPLY_ARRAY
        && sq_key_reply_rc(reply) == SQ_OK && reply->elements == 3
        && sq_key_usage_parse(reply->element[2], SQ_CON_DAYS, row->d)
           == SQ_OK)
    {
        row->usage = 1;
    }

    sq_con_fan_end(p, sq_con_keys_render);
}


/* one usage call per key, pipelined; the last reply renders the page */
static void
sq_con_usage_send(sq_pub_t *p)
{
    size_t          i, sent;
    sq_con_t       *c = p->console;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_usage_day_t  d[SQ_CON_DAYS];

    if (c->n == 0
        || sq_key_usage_days(p->now, SQ_CON_DAYS, d, &c->t) != SQ_OK)
    {
        sq_con_keys_render(p);
        return;
    }

    sq_con_who(p, &w);
    c->pending = c->n;
    sent = 0;

    for (i = 0; i < c->n; i++) {
        memcpy(c->rows[i].d, d, sizeof(d));
        sq_key_argv_usage(&a, &w, c->keys[i].id, 0, &c->t);
        if (sq_pub_send_quiet(p, &a, sq_con_on_usage) != 0) {
            break;
        }
        sent++;
    }

    /* the keys whose call could not go: no sparkline */
    if (sq_con_fan_sent(p, sent) != 0) {
        sq_con_keys_render(p);
    }
}


static void
sq_con_on_page(redisReply *reply, void *data)
{
    size_t       i;
    uint64_t     next;
    sq_pub_t    *p = data;
    sq_con_t    *c = p->console;
    const char  *v;

    if (sq_con_enter(p, reply) != 0) {
        goto done;
    }

    if (sq_key_page_parse(reply, SQ_CON_KEYS_MAX, &c->keys, &c->n, &next)
        != SQ_OK
        || (c->n > 0 && (c->rows = calloc(c->n, sizeof(*c->rows))) == NULL))
    {
        sq_con_error(p, 500, "Error", "Something went wrong on our side.");
        goto done;
    }

    for (i = 0; i < c->n; i++) {
        const redisReply  *h = reply->element[2 + i]->element[1];

        v = sq_con_field(h, "owner_id");
        if (v != NULL && strlen(v) <= SQ_CON_OWNER_MAX) {
            memcpy(c->rows[i].owner, v, strlen(v) + 1);
        }
        v = sq_con_field(h, "purpose");
        if (v != NULL && strlen(v) <= SQ_CON_PURPOSE_MAX) {
            memcpy(c->rows[i].purpose, v, strlen(v) + 1);
        }
    }

    sq_con_usage_send(p);

done:
    sq_pub_finish(p);
}


/* the owners' names came: the list next */
static void
sq_con_on_list_people(redisReply *reply, void *data)
{
    sq_pub_t  *p = data;

    if (sq_con_people_take(p, reply) == 0) {
        sq_con_keys_send(p, sq_con_on_page);
    }

    sq_pub_finish(p);
}


/* the call for the user's keys: the list's, the playground's picker */
void
sq_con_keys_send(sq_pub_t *p, sq_aredis_fn fn)
{
    sq_argv_t     a;
    sq_key_who_t  w;

    sq_con_who(p, &w);
    sq_key_argv_page(&a, &w, 0, SQ_CON_KEYS_MAX);
    sq_pub_send(p, &a, fn);
}


/* the list: the owners' names (sq_con_people), the keys, their usage */
void
sq_con_keys(sq_pub_t *p)
{
    sq_con_people_send(p, sq_con_on_list_people);
}


/* ---- create ---- */

static void
sq_con_key_form(sq_pub_t *p, int status, const char *error)
{
    int               s;
    const char       *name;
    struct evbuffer  *b;

    b = sq_con_page(p, "Create a key", "keys");
    if (b == NULL) {
        return;
    }

    if (error != NULL) {
        evbuffer_add_printf(b, "<p class=\"err\" id=\"error\">");
        sq_pub_esc(b, error);
        evbuffer_add_printf(b, "</p>\n");
    }

    evbuffer_add_printf(b, "<form method=\"post\" action=\"/console/keys\" "
                        "id=\"create-form\">");
    sq_con_csrf(p, b);
    evbuffer_add_printf(b, "<label for=\"name\">Name</label>"
                        "<input id=\"name\" name=\"name\" maxlength=\"100\" "
                        "required>\n<label for=\"purpose\">Purpose</label>"
                        "<input id=\"purpose\" name=\"purpose\" "
                        "maxlength=\"200\">\n<label for=\"owner_id\">Owner (a "
                        "user id; empty: you)</label><input id=\"owner_id\" "
                        "name=\"owner_id\" inputmode=\"numeric\">\n"
                        "<label for=\"mode\">Mode</label><select id=\"mode\" "
                        "name=\"mode\"><option value=\"test\">test "
                        "(sqk_test_)</option><option value=\"live\">live "
                        "(sqk_live_)</option></select>\n"
                        "<label for=\"type\">Type</label><select id=\"type\" "
                        "name=\"type\"><option value=\"secret\">secret"
                        "</option><option value=\"publishable\">publishable "
                        "(read only)</option></select>\n"
                        "<fieldset id=\"scopes\"><legend>Scopes</legend>");

    for (s = 0; s < SQ_SCOPE_COUNT; s++) {
        name = sq_scope_name((sq_scope_t) s);
        evbuffer_add_printf(b, "<label class=\"check\"><input "
                            "type=\"checkbox\" name=\"scope.%s\" "
                            "id=\"scope-%s\" value=\"1\"> %s</label>",
                            name, name, name);
    }

    evbuffer_add_printf(b, "</fieldset>\n<label for=\"workspaces\">"
                        "Workspaces (ids, comma-separated; empty: every "
                        "workspace of yours)</label><input id=\"workspaces\" "
                        "name=\"workspaces\">\n<button type=\"submit\" "
                        "id=\"submit\">Create</button></form>\n");

    sq_con_send(p, status, b);
}


void
sq_con_key_new(sq_pub_t *p)
{
    sq_con_key_form(p, 200, NULL);
}


/* the key, once, with a copy button; wipes it */
static void
sq_con_key_once(sq_pub_t *p, const char *title, const sq_key_t *k)
{
    sq_con_t         *c = p->console;
    struct evbuffer  *b;

    b = sq_con_begin(p, title, "keys");
    if (b != NULL) {
        evbuffer_add_printf(b, "<div class=\"once\"><p>Your new key "
                            "<strong>");
        sq_pub_esc(b, k->name);
        evbuffer_add_printf(b, "</strong> (id <span id=\"new-id\">%llu"
                            "</span>). Copy it now: <strong>it is shown "
                            "only this once</strong> and cannot be shown "
                            "again.</p><p><code id=\"new-key\">%s</code> "
                            "<button type=\"button\" id=\"copy\" "
                            "data-copy=\"new-key\">Copy</button> <span "
                            "id=\"copied\"></span></p></div>\n"
                            "<p><a href=\"/console/\" id=\"done\">Done"
                            "</a></p>\n", (unsigned long long) k->id, c->key);
    }

    sodium_memzero(c->key, sizeof(c->key));
    sq_con_send(p, 201, b);
}


static void
sq_con_on_created(redisReply *reply, void *data)
{
    sq_pub_t  *p = data;
    sq_con_t  *c = p->console;

    if (sq_con_enter(p, reply) != 0) {
        goto done;
    }

    if (reply->elements != 2
        || sq_reply_id(reply->element[1], &c->k.id) != SQ_OK)
    {
        sq_con_error(p, 500, "Error", "Something went wrong on our side.");
        goto done;
    }

    sq_log(SQ_LOG_INFO, "console: key %llu created by user %llu",
           (unsigned long long) c->k.id, (unsigned long long) p->user_id);
    sq_con_key_once(p, "Key created", &c->k);

done:
    sodium_memzero(c->key, sizeof(c->key));
    sq_pub_finish(p);
}


/* the form as a POST /v1/keys body; NULL: no memory */
static char *
sq_con_create_body(sq_pub_t *p, char *err, size_t errlen)
{
    int           s;
    char          field[SQ_FORM_NAME_MAX + 1], *out;
    size_t        i, len;
    json_t       *o, *sc, *ws;
    const char   *v;
    sq_wslist_t   l;

    o = json_object();
    sc = json_array();
    ws = json_array();
    out = NULL;
    err[0] = '\0';

    if (o == NULL || sc == NULL || ws == NULL) {
        goto done;
    }

    for (s = 0; s < SQ_SCOPE_COUNT; s++) {
        snprintf(field, sizeof(field), "scope.%s",
                 sq_scope_name((sq_scope_t) s));
        if (sq_form_get(&p->form, field, NULL) != NULL) {
            json_array_append_new(sc, json_string(sq_scope_name(
                                                      (sq_scope_t) s)));
        }
    }

    v = sq_form_get(&p->form, "workspaces", &len);
    if (v != NULL && len > 0) {
        if (sq_wslist_parse(v, len, &l) != 0) {
            snprintf(err, errlen, "Workspaces must be distinct ids, "
                     "comma-separated.");
            goto done;
        }
        for (i = 0; i < l.n; i++) {
            json_array_append_new(ws, json_integer((json_int_t) l.ids[i]));
        }
        json_object_set(o, "workspaces", ws);
    }

    v = sq_form_get(&p->form, "name", NULL);
    json_object_set_new(o, "name", json_string(v != NULL ? v : ""));
    v = sq_form_get(&p->form, "mode", NULL);
    json_object_set_new(o, "mode", json_string(v != NULL ? v : ""));
    v = sq_form_get(&p->form, "type", NULL);
    json_object_set_new(o, "type", json_string(v != NULL ? v : ""));
    v = sq_form_get(&p->form, "purpose", NULL);
    if (v != NULL && v[0] != '\0') {
        json_object_set_new(o, "purpose", json_string(v));
    }
    v = sq_form_get(&p->form, "owner_id", NULL);
    if (v != NULL && v[0] != '\0') {
        if (sq_pub_id(v) == 0) {
            snprintf(err, errlen, "The owner must be a user id.");
            goto done;
        }
        json_object_set_new(o, "owner_id", json_integer((json_int_t)
                                                        sq_pub_id(v)));
    }
    json_object_set(o, "scopes", sc);

    out = json_dumps(o, JSON_COMPACT);

done:
    json_decref(o);
    json_decref(sc);
    json_decref(ws);

    return out;
}


void
sq_con_key_create(sq_pub_t *p)
{
    char          err[512], *body;
    sq_con_t     *c = p->console;
    sq_argv_t     a;
    sq_key_who_t  w;

    body = sq_con_create_body(p, err, sizeof(err));
    if (body == NULL) {
        if (err[0]) {
            sq_con_key_form(p, 400, err);
        } else {
            sq_con_error(p, 500, "Error", "Out of memory.");
        }
        return;
    }

    if (sq_key_parse_create(body, strlen(body), p->user_id, p->now, &c->k,
                            err, sizeof(err)) != 0)
    {
        free(body);
        sq_con_key_form(p, 400, err);
        return;
    }
    free(body);

    if (sq_key_fresh(p->ctx->pepper, &c->k, p->now, c->key, sizeof(c->key),
                     &c->t) != 0)
    {
        sq_con_error(p, 500, "Error", "No key could be made.");
        return;
    }

    sq_con_who(p, &w);
    sq_key_argv_create(&a, &w, &c->k, &c->t);
    if (sq_pub_send(p, &a, sq_con_on_created) != 0) {
        sodium_memzero(c->key, sizeof(c->key));
    }
}


/* ---- confirm, then act ---- */

static int
sq_con_verb_ok(const char *verb)
{
    return verb != NULL && (strcmp(verb, "disable") == 0
                            || strcmp(verb, "enable") == 0
                            || strcmp(verb, "rotate") == 0
                            || strcmp(verb, "delete") == 0);
}


static void
sq_con_on_confirm(redisReply *reply, void *data)
{
    size_t            i;
    sq_key_t          k;
    sq_pub_t         *p = data;
    sq_con_t         *c = p->console;
    struct evbuffer  *b;

    if (sq_con_enter(p, reply) != 0) {
        goto done;
    }

    if (reply->elements != 2
        || sq_key_entry(reply->element[1], c->kid, &k, NULL) != SQ_OK)
    {
        sq_con_error(p, 500, "Error", "Something went wrong on our side.");
        goto done;
    }

    b = sq_con_page(p, "Confirm", "keys");
    if (b == NULL) {
        goto done;
    }

    evbuffer_add_printf(b, "<p id=\"question\">%c%s the key <strong>",
                        c->verb[0] - 'a' + 'A', c->verb + 1);
    sq_pub_esc(b, k.name);
    evbuffer_add_printf(b, "</strong> (id %llu)?</p>",
                        (unsigned long long) k.id);

    if (strcmp(c->verb, "disable") == 0) {
        evbuffer_add_printf(b, "<p>Its next request at the edge is refused "
                            "(401) until it is enabled again.</p>");
    } else if (strcmp(c->verb, "delete") == 0) {
        evbuffer_add_printf(b, "<p>This cannot be undone.</p>");
    } else if (strcmp(c->verb, "rotate") == 0) {
        evbuffer_add_printf(b, "<p>A new key with the same settings is "
                            "made; the old one works until the grace "
                            "period ends.</p>");
    }

    evbuffer_add_printf(b, "<form method=\"post\" "
                        "action=\"/console/keys/%llu/%s\">",
                        (unsigned long long) k.id, c->verb);
    sq_con_csrf(p, b);

    if (strcmp(c->verb, "rotate") == 0) {
        evbuffer_add_printf(b, "<label for=\"grace\">Grace period</label>"
                            "<select id=\"grace\" name=\"grace\">");
        for (i = 0; i < sizeof(sq_con_graces) / sizeof(sq_con_graces[0]);
             i++)
        {
            evbuffer_add_printf(b, "<option value=\"%lld\"%s>%lld s"
                                "</option>", (long long) sq_con_graces[i],
                                i == 2 ? " selected" : "",
                                (long long) sq_con_graces[i]);
        }
        evbuffer_add_printf(b, "</select>");
    }

    evbuffer_add_printf(b, "<button type=\"submit\" id=\"confirm\" "
                        "class=\"danger\">Yes, %s</button> <a "
                        "href=\"/console/\" id=\"cancel\">Cancel</a></form>\n",
                        c->verb);
    sq_con_send(p, 200, b);

done:
    sq_pub_finish(p);
}


void
sq_con_key_confirm(sq_pub_t *p)
{
    sq_con_t      *c = p->console;
    sq_argv_t      a;
    sq_key_who_t   w;

    c->verb = sq_form_get(&p->form, "do", NULL);
    if (!sq_con_verb_ok(c->verb)) {
        sq_con_error(p, 400, "Bad request",
                     "do must be one of: disable, enable, rotate, delete.");
        return;
    }

    sq_con_who(p, &w);
    sq_key_argv_one(&a, &w, c->kid);
    sq_pub_send(p, &a, sq_con_on_confirm);
}


static void
sq_con_on_acted(redisReply *reply, void *data)
{
    char         loc[128];
    sq_key_t     k;
    sq_pub_t    *p = data;
    sq_con_t    *c = p->console;
    const char  *back;

    if (sq_con_enter(p, reply) != 0) {
        goto done;
    }

    if (strcmp(c->verb, "rotate") == 0) {
        if (reply->elements != 2
            || sq_key_entry(reply->element[1], 0, &k, NULL) != SQ_OK)
        {
            sq_con_error(p, 500, "Error", "Something went wrong on our "
                         "side.");
            goto done;
        }
        sq_log(SQ_LOG_INFO, "console: key %llu rotated to %llu by user "
               "%llu", (unsigned long long) c->kid,
               (unsigned long long) k.id, (unsigned long long) p->user_id);
        sq_con_key_once(p, "Key rotated", &k);
        goto done;
    }

    sq_log(SQ_LOG_INFO, "console: key %llu: %s by user %llu",
           (unsigned long long) c->kid, c->verb,
           (unsigned long long) p->user_id);
    back = sq_form_get(&p->form, "back", NULL);
    snprintf(loc, sizeof(loc), "/console/%s?done=%s&id=%llu",
             back != NULL && strcmp(back, "checklist") == 0 ? "checklist"
             : "", c->verb, (unsigned long long) c->kid);
    sq_pub_redirect(p, loc);

done:
    sodium_memzero(c->key, sizeof(c->key));
    sq_pub_finish(p);
}


static void
sq_con_on_rotate_read(redisReply *reply, void *data)
{
    char           ver[SQ_KEY_VER_LEN + 1];
    int64_t        grace;
    const char    *g;
    sq_pub_t      *p = data;
    sq_con_t      *c = p->console;
    sq_argv_t      a;
    sq_key_who_t   w;

    if (sq_con_enter(p, reply) != 0) {
        goto done;
    }

    if (reply->elements != 2
        || sq_key_entry(reply->element[1], c->kid, &c->k, ver) != SQ_OK)
    {
        sq_con_error(p, 500, "Error", "Something went wrong on our side.");
        goto done;
    }

    g = sq_form_get(&p->form, "grace", NULL);
    grace = g != NULL ? atoll(g) : 0;
    if (g == NULL || grace < 0 || grace > SQ_KEY_GRACE_MAX
        || strspn(g, "0123456789") != strlen(g))
    {
        sq_con_error(p, 400, "Bad request", "The grace period must be 0 to "
                     "2592000 seconds.");
        goto done;
    }

    if (sq_key_fresh(p->ctx->pepper, &c->k, p->now, c->key, sizeof(c->key),
                     &c->t) != 0)
    {
        sq_con_error(p, 500, "Error", "No key could be made.");
        goto done;
    }

    sq_con_who(p, &w);
    sq_key_argv_rotate(&a, &w, c->kid, &c->k, grace, &c->t, ver);
    if (sq_pub_send(p, &a, sq_con_on_acted) != 0) {
        sodium_memzero(c->key, sizeof(c->key));
    }

done:
    sq_pub_finish(p);
}


void
sq_con_key_act(sq_pub_t *p)
{
    sq_con_t      *c = p->console;
    sq_argv_t      a;
    sq_key_who_t   w;

    sq_con_who(p, &w);

    if (strcmp(c->verb, "rotate") == 0) {
        sq_key_argv_one(&a, &w, c->kid);
        sq_pub_send(p, &a, sq_con_on_rotate_read);
        return;
    }

    sq_key_argv_set(&a, &w, c->kid,
                    strcmp(c->verb, "disable") == 0 ? "disabled"
                    : strcmp(c->verb, "enable") == 0 ? "active" : "deleted",
                    "");
    sq_pub_send(p, &a, sq_con_on_acted);
}
