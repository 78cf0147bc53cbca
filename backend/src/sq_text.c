/*
 * sq_text: UTF-8 and number validation without locale dependence.
 */

#include <string.h>
#include <time.h>

#include "sq_text.h"


/* Length of the UTF-8 sequence at s, or 0 when it is invalid. */
static size_t
sq_utf8_seq(const unsigned char *s, size_t len)
{
    size_t    n, i;
    uint32_t  cp, min;

    if (s[0] < 0x80) {
        return 1;
    }

    if ((s[0] & 0xe0) == 0xc0) {
        n = 2; cp = s[0] & 0x1f; min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3; cp = s[0] & 0x0f; min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4; cp = s[0] & 0x07; min = 0x10000;
    } else {
        return 0;
    }

    if (n > len) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }

    return n;
}


int
sq_text_check(const char *s, size_t len, size_t max_chars, size_t max_bytes)
{
    size_t               pos, n, chars;
    const unsigned char *u = (const unsigned char *) s;

    if (len == 0 || len > max_bytes) {
        return -1;
    }

    chars = 0;

    for (pos = 0; pos < len; pos += n) {
        if (u[pos] < 0x20 || u[pos] == 0x7f) {
            return -1;
        }

        n = sq_utf8_seq(u + pos, len - pos);
        if (n == 0 || ++chars > max_chars) {
            return -1;
        }
    }

    return 0;
}


int
sq_text_check_email(const char *s, size_t len)
{
    size_t  i, at, ats;

    if (sq_text_check(s, len, SQ_TEXT_MAX, SQ_TEXT_MAX) != 0) {
        return -1;
    }

    at = 0;
    ats = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == ' ') {
            return -1;
        }
        if (s[i] == '@') {
            at = i;
            ats++;
        }
    }

    return (ats == 1 && at > 0 && at + 1 < len) ? 0 : -1;
}


int
sq_text_parse_u63(const char *s, size_t len, int64_t *out)
{
    size_t   i;
    int64_t  v;

    if (len == 0 || len > 18 || (s[0] == '0' && len > 1)) {
        return -1;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }

    *out = v;

    return 0;
}


int
sq_text_iso8601(int64_t unix_seconds, char *out, size_t outlen)
{
    time_t     t;
    struct tm  tm;

    t = (time_t) unix_seconds;

    if (unix_seconds < 0 || gmtime_r(&t, &tm) == NULL
        || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        return -1;
    }

    return 0;
}
