/*
 * sq_auth: the signed identity the edge puts on every request
 * (X-SmartlyQ-* headers, see sq_identity.h), checked strictly.
 */

#ifndef SQ_AUTH_H
#define SQ_AUTH_H

#include <stdint.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "sq_identity.h"
#include "sq_key.h"

typedef struct {
    uint64_t     user_id;
    uint64_t     key_id;
    uint64_t     workspace_id;      /* 0: the request named none */
    int          test_mode;
    int          publishable;       /* key type publishable */
    int          oauth;             /* an OAuth access token (type oauth) */
    uint64_t     app_id;            /* its API Application; 0: a key */
    uint32_t     scopes;            /* SQ_SCOPE_BIT()s */
    sq_wslist_t  key_ws;            /* empty: all the user's workspaces */
    int64_t      timestamp;         /* unix s, as signed */
    char         nonce[SQ_NONCE_HEX_LEN + 1];
} sq_ident_t;

typedef enum {
    SQ_AUTH_OK = 0,
    SQ_AUTH_MISSING,        /* a required header is absent */
    SQ_AUTH_DUPLICATE,      /* an identity header appears twice */
    SQ_AUTH_MALFORMED,      /* a value has not the expected shape */
    SQ_AUTH_SIGNATURE,      /* the signature does not match */
    SQ_AUTH_EXPIRED,        /* timestamp outside +-SQ_IDENTITY_SKEW */
    SQ_AUTH_BODY,           /* the body is not the one signed */
    SQ_AUTH_REPLAY          /* the nonce was seen (sq_nonce_claim) */
} sq_auth_rc_t;

/*
 * Verifies the identity of a request: method and uri as received, the
 * request headers (Content-Type included), the body received (NULL: none),
 * the shared secret and the current unix time.  The nonce is not checked
 * here: the caller claims out->nonce (sq_nonce_claim) before acting.
 */
sq_auth_rc_t sq_auth_verify(const uint8_t secret[SQ_SECRET_BYTES],
    const struct evkeyvalq *headers, const char *method, const char *uri,
    struct evbuffer *body, int64_t now, sq_ident_t *out);

const char *sq_auth_rc_text(sq_auth_rc_t rc);

#endif /* SQ_AUTH_H */
