/*
 * sq_json: the response envelopes, error codes and request limits.
 *
 *   {"success": true, "data": ...}
 *   {"success": false, "error": {"code": "...", "message": "..."}}
 */

#ifndef SQ_JSON_H
#define SQ_JSON_H

#include <jansson.h>

#define SQ_BODY_MAX         (64 * 1024)    /* larger: JSON 413 */
/* evhttp's own hard cap, past which it answers in HTML; nginx's default
 * client_max_body_size, so through the edge the JSON 413 always wins */
#define SQ_TRANSPORT_BODY_MAX  (1024 * 1024)
#define SQ_HEADERS_MAX      (16 * 1024)
#define SQ_HTTP_TIMEOUT     30          /* seconds */
#define SQ_WORKSPACES_MAX   1000        /* workspaces read per user */

typedef enum {
    SQ_E_UNAUTHORIZED = 0,
    SQ_E_FORBIDDEN,
    SQ_E_NOT_FOUND,
    SQ_E_METHOD_NOT_ALLOWED,
    SQ_E_VALIDATION,
    SQ_E_PAYLOAD_TOO_LARGE,
    SQ_E_UNAVAILABLE,
    SQ_E_INTERNAL,
    SQ_E_CONFLICT,
    SQ_E_INSUFFICIENT_SCOPE,
    SQ_E_PUBLISHABLE,
    SQ_E_OAUTH_TOKEN,           /* an OAuth access token where none may go */
    SQ_E_NOT_REPLICATED         /* issue 15: WAIT got too few replicas */
} sq_err_t;

/* jansson's allocations fall back on a reserve when malloc fails */
int sq_json_reserve_init(void);

int sq_err_status(sq_err_t e);
const char *sq_err_reason(sq_err_t e);
const char *sq_err_code(sq_err_t e);
const char *sq_err_message(sq_err_t e);

/* Envelopes as malloc'ed strings (free()), NULL when out of memory. */
char *sq_json_error(sq_err_t e, const char *message);

/* Steals the reference to data, which may be NULL only on OOM. */
char *sq_json_success(json_t *data);

/*
 * Frees what json_dumps (and so the three above) returned: it may come
 * from the reserve jansson falls back on when malloc fails, which free()
 * must not see.
 */
void sq_json_str_free(void *s);

/* The same with "pagination" after "data"; steals both. */
char *sq_json_success_page(json_t *data, json_t *pagination);

/* A body that needs no allocation, for when rendering failed. */
const char *sq_json_internal_fallback(void);

/* "application/json", optionally with parameters; 1 when acceptable */
int sq_json_content_type_ok(const char *value);

#endif /* SQ_JSON_H */
