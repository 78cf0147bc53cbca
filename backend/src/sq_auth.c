/*
 * sq_auth: header collection, shape checks, then the constant-time
 * signature check and the clock skew check.
 */

#include <string.h>
#include <strings.h>
#include <sys/queue.h>

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
    SQ_H_TIMESTAMP,
    SQ_H_SIGNATURE,
    SQ_H_COUNT
};

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
    { "X-SmartlyQ-Timestamp", SQ_AUTH_VALUE_MAX, 0 },
    { "X-SmartlyQ-Signature", SQ_AUTH_VALUE_MAX, 0 }
};


/* Finds each identity header once; a second occurrence fails. */
static sq_auth_rc_t
sq_auth_collect(const struct evkeyvalq *headers, sq_str_t v[SQ_H_COUNT])
{
    int                     i;
    const struct evkeyval  *kv;

    memset(v, 0, sizeof(sq_str_t) * SQ_H_COUNT);

    TAILQ_FOREACH(kv, headers, next) {
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
    out->publishable = sq_auth_enum(&v[SQ_H_TYPE], "secret", "publishable");

    if (out->test_mode < 0 || out->publishable < 0
        || sq_scopes_parse(v[SQ_H_SCOPES].data, v[SQ_H_SCOPES].len,
                           &out->scopes) != 0
        || sq_wslist_parse(v[SQ_H_KEY_WS].data, v[SQ_H_KEY_WS].len,
                           &out->key_ws) != 0)
    {
        return SQ_AUTH_MALFORMED;
    }

    return SQ_AUTH_OK;
}


sq_auth_rc_t
sq_auth_verify(const uint8_t secret[SQ_SECRET_BYTES],
    const struct evkeyvalq *headers, const char *method, const char *uri,
    int64_t now, sq_ident_t *out)
{
    int64_t        ts;
    sq_str_t       v[SQ_H_COUNT];
    sq_auth_rc_t   rc;
    sq_identity_t  id;

    memset(out, 0, sizeof(*out));

    if (method == NULL || uri == NULL) {
        return SQ_AUTH_MALFORMED;
    }

    rc = sq_auth_collect(headers, v);
    if (rc == SQ_AUTH_OK) {
        rc = sq_auth_shape(v, out, &ts);
    }

    if (rc != SQ_AUTH_OK) {
        memset(out, 0, sizeof(*out));
        return rc;
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
    id.timestamp = v[SQ_H_TIMESTAMP];

    if (sq_identity_verify_hex(secret, &id, v[SQ_H_SIGNATURE].data,
                               v[SQ_H_SIGNATURE].len) != 0)
    {
        rc = SQ_AUTH_SIGNATURE;
    } else if (ts > now + SQ_IDENTITY_SKEW || ts < now - SQ_IDENTITY_SKEW) {
        rc = SQ_AUTH_EXPIRED;
    }

    if (rc != SQ_AUTH_OK) {
        memset(out, 0, sizeof(*out));
    }

    return rc;
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
    }

    return "identity rejected";
}
