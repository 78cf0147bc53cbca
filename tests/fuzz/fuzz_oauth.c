/*
 * fuzz_oauth: what the OAuth endpoints parse from a client before any
 * check: the form parser of /oauth/token, /oauth/revoke and the authorize
 * query (common/sq_form.c), and the redirect URI rules and exact match
 * (common/sq_redirect.c).
 *
 * The input is read whole as a form, whole as a redirect URI, and split
 * at its first newline into a registered list (the part before it, '|'
 * read as the list's newline) and a presented URI (the rest).
 *
 * Properties checked besides memory safety:
 *   - the form parser is deterministic; on success names are unique,
 *     values hold no control byte, and every parameter with a value is
 *     what sq_form_get returns;
 *   - a form round-trips: its parameters percent-encoded again parse
 *     back to the same names and values;
 *   - appending a parameter the form already has gives DUPLICATE;
 *   - a valid redirect URI is short, has no fragment, wildcard, white
 *     space or control byte, starts with https:// or http://, and is
 *     listed in a list holding it, and in no list holding it with one
 *     byte changed or a '/' appended;
 *   - sq_redirect_uri_listed answers 1 only when the URI is one whole
 *     line of the list.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_form.h"
#include "sq_redirect.h"
#include "fuzz.h"

static sq_form_t  f1, f2;


static size_t
enc(char *out, const char *s, size_t len)
{
    size_t         i, n;
    unsigned char  c;

    for (i = 0, n = 0; i < len; i++) {
        c = (unsigned char) s[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
            out[n++] = (char) c;
        } else {
            n += (size_t) sprintf(out + n, "%%%02X", c);
        }
    }

    return n;
}


static void
check_form(const char *s, size_t len)
{
    char           *buf;
    size_t          i, j, n, vlen;
    const char     *v;
    sq_form_rc_t    rc, rc2;

    rc = sq_form_parse(&f1, s, len);
    rc2 = sq_form_parse(&f2, s, len);
    SQ_FUZZ_ASSERT(rc == rc2);
    SQ_FUZZ_ASSERT(rc >= SQ_FORM_OK && rc <= SQ_FORM_DUPLICATE);

    if (rc != SQ_FORM_OK) {
        SQ_FUZZ_ASSERT(f1.n == 0);
        return;
    }

    SQ_FUZZ_ASSERT(f1.n <= SQ_FORM_PARAMS_MAX && f1.n == f2.n);

    for (i = 0; i < f1.n; i++) {
        SQ_FUZZ_ASSERT(f1.p[i].name_len <= SQ_FORM_NAME_MAX);
        SQ_FUZZ_ASSERT(strlen(f1.p[i].name) == f1.p[i].name_len);
        SQ_FUZZ_ASSERT(strlen(f1.p[i].value) == f1.p[i].value_len);
        for (j = 0; j < f1.p[i].value_len; j++) {
            SQ_FUZZ_ASSERT((unsigned char) f1.p[i].value[j] >= 0x20
                           && f1.p[i].value[j] != 0x7f);
        }
        for (j = 0; j < i; j++) {
            SQ_FUZZ_ASSERT(strcmp(f1.p[i].name, f1.p[j].name) != 0);
        }
        v = sq_form_get(&f1, f1.p[i].name, &vlen);
        if (f1.p[i].value_len == 0) {
            SQ_FUZZ_ASSERT(v == NULL);
        } else {
            SQ_FUZZ_ASSERT(v == f1.p[i].value && vlen == f1.p[i].value_len);
        }
    }

    /* re-encoded, every byte escaped but [a-z0-9_]: the same form */
    /* every byte may become 3, plus '&', '=' and the name added again */
    buf = malloc(3 * len + 3 * SQ_FORM_PARAMS_MAX + 3 * SQ_FORM_NAME_MAX
                 + 16);
    if (buf == NULL) {
        return;
    }

    for (i = 0, n = 0; i < f1.n; i++) {
        if (i > 0) {
            buf[n++] = '&';
        }
        n += enc(buf + n, f1.p[i].name, f1.p[i].name_len);
        buf[n++] = '=';
        n += enc(buf + n, f1.p[i].value, f1.p[i].value_len);
    }

    if (n <= SQ_FORM_INPUT_MAX) {
        SQ_FUZZ_ASSERT(sq_form_parse(&f2, buf, n) == SQ_FORM_OK);
        SQ_FUZZ_ASSERT(f2.n == f1.n);
        for (i = 0; i < f1.n; i++) {
            SQ_FUZZ_ASSERT(strcmp(f1.p[i].name, f2.p[i].name) == 0
                           && strcmp(f1.p[i].value, f2.p[i].value) == 0);
        }

        /* a name given again */
        if (f1.n > 0 && f1.n < SQ_FORM_PARAMS_MAX) {
            buf[n++] = '&';
            n += enc(buf + n, f1.p[0].name, f1.p[0].name_len);
            memcpy(buf + n, "=x", 2);
            n += 2;
            if (n <= SQ_FORM_INPUT_MAX) {
                SQ_FUZZ_ASSERT(sq_form_parse(&f2, buf, n)
                               == SQ_FORM_DUPLICATE);
            }
        }
    }

    free(buf);
}


static void
check_uri(const char *u, size_t len)
{
    int          ok;
    char        *l;
    size_t       i;
    const char  *why;

    why = NULL;
    ok = sq_redirect_uri_valid(u, len, &why);
    SQ_FUZZ_ASSERT(ok == sq_redirect_uri_valid(u, len, NULL));
    SQ_FUZZ_ASSERT(ok == 0 || ok == 1);
    SQ_FUZZ_ASSERT(ok || why != NULL);

    if (!ok) {
        return;
    }

    SQ_FUZZ_ASSERT(len > 0 && len <= SQ_REDIRECT_URI_MAX);
    SQ_FUZZ_ASSERT((len > 8 && memcmp(u, "https://", 8) == 0)
                   || (len > 7 && memcmp(u, "http://", 7) == 0));

    for (i = 0; i < len; i++) {
        SQ_FUZZ_ASSERT(u[i] != '#' && u[i] != '*' && u[i] > 0x20
                       && u[i] != 0x7f);
    }

    /* listed alone, in the middle of a list, and not once changed */
    SQ_FUZZ_ASSERT(sq_redirect_uri_listed(u, len, u, len) == 1);

    l = malloc(2 * len + 32);
    if (l == NULL) {
        return;
    }

    memcpy(l, "https://a.example/x\n", 20);
    memcpy(l + 20, u, len);
    memcpy(l + 20 + len, "\nhttps://b.example/y", 20);
    SQ_FUZZ_ASSERT(sq_redirect_uri_listed(l, len + 40, u, len) == 1);

    /* the list holds u with a '/' appended: u is not listed */
    memcpy(l, u, len);
    l[len] = '/';
    SQ_FUZZ_ASSERT(sq_redirect_uri_listed(l, len + 1, u, len) == 0);

    /* one byte changed */
    memcpy(l, u, len);
    l[len - 1] = (char) (l[len - 1] == 'a' ? 'b' : 'a');
    SQ_FUZZ_ASSERT(sq_redirect_uri_listed(l, len, u, len) == 0);

    free(l);
}


/* listed == 1 exactly when the URI is a whole line of the list */
static void
check_listed(const char *list, size_t llen, const char *u, size_t ulen)
{
    int          got, want;
    size_t       i, start;

    got = sq_redirect_uri_listed(list, llen, u, ulen);
    SQ_FUZZ_ASSERT(got == sq_redirect_uri_listed(list, llen, u, ulen));

    want = 0;
    for (i = 0, start = 0; i <= llen; i++) {
        if (i < llen && list[i] != '\n') {
            continue;
        }
        if (ulen > 0 && i - start == ulen
            && memcmp(list + start, u, ulen) == 0)
        {
            want = 1;
        }
        start = i + 1;
    }

    SQ_FUZZ_ASSERT(got == want);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    *copy, *nl;
    size_t   i, llen;

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);

    check_form(copy, size);
    check_uri(copy, size);

    nl = memchr(copy, '\n', size);
    if (nl != NULL) {
        llen = (size_t) (nl - copy);
        for (i = 0; i < llen; i++) {
            if (copy[i] == '|') {
                copy[i] = '\n';
            }
        }
        check_listed(copy, llen, nl + 1, size - llen - 1);
        check_uri(nl + 1, size - llen - 1);
    }

    free(copy);

    return 0;
}
