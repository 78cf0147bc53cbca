/*
 * sq_workspace: workspace_id from the query string, strictly.
 */

#include <string.h>

#include <jansson.h>

#include "sq_workspace.h"


#define SQ_WS_NAME      "workspace_id"
#define SQ_WS_NAME_LEN  (sizeof(SQ_WS_NAME) - 1)
#define SQ_WS_VALUE_MAX 32      /* decoded bytes kept of a value */


static int
sq_hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }

    ch |= 0x20;

    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }

    return -1;
}


int
sq_pct_byte(const char *s, size_t len, size_t *i)
{
    int  hi, lo;

    if (s[*i] != '%') {
        return (unsigned char) s[(*i)++];
    }

    if (*i + 2 >= len) {
        return -1;
    }

    hi = sq_hexval((unsigned char) s[*i + 1]);
    lo = sq_hexval((unsigned char) s[*i + 2]);

    if (hi < 0 || lo < 0) {
        return -1;
    }

    *i += 3;

    return hi * 16 + lo;
}


/*
 * Percent-decodes src into dst (at most cap bytes), '+' being a space.
 * Returns the decoded length, -1 for a broken escape, -2 when the result
 * would not fit.
 */
static long
sq_unescape(const char *src, size_t len, char *dst, size_t cap)
{
    int     c;
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; /* void */) {
        if (src[i] == '+') {
            c = ' ';
            i++;

        } else {
            c = sq_pct_byte(src, len, &i);
            if (c < 0) {
                return -1;
            }
        }

        if (n == cap) {
            return -2;
        }

        dst[n++] = (char) c;
    }

    return (long) n;
}


int
sq_workspace_parse_id(const char *s, size_t len, uint64_t *id)
{
    size_t    i;
    uint64_t  v;

    if (len == 0 || len > 16 || s[0] == '0') {
        return -1;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        v = v * 10 + (uint64_t) (s[i] - '0');
    }

    if (v == 0 || v > SQ_WORKSPACE_ID_MAX) {
        return -1;
    }

    *id = v;

    return 0;
}


sq_ws_rc_t
sq_workspace_from_query(const char *args, size_t len, uint64_t *id)
{
    char         name[SQ_WS_NAME_LEN + 1], value[SQ_WS_VALUE_MAX];
    long         nlen, vlen;
    size_t       pos, end, eq;
    uint64_t     v;
    sq_ws_rc_t   rc;

    rc = SQ_WS_NONE;
    pos = 0;

    while (pos <= len) {
        end = pos;
        while (end < len && args[end] != '&') {
            end++;
        }

        eq = pos;
        while (eq < end && args[eq] != '=') {
            eq++;
        }

        nlen = sq_unescape(args + pos, eq - pos, name, sizeof(name));

        if (nlen == (long) SQ_WS_NAME_LEN
            && memcmp(name, SQ_WS_NAME, SQ_WS_NAME_LEN) == 0)
        {
            if (rc != SQ_WS_NONE) {
                return SQ_WS_DUPLICATE;
            }

            rc = SQ_WS_INVALID;

            if (eq < end) {
                vlen = sq_unescape(args + eq + 1, end - eq - 1, value,
                                   sizeof(value));

                if (vlen > 0
                    && sq_workspace_parse_id(value, (size_t) vlen, &v) == 0)
                {
                    *id = v;
                    rc = SQ_WS_OK;
                }
            }
        }

        pos = end + 1;
    }

    return rc;
}


sq_ws_rc_t
sq_workspace_from_json(const char *body, size_t len, uint64_t *id)
{
    json_t        *root, *v;
    uint64_t       n;
    sq_ws_rc_t     rc;
    json_int_t     i;
    json_error_t   err;

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL) {
        return SQ_WS_BAD_JSON;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        return SQ_WS_NOT_OBJECT;
    }

    v = json_object_get(root, "workspace_id");
    rc = SQ_WS_INVALID;

    if (v == NULL) {
        rc = SQ_WS_NONE;

    } else if (json_is_integer(v)) {
        i = json_integer_value(v);

        if (i >= 1 && (uint64_t) i <= SQ_WORKSPACE_ID_MAX) {
            *id = (uint64_t) i;
            rc = SQ_WS_OK;
        }

    } else if (json_is_string(v)) {
        if (sq_workspace_parse_id(json_string_value(v), json_string_length(v),
                                  &n) == 0)
        {
            *id = n;
            rc = SQ_WS_OK;
        }
    }

    json_decref(root);

    return rc;
}


static int
sq_media_type_is(const char *ct, size_t len, const char *type)
{
    size_t  i, n;

    n = strlen(type);

    if (len < n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        char  c = ct[i];

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (c != type[i]) {
            return 0;
        }
    }

    /* the media type ends here: end, parameters, or white space */
    return len == n || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}


sq_body_type_t
sq_body_type(const char *ct, size_t len)
{
    while (len > 0 && (*ct == ' ' || *ct == '\t')) {
        ct++;
        len--;
    }

    if (sq_media_type_is(ct, len, "application/json")) {
        return SQ_BODY_JSON;
    }

    if (sq_media_type_is(ct, len, "application/x-www-form-urlencoded")) {
        return SQ_BODY_FORM;
    }

    return SQ_BODY_OTHER;
}


sq_ws_rc_t
sq_workspace_merge(sq_ws_rc_t q, uint64_t qid, sq_ws_rc_t b, uint64_t bid,
    uint64_t *id)
{
    if (q == SQ_WS_OK && b == SQ_WS_OK) {
        if (qid != bid) {
            return SQ_WS_CONFLICT;
        }

        *id = qid;
        return SQ_WS_OK;
    }

    if (q != SQ_WS_NONE && q != SQ_WS_OK) {
        return q;
    }

    if (b != SQ_WS_NONE && b != SQ_WS_OK) {
        return b;
    }

    if (q == SQ_WS_OK) {
        *id = qid;
        return SQ_WS_OK;
    }

    if (b == SQ_WS_OK) {
        *id = bid;
        return SQ_WS_OK;
    }

    return SQ_WS_NONE;
}
