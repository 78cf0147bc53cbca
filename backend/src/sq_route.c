/*
 * sq_route: /v1/me and, for every resource of the table, its collection
 * and item paths.
 */

#include <string.h>

#include "sq_route.h"

#define SQ_ALLOW_ME          "GET, HEAD"
#define SQ_ALLOW_COLLECTION  "GET, HEAD, POST"
#define SQ_ALLOW_ITEM        "GET, HEAD, PATCH, DELETE"


static const sq_resource_t  *const sq_resources[] = {
    &sq_res_chatbots, &sq_res_social_accounts, &sq_res_social_posts,
    &sq_res_urls, &sq_res_articles, &sq_res_images, &sq_res_media
};


static sq_handler_t
sq_route_collection(int method)
{
    switch (method) {
    case EVHTTP_REQ_GET:
        return sq_res_list;
    case EVHTTP_REQ_POST:
        return sq_res_create;
    default:
        return NULL;
    }
}


static sq_handler_t
sq_route_item(int method)
{
    switch (method) {
    case EVHTTP_REQ_GET:
        return sq_res_get;
    case EVHTTP_REQ_PATCH:
        return sq_res_patch;
    case EVHTTP_REQ_DELETE:
        return sq_res_delete;
    default:
        return NULL;
    }
}


/* 1 when path is res->path ("") or res->path "/" segment (*id set) */
static int
sq_route_resource(const char *path, const sq_resource_t *res,
    const char **id)
{
    size_t  n;

    n = strlen(res->path);

    if (strncmp(path, res->path, n) != 0) {
        return 0;
    }

    if (path[n] == '\0') {
        *id = NULL;
        return 1;
    }

    if (path[n] != '/' || strchr(path + n + 1, '/') != NULL) {
        return 0;
    }

    *id = path + n + 1;

    return 1;
}


sq_route_rc_t
sq_route_match(const char *path, int method, sq_route_t *route,
    const char **allow)
{
    size_t       i;
    const char  *id;

    if (path == NULL) {
        return SQ_ROUTE_NOT_FOUND;
    }

    if (method == EVHTTP_REQ_HEAD) {
        method = EVHTTP_REQ_GET;
    }

    memset(route, 0, sizeof(*route));

    if (strcmp(path, "/v1/me") == 0) {
        route->handler = method == EVHTTP_REQ_GET ? sq_res_me_get : NULL;
        *allow = SQ_ALLOW_ME;
        return route->handler != NULL ? SQ_ROUTE_FOUND : SQ_ROUTE_BAD_METHOD;
    }

    for (i = 0; i < sizeof(sq_resources) / sizeof(sq_resources[0]); i++) {
        if (!sq_route_resource(path, sq_resources[i], &id)) {
            continue;
        }

        route->res = sq_resources[i];
        route->id = id;
        route->handler = id == NULL ? sq_route_collection(method)
                                    : sq_route_item(method);
        *allow = id == NULL ? SQ_ALLOW_COLLECTION : SQ_ALLOW_ITEM;

        return route->handler != NULL ? SQ_ROUTE_FOUND : SQ_ROUTE_BAD_METHOD;
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
