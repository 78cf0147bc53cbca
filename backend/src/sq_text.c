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


/* C0 controls, DEL and C1 controls (U+0080..U+009F) */
static int
sq_text_is_control(const unsigned char *s, int multiline)
{
    if (s[0] < 0x20) {
        return !(multiline && (s[0] == '\n' || s[0] == '\t'));
    }

    return s[0] == 0x7f || (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f);
}


int
sq_text_check_ex(const char *s, size_t len, size_t min_chars,
    size_t max_chars, int multiline)
{
    size_t               pos, n, chars;
    const unsigned char *u = (const unsigned char *) s;

    if (len > max_chars * 4) {
        return -1;
    }

    chars = 0;

    for (pos = 0; pos < len; pos += n) {
        n = sq_utf8_seq(u + pos, len - pos);
        if (n == 0 || sq_text_is_control(u + pos, multiline)
            || ++chars > max_chars)
        {
            return -1;
        }
    }

    return chars >= min_chars ? 0 : -1;
}


int
sq_text_check(const char *s, size_t len, size_t max_chars, size_t max_bytes)
{
    if (len == 0 || len > max_bytes) {
        return -1;
    }

    return sq_text_check_ex(s, len, 1, max_chars, 0);
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


size_t
sq_text_u64(char *out, uint64_t v)
{
    char    buf[SQ_TEXT_U64_MAX];
    size_t  k;

    k = sizeof(buf);
    do {
        buf[--k] = (char) ('0' + v % 10);
        v /= 10;
    } while (v != 0);

    memcpy(out, buf + k, sizeof(buf) - k);

    return sizeof(buf) - k;
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


static int
sq_text_digits(const char *s, size_t n, int *out)
{
    size_t  i;
    int     v;

    v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }

    *out = v;

    return 0;
}


/* Days since 1970-01-01 of a proleptic Gregorian date (y >= 1970). */
static int64_t
sq_text_days(int y, int m, int d)
{
    int64_t  era, yoe, doy, doe;

    y -= m <= 2;
    era = y / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


int
sq_text_parse_utc(const char *s, size_t len, int64_t *out)
{
    int                   y, mo, d, h, mi, se, mdays;
    static const int      dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
                                      31, 30, 31 };

    if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T'
        || s[13] != ':' || s[16] != ':' || s[19] != 'Z'
        || sq_text_digits(s, 4, &y) != 0
        || sq_text_digits(s + 5, 2, &mo) != 0
        || sq_text_digits(s + 8, 2, &d) != 0
        || sq_text_digits(s + 11, 2, &h) != 0
        || sq_text_digits(s + 14, 2, &mi) != 0
        || sq_text_digits(s + 17, 2, &se) != 0)
    {
        return -1;
    }

    if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59) {
        return -1;
    }

    mdays = dim[mo - 1];
    if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        mdays = 29;
    }

    if (d < 1 || d > mdays) {
        return -1;
    }

    *out = sq_text_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;

    return 0;
}
