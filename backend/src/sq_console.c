/*
 * sq_console: the console's dispatch, its session and CSRF checks, its
 * layout with the strict CSP, and its two static files (sq_console.h).
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "sq_console.h"
#include "sq_keys.h"
#include "sq_log.h"
#include "sq_metrics.h"

#define SQ_CON_CSP                                                           \
    "default-src 'none'; script-src 'self'; style-src 'self'; "              \
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; "         \
    "frame-ancestors 'none'; base-uri 'none'"

/* a page: its path under /console/ (a trailing "#" is a key id) */
typedef struct {
    const char   *sub;
    int           post;
    void        (*page)(sq_pub_t *p);
} sq_con_route_t;

static const sq_con_route_t  sq_con_routes[] = {
    { "", 0, sq_con_keys },
    { "keys/new", 0, sq_con_key_new },
    { "keys", 1, sq_con_key_create },
    { "keys/#", 0, sq_con_key_page },
    { "keys/#/confirm", 0, sq_con_key_confirm },
    { "keys/#/disable", 1, sq_con_key_act },
    { "keys/#/enable", 1, sq_con_key_act },
    { "keys/#/rotate", 1, sq_con_key_act },
    { "keys/#/delete", 1, sq_con_key_act },
    { "keys/#/notify", 1, sq_con_notify },
    { "keys/#/own", 1, sq_con_key_own },
    { "checklist", 0, sq_con_checklist },
    { "notifications", 0, sq_con_notifications },
    { "playground", 0, sq_con_playground },
    { "apps", 0, sq_con_apps },
    { "apps/#/confirm", 0, sq_con_app_confirm },
    { "apps/#/rotate", 1, sq_con_app_rotate },
};

static const char  *sq_con_nav[][2] = {
    { "keys", "/console/" },
    { "checklist", "/console/checklist" },
    { "notifications", "/console/notifications" },
    { "playground", "/console/playground" },
    { "apps", "/console/apps" },
};


void
sq_console_free(void *data)
{
    sq_con_t  *c = data;

    if (c == NULL) {
        return;
    }

    sodium_memzero(c->key, sizeof(c->key));
    free(c->keys);
    free(c->rows);
    free(c->apps);
    free(c->app_rows);
    json_decref(c->people);
    free(c);
}


/* sub matches pattern ("#": a key id, into *kid); the verb's start */
static int
sq_con_match(const char *pattern, const char *sub, uint64_t *kid,
    const char **verb)
{
    char         id[24];
    size_t       n;
    const char  *hash, *end;

    hash = strchr(pattern, '#');
    if (hash == NULL) {
        return strcmp(pattern, sub) == 0;
    }

    n = (size_t) (hash - pattern);
    if (strncmp(pattern, sub, n) != 0) {
        return 0;
    }

    end = strchr(sub + n, '/');
    if (end == NULL) {
        end = sub + strlen(sub);
    }

    if ((size_t) (end - sub - n) >= sizeof(id)) {
        return 0;
    }

    memcpy(id, sub + n, (size_t) (end - sub - n));
    id[end - sub - n] = '\0';

    if (strcmp(hash + 1, end) != 0 || (*kid = sq_pub_id(id)) == 0) {
        return 0;
    }

    *verb = *end == '/' ? end + 1 : "";

    return 1;
}


static void
sq_con_static(sq_pub_t *p, const char *type, const char *body)
{
    struct evbuffer   *b;
    struct evkeyvalq  *out;

    b = evbuffer_new();
    if (b == NULL || evbuffer_add(b, body, strlen(body)) != 0) {
        if (b != NULL) {
            evbuffer_free(b);
        }
        evhttp_send_error(p->req, 500, NULL);
        return;
    }

    out = evhttp_request_get_output_headers(p->req);
    evhttp_add_header(out, "Content-Type", type);
    evhttp_add_header(out, "Content-Security-Policy", SQ_CON_CSP);
    evhttp_add_header(out, "Cache-Control", "no-cache");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");

    evhttp_send_reply(p->req, 200, "OK", b);
    evbuffer_free(b);
}


static void
sq_con_signin(sq_pub_t *p)
{
    struct evbuffer  *b;
    sq_con_t         *c = p->console;
    char              loc[SQ_PUB_URI_MAX + 1];
    size_t            len;

    if (c->post) {
        sq_con_error(p, 403, "Signed out",
                     "Your session has ended: sign in again.");
        return;
    }

    b = evbuffer_new();
    if (b == NULL) {
        sq_pub_internal(p);
        return;
    }

    evbuffer_add_printf(b, "/signin?next=%%2Fconsole%%2F");
    sq_pub_urlenc(b, c->sub);
    len = evbuffer_get_length(b);
    if (len >= sizeof(loc)) {
        len = sizeof("/signin?next=%2Fconsole%2F") - 1;
    }
    evbuffer_remove(b, loc, len);
    loc[len] = '\0';
    evbuffer_free(b);

    sq_pub_redirect(p, loc);
}


/*
 * A POST from this Host only, when the browser says where from.  The
 * pages send Referrer-Policy: same-origin so that Chromium names the
 * origin; an opaque "null" origin tells nothing and the token decides.
 */
static int
sq_con_origin_ok(const sq_pub_t *p)
{
    size_t       n;
    const char  *o, *host;

    o = evhttp_find_header(evhttp_request_get_input_headers(p->req),
                           "Origin");
    if (o == NULL || strcmp(o, "null") == 0) {
        return 1;
    }

    host = sq_pub_host(p);
    if (strncmp(o, "http://", 7) == 0) {
        o += 7;
    } else if (strncmp(o, "https://", 8) == 0) {
        o += 8;
    } else {
        return 0;
    }

    n = strlen(host);

    return strlen(o) == n && strncasecmp(o, host, n) == 0;
}


static void
sq_con_on_session(redisReply *reply, void *data)
{
    size_t       len;
    sq_pub_t    *p = data;
    sq_con_t    *c;
    const char  *csrf, *given;

    if (sq_pub_enter(p, reply) != 0) {
        goto done;
    }

    c = p->console;
    csrf = sq_pub_str(reply, 1);
    p->user_id = sq_pub_id(sq_pub_str(reply, 0));

    if (reply->elements != 2 || p->user_id == 0
        || strlen(csrf) != SQ_PUB_CSRF_LEN)
    {
        p->user_id = 0;
        sq_con_signin(p);
        goto done;
    }

    memcpy(p->csrf, csrf, SQ_PUB_CSRF_LEN + 1);

    if (c->post) {
        given = sq_form_get(&p->form, "csrf", &len);
        if (given == NULL || len != SQ_PUB_CSRF_LEN
            || sodium_memcmp(given, p->csrf, SQ_PUB_CSRF_LEN) != 0
            || !sq_con_origin_ok(p))
        {
            sq_log(SQ_LOG_WARN, "console: user %llu: a form without its "
                   "CSRF token or from another origin refused",
                   (unsigned long long) p->user_id);
            sq_con_error(p, 403, "Refused",
                         "This form did not come from the console "
                         "(CSRF check failed). Reload the page and try "
                         "again.");
            goto done;
        }
    }

    c->page(p);

done:
    sq_pub_finish(p);
}


void
sq_console_serve(sq_pub_t *p)
{
    size_t                    i;
    sq_con_t                 *c;
    sq_argv_t                 a;
    const char               *path, *sub, *verb;
    const sq_con_route_t     *rt;
    const struct evhttp_uri  *uri;

    uri = evhttp_request_get_evhttp_uri(p->req);
    path = evhttp_uri_get_path(uri);
    sub = path + sizeof("/console/") - 1;

    if (strcmp(path, "/console") == 0) {
        sq_pub_redirect(p, "/console/");
        return;
    }

    if (strncmp(sub, "static/", 7) == 0
        && evhttp_request_get_command(p->req) != EVHTTP_REQ_GET)
    {
        evhttp_add_header(evhttp_request_get_output_headers(p->req),
                          "Allow", "GET");
        evhttp_send_error(p->req, 405, NULL);
        return;
    }

    if (strcmp(sub, "static/console.css") == 0) {
        sq_con_static(p, "text/css; charset=utf-8", sq_con_css);
        return;
    }

    if (strcmp(sub, "static/console.js") == 0) {
        sq_con_static(p, "text/javascript; charset=utf-8", sq_con_js);
        return;
    }

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        sq_pub_internal(p);
        return;
    }

    p->console = c;
    c->sub = sub;
    c->post = evhttp_request_get_command(p->req) == EVHTTP_REQ_POST;

    rt = NULL;
    verb = "";
    for (i = 0; i < sizeof(sq_con_routes) / sizeof(sq_con_routes[0]); i++) {
        if (sq_con_match(sq_con_routes[i].sub, sub, &c->kid, &verb)) {
            rt = &sq_con_routes[i];
            break;
        }
    }

    if (rt == NULL) {
        sq_con_error(p, 404, "Not found", "There is no such console page.");
        return;
    }

    if (rt->post != c->post) {
        evhttp_add_header(evhttp_request_get_output_headers(p->req),
                          "Allow", rt->post ? "POST" : "GET");
        sq_con_error(p, 405, "Method not allowed",
                     rt->post ? "This address takes a form (POST)."
                              : "This page is read with GET.");
        return;
    }

    c->page = rt->page;
    c->verb = verb;

    if (sq_pub_parse(p) != 0) {
        return;
    }

    sq_pub_session(p);
    if (p->session[0] == '\0') {
        sq_con_signin(p);
        return;
    }

    snprintf(p->key1, sizeof(p->key1), SQ_K_SESSION, p->session);

    memset(&a, 0, offsetof(sq_argv_t, buf));
    sq_argv_str(&a, "HMGET");
    sq_argv_str(&a, p->key1);
    sq_argv_str(&a, "user_id");
    sq_argv_str(&a, "csrf");

    sq_pub_send(p, &a, sq_con_on_session);
}


struct evbuffer *
sq_con_begin(sq_pub_t *p, const char *title, const char *active)
{
    size_t            i;
    struct evbuffer  *b;

    (void) p;

    b = sq_pub_head(title);
    if (b == NULL) {
        return NULL;
    }

    evbuffer_add_printf(b, " - SmartlyQ console</title>"
        "<link rel=\"stylesheet\" href=\"/console/static/console.css\">"
        "<script src=\"/console/static/console.js\" defer></script>"
        "</head><body>\n<header><span class=\"brand\">SmartlyQ console"
        "</span><nav>");

    for (i = 0; i < sizeof(sq_con_nav) / sizeof(sq_con_nav[0]); i++) {
        evbuffer_add_printf(b, "<a href=\"%s\" id=\"nav-%s\"%s>%s</a>",
                            sq_con_nav[i][1], sq_con_nav[i][0],
                            active != NULL
                            && strcmp(active, sq_con_nav[i][0]) == 0
                            ? " class=\"on\"" : "", sq_con_nav[i][0]);
    }

    evbuffer_add_printf(b, "</nav><form method=\"post\" action=\"/signout\" "
                        "class=\"out\"><button type=\"submit\">Sign out"
                        "</button></form></header>\n<main>\n<h1>");
    sq_pub_esc(b, title);
    evbuffer_add_printf(b, "</h1>\n");

    return b;
}


void
sq_con_table_end(struct evbuffer *b, size_t n, const char *id,
    const char *text)
{
    evbuffer_add_printf(b, "</tbody></table>\n");
    if (n == 0) {
        evbuffer_add_printf(b, "<p id=\"%s\">%s</p>\n", id, text);
    }
}


struct evbuffer *
sq_con_page(sq_pub_t *p, const char *title, const char *active)
{
    struct evbuffer  *b;

    b = sq_con_begin(p, title, active);
    if (b == NULL) {
        sq_con_send(p, 500, NULL);
    }

    return b;
}


void
sq_con_send(sq_pub_t *p, int status, struct evbuffer *b)
{
    if (b == NULL) {
        sq_log(SQ_LOG_ERR, "console: out of memory for a page");
        evhttp_send_error(p->req, 500, NULL);
        return;
    }

    evbuffer_add_printf(b, "</main></body></html>\n");

    sq_pub_html_headers(p, SQ_CON_CSP, "same-origin");

    sq_metrics_observe(p->route, status, sq_metrics_now() - p->start_us);
    evhttp_send_reply(p->req, status, status == 200 ? "OK" : "Error", b);
    evbuffer_free(b);
}


void
sq_con_error(sq_pub_t *p, int status, const char *title, const char *text)
{
    struct evbuffer  *b;

    b = sq_con_begin(p, title, NULL);
    if (b != NULL) {
        evbuffer_add_printf(b, "<p class=\"err\" id=\"error\">");
        sq_pub_esc(b, text);
        evbuffer_add_printf(b, "</p>\n<p><a href=\"/console/\">Back to the "
                            "keys</a></p>\n");
    }

    sq_con_send(p, status, b);
}


void
sq_con_csrf(sq_pub_t *p, struct evbuffer *b)
{
    evbuffer_add_printf(b, "<input type=\"hidden\" name=\"csrf\" "
                        "value=\"%s\">", p->csrf);
}


void
sq_con_time(struct evbuffer *b, int64_t t)
{
    char       s[32];
    time_t     tt;
    struct tm  tm;

    tt = (time_t) t;
    if (t <= 0 || gmtime_r(&tt, &tm) == NULL
        || strftime(s, sizeof(s), "%Y-%m-%d %H:%M UTC", &tm) == 0)
    {
        evbuffer_add_printf(b, "never");
        return;
    }

    evbuffer_add_printf(b, "%s", s);
}


void
sq_con_who(const sq_pub_t *p, sq_key_who_t *w)
{
    memset(w, 0, sizeof(*w));
    w->uid = p->user_id;
}


const char *
sq_con_field(const redisReply *h, const char *name)
{
    size_t  i;

    if (h == NULL || h->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }

    for (i = 0; i + 1 < h->elements; i += 2) {
        if (h->element[i]->type == REDIS_REPLY_STRING
            && h->element[i + 1]->type == REDIS_REPLY_STRING
            && strcmp(h->element[i]->str, name) == 0)
        {
            return h->element[i + 1]->str;
        }
    }

    return NULL;
}


int
sq_con_enter(sq_pub_t *p, const redisReply *reply)
{
    sq_rc_t  rc;

    if (sq_pub_enter(p, reply) != 0) {
        return -1;
    }

    rc = sq_key_reply_rc(reply);
    if (rc == SQ_OK) {
        return 0;
    }

    switch (rc) {
    case SQ_ERR_NOTFOUND:
        sq_con_error(p, 404, "Not found", "No such key of yours.");
        break;
    case SQ_ERR_STATE:
        sq_con_error(p, 409, "Already rotated",
                     "This key has already been rotated.");
        break;
    case SQ_ERR_CONFLICT:
        sq_con_error(p, 409, "Changed", "The key changed meanwhile: "
                     "reload and try again.");
        break;
    case SQ_ERR_INVALID:
        sq_con_error(p, 400, "Refused", "A workspace of the key is not "
                     "yours.");
        break;
    case SQ_ERR_BADREF:
        sq_con_error(p, 400, "Refused", "That owner is neither you nor a "
                     "member of one of your workspaces.");
        break;
    default:
        sq_log(SQ_LOG_ERR, "console: %s: unexpected reply", p->route);
        sq_con_error(p, 500, "Error", "Something went wrong on our side.");
    }

    return -1;
}


void
sq_con_flash(sq_pub_t *p, struct evbuffer *b)
{
    const char  *done, *id;

    done = sq_form_get(&p->form, "done", NULL);
    id = sq_form_get(&p->form, "id", NULL);

    if (done == NULL || id == NULL || sq_pub_id(id) == 0
        || (strcmp(done, "disable") != 0 && strcmp(done, "enable") != 0
            && strcmp(done, "delete") != 0))
    {
        return;
    }

    evbuffer_add_printf(b, "<p class=\"flash\" id=\"flash\">Key %llu: "
                        "%sd. The edge applies it on the key's next "
                        "request.</p>\n", (unsigned long long) sq_pub_id(id),
                        done);
}


/* ---- the owners a user may name ---- */

int
sq_con_people_send(sq_pub_t *p, sq_aredis_fn fn)
{
    sq_argv_t  a;

    memset(&a, 0, offsetof(sq_argv_t, buf));
    sq_argv_str(&a, "FCALL_RO");
    sq_argv_str(&a, "sq_con_people");
    sq_argv_str(&a, "1");
    sq_argv_fmt(&a, SQ_K_USER_WORKSPACES, (unsigned long long) p->user_id);
    sq_argv_u64(&a, p->user_id);
    sq_argv_u64(&a, SQ_CON_PEOPLE_MAX);

    return sq_pub_send(p, &a, fn);
}


int
sq_con_people_take(sq_pub_t *p, const redisReply *reply)
{
    size_t     i;
    json_t    *arr, *o;
    sq_con_t  *c = p->console;

    if (sq_pub_enter(p, reply) != 0) {
        return -1;
    }

    arr = json_array();
    if (strcmp(sq_pub_status(reply), "OK") != 0
        || (reply->elements - 1) % 3 != 0 || arr == NULL)
    {
        json_decref(arr);
        sq_log(SQ_LOG_ERR, "console: sq_con_people: unexpected reply");
        sq_con_error(p, 500, "Error", "Something went wrong on our side.");
        return -1;
    }

    for (i = 1; i + 2 < reply->elements; i += 3) {
        o = json_pack("{s:s, s:s, s:s}", "id", sq_pub_str(reply, i),
                      "name", sq_pub_str(reply, i + 1),
                      "email", sq_pub_str(reply, i + 2));
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            sq_con_error(p, 500, "Error", "Something went wrong on our "
                         "side.");
            return -1;
        }
    }

    json_decref(c->people);
    c->people = arr;

    return 0;
}


int
sq_con_fan_sent(sq_pub_t *p, size_t sent)
{
    sq_con_t  *c = p->console;

    if (sent == 0) {
        p->async = 0;
        return -1;
    }

    c->pending = c->calls = sent;
    p->async = 1;

    return 0;
}


void
sq_con_owner(sq_pub_t *p, struct evbuffer *b, const char *owner)
{
    size_t     i;
    json_t    *o;
    sq_con_t  *c = p->console;

    if (owner == NULL || owner[0] == '\0') {
        evbuffer_add_printf(b, "<span class=\"warn\">no owner</span>");
        return;
    }

    json_array_foreach(c->people, i, o) {
        if (strcmp(json_string_value(json_object_get(o, "id")), owner)
            == 0)
        {
            sq_pub_esc(b, json_string_value(json_object_get(o, "name")));
            evbuffer_add_printf(b, " &lt;");
            sq_pub_esc(b, json_string_value(json_object_get(o, "email")));
            evbuffer_add_printf(b, "&gt;");
            return;
        }
    }

    evbuffer_add_printf(b, "user ");
    sq_pub_esc(b, owner);
}


size_t
sq_con_fan_in(sq_pub_t *p)
{
    size_t     i;
    sq_con_t  *c = p->console;

    i = c->calls - c->pending;
    c->pending--;

    return i;
}


void
sq_con_fan_end(sq_pub_t *p, void (*render)(sq_pub_t *p))
{
    sq_con_t  *c = p->console;

    if (c->pending > 0) {
        p->async = 1;
        return;
    }

    p->async = 0;
    render(p);
    sq_pub_finish(p);
}
