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
    SQ_WS_DUPLICATE     /* given more than once, even with one value */
} sq_ws_rc_t;

/*
 * Scans "a=1&b=2" (no leading '?').  Names and values are
 * percent-decoded ('+' is a space) before they are compared, so
 * "workspace%5Fid" is workspace_id too.  On SQ_WS_OK, *id is set.
 */
sq_ws_rc_t sq_workspace_from_query(const char *args, size_t len,
    uint64_t *id);

/*
 * Validates one decoded value: 1..SQ_WORKSPACE_ID_MAX written as ASCII
 * digits with no sign, no white space and no leading zero.
 * Returns 0 and sets *id, or -1.
 */
int sq_workspace_parse_id(const char *s, size_t len, uint64_t *id);

#endif /* SQ_WORKSPACE_H */
