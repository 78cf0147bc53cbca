/*
 * sq_public: the authorization server's unsigned endpoints.  A request
 * whose path is not under /v1/ comes here before the identity check
 * (sq_server.c); only these paths are served, anything else goes on to
 * the pipeline and its 401:
 *
 *   GET|POST /signin, POST /signout             sq_signin.c
 *   GET|POST /oauth/authorize                   sq_consent.c
 *   POST /oauth/token                           sq_token.c
 *   POST /oauth/revoke                          sq_revoke.c
 *   GET /.well-known/oauth-authorization-server sq_token.c
 *
 * A request is an sq_pub_t from its arrival to its answer; its Redis
 * calls go on the asynchronous link (sq_aredis.h), one at a time, each
 * callback answering or sending the next.  Pages are HTML with a strict
 * CSP; the OAuth endpoints answer RFC 6749 JSON with no-store.
 */

#ifndef SQ_PUBLIC_H
#define SQ_PUBLIC_H

#include <stdint.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <hiredis/hiredis.h>

#include "sq_aredis.h"
#include "sq_argv.h"
#include "sq_ctx.h"
#include "sq_form.h"
#include "sq_identity.h"

/* generated strings: a 4-byte prefix and 40 base62 characters */
#define SQ_PUB_TOKEN_BODY   40
#define SQ_PUB_TOKEN_LEN    (4 + SQ_PUB_TOKEN_BODY)
#define SQ_PUB_CSRF_LEN     32
#define SQ_PUB_SESSION_TTL  28800
#define SQ_PUB_COOKIE       "sq_session"
#define SQ_PUB_EMAIL_MAX    254
#define SQ_PUB_IP_MAX       64
#define SQ_PUB_URI_MAX      512     /* a redirect URI */
#define SQ_PUB_CLIENT_MAX   64      /* a client_id */
#define SQ_PUB_WS_MAX       100     /* workspaces on a consent page */
#define SQ_PUB_SIGNIN_ACCT_MAX  5   /* failures per account, 15 min */
#define SQ_PUB_SIGNIN_IP_MAX    20  /* failures per IP, 15 min */

/* app fields as sq_oauth_read returns them (SQ_OAUTH_APP_FIELDS) */
enum {
    SQ_APP_F_ID = 0, SQ_APP_F_NAME, SQ_APP_F_TYPE, SQ_APP_F_REDIRECTS,
    SQ_APP_F_SCOPES, SQ_APP_F_WS, SQ_APP_F_STATUS, SQ_APP_F_SECRET,
    SQ_APP_F_PREV_SECRET, SQ_APP_F_PREV_UNTIL, SQ_APP_F_CLIENT_ID,
    SQ_APP_F_COUNT
};

typedef struct sq_pub_s  sq_pub_t;

struct sq_pub_s {
    sq_ctx_t               *ctx;
    struct evhttp_request  *req;
    const char             *route;      /* metrics label */
    uint64_t                start_us;
    int64_t                 now;
    int                     async;      /* a Redis call is in flight */
    int                     json;       /* answers JSON (OAuth endpoints) */
    int                     basic;      /* the client used Basic */
    uint64_t                app_id;     /* once known */
    uint64_t                user_id;    /* the session's, once known */
    sq_form_t               form;       /* the query or the body */
    char                    session[SQ_DIGEST_HEX_LEN + 1];    /* or "" */
    char                    client_id[SQ_PUB_CLIENT_MAX + 1];
    char                    secret[SQ_PUB_TOKEN_LEN + 1];  /* presented */
    char                    tok1[SQ_PUB_TOKEN_LEN + 1];    /* made here */
    char                    tok2[SQ_PUB_TOKEN_LEN + 1];
    char                    csrf[SQ_PUB_CSRF_LEN + 1];
    char                    key1[600];  /* Redis keys made here */
    char                    key2[600];
    char                    key3[600];
    char                    text[SQ_PUB_URI_MAX + 1];   /* a location */
    /* issue 14, browser: the consent form's redirect origin, for the
     * page's CSP form-action; "" on every other page */
    char                    form_to[SQ_PUB_URI_MAX + 1];
    char                    scopes[256];
    char                    wid[24];
    char                    ip[SQ_PUB_IP_MAX + 1];
    /* a reply kept while an outcome is recorded: a location, or a page */
    char                   *location;   /* malloc()ed */
    int                     err_status;
    const char             *err_title;
    const char             *err_text;
    /* issue 16, console: its own state (sq_console.h), freed with p */
    void                   *console;
    /* sq_client_auth's continuation */
    void                  (*next)(sq_pub_t *p, const redisReply *app);
};

/* 1 when it served req (a public path), 0: the pipeline's */
int sq_public_serve(sq_ctx_t *ctx, struct evhttp_request *req);

/* sends a's command; 0, or -1 after a 503 (p->async tells) */
int sq_pub_send(sq_pub_t *p, sq_argv_t *a, sq_aredis_fn fn);

/* the same, but -1 without a reply */
int sq_pub_send_quiet(sq_pub_t *p, sq_argv_t *a, sq_aredis_fn fn);

/* a callback's start: 0, or -1 after a 503 (no reply) or 500 */
int sq_pub_enter(sq_pub_t *p, const redisReply *reply);

/* a callback's end: frees p unless a next call is in flight */
void sq_pub_finish(sq_pub_t *p);

/* the FCALL head: fn, numkeys */
void sq_pub_fcall(sq_argv_t *a, const char *fn, int nkeys);

/* the form of the query (GET) or the x-www-form-urlencoded body (POST);
 * -1 after a reply */
int sq_pub_parse(sq_pub_t *p);

/* prefix + 40 base62 characters into out (SQ_PUB_TOKEN_LEN + 1) */
void sq_pub_token(const char *prefix, char *out);

/* 1 when s[0..len) is prefix + 40 base62 characters */
int sq_pub_token_shape(const char *prefix, const char *s, size_t len);

/* the keyed digest (hex) of s, with the backend's pepper */
void sq_pub_digest(const sq_pub_t *p, const char *s,
    char out[SQ_DIGEST_HEX_LEN + 1]);

/* the session cookie's digest into p->session ("" when none) */
void sq_pub_session(sq_pub_t *p);

/* "https" or "http" (X-Forwarded-Proto) and the Host (checked) */
int sq_pub_https(const sq_pub_t *p);
const char *sq_pub_host(const sq_pub_t *p);

/* the client's IP: X-Real-IP as the edge sets it, else the peer */
void sq_pub_client_ip(sq_pub_t *p);

/* the i-th string of an array reply, or "" */
const char *sq_pub_str(const redisReply *r, size_t i);

/* the status word of a function's reply {'OK', ...} or "" */
const char *sq_pub_status(const redisReply *r);

/* strict decimal id 1..2^53, or 0 */
uint64_t sq_pub_id(const char *s);

/* HTML: text escaped; a whole page; the reply */
void sq_pub_esc(struct evbuffer *b, const char *s);
/* a new page up to its title, title escaped: the caller ends the <title> */
struct evbuffer *sq_pub_head(const char *title);
struct evbuffer *sq_pub_page_begin(const char *title);
void sq_pub_page_send(sq_pub_t *p, int status, struct evbuffer *b);
/* the headers of an HTML reply: its CSP and Referrer-Policy, no-store */
void sq_pub_html_headers(sq_pub_t *p, const char *csp, const char *referrer);
void sq_pub_error_page(sq_pub_t *p, int status, const char *title,
    const char *text);

/* a redirect (302 for GET, 303 after a POST) */
void sq_pub_redirect(sq_pub_t *p, const char *location);

/* percent-encodes s (RFC 3986 unreserved kept) onto b */
void sq_pub_urlenc(struct evbuffer *b, const char *s);

/* RFC 6749 5.2 JSON error (400, or 401 + WWW-Authenticate for
 * invalid_client), no-store */
void sq_pub_oauth_error(sq_pub_t *p, const char *error,
    const char *description);

/* JSON 200, no-store; steals body (NULL: 500) */
void sq_pub_json(sq_pub_t *p, int status, char *body);

/* 503 or 500, as HTML or JSON by p->json */
void sq_pub_unavailable(sq_pub_t *p);
void sq_pub_internal(sq_pub_t *p);

/* the endpoints */
void sq_signin_get(sq_pub_t *p);
void sq_signin_post(sq_pub_t *p);
void sq_signout_post(sq_pub_t *p);
void sq_consent_get(sq_pub_t *p);
void sq_consent_post(sq_pub_t *p);
void sq_token_post(sq_pub_t *p);
void sq_revoke_post(sq_pub_t *p);
void sq_metadata_get(sq_pub_t *p);
/* issue 16: every page under /console/ (sq_console.c), and its state */
void sq_console_serve(sq_pub_t *p);
void sq_console_free(void *console);

/*
 * The client of a token or revoke request: client_secret_basic or
 * client_secret_post, or client_id alone for a public client.  Reads the
 * app (one call) and, once the client is authenticated, calls next(p,
 * app) where app is sq_oauth_read's field array.  Answers
 * invalid_request / invalid_client itself.
 */
typedef void (*sq_client_next_t)(sq_pub_t *p, const redisReply *app);
void sq_client_auth(sq_pub_t *p, sq_client_next_t next);

#endif /* SQ_PUBLIC_H */
