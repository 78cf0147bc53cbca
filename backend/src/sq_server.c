/*
 * sq_server: request pipeline
 *   identity -> route -> replay window -> key's workspaces -> handler,
 * whose one call on the asynchronous link claims the nonce of a write
 * and re-reads membership (sq_job.h), and which answers later.
 * Every failure answers with a JSON error envelope; nothing fails open.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sq_log.h"
#include "sq_metrics.h"
#include "sq_nonce.h"
#include "sq_public.h"
#include "sq_reply.h"
#include "sq_route.h"
#include "sq_server.h"


void
sq_server_refuse(sq_req_t *r, sq_auth_rc_t rc)
{
    char                       *peer;
    const char                 *method;
    ev_uint16_t                 peer_port;
    struct evhttp_connection   *conn;

    method = sq_route_method_name((int) evhttp_request_get_command(r->req));

    peer = NULL;
    peer_port = 0;
    conn = evhttp_request_get_connection(r->req);
    if (conn != NULL) {
        evhttp_connection_get_peer(conn, &peer, &peer_port);
    }

    sq_log(SQ_LOG_WARN, "rejected %s request from %.64s:%u: %s",
           method != NULL ? method : "other",
           peer != NULL ? peer : "-", (unsigned) peer_port,
           sq_auth_rc_text(rc));
    sq_reply_error(r->req, SQ_E_UNAUTHORIZED, NULL);
}


static int
sq_server_identity(sq_req_t *r)
{
    sq_auth_rc_t  rc;

    rc = sq_auth_verify(r->ctx->signing_key,
                        evhttp_request_get_input_headers(r->req),
                        sq_route_method_name(
                            (int) evhttp_request_get_command(r->req)),
                        evhttp_request_get_uri(r->req),
                        evhttp_request_get_input_buffer(r->req),
                        (int64_t) time(NULL), &r->ident);
    if (rc == SQ_AUTH_OK) {
        return 0;
    }

    sq_server_refuse(r, rc);

    return -1;
}


/*
 * An identity is used once.  Every request's nonce goes through the
 * anti-replay window that this backend's worker processes share
 * (sq_replay.h, shared memory, no I/O); a write's is also claimed in
 * Redis, by the handler's one function call (sq_job.h), which every
 * backend host shares and which outlives a restart, and decides for
 * writes.  GET and HEAD are
 * not claimed there: that would make every read a write to Redis (an
 * fsync with appendfsync always), so a read the window cannot tell apart
 * from a replay gets 503 (retry).  A replay gets the same 401 as a bad
 * signature.
 */
static int
sq_server_nonce(sq_req_t *r)
{
    int64_t                now;
    sq_replay_rc_t         rr;
    enum evhttp_cmd_type   cmd;

    now = (int64_t) time(NULL);
    rr = sq_replay_check(&r->ctx->replay, r->ident.nonce,
                         strlen(r->ident.nonce), r->ident.timestamp, now);

    if (rr == SQ_REPLAY_SEEN) {
        sq_server_refuse(r, SQ_AUTH_REPLAY);
        return -1;
    }

    if (rr == SQ_REPLAY_NOMEM) {
        sq_log(SQ_LOG_ERR, "out of memory for the replay window");
        sq_reply_error(r->req, SQ_E_UNAVAILABLE, NULL);
        return -1;
    }

    cmd = evhttp_request_get_command(r->req);
    if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD) {
        if (rr == SQ_REPLAY_UNSURE) {
            sq_log(SQ_LOG_WARN, "identity nonce outside the replay window "
                   "(signed before the backend started, or too far "
                   "behind its stream): 503");
            sq_reply_error(r->req, SQ_E_UNAVAILABLE, NULL);
            return -1;
        }

        return 0;
    }

    /* a write: the handler's one Redis function claims it, and decides */
    return 0;
}


static int
sq_server_route(sq_req_t *r, sq_route_t *route)
{
    const char                *path, *allow;
    const struct evhttp_uri   *uri;

    uri = evhttp_request_get_evhttp_uri(r->req);
    path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

    switch (sq_route_match(path, (int) evhttp_request_get_command(r->req),
                           route, &allow))
    {
    case SQ_ROUTE_FOUND:
        r->res = route->res;
        r->id = route->id;
        return 0;
    case SQ_ROUTE_BAD_METHOD:
        sq_reply_bad_method(r->req, allow);
        return -1;
    default:
        sq_reply_error(r->req, SQ_E_NOT_FOUND, NULL);
        return -1;
    }
}


/*
 * Defense in depth, as the edge decided already: the key's type, then
 * the route's scope.
 */
static int
sq_server_authorize(sq_req_t *r, const sq_route_t *route)
{
    char      msg[96];
    sq_err_t  e;

    if (sq_route_authorize(&r->ident, route,
                           (int) evhttp_request_get_command(r->req), &e)
        == 0)
    {
        return 0;
    }

    if (e == SQ_E_INSUFFICIENT_SCOPE) {
        snprintf(msg, sizeof(msg), "This key lacks the scope %s.",
                 sq_scope_name(route->scope));
        sq_reply_error(r->req, e, msg);
    } else {
        sq_reply_error(r->req, e, NULL);
    }

    return -1;
}


/*
 * An OAuth access token (issue 14): never on /v1/keys or /v1/apps, and
 * bound to its one granted workspace: a request that names none acts on
 * that one (lists, creates and /v1/me are then that workspace's, and the
 * handler's Redis function checks the user is still its member).
 * Defense in depth for the path: the edge refuses it first.
 */
static int
sq_server_oauth(sq_req_t *r)
{
    const struct evhttp_uri  *uri;

    if (!r->ident.oauth) {
        return 0;
    }

    uri = evhttp_request_get_evhttp_uri(r->req);

    if (sq_route_oauth_excluded(uri != NULL ? evhttp_uri_get_path(uri)
                                            : NULL))
    {
        sq_log(SQ_LOG_WARN, "oauth token of app %llu refused on a key or "
               "app route", (unsigned long long) r->ident.app_id);
        sq_reply_error(r->req, SQ_E_OAUTH_TOKEN, NULL);
        return -1;
    }

    /* sq_auth_verify() saw to it that key_ws holds exactly one */
    if (r->ident.workspace_id == 0) {
        r->ident.workspace_id = r->ident.key_ws.ids[0];
    }

    return 0;
}


/* Defense in depth: the edge checked membership already. */
static int
sq_server_membership(sq_req_t *r)
{
    if (r->ident.workspace_id == 0) {
        return 0;
    }

    if (!sq_req_ws_allowed(r, r->ident.workspace_id)) {
        sq_log(SQ_LOG_WARN, "key %llu is not allowed workspace %llu",
               (unsigned long long) r->ident.key_id,
               (unsigned long long) r->ident.workspace_id);
        sq_reply_error(r->req, SQ_E_FORBIDDEN, NULL);
        return -1;
    }

    /* membership: the handler's one Redis function reads it */
    return 0;
}


/*
 * Returns 1 when a handler answers later (from a Redis callback, which
 * does its own metrics), else 0: answered.
 */
static int
sq_server_pipeline(struct evhttp_request *req, void *arg)
{
    sq_req_t    r;
    sq_route_t  route;

    memset(&r, 0, sizeof(r));
    r.ctx = arg;
    r.req = req;

    if (sq_server_identity(&r) != 0 || sq_server_oauth(&r) != 0
        || sq_server_route(&r, &route) != 0)
    {
        return 0;
    }

    sq_metrics_route(&route);

    if (sq_server_authorize(&r, &route) != 0) {
        return 0;
    }

    /* every route: one call on the async link, no wait */
    if (sq_server_nonce(&r) == 0 && sq_server_membership(&r) == 0) {
        route.handler(&r);
    }

    return r.async;
}


/* the reply to a request counted in flight was sent */
static void
sq_server_done(struct evhttp_request *req, void *arg)
{
    sq_ctx_t  *ctx = arg;

    (void) req;

    if (ctx->in_flight > 0) {
        ctx->in_flight--;
    }
}


static void
sq_server_handle(struct evhttp_request *req, void *arg)
{
    sq_ctx_t  *ctx = arg;

    ctx->in_flight++;
    evhttp_request_set_on_complete_cb(req, sq_server_done, ctx);

    if (sq_metrics_serve(req)) {
        return;
    }

    /* issue 14: the authorization server's unsigned endpoints */
    if (sq_public_serve(ctx, req)) {
        return;
    }

    sq_metrics_begin();
    if (sq_server_pipeline(req, arg) == 0) {
        sq_metrics_end();
    }
}


int
sq_server_parse_listen(const char *s, char *host, size_t cap,
    uint16_t *port)
{
    size_t       hlen, i, plen;
    unsigned     v;
    const char  *colon;

    colon = strrchr(s, ':');
    if (colon == NULL) {
        return -1;
    }

    plen = strlen(colon + 1);
    v = 0;
    for (i = 0; i < plen; i++) {
        if (colon[1 + i] < '0' || colon[1 + i] > '9') {
            return -1;
        }
        v = v * 10 + (unsigned) (colon[1 + i] - '0');
        if (v > 65535) {
            return -1;
        }
    }

    hlen = (size_t) (colon - s);
    if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
        s++;
        hlen -= 2;
    }

    if (plen == 0 || v == 0 || hlen == 0 || hlen >= cap) {
        return -1;
    }

    memcpy(host, s, hlen);
    host[hlen] = '\0';
    *port = (uint16_t) v;

    return 0;
}


int
sq_server_start(sq_ctx_t *ctx, int fd)
{
    ctx->http = evhttp_new(ctx->base);
    if (ctx->http == NULL) {
        sq_log(SQ_LOG_ERR, "evhttp_new failed");
        return -1;
    }

    evhttp_set_max_body_size(ctx->http, SQ_TRANSPORT_BODY_MAX);
    evhttp_set_max_headers_size(ctx->http, SQ_HEADERS_MAX);
    evhttp_set_timeout(ctx->http, SQ_HTTP_TIMEOUT);
    /* every method evhttp knows reaches the router: JSON 405, not HTML */
    evhttp_set_allowed_methods(ctx->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST
                               | EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE
                               | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT
                               | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE
                               | EVHTTP_REQ_CONNECT);
    evhttp_set_default_content_type(ctx->http, "application/json");
    evhttp_set_gencb(ctx->http, sq_server_handle, ctx);

    /* evhttp owns fd from here: closed with the listener */
    ctx->bound = evhttp_accept_socket_with_handle(ctx->http, fd);
    if (ctx->bound == NULL) {
        sq_log(SQ_LOG_ERR, "cannot accept on the listening socket");
        evhttp_free(ctx->http);
        ctx->http = NULL;
        return -1;
    }

    return 0;
}


void
sq_server_close_listener(sq_ctx_t *ctx)
{
    if (ctx->http != NULL && ctx->bound != NULL) {
        evhttp_del_accept_socket(ctx->http, ctx->bound);
        ctx->bound = NULL;
    }
}


void
sq_server_stop(sq_ctx_t *ctx)
{
    sq_server_close_listener(ctx);

    if (ctx->http != NULL) {
        evhttp_free(ctx->http);
        ctx->http = NULL;
    }
}
