/*
 * sq_form: a bounded, strict application/x-www-form-urlencoded parser.
 * Decodes into the caller's sq_form_t: no allocation.
 */

#include <string.h>

#include "sq_form.h"


static int
sq_form_hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}


/*
 * Decodes s[0..len) to out (room for len + 1 bytes), NUL-terminated;
 * the decoded length in *olen.
 */
static sq_form_rc_t
sq_form_decode(const char *s, size_t len, char *out, size_t *olen)
{
    int            hi, lo;
    size_t         i, n;
    unsigned char  c;

    for (i = 0, n = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c == '+') {
            c = ' ';

        } else if (c == '%') {
            if (len - i < 3) {
                return SQ_FORM_BAD_ESCAPE;
            }
            hi = sq_form_hex(s[i + 1]);
            lo = sq_form_hex(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return SQ_FORM_BAD_ESCAPE;
            }
            c = (unsigned char) (hi * 16 + lo);
            i += 2;
        }

        if (c < 0x20 || c == 0x7f) {
            return SQ_FORM_BAD_BYTE;
        }

        out[n++] = (char) c;
    }

    out[n] = '\0';
    *olen = n;

    return SQ_FORM_OK;
}


static sq_form_rc_t
sq_form_piece(sq_form_t *f, const char *s, size_t len, size_t *used)
{
    char             *out;
    size_t            i, nlen;
    const char       *eq;
    sq_form_rc_t      rc;
    sq_form_param_t  *p;

    if (f->n == SQ_FORM_PARAMS_MAX) {
        return SQ_FORM_TOO_MANY;
    }

    eq = memchr(s, '=', len);
    nlen = eq != NULL ? (size_t) (eq - s) : len;

    p = &f->p[f->n];
    out = f->buf + *used;

    rc = sq_form_decode(s, nlen, out, &p->name_len);
    if (rc != SQ_FORM_OK) {
        return rc;
    }
    if (p->name_len > SQ_FORM_NAME_MAX) {
        return SQ_FORM_TOO_LONG;
    }
    p->name = out;
    *used += p->name_len + 1;

    out = f->buf + *used;
    if (eq != NULL) {
        rc = sq_form_decode(eq + 1, len - nlen - 1, out, &p->value_len);
        if (rc != SQ_FORM_OK) {
            return rc;
        }
    } else {
        out[0] = '\0';
        p->value_len = 0;
    }
    p->value = out;
    *used += p->value_len + 1;

    for (i = 0; i < f->n; i++) {
        if (f->p[i].name_len == p->name_len
            && memcmp(f->p[i].name, p->name, p->name_len) == 0)
        {
            return SQ_FORM_DUPLICATE;
        }
    }

    f->n++;

    return SQ_FORM_OK;
}


sq_form_rc_t
sq_form_parse(sq_form_t *f, const char *s, size_t len)
{
    size_t         start, i, used;
    sq_form_rc_t   rc;

    f->n = 0;

    if (len > SQ_FORM_INPUT_MAX) {
        return SQ_FORM_TOO_LONG;
    }

    /*
     * Each piece decodes to at most its own length plus two NULs, and
     * there are at most SQ_FORM_PARAMS_MAX pieces: buf always has room.
     */
    used = 0;
    start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && s[i] != '&') {
            continue;
        }

        if (i > start) {
            rc = sq_form_piece(f, s + start, i - start, &used);
            if (rc != SQ_FORM_OK) {
                f->n = 0;
                return rc;
            }
        }

        start = i + 1;
    }

    return SQ_FORM_OK;
}


const char *
sq_form_get(const sq_form_t *f, const char *name, size_t *len)
{
    size_t  i, n;

    n = strlen(name);

    for (i = 0; i < f->n; i++) {
        if (f->p[i].name_len == n && memcmp(f->p[i].name, name, n) == 0) {
            if (f->p[i].value_len == 0) {
                return NULL;
            }
            if (len != NULL) {
                *len = f->p[i].value_len;
            }
            return f->p[i].value;
        }
    }

    return NULL;
}


const char *
sq_form_rc_text(sq_form_rc_t rc)
{
    switch (rc) {
    case SQ_FORM_OK:
        return "ok";
    case SQ_FORM_TOO_LONG:
        return "request too long";
    case SQ_FORM_TOO_MANY:
        return "too many parameters";
    case SQ_FORM_BAD_ESCAPE:
        return "malformed percent-encoding";
    case SQ_FORM_BAD_BYTE:
        return "control character in a parameter";
    case SQ_FORM_DUPLICATE:
        return "duplicate parameter";
    }
    return "malformed request";
}
