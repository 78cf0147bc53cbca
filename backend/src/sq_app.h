/*
 * sq_app: the API Application (OAuth 2 client) model shared by the
 * backend's /v1/apps and sqctl's `app`: the record of redis/SCHEMA.md
 * ("API Applications"), the validation of create, update and rotate
 * bodies, new credentials, and the JSON forms of an app, a grant and
 * an authorize outcome.
 */

#ifndef SQ_APP_H
#define SQ_APP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sq_identity.h"
#include "sq_key.h"
#include "sq_redirect.h"
#include "sq_text.h"

#define SQ_APP_NAME_MAX         100     /* characters of a name */
#define SQ_APP_URIS_MAX         10      /* redirect URIs of an app */
#define SQ_APP_URIS_TEXT_MAX    (SQ_APP_URIS_MAX * (SQ_REDIRECT_URI_MAX + 1))
#define SQ_APP_CLIENT_PREFIX    "sqapp_"
#define SQ_APP_CLIENT_ID_LEN    (sizeof(SQ_APP_CLIENT_PREFIX) - 1 + 32)
#define SQ_APP_SECRET_PREFIX    "sqs_"
#define SQ_APP_SECRET_LEN       (sizeof(SQ_APP_SECRET_PREFIX) - 1 + 40)
#define SQ_APP_RECENT_MAX       100     /* outcomes an outcomes call lists */
#define SQ_APP_RECENT_DEF       20
#define SQ_APP_GRANTS_READ_MAX  100000  /* grants of an app read at most */

/* scopes an app may hold: every scope but keys:manage and apps:manage */
#define SQ_APP_SCOPES   (SQ_SCOPES_ALL & ~(SQ_SCOPE_BIT(SQ_SC_KEYS_MANAGE) \
                                           | SQ_SCOPE_BIT(SQ_SC_APPS_MANAGE)))

/* what an update (PATCH) changes */
#define SQ_APP_F_NAME           0x1u
#define SQ_APP_F_URIS           0x2u
#define SQ_APP_F_SCOPES         0x4u
/* issue 16 (keyops): owner_id (PATCH only) and purpose */
#define SQ_APP_F_OWNER          0x100u
#define SQ_APP_F_PURPOSE        0x200u

typedef enum {
    SQ_APP_CONFIDENTIAL = 0,
    SQ_APP_PUBLIC
} sq_app_type_t;

typedef struct {
    uint64_t        id;
    uint64_t        workspace_id;
    uint64_t        owner_id;
    sq_app_type_t   type;
    uint32_t        scopes;
    int64_t         created_at;
    int64_t         updated_at;
    int64_t         last_used_at;       /* 0: never */
    int64_t         prev_secret_until;  /* 0: no grace */
    char            client_id[SQ_APP_CLIENT_ID_LEN + 1];
    char            name[SQ_TEXT_MAX + 1];
    char            status[16];         /* active|disabled|deleted */
    char            secret_last4[8];    /* "" for a public app */
    char            uris[SQ_APP_URIS_TEXT_MAX + 1];  /* one per line */
    char            purpose[SQ_KEY_PURPOSE_MAX + 1];    /* issue 16 */
} sq_app_t;

typedef struct {
    uint64_t        id;
    uint64_t        app_id;
    uint64_t        user_id;
    uint64_t        workspace_id;
    uint32_t        scopes;
    int64_t         created_at;
    int64_t         revoked_at;         /* 0: active */
    char            status[16];         /* active|revoked */
    char            reason[32];         /* revoke_reason, or "" */
} sq_grant_t;

typedef struct {
    char            id[48];             /* the stream entry's id */
    char            outcome[16];        /* approved|denied|error */
    char            reason[64];
    uint64_t        user_id;            /* 0: before sign-in */
    uint64_t        workspace_id;       /* 0: none */
    int64_t         at;
    char            scopes[SQ_SCOPES_TEXT_MAX + 1];
} sq_outcome_t;

typedef struct {
    int64_t         approved;
    int64_t         denied;
    int64_t         error;
} sq_outcome_counts_t;

const char *sq_app_type_name(sq_app_type_t t);

/*
 * A POST /v1/apps body into a: name, type (default confidential),
 * redirect_uris (1..SQ_APP_URIS_MAX distinct valid URIs, sq_redirect.h),
 * scopes (distinct, non-empty, within SQ_APP_SCOPES), workspace_id.
 * Returns 0, or -1 with a message naming the field in err.
 */
int sq_app_parse_create(const char *body, size_t len, sq_app_t *a,
    char *err, size_t errlen);

/*
 * A PATCH body: any of name, redirect_uris, scopes (same rules), at
 * least one; *fields gets SQ_APP_F_*.  0 or -1 with err.
 */
int sq_app_parse_update(const char *body, size_t len, sq_app_t *a,
    unsigned *fields, char *err, size_t errlen);

/*
 * A POST /v1/apps/{id}/secret/rotate body: {"grace_seconds":
 * 0..SQ_KEY_GRACE_MAX, "revoke_tokens": bool}, both optional (0, false);
 * an empty body is both defaults.  0 or -1 with err.
 */
int sq_app_parse_rotate(const char *body, size_t len, int64_t *grace,
    int *revoke, char *err, size_t errlen);

/*
 * The scopes of an app must be within the calling key's: 0, or -1 with
 * the first scope the caller lacks in *missing.
 */
int sq_app_scopes_within(uint32_t app, uint32_t caller, sq_scope_t *missing);

/* "a\nb" from the JSON array of an app; -1 when it does not fit */
int sq_app_uris_lines(const json_t *arr, char *out, size_t cap);

/* A new client_id into a->client_id (random, not a secret). */
void sq_app_new_client_id(sq_app_t *a);

/*
 * A new client secret "sqs_" + 40 base62 into secret (>= LEN + 1), its
 * keyed digest into digest and its last 4 into a->secret_last4.
 */
int sq_app_new_secret(const uint8_t pepper[SQ_SECRET_BYTES], sq_app_t *a,
    char *secret, size_t cap, char digest[SQ_DIGEST_HEX_LEN + 1]);

/* the JSON objects of the API; NULL when out of memory */
json_t *sq_app_render(const sq_app_t *a);
json_t *sq_grant_render(const sq_grant_t *g);
json_t *sq_outcomes_render(const sq_outcome_counts_t *c,
    const sq_outcome_t *o, size_t n);

#endif /* SQ_APP_H */
