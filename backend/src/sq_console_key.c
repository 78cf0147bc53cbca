/*
 * sq_console_key: a key's page (its record, then its activity with the
 * filters and the summary), the monthly checklist (the review of the
 * user's keys, with one-click disable or notify), notify owner, the
 * key's owner and purpose (the Ownership form: sq_key_own, an owner
 * among sq_con_people's), and the user's notifications.  The reads are
 * keyops' (sq_store_activity.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "sq_console.h"
#include "sq_log.h"
#include "sq_store_activity.h"
#include "sq_text.h"

#define SQ_CON_NOTICE_DEF                                                    \
    "Please review this key: it was flagged by the monthly access-key "      \
    "checklist. Confirm you still need it, or it will be disabled."


/* a JSON value as text: strings as they are, null as "", else JSON */
static void
sq_con_jtext(struct evbuffer *b, const json_t *v)
{
    char  *s;

    if (v == NULL || json_is_null(v)) {
        return;
    }

    if (json_is_string(v)) {
        sq_pub_esc(b, json_string_value(v));
        return;
    }

    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s != NULL) {
        sq_pub_esc(b, s);
        free(s);
    }
}


/*
 * A time of a JSON reply in the console's one format (sq_con_time,
 * "YYYY-MM-DD HH:MM UTC", as on the keys list and a key's page): unix
 * seconds, or the API's "YYYY-MM-DDTHH:MM:SSZ"; null or absent is
 * "never"; anything else is shown as it came.
 */
static void
sq_con_jtime(struct evbuffer *b, const json_t *v)
{
    int64_t      t;
    const char  *s;

    if (json_is_integer(v)) {
        sq_con_time(b, json_integer_value(v));
        return;
    }

    if (json_is_string(v)) {
        s = json_string_value(v);
        if (sq_text_parse_utc(s, strlen(s), &t) == 0) {
            sq_con_time(b, t);
            return;
        }
    }

    if (v == NULL || json_is_null(v)) {
        evbuffer_add_printf(b, "never");
        return;
    }

    sq_con_jtext(b, v);
}


/* a JSON array of scalars as "a, b, c" */
static void
sq_con_jlist(struct evbuffer *b, const json_t *a)
{
    size_t   i;
    json_t  *v;

    if (!json_is_array(a) || json_array_size(a) == 0) {
        evbuffer_add_printf(b, "none");
        return;
    }

    json_array_foreach(a, i, v) {
        if (i > 0) {
            evbuffer_add_printf(b, ", ");
        }
        sq_con_jtext(b, v);
    }
}


static void
sq_con_finish(sq_pub_t *p)
{
    p->async = 0;
    sq_pub_finish(p);
}


/* the store's refusal as a page; 0 when rc is SQ_OK */
static int
sq_con_store_rc(sq_pub_t *p, sq_rc_t rc)
{
    switch (rc) {
    case SQ_OK:
        return 0;
    case SQ_ERR_NOTFOUND:
        sq_con_error(p, 404, "Not found", "No such key of yours.");
        break;
    case SQ_ERR_STATE:
        sq_con_error(p, 409, "No owner", "This key has no owner to notify: "
                     "set its owner first, or disable it.");
        break;
    case SQ_ERR_IO:
        evhttp_add_header(evhttp_request_get_output_headers(p->req),
                          "Retry-After", "1");
        sq_con_error(p, 503, "Unavailable", "The service is unavailable; "
                     "try again shortly.");
        break;
    default:
        sq_con_error(p, 500, "Error", "Something went wrong on our side.");
    }

    return -1;
}


/* ---- a key's page ---- */

static void
sq_con_summary(struct evbuffer *b, const json_t *s)
{
    const char  *code;
    json_t      *v;

    evbuffer_add_printf(b, "<h2>Summary</h2><div class=\"summary\" "
                        "id=\"summary\"><div>Entries <strong id=\"s-entries\">");
    sq_con_jtext(b, json_object_get(s, "entries"));
    evbuffer_add_printf(b, "</strong></div><div>Requests <strong "
                        "id=\"s-requests\">");
    sq_con_jtext(b, json_object_get(s, "requests"));
    evbuffer_add_printf(b, "</strong></div><div>Refused <strong "
                        "id=\"s-refused\">");
    sq_con_jtext(b, json_object_get(s, "refused"));
    evbuffer_add_printf(b, "</strong></div><div>IPs <span id=\"s-ips\">");
    sq_con_jlist(b, json_object_get(s, "ips"));
    evbuffer_add_printf(b, "</span></div><div>Routes <span id=\"s-routes\">");
    sq_con_jlist(b, json_object_get(s, "routes"));
    evbuffer_add_printf(b, "</span></div><div>Workspaces <span "
                        "id=\"s-workspaces\">");
    sq_con_jlist(b, json_object_get(s, "workspaces"));
    evbuffer_add_printf(b, "</span></div><div>Refusals by code <span "
                        "id=\"s-codes\">");

    v = json_object_get(s, "refusals_by_code");
    if (!json_is_object(v) || json_object_size(v) == 0) {
        evbuffer_add_printf(b, "none");
    } else {
        const char  *sep = "";
        json_t      *n;

        json_object_foreach(v, code, n) {
            evbuffer_add_printf(b, "%s", sep);
            sq_pub_esc(b, code);
            evbuffer_add_printf(b, ": ");
            sq_con_jtext(b, n);
            sep = ", ";
        }
    }

    evbuffer_add_printf(b, "</span></div></div>\n");
}


static void
sq_con_filters(sq_pub_t *p, struct evbuffer *b, const sq_act_query_t *q)
{
    sq_con_t  *c = p->console;

    evbuffer_add_printf(b, "<form method=\"get\" action=\"/console/keys/%llu\" "
                        "id=\"filters\"><label for=\"outcome\">Outcome"
                        "</label><select id=\"outcome\" name=\"outcome\">"
                        "<option value=\"\">all</option>"
                        "<option value=\"refused\"%s>refused</option>"
                        "<option value=\"allowed\"%s>allowed</option>"
                        "</select><label for=\"workspace_id\">Workspace id"
                        "</label><input id=\"workspace_id\" "
                        "name=\"workspace_id\" value=\"",
                        (unsigned long long) c->kid,
                        q->outcome == SQ_ACT_REFUSED ? " selected" : "",
                        q->outcome == SQ_ACT_ALLOWED ? " selected" : "");
    if (q->wid != 0) {
        evbuffer_add_printf(b, "%llu", (unsigned long long) q->wid);
    }
    evbuffer_add_printf(b, "\"><button type=\"submit\" id=\"filter\">Filter"
                        "</button></form>\n");
}


/* the Ownership form: an owner among c->people, the purpose */
static void
sq_con_own_form(sq_pub_t *p, struct evbuffer *b)
{
    size_t       i;
    json_t      *o;
    sq_con_t    *c = p->console;
    const char  *id;

    evbuffer_add_printf(b, "<h2>Ownership</h2><form method=\"post\" "
                        "action=\"/console/keys/%llu/own\" id=\"own-form\">",
                        (unsigned long long) c->kid);
    sq_con_csrf(p, b);
    evbuffer_add_printf(b, "<label for=\"owner_id\">Owner</label>"
                        "<select id=\"owner_id\" name=\"owner_id\">");
    if (c->rows[0].owner[0] == '\0') {
        evbuffer_add_printf(b, "<option value=\"\" selected>(no owner: "
                            "choose one)</option>");
    }

    json_array_foreach(c->people, i, o) {
        id = json_string_value(json_object_get(o, "id"));
        evbuffer_add_printf(b, "<option value=\"");
        sq_pub_esc(b, id);
        evbuffer_add_printf(b, "\"%s>", strcmp(id, c->rows[0].owner) == 0
                                        ? " selected" : "");
        sq_pub_esc(b, json_string_value(json_object_get(o, "name")));
        evbuffer_add_printf(b, " &lt;");
        sq_pub_esc(b, json_string_value(json_object_get(o, "email")));
        evbuffer_add_printf(b, "&gt;</option>");
    }

    evbuffer_add_printf(b, "</select><label for=\"purpose\">Purpose"
                        "</label><input id=\"purpose\" name=\"purpose\" "
                        "maxlength=\"%d\" value=\"", SQ_PURPOSE_MAX);
    sq_pub_esc(b, c->rows[0].purpose);
    evbuffer_add_printf(b, "\"><button type=\"submit\" id=\"own\">Save "
                        "ownership</button></form>\n");
}


static void
sq_con_on_activity(sq_rc_t rc, json_t *data, void *arg)
{
    size_t            i;
    json_t           *e, *arr, *next;
    sq_pub_t         *p = arg;
    sq_con_t         *c = p->console;
    struct evbuffer  *b;
    sq_act_query_t    q;

    if (sq_con_store_rc(p, rc) != 0) {
        goto done;
    }

    b = sq_con_page(p, "Key activity", "keys");
    if (b == NULL) {
        goto done;
    }

    if (sq_form_get(&p->form, "notified", NULL) != NULL) {
        evbuffer_add_printf(b, "<p class=\"flash\" id=\"flash\">The "
                            "owner was notified.</p>\n");
    }
    if (sq_form_get(&p->form, "owned", NULL) != NULL) {
        evbuffer_add_printf(b, "<p class=\"flash\" id=\"flash\">The "
                            "owner and purpose were saved.</p>\n");
    }

    evbuffer_add_printf(b, "<div class=\"box\" id=\"key\"><p><strong>");
    sq_pub_esc(b, c->k.name);
    evbuffer_add_printf(b, "</strong> id %llu, status <span id=\"status\">"
                        "%s</span>, created ", (unsigned long long) c->k.id,
                        sq_key_status(&c->k, p->now));
    sq_con_time(b, c->k.created_at);
    evbuffer_add_printf(b, ", last used ");
    sq_con_time(b, c->k.last_used_at);
    if (c->k.last_used_ip[0]) {
        evbuffer_add_printf(b, " from ");
        sq_pub_esc(b, c->k.last_used_ip);
    }
    evbuffer_add_printf(b, ".</p><p>Owner: <span id=\"owner\">");
    sq_con_owner(p, b, c->rows[0].owner);
    evbuffer_add_printf(b, "</span>. Purpose: <span id=\"purpose-now\">");
    sq_pub_esc(b, c->rows[0].purpose);
    evbuffer_add_printf(b, "</span></p><p>");
    evbuffer_add_printf(b, "<a class=\"act\" id=\"%s-%llu\" "
                        "href=\"/console/keys/%llu/confirm?do=%s\">%s</a> ",
                        strcmp(c->k.status, "disabled") == 0 ? "enable"
                                                              : "disable",
                        (unsigned long long) c->kid,
                        (unsigned long long) c->kid,
                        strcmp(c->k.status, "disabled") == 0 ? "enable"
                                                              : "disable",
                        strcmp(c->k.status, "disabled") == 0 ? "enable"
                                                              : "disable");
    if (c->k.rotated_at == 0) {
        evbuffer_add_printf(b, "<a class=\"act\" href=\"/console/keys/%llu/"
                            "confirm?do=rotate\">rotate</a> ",
                            (unsigned long long) c->kid);
    }
    evbuffer_add_printf(b, "<a class=\"act\" href=\"/console/keys/%llu/"
                        "confirm?do=delete\">delete</a></p></div>\n",
                        (unsigned long long) c->kid);

    memset(&q, 0, sizeof(q));
    {
        const char  *o = sq_form_get(&p->form, "outcome", NULL);
        const char  *w = sq_form_get(&p->form, "workspace_id", NULL);

        q.outcome = o == NULL ? SQ_ACT_ANY
                    : strcmp(o, "refused") == 0 ? SQ_ACT_REFUSED
                    : strcmp(o, "allowed") == 0 ? SQ_ACT_ALLOWED : SQ_ACT_ANY;
        q.wid = w != NULL ? sq_pub_id(w) : 0;
    }
    sq_con_filters(p, b, &q);
    sq_con_summary(b, json_object_get(data, "summary"));

    evbuffer_add_printf(b, "<h2>Activity, newest first</h2>"
                        "<table id=\"activity\"><thead><tr><th>Time</th>"
                        "<th>IP</th><th>Method</th><th>Route</th>"
                        "<th>Workspace</th><th>Status</th><th>Refusal</th>"
                        "<th>Count</th></tr></thead><tbody>\n");

    arr = json_object_get(data, "data");
    json_array_foreach(arr, i, e) {
        json_t  *code = json_object_get(e, "code");

        evbuffer_add_printf(b, "<tr class=\"%s\"><td>",
                            json_is_string(code) ? "refused" : "allowed");
        sq_con_time(b, json_integer_value(json_object_get(e, "time")));
        evbuffer_add_printf(b, "</td><td>");
        sq_con_jtext(b, json_object_get(e, "ip"));
        evbuffer_add_printf(b, "</td><td>");
        sq_con_jtext(b, json_object_get(e, "method"));
        evbuffer_add_printf(b, "</td><td>");
        sq_con_jtext(b, json_object_get(e, "route"));
        evbuffer_add_printf(b, "</td><td>");
        sq_con_jtext(b, json_object_get(e, "workspace_id"));
        evbuffer_add_printf(b, "</td><td class=\"code\">");
        sq_con_jtext(b, json_object_get(e, "status"));
        evbuffer_add_printf(b, "</td><td>");
        sq_con_jtext(b, code);
        evbuffer_add_printf(b, "</td><td>");
        sq_con_jtext(b, json_object_get(e, "count"));
        evbuffer_add_printf(b, "</td></tr>\n");
    }

    sq_con_table_end(b, json_array_size(arr), "no-activity",
                     "No activity recorded in this window.");

    next = json_object_get(data, "next_cursor");
    if (json_is_string(next)) {
        evbuffer_add_printf(b, "<p><a id=\"older\" href=\"/console/keys/%llu"
                            "?outcome=%s&amp;cursor=",
                            (unsigned long long) c->kid,
                            q.outcome == SQ_ACT_REFUSED ? "refused"
                            : q.outcome == SQ_ACT_ALLOWED ? "allowed" : "");
        sq_pub_urlenc(b, json_string_value(next));
        if (q.wid != 0) {
            evbuffer_add_printf(b, "&amp;workspace_id=%llu",
                                (unsigned long long) q.wid);
        }
        evbuffer_add_printf(b, "\">Older</a></p>\n");
    }

    sq_con_own_form(p, b);

    evbuffer_add_printf(b, "<h2>Notify the owner</h2><form method=\"post\" "
                        "action=\"/console/keys/%llu/notify\" "
                        "id=\"notify-form\">", (unsigned long long) c->kid);
    sq_con_csrf(p, b);
    evbuffer_add_printf(b, "<label for=\"message\">Message</label>"
                        "<textarea id=\"message\" name=\"message\" rows=\"3\" "
                        "maxlength=\"1000\">Suspected leak of this key: it "
                        "was disabled; check the activity above."
                        "</textarea><button type=\"submit\" id=\"notify\">"
                        "Notify owner</button></form>\n");

    sq_con_send(p, 200, b);

done:
    sq_con_finish(p);
}


static int
sq_con_act_query(sq_pub_t *p, sq_act_query_t *q)
{
    size_t       len;
    const char  *v;

    memset(q, 0, sizeof(*q));

    v = sq_form_get(&p->form, "outcome", NULL);
    if (v != NULL && v[0] != '\0') {
        if (strcmp(v, "refused") == 0) {
            q->outcome = SQ_ACT_REFUSED;
        } else if (strcmp(v, "allowed") == 0) {
            q->outcome = SQ_ACT_ALLOWED;
        } else {
            return -1;
        }
    }

    v = sq_form_get(&p->form, "workspace_id", NULL);
    if (v != NULL && v[0] != '\0' && (q->wid = sq_pub_id(v)) == 0) {
        return -1;
    }

    v = sq_form_get(&p->form, "since", &len);
    if (v != NULL && len > 0 && sq_act_time_parse(v, len, &q->since) != 0) {
        return -1;
    }

    v = sq_form_get(&p->form, "until", &len);
    if (v != NULL && len > 0 && sq_act_time_parse(v, len, &q->until) != 0) {
        return -1;
    }

    v = sq_form_get(&p->form, "cursor", &len);
    if (v != NULL && len > 0) {
        if (len > SQ_ACT_CURSOR_MAX || strspn(v, "0123456789-") != len) {
            return -1;
        }
        memcpy(q->cursor, v, len + 1);
    }

    return 0;
}


static void sq_con_on_people(redisReply *reply, void *data);


static void
sq_con_on_key(redisReply *reply, void *data)
{
    sq_pub_t       *p = data;
    sq_con_t       *c = p->console;
    const char     *v;
    sq_act_query_t  q;

    if (sq_con_enter(p, reply) != 0) {
        goto done;
    }

    if (reply->elements != 2
        || sq_key_entry(reply->element[1], c->kid, &c->k, NULL) != SQ_OK
        || (c->rows = calloc(1, sizeof(*c->rows))) == NULL)
    {
        sq_con_error(p, 500, "Error", "Something went wrong on our side.");
        goto done;
    }

    v = sq_con_field(reply->element[1]->element[1], "owner_id");
    if (v != NULL && strlen(v) <= SQ_CON_OWNER_MAX) {
        memcpy(c->rows[0].owner, v, strlen(v) + 1);
    }
    v = sq_con_field(reply->element[1]->element[1], "purpose");
    if (v != NULL && strlen(v) <= SQ_CON_PURPOSE_MAX) {
        memcpy(c->rows[0].purpose, v, strlen(v) + 1);
    }

    if (sq_con_act_query(p, &q) != 0) {
        sq_con_error(p, 400, "Bad request", "The filters are not valid: "
                     "outcome is allowed or refused, workspace_id an id.");
        goto done;
    }

    sq_con_people_send(p, sq_con_on_people);

done:
    sq_pub_finish(p);
}


/* the owners to offer came: the activity next */
static void
sq_con_on_people(redisReply *reply, void *data)
{
    sq_pub_t       *p = data;
    sq_con_t       *c = p->console;
    sq_key_who_t    w;
    sq_act_query_t  q;

    if (sq_con_people_take(p, reply) != 0) {
        goto done;
    }

    if (sq_con_act_query(p, &q) != 0) {
        sq_con_error(p, 400, "Bad request", "The filters are not valid.");
        goto done;
    }

    sq_con_who(p, &w);
    if (sq_store_key_activity(&p->ctx->aredis, &w, c->kid, &q,
                              sq_con_on_activity, p) != 0)
    {
        sq_con_store_rc(p, SQ_ERR_IO);
        goto done;
    }

    p->async = 1;

done:
    sq_pub_finish(p);
}


void
sq_con_key_page(sq_pub_t *p)
{
    sq_con_t      *c = p->console;
    sq_argv_t      a;
    sq_key_who_t   w;

    sq_con_who(p, &w);
    sq_key_argv_one(&a, &w, c->kid);
    sq_pub_send(p, &a, sq_con_on_key);
}


/* ---- the checklist ---- */

static void
sq_con_check_keys(sq_pub_t *p, struct evbuffer *b, const char *id,
    const json_t *list, int rotate)
{
    size_t   i;
    json_t  *k, *v;

    if (!json_is_array(list) || json_array_size(list) == 0) {
        evbuffer_add_printf(b, "<p class=\"ok\" id=\"%s-none\">None.</p>\n",
                            id);
        return;
    }

    evbuffer_add_printf(b, "<table id=\"%s\"><thead><tr><th>Name</th>"
                        "<th>Key</th><th>Owner</th><th>Purpose</th>"
                        "<th>Created</th><th>Last used</th><th>Status</th>"
                        "<th></th></tr></thead><tbody>\n", id);

    json_array_foreach(list, i, k) {
        json_int_t  kid = json_integer_value(json_object_get(k, "id"));

        evbuffer_add_printf(b, "<tr id=\"%s-%lld\"><td><a "
                            "href=\"/console/keys/%lld\">", id,
                            (long long) kid, (long long) kid);
        sq_con_jtext(b, json_object_get(k, "name"));
        evbuffer_add_printf(b, "</a></td><td><code>");
        sq_con_jtext(b, json_object_get(k, "masked"));
        evbuffer_add_printf(b, "</code></td><td>");
        v = json_object_get(k, "owner_id");
        if (json_is_integer(v)) {
            char  owner[24];

            snprintf(owner, sizeof(owner), "%lld",
                     (long long) json_integer_value(v));
            sq_con_owner(p, b, owner);
        } else if (json_is_string(v)) {
            sq_con_owner(p, b, json_string_value(v));
        } else {
            sq_con_owner(p, b, NULL);
        }
        evbuffer_add_printf(b, "</td><td>");
        sq_con_jtext(b, json_object_get(k, "purpose"));
        evbuffer_add_printf(b, "</td><td>");
        sq_con_jtime(b, json_object_get(k, "created_at"));
        evbuffer_add_printf(b, "</td><td>");
        sq_con_jtime(b, json_object_get(k, "last_used_at"));
        evbuffer_add_printf(b, "</td><td>");
        sq_con_jtext(b, json_object_get(k, "status"));
        evbuffer_add_printf(b, "</td><td><form method=\"post\" "
                            "action=\"/console/keys/%lld/disable\">",
                            (long long) kid);
        sq_con_csrf(p, b);
        evbuffer_add_printf(b, "<input type=\"hidden\" name=\"back\" "
                            "value=\"checklist\"><button type=\"submit\" "
                            "class=\"danger\" id=\"%s-disable-%lld\">Disable"
                            "</button></form><form method=\"post\" "
                            "action=\"/console/keys/%lld/notify\">", id,
                            (long long) kid, (long long) kid);
        sq_con_csrf(p, b);
        evbuffer_add_printf(b, "<input type=\"hidden\" name=\"message\" "
                            "value=\"" SQ_CON_NOTICE_DEF "\"><button "
                            "type=\"submit\" id=\"%s-notify-%lld\">Notify "
                            "owner</button></form>", id, (long long) kid);
        if (rotate) {
            evbuffer_add_printf(b, "<a class=\"act\" href=\"/console/keys/"
                                "%lld/confirm?do=rotate\">rotate</a>",
                                (long long) kid);
        }
        evbuffer_add_printf(b, "</td></tr>\n");
    }

    evbuffer_add_printf(b, "</tbody></table>\n");
}


static void
sq_con_on_review(sq_rc_t rc, json_t *data, void *arg)
{
    sq_pub_t         *p = arg;
    struct evbuffer  *b;

    if (sq_con_store_rc(p, rc) != 0) {
        goto done;
    }

    b = sq_con_page(p, "Monthly access-key checklist", "checklist");
    if (b == NULL) {
        goto done;
    }

    evbuffer_add_printf(b, "<section class=\"check\"><h2>1. Review all "
                        "active keys and owners</h2><p>Every key with its "
                        "owner, purpose and last use is on the <a "
                        "href=\"/console/\">keys page</a>.</p></section>\n"
                        "<section class=\"check\"><h2>2. Disable keys with "
                        "unknown ownership</h2>");
    sq_con_check_keys(p, b, "no-owner", json_object_get(data, "no_owner"),
                      0);
    evbuffer_add_printf(b, "<h3>Stale keys: unused for %d days</h3>",
                        SQ_REVIEW_UNUSED_DEF);
    sq_con_check_keys(p, b, "unused", json_object_get(data, "unused"), 0);
    evbuffer_add_printf(b, "</section>\n<section class=\"check\"><h2>3. "
                        "Validate key scopes: keys holding every scope</h2>");
    sq_con_check_keys(p, b, "broad", json_object_get(data, "broad"), 0);
    evbuffer_add_printf(b, "</section>\n<section class=\"check\"><h2>4. "
                        "Rotate aging credentials: older than %d days, "
                        "never rotated</h2>", SQ_REVIEW_AGE_DEF);
    sq_con_check_keys(p, b, "aging", json_object_get(data, "aging"), 1);
    evbuffer_add_printf(b, "</section>\n<section class=\"check\"><h2>5. "
                        "Re-test critical integrations after rotation</h2>"
                        "<p>With a test key, in the <a "
                        "href=\"/console/playground\">playground</a>.</p>"
                        "</section>\n");

    sq_con_send(p, 200, b);

done:
    sq_con_finish(p);
}


/* the owners' names came: the review next */
static void
sq_con_on_check_people(redisReply *reply, void *data)
{
    sq_pub_t      *p = data;
    sq_key_who_t   w;

    if (sq_con_people_take(p, reply) != 0) {
        goto done;
    }

    sq_con_who(p, &w);
    if (sq_store_key_review(&p->ctx->aredis, &w, p->now, 0, 0,
                            sq_con_on_review, p) != 0)
    {
        sq_con_store_rc(p, SQ_ERR_IO);
        goto done;
    }

    p->async = 1;

done:
    sq_pub_finish(p);
}


/* the checklist: the owners' names (sq_con_people), then the review */
void
sq_con_checklist(sq_pub_t *p)
{
    sq_con_people_send(p, sq_con_on_check_people);
}


/* ---- notify, notifications ---- */

static void
sq_con_on_notified(sq_rc_t rc, json_t *data, void *arg)
{
    char       loc[128];
    sq_pub_t  *p = arg;
    sq_con_t  *c = p->console;

    (void) data;

    if (sq_con_store_rc(p, rc) == 0) {
        sq_log(SQ_LOG_INFO, "console: user %llu notified the owner of key "
               "%llu", (unsigned long long) p->user_id,
               (unsigned long long) c->kid);
        snprintf(loc, sizeof(loc), "/console/keys/%llu?notified=1",
                 (unsigned long long) c->kid);
        sq_pub_redirect(p, loc);
    }

    sq_con_finish(p);
}


void
sq_con_notify(sq_pub_t *p)
{
    size_t         len;
    sq_con_t      *c = p->console;
    const char    *m;
    sq_key_who_t   w;

    m = sq_form_get(&p->form, "message", &len);
    if (m == NULL || len == 0 || len > SQ_NOTICE_MAX) {
        sq_con_error(p, 400, "Bad request", "The message must be 1 to 1000 "
                     "bytes.");
        return;
    }

    sq_con_who(p, &w);
    if (sq_store_notify_owner(&p->ctx->aredis, &w, c->kid, m, p->now,
                              sq_con_on_notified, p) != 0)
    {
        sq_con_store_rc(p, SQ_ERR_IO);
        return;
    }

    p->async = 1;
}


/* ---- ownership ---- */

static void
sq_con_on_owned(redisReply *reply, void *data)
{
    char       loc[128];
    sq_pub_t  *p = data;
    sq_con_t  *c = p->console;

    if (sq_con_enter(p, reply) == 0) {
        sq_log(SQ_LOG_INFO, "console: user %llu set the owner/purpose of "
               "key %llu", (unsigned long long) p->user_id,
               (unsigned long long) c->kid);
        snprintf(loc, sizeof(loc), "/console/keys/%llu?owned=1",
                 (unsigned long long) c->kid);
        sq_pub_redirect(p, loc);
    }

    sq_pub_finish(p);
}


void
sq_con_key_own(sq_pub_t *p)
{
    size_t         len;
    uint64_t       owner;
    sq_con_t      *c = p->console;
    sq_argv_t      a;
    const char    *v, *purpose;
    sq_key_who_t   w;

    owner = 0;
    v = sq_form_get(&p->form, "owner_id", &len);
    if (v != NULL && len > 0 && (owner = sq_pub_id(v)) == 0) {
        sq_con_error(p, 400, "Bad request", "The owner must be a user id.");
        return;
    }

    purpose = sq_form_get(&p->form, "purpose", &len);
    if (purpose != NULL
        && (len > SQ_PURPOSE_MAX
            || sq_text_check_ex(purpose, len, 0, SQ_PURPOSE_MAX, 0) != 0))
    {
        sq_con_error(p, 400, "Bad request", "The purpose must be at most "
                     "200 bytes, without control characters.");
        return;
    }

    if (owner == 0 && purpose == NULL) {
        sq_con_error(p, 400, "Bad request", "Give an owner, a purpose or "
                     "both.");
        return;
    }

    sq_con_who(p, &w);
    sq_own_argv(&a, &w, c->kid, owner, purpose);
    sq_pub_send(p, &a, sq_con_on_owned);
}


static void
sq_con_on_notices(sq_rc_t rc, json_t *data, void *arg)
{
    size_t            i;
    json_t           *n;
    sq_pub_t         *p = arg;
    struct evbuffer  *b;

    if (sq_con_store_rc(p, rc) != 0) {
        goto done;
    }

    b = sq_con_page(p, "Notifications", "notifications");
    if (b == NULL) {
        goto done;
    }

    evbuffer_add_printf(b, "<table id=\"notices\"><thead><tr><th>Time</th>"
                        "<th>Key</th><th>From user</th><th>Message</th>"
                        "</tr></thead><tbody>\n");

    json_array_foreach(data, i, n) {
        evbuffer_add_printf(b, "<tr><td>");
        sq_con_time(b, json_integer_value(json_object_get(n, "time")));
        evbuffer_add_printf(b, "</td><td><a href=\"/console/keys/%lld\">",
                            (long long) json_integer_value(
                                json_object_get(n, "key_id")));
        sq_con_jtext(b, json_object_get(n, "key_id"));
        evbuffer_add_printf(b, "</a></td><td>");
        sq_con_jtext(b, json_object_get(n, "from_user_id"));
        evbuffer_add_printf(b, "</td><td>");
        sq_con_jtext(b, json_object_get(n, "message"));
        evbuffer_add_printf(b, "</td></tr>\n");
    }

    sq_con_table_end(b, json_array_size(data), "no-notices",
                     "No notifications.");

    sq_con_send(p, 200, b);

done:
    sq_con_finish(p);
}


void
sq_con_notifications(sq_pub_t *p)
{
    sq_key_who_t  w;

    sq_con_who(p, &w);
    if (sq_store_notifications(&p->ctx->aredis, &w, SQ_NOTICES_DEF,
                               sq_con_on_notices, p) != 0)
    {
        sq_con_store_rc(p, SQ_ERR_IO);
        return;
    }

    p->async = 1;
}
