/*
 * sq_auth: header collection, shape checks, then the constant-time
 * signature check, the clock skew check and the body digest check.
 */

#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>

#include "sq_auth.h"
#include "sq_text.h"
#include "sq_workspace.h"


#define SQ_AUTH_VALUE_MAX  64

enum {
    SQ_H_USER = 0,
    SQ_H_KEY,
    SQ_H_WORKSPACE,
    SQ_H_MODE,
    SQ_H_TYPE,
    SQ_H_SCOPES,
    SQ_H_KEY_WS,
    SQ_H_APP,
    SQ_H_TIMESTAMP,
    SQ_H_NONCE,
    SQ_H_BODY,
    SQ_H_SIGNATURE,
    SQ_H_COUNT
};

#define SQ_AUTH_BODY_IOV  16        /* evbuffer chains digested per peek */

typedef struct {
    const char  *name;
    size_t       max;           /* bytes of the value */
    int          optional;      /* absent means empty */
} sq_auth_header_t;

static const sq_auth_header_t  sq_auth_headers[SQ_H_COUNT] = {
    { "X-SmartlyQ-User-Id", SQ_AUTH_VALUE_MAX, 0 },
    { "X-SmartlyQ-Key-Id", SQ_AUTH_VALUE_MAX, 0 },
    { "X-SmartlyQ-Workspace-Id", SQ_AUTH_VALUE_MAX, 1 },
    { "X-SmartlyQ-Key-Mode", SQ_AUTH_VALUE_MAX, 0 },
    { "X-SmartlyQ-Key-Type", SQ_AUTH_VALUE_MAX, 0 },
    { "X-SmartlyQ-Key-Scopes", SQ_SCOPES_TEXT_MAX, 1 },
    { "X-SmartlyQ-Key-Workspaces", SQ_WSLIST_TEXT_MAX, 1 },
    { "X-SmartlyQ-App-Id", SQ_AUTH_VALUE_MAX, 1 },
    { "X-SmartlyQ-Timestamp", SQ_AUTH_VALUE_MAX, 0 },
    { "X-SmartlyQ-Nonce", SQ_NONCE_HEX_LEN, 0 },
    { "X-SmartlyQ-Body-Digest", SQ_DIGEST_HEX_LEN, 1 },
    { "X-SmartlyQ-Signature", SQ_AUTH_VALUE_MAX, 0 }
};


/*
 * Finds each identity header, and the Content-Type, once; a second
 * occurrence fails.  *ct stays NULL when there is no Content-Type.
 */
static sq_auth_rc_t
sq_auth_collect(const struct evkeyvalq *headers, sq_str_t v[SQ_H_COUNT],
    const char **ct)
{
    int                     i;
    const struct evkeyval  *kv;

    memset(v, 0, sizeof(sq_str_t) * SQ_H_COUNT);
    *ct = NULL;

    TAILQ_FOREACH(kv, headers, next) {
        if (strcasecmp(kv->key, "Content-Type") == 0) {
            if (*ct != NULL) {
                return SQ_AUTH_DUPLICATE;
            }

            *ct = kv->value;
            continue;
        }

        for (i = 0; i < SQ_H_COUNT; i++) {
            if (strcasecmp(kv->key, sq_auth_headers[i].name) != 0) {
                continue;
            }

            if (v[i].data != NULL) {
                return SQ_AUTH_DUPLICATE;
            }

            v[i].data = kv->value;
            v[i].len = strlen(kv->value);
        }
    }

    for (i = 0; i < SQ_H_COUNT; i++) {
        if (v[i].data != NULL) {
            continue;
        }

        if (!sq_auth_headers[i].optional) {
            return SQ_AUTH_MISSING;
        }

        v[i].data = "";
    }

    return SQ_AUTH_OK;
}


/* 0 for the value no, 1 for yes, -1 for anything else */
static int
sq_auth_enum(const sq_str_t *v, const char *no, const char *yes)
{
    if (v->len == strlen(no) && memcmp(v->data, no, v->len) == 0) {
        return 0;
    }

    if (v->len == strlen(yes) && memcmp(v->data, yes, v->len) == 0) {
        return 1;
    }

    return -1;
}


/*
 * The key type: secret, publishable or oauth (an OAuth access token,
 * which always names its app, as a key never does); 0, or -1
 */
static int
sq_auth_type(const sq_str_t *type, const sq_str_t *app, sq_ident_t *out)
{
    if (type->len == 5 && memcmp(type->data, "oauth", 5) == 0) {
        out->oauth = 1;

        return sq_workspace_parse_id(app->data, app->len, &out->app_id);
    }

    out->publishable = sq_auth_enum(type, "secret", "publishable");

    return out->publishable < 0 || app->len != 0 ? -1 : 0;
}


/* 1 when v is exactly len lowercase hex digits */
static int
sq_auth_hex(const sq_str_t *v, size_t len)
{
    size_t  i;

    if (v->len != len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((v->data[i] >= '0' && v->data[i] <= '9')
              || (v->data[i] >= 'a' && v->data[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


static sq_auth_rc_t
sq_auth_shape(const sq_str_t v[SQ_H_COUNT], sq_ident_t *out,
    int64_t *timestamp)
{
    int  i;

    for (i = 0; i < SQ_H_COUNT; i++) {
        if (v[i].len > sq_auth_headers[i].max) {
            return SQ_AUTH_MALFORMED;
        }
    }

    memset(out, 0, sizeof(*out));

    if (sq_workspace_parse_id(v[SQ_H_USER].data, v[SQ_H_USER].len,
                              &out->user_id) != 0
        || sq_workspace_parse_id(v[SQ_H_KEY].data, v[SQ_H_KEY].len,
                                 &out->key_id) != 0
        || (v[SQ_H_WORKSPACE].len != 0
            && sq_workspace_parse_id(v[SQ_H_WORKSPACE].data,
                                     v[SQ_H_WORKSPACE].len,
                                     &out->workspace_id) != 0)
        || sq_text_parse_u63(v[SQ_H_TIMESTAMP].data, v[SQ_H_TIMESTAMP].len,
                             timestamp) != 0)
    {
        return SQ_AUTH_MALFORMED;
    }

    out->test_mode = sq_auth_enum(&v[SQ_H_MODE], "live", "test");

    if (out->test_mode < 0
        || sq_auth_type(&v[SQ_H_TYPE], &v[SQ_H_APP], out) != 0
        || sq_scopes_parse(v[SQ_H_SCOPES].data, v[SQ_H_SCOPES].len,
                           &out->scopes) != 0
        || sq_wslist_parse(v[SQ_H_KEY_WS].data, v[SQ_H_KEY_WS].len,
                           &out->key_ws) != 0
        || !sq_auth_hex(&v[SQ_H_NONCE], SQ_NONCE_HEX_LEN)
        || (v[SQ_H_BODY].len != 0
            && !sq_auth_hex(&v[SQ_H_BODY], SQ_DIGEST_HEX_LEN)))
    {
        return SQ_AUTH_MALFORMED;
    }

    /* a token is live and bound to exactly one workspace */
    if (out->oauth && (out->test_mode || out->key_ws.n != 1)) {
        return SQ_AUTH_MALFORMED;
    }

    return SQ_AUTH_OK;
}


/*
 * The body received against the digest signed: none for no bytes, else
 * hex(BLAKE2b-256) over evbuffer's chains in place.  Returns 0 on match.
 */
static int
sq_auth_body(struct evbuffer *body, const sq_str_t *signed_digest)
{
    int                     i, n;
    char                    hex[SQ_DIGEST_HEX_LEN + 1];
    size_t                  len, left, part;
    struct evbuffer_ptr     pos;
    sq_content_digest_t     st;
    struct evbuffer_iovec   vec[SQ_AUTH_BODY_IOV];

    len = body != NULL ? evbuffer_get_length(body) : 0;

    if (len == 0 || signed_digest->len == 0) {
        return len == 0 && signed_digest->len == 0 ? 0 : -1;
    }

    sq_content_digest_init(&st);
    left = len;

    if (evbuffer_ptr_set(body, &pos, 0, EVBUFFER_PTR_SET) != 0) {
        return -1;
    }

    while (left > 0) {
        n = evbuffer_peek(body, (ev_ssize_t) left, &pos, vec,
                          SQ_AUTH_BODY_IOV);
        if (n <= 0) {
            return -1;
        }

        for (i = 0; i < n && i < SQ_AUTH_BODY_IOV && left > 0; i++) {
            part = vec[i].iov_len < left ? vec[i].iov_len : left;
            sq_content_digest_update(&st, vec[i].iov_base, part);
            left -= part;
        }

        if (left > 0
            && evbuffer_ptr_set(body, &pos, len - left, EVBUFFER_PTR_SET)
               != 0)
        {
            return -1;
        }
    }

    sq_content_digest_final(&st, hex);

    return sodium_memcmp(hex, signed_digest->data, SQ_DIGEST_HEX_LEN) == 0
           ? 0 : -1;
}


sq_auth_rc_t
sq_auth_verify(const uint8_t secret[SQ_SECRET_BYTES],
    const struct evkeyvalq *headers, const char *method, const char *uri,
    struct evbuffer *body, int64_t now, sq_ident_t *out)
{
    char           ct_hex[SQ_DIGEST_HEX_LEN + 1];
    int64_t        ts;
    sq_str_t       v[SQ_H_COUNT];
    const char    *ct;
    sq_auth_rc_t   rc;
    sq_identity_t  id;

    memset(out, 0, sizeof(*out));

    if (method == NULL || uri == NULL) {
        return SQ_AUTH_MALFORMED;
    }

    rc = sq_auth_collect(headers, v, &ct);
    if (rc == SQ_AUTH_OK) {
        rc = sq_auth_shape(v, out, &ts);
    }

    if (rc != SQ_AUTH_OK) {
        memset(out, 0, sizeof(*out));
        return rc;
    }

    ct_hex[0] = '\0';
    if (ct != NULL) {
        sq_content_digest_hex(ct, strlen(ct), ct_hex);
    }

    id.method.data = method;
    id.method.len = strlen(method);
    id.uri.data = uri;
    id.uri.len = strlen(uri);
    id.user_id = v[SQ_H_USER];
    id.key_id = v[SQ_H_KEY];
    id.workspace_id = v[SQ_H_WORKSPACE];
    id.mode = v[SQ_H_MODE];
    id.key_type = v[SQ_H_TYPE];
    id.scopes = v[SQ_H_SCOPES];
    id.key_workspaces = v[SQ_H_KEY_WS];
    id.app_id = v[SQ_H_APP];
    id.timestamp = v[SQ_H_TIMESTAMP];
    id.nonce = v[SQ_H_NONCE];
    id.content_type.data = ct_hex;
    id.content_type.len = strlen(ct_hex);
    id.body = v[SQ_H_BODY];

    if (sq_identity_verify_hex(secret, &id, v[SQ_H_SIGNATURE].data,
                               v[SQ_H_SIGNATURE].len) != 0)
    {
        rc = SQ_AUTH_SIGNATURE;
    } else if (ts > now + SQ_IDENTITY_SKEW || ts < now - SQ_IDENTITY_SKEW) {
        rc = SQ_AUTH_EXPIRED;
    } else if (sq_auth_body(body, &v[SQ_H_BODY]) != 0) {
        rc = SQ_AUTH_BODY;
    }

    if (rc != SQ_AUTH_OK) {
        memset(out, 0, sizeof(*out));
        return rc;
    }

    memcpy(out->nonce, v[SQ_H_NONCE].data, SQ_NONCE_HEX_LEN);
    out->nonce[SQ_NONCE_HEX_LEN] = '\0';
    out->timestamp = ts;

    return SQ_AUTH_OK;
}


const char *
sq_auth_rc_text(sq_auth_rc_t rc)
{
    switch (rc) {
    case SQ_AUTH_OK:
        return "ok";
    case SQ_AUTH_MISSING:
        return "identity header missing";
    case SQ_AUTH_DUPLICATE:
        return "identity header repeated";
    case SQ_AUTH_MALFORMED:
        return "identity header malformed";
    case SQ_AUTH_SIGNATURE:
        return "identity signature mismatch";
    case SQ_AUTH_EXPIRED:
        return "identity timestamp outside the allowed skew";
    case SQ_AUTH_BODY:
        return "identity body digest mismatch";
    case SQ_AUTH_REPLAY:
        return "identity nonce already used";
    }

    return "identity rejected";
}
