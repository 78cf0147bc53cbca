/*
 * Identity verification: accepted and rejected header sets, bodies and
 * Content-Types; nonces claimed once in a private Redis.
 */

#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sq_auth.h"
#include "sq_nonce.h"
#include "tests.h"

#define T_NOW  1795000000

typedef struct {
    const char  *method;
    const char  *uri;
    const char  *uid;
    const char  *kid;
    const char  *ws;
    const char  *mode;
    const char  *type;
    const char  *scopes;
    const char  *kws;
    const char  *app;       /* "" for a key */
    const char  *ts;
    const char  *nonce;
    const char  *ct;        /* NULL: no Content-Type header */
    const char  *body;      /* NULL: no body */
} t_fields_t;

static const uint8_t  t_secret[SQ_SECRET_BYTES] = { 1, 2, 3, 4, 5 };


static sq_str_t
t_str(const char *s)
{
    sq_str_t  v = { s, strlen(s) };

    return v;
}


/* hex digest of s, or "" for NULL (and for "" when empty is none) */
static sq_str_t
t_digest(const char *s, int empty_is_none, char hex[SQ_DIGEST_HEX_LEN + 1])
{
    hex[0] = '\0';

    if (s != NULL && !(empty_is_none && s[0] == '\0')) {
        sq_content_digest_hex(s, strlen(s), hex);
    }

    return t_str(hex);
}


static void
t_sign(const uint8_t *secret, const t_fields_t *f,
    char out[SQ_MAC_HEX_LEN + 1])
{
    char           ct[SQ_DIGEST_HEX_LEN + 1], body[SQ_DIGEST_HEX_LEN + 1];
    sq_identity_t  id;

    id.method = t_str(f->method);
    id.uri = t_str(f->uri);
    id.user_id = t_str(f->uid);
    id.key_id = t_str(f->kid);
    id.workspace_id = t_str(f->ws);
    id.mode = t_str(f->mode);
    id.key_type = t_str(f->type);
    id.scopes = t_str(f->scopes);
    id.key_workspaces = t_str(f->kws);
    id.app_id = t_str(f->app);
    id.timestamp = t_str(f->ts);
    id.nonce = t_str(f->nonce);
    id.content_type = t_digest(f->ct, 0, ct);
    id.body = t_digest(f->body, 1, body);
    sq_identity_sign_hex(secret, &id, out);
}


/*
 * The headers the edge sends for f, Body-Digest from digest_of (the body
 * the edge read), Content-Type from f.
 */
static void
t_headers_body(struct evkeyvalq *h, const t_fields_t *f, const char *sig,
    const t_fields_t *digest_of)
{
    char  body[SQ_DIGEST_HEX_LEN + 1];

    TAILQ_INIT(h);
    evhttp_add_header(h, "Host", "backend");
    evhttp_add_header(h, "X-SmartlyQ-User-Id", f->uid);
    evhttp_add_header(h, "X-SmartlyQ-Key-Id", f->kid);
    evhttp_add_header(h, "X-SmartlyQ-Workspace-Id", f->ws);
    evhttp_add_header(h, "X-SmartlyQ-Key-Mode", f->mode);
    evhttp_add_header(h, "X-SmartlyQ-Key-Type", f->type);
    evhttp_add_header(h, "X-SmartlyQ-Key-Scopes", f->scopes);
    evhttp_add_header(h, "X-SmartlyQ-Key-Workspaces", f->kws);
    evhttp_add_header(h, "X-SmartlyQ-App-Id", f->app);
    evhttp_add_header(h, "X-SmartlyQ-Timestamp", f->ts);
    evhttp_add_header(h, "X-SmartlyQ-Nonce", f->nonce);
    evhttp_add_header(h, "X-SmartlyQ-Body-Digest",
                      t_digest(digest_of->body, 1, body).data);
    evhttp_add_header(h, "X-SmartlyQ-Signature", sig);
    if (f->ct != NULL) {
        evhttp_add_header(h, "Content-Type", f->ct);
    }
}


static void
t_headers(struct evkeyvalq *h, const t_fields_t *f, const char *sig)
{
    t_headers_body(h, f, sig, f);
}


/* verifies h with sent's method, uri and body at T_NOW */
static sq_auth_rc_t
t_verify(struct evkeyvalq *h, const t_fields_t *sent, sq_ident_t *out)
{
    sq_auth_rc_t      rc;
    struct evbuffer  *b;

    b = evbuffer_new();
    ck_assert_ptr_nonnull(b);
    if (sent->body != NULL) {
        ck_assert_int_eq(evbuffer_add(b, sent->body, strlen(sent->body)), 0);
    }

    rc = sq_auth_verify(t_secret, h, sent->method, sent->uri, b, T_NOW, out);
    evbuffer_free(b);

    return rc;
}


/*
 * Signs "signd", sends "sent" with method/uri less the headers named drop
 * and drop2 (either may be NULL), checks at T_NOW.
 */
static sq_auth_rc_t
t_check_less(const t_fields_t *signd, const t_fields_t *sent,
    const char *drop, const char *drop2, sq_ident_t *out)
{
    char              sig[SQ_MAC_HEX_LEN + 1];
    sq_auth_rc_t      rc;
    struct evkeyvalq  h;

    t_sign(t_secret, signd, sig);
    t_headers_body(&h, sent, sig, signd);
    if (drop != NULL) {
        evhttp_remove_header(&h, drop);
    }
    if (drop2 != NULL) {
        evhttp_remove_header(&h, drop2);
    }
    rc = t_verify(&h, sent, out);
    evhttp_clear_headers(&h);

    return rc;
}


/* Signs "signd", sends "sent" with method/uri, checks at T_NOW. */
static sq_auth_rc_t
t_check(const t_fields_t *signd, const t_fields_t *sent, sq_ident_t *out)
{
    return t_check_less(signd, sent, NULL, NULL, out);
}


static const t_fields_t  t_base = {
    "GET", "/v1/social/accounts?workspace_id=5", "12", "34", "5", "live",
    "secret", "social:read social:write", "", "", "1795000000",
    "0123456789abcdef0123456789abcdef", NULL, NULL
};

/* a write with a JSON body */
static const t_fields_t  t_post = {
    "POST", "/v1/articles?workspace_id=5", "12", "34", "5", "live",
    "secret", "articles:write", "", "", "1795000000",
    "fedcba9876543210fedcba9876543210", "application/json",
    "{\"title\": \"a\", \"body\": \"b\"}"
};


START_TEST(test_accept)
{
    sq_ident_t  id;

    ck_assert_int_eq(t_check(&t_base, &t_base, &id), SQ_AUTH_OK);
    ck_assert_uint_eq(id.user_id, 12);
    ck_assert_uint_eq(id.key_id, 34);
    ck_assert_uint_eq(id.workspace_id, 5);
    ck_assert_int_eq(id.test_mode, 0);
    ck_assert_int_eq(id.publishable, 0);
    ck_assert_uint_eq(id.scopes, SQ_SCOPE_BIT(SQ_SC_SOCIAL_READ)
                                 | SQ_SCOPE_BIT(SQ_SC_SOCIAL_WRITE));
    ck_assert_uint_eq(id.key_ws.n, 0);
}
END_TEST


START_TEST(test_accept_v2_fields)
{
    sq_ident_t  id;
    t_fields_t  f = t_base;

    f.type = "publishable";
    f.scopes = "media:read chatbots:read workspace:read";
    f.kws = "5,7,9007199254740991";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_OK);
    ck_assert_int_eq(id.publishable, 1);
    ck_assert_uint_eq(id.scopes, SQ_SCOPE_BIT(SQ_SC_MEDIA_READ)
                                 | SQ_SCOPE_BIT(SQ_SC_CHATBOTS_READ)
                                 | SQ_SCOPE_BIT(SQ_SC_WORKSPACE_READ));
    ck_assert_uint_eq(id.key_ws.n, 3);
    ck_assert_uint_eq(id.key_ws.ids[1], 7);
    ck_assert_uint_eq(id.key_ws.ids[2], 9007199254740991ULL);

    f.scopes = "";
    f.kws = "";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_OK);
    ck_assert_uint_eq(id.scopes, 0);
}
END_TEST


/*
 * An OAuth access token (issue 14): type oauth, live, its app's id and
 * exactly one workspace; the app id is signed.
 */
START_TEST(test_oauth_identity)
{
    size_t       i;
    sq_ident_t   id;
    t_fields_t   f = t_base, g;
    static const struct {
        const char  *mode;
        const char  *kws;
        const char  *app;
    } bad[] = {
        { "live", "5", "" },            /* a token names its app */
        { "live", "5", "0" },
        { "live", "5", "3a" },
        { "live", "5", "-3" },
        { "test", "5", "3" },           /* tokens are live */
        { "live", "", "3" },            /* and bound to one workspace */
        { "live", "5,6", "3" }
    };

    f.type = "oauth";
    f.kws = "5";
    f.app = "3";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_OK);
    ck_assert_int_eq(id.oauth, 1);
    ck_assert_int_eq(id.publishable, 0);
    ck_assert_uint_eq(id.app_id, 3);
    ck_assert_uint_eq(id.key_ws.n, 1);
    ck_assert_uint_eq(id.key_ws.ids[0], 5);

    /* with no workspace named, still accepted (the server pins it) */
    g = f;
    g.ws = "";
    ck_assert_int_eq(t_check(&g, &g, &id), SQ_AUTH_OK);
    ck_assert_uint_eq(id.workspace_id, 0);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        g = f;
        g.mode = bad[i].mode;
        g.kws = bad[i].kws;
        g.app = bad[i].app;
        ck_assert_msg(t_check(&g, &g, &id) == SQ_AUTH_MALFORMED,
                      "oauth %s kws \"%s\" app \"%s\" accepted",
                      bad[i].mode, bad[i].kws, bad[i].app);
        ck_assert_int_eq(id.oauth, 0);
        ck_assert_uint_eq(id.app_id, 0);
    }

    /* a key never names an app */
    g = t_base;
    g.app = "3";
    ck_assert_int_eq(t_check(&g, &g, &id), SQ_AUTH_MALFORMED);

    /* another app than the one signed, or none: refused */
    g = f;
    g.app = "4";
    ck_assert_int_eq(t_check(&f, &g, &id), SQ_AUTH_SIGNATURE);
    ck_assert_int_ne(t_check_less(&f, &f, "X-SmartlyQ-App-Id", NULL, &id),
                     SQ_AUTH_OK);

    /* a token signed as a secret key's identity: refused */
    g = f;
    g.type = "secret";
    g.app = "";
    ck_assert_int_eq(t_check(&g, &f, &id), SQ_AUTH_SIGNATURE);
}
END_TEST


/* empty scopes and key workspaces may also come as absent headers */
START_TEST(test_accept_empty_headers_absent)
{
    sq_ident_t  id;
    t_fields_t  f = t_base;

    f.scopes = "";
    f.kws = "";
    ck_assert_int_eq(t_check_less(&f, &f, "X-SmartlyQ-Key-Scopes",
                                  "X-SmartlyQ-Key-Workspaces", &id),
                     SQ_AUTH_OK);

    /* the type is required */
    ck_assert_int_eq(t_check_less(&f, &f, "X-SmartlyQ-Key-Type", NULL, &id),
                     SQ_AUTH_MISSING);
}
END_TEST


START_TEST(test_v2_malformed)
{
    size_t       i;
    sq_ident_t   id;
    t_fields_t   f;
    const char  *bad_types[] = { "", "Secret", "secret ", "publish", "pub" };
    const char  *bad_scopes[] = {
        " social:read", "social:read ", "social:read  urls:read",
        "social:read,urls:read", "social:read social:read", "social",
        "keys:read", "SOCIAL:READ", "social:read\turls:read"
    };
    const char  *bad_kws[] = { ",", "5,", ",5", "5,,6", "0", "05", "5,5",
                               "-1", "5 ,6", "9007199254740992", "a" };

    for (i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
        f = t_base; f.type = bad_types[i];
        ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
    }

    for (i = 0; i < sizeof(bad_scopes) / sizeof(bad_scopes[0]); i++) {
        f = t_base; f.scopes = bad_scopes[i];
        ck_assert_msg(t_check(&f, &f, &id) == SQ_AUTH_MALFORMED, "%s",
                      bad_scopes[i]);
        ck_assert_uint_eq(id.scopes, 0);
    }

    for (i = 0; i < sizeof(bad_kws) / sizeof(bad_kws[0]); i++) {
        f = t_base; f.kws = bad_kws[i];
        ck_assert_msg(t_check(&f, &f, &id) == SQ_AUTH_MALFORMED, "%s",
                      bad_kws[i]);
    }
}
END_TEST


START_TEST(test_v2_bounds)
{
    char         big[4096];
    size_t       i, n;
    sq_ident_t   id;
    t_fields_t   f = t_base;

    /* every scope once: accepted */
    f.scopes = "chatbots:read chatbots:write social:read social:write "
               "urls:read urls:write articles:read articles:write "
               "images:read images:write media:read media:write "
               "workspace:read apps:manage keys:manage";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_OK);
    ck_assert_uint_eq(id.scopes, SQ_SCOPES_ALL);

    /* 100 workspaces accepted, 101 refused */
    n = 0;
    for (i = 1; i <= 101; i++) {
        n += (size_t) snprintf(big + n, sizeof(big) - n, "%s%zu",
                               i > 1 ? "," : "", i);
        if (i == 100) {
            f = t_base; f.kws = big;
            ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_OK);
            ck_assert_uint_eq(id.key_ws.n, 100);
        }
    }
    f = t_base; f.kws = big;
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
}
END_TEST


START_TEST(test_accept_no_workspace_test_mode)
{
    sq_ident_t  id;
    t_fields_t  f = t_base;

    f.ws = "";
    f.mode = "test";
    f.ts = "1795000300";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_OK);
    ck_assert_uint_eq(id.workspace_id, 0);
    ck_assert_int_eq(id.test_mode, 1);
}
END_TEST


START_TEST(test_accept_workspace_header_absent)
{
    sq_ident_t  id;
    t_fields_t  f = t_base;

    f.ws = "";
    ck_assert_int_eq(t_check_less(&f, &f, "X-SmartlyQ-Workspace-Id", NULL,
                                  &id), SQ_AUTH_OK);
}
END_TEST


START_TEST(test_tampered)
{
    sq_ident_t  id;
    t_fields_t  f;

    f = t_base; f.method = "POST";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);
    ck_assert_uint_eq(id.user_id, 0);

    f = t_base; f.uri = "/v1/social/accounts?workspace_id=6";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.ws = "6";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.ws = "";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.uid = "13";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.mode = "test";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.type = "publishable";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.scopes = "social:read social:write urls:write";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.scopes = "";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.kws = "5";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    f = t_base; f.ts = "1795000001";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);
}
END_TEST


START_TEST(test_skew)
{
    sq_ident_t  id;
    t_fields_t  f = t_base;

    f.ts = "1794999700";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_OK);
    f.ts = "1794999699";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_EXPIRED);
    f.ts = "1795000301";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_EXPIRED);
    f.ts = "0";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_EXPIRED);
}
END_TEST


START_TEST(test_wrong_secret)
{
    char              sig[SQ_MAC_HEX_LEN + 1];
    uint8_t           other[SQ_SECRET_BYTES] = { 9 };
    sq_ident_t        id;
    struct evkeyvalq  h;

    t_sign(other, &t_base, sig);
    t_headers(&h, &t_base, sig);
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, "GET", t_base.uri, NULL,
                                    T_NOW, &id), SQ_AUTH_SIGNATURE);
    evhttp_clear_headers(&h);

    t_headers(&h, &t_base, "abcd");
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, "GET", t_base.uri, NULL,
                                    T_NOW, &id), SQ_AUTH_SIGNATURE);
    evhttp_clear_headers(&h);
}
END_TEST


START_TEST(test_duplicate_and_missing)
{
    char              sig[SQ_MAC_HEX_LEN + 1];
    size_t            i;
    sq_auth_rc_t      rc;
    sq_ident_t        id;
    struct evkeyvalq  h;
    static const struct {
        const char  *name;
        const char  *value;
    } dup[] = {                 /* an identity header a second time */
        { "x-smartlyq-user-id", "12" },
        { "X-SmartlyQ-Workspace-Id", "5" },
        { "x-smartlyq-key-scopes", "social:read" },
        { "X-SmartlyQ-Key-Workspaces", "" },
        { "X-SMARTLYQ-KEY-TYPE", "secret" },
    };

    t_sign(t_secret, &t_base, sig);

    for (i = 0; i < sizeof(dup) / sizeof(dup[0]); i++) {
        t_headers(&h, &t_base, sig);
        evhttp_add_header(&h, dup[i].name, dup[i].value);
        rc = sq_auth_verify(t_secret, &h, "GET", t_base.uri, NULL, T_NOW,
                            &id);
        ck_assert_msg(rc == SQ_AUTH_DUPLICATE, "%s: %d", dup[i].name,
                      (int) rc);
        evhttp_clear_headers(&h);
    }

    ck_assert_int_eq(t_check_less(&t_base, &t_base, "X-SmartlyQ-Signature",
                                  NULL, &id), SQ_AUTH_MISSING);

    TAILQ_INIT(&h);
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, "GET", t_base.uri, NULL,
                                    T_NOW, &id), SQ_AUTH_MISSING);
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, NULL, t_base.uri, NULL,
                                    T_NOW, &id), SQ_AUTH_MALFORMED);
}
END_TEST


START_TEST(test_malformed)
{
    size_t       i;
    sq_ident_t   id;
    t_fields_t   f;
    const char  *bad_ids[] = { "0", "01", "-1", "+1", "1 ", "",
                               "9007199254740992", "abc" };

    for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        f = t_base; f.uid = bad_ids[i];
        ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
        f = t_base; f.kid = bad_ids[i];
        ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
        if (bad_ids[i][0] != '\0') {
            f = t_base; f.ws = bad_ids[i];
            ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
        }
    }

    f = t_base; f.mode = "LIVE";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
    f = t_base; f.mode = "";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
    f = t_base; f.ts = "17950000x0";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
    f = t_base; f.ts = "-1795000000";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_MALFORMED);
}
END_TEST


/* the body signed is the body received, byte for byte */
START_TEST(test_body)
{
    char              sig[SQ_MAC_HEX_LEN + 1];
    sq_ident_t        id;
    t_fields_t        f;
    struct evkeyvalq  h;

    ck_assert_int_eq(t_check(&t_post, &t_post, &id), SQ_AUTH_OK);
    ck_assert_str_eq(id.nonce, t_post.nonce);
    ck_assert_int_eq(id.timestamp, T_NOW);

    /* another body under the same headers */
    f = t_post; f.body = "{\"title\": \"evil\", \"body\": \"b\"}";
    ck_assert_int_eq(t_check(&t_post, &f, &id), SQ_AUTH_BODY);
    ck_assert_uint_eq(id.user_id, 0);

    /* one byte more, none at all */
    f = t_post; f.body = "{\"title\": \"a\", \"body\": \"b\"} ";
    ck_assert_int_eq(t_check(&t_post, &f, &id), SQ_AUTH_BODY);
    f = t_post; f.body = NULL;
    ck_assert_int_eq(t_check(&t_post, &f, &id), SQ_AUTH_BODY);

    /* a body where the identity says there was none */
    f = t_base; f.body = "{}";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_BODY);

    /* an empty body is no body */
    f = t_base; f.body = "";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_OK);
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_OK);

    /* the digest header recomputed for the new body: the MAC breaks */
    f = t_post; f.body = "{\"title\": \"evil\"}";
    t_sign(t_secret, &t_post, sig);
    t_headers(&h, &f, sig);
    ck_assert_int_eq(t_verify(&h, &f, &id), SQ_AUTH_SIGNATURE);
    evhttp_clear_headers(&h);

    /* a body with no Body-Digest header at all */
    f = t_base; f.body = "x";
    ck_assert_int_eq(t_check_less(&t_base, &f, "X-SmartlyQ-Body-Digest",
                                  NULL, &id), SQ_AUTH_BODY);
}
END_TEST


/* a body in many evbuffer chains digests as the edge's one piece */
START_TEST(test_body_chains)
{
    int               i;
    char              big[40 * 1000 + 1], sig[SQ_MAC_HEX_LEN + 1];
    sq_ident_t        id;
    t_fields_t        f;
    struct evbuffer  *b;
    struct evkeyvalq  h;

    for (i = 0; i < 40 * 1000; i++) {
        big[i] = (char) ('a' + i % 26);
    }
    big[40 * 1000] = '\0';

    f = t_post; f.body = big;
    t_sign(t_secret, &f, sig);
    t_headers(&h, &f, sig);

    b = evbuffer_new();
    ck_assert_ptr_nonnull(b);
    for (i = 0; i < 40; i++) {
        ck_assert_int_eq(evbuffer_add_reference(b, big + i * 1000, 1000,
                                                NULL, NULL), 0);
    }
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, f.method, f.uri, b, T_NOW,
                                    &id), SQ_AUTH_OK);

    /* the last byte differs */
    evbuffer_free(b);
    b = evbuffer_new();
    ck_assert_ptr_nonnull(b);
    for (i = 0; i < 40; i++) {
        ck_assert_int_eq(evbuffer_add_reference(b, big + i * 1000,
                                                i == 39 ? 999 : 1000,
                                                NULL, NULL), 0);
    }
    ck_assert_int_eq(evbuffer_add(b, "!", 1), 0);
    ck_assert_int_eq(sq_auth_verify(t_secret, &h, f.method, f.uri, b, T_NOW,
                                    &id), SQ_AUTH_BODY);

    evbuffer_free(b);
    evhttp_clear_headers(&h);
}
END_TEST


START_TEST(test_content_type)
{
    char              sig[SQ_MAC_HEX_LEN + 1];
    sq_ident_t        id;
    t_fields_t        f;
    struct evkeyvalq  h;

    f = t_post; f.ct = "text/plain";
    ck_assert_int_eq(t_check(&t_post, &f, &id), SQ_AUTH_SIGNATURE);
    f = t_post; f.ct = "application/json; charset=utf-8";
    ck_assert_int_eq(t_check(&t_post, &f, &id), SQ_AUTH_SIGNATURE);
    f = t_post; f.ct = NULL;
    ck_assert_int_eq(t_check(&t_post, &f, &id), SQ_AUTH_SIGNATURE);
    f = t_base; f.ct = "application/json";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    /* signed empty and signed absent are told apart */
    f = t_base; f.ct = "";
    ck_assert_int_eq(t_check(&f, &f, &id), SQ_AUTH_OK);
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);

    /* a second Content-Type, before or after: no reading it two ways */
    t_sign(t_secret, &t_post, sig);
    t_headers(&h, &t_post, sig);
    evhttp_add_header(&h, "content-type", "text/plain");
    ck_assert_int_eq(t_verify(&h, &t_post, &id), SQ_AUTH_DUPLICATE);
    evhttp_clear_headers(&h);
}
END_TEST


START_TEST(test_nonce_shape)
{
    size_t       i;
    sq_ident_t   id;
    t_fields_t   f;
    const char  *bad[] = {
        "", "0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcdef0", "0123456789ABCDEF0123456789abcdef",
        "0123456789abcdef0123456789abcdeg", "0123456789abcdef 123456789abcdef"
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        f = t_base; f.nonce = bad[i];
        ck_assert_msg(t_check(&f, &f, &id) == SQ_AUTH_MALFORMED, "%s",
                      bad[i]);
    }

    f = t_base; f.nonce = "ffffffffffffffffffffffffffffffff";
    ck_assert_int_eq(t_check(&t_base, &f, &id), SQ_AUTH_SIGNATURE);
    ck_assert_int_eq(t_check_less(&t_base, &t_base, "X-SmartlyQ-Nonce", NULL,
                                  &id), SQ_AUTH_MISSING);
}
END_TEST


START_TEST(test_body_digest_shape)
{
    char              sig[SQ_MAC_HEX_LEN + 1];
    size_t            i;
    sq_ident_t        id;
    struct evkeyvalq  h;
    const char       *bad[] = {
        "abc", "-",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeff"
    };

    t_sign(t_secret, &t_base, sig);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t_headers(&h, &t_base, sig);
        evhttp_remove_header(&h, "X-SmartlyQ-Body-Digest");
        evhttp_add_header(&h, "X-SmartlyQ-Body-Digest", bad[i]);
        ck_assert_msg(t_verify(&h, &t_base, &id) == SQ_AUTH_MALFORMED, "%s",
                      bad[i]);
        evhttp_clear_headers(&h);
    }
}
END_TEST


/* a write's nonce is kept for the rest of its timestamp's window */
START_TEST(test_nonce_ttl)
{
    const char  *n1 = "0123456789abcdef0123456789abcdef";

    /* signed now: the whole window, and one second past it */
    ck_assert_int_eq(sq_nonce_ttl(n1, T_NOW, T_NOW), SQ_IDENTITY_SKEW + 1);
    /* signed 200 s ago: kept 101 s more, when it would expire anyway */
    ck_assert_int_eq(sq_nonce_ttl(n1, T_NOW - 200, T_NOW), 101);
    /* signed ahead of this clock, within the skew */
    ck_assert_int_eq(sq_nonce_ttl(n1, T_NOW + 100, T_NOW),
                     SQ_IDENTITY_SKEW + 101);
    /* outside the window or not a nonce: never stored */
    ck_assert_int_eq(sq_nonce_ttl(n1, T_NOW - 400, T_NOW), -1);
    ck_assert_int_eq(sq_nonce_ttl(n1, T_NOW + 400, T_NOW), -1);
    ck_assert_int_eq(sq_nonce_ttl("abc", T_NOW, T_NOW), -1);
}
END_TEST


Suite *
sq_suite_auth(void)
{
    Suite  *s = suite_create("auth");
    TCase  *tc = tcase_create("identity");

    tcase_add_test(tc, test_accept);
    tcase_add_test(tc, test_accept_no_workspace_test_mode);
    tcase_add_test(tc, test_accept_workspace_header_absent);
    tcase_add_test(tc, test_accept_v2_fields);
    tcase_add_test(tc, test_accept_empty_headers_absent);
    tcase_add_test(tc, test_oauth_identity);
    tcase_add_test(tc, test_v2_malformed);
    tcase_add_test(tc, test_v2_bounds);
    tcase_add_test(tc, test_tampered);
    tcase_add_test(tc, test_skew);
    tcase_add_test(tc, test_wrong_secret);
    tcase_add_test(tc, test_duplicate_and_missing);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_body);
    tcase_add_test(tc, test_body_chains);
    tcase_add_test(tc, test_content_type);
    tcase_add_test(tc, test_nonce_shape);
    tcase_add_test(tc, test_body_digest_shape);
    suite_add_tcase(s, tc);

    tc = sq_test_redis_tcase();
    tcase_add_test(tc, test_nonce_ttl);
    suite_add_tcase(s, tc);

    return s;
}
