/*
 * sq_console_play: the API playground.  The page lists the session
 * user's active test keys by name; the operator pastes the chosen key's
 * secret, picks an endpoint, edits the JSON body, and the page's script
 * (console.js) sends it with fetch() to the edge itself, so the answer is
 * exactly what a client gets.  The secret never reaches the console's
 * backend pages.  The script refuses a live key (sqk_live_, sqp_live_)
 * before anything is sent: the seed's sandbox-safe conditions.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "sq_console.h"

/* the endpoints offered: method, path, an example body or "" */
static const char  *sq_con_endpoints[][3] = {
    { "GET", "/v1/me", "" },
    { "GET", "/v1/urls", "" },
    { "POST", "/v1/urls", "{\"target\": \"https://example.com/\"}" },
    { "GET", "/v1/social/accounts", "" },
    { "POST", "/v1/social/accounts",
      "{\"platform\": \"twitter\", \"handle\": \"example\"}" },
    { "GET", "/v1/articles", "" },
    { "POST", "/v1/articles", "{\"title\": \"Hello\"}" },
    { "GET", "/v1/chatbots", "" },
    { "GET", "/v1/keys", "" },
};


static void
sq_con_on_play_keys(redisReply *reply, void *data)
{
    char              mask[64];
    size_t            i, n, shown;
    uint64_t          next;
    sq_pub_t         *p = data;
    sq_key_t         *keys, *k;
    struct evbuffer  *b;

    keys = NULL;

    if (sq_con_enter(p, reply) != 0) {
        goto done;
    }

    if (sq_key_page_parse(reply, SQ_CON_KEYS_MAX, &keys, &n, &next)
        != SQ_OK)
    {
        sq_con_error(p, 500, "Error", "Something went wrong on our side.");
        goto done;
    }

    b = sq_con_page(p, "API playground", "playground");
    if (b == NULL) {
        goto done;
    }

    evbuffer_add_printf(b, "<p>Send a request through the edge with one of "
                        "your <strong>test</strong> keys and see exactly "
                        "what a client sees. Live keys are refused here: "
                        "test in a sandbox, never against production "
                        "workspaces.</p>\n<form id=\"play\">"
                        "<label for=\"key\">Test key</label>"
                        "<select id=\"key\">");

    shown = 0;
    for (i = 0; i < n; i++) {
        k = &keys[i];
        if (k->mode != SQ_KEY_TEST
            || strcmp(sq_key_status(k, p->now), "active") != 0)
        {
            continue;
        }
        sq_key_mask(k->type, k->mode, k->last4, mask, sizeof(mask));
        evbuffer_add_printf(b, "<option value=\"%llu\" data-last4=\"",
                            (unsigned long long) k->id);
        sq_pub_esc(b, k->last4);
        evbuffer_add_printf(b, "\">");
        sq_pub_esc(b, k->name);
        evbuffer_add_printf(b, " (");
        sq_pub_esc(b, mask);
        evbuffer_add_printf(b, ")</option>");
        shown++;
    }

    evbuffer_add_printf(b, "</select>%s\n<label for=\"secret\">The key's "
                        "secret (pasted; it goes only to the edge)</label>"
                        "<input id=\"secret\" type=\"password\" "
                        "autocomplete=\"off\" spellcheck=\"false\">\n"
                        "<label for=\"endpoint\">Endpoint</label>"
                        "<select id=\"endpoint\">",
                        shown == 0 ? "<p class=\"warn\" id=\"no-test-keys\">"
                        "You have no active test key: create one first."
                        "</p>" : "");

    for (i = 0; i < sizeof(sq_con_endpoints) / sizeof(sq_con_endpoints[0]);
         i++)
    {
        evbuffer_add_printf(b, "<option value=\"%zu\" data-method=\"%s\" "
                            "data-path=\"%s\" data-body=\"", i,
                            sq_con_endpoints[i][0], sq_con_endpoints[i][1]);
        sq_pub_esc(b, sq_con_endpoints[i][2]);
        evbuffer_add_printf(b, "\">%s %s</option>", sq_con_endpoints[i][0],
                            sq_con_endpoints[i][1]);
    }

    evbuffer_add_printf(b, "</select>\n<label for=\"workspace\">Workspace id "
                        "(sent as ?workspace_id=; empty: none)</label>"
                        "<input id=\"workspace\" inputmode=\"numeric\">\n"
                        "<label for=\"body\">JSON body</label>"
                        "<textarea id=\"body\" rows=\"6\" spellcheck=\"false\">"
                        "</textarea>\n<button type=\"submit\" id=\"send\">"
                        "Send</button></form>\n"
                        "<p id=\"refused\" class=\"err\" hidden></p>\n"
                        "<section id=\"result\" hidden><h2>Response</h2>"
                        "<p>Status <strong id=\"status\"></strong></p>"
                        "<h3>Headers</h3><pre id=\"headers\"></pre>"
                        "<h3>Body</h3><pre id=\"resp-body\"></pre></section>\n");

    sq_con_send(p, 200, b);

done:
    free(keys);
    sq_pub_finish(p);
}


void
sq_con_playground(sq_pub_t *p)
{
    sq_con_keys_send(p, sq_con_on_play_keys);
}
