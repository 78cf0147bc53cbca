/*
 * sq_route: static route table.
 */

#include <string.h>

#include "sq_route.h"


typedef struct {
    const char  *path;
    const char  *allow;
} sq_path_t;


static const sq_route_t  sq_routes[] = {
    { "/v1/me", EVHTTP_REQ_GET, sq_res_me_get },
    { "/v1/social/accounts", EVHTTP_REQ_GET, sq_res_social_list },
    { "/v1/social/accounts", EVHTTP_REQ_POST, sq_res_social_create }
};

static const sq_path_t  sq_paths[] = {
    { "/v1/me", "GET, HEAD" },
    { "/v1/social/accounts", "GET, HEAD, POST" }
};


sq_route_rc_t
sq_route_match(const char *path, int method, const sq_route_t **route,
    const char **allow)
{
    size_t  i;

    if (path == NULL) {
        return SQ_ROUTE_NOT_FOUND;
    }

    if (method == EVHTTP_REQ_HEAD) {
        method = EVHTTP_REQ_GET;
    }

    for (i = 0; i < sizeof(sq_routes) / sizeof(sq_routes[0]); i++) {
        if (sq_routes[i].method == method
            && strcmp(sq_routes[i].path, path) == 0)
        {
            *route = &sq_routes[i];
            return SQ_ROUTE_FOUND;
        }
    }

    for (i = 0; i < sizeof(sq_paths) / sizeof(sq_paths[0]); i++) {
        if (strcmp(sq_paths[i].path, path) == 0) {
            *allow = sq_paths[i].allow;
            return SQ_ROUTE_BAD_METHOD;
        }
    }

    return SQ_ROUTE_NOT_FOUND;
}


const char *
sq_route_method_name(int method)
{
    switch (method) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    default:
        return NULL;
    }
}
