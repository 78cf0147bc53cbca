/*
 * sq_redirect: an OAuth client's redirect URIs (issue 14).
 *
 * Plain C, shared by the backend (app registration, authorize, token),
 * sqctl and the fuzzers.  Registration validates each URI; the flow
 * then matches the one a client presents against the registered list
 * byte for byte, with no normalisation at all (RFC 9700 2.1).
 */

#ifndef SQ_REDIRECT_H
#define SQ_REDIRECT_H

#include <stddef.h>

#define SQ_REDIRECT_URI_MAX  512    /* bytes of one URI */


/*
 * 1 when uri[0..len) may be registered as a redirect URI, else 0 with
 * *why (when why is not NULL) set to a short static reason.
 *
 * Accepted: an absolute URI "https://host[:port][/path][?query]", or
 * "http://" only with the host exactly 127.0.0.1, [::1] or localhost
 * (any port).  The scheme is lower case.  Refused: longer than
 * SQ_REDIRECT_URI_MAX, a fragment ('#'), a '*' anywhere, userinfo ('@'
 * in the authority), white space, control or non-ASCII bytes, any byte
 * RFC 3986 does not allow in a URI ('\\', '<', '"', ...), a broken %XX
 * escape, an empty or malformed host, a port not in 1..65535.
 */
int sq_redirect_uri_valid(const char *uri, size_t len, const char **why);

/*
 * 1 when uri[0..len) equals one line of the newline-separated list
 * byte for byte, else 0.  A trailing slash, a case difference or any
 * other one byte makes it a different URI.  An empty uri is never
 * listed.
 */
int sq_redirect_uri_listed(const char *list, size_t list_len,
    const char *uri, size_t len);

#endif /* SQ_REDIRECT_H */
