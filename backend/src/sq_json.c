/*
 * sq_json: envelopes rendered by jansson with flags 0, which gives
 * "key": value with ", " separators and keeps insertion order.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sq_json.h"
#include "sq_keys.h"


/*
 * jansson 2.14's lexer ignores a failed allocation while it buffers a
 * token, then copies the string past the end of its buffer: a heap
 * overflow when memory runs out during a parse (the edge showed it).  So
 * jansson's allocations fall back on a reserve when malloc fails.  The
 * reserve is enough for any body up to SQ_BODY_MAX (sq_keys.h gives the
 * measured need), and it is reused once nothing allocated from it is
 * alive.
 */
#define SQ_JSON_RESERVE  (SQ_BODY_MAX * SQ_JSON_BYTES_PER_BYTE + SQ_JSON_SLACK)

static unsigned char  *sq_json_reserve;
static size_t          sq_json_reserve_used;
static size_t          sq_json_reserve_live;    /* blocks not yet freed */


static void *
sq_json_malloc(size_t size)
{
    void  *p;

    p = malloc(size);
    if (p != NULL || sq_json_reserve == NULL) {
        return p;
    }

    size = (size + 15) & ~(size_t) 15;
    if (size > SQ_JSON_RESERVE - sq_json_reserve_used) {
        return NULL;
    }

    p = sq_json_reserve + sq_json_reserve_used;
    sq_json_reserve_used += size;
    sq_json_reserve_live++;

    return p;
}


static void
sq_json_free(void *p)
{
    uintptr_t  a, start;

    a = (uintptr_t) p;
    start = (uintptr_t) sq_json_reserve;

    if (sq_json_reserve != NULL && a >= start
        && a < start + SQ_JSON_RESERVE)
    {
        if (--sq_json_reserve_live == 0) {
            sq_json_reserve_used = 0;
        }
        return;
    }

    free(p);
}


void
sq_json_str_free(void *s)
{
    sq_json_free(s);
}


int
sq_json_reserve_init(void)
{
    sq_json_reserve = malloc(SQ_JSON_RESERVE);
    if (sq_json_reserve == NULL) {
        return -1;
    }

    json_set_alloc_funcs(sq_json_malloc, sq_json_free);

    return 0;
}


typedef struct {
    int          status;
    const char  *reason;
    const char  *code;
    const char  *message;
} sq_err_info_t;


static const sq_err_info_t  sq_err_table[] = {
    { 401, "Unauthorized", "UNAUTHORIZED",
      "Request did not come through the SmartlyQ edge." },
    { 403, "Forbidden", "FORBIDDEN",
      "You do not have access to this workspace." },
    { 404, "Not Found", "NOT_FOUND",
      "The requested resource does not exist." },
    { 405, "Method Not Allowed", "METHOD_NOT_ALLOWED",
      "This method is not allowed on this resource." },
    { 400, "Bad Request", "VALIDATION_ERROR",
      "The request is invalid." },
    { 413, "Payload Too Large", "PAYLOAD_TOO_LARGE",
      "The request body is too large." },
    { 503, "Service Unavailable", "SERVICE_UNAVAILABLE",
      "The service is temporarily unavailable, please retry." },
    { 500, "Internal Server Error", "INTERNAL_ERROR",
      "An internal error occurred." },
    { 409, "Conflict", "CONFLICT",
      "The request conflicts with an existing resource." },
    { 403, "Forbidden", "INSUFFICIENT_SCOPE",
      "This key lacks a required scope." },
    { 403, "Forbidden", "PUBLISHABLE_KEY_NOT_ALLOWED",
      "Publishable keys cannot be used here." },
    { 403, "Forbidden", "OAUTH_TOKEN_NOT_ALLOWED",
      "OAuth access tokens cannot be used here; use an API key." },
    /* issue 15 */
    { 503, "Service Unavailable", "WRITE_NOT_REPLICATED",
      "The write was not confirmed by a replica in time. It may still "
      "have been applied: read it back before retrying." }
};


static const sq_err_info_t *
sq_err_info(sq_err_t e)
{
    if ((size_t) e >= sizeof(sq_err_table) / sizeof(sq_err_table[0])) {
        e = SQ_E_INTERNAL;
    }

    return &sq_err_table[e];
}


int
sq_err_status(sq_err_t e)
{
    return sq_err_info(e)->status;
}


const char *
sq_err_reason(sq_err_t e)
{
    return sq_err_info(e)->reason;
}


const char *
sq_err_code(sq_err_t e)
{
    return sq_err_info(e)->code;
}


const char *
sq_err_message(sq_err_t e)
{
    return sq_err_info(e)->message;
}


const char *
sq_json_internal_fallback(void)
{
    return "{\"success\": false, \"error\": {\"code\": \"INTERNAL_ERROR\", "
           "\"message\": \"An internal error occurred.\"}}";
}


char *
sq_json_error(sq_err_t e, const char *message)
{
    char    *out;
    json_t  *root;

    if (message == NULL) {
        message = sq_err_message(e);
    }

    root = json_pack("{s:b, s:{s:s, s:s}}", "success", 0, "error",
                     "code", sq_err_code(e), "message", message);
    if (root == NULL) {
        return NULL;
    }

    out = json_dumps(root, 0);
    json_decref(root);

    return out;
}


char *
sq_json_success(json_t *data)
{
    char    *out;
    json_t  *root;

    if (data == NULL) {
        return NULL;
    }

    root = json_pack("{s:b, s:o}", "success", 1, "data", data);
    if (root == NULL) {
        return NULL;
    }

    out = json_dumps(root, JSON_ENCODE_ANY);
    json_decref(root);

    return out;
}


int
sq_json_content_type_ok(const char *value)
{
    size_t  n;

    n = sizeof("application/json") - 1;

    if (value == NULL || strncasecmp(value, "application/json", n) != 0) {
        return 0;
    }

    while (value[n] == ' ' || value[n] == '\t') {
        n++;
    }

    return value[n] == '\0' || value[n] == ';';
}


char *
sq_json_success_page(json_t *data, json_t *pagination)
{
    char    *out;
    json_t  *root;

    if (data == NULL || pagination == NULL) {
        json_decref(data);
        json_decref(pagination);
        return NULL;
    }

    root = json_pack("{s:b, s:o, s:o}", "success", 1, "data", data,
                     "pagination", pagination);
    if (root == NULL) {
        return NULL;
    }

    out = json_dumps(root, 0);
    json_decref(root);

    return out;
}
