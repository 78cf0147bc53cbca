/*
 * sq_social: validation of social account input, shared by the
 * POST /v1/social/accounts route and `sqctl account create`.
 */

#ifndef SQ_SOCIAL_H
#define SQ_SOCIAL_H

#include <stddef.h>
#include <stdint.h>

#define SQ_HANDLE_MAX_CHARS  100
#define SQ_HANDLE_MAX_BYTES  (SQ_HANDLE_MAX_CHARS * 4)

typedef struct {
    const char  *platform;                      /* static canonical name */
    uint64_t     workspace_id;                  /* 0: not in the body */
    char         handle[SQ_HANDLE_MAX_BYTES + 1];
} sq_social_input_t;

/* The canonical platform name, or NULL when it is not supported. */
const char *sq_social_platform(const char *s, size_t len);

/* 1..100 characters of valid UTF-8 without control characters */
int sq_social_check_handle(const char *s, size_t len);

/*
 * Parses and validates a POST body.  ident_ws is the workspace of the
 * signed identity (0: none); a workspace_id in the body must equal it.
 * Returns 0, or -1 with a client-facing message in err.
 */
int sq_social_parse_body(const char *body, size_t len, uint64_t ident_ws,
    sq_social_input_t *in, char *err, size_t errlen);

#endif /* SQ_SOCIAL_H */
