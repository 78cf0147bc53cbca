/*
 * fuzz_identity: the backend's reading of the signed identity
 * (backend/src/sq_auth.c: sq_auth_verify over evhttp's header list),
 * where it takes the workspace it acts on from X-SmartlyQ-Workspace-Id,
 * plus the scope and key-workspace lists it parses there
 * (backend/src/sq_key.c).
 *
 * The input is up to fourteen newline-separated fields: method, uri,
 * user, key, workspace, mode, type, scopes, key workspaces, timestamp,
 * nonce, Content-Type, body and app id (last, so that the corpus from
 * before it keeps its meaning; signed in its place, after key
 * workspaces).  A missing nonce is a fixed valid one (so
 * that ten-field inputs still reach acceptance); an empty Content-Type is
 * no header, an empty body no body.  The harness signs them as the edge
 * does (sq_identity_sign_hex over the two digests), sends them as the
 * identity headers plus Content-Type, the body as an evbuffer, and
 * verifies at the signed time.
 *
 * Properties checked besides memory safety:
 *   - correctly signed and in time, an identity is either accepted or
 *     MALFORMED, never anything else; verification is deterministic;
 *   - accepted, every value is the one the edge's parsers read: the
 *     workspace is sq_workspace_parse_id of the header (0 when empty) and
 *     its only spelling is the canonical decimal one; user, key, mode,
 *     type, scopes and key workspaces likewise;
 *   - accepted, an app id is there exactly when the type is oauth, and an
 *     oauth identity is live with one key workspace; another app id
 *     breaks the signature;
 *   - the scope and workspace lists survive format and parse again;
 *   - another workspace, method, uri or Content-Type breaks the
 *     signature; another body (one byte more) is BODY; a timestamp 301 s
 *     off is EXPIRED, 300 s is not; an identity header repeated in
 *     another letter case is DUPLICATE; a missing one is MISSING;
 *   - accepted, the nonce handed back is the one signed.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sq_auth.h"
#include "sq_key.h"
#include "sq_text.h"
#include "sq_workspace.h"
#include "fuzz.h"

#define NFIELDS  14

enum {
    F_METHOD = 0, F_URI, F_USER, F_KEY, F_WS, F_MODE, F_TYPE, F_SCOPES,
    F_KEYWS, F_TS, F_NONCE, F_CT, F_BODY, F_APP
};

/* headers sent as is; F_CT, F_BODY and F_APP are handled apart */
static const char  *names[] = {
    NULL, NULL, "X-SmartlyQ-User-Id", "X-SmartlyQ-Key-Id",
    "X-SmartlyQ-Workspace-Id", "X-SmartlyQ-Key-Mode",
    "X-SmartlyQ-Key-Type", "X-SmartlyQ-Key-Scopes",
    "X-SmartlyQ-Key-Workspaces", "X-SmartlyQ-Timestamp",
    "X-SmartlyQ-Nonce"
};

static char  default_nonce[] = "00112233445566778899aabbccddeeff";

static uint8_t  secret[SQ_SECRET_BYTES];


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    SQ_FUZZ_ASSERT(sq_crypto_init() == 0);
    memset(secret, 0x5a, sizeof(secret));

    return 0;
}


static sq_str_t
str(const char *s)
{
    sq_str_t  v;

    v.data = s;
    v.len = strlen(s);

    return v;
}


/* hex digest of s, "" for an empty s */
static sq_str_t
digest(const char *s, char hex[SQ_DIGEST_HEX_LEN + 1])
{
    hex[0] = '\0';

    if (s[0] != '\0') {
        sq_content_digest_hex(s, strlen(s), hex);
    }

    return str(hex);
}


/*
 * The identity headers for these fields, signed; skip names one header.
 * Returns 0, or -1 when evhttp refuses a value (CR, LF).
 */
static int
headers_build(struct evkeyvalq *h, char *f[NFIELDS], int skip)
{
    int             i;
    char            sig[SQ_MAC_HEX_LEN + 1];
    char            ct[SQ_DIGEST_HEX_LEN + 1], body[SQ_DIGEST_HEX_LEN + 1];
    sq_identity_t   id;

    id.method = str(f[F_METHOD]);
    id.uri = str(f[F_URI]);
    id.user_id = str(f[F_USER]);
    id.key_id = str(f[F_KEY]);
    id.workspace_id = str(f[F_WS]);
    id.mode = str(f[F_MODE]);
    id.key_type = str(f[F_TYPE]);
    id.scopes = str(f[F_SCOPES]);
    id.key_workspaces = str(f[F_KEYWS]);
    id.app_id = str(f[F_APP]);
    id.timestamp = str(f[F_TS]);
    id.nonce = str(f[F_NONCE]);
    id.content_type = digest(f[F_CT], ct);
    id.body = digest(f[F_BODY], body);

    sq_identity_sign_hex(secret, &id, sig);

    TAILQ_INIT(h);

    for (i = F_USER; i <= F_NONCE; i++) {
        if (i != skip && evhttp_add_header(h, names[i], f[i]) != 0) {
            evhttp_clear_headers(h);
            return -1;
        }
    }

    /* as the edge: left out when empty */
    if ((f[F_APP][0] != '\0' && skip != F_APP
         && evhttp_add_header(h, "X-SmartlyQ-App-Id", f[F_APP]) != 0)
        || evhttp_add_header(h, "X-SmartlyQ-Body-Digest", body) != 0
        || evhttp_add_header(h, "X-SmartlyQ-Signature", sig) != 0
        || (f[F_CT][0] != '\0'
            && evhttp_add_header(h, "Content-Type", f[F_CT]) != 0))
    {
        evhttp_clear_headers(h);
        return -1;
    }

    return 0;
}


/* sq_auth_verify with the body as an evbuffer (extra bytes appended) */
static sq_auth_rc_t
verify_body(struct evkeyvalq *h, const char *method, const char *uri,
    const char *body, const char *extra, int64_t now, sq_ident_t *out)
{
    sq_auth_rc_t      rc;
    struct evbuffer  *b;

    b = evbuffer_new();
    SQ_FUZZ_ASSERT(b != NULL);
    SQ_FUZZ_ASSERT(evbuffer_add(b, body, strlen(body)) == 0);
    if (extra != NULL) {
        SQ_FUZZ_ASSERT(evbuffer_add(b, extra, strlen(extra)) == 0);
    }

    rc = sq_auth_verify(secret, h, method, uri, b, now, out);
    evbuffer_free(b);

    return rc;
}


static sq_auth_rc_t
verify(char *f[NFIELDS], int skip, const char *extra, int64_t now,
    sq_ident_t *out)
{
    sq_auth_rc_t       rc;
    struct evkeyvalq   h;

    if (headers_build(&h, f, skip) != 0) {
        return (sq_auth_rc_t) -1;
    }

    if (extra != NULL) {
        SQ_FUZZ_ASSERT(evhttp_add_header(&h, extra, "1") == 0);
    }

    rc = verify_body(&h, f[F_METHOD], f[F_URI], f[F_BODY], NULL, now, out);
    evhttp_clear_headers(&h);

    return rc;
}


static void
check_lists(const sq_ident_t *out, char *f[NFIELDS])
{
    char         buf[SQ_WSLIST_TEXT_MAX + SQ_SCOPES_TEXT_MAX + 64];
    uint32_t     mask;
    sq_wslist_t  l;

    SQ_FUZZ_ASSERT(sq_scopes_parse(f[F_SCOPES], strlen(f[F_SCOPES]), &mask)
                   == 0 && mask == out->scopes);
    SQ_FUZZ_ASSERT(sq_scopes_format(out->scopes, buf, sizeof(buf)) == 0);
    SQ_FUZZ_ASSERT(sq_scopes_parse(buf, strlen(buf), &mask) == 0
                   && mask == out->scopes);

    memset(&l, 0, sizeof(l));
    SQ_FUZZ_ASSERT(sq_wslist_parse(f[F_KEYWS], strlen(f[F_KEYWS]), &l) == 0);
    SQ_FUZZ_ASSERT(l.n == out->key_ws.n
                   && memcmp(l.ids, out->key_ws.ids,
                             l.n * sizeof(l.ids[0])) == 0);
    SQ_FUZZ_ASSERT(sq_wslist_format(&out->key_ws, buf, sizeof(buf)) == 0);
    memset(&l, 0, sizeof(l));
    SQ_FUZZ_ASSERT(sq_wslist_parse(buf, strlen(buf), &l) == 0);
    SQ_FUZZ_ASSERT(l.n == out->key_ws.n
                   && memcmp(l.ids, out->key_ws.ids,
                             l.n * sizeof(l.ids[0])) == 0);
}


static void
check_accepted(const sq_ident_t *out, char *f[NFIELDS], int64_t ts)
{
    int          n;
    char         buf[32], *saved, *method;
    uint64_t     id;
    sq_ident_t   tmp;
    static char  mx[] = "X", my[] = "Y";

    /* the values are what the edge's parsers read */
    SQ_FUZZ_ASSERT(sq_workspace_parse_id(f[F_USER], strlen(f[F_USER]), &id)
                   == 0 && id == out->user_id);
    SQ_FUZZ_ASSERT(sq_workspace_parse_id(f[F_KEY], strlen(f[F_KEY]), &id)
                   == 0 && id == out->key_id);

    if (f[F_WS][0] == '\0') {
        SQ_FUZZ_ASSERT(out->workspace_id == 0);

    } else {
        SQ_FUZZ_ASSERT(sq_workspace_parse_id(f[F_WS], strlen(f[F_WS]), &id)
                       == 0 && id == out->workspace_id);

        /* one spelling per workspace */
        n = snprintf(buf, sizeof(buf), "%llu",
                     (unsigned long long) out->workspace_id);
        SQ_FUZZ_ASSERT(n > 0 && strcmp(buf, f[F_WS]) == 0);
    }

    SQ_FUZZ_ASSERT(out->test_mode == (strcmp(f[F_MODE], "test") == 0));
    SQ_FUZZ_ASSERT(out->publishable
                   == (strcmp(f[F_TYPE], "publishable") == 0));
    SQ_FUZZ_ASSERT(out->oauth == (strcmp(f[F_TYPE], "oauth") == 0));

    if (out->oauth) {
        SQ_FUZZ_ASSERT(sq_workspace_parse_id(f[F_APP], strlen(f[F_APP]),
                                             &id) == 0
                       && id == out->app_id && id != 0);
        SQ_FUZZ_ASSERT(!out->test_mode && out->key_ws.n == 1);

        /* another app breaks the signature */
        saved = f[F_APP];
        n = snprintf(buf, sizeof(buf), "%s", strcmp(saved, "1") == 0
                                             ? "2" : "1");
        SQ_FUZZ_ASSERT(n > 0);
        f[F_APP] = buf;
        {
            struct evkeyvalq  h;

            SQ_FUZZ_ASSERT(headers_build(&h, f, F_APP) == 0);
            SQ_FUZZ_ASSERT(evhttp_add_header(&h, "X-SmartlyQ-App-Id",
                                             saved) == 0);
            SQ_FUZZ_ASSERT(verify_body(&h, f[F_METHOD], f[F_URI],
                                       f[F_BODY], NULL, ts, &tmp)
                           == SQ_AUTH_SIGNATURE);
            evhttp_clear_headers(&h);
        }
        f[F_APP] = saved;

    } else {
        SQ_FUZZ_ASSERT(f[F_APP][0] == '\0' && out->app_id == 0);
    }

    check_lists(out, f);

    /* another workspace breaks the signature, with the same headers */
    id = out->workspace_id == 0 || out->workspace_id == SQ_WORKSPACE_ID_MAX
         ? 1 : out->workspace_id + 1;
    n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long) id);
    SQ_FUZZ_ASSERT(n > 0);
    saved = f[F_WS];
    f[F_WS] = buf;
    {
        struct evkeyvalq  h;
        char             *real_ws = saved;

        /* signed for buf, sent with the original workspace */
        SQ_FUZZ_ASSERT(headers_build(&h, f, -1) == 0);
        evhttp_remove_header(&h, "X-SmartlyQ-Workspace-Id");
        SQ_FUZZ_ASSERT(evhttp_add_header(&h, "X-SmartlyQ-Workspace-Id",
                                         real_ws) == 0);
        SQ_FUZZ_ASSERT(verify_body(&h, f[F_METHOD], f[F_URI], f[F_BODY],
                                   NULL, ts, &tmp) == SQ_AUTH_SIGNATURE);
        evhttp_clear_headers(&h);
    }
    f[F_WS] = saved;

    /* the identity is bound to the method and the uri */
    method = f[F_METHOD];
    f[F_METHOD] = method[0] == 'X' ? my : mx;
    {
        struct evkeyvalq  h;

        SQ_FUZZ_ASSERT(headers_build(&h, f, -1) == 0);
        SQ_FUZZ_ASSERT(verify_body(&h, method, f[F_URI], f[F_BODY], NULL, ts,
                                   &tmp) == SQ_AUTH_SIGNATURE);
        SQ_FUZZ_ASSERT(verify_body(&h, f[F_METHOD], "/other", f[F_BODY],
                                   NULL, ts, &tmp) == SQ_AUTH_SIGNATURE
                       || strcmp(f[F_URI], "/other") == 0);
        evhttp_clear_headers(&h);
    }
    f[F_METHOD] = method;

    /* the body and the Content-Type are bound too */
    {
        struct evkeyvalq  h;

        SQ_FUZZ_ASSERT(headers_build(&h, f, -1) == 0);
        SQ_FUZZ_ASSERT(verify_body(&h, f[F_METHOD], f[F_URI], f[F_BODY], "x",
                                   ts, &tmp) == SQ_AUTH_BODY);
        evhttp_remove_header(&h, "Content-Type");
        SQ_FUZZ_ASSERT(evhttp_add_header(&h, "Content-Type",
                                         strcmp(f[F_CT], "a/b") == 0
                                         ? "a/c" : "a/b") == 0);
        SQ_FUZZ_ASSERT(verify_body(&h, f[F_METHOD], f[F_URI], f[F_BODY],
                                   NULL, ts, &tmp) == SQ_AUTH_SIGNATURE);
        evhttp_clear_headers(&h);
    }
    SQ_FUZZ_ASSERT(strcmp(out->nonce, f[F_NONCE]) == 0);

    /* time */
    SQ_FUZZ_ASSERT(verify(f, -1, NULL, ts + SQ_IDENTITY_SKEW, &tmp)
                   == SQ_AUTH_OK);
    SQ_FUZZ_ASSERT(verify(f, -1, NULL, ts + SQ_IDENTITY_SKEW + 1, &tmp)
                   == SQ_AUTH_EXPIRED);
    if (ts > SQ_IDENTITY_SKEW) {
        SQ_FUZZ_ASSERT(verify(f, -1, NULL, ts - SQ_IDENTITY_SKEW - 1, &tmp)
                       == SQ_AUTH_EXPIRED);
    }

    /* repeated in another case, and missing */
    SQ_FUZZ_ASSERT(verify(f, -1, "x-smartlyq-workspace-id", ts, &tmp)
                   == SQ_AUTH_DUPLICATE);
    SQ_FUZZ_ASSERT(verify(f, F_USER, NULL, ts, &tmp) == SQ_AUTH_MISSING);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            i, in_time;
    char          *copy, *p, *f[NFIELDS];
    size_t         n;
    int64_t        ts;
    sq_ident_t     out, out2;
    sq_auth_rc_t   rc, rc2;

    if (size > 4096 || memchr(data, '\0', size) != NULL) {
        return 0;
    }

    copy = malloc(size + 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    copy[size] = '\0';

    /* fields, newline-separated; the missing ones empty (the nonce: one) */
    p = copy;
    for (i = 0; i < NFIELDS; i++) {
        f[i] = p;
        n = strcspn(p, "\n");
        if (p[n] == '\n') {
            p[n] = '\0';
            p += n + 1;
        } else {
            p += n;
        }
    }

    if (f[F_NONCE][0] == '\0') {
        f[F_NONCE] = default_nonce;
    }

    /* verify at the signed time; past 2^40 s "now" stays 0 (real clocks
     * are far from it, and now + skew must not overflow) */
    ts = 0;
    in_time = sq_text_parse_u63(f[F_TS], strlen(f[F_TS]), &ts) == 0
              && ts <= ((int64_t) 1 << 40);
    if (!in_time) {
        ts = 0;
    }

    rc = verify(f, -1, NULL, ts, &out);
    rc2 = verify(f, -1, NULL, ts, &out2);

    if ((int) rc != -1) {
        SQ_FUZZ_ASSERT(rc == rc2 && memcmp(&out, &out2, sizeof(out)) == 0);
        SQ_FUZZ_ASSERT(rc == SQ_AUTH_OK || rc == SQ_AUTH_MALFORMED
                       || (!in_time && rc == SQ_AUTH_EXPIRED));
        SQ_FUZZ_ASSERT(sq_auth_rc_text(rc) != NULL);

        if (rc == SQ_AUTH_OK) {
            check_accepted(&out, f, ts);
        }
    }

    free(copy);

    return 0;
}
