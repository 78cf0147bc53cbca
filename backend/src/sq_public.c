/*
 * sq_public: the router of the unsigned endpoints and what they share:
 * the request's life (sq_pub_t), its Redis calls, pages, redirects and
 * RFC 6749 errors.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "sq_keys.h"
#include "sq_log.h"
#include "sq_metrics.h"
#include "sq_public.h"
#include "sq_reply.h"

typedef void (*sq_pub_handler_t)(sq_pub_t *p);

typedef struct {
    const char         *path;
    sq_pub_handler_t    get;
    sq_pub_handler_t    post;
    int                 json;
    const char         *allow;
} sq_pub_route_t;

static const sq_pub_route_t  sq_pub_routes[] = {
    { "/signin", sq_signin_get, sq_signin_post, 0, "GET, POST" },
    { "/signout", NULL, sq_signout_post, 0, "POST" },
    { "/oauth/authorize", sq_consent_get, sq_consent_post, 0, "GET, POST" },
    { "/oauth/token", NULL, sq_token_post, 1, "POST" },
    { "/oauth/revoke", NULL, sq_revoke_post, 1, "POST" },
    { "/.well-known/oauth-authorization-server", sq_metadata_get, NULL, 1,
      "GET" },
};

/* issue 16: /console and every path under /console/ */
static const sq_pub_route_t  sq_pub_console =
    { "/console/", sq_console_serve, sq_console_serve, 0, "GET, POST" };

static const char  sq_pub_base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";


static void
sq_pub_free(sq_pub_t *p)
{
    sodium_memzero(p->secret, sizeof(p->secret));
    sodium_memzero(p->tok1, sizeof(p->tok1));
    sodium_memzero(p->tok2, sizeof(p->tok2));
    sodium_memzero(&p->form, sizeof(p->form));
    sq_console_free(p->console);
    free(p->location);
    free(p);
}


static void
sq_pub_observe(sq_pub_t *p, int status)
{
    sq_metrics_observe(p->route, status, sq_metrics_now() - p->start_us);
}


static const sq_pub_route_t *
sq_pub_find(const char *path)
{
    size_t  i;

    if (path == NULL) {
        return NULL;
    }

    for (i = 0; i < sizeof(sq_pub_routes) / sizeof(sq_pub_routes[0]); i++) {
        if (strcmp(path, sq_pub_routes[i].path) == 0) {
            return &sq_pub_routes[i];
        }
    }

    return NULL;
}


int
sq_public_serve(sq_ctx_t *ctx, struct evhttp_request *req)
{
    sq_pub_t                  *p;
    const char                *path;
    sq_pub_handler_t           h;
    enum evhttp_cmd_type       cmd;
    const sq_pub_route_t      *rt;
    const struct evhttp_uri   *uri;

    uri = evhttp_request_get_evhttp_uri(req);
    path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

    if (path == NULL || strncmp(path, "/v1/", 4) == 0) {
        return 0;
    }

    rt = sq_pub_find(path);
    if (rt == NULL && (strcmp(path, "/console") == 0
                       || strncmp(path, "/console/", 9) == 0))
    {
        rt = &sq_pub_console;
    }
    if (rt == NULL) {
        return 0;
    }

    cmd = evhttp_request_get_command(req);
    h = cmd == EVHTTP_REQ_GET ? rt->get
        : cmd == EVHTTP_REQ_POST ? rt->post : NULL;

    if (h == NULL) {
        sq_reply_bad_method(req, rt->allow);
        sq_metrics_observe(rt->path, 405, 0);
        return 1;
    }

    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        sq_log(SQ_LOG_ERR, "out of memory for a %s request", rt->path);
        sq_reply_error(req, SQ_E_INTERNAL, NULL);
        return 1;
    }

    p->ctx = ctx;
    p->req = req;
    p->route = rt->path;
    p->json = rt->json;
    p->start_us = sq_metrics_now();
    p->now = (int64_t) time(NULL);

    if (!ctx->has_pepper) {
        sq_log(SQ_LOG_ERR, "%s: no pepper configured: the OAuth endpoints "
               "need one", rt->path);
        sq_pub_unavailable(p);
        sq_pub_free(p);
        return 1;
    }

    h(p);

    if (!p->async) {
        sq_pub_free(p);
    }

    return 1;
}


void
sq_pub_fcall(sq_argv_t *a, const char *fn, int nkeys)
{
    a->argc = 0;
    a->failed = 0;
    sq_argv_str(a, "FCALL");
    sq_argv_str(a, fn);
    sq_argv_fmt(a, "%d", nkeys);
}


int
sq_pub_send_quiet(sq_pub_t *p, sq_argv_t *a, sq_aredis_fn fn)
{
    sq_aredis_t  *l;

    p->async = 0;

    if (a->failed) {
        sq_log(SQ_LOG_ERR, "%s: a command does not fit", p->route);
        return -1;
    }

    l = &p->ctx->aredis;
    if (l->base == NULL) {
        sq_aredis_init(l, p->ctx->base, &p->ctx->redis);
    }

    /* issue 15: a write answers once enough replicas have it */
    if (p->ctx->wait_replicas > 0 && a->argc > 0 && a->lens[0] == 5
        && memcmp(a->argv[0], "FCALL", 5) == 0)
    {
        if (sq_aredis_send_wait(&p->ctx->awrite, a->argc, a->argv, a->lens,
                                p->ctx->wait_replicas,
                                p->ctx->wait_timeout_ms, fn, p) != 0)
        {
            return -1;
        }

    } else if (sq_aredis_send(l, a->argc, a->argv, a->lens, fn, p) != 0) {
        return -1;
    }

    p->async = 1;

    return 0;
}


int
sq_pub_send(sq_pub_t *p, sq_argv_t *a, sq_aredis_fn fn)
{
    if (sq_pub_send_quiet(p, a, fn) == 0) {
        return 0;
    }

    if (a->failed) {
        sq_pub_internal(p);
    } else {
        sq_pub_unavailable(p);
    }

    return -1;
}


int
sq_pub_enter(sq_pub_t *p, const redisReply *reply)
{
    p->async = 0;

    /* issue 15: NOTREPLICATED, a write WAIT did not see on a replica */
    if (reply == NULL || sq_aredis_not_replicated(reply)) {
        sq_pub_unavailable(p);
        return -1;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        sq_log(SQ_LOG_ERR, "%s: redis: %.*s", p->route, (int) reply->len,
               reply->str);
        sq_pub_internal(p);
        return -1;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        sq_log(SQ_LOG_ERR, "%s: unexpected reply", p->route);
        sq_pub_internal(p);
        return -1;
    }

    return 0;
}


void
sq_pub_finish(sq_pub_t *p)
{
    if (!p->async) {
        sq_pub_free(p);
    }
}


int
sq_pub_parse(sq_pub_t *p)
{
    size_t                    len;
    const char               *ct, *q, *s;
    sq_form_rc_t              rc;
    struct evbuffer          *in;
    const struct evhttp_uri  *uri;

    if (evhttp_request_get_command(p->req) == EVHTTP_REQ_GET) {
        uri = evhttp_request_get_evhttp_uri(p->req);
        q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
        s = q != NULL ? q : "";
        len = strlen(s);

    } else {
        ct = evhttp_find_header(evhttp_request_get_input_headers(p->req),
                                "Content-Type");
        if (ct == NULL
            || strncasecmp(ct, "application/x-www-form-urlencoded", 33)
               != 0
            || (ct[33] != '\0' && ct[33] != ';'))
        {
            if (p->json) {
                sq_pub_oauth_error(p, "invalid_request", "the body must be "
                                   "application/x-www-form-urlencoded");
            } else {
                sq_pub_error_page(p, 415, "Unsupported form",
                                  "The form must be sent as "
                                  "application/x-www-form-urlencoded.");
            }
            return -1;
        }

        in = evhttp_request_get_input_buffer(p->req);
        len = evbuffer_get_length(in);
        if (len > SQ_FORM_INPUT_MAX) {
            s = NULL;
        } else {
            s = (const char *) evbuffer_pullup(in, -1);
            if (s == NULL) {
                s = "";
            }
        }

        if (s == NULL) {
            rc = SQ_FORM_TOO_LONG;
            goto bad;
        }
    }

    rc = sq_form_parse(&p->form, s, len);
    if (rc == SQ_FORM_OK) {
        return 0;
    }

bad:

    if (p->json) {
        sq_pub_oauth_error(p, "invalid_request", sq_form_rc_text(rc));
    } else {
        sq_pub_error_page(p, 400, "Bad request", sq_form_rc_text(rc));
    }

    return -1;
}


void
sq_pub_token(const char *prefix, char *out)
{
    size_t  i, n;

    n = strlen(prefix);
    memcpy(out, prefix, n);

    for (i = 0; i < SQ_PUB_TOKEN_BODY; i++) {
        out[n + i] = sq_pub_base62[randombytes_uniform(62)];
    }

    out[n + SQ_PUB_TOKEN_BODY] = '\0';
}


int
sq_pub_token_shape(const char *prefix, const char *s, size_t len)
{
    size_t  i, n;

    n = strlen(prefix);
    if (len != n + SQ_PUB_TOKEN_BODY || memcmp(s, prefix, n) != 0) {
        return 0;
    }

    for (i = n; i < len; i++) {
        if (strchr(sq_pub_base62, s[i]) == NULL || s[i] == '\0') {
            return 0;
        }
    }

    return 1;
}


void
sq_pub_digest(const sq_pub_t *p, const char *s,
    char out[SQ_DIGEST_HEX_LEN + 1])
{
    sq_key_digest_hex(p->ctx->pepper, s, strlen(s), out);
}


/* the value of cookie name in a Cookie header, into out, or -1 */
static int
sq_pub_cookie(const char *h, const char *name, char *out, size_t cap)
{
    size_t       n, vlen;
    const char  *s, *end;

    n = strlen(name);

    for (s = h; s != NULL && *s != '\0'; s = end) {
        while (*s == ' ' || *s == ';') {
            s++;
        }

        end = strchr(s, ';');
        vlen = end != NULL ? (size_t) (end - s) : strlen(s);

        if (vlen > n && strncmp(s, name, n) == 0 && s[n] == '=') {
            vlen -= n + 1;
            if (vlen >= cap) {
                return -1;
            }
            memcpy(out, s + n + 1, vlen);
            out[vlen] = '\0';
            return 0;
        }
    }

    return -1;
}


void
sq_pub_session(sq_pub_t *p)
{
    char         v[SQ_PUB_TOKEN_LEN + 2];
    const char  *h;

    p->session[0] = '\0';

    h = evhttp_find_header(evhttp_request_get_input_headers(p->req),
                           "Cookie");
    if (h == NULL || sq_pub_cookie(h, SQ_PUB_COOKIE, v, sizeof(v)) != 0
        || !sq_pub_token_shape("sqx_", v, strlen(v)))
    {
        return;
    }

    sq_pub_digest(p, v, p->session);
    sodium_memzero(v, sizeof(v));
}


int
sq_pub_https(const sq_pub_t *p)
{
    const char  *h;

    h = evhttp_find_header(evhttp_request_get_input_headers(p->req),
                           "X-Forwarded-Proto");

    return h != NULL && strcasecmp(h, "https") == 0;
}


const char *
sq_pub_host(const sq_pub_t *p)
{
    size_t       i, n;
    const char  *h;

    h = evhttp_find_header(evhttp_request_get_input_headers(p->req),
                           "Host");
    if (h == NULL) {
        return "localhost";
    }

    n = strlen(h);
    if (n == 0 || n > 255) {
        return "localhost";
    }

    for (i = 0; i < n; i++) {
        if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z')
              || (h[i] >= '0' && h[i] <= '9') || strchr(".-:[]", h[i])))
        {
            return "localhost";
        }
    }

    return h;
}


void
sq_pub_client_ip(sq_pub_t *p)
{
    char                       *peer;
    size_t                      i, n;
    const char                 *h;
    ev_uint16_t                 port;
    struct evhttp_connection   *conn;

    h = evhttp_find_header(evhttp_request_get_input_headers(p->req),
                           "X-Real-IP");
    if (h != NULL) {
        n = strlen(h);
        for (i = 0; i < n; i++) {
            if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')
                  || (h[i] >= 'A' && h[i] <= 'F') || h[i] == '.'
                  || h[i] == ':'))
            {
                break;
            }
        }
        if (n > 0 && i == n && n <= SQ_PUB_IP_MAX) {
            memcpy(p->ip, h, n + 1);
            return;
        }
    }

    peer = NULL;
    port = 0;
    conn = evhttp_request_get_connection(p->req);
    if (conn != NULL) {
        evhttp_connection_get_peer(conn, &peer, &port);
    }

    snprintf(p->ip, sizeof(p->ip), "%s", peer != NULL ? peer : "unknown");
}


const char *
sq_pub_str(const redisReply *r, size_t i)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements
        || r->element[i]->type != REDIS_REPLY_STRING)
    {
        return "";
    }

    return r->element[i]->str;
}


const char *
sq_pub_status(const redisReply *r)
{
    return sq_pub_str(r, 0);
}


uint64_t
sq_pub_id(const char *s)
{
    size_t    i, n;
    uint64_t  v;

    n = strlen(s);
    if (n == 0 || n > 16 || s[0] == '0') {
        return 0;
    }

    for (i = 0, v = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (uint64_t) (s[i] - '0');
    }

    return v <= 9007199254740991ULL ? v : 0;
}


void
sq_pub_esc(struct evbuffer *b, const char *s)
{
    for ( /* void */ ; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            evbuffer_add(b, "&amp;", 5);
            break;
        case '<':
            evbuffer_add(b, "&lt;", 4);
            break;
        case '>':
            evbuffer_add(b, "&gt;", 4);
            break;
        case '"':
            evbuffer_add(b, "&quot;", 6);
            break;
        case '\'':
            evbuffer_add(b, "&#39;", 5);
            break;
        default:
            evbuffer_add(b, s, 1);
        }
    }
}


struct evbuffer *
sq_pub_head(const char *title)
{
    struct evbuffer  *b;

    b = evbuffer_new();
    if (b == NULL) {
        return NULL;
    }

    evbuffer_add_printf(b,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width\">"
        "<title>");
    sq_pub_esc(b, title);

    return b;
}


struct evbuffer *
sq_pub_page_begin(const char *title)
{
    struct evbuffer  *b;

    b = sq_pub_head(title);
    if (b == NULL) {
        return NULL;
    }

    evbuffer_add_printf(b,
        " - SmartlyQ</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:34em;"
        "margin:3em auto;padding:0 1em;color:#222}"
        "h1{font-size:1.4em}label{display:block;margin:.8em 0 .2em}"
        "input,select{font-size:1em;padding:.3em;width:100%%;"
        "box-sizing:border-box}"
        "button{font-size:1em;padding:.5em 1.4em;margin:1em .6em 0 0}"
        ".err{color:#a00}.box{border:1px solid #ccc;padding:1em;"
        "border-radius:6px}ul{padding-left:1.2em}"
        "</style></head><body>\n");

    return b;
}


void
sq_pub_html_headers(sq_pub_t *p, const char *csp, const char *referrer)
{
    struct evkeyvalq  *out;

    out = evhttp_request_get_output_headers(p->req);
    evhttp_add_header(out, "Content-Type", "text/html; charset=utf-8");
    evhttp_add_header(out, "Content-Security-Policy", csp);
    evhttp_add_header(out, "X-Frame-Options", "DENY");
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "Referrer-Policy", referrer);
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
}


void
sq_pub_page_send(sq_pub_t *p, int status, struct evbuffer *b)
{
    char  csp[SQ_PUB_URI_MAX + 128];

    if (b == NULL) {
        sq_log(SQ_LOG_ERR, "%s: out of memory for a page", p->route);
        sq_pub_observe(p, 500);
        evhttp_send_error(p->req, 500, NULL);
        return;
    }

    evbuffer_add_printf(b, "</body></html>\n");

    /*
     * Chromium holds the redirects that answer a form to form-action
     * too: the consent page adds its redirect URI's origin (form_to,
     * scheme://host[:port] of safe bytes only), or its Approve and Deny
     * would never reach the client.
     */
    snprintf(csp, sizeof(csp), "default-src 'none'; style-src "
             "'unsafe-inline'; form-action 'self'%s%s; "
             "frame-ancestors 'none'", p->form_to[0] ? " " : "", p->form_to);

    sq_pub_html_headers(p, csp, "no-referrer");

    sq_pub_observe(p, status);
    evhttp_send_reply(p->req, status, status == 200 ? "OK" : "Error", b);
    evbuffer_free(b);
}


void
sq_pub_error_page(sq_pub_t *p, int status, const char *title,
    const char *text)
{
    struct evbuffer  *b;

    b = sq_pub_page_begin(title);
    if (b != NULL) {
        evbuffer_add_printf(b, "<h1>");
        sq_pub_esc(b, title);
        evbuffer_add_printf(b, "</h1>\n<p class=\"err\">");
        sq_pub_esc(b, text);
        evbuffer_add_printf(b, "</p>\n");
    }

    sq_pub_page_send(p, status, b);
}


void
sq_pub_redirect(sq_pub_t *p, const char *location)
{
    int                status;
    struct evkeyvalq  *out;

    status = evhttp_request_get_command(p->req) == EVHTTP_REQ_GET
             ? 302 : 303;

    out = evhttp_request_get_output_headers(p->req);
    evhttp_add_header(out, "Location", location);
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "Referrer-Policy", "no-referrer");
    evhttp_add_header(out, "Content-Length", "0");

    sq_pub_observe(p, status);
    evhttp_send_reply(p->req, status, status == 302 ? "Found" : "See Other",
                      NULL);
}


void
sq_pub_urlenc(struct evbuffer *b, const char *s)
{
    unsigned char  c;

    for ( /* void */ ; *s != '\0'; s++) {
        c = (unsigned char) *s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            evbuffer_add(b, s, 1);
        } else {
            evbuffer_add_printf(b, "%%%02X", c);
        }
    }
}


void
sq_pub_json(sq_pub_t *p, int status, char *body)
{
    struct evbuffer   *b;
    struct evkeyvalq  *out;

    b = body != NULL ? evbuffer_new() : NULL;
    if (b == NULL || evbuffer_add(b, body, strlen(body)) != 0) {
        sq_log(SQ_LOG_ERR, "%s: out of memory for a reply", p->route);
        if (b != NULL) {
            evbuffer_free(b);
        }
        if (body != NULL) {
            sodium_memzero(body, strlen(body));
            free(body);
        }
        sq_pub_observe(p, 500);
        evhttp_send_error(p->req, 500, NULL);
        return;
    }

    sodium_memzero(body, strlen(body));
    free(body);

    out = evhttp_request_get_output_headers(p->req);
    evhttp_add_header(out, "Content-Type", "application/json");
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "Pragma", "no-cache");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");

    sq_pub_observe(p, status);
    evhttp_send_reply(p->req, status, status == 200 ? "OK" : "Error", b);
    evbuffer_free(b);
}


void
sq_pub_oauth_error(sq_pub_t *p, const char *error, const char *description)
{
    int      status;
    json_t  *o;

    status = 400;
    if (strcmp(error, "invalid_client") == 0) {
        status = 401;
        evhttp_add_header(evhttp_request_get_output_headers(p->req),
                          "WWW-Authenticate", "Basic realm=\"smartlyq\"");
    }

    o = json_pack("{s:s}", "error", error);
    if (o != NULL && description != NULL) {
        json_object_set_new(o, "error_description", json_string(description));
    }

    sq_pub_json(p, status, o != NULL ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}


void
sq_pub_unavailable(sq_pub_t *p)
{
    evhttp_add_header(evhttp_request_get_output_headers(p->req),
                      "Retry-After", "1");

    if (p->json) {
        sq_pub_json(p, 503, strdup("{\"error\":\"temporarily_unavailable\"}"));
        return;
    }

    sq_pub_error_page(p, 503, "Unavailable",
                      "The service is unavailable; try again shortly.");
}


void
sq_pub_internal(sq_pub_t *p)
{
    if (p->json) {
        sq_pub_json(p, 500, strdup("{\"error\":\"server_error\"}"));
        return;
    }

    sq_pub_error_page(p, 500, "Error", "Something went wrong on our side.");
}
