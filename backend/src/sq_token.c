/*
 * sq_token: POST /oauth/token (RFC 6749 4.1.3, 6; RFC 7636), the client
 * authentication it shares with the revocation endpoint (RFC 6749 2.3:
 * client_secret_basic, client_secret_post, or a public client's
 * client_id alone) and the metadata (RFC 8414).
 *
 * A request is two calls: the app (sq_oauth_read), whose secret digest
 * is compared here in constant time, then the grant's function, which
 * redeems the code or rotates the refresh token atomically and writes
 * the new access token as a key record (type oauth) the edge checks
 * like any key.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <sodium.h>

#include "sq_key.h"
#include "sq_keys.h"
#include "sq_log.h"
#include "sq_public.h"

#define SQ_TOKEN_BASIC_MAX  512
#define SQ_TOKEN_ACCESS_TTL 3600


/* percent-decodes s[0..len) ('+' is a space) into out; 0 or -1 */
static int
sq_token_decode(const char *s, size_t len, char *out, size_t cap)
{
    char      h[3];
    size_t    i, n;
    unsigned  v;

    for (i = 0, n = 0; i < len; i++) {
        if (n + 1 >= cap) {
            return -1;
        }

        if (s[i] == '%') {
            if (len - i < 3 || !strchr("0123456789abcdefABCDEF", s[i + 1])
                || !strchr("0123456789abcdefABCDEF", s[i + 2])
                || s[i + 1] == '\0' || s[i + 2] == '\0')
            {
                return -1;
            }
            h[0] = s[i + 1];
            h[1] = s[i + 2];
            h[2] = '\0';
            v = (unsigned) strtoul(h, NULL, 16);
            if (v < 0x20 || v == 0x7f) {
                return -1;
            }
            out[n++] = (char) v;
            i += 2;

        } else {
            out[n++] = s[i] == '+' ? ' ' : s[i];
        }
    }

    out[n] = '\0';

    return 0;
}


/*
 * Authorization: Basic base64(urlenc(id) ":" urlenc(secret)) into
 * p->client_id and p->secret; 1 when present, 0 when absent, -1 when
 * malformed.
 */
static int
sq_token_basic(sq_pub_t *p)
{
    int          rc;
    char         raw[SQ_TOKEN_BASIC_MAX + 1];
    size_t       len;
    const char  *h, *colon;

    h = evhttp_find_header(evhttp_request_get_input_headers(p->req),
                           "Authorization");
    if (h == NULL || strncasecmp(h, "Basic ", 6) != 0) {
        return 0;
    }

    h += 6;
    while (*h == ' ') {
        h++;
    }

    if (strlen(h) > 4 * SQ_TOKEN_BASIC_MAX / 3
        || sodium_base642bin((unsigned char *) raw, SQ_TOKEN_BASIC_MAX, h,
                             strlen(h), NULL, &len, NULL,
                             sodium_base64_VARIANT_ORIGINAL) != 0)
    {
        return -1;
    }
    raw[len] = '\0';

    colon = memchr(raw, ':', len);
    rc = -1;
    if (colon != NULL
        && sq_token_decode(raw, (size_t) (colon - raw), p->client_id,
                           sizeof(p->client_id)) == 0
        && sq_token_decode(colon + 1, len - (size_t) (colon - raw) - 1,
                           p->secret, sizeof(p->secret)) == 0)
    {
        rc = 1;
    }

    sodium_memzero(raw, sizeof(raw));

    return rc;
}


static int
sq_token_client_shape(const char *s)
{
    size_t  i, n;

    n = strlen(s);
    if (n == 0 || n > SQ_PUB_CLIENT_MAX) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
              || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


/* the presented secret against the app's (and a rotation's grace) */
static int
sq_token_secret_ok(const sq_pub_t *p, const redisReply *app)
{
    int          ok, okp;
    char         d[SQ_DIGEST_HEX_LEN + 1];
    const char  *cur, *prev;

    if (!sq_pub_token_shape("sqs_", p->secret, strlen(p->secret))) {
        return 0;
    }

    sq_pub_digest(p, p->secret, d);
    cur = sq_pub_str(app, SQ_APP_F_SECRET);
    prev = sq_pub_str(app, SQ_APP_F_PREV_SECRET);

    /* both compared whatever the first gives: the time tells nothing */
    ok = strlen(cur) == SQ_DIGEST_HEX_LEN
         && sodium_memcmp(d, cur, SQ_DIGEST_HEX_LEN) == 0;

    okp = strlen(prev) == SQ_DIGEST_HEX_LEN
          && sodium_memcmp(d, prev, SQ_DIGEST_HEX_LEN) == 0
          && p->now < atoll(sq_pub_str(app, SQ_APP_F_PREV_UNTIL));

    return ok || okp;
}


static void
sq_token_client_read(redisReply *reply, void *data)
{
    sq_pub_t          *p = data;
    const char        *type;
    const redisReply  *app;

    if (sq_pub_enter(p, reply) != 0) {
        goto done;
    }

    if (strcmp(sq_pub_status(reply), "NOTFOUND") == 0) {
        sq_log(SQ_LOG_INFO, "%s: unknown client_id", p->route);
        sq_pub_oauth_error(p, "invalid_client", "unknown client");
        goto done;
    }

    if (strcmp(sq_pub_status(reply), "OK") != 0 || reply->elements != 5
        || reply->element[1]->type != REDIS_REPLY_ARRAY
        || reply->element[1]->elements != SQ_APP_F_COUNT)
    {
        sq_pub_internal(p);
        goto done;
    }

    app = reply->element[1];
    p->app_id = sq_pub_id(sq_pub_str(app, SQ_APP_F_ID));
    type = sq_pub_str(app, SQ_APP_F_TYPE);

    if (p->app_id == 0
        || strcmp(sq_pub_str(app, SQ_APP_F_STATUS), "active") != 0)
    {
        sq_log(SQ_LOG_INFO, "%s: app %llu is not active", p->route,
               (unsigned long long) p->app_id);
        sq_pub_oauth_error(p, "invalid_client", "the client is disabled");
        goto done;
    }

    if (strcmp(type, "confidential") == 0) {
        if (!sq_token_secret_ok(p, app)) {
            sq_log(SQ_LOG_WARN, "%s: app %llu: wrong client secret",
                   p->route, (unsigned long long) p->app_id);
            sq_pub_oauth_error(p, "invalid_client",
                               "client authentication failed");
            goto done;
        }

    } else if (p->secret[0] != '\0') {
        sq_pub_oauth_error(p, "invalid_client", "a public client has no "
                           "secret");
        goto done;
    }

    sodium_memzero(p->secret, sizeof(p->secret));
    p->next(p, app);

done:
    sq_pub_finish(p);
}


void
sq_client_auth(sq_pub_t *p, sq_client_next_t next)
{
    int          basic;
    size_t       len;
    sq_argv_t    a;
    const char  *cid, *secret;

    p->next = next;

    basic = sq_token_basic(p);
    if (basic < 0) {
        sq_pub_oauth_error(p, "invalid_client", "malformed Basic "
                           "credentials");
        return;
    }

    cid = sq_form_get(&p->form, "client_id", &len);
    secret = sq_form_get(&p->form, "client_secret", NULL);

    if (basic) {
        p->basic = 1;
        if (secret != NULL) {
            sq_pub_oauth_error(p, "invalid_request", "more than one client "
                               "authentication method");
            return;
        }
        if (cid != NULL && strcmp(cid, p->client_id) != 0) {
            sq_pub_oauth_error(p, "invalid_request", "client_id differs "
                               "from the Basic credentials");
            return;
        }

    } else {
        if (cid == NULL) {
            sq_pub_oauth_error(p, "invalid_client", "client authentication "
                               "is required");
            return;
        }
        if (len >= sizeof(p->client_id)
            || (secret != NULL && strlen(secret) >= sizeof(p->secret)))
        {
            sq_pub_oauth_error(p, "invalid_client", "unknown client");
            return;
        }
        memcpy(p->client_id, cid, len + 1);
        if (secret != NULL) {
            memcpy(p->secret, secret, strlen(secret) + 1);
        }
    }

    if (!sq_token_client_shape(p->client_id)) {
        sq_pub_oauth_error(p, "invalid_client", "unknown client");
        return;
    }

    snprintf(p->key1, sizeof(p->key1), SQ_K_APP_CLIENT, p->client_id);

    sq_pub_fcall(&a, "sq_oauth_read", 2);
    sq_argv_str(&a, p->key1);
    sq_argv_str(&a, "");

    sq_pub_send(p, &a, sq_token_client_read);
}


/* the tokens' answer (RFC 6749 5.1) */
static void
sq_token_issued(redisReply *reply, void *data)
{
    sq_pub_t     *p = data;
    json_t       *o;
    const char   *st;

    if (sq_pub_enter(p, reply) != 0) {
        goto done;
    }

    st = sq_pub_status(reply);

    if (strcmp(st, "INVALID_GRANT") == 0) {
        sq_log(SQ_LOG_WARN, "token: app %llu: invalid_grant: %.80s",
               (unsigned long long) p->app_id, sq_pub_str(reply, 1));
        sq_pub_oauth_error(p, "invalid_grant", "the grant is invalid, "
                           "expired, revoked or another client's");
        goto done;
    }

    if (strcmp(st, "INVALID_SCOPE") == 0) {
        sq_pub_oauth_error(p, "invalid_scope", "a refresh may only narrow "
                           "the scopes granted");
        goto done;
    }

    if (strcmp(st, "OK") != 0 || reply->elements != 4) {
        sq_pub_internal(p);
        goto done;
    }

    sq_log(SQ_LOG_INFO, "token: app %llu: grant %s: access token id %s "
           "issued", (unsigned long long) p->app_id, sq_pub_str(reply, 1),
           sq_pub_str(reply, 3));

    o = json_pack("{s:s, s:s, s:i, s:s, s:s}", "access_token", p->tok1,
                  "token_type", "Bearer", "expires_in", SQ_TOKEN_ACCESS_TTL,
                  "refresh_token", p->tok2, "scope", sq_pub_str(reply, 2));
    sq_pub_json(p, 200, o != NULL ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);

done:
    sq_pub_finish(p);
}


/* new access and refresh tokens: their keys into key2, key3 */
static void
sq_token_new(sq_pub_t *p, char ad[SQ_DIGEST_HEX_LEN + 1],
    char rd[SQ_DIGEST_HEX_LEN + 1])
{
    sq_pub_token("sqo_", p->tok1);
    sq_pub_token("sqr_", p->tok2);
    sq_pub_digest(p, p->tok1, ad);
    sq_pub_digest(p, p->tok2, rd);
    snprintf(p->key2, sizeof(p->key2), SQ_K_KEY, ad);
    snprintf(p->key3, sizeof(p->key3), SQ_K_REFRESH, rd);
}


/* RFC 7636 4.1: 43..128 unreserved characters */
static int
sq_token_verifier_shape(const char *s, size_t len)
{
    size_t  i;

    if (len < 43 || len > 128) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'
              || s[i] == '_' || s[i] == '~'))
        {
            return 0;
        }
    }

    return 1;
}


static void
sq_token_code(sq_pub_t *p, const redisReply *app)
{
    char           ad[SQ_DIGEST_HEX_LEN + 1], rd[SQ_DIGEST_HEX_LEN + 1];
    char           cd[SQ_DIGEST_HEX_LEN + 1], challenge[64];
    size_t         len, vlen;
    sq_argv_t      a;
    const char    *code, *uri, *verifier;
    unsigned char  h[crypto_hash_sha256_BYTES];

    (void) app;

    code = sq_form_get(&p->form, "code", &len);
    uri = sq_form_get(&p->form, "redirect_uri", NULL);
    verifier = sq_form_get(&p->form, "code_verifier", &vlen);

    if (code == NULL || uri == NULL) {
        sq_pub_oauth_error(p, "invalid_request", "code and redirect_uri are "
                           "required");
        return;
    }

    if (verifier != NULL && !sq_token_verifier_shape(verifier, vlen)) {
        sq_pub_oauth_error(p, "invalid_request", "code_verifier must be 43 "
                           "to 128 unreserved characters");
        return;
    }

    if (!sq_pub_token_shape("sqc_", code, len)) {
        sq_pub_oauth_error(p, "invalid_grant", "the grant is invalid, "
                           "expired, revoked or another client's");
        return;
    }

    challenge[0] = '\0';
    if (verifier != NULL) {
        crypto_hash_sha256(h, (const unsigned char *) verifier, vlen);
        sodium_bin2base64(challenge, sizeof(challenge), h, sizeof(h),
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    }

    sq_pub_digest(p, code, cd);
    snprintf(p->key1, sizeof(p->key1), SQ_K_OAUTH_CODE, cd);
    sq_token_new(p, ad, rd);

    sq_pub_fcall(&a, "sq_oauth_code_redeem", 3);
    sq_argv_str(&a, p->key1);
    sq_argv_str(&a, p->key2);
    sq_argv_str(&a, p->key3);
    sq_argv_u64(&a, p->app_id);
    sq_argv_str(&a, uri);
    sq_argv_str(&a, challenge);
    sq_argv_fmt(&a, "%lld", (long long) p->now);
    sq_argv_str(&a, ad);
    sq_argv_str(&a, rd);
    sq_argv_str(&a, p->tok1 + SQ_PUB_TOKEN_LEN - 4);

    sq_pub_send(p, &a, sq_token_issued);
}


static void
sq_token_refresh(sq_pub_t *p, const redisReply *app)
{
    char          ad[SQ_DIGEST_HEX_LEN + 1], rd[SQ_DIGEST_HEX_LEN + 1];
    char          od[SQ_DIGEST_HEX_LEN + 1];
    size_t        len;
    uint32_t      mask;
    sq_argv_t     a;
    const char   *rt, *scope;

    (void) app;

    rt = sq_form_get(&p->form, "refresh_token", &len);
    scope = sq_form_get(&p->form, "scope", NULL);

    if (rt == NULL) {
        sq_pub_oauth_error(p, "invalid_request", "refresh_token is "
                           "required");
        return;
    }

    if (scope != NULL
        && (sq_scopes_parse(scope, strlen(scope), &mask) != 0 || mask == 0
            || sq_scopes_format(mask, p->scopes, sizeof(p->scopes)) != 0))
    {
        sq_pub_oauth_error(p, "invalid_scope", "unknown scope");
        return;
    }

    if (!sq_pub_token_shape("sqr_", rt, len)) {
        sq_pub_oauth_error(p, "invalid_grant", "the grant is invalid, "
                           "expired, revoked or another client's");
        return;
    }

    sq_pub_digest(p, rt, od);
    snprintf(p->key1, sizeof(p->key1), SQ_K_REFRESH, od);
    sq_token_new(p, ad, rd);

    sq_pub_fcall(&a, "sq_oauth_refresh", 3);
    sq_argv_str(&a, p->key1);
    sq_argv_str(&a, p->key2);
    sq_argv_str(&a, p->key3);
    sq_argv_u64(&a, p->app_id);
    sq_argv_str(&a, p->scopes);
    sq_argv_fmt(&a, "%lld", (long long) p->now);
    sq_argv_str(&a, ad);
    sq_argv_str(&a, rd);
    sq_argv_str(&a, p->tok1 + SQ_PUB_TOKEN_LEN - 4);

    sq_pub_send(p, &a, sq_token_issued);
}


void
sq_token_post(sq_pub_t *p)
{
    const char  *gt;

    if (sq_pub_parse(p) != 0) {
        return;
    }

    gt = sq_form_get(&p->form, "grant_type", NULL);
    if (gt == NULL) {
        sq_pub_oauth_error(p, "invalid_request", "grant_type is required");
        return;
    }

    if (strcmp(gt, "authorization_code") == 0) {
        sq_client_auth(p, sq_token_code);
    } else if (strcmp(gt, "refresh_token") == 0) {
        sq_client_auth(p, sq_token_refresh);
    } else {
        sq_pub_oauth_error(p, "unsupported_grant_type", NULL);
    }
}


/* RFC 8414: what a client library discovers */
void
sq_metadata_get(sq_pub_t *p)
{
    int          s;
    char         base[300];
    json_t      *o, *scopes;
    const char  *name;

    snprintf(base, sizeof(base), "%s://%s", sq_pub_https(p) ? "https"
             : "http", sq_pub_host(p));

    scopes = json_array();
    for (s = 0; scopes != NULL && s < SQ_SCOPE_COUNT; s++) {
        name = sq_scope_name((sq_scope_t) s);
        if (strcmp(name, "keys:manage") != 0
            && strcmp(name, "apps:manage") != 0)
        {
            json_array_append_new(scopes, json_string(name));
        }
    }

    o = json_pack("{s:s, s:s+, s:s+, s:s+, s:[s], s:[s], s:[ss], "
                  "s:[sss], s:[sss], s:[s], s:o}",
                  "issuer", base,
                  "authorization_endpoint", base, "/oauth/authorize",
                  "token_endpoint", base, "/oauth/token",
                  "revocation_endpoint", base, "/oauth/revoke",
                  "response_types_supported", "code",
                  "response_modes_supported", "query",
                  "grant_types_supported", "authorization_code",
                  "refresh_token",
                  "token_endpoint_auth_methods_supported",
                  "client_secret_basic", "client_secret_post", "none",
                  "revocation_endpoint_auth_methods_supported",
                  "client_secret_basic", "client_secret_post", "none",
                  "code_challenge_methods_supported", "S256",
                  "scopes_supported", scopes);

    sq_pub_json(p, 200, o != NULL ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}
