/*
 * sq_key: the API key model shared by the backend and sqctl: scopes,
 * workspace lists, the key record of redis/smartlyq.lua, its computed
 * status, its JSON form and the validation of a create request.
 */

#ifndef SQ_KEY_H
#define SQ_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sq_bearer.h"
#include "sq_scope.h"
#include "sq_text.h"

#define SQ_KEY_WS_MAX       100         /* workspaces a key may list */
#define SQ_KEY_NAME_MAX     100         /* characters of a key name */
#define SQ_KEY_GRACE_MAX    2592000     /* seconds of rotation grace */
#define SQ_KEY_IP_MAX       64          /* bytes of last_used_ip */
#define SQ_USAGE_DAYS_MAX   90
#define SQ_USAGE_DAYS_DEF   30
#define SQ_SCOPES_TEXT_MAX  256         /* all scopes, space-separated */
#define SQ_WSLIST_TEXT_MAX  (SQ_KEY_WS_MAX * 17)
#define SQ_KEY_PURPOSE_MAX  200         /* bytes of a purpose (issue 16) */


typedef struct {
    uint64_t    ids[SQ_KEY_WS_MAX];
    size_t      n;
} sq_wslist_t;

typedef struct {
    uint64_t        id;
    uint64_t        user_id;
    uint64_t        replaced_by;        /* 0: none */
    sq_key_type_t   type;
    sq_key_mode_t   mode;
    uint32_t        scopes;
    sq_wslist_t     ws;
    int64_t         expires_at;         /* 0: never */
    int64_t         created_at;
    int64_t         rotated_at;         /* 0: not rotated */
    int64_t         sunset_at;          /* 0: not rotated */
    int64_t         last_used_at;       /* 0: never */
    char            status[16];         /* stored: active|disabled|deleted */
    char            name[SQ_TEXT_MAX + 1];
    char            last4[8];
    char            last_used_ip[SQ_KEY_IP_MAX + 1];
    /* issue 16 (keyops): who answers for it; 0: absent (older records) */
    uint64_t        owner_id;
    char            purpose[SQ_KEY_PURPOSE_MAX + 1];
} sq_key_t;

/* Space-separated scope names (may be empty), none twice; 0 or -1. */
int sq_scopes_parse(const char *s, size_t len, uint32_t *mask);

/* The canonical space-separated form; 0 or -1 when it does not fit. */
int sq_scopes_format(uint32_t mask, char *out, size_t cap);

/* The same as a JSON array of names, or NULL (no memory). */
json_t *sq_scopes_json(uint32_t mask);

/* Comma-separated positive ids (may be empty), none twice; 0 or -1. */
int sq_wslist_parse(const char *s, size_t len, sq_wslist_t *l);
int sq_wslist_format(const sq_wslist_t *l, char *out, size_t cap);

/* 1 when the list is empty (no limit) or holds wid */
int sq_wslist_allows(const sq_wslist_t *l, uint64_t wid);

/*
 * 1 when a key limited to l reaches no workspace outside limit: an empty
 * limit (none) holds every list, an empty l (no limit) only an empty limit.
 */
int sq_wslist_within(const sq_wslist_t *l, const sq_wslist_t *limit);

/* how a key k reaches beyond the powers of a caller key (keys:manage) */
typedef enum {
    SQ_REACH_WITHIN = 0,        /* the caller could have created k */
    SQ_REACH_PUBLISHABLE,       /* the caller is publishable: never */
    SQ_REACH_MODE,              /* k is live and the caller test, or back */
    SQ_REACH_SCOPES,            /* k holds a scope the caller lacks */
    SQ_REACH_UNLIMITED,         /* k has no workspace limit, the caller has */
    SQ_REACH_WORKSPACES         /* k lists a workspace outside the caller's */
} sq_key_reach_t;

/*
 * Whether caller may create, rotate, enable or delete k: k's scopes within
 * the caller's, its workspaces within the caller's limit, the same mode.
 * Only type, mode, scopes and ws of both are read.
 */
sq_key_reach_t sq_key_reach(const sq_key_t *caller, const sq_key_t *k);

/*
 * Why, for a 403: "This key cannot <verb> a key with wider scopes than its
 * own (it lacks urls:write)." and the like; verb is create, rotate, ...
 */
void sq_key_reach_message(sq_key_reach_t r, const char *verb,
    const sq_key_t *caller, const sq_key_t *k, char *out, size_t cap);

/* "active", "disabled", "expired", "rotated" or "deleted" at now */
const char *sq_key_status(const sq_key_t *k, int64_t now);

/* "sqk_live_…a1b2" (UTF-8 ellipsis) */
void sq_key_mask(sq_key_type_t type, sq_key_mode_t mode, const char *last4,
    char *out, size_t outlen);

/* the key object of the API; NULL when out of memory */
json_t *sq_key_render(const sq_key_t *k, int64_t now);

/*
 * A POST /v1/keys body for user uid at now into k (user_id, type, mode,
 * name, scopes, ws, expires_at).  Returns 0, or -1 with a message naming
 * the field in err.
 */
int sq_key_parse_create(const char *body, size_t len, uint64_t uid,
    int64_t now, sq_key_t *k, char *err, size_t errlen);

/*
 * The same for a caller key: an omitted mode or workspaces is the
 * caller's (user_id, mode, ws of caller are read), so a limited caller's
 * new key inherits the limit.  The body's own values are kept as given;
 * sq_key_reach() judges them.
 */
int sq_key_parse_create_as(const char *body, size_t len,
    const sq_key_t *caller, int64_t now, sq_key_t *k, char *err,
    size_t errlen);

/* A POST /v1/keys/{id}/rotate body: {"grace_seconds": 0..MAX}. */
int sq_key_parse_rotate(const char *body, size_t len, int64_t *grace,
    char *err, size_t errlen);

#endif /* SQ_KEY_H */
