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
    SQ_H_TIMESTAMP,
    SQ_H_SIGNATURE,
    SQ_H_COUNT
};

static const char  *const sq_auth_names[SQ_H_COUNT] = {
    "X-SmartlyQ-User-Id",
    "X-SmartlyQ-Key-Id",
    "X-SmartlyQ-Workspace-Id",
    "X-SmartlyQ-Key-Mode",
    "X-SmartlyQ-Timestamp",
    "X-SmartlyQ-Signature"
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
            if (strcasecmp(kv->key, sq_auth_names[i]) != 0) {
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
        if (v[i].data == NULL && i != SQ_H_WORKSPACE) {
            return SQ_AUTH_MISSING;
        }
    }

    if (v[SQ_H_WORKSPACE].data == NULL) {
        v[SQ_H_WORKSPACE].data = "";
    }

    return SQ_AUTH_OK;
}


static sq_auth_rc_t
sq_auth_shape(const sq_str_t v[SQ_H_COUNT], sq_ident_t *out,
    int64_t *timestamp)
{
    int  i;

    for (i = 0; i < SQ_H_COUNT; i++) {
        if (v[i].len > SQ_AUTH_VALUE_MAX) {
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

    if (v[SQ_H_MODE].len == 4 && memcmp(v[SQ_H_MODE].data, "test", 4) == 0)
    {
        out->test_mode = 1;
    } else if (v[SQ_H_MODE].len != 4
               || memcmp(v[SQ_H_MODE].data, "live", 4) != 0)
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
