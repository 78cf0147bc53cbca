/*
 * sq_consent: GET /oauth/authorize (the checks, then sign-in or the
 * consent page) and POST /oauth/authorize (the decision).  Each reads
 * the app, the session and the user's workspaces with one call
 * (sq_oauth_read); the decision then issues the code, or records the
 * denial, with a second.  Until client_id and redirect_uri check out,
 * an error is a page and never a redirect; after that it goes back to
 * the client (RFC 6749 4.1.2.1).  Every outcome of a known app is
 * recorded (sq:app:{a<id>}:outcomes).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "sq_key.h"
#include "sq_keys.h"
#include "sq_log.h"
#include "sq_public.h"
#include "sq_redirect.h"

#define SQ_CONSENT_STATE_MAX    1024

/* what a scope lets an app do, in words */
static const struct {
    const char  *name;
    const char  *words;
} sq_consent_words[] = {
    { "chatbots:read", "See your chatbots" },
    { "chatbots:write", "Create, change and delete your chatbots" },
    { "social:read", "See your social accounts and posts" },
    { "social:write", "Create, change and delete your social accounts and "
                      "posts" },
    { "urls:read", "See your short links" },
    { "urls:write", "Create, change and delete your short links" },
    { "articles:read", "See your articles" },
    { "articles:write", "Create, change and delete your articles" },
    { "images:read", "See your images" },
    { "images:write", "Upload, change and delete your images" },
    { "media:read", "See your media files" },
    { "media:write", "Upload, change and delete your media files" },
    { "workspace:read", "See your profile and your workspaces" },
};

/* the parts of an authorize request that passed the checks */
typedef struct {
    const redisReply  *app;         /* sq_oauth_read's field array */
    const redisReply  *sess;        /* {user_id, csrf} or {} */
    const redisReply  *ws;          /* {id, name, ...} */
    const char        *owner;       /* the owner workspace's name */
    const char        *state;
    const char        *challenge;   /* or NULL */
} sq_consent_t;


static const char *
sq_consent_scope_words(const char *name)
{
    size_t  i;

    for (i = 0; i < sizeof(sq_consent_words) / sizeof(sq_consent_words[0]);
         i++)
    {
        if (strcmp(sq_consent_words[i].name, name) == 0) {
            return sq_consent_words[i].words;
        }
    }

    return name;
}


/* the pending reply, once the outcome is recorded (or could not be) */
static void
sq_consent_respond(sq_pub_t *p)
{
    if (p->location != NULL) {
        sq_pub_redirect(p, p->location);
        return;
    }

    sq_pub_error_page(p, p->err_status, p->err_title, p->err_text);
}


static void
sq_consent_recorded(redisReply *reply, void *data)
{
    sq_pub_t  *p = data;

    p->async = 0;

    if (reply == NULL || strcmp(sq_pub_status(reply), "OK") != 0) {
        sq_log(SQ_LOG_ERR, "authorize: app %llu: an outcome was not "
               "recorded", (unsigned long long) p->app_id);
    }

    sq_consent_respond(p);
    sq_pub_finish(p);
}


/* records outcome (denied | error) of app p->app_id, then answers */
static void
sq_consent_record(sq_pub_t *p, const char *outcome, const char *reason)
{
    sq_argv_t  a;

    if (p->app_id == 0) {
        sq_consent_respond(p);
        return;
    }

    snprintf(p->key1, sizeof(p->key1), SQ_K_APP_OUTCOMES,
             (unsigned long long) p->app_id);
    snprintf(p->key2, sizeof(p->key2), SQ_K_APP_OUTCOME_COUNTS,
             (unsigned long long) p->app_id);

    sq_pub_fcall(&a, "sq_oauth_outcome", 2);
    sq_argv_str(&a, p->key1);
    sq_argv_str(&a, p->key2);
    sq_argv_u64(&a, p->app_id);
    sq_argv_str(&a, outcome);
    sq_argv_str(&a, reason);
    if (p->user_id != 0) {
        sq_argv_u64(&a, p->user_id);
    } else {
        sq_argv_str(&a, "");
    }
    sq_argv_str(&a, p->wid);
    sq_argv_str(&a, p->scopes);
    sq_argv_fmt(&a, "%lld", (long long) p->now);

    if (sq_pub_send_quiet(p, &a, sq_consent_recorded) != 0) {
        sq_log(SQ_LOG_ERR, "authorize: app %llu: an outcome was not "
               "recorded", (unsigned long long) p->app_id);
        sq_consent_respond(p);
    }
}


/* an error page, recorded as an error of the app when it is known */
static void
sq_consent_page_error(sq_pub_t *p, int status, const char *reason,
    const char *title, const char *text)
{
    sq_log(SQ_LOG_INFO, "authorize: app %llu: %s",
           (unsigned long long) p->app_id, reason);

    p->err_status = status;
    p->err_title = title;
    p->err_text = text;
    sq_consent_record(p, "error", reason);
}


/* the client's redirect URI (p->text) with params appended */
static int
sq_consent_location(sq_pub_t *p, const char *name, const char *value,
    const char *desc, const char *state)
{
    size_t            len;
    struct evbuffer  *b;

    b = evbuffer_new();
    if (b == NULL) {
        return -1;
    }

    evbuffer_add_printf(b, "%s%c%s=", p->text,
                        strchr(p->text, '?') != NULL ? '&' : '?', name);
    sq_pub_urlenc(b, value);
    if (desc != NULL) {
        evbuffer_add_printf(b, "&error_description=");
        sq_pub_urlenc(b, desc);
    }
    if (state != NULL) {
        evbuffer_add_printf(b, "&state=");
        sq_pub_urlenc(b, state);
    }

    len = evbuffer_get_length(b);
    free(p->location);
    p->location = malloc(len + 1);
    if (p->location == NULL) {
        evbuffer_free(b);
        return -1;
    }

    evbuffer_remove(b, p->location, len);
    p->location[len] = '\0';
    evbuffer_free(b);

    return 0;
}


/* an error sent back to the client (the redirect URI is checked) */
static void
sq_consent_redirect_error(sq_pub_t *p, const char *outcome,
    const char *error, const char *desc)
{
    const char  *state;

    state = sq_form_get(&p->form, "state", NULL);
    if (state != NULL && strlen(state) > SQ_CONSENT_STATE_MAX) {
        state = NULL;
    }

    if (sq_consent_location(p, "error", error, desc, state) != 0) {
        sq_pub_internal(p);
        return;
    }

    sq_log(SQ_LOG_INFO, "authorize: app %llu: %s (%s)",
           (unsigned long long) p->app_id, error, desc != NULL ? desc : "");
    sq_consent_record(p, outcome, error);
}


static int
sq_consent_challenge_shape(const char *s)
{
    size_t  i;

    if (strlen(s) != 43) {
        return 0;
    }

    for (i = 0; i < 43; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * The requested scope within the app's: canonical into p->scopes, 0; or
 * -1.  keys:manage and apps:manage are never granted to an app.
 */
static int
sq_consent_scopes(sq_pub_t *p, const char *want, const char *allowed)
{
    int       s;
    uint32_t  req, app;

    if (sq_scopes_parse(want, strlen(want), &req) != 0 || req == 0
        || sq_scopes_parse(allowed, strlen(allowed), &app) != 0
        || (req & ~app) != 0)
    {
        return -1;
    }

    s = sq_scope_lookup("keys:manage", sizeof("keys:manage") - 1);
    if (s >= 0 && (req & SQ_SCOPE_BIT(s))) {
        return -1;
    }
    s = sq_scope_lookup("apps:manage", sizeof("apps:manage") - 1);
    if (s >= 0 && (req & SQ_SCOPE_BIT(s))) {
        return -1;
    }

    return sq_scopes_format(req, p->scopes, sizeof(p->scopes));
}


/*
 * The checks of RFC 6749 4.1.1 / 7636 / this server on what the read
 * returned.  0 when they pass (c is filled), -1 once the error is
 * answered or being recorded.
 */
static int
sq_consent_check(sq_pub_t *p, const redisReply *reply, sq_consent_t *c)
{
    size_t             len;
    const char        *uri, *rt, *scope, *method;
    const redisReply  *app;

    if (strcmp(sq_pub_status(reply), "NOTFOUND") == 0) {
        sq_pub_error_page(p, 400, "Unknown application",
                          "No application has this client_id.");
        return -1;
    }

    if (strcmp(sq_pub_status(reply), "OK") != 0 || reply->elements != 5
        || reply->element[1]->type != REDIS_REPLY_ARRAY
        || reply->element[1]->elements != SQ_APP_F_COUNT
        || reply->element[3]->type != REDIS_REPLY_ARRAY
        || reply->element[4]->type != REDIS_REPLY_ARRAY)
    {
        sq_log(SQ_LOG_ERR, "authorize: unexpected reply");
        sq_pub_internal(p);
        return -1;
    }

    app = reply->element[1];
    c->app = app;
    c->owner = sq_pub_str(reply, 2);
    c->sess = reply->element[3];
    c->ws = reply->element[4];
    p->app_id = sq_pub_id(sq_pub_str(app, SQ_APP_F_ID));
    if (p->app_id == 0) {
        sq_pub_internal(p);
        return -1;
    }

    if (c->sess->elements == 2) {
        p->user_id = sq_pub_id(sq_pub_str(c->sess, 0));
    }

    /* scopes as asked, for the outcome log, until they are checked */
    scope = sq_form_get(&p->form, "scope", &len);
    if (scope != NULL && len < sizeof(p->scopes)) {
        memcpy(p->scopes, scope, len + 1);
    }

    if (strcmp(sq_pub_str(app, SQ_APP_F_STATUS), "active") != 0) {
        sq_consent_page_error(p, 400, "app_disabled", "Application disabled",
                              "This application is not available.");
        return -1;
    }

    uri = sq_form_get(&p->form, "redirect_uri", &len);
    if (uri == NULL || len > SQ_PUB_URI_MAX
        || !sq_redirect_uri_valid(uri, len, NULL)
        || !sq_redirect_uri_listed(sq_pub_str(app, SQ_APP_F_REDIRECTS),
                                   strlen(sq_pub_str(app,
                                                     SQ_APP_F_REDIRECTS)),
                                   uri, len))
    {
        sq_consent_page_error(p, 400, "invalid_redirect_uri",
                              "Invalid redirect URI",
                              "The redirect_uri is missing or is not one "
                              "registered for this application. You were "
                              "not sent back to it.");
        return -1;
    }
    memcpy(p->text, uri, len + 1);

    /* from here, errors go back to the client */
    c->state = sq_form_get(&p->form, "state", &len);
    if (c->state == NULL || len > SQ_CONSENT_STATE_MAX) {
        sq_consent_redirect_error(p, "error", "invalid_request",
                                  "state is required (at most 1024 bytes)");
        return -1;
    }

    rt = sq_form_get(&p->form, "response_type", NULL);
    if (rt == NULL || strcmp(rt, "code") != 0) {
        sq_consent_redirect_error(p, "error", "unsupported_response_type",
                                  "response_type must be code");
        return -1;
    }

    if (scope == NULL
        || sq_consent_scopes(p, scope, sq_pub_str(app, SQ_APP_F_SCOPES))
           != 0)
    {
        sq_consent_redirect_error(p, "error", "invalid_scope",
                                  "scope must name scopes of this "
                                  "application");
        return -1;
    }

    c->challenge = sq_form_get(&p->form, "code_challenge", NULL);
    method = sq_form_get(&p->form, "code_challenge_method", NULL);

    if (method != NULL && strcmp(method, "S256") != 0) {
        sq_consent_redirect_error(p, "error", "invalid_request",
                                  "code_challenge_method must be S256");
        return -1;
    }

    if (c->challenge != NULL
        && (method == NULL || !sq_consent_challenge_shape(c->challenge)))
    {
        sq_consent_redirect_error(p, "error", "invalid_request",
                                  "code_challenge must be an S256 challenge "
                                  "with code_challenge_method=S256");
        return -1;
    }

    if (c->challenge == NULL && method != NULL) {
        sq_consent_redirect_error(p, "error", "invalid_request",
                                  "code_challenge is missing");
        return -1;
    }

    if (c->challenge == NULL
        && strcmp(sq_pub_str(app, SQ_APP_F_TYPE), "confidential") != 0)
    {
        sq_consent_redirect_error(p, "error", "invalid_request",
                                  "PKCE (code_challenge, S256) is required "
                                  "for public clients");
        return -1;
    }

    return 0;
}


static void
sq_consent_hidden(struct evbuffer *b, const char *name, const char *value)
{
    if (value == NULL) {
        return;
    }

    evbuffer_add_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"",
                        name);
    sq_pub_esc(b, value);
    evbuffer_add_printf(b, "\">\n");
}


/*
 * issue 14, browser: the origin of a redirect URI (scheme://host[:port])
 * into out, for the consent page's CSP form-action; "" when it holds a
 * byte that could not stand in a CSP source expression.
 */
static void
sq_consent_origin(const char *uri, char *out, size_t cap)
{
    size_t       n;
    const char  *h;

    out[0] = '\0';
    if (strncmp(uri, "https://", 8) == 0) {
        h = uri + 8;
    } else if (strncmp(uri, "http://", 7) == 0) {
        h = uri + 7;
    } else {
        return;
    }

    n = strcspn(h, "/?");
    if (n == 0 || strspn(h, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
                  < n
        || (size_t) (h - uri) + n >= cap)
    {
        return;
    }

    memcpy(out, uri, (size_t) (h - uri) + n);
    out[(size_t) (h - uri) + n] = '\0';
}


static void
sq_consent_page(sq_pub_t *p, const sq_consent_t *c)
{
    char               w[64];
    size_t             i, n;
    const char        *s, *e;
    struct evbuffer   *b;

    b = sq_pub_page_begin("Authorize");
    if (b == NULL) {
        sq_pub_page_send(p, 500, NULL);
        return;
    }

    evbuffer_add_printf(b, "<h1><span id=\"app-name\">");
    sq_pub_esc(b, sq_pub_str(c->app, SQ_APP_F_NAME));
    evbuffer_add_printf(b, "</span> wants to access your SmartlyQ "
                        "workspace</h1>\n<p>This application is owned by the "
                        "workspace <strong id=\"owner\">");
    sq_pub_esc(b, c->owner);
    evbuffer_add_printf(b, "</strong>.</p>\n"
                        "<form method=\"post\" action=\"/oauth/authorize\">"
                        "\n<div class=\"box\">\n");

    if (c->ws->elements == 2) {
        evbuffer_add_printf(b, "<p>Workspace to grant: <strong "
                            "id=\"workspace\">");
        sq_pub_esc(b, sq_pub_str(c->ws, 1));
        evbuffer_add_printf(b, "</strong></p>\n");
        sq_consent_hidden(b, "workspace_id", sq_pub_str(c->ws, 0));

    } else {
        evbuffer_add_printf(b, "<label for=\"workspace\">Workspace to grant"
                            "</label><select id=\"workspace\" "
                            "name=\"workspace_id\">\n");
        for (i = 0; i + 1 < c->ws->elements; i += 2) {
            evbuffer_add_printf(b, "<option value=\"");
            sq_pub_esc(b, sq_pub_str(c->ws, i));
            evbuffer_add_printf(b, "\">");
            sq_pub_esc(b, sq_pub_str(c->ws, i + 1));
            evbuffer_add_printf(b, "</option>\n");
        }
        evbuffer_add_printf(b, "</select>\n");
    }

    evbuffer_add_printf(b, "<p>It will be able to:</p>\n<ul id=\"scopes\">"
                        "\n");
    for (s = p->scopes; *s != '\0'; s = e + (*e == ' ')) {
        e = strchr(s, ' ');
        if (e == NULL) {
            e = s + strlen(s);
        }
        n = (size_t) (e - s);
        if (n >= sizeof(w)) {
            continue;
        }
        memcpy(w, s, n);
        w[n] = '\0';
        evbuffer_add_printf(b, "<li>");
        sq_pub_esc(b, sq_consent_scope_words(w));
        evbuffer_add_printf(b, " <small>(");
        sq_pub_esc(b, w);
        evbuffer_add_printf(b, ")</small></li>\n");
    }

    evbuffer_add_printf(b, "</ul>\n<p>You will be sent back to <code "
                        "id=\"redirect\">");
    sq_pub_esc(b, p->text);
    evbuffer_add_printf(b, "</code>.</p>\n</div>\n");

    sq_consent_hidden(b, "csrf", sq_pub_str(c->sess, 1));
    sq_consent_hidden(b, "client_id", p->client_id);
    sq_consent_hidden(b, "redirect_uri", p->text);
    sq_consent_hidden(b, "response_type", "code");
    sq_consent_hidden(b, "scope", p->scopes);
    sq_consent_hidden(b, "state", c->state);
    sq_consent_hidden(b, "code_challenge", c->challenge);
    if (c->challenge != NULL) {
        sq_consent_hidden(b, "code_challenge_method", "S256");
    }

    evbuffer_add_printf(b, "<button type=\"submit\" name=\"decision\" "
                        "value=\"approve\" id=\"approve\">Approve</button>"
                        "<button type=\"submit\" name=\"decision\" "
                        "value=\"deny\" id=\"deny\">Deny</button>\n"
                        "</form>\n");

    sq_consent_origin(p->text, p->form_to, sizeof(p->form_to));
    sq_pub_page_send(p, 200, b);
}


/* the sign-in page, coming back here after */
static void
sq_consent_signin(sq_pub_t *p)
{
    size_t                    len;
    const char               *q;
    struct evbuffer          *b;
    const struct evhttp_uri  *uri;

    uri = evhttp_request_get_evhttp_uri(p->req);
    q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;

    b = evbuffer_new();
    if (b == NULL) {
        sq_pub_internal(p);
        return;
    }

    evbuffer_add_printf(b, "/signin?next=");
    sq_pub_urlenc(b, "/oauth/authorize?");
    sq_pub_urlenc(b, q != NULL ? q : "");

    len = evbuffer_get_length(b);
    p->location = malloc(len + 1);
    if (p->location == NULL) {
        evbuffer_free(b);
        sq_pub_internal(p);
        return;
    }

    evbuffer_remove(b, p->location, len);
    p->location[len] = '\0';
    evbuffer_free(b);

    sq_pub_redirect(p, p->location);
}


static void
sq_consent_get_read(redisReply *reply, void *data)
{
    sq_pub_t      *p = data;
    sq_consent_t   c;

    if (sq_pub_enter(p, reply) != 0 || sq_consent_check(p, reply, &c) != 0)
    {
        goto done;
    }

    if (p->user_id == 0) {
        sq_consent_signin(p);
        goto done;
    }

    if (c.ws->elements < 2) {
        sq_consent_redirect_error(p, "error", "access_denied",
                                  "the user has no workspace to grant");
        goto done;
    }

    sq_consent_page(p, &c);

done:
    sq_pub_finish(p);
}


/* the read both methods start with; -1 after a reply */
static int
sq_consent_read(sq_pub_t *p, sq_aredis_fn fn)
{
    size_t       i, len;
    sq_argv_t    a;
    const char  *cid;

    cid = sq_form_get(&p->form, "client_id", &len);
    if (cid == NULL || len > SQ_PUB_CLIENT_MAX) {
        sq_pub_error_page(p, 400, "Unknown application",
                          "The request has no valid client_id.");
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (!((cid[i] >= 'a' && cid[i] <= 'z') || (cid[i] >= '0'
              && cid[i] <= '9') || cid[i] == '_'))
        {
            sq_pub_error_page(p, 400, "Unknown application",
                              "No application has this client_id.");
            return -1;
        }
    }
    memcpy(p->client_id, cid, len + 1);

    sq_pub_session(p);
    snprintf(p->key1, sizeof(p->key1), SQ_K_APP_CLIENT, p->client_id);
    if (p->session[0] != '\0') {
        snprintf(p->key2, sizeof(p->key2), SQ_K_SESSION, p->session);
    }

    sq_pub_fcall(&a, "sq_oauth_read", 2);
    sq_argv_str(&a, p->key1);
    sq_argv_str(&a, p->key2);

    return sq_pub_send(p, &a, fn);
}


void
sq_consent_get(sq_pub_t *p)
{
    if (sq_pub_parse(p) != 0) {
        return;
    }

    sq_consent_read(p, sq_consent_get_read);
}


static void
sq_consent_issued(redisReply *reply, void *data)
{
    sq_pub_t     *p = data;
    const char   *st;

    if (sq_pub_enter(p, reply) != 0) {
        goto done;
    }

    st = sq_pub_status(reply);

    if (strcmp(st, "OK") == 0) {
        if (sq_consent_location(p, "code", p->tok1, NULL,
                                sq_form_get(&p->form, "state", NULL))
            != 0)
        {
            sq_pub_internal(p);
            goto done;
        }
        sq_log(SQ_LOG_INFO, "authorize: app %llu: user %llu approved "
               "workspace %s, scopes \"%s\"",
               (unsigned long long) p->app_id,
               (unsigned long long) p->user_id, p->wid, p->scopes);
        sq_pub_redirect(p, p->location);

    } else if (strcmp(st, "FORBIDDEN") == 0) {
        sq_consent_redirect_error(p, "error", "access_denied",
                                  "the user is not a member of the "
                                  "workspace");
    } else if (strcmp(st, "NOTFOUND") == 0) {
        sq_pub_error_page(p, 400, "Application disabled",
                          "This application is not available.");
    } else {
        sq_pub_internal(p);
    }

done:
    sq_pub_finish(p);
}


static void
sq_consent_approve(sq_pub_t *p, const sq_consent_t *c)
{
    size_t       i, len;
    sq_argv_t    a;
    const char  *wid;
    char         digest[SQ_DIGEST_HEX_LEN + 1];

    wid = sq_form_get(&p->form, "workspace_id", &len);
    for (i = 0; wid != NULL && i + 1 < c->ws->elements; i += 2) {
        if (strcmp(sq_pub_str(c->ws, i), wid) == 0) {
            break;
        }
    }

    if (wid == NULL || i + 1 >= c->ws->elements || len >= sizeof(p->wid)) {
        sq_consent_page_error(p, 400, "invalid_workspace",
                              "Invalid workspace",
                              "Choose one of your workspaces.");
        return;
    }
    memcpy(p->wid, wid, len + 1);

    sq_pub_token("sqc_", p->tok1);
    sq_pub_digest(p, p->tok1, digest);

    snprintf(p->key1, sizeof(p->key1), SQ_K_OAUTH_CODE, digest);
    snprintf(p->key2, sizeof(p->key2), SQ_K_APP_OUTCOMES,
             (unsigned long long) p->app_id);
    snprintf(p->key3, sizeof(p->key3), SQ_K_APP_OUTCOME_COUNTS,
             (unsigned long long) p->app_id);

    sq_pub_fcall(&a, "sq_oauth_code_issue", 3);
    sq_argv_str(&a, p->key1);
    sq_argv_str(&a, p->key2);
    sq_argv_str(&a, p->key3);
    sq_argv_u64(&a, p->app_id);
    sq_argv_str(&a, p->client_id);
    sq_argv_str(&a, p->text);
    sq_argv_u64(&a, p->user_id);
    sq_argv_str(&a, p->wid);
    sq_argv_str(&a, p->scopes);
    sq_argv_str(&a, c->challenge != NULL ? c->challenge : "");
    sq_argv_fmt(&a, "%lld", (long long) p->now);

    sq_pub_send(p, &a, sq_consent_issued);
}


static void
sq_consent_post_read(redisReply *reply, void *data)
{
    size_t         len;
    sq_pub_t      *p = data;
    const char    *csrf, *decision, *want;
    sq_consent_t   c;

    if (sq_pub_enter(p, reply) != 0 || sq_consent_check(p, reply, &c) != 0)
    {
        goto done;
    }

    if (p->user_id == 0) {
        sq_pub_error_page(p, 401, "Signed out",
                          "Your session has ended. Sign in and start "
                          "again from the application.");
        goto done;
    }

    want = sq_pub_str(c.sess, 1);
    csrf = sq_form_get(&p->form, "csrf", &len);
    if (csrf == NULL || len != SQ_PUB_CSRF_LEN
        || strlen(want) != SQ_PUB_CSRF_LEN
        || sodium_memcmp(csrf, want, SQ_PUB_CSRF_LEN) != 0)
    {
        sq_log(SQ_LOG_WARN, "authorize: app %llu: consent without a valid "
               "CSRF token", (unsigned long long) p->app_id);
        sq_consent_page_error(p, 403, "csrf", "Form expired",
                              "This form is not valid any more. Start again "
                              "from the application.");
        goto done;
    }

    decision = sq_form_get(&p->form, "decision", NULL);

    if (decision != NULL && strcmp(decision, "deny") == 0) {
        sq_consent_redirect_error(p, "denied", "access_denied", NULL);
        goto done;
    }

    if (decision == NULL || strcmp(decision, "approve") != 0) {
        sq_pub_error_page(p, 400, "Bad request", "Approve or Deny.");
        goto done;
    }

    sq_consent_approve(p, &c);

done:
    sq_pub_finish(p);
}


void
sq_consent_post(sq_pub_t *p)
{
    if (sq_pub_parse(p) != 0) {
        return;
    }

    sq_consent_read(p, sq_consent_post_read);
}
