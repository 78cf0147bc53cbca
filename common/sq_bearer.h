/*
 * sq_bearer: the Authorization header and the shape of a SmartlyQ key.
 *
 * Plain C, no nginx types: the module, the backend and the admin CLI
 * share it, so the edge and the tools agree on what a key looks like.
 */

#ifndef SQ_BEARER_H
#define SQ_BEARER_H

#include <stddef.h>

/*
 * "sqk_live_" + body (secret) or "sqp_live_" + body (publishable), "test"
 * for test mode; the body is base62, SQ_KEY_BODY_MIN..MAX chars.
 * An OAuth access token (issue 14) is "sqo_" + SQ_OAUTH_BODY_MIN..MAX
 * base62 chars, always live.  The flow's other strings (refresh token
 * "sqr_", code "sqc_", client secret "sqs_") are never bearers.
 */
#define SQ_KEY_PREFIX_LEN   9
#define SQ_KEY_BODY_MIN     32
#define SQ_KEY_BODY_MAX     64
#define SQ_KEY_BODY_GEN     40   /* what sqctl generates */
#define SQ_KEY_MAX_LEN      (SQ_KEY_PREFIX_LEN + SQ_KEY_BODY_MAX)
#define SQ_OAUTH_PREFIX     "sqo_"
#define SQ_OAUTH_PREFIX_LEN 4
#define SQ_OAUTH_BODY_MIN   40
#define SQ_OAUTH_BODY_MAX   64

typedef enum {
    SQ_BEARER_OK = 0,
    SQ_BEARER_NOT_BEARER,   /* another scheme, or no credentials at all */
    SQ_BEARER_MALFORMED     /* Bearer, but the key has not the key shape */
} sq_bearer_rc_t;

typedef enum {
    SQ_KEY_BAD = 0,
    SQ_KEY_LIVE,
    SQ_KEY_TEST
} sq_key_mode_t;

typedef enum {
    SQ_KEY_SECRET = 0,
    SQ_KEY_PUBLISHABLE,
    SQ_KEY_OAUTH                /* an OAuth access token, "sqo_" */
} sq_key_type_t;

/*
 * Parses an Authorization header value ("Bearer <key>", scheme matched
 * case-insensitively, one or more spaces before the key, nothing after
 * it).  On SQ_BEARER_OK, key and key_len point into value; mode is set.
 */
sq_bearer_rc_t sq_bearer_parse(const char *value, size_t len,
    const char **key, size_t *key_len, sq_key_mode_t *mode);

/*
 * Checks prefix, charset and length; returns the mode or SQ_KEY_BAD (an
 * "sqo_" token is SQ_KEY_LIVE).
 */
sq_key_mode_t sq_key_shape(const char *key, size_t len);

/* the type of a key of the right shape, from its prefix */
sq_key_type_t sq_key_type(const char *key);

/*
 * Does this query string carry something that looks like a SmartlyQ key
 * (sqk_/sqp_ + live_/test_) or OAuth secret (sqo_, sqr_, sqc_, sqs_),
 * raw or percent-encoded, in a name or a value?  Keys in URLs end up in
 * logs and histories: refused.
 */
int sq_key_in_query(const char *args, size_t len);

/* "live" / "test" */
const char *sq_key_mode_name(sq_key_mode_t mode);

/* "secret" / "publishable" / "oauth" */
const char *sq_key_type_name(sq_key_type_t type);

/*
 * the key prefix for a type and mode, e.g. "sqp_test_"; SQ_KEY_PREFIX_LEN
 * bytes: secret and publishable only (an "sqo_" token is not a key that
 * sq_key_generate() makes)
 */
const char *sq_key_prefix(sq_key_type_t type, sq_key_mode_t mode);

#endif /* SQ_BEARER_H */
