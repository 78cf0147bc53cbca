/*
 * sq_signin: end users' sign-in for the consent step.  Passwords are
 * Argon2id hashes (crypto_pwhash_str, set by `sqctl user password`);
 * a session is a random cookie value whose keyed digest names
 * sq:session:<digest> (8 h); failures are counted per account (5) and
 * per IP (20) over 15 minutes, and a limited sign-in is refused before
 * its password is looked at.
 *
 * The Argon2id verify (about 60 ms of CPU) runs in a thread of its own,
 * never on the worker's event loop: the worker goes on serving while it
 * runs, and the thread's end wakes the loop through a pipe.  At most
 * SQ_SIGNIN_VERIFY_MAX run at once per worker (each holds 19 MiB); a
 * sign-in beyond them gets 503 with Retry-After.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "sq_keys.h"
#include "sq_log.h"
#include "sq_public.h"

#define SQ_SIGNIN_PASSWORD_MAX  1024
#define SQ_SIGNIN_NEXT          "/oauth/authorize?"
#define SQ_SIGNIN_NEXT_CONSOLE  "/console/"     /* issue 16 */
#define SQ_SIGNIN_VERIFY_MAX    2       /* verifies at once, per worker */

/*
 * An Argon2id hash, at sqctl's cost, of a random password nobody kept:
 * verified against when the account is unknown or has no password, so
 * that such a sign-in takes as long as a wrong password (no account
 * enumeration by timing).
 */
#define SQ_SIGNIN_DUMMY_HASH                                                  \
    "$argon2id$v=19$m=19456,t=2,p=1$1YhycyFcT+Rgab9Z/Xzezw$"                  \
    "9rueM4N1anhoJATN+fDhWe1vfPPcgqvm7oRsM2M2nI4"


/* the form's next, when it is an authorize URL of this server or a
 * console page, or NULL */
static const char *
sq_signin_next(const sq_pub_t *p)
{
    size_t       len;
    const char  *n;

    n = sq_form_get(&p->form, "next", &len);
    if (n == NULL || len > 4096
        || (strncmp(n, SQ_SIGNIN_NEXT, sizeof(SQ_SIGNIN_NEXT) - 1) != 0
            && strncmp(n, SQ_SIGNIN_NEXT_CONSOLE,
                       sizeof(SQ_SIGNIN_NEXT_CONSOLE) - 1) != 0))
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


/* one password verify, handed to a thread and back to the loop */
typedef struct {
    sq_pub_t      *p;
    pthread_t      tid;
    int            fd[2];           /* the thread writes, the loop reads */
    struct event  *ev;
    uint64_t       uid;
    int            real;            /* an account with a password */
    int            ok;              /* set by the thread */
    size_t         len;
    char           hash[crypto_pwhash_STRBYTES];
    char           pw[SQ_SIGNIN_PASSWORD_MAX + 1];
} sq_signin_verify_t;


static void
sq_signin_verify_free(sq_signin_verify_t *v)
{
    if (v->ev != NULL) {
        event_free(v->ev);
    }

    if (v->fd[0] >= 0) {
        close(v->fd[0]);
    }

    if (v->fd[1] >= 0) {
        close(v->fd[1]);
    }

    sodium_memzero(v->pw, sizeof(v->pw));
    free(v);
}


static void *
sq_signin_thread(void *arg)
{
    char                 one;
    ssize_t              n;
    sq_signin_verify_t  *v = arg;

    v->ok = crypto_pwhash_str_verify(v->hash, v->pw, v->len) == 0;

    one = 1;
    do {
        n = write(v->fd[1], &one, 1);
    } while (n < 0 && errno == EINTR);

    return NULL;
}


/* on the loop: the thread is done (its byte is in the pipe) */
static void
sq_signin_verified(evutil_socket_t fd, short what, void *arg)
{
    int                  ok;
    char                 byte;
    ssize_t              n;
    sq_pub_t            *p;
    sq_signin_verify_t  *v = arg;

    (void) what;

    do {
        n = read(fd, &byte, 1);
    } while (n < 0 && errno == EINTR);

    pthread_join(v->tid, NULL);

    p = v->p;
    ok = v->ok && v->real;
    p->user_id = ok ? v->uid : 0;
    p->ctx->signin_verifying--;
    sq_signin_verify_free(v);

    p->async = 0;

    if (ok) {
        sq_signin_success(p);
    } else {
        sq_signin_fail(p);
    }

    sq_pub_finish(p);
}


/* the verify in a thread; 0, or -1 when it could not start (answered) */
static int
sq_signin_verify(sq_pub_t *p, uint64_t uid, const char *hash,
    const char *pw, size_t len)
{
    sq_signin_verify_t  *v;

    if (p->ctx->signin_verifying >= SQ_SIGNIN_VERIFY_MAX) {
        sq_log(SQ_LOG_WARN, "signin: %u verifies running, one more "
               "refused (503)", p->ctx->signin_verifying);
        sq_pub_unavailable(p);
        return -1;
    }

    v = calloc(1, sizeof(*v));
    if (v == NULL) {
        sq_pub_unavailable(p);
        return -1;
    }

    v->p = p;
    v->uid = uid;
    v->fd[0] = v->fd[1] = -1;
    v->real = uid != 0 && hash[0] != '\0' && strlen(hash) < sizeof(v->hash);
    snprintf(v->hash, sizeof(v->hash), "%s",
             v->real ? hash : SQ_SIGNIN_DUMMY_HASH);
    memcpy(v->pw, pw, len);
    v->len = len;

    if (pipe(v->fd) != 0
        || fcntl(v->fd[0], F_SETFD, FD_CLOEXEC) != 0
        || fcntl(v->fd[1], F_SETFD, FD_CLOEXEC) != 0
        || (v->ev = event_new(p->ctx->base, v->fd[0], EV_READ,
                              sq_signin_verified, v)) == NULL
        || event_add(v->ev, NULL) != 0)
    {
        sq_log(SQ_LOG_ERR, "signin: cannot wait for a verify: %s",
               strerror(errno));
        sq_signin_verify_free(v);
        sq_pub_unavailable(p);
        return -1;
    }

    if (pthread_create(&v->tid, NULL, sq_signin_thread, v) != 0) {
        sq_log(SQ_LOG_ERR, "signin: cannot start a verify thread");
        sq_signin_verify_free(v);
        sq_pub_unavailable(p);
        return -1;
    }

    p->ctx->signin_verifying++;
    p->async = 1;

    return 0;
}


static void
sq_signin_read(redisReply *reply, void *data)
{
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

    if (pw == NULL || len > SQ_SIGNIN_PASSWORD_MAX) {
        pw = "";
        len = 0;
    }

    (void) sq_signin_verify(p, uid, hash, pw, len);

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
