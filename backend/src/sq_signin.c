/*
 * sq_signin: end users' sign-in for the consent step.  Passwords are
 * Argon2id hashes (crypto_pwhash_str, set by `sqctl user password`);
 * a session is a random cookie value whose keyed digest names
 * sq:session:<digest> (8 h); failures are counted per account (5) and
 * per IP (20) over 15 minutes, and a limited sign-in is refused before
 * its password is looked at.
 */

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "sq_keys.h"
#include "sq_log.h"
#include "sq_public.h"

#define SQ_SIGNIN_PASSWORD_MAX  1024
#define SQ_SIGNIN_NEXT          "/oauth/authorize?"

/*
 * An Argon2id hash, at sqctl's cost, of a random password nobody kept:
 * verified against when the account is unknown or has no password, so
 * that such a sign-in takes as long as a wrong password (no account
 * enumeration by timing).
 */
#define SQ_SIGNIN_DUMMY_HASH                                                  \
    "$argon2id$v=19$m=19456,t=2,p=1$1YhycyFcT+Rgab9Z/Xzezw$"                  \
    "9rueM4N1anhoJATN+fDhWe1vfPPcgqvm7oRsM2M2nI4"


/* the form's next, when it is an authorize URL of this server, or NULL */
static const char *
sq_signin_next(const sq_pub_t *p)
{
    size_t       len;
    const char  *n;

    n = sq_form_get(&p->form, "next", &len);
    if (n == NULL || len > 4096
        || strncmp(n, SQ_SIGNIN_NEXT, sizeof(SQ_SIGNIN_NEXT) - 1) != 0)
    {
        return NULL;
    }

    return n;
}


static void
sq_signin_page(sq_pub_t *p, int status, const char *error)
{
    const char       *next, *email;
    struct evbuffer  *b;

    b = sq_pub_page_begin("Sign in");
    if (b == NULL) {
        sq_pub_page_send(p, 500, NULL);
        return;
    }

    evbuffer_add_printf(b, "<h1>Sign in to SmartlyQ</h1>\n");
    if (error != NULL) {
        evbuffer_add_printf(b, "<p class=\"err\" id=\"error\">");
        sq_pub_esc(b, error);
        evbuffer_add_printf(b, "</p>\n");
    }

    evbuffer_add_printf(b, "<form method=\"post\" action=\"/signin\">\n"
                        "<label for=\"email\">Email</label>"
                        "<input id=\"email\" name=\"email\" type=\"email\" "
                        "autocomplete=\"username\" required value=\"");
    email = sq_form_get(&p->form, "email", NULL);
    sq_pub_esc(b, email != NULL && strlen(email) <= SQ_PUB_EMAIL_MAX
                  ? email : "");
    evbuffer_add_printf(b, "\">\n<label for=\"password\">Password</label>"
                        "<input id=\"password\" name=\"password\" "
                        "type=\"password\" autocomplete=\"current-password\" "
                        "required>\n");

    next = sq_signin_next(p);
    if (next != NULL) {
        evbuffer_add_printf(b, "<input type=\"hidden\" name=\"next\" "
                            "value=\"");
        sq_pub_esc(b, next);
        evbuffer_add_printf(b, "\">\n");
    }

    evbuffer_add_printf(b, "<button type=\"submit\" id=\"signin\">"
                        "Sign in</button>\n</form>\n");

    sq_pub_page_send(p, status, b);
}


void
sq_signin_get(sq_pub_t *p)
{
    if (sq_pub_parse(p) != 0) {
        return;
    }

    sq_signin_page(p, 200, NULL);
}


static void
sq_signin_created(redisReply *reply, void *data)
{
    char              cookie[128];
    const char       *next;
    sq_pub_t         *p = data;
    struct evbuffer  *b;

    if (sq_pub_enter(p, reply) != 0) {
        goto done;
    }

    if (strcmp(sq_pub_status(reply), "OK") != 0) {
        sq_pub_internal(p);
        goto done;
    }

    snprintf(cookie, sizeof(cookie), SQ_PUB_COOKIE "=%s; Path=/; "
             "Max-Age=%d; HttpOnly; SameSite=Lax%s", p->tok1,
             SQ_PUB_SESSION_TTL, sq_pub_https(p) ? "; Secure" : "");
    evhttp_add_header(evhttp_request_get_output_headers(p->req),
                      "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof(cookie));

    sq_log(SQ_LOG_INFO, "signin: user %llu signed in from %s",
           (unsigned long long) p->user_id, p->ip);

    next = sq_signin_next(p);
    if (next != NULL) {
        sq_pub_redirect(p, next);
        goto done;
    }

    b = sq_pub_page_begin("Signed in");
    if (b != NULL) {
        evbuffer_add_printf(b, "<h1 id=\"signed-in\">You are signed in."
                            "</h1>\n<form method=\"post\" "
                            "action=\"/signout\"><button type=\"submit\">"
                            "Sign out</button></form>\n");
    }
    sq_pub_page_send(p, 200, b);

done:
    sq_pub_finish(p);
}


static void
sq_signin_failed(redisReply *reply, void *data)
{
    sq_pub_t  *p = data;

    if (sq_pub_enter(p, reply) == 0) {
        sq_signin_page(p, 401, "Wrong email or password.");
    }

    sq_pub_finish(p);
}


static void
sq_signin_success(sq_pub_t *p)
{
    sq_argv_t      a;
    unsigned char  raw[SQ_PUB_CSRF_LEN / 2];
    char           digest[SQ_DIGEST_HEX_LEN + 1];

    sq_pub_token("sqx_", p->tok1);
    sq_pub_digest(p, p->tok1, digest);
    snprintf(p->key1, sizeof(p->key1), SQ_K_SESSION, digest);

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(p->csrf, sizeof(p->csrf), raw, sizeof(raw));

    sq_pub_fcall(&a, "sq_oauth_session_new", 1);
    sq_argv_str(&a, p->key1);
    sq_argv_u64(&a, p->user_id);
    sq_argv_str(&a, p->csrf);
    sq_argv_fmt(&a, "%lld", (long long) p->now);
    sq_argv_fmt(&a, "%d", SQ_PUB_SESSION_TTL);

    sq_pub_send(p, &a, sq_signin_created);
}


static void
sq_signin_fail(sq_pub_t *p)
{
    sq_argv_t  a;

    sq_log(SQ_LOG_WARN, "signin: failed for an account from %s", p->ip);

    sq_pub_fcall(&a, "sq_oauth_signin_fail", 2);
    sq_argv_str(&a, p->key2);
    sq_argv_str(&a, p->key3);

    sq_pub_send(p, &a, sq_signin_failed);
}


static void
sq_signin_read(redisReply *reply, void *data)
{
    int          ok, real;
    char         h[crypto_pwhash_STRBYTES];
    size_t       len;
    uint64_t     uid;
    sq_pub_t    *p = data;
    const char  *pw, *hash;

    if (sq_pub_enter(p, reply) != 0) {
        goto done;
    }

    if (strcmp(sq_pub_status(reply), "OK") != 0 || reply->elements != 5) {
        sq_pub_internal(p);
        goto done;
    }

    if (atoll(sq_pub_str(reply, 1)) >= SQ_PUB_SIGNIN_ACCT_MAX
        || atoll(sq_pub_str(reply, 2)) >= SQ_PUB_SIGNIN_IP_MAX)
    {
        sq_log(SQ_LOG_WARN, "signin: rate limited (account or %s)", p->ip);
        evhttp_add_header(evhttp_request_get_output_headers(p->req),
                          "Retry-After", "900");
        sq_pub_error_page(p, 429, "Too many attempts",
                          "Too many failed sign-ins. Try again in 15 "
                          "minutes.");
        goto done;
    }

    uid = sq_pub_id(sq_pub_str(reply, 3));
    hash = sq_pub_str(reply, 4);
    pw = sq_form_get(&p->form, "password", &len);

    if (pw == NULL) {
        pw = "";
        len = 0;
    }

    real = uid != 0 && hash[0] != '\0' && strlen(hash) < sizeof(h);
    memset(h, 0, sizeof(h));
    snprintf(h, sizeof(h), "%s", real ? hash : SQ_SIGNIN_DUMMY_HASH);

    ok = crypto_pwhash_str_verify(h, pw, len) == 0 && real;

    /* the hash took the loop tens of ms: the next call's timer from now */
    event_base_update_cache_time(p->ctx->base);

    if (!ok) {
        sq_signin_fail(p);
        goto done;
    }

    p->user_id = uid;
    sq_signin_success(p);

done:
    sq_pub_finish(p);
}


void
sq_signin_post(sq_pub_t *p)
{
    size_t       i, elen, plen;
    sq_argv_t    a;
    const char  *email, *pw;

    if (sq_pub_parse(p) != 0) {
        return;
    }

    email = sq_form_get(&p->form, "email", &elen);
    pw = sq_form_get(&p->form, "password", &plen);

    if (email == NULL || pw == NULL || elen > SQ_PUB_EMAIL_MAX
        || plen > SQ_SIGNIN_PASSWORD_MAX || strchr(email, '@') == NULL)
    {
        sq_signin_page(p, 400, "Enter your email and password.");
        return;
    }

    /* the email, lower case: its index's key and its counter's */
    for (i = 0; i <= elen; i++) {
        p->text[i] = (char) (email[i] >= 'A' && email[i] <= 'Z'
                             ? email[i] - 'A' + 'a' : email[i]);
    }

    sq_pub_client_ip(p);
    snprintf(p->key1, sizeof(p->key1), SQ_K_USER_EMAIL, p->text);
    snprintf(p->key2, sizeof(p->key2), SQ_K_RATE_SIGNIN_ACCT, p->text);
    snprintf(p->key3, sizeof(p->key3), SQ_K_RATE_SIGNIN_IP, p->ip);

    sq_pub_fcall(&a, "sq_oauth_signin_read", 3);
    sq_argv_str(&a, p->key1);
    sq_argv_str(&a, p->key2);
    sq_argv_str(&a, p->key3);

    sq_pub_send(p, &a, sq_signin_read);
}


static void
sq_signout_done(redisReply *reply, void *data)
{
    sq_pub_t  *p = data;

    if (sq_pub_enter(p, reply) == 0) {
        evhttp_add_header(evhttp_request_get_output_headers(p->req),
                          "Set-Cookie", SQ_PUB_COOKIE "=; Path=/; "
                          "Max-Age=0; HttpOnly; SameSite=Lax");
        sq_pub_redirect(p, "/signin");
    }

    sq_pub_finish(p);
}


void
sq_signout_post(sq_pub_t *p)
{
    sq_argv_t  a;

    sq_pub_session(p);
    if (p->session[0] == '\0') {
        sq_pub_redirect(p, "/signin");
        return;
    }

    snprintf(p->key1, sizeof(p->key1), SQ_K_SESSION, p->session);

    sq_pub_fcall(&a, "sq_oauth_session_end", 1);
    sq_argv_str(&a, p->key1);

    sq_pub_send(p, &a, sq_signout_done);
}
