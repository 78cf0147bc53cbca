/*
 * sq_console_apps: the user's API Applications (issue 14) across the
 * workspaces they manage: redirect URIs, scopes, the secret's last 4,
 * the approved / denied / error authorize outcomes with the latest few,
 * and secret rotation (confirmed; the new secret shown once).  The calls
 * are those of /v1/apps (sq_store_app.h) as the session's user.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "sq_console.h"
#include "sq_log.h"
#include "sq_store_app.h"

#define SQ_CON_APPS_MAX     50
#define SQ_CON_OUTCOMES     5


static void
sq_con_apps_render(sq_pub_t *p)
{
    char              s[SQ_SCOPES_TEXT_MAX + 1];
    size_t            i, j;
    sq_con_t         *c = p->console;
    sq_app_t         *app;
    sq_con_app_row_t *row;
    struct evbuffer  *b;

    b = sq_con_page(p, "API applications", "apps");
    if (b == NULL) {
        return;
    }

    evbuffer_add_printf(b, "<table id=\"apps\"><thead><tr><th>Name</th>"
                        "<th>Workspace</th><th>Client id</th><th>Type</th>"
                        "<th>Status</th><th>Redirect URIs</th><th>Scopes</th>"
                        "<th>Secret</th><th>Approved</th><th>Denied</th>"
                        "<th>Errors</th><th>Latest outcomes</th><th></th>"
                        "</tr></thead><tbody>\n");

    for (i = 0; i < c->n; i++) {
        app = &c->apps[i];
        row = &c->app_rows[i];

        evbuffer_add_printf(b, "<tr id=\"app-%llu\"><td>",
                            (unsigned long long) app->id);
        sq_pub_esc(b, app->name);
        evbuffer_add_printf(b, "</td><td>%llu</td><td><code>",
                            (unsigned long long) app->workspace_id);
        sq_pub_esc(b, app->client_id);
        evbuffer_add_printf(b, "</code></td><td>%s</td><td>",
                            sq_app_type_name(app->type));
        sq_pub_esc(b, app->status);
        evbuffer_add_printf(b, "</td><td class=\"uris\">");
        {
            const char  *u = app->uris, *nl;
            char         one[SQ_APP_URIS_TEXT_MAX + 1];
            size_t       len;

            while (*u != '\0') {
                nl = strchr(u, '\n');
                len = nl != NULL ? (size_t) (nl - u) : strlen(u);
                memcpy(one, u, len);
                one[len] = '\0';
                evbuffer_add_printf(b, "<code>");
                sq_pub_esc(b, one);
                evbuffer_add_printf(b, "</code><br>");
                u += len + (nl != NULL);
            }
        }
        if (sq_scopes_format(app->scopes, s, sizeof(s)) != 0) {
            s[0] = '\0';
        }
        evbuffer_add_printf(b, "</td><td>");
        sq_pub_esc(b, s);
        evbuffer_add_printf(b, "</td><td>");
        if (app->secret_last4[0]) {
            evbuffer_add_printf(b, "<code>sqs_…");
            sq_pub_esc(b, app->secret_last4);
            evbuffer_add_printf(b, "</code>");
        } else {
            evbuffer_add_printf(b, "none (public)");
        }

        if (!row->ok) {
            evbuffer_add_printf(b, "</td><td colspan=\"4\">-</td>");
        } else {
            evbuffer_add_printf(b, "</td><td class=\"approved\">%lld</td>"
                                "<td class=\"denied\">%lld</td><td>%lld</td>"
                                "<td>", (long long) row->c.approved,
                                (long long) row->c.denied,
                                (long long) row->c.error);
            for (j = 0; j < row->n; j++) {
                sq_con_time(b, row->o[j].at);
                evbuffer_add_printf(b, " ");
                sq_pub_esc(b, row->o[j].outcome);
                if (row->o[j].reason[0]) {
                    evbuffer_add_printf(b, " (");
                    sq_pub_esc(b, row->o[j].reason);
                    evbuffer_add_printf(b, ")");
                }
                evbuffer_add_printf(b, "<br>");
            }
            evbuffer_add_printf(b, "</td>");
        }

        evbuffer_add_printf(b, "<td>");
        if (app->type != SQ_APP_PUBLIC && strcmp(app->status, "active") == 0)
        {
            evbuffer_add_printf(b, "<a class=\"act\" id=\"rotate-app-%llu\" "
                                "href=\"/console/apps/%llu/confirm\">rotate "
                                "secret</a>", (unsigned long long) app->id,
                                (unsigned long long) app->id);
        }
        evbuffer_add_printf(b, "</td></tr>\n");
    }

    sq_con_table_end(b, c->n, "no-apps", "No application in the "
                     "workspaces you manage.");

    sq_con_send(p, 200, b);
}


static void
sq_con_on_outcomes(redisReply *reply, void *data)
{
    size_t             i;
    sq_pub_t          *p = data;
    sq_con_t          *c = p->console;
    sq_con_app_row_t  *row;

    i = sq_con_fan_in(p);
    row = &c->app_rows[i];

    if (reply != NULL && reply->type == REDIS_REPLY_ARRAY
        && sq_app_reply_rc(reply) == SQ_OK
        && sq_app_outcomes_parse(reply, &row->c, row->o, SQ_CON_OUTCOMES,
                                 &row->n) == SQ_OK)
    {
        row->ok = 1;
    }

    sq_con_fan_end(p, sq_con_apps_render);
}


static void
sq_con_on_apps(redisReply *reply, void *data)
{
    void          *items;
    size_t         i, sent;
    uint64_t       next;
    sq_pub_t      *p = data;
    sq_con_t      *c = p->console;
    sq_argv_t      a;
    sq_key_who_t   w;

    if (sq_pub_enter(p, reply) != 0) {
        goto done;
    }

    items = NULL;
    if (sq_app_reply_rc(reply) != SQ_OK
        || sq_app_page_parse(reply, SQ_CON_APPS_MAX, 0, &items, &c->n, &next)
           != SQ_OK)
    {
        sq_con_error(p, 500, "Error", "Something went wrong on our side.");
        goto done;
    }

    c->apps = items;
    if (c->n == 0) {
        sq_con_apps_render(p);
        goto done;
    }

    c->app_rows = calloc(c->n, sizeof(*c->app_rows));
    if (c->app_rows == NULL) {
        sq_con_error(p, 500, "Error", "Out of memory.");
        goto done;
    }

    sq_con_who(p, &w);
    sent = 0;
    for (i = 0; i < c->n; i++) {
        sq_app_argv_outcomes(&a, &w, c->apps[i].id, SQ_CON_OUTCOMES);
        if (sq_pub_send_quiet(p, &a, sq_con_on_outcomes) != 0) {
            break;
        }
        sent++;
    }

    if (sq_con_fan_sent(p, sent) != 0) {
        sq_con_apps_render(p);
    }

done:
    sq_pub_finish(p);
}


void
sq_con_apps(sq_pub_t *p)
{
    sq_argv_t     a;
    sq_key_who_t  w;

    sq_con_who(p, &w);
    sq_app_argv_page(&a, &w, 0, 0, SQ_CON_APPS_MAX);
    sq_pub_send(p, &a, sq_con_on_apps);
}


void
sq_con_app_confirm(sq_pub_t *p)
{
    sq_con_t         *c = p->console;
    struct evbuffer  *b;

    b = sq_con_page(p, "Rotate the client secret", "apps");
    if (b == NULL) {
        return;
    }

    evbuffer_add_printf(b, "<p id=\"question\">Rotate the client secret of "
                        "application %llu? The new secret is shown once; "
                        "the old one keeps working for the grace period."
                        "</p><form method=\"post\" "
                        "action=\"/console/apps/%llu/rotate\">",
                        (unsigned long long) c->kid,
                        (unsigned long long) c->kid);
    sq_con_csrf(p, b);
    evbuffer_add_printf(b, "<label for=\"grace\">Grace period</label>"
                        "<select id=\"grace\" name=\"grace\">"
                        "<option value=\"0\">0 s</option>"
                        "<option value=\"3600\" selected>3600 s</option>"
                        "<option value=\"86400\">86400 s</option></select>"
                        "<button type=\"submit\" id=\"confirm\" "
                        "class=\"danger\">Yes, rotate</button> <a "
                        "href=\"/console/apps\" id=\"cancel\">Cancel</a>"
                        "</form>\n");
    sq_con_send(p, 200, b);
}


static void
sq_con_on_app_rotated(redisReply *reply, void *data)
{
    sq_app_t          app;
    sq_pub_t         *p = data;
    sq_con_t         *c = p->console;
    struct evbuffer  *b;

    if (sq_pub_enter(p, reply) != 0) {
        goto done;
    }

    switch (sq_app_reply_rc(reply)) {
    case SQ_OK:
        break;
    case SQ_ERR_NOTFOUND:
    case SQ_ERR_INVALID:
        sq_con_error(p, 404, "Not found", "No such application of yours.");
        goto done;
    default:
        sq_con_error(p, 409, "Refused", "This application's secret cannot "
                     "be rotated (a public client, or not active).");
        goto done;
    }

    if (reply->elements < 2 || sq_app_entry(reply->element[1], &app) != SQ_OK)
    {
        sq_con_error(p, 500, "Error", "Something went wrong on our side.");
        goto done;
    }

    sq_log(SQ_LOG_INFO, "console: app %llu: secret rotated by user %llu",
           (unsigned long long) app.id, (unsigned long long) p->user_id);

    b = sq_con_begin(p, "Client secret rotated", "apps");
    if (b != NULL) {
        evbuffer_add_printf(b, "<div class=\"once\"><p>The new client "
                            "secret of <strong>");
        sq_pub_esc(b, app.name);
        evbuffer_add_printf(b, "</strong>. Copy it now: <strong>it is shown "
                            "only this once</strong>.</p><p><code "
                            "id=\"new-key\">%s</code> <button type=\"button\" "
                            "id=\"copy\" data-copy=\"new-key\">Copy</button> "
                            "<span id=\"copied\"></span></p></div>\n<p><a "
                            "href=\"/console/apps\" id=\"done\">Done</a></p>\n",
                            c->key);
    }
    sq_con_send(p, 200, b);

done:
    sodium_memzero(c->key, sizeof(c->key));
    sq_pub_finish(p);
}


void
sq_con_app_rotate(sq_pub_t *p)
{
    int64_t         grace;
    const char     *g;
    sq_con_t       *c = p->console;
    sq_app_t        app;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_app_text_t   t;

    g = sq_form_get(&p->form, "grace", NULL);
    grace = g != NULL ? atoll(g) : -1;
    if (g == NULL || g[0] == '\0' || strspn(g, "0123456789") != strlen(g)
        || grace < 0 || grace > SQ_KEY_GRACE_MAX)
    {
        sq_con_error(p, 400, "Bad request", "The grace period must be 0 to "
                     "2592000 seconds.");
        return;
    }

    memset(&app, 0, sizeof(app));
    memset(&t, 0, sizeof(t));
    if (sq_app_new_secret(p->ctx->pepper, &app, c->key, sizeof(c->key),
                          t.digest) != 0)
    {
        sq_con_error(p, 500, "Error", "No secret could be made.");
        return;
    }

    sq_con_who(p, &w);
    sq_app_argv_rotate(&a, &w, c->kid, &app, &t, grace, 0, p->now);
    if (sq_pub_send(p, &a, sq_con_on_app_rotated) != 0) {
        sodium_memzero(c->key, sizeof(c->key));
    }
}
