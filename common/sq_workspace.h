/*
 * sq_workspace: find and validate workspace_id in a query string.
 *
 * Plain C, shared by the module and its unit tests.  The rules are
 * strict on purpose: anything ambiguous is refused rather than guessed.
 */

#ifndef SQ_WORKSPACE_H
#define SQ_WORKSPACE_H

#include <stddef.h>
#include <stdint.h>

/* 2^53 - 1: every id stays exact as a JSON number */
#define SQ_WORKSPACE_ID_MAX  9007199254740991ULL

typedef enum {
    SQ_WS_NONE = 0,     /* no workspace_id parameter */
    SQ_WS_OK,           /* exactly one, valid */
    SQ_WS_INVALID,      /* empty, not a positive decimal, leading zero,
                           too large, or badly percent-encoded */
    SQ_WS_DUPLICATE,    /* given more than once, even with one value */
    SQ_WS_BAD_JSON,     /* a JSON body that does not parse (duplicate keys
                           included) */
    SQ_WS_NOT_OBJECT,   /* a JSON body that is not an object */
    SQ_WS_CONFLICT      /* query and body name different workspaces */
} sq_ws_rc_t;


/* what a request body is, from its Content-Type */
typedef enum {
    SQ_BODY_OTHER = 0,
    SQ_BODY_JSON,       /* application/json */
    SQ_BODY_FORM        /* application/x-www-form-urlencoded */
} sq_body_type_t;

/*
 * Scans "a=1&b=2" (no leading '?').  Names and values are
 * percent-decoded ('+' is a space) before they are compared, so
 * "workspace%5Fid" is workspace_id too.  On SQ_WS_OK, *id is set.
 */
sq_ws_rc_t sq_workspace_from_query(const char *args, size_t len,
    uint64_t *id);

/*
 * The byte at s[*i], decoded when it starts a %XX escape, advancing *i
 * past what it read; -1 (and *i unchanged) for a '%' not followed by two
 * hex digits.  '+' is returned as is.
 */
int sq_pct_byte(const char *s, size_t len, size_t *i);

/*
 * Validates one decoded value: 1..SQ_WORKSPACE_ID_MAX written as ASCII
 * digits with no sign, no white space and no leading zero.
 * Returns 0 and sets *id, or -1.
 */
int sq_workspace_parse_id(const char *s, size_t len, uint64_t *id);

/*
 * The workspace_id member of a JSON body's top-level object: a JSON
 * integer, or a string holding one (same rules as the query).  null,
 * reals, booleans, arrays and objects are SQ_WS_INVALID.  Parsed by
 * jansson with JSON_REJECT_DUPLICATES, exactly as the backend parses.
 */
sq_ws_rc_t sq_workspace_from_json(const char *body, size_t len,
    uint64_t *id);

/* Content-Type's media type, case-insensitive, parameters ignored */
sq_body_type_t sq_body_type(const char *ct, size_t len);

/*
 * Combines the query's and the body's answers: two different values are
 * SQ_WS_CONFLICT; otherwise the query's refusal wins, then the body's,
 * then whichever value there is (both equal is fine).
 */
sq_ws_rc_t sq_workspace_merge(sq_ws_rc_t q, uint64_t qid, sq_ws_rc_t b,
    uint64_t bid, uint64_t *id);

#endif /* SQ_WORKSPACE_H */
