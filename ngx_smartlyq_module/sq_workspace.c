/*
 * sq_workspace: workspace_id from the query string, strictly.
 */

#include <string.h>

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


/*
 * Percent-decodes src into dst (at most cap bytes).  Returns the decoded
 * length, -1 for a broken escape, -2 when the result would not fit.
 */
static long
sq_unescape(const char *src, size_t len, char *dst, size_t cap)
{
    int     hi, lo;
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        char  ch = src[i];

        if (ch == '%') {
            if (i + 2 >= len) {
                return -1;
            }

            hi = sq_hexval((unsigned char) src[i + 1]);
            lo = sq_hexval((unsigned char) src[i + 2]);

            if (hi < 0 || lo < 0) {
                return -1;
            }

            ch = (char) (hi * 16 + lo);
            i += 2;

        } else if (ch == '+') {
            ch = ' ';
        }

        if (n == cap) {
            return -2;
        }

        dst[n++] = ch;
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
