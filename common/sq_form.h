/*
 * sq_form: application/x-www-form-urlencoded, as the OAuth endpoints
 * read it (a POST body, or the query of GET /oauth/authorize).
 *
 * Strict and bounded: at most SQ_FORM_INPUT_MAX bytes and
 * SQ_FORM_PARAMS_MAX parameters; a name of at most SQ_FORM_NAME_MAX
 * bytes; '+' is a space and %XX a byte; a malformed escape or a decoded
 * NUL or control byte is refused; a name given twice is refused
 * (RFC 6749 3.1, 3.2: "MUST NOT be included more than once").  Empty
 * pieces ("a=1&&b=2") are skipped.  A parameter with an empty value is
 * kept (it still counts for duplicates) but sq_form_get treats it as
 * omitted (RFC 6749 3.1).
 */

#ifndef SQ_FORM_H
#define SQ_FORM_H

#include <stddef.h>

#define SQ_FORM_INPUT_MAX   8192
#define SQ_FORM_PARAMS_MAX  32
#define SQ_FORM_NAME_MAX    64

typedef enum {
    SQ_FORM_OK = 0,
    SQ_FORM_TOO_LONG,       /* the input, or a name */
    SQ_FORM_TOO_MANY,       /* parameters */
    SQ_FORM_BAD_ESCAPE,     /* "%" not followed by two hex digits */
    SQ_FORM_BAD_BYTE,       /* a decoded NUL or control byte */
    SQ_FORM_DUPLICATE       /* a name given twice */
} sq_form_rc_t;

typedef struct {
    const char  *name;      /* decoded, NUL-terminated, in buf */
    const char  *value;
    size_t       name_len;
    size_t       value_len;
} sq_form_param_t;

typedef struct {
    size_t           n;
    sq_form_param_t  p[SQ_FORM_PARAMS_MAX];
    /* decoded names and values, each NUL-terminated */
    char             buf[SQ_FORM_INPUT_MAX + 2 * SQ_FORM_PARAMS_MAX];
} sq_form_t;

/* Parses s[0..len) into f; on failure f holds no parameter. */
sq_form_rc_t sq_form_parse(sq_form_t *f, const char *s, size_t len);

/*
 * The value of name, NUL-terminated, its length in *len (may be NULL);
 * NULL when absent or empty.
 */
const char *sq_form_get(const sq_form_t *f, const char *name, size_t *len);

/* A word for a log line or an error_description: "duplicate parameter" */
const char *sq_form_rc_text(sq_form_rc_t rc);

#endif /* SQ_FORM_H */
