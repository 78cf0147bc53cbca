/*
 * sq_redirect: validate a redirect URI at registration, match one
 * against the registered list.  Strict on purpose: what a browser or a
 * URL parser might read two ways is refused rather than guessed.
 */

#include <string.h>

#include "sq_redirect.h"


#define SQ_HTTPS      "https://"
#define SQ_HTTPS_LEN  (sizeof(SQ_HTTPS) - 1)
#define SQ_HTTP       "http://"
#define SQ_HTTP_LEN   (sizeof(SQ_HTTP) - 1)


static int
sq_is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}


static int
sq_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}


static int
sq_is_hex(unsigned char c)
{
    return sq_is_digit(c) || (c >= 'a' && c <= 'f')
           || (c >= 'A' && c <= 'F');
}


/* RFC 3986 unreserved, gen-delims and sub-delims, and '%' */
static int
sq_uri_char(unsigned char c)
{
    if (sq_is_alpha(c) || sq_is_digit(c)) {
        return 1;
    }

    return c != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL;
}


/*
 * Every byte of the URI: allowed in a URI, no '#', no '*', and each '%'
 * followed by two hex digits.  Returns NULL or the reason.
 */
static const char *
sq_redirect_bytes(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] <= 0x20 || p[i] == 0x7f) {
            return "white space or a control character";
        }

        if (p[i] >= 0x80) {
            return "a non-ASCII byte";
        }

        if (p[i] == '#') {
            return "a fragment ('#')";
        }

        if (p[i] == '*') {
            return "a wildcard ('*')";
        }

        if (!sq_uri_char(p[i])) {
            return "a character not allowed in a URI";
        }

        if (p[i] == '%'
            && (i + 2 >= len || !sq_is_hex(p[i + 1])
                || !sq_is_hex(p[i + 2])))
        {
            return "a broken %XX escape";
        }
    }

    return NULL;
}


/* "[...]" holding an IPv6 address's characters; no zone, no IPvFuture */
static const char *
sq_redirect_ip_literal(const unsigned char *h, size_t n)
{
    size_t  i;

    if (n < 4 || h[n - 1] != ']') {
        return "a malformed IP literal";
    }

    for (i = 1; i < n - 1; i++) {
        if (!sq_is_hex(h[i]) && h[i] != ':' && h[i] != '.') {
            return "a malformed IP literal";
        }
    }

    return NULL;
}


/* a DNS name or IPv4 address: letters, digits, '-', '.'; no empty label */
static const char *
sq_redirect_reg_name(const unsigned char *h, size_t n)
{
    size_t  i;

    if (n == 0) {
        return "an empty host";
    }

    if (h[0] == '.' || h[0] == '-') {
        return "a malformed host";
    }

    for (i = 0; i < n; i++) {
        if (!sq_is_alpha(h[i]) && !sq_is_digit(h[i]) && h[i] != '-'
            && h[i] != '.')
        {
            return "a character not allowed in a host name";
        }

        if (h[i] == '.' && i + 1 < n && h[i + 1] == '.') {
            return "a malformed host";
        }
    }

    return NULL;
}


/* ":1".."65535" or nothing */
static const char *
sq_redirect_port(const unsigned char *p, size_t n)
{
    size_t    i;
    unsigned  port;

    if (n == 0) {
        return NULL;
    }

    if (p[0] != ':' || n < 2 || n > 6) {
        return "a malformed port";
    }

    port = 0;

    for (i = 1; i < n; i++) {
        if (!sq_is_digit(p[i])) {
            return "a malformed port";
        }

        port = port * 10 + (p[i] - '0');
    }

    if (port == 0 || port > 65535) {
        return "a port out of range";
    }

    return NULL;
}


static int
sq_redirect_loopback(const unsigned char *h, size_t n)
{
    static const char  *hosts[] = { "127.0.0.1", "[::1]", "localhost" };
    size_t              i;

    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        if (n == strlen(hosts[i]) && memcmp(h, hosts[i], n) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * The authority a[0..n): host and optional port, no userinfo.  For
 * http, the host must be a loopback one.
 */
static const char *
sq_redirect_authority(const unsigned char *a, size_t n, int http)
{
    size_t       i, host_len;
    const char  *why;

    if (memchr(a, '@', n) != NULL) {
        return "userinfo ('@') in the authority";
    }

    if (n > 0 && a[0] == '[') {
        for (i = 0; i < n && a[i] != ']'; i++) {
            /* void */
        }

        host_len = (i < n) ? i + 1 : n;
        why = sq_redirect_ip_literal(a, host_len);

    } else {
        for (i = 0; i < n && a[i] != ':'; i++) {
            /* void */
        }

        host_len = i;
        why = sq_redirect_reg_name(a, host_len);
    }

    if (why == NULL) {
        why = sq_redirect_port(a + host_len, n - host_len);
    }

    if (why == NULL && http && !sq_redirect_loopback(a, host_len)) {
        why = "http other than to 127.0.0.1, [::1] or localhost";
    }

    return why;
}


int
sq_redirect_uri_valid(const char *uri, size_t len, const char **why)
{
    int                   http;
    size_t                start, end;
    const char           *reason;
    const unsigned char  *p;

    p = (const unsigned char *) uri;
    reason = NULL;

    if (uri == NULL || len == 0) {
        reason = "empty";

    } else if (len > SQ_REDIRECT_URI_MAX) {
        reason = "longer than 512 bytes";

    } else {
        reason = sq_redirect_bytes(p, len);
    }

    if (reason == NULL) {
        http = 0;
        start = 0;
        end = 0;

        if (len >= SQ_HTTPS_LEN && memcmp(p, SQ_HTTPS, SQ_HTTPS_LEN) == 0) {
            start = SQ_HTTPS_LEN;

        } else if (len >= SQ_HTTP_LEN
                   && memcmp(p, SQ_HTTP, SQ_HTTP_LEN) == 0)
        {
            start = SQ_HTTP_LEN;
            http = 1;

        } else {
            reason = "not an absolute https:// (or loopback http://) URI";
        }

        if (reason == NULL) {
            for (end = start; end < len; end++) {
                if (p[end] == '/' || p[end] == '?') {
                    break;
                }
            }

            reason = sq_redirect_authority(p + start, end - start, http);
        }

        if (reason == NULL
            && (memchr(p + end, '[', len - end) != NULL
                || memchr(p + end, ']', len - end) != NULL))
        {
            reason = "'[' or ']' outside the host";
        }
    }

    if (why != NULL) {
        *why = reason;
    }

    return reason == NULL;
}


int
sq_redirect_uri_listed(const char *list, size_t list_len, const char *uri,
    size_t len)
{
    size_t       n;
    const char  *line, *nl, *last;

    if (list == NULL || uri == NULL || len == 0) {
        return 0;
    }

    line = list;
    last = list + list_len;

    while (line < last) {
        nl = memchr(line, '\n', (size_t) (last - line));
        n = (nl != NULL) ? (size_t) (nl - line) : (size_t) (last - line);

        if (n == len && memcmp(line, uri, len) == 0) {
            return 1;
        }

        if (nl == NULL) {
            break;
        }

        line = nl + 1;
    }

    return 0;
}
