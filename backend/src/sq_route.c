/*
 * sq_route: /v1/me and, for every resource of the table, its collection
 * and item paths.
 */

#include <string.h>

#include "sq_route.h"

#define SQ_ALLOW_ME          "GET, HEAD"
#define SQ_ALLOW_COLLECTION  "GET, HEAD, POST"
#define SQ_ALLOW_ITEM        "GET, HEAD, PATCH, DELETE"
#define SQ_ALLOW_KEY         "GET, HEAD, PATCH, DELETE"
#define SQ_ALLOW_POST        "POST"
#define SQ_ALLOW_GET         "GET, HEAD"
#define SQ_KEYS_PATH         "/v1/keys"
#define SQ_APPS_PATH         "/v1/apps"      /* issue 14 (apps) */

typedef struct {
    const sq_resource_t  *res;
    sq_scope_t            read;     /* write is read + 1 */
} sq_route_res_t;

static const sq_route_res_t  sq_resources[] = {
    { &sq_res_chatbots, SQ_SC_CHATBOTS_READ },
    { &sq_res_social_accounts, SQ_SC_SOCIAL_READ },
    { &sq_res_social_posts, SQ_SC_SOCIAL_READ },
    { &sq_res_urls, SQ_SC_URLS_READ },
    { &sq_res_articles, SQ_SC_ARTICLES_READ },
    { &sq_res_images, SQ_SC_IMAGES_READ },
    { &sq_res_media, SQ_SC_MEDIA_READ }
};

typedef struct {
    const char     *action;     /* after /v1/keys/{id}/ */
    int             method;
    sq_handler_t    handler;
    const char     *allow;
} sq_route_key_action_t;

static const sq_route_key_action_t  sq_key_actions[] = {
    { "rotate", EVHTTP_REQ_POST, sq_keys_rotate, SQ_ALLOW_POST },
    { "disable", EVHTTP_REQ_POST, sq_keys_disable, SQ_ALLOW_POST },
    { "enable", EVHTTP_REQ_POST, sq_keys_enable, SQ_ALLOW_POST },
    { "usage", EVHTTP_REQ_GET, sq_keys_usage, SQ_ALLOW_GET },
    /* issue 16 (keyops) */
    { "activity", EVHTTP_REQ_GET, sq_keys_activity, SQ_ALLOW_GET },
    { "notify", EVHTTP_REQ_POST, sq_keys_notify, SQ_ALLOW_POST }
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


/* /v1/keys/{id}/<action> */
static sq_route_rc_t
sq_route_key_action(const char *action, int method, sq_route_t *route,
    const char **allow)
{
    size_t                        i;
    const sq_route_key_action_t  *a;

    for (i = 0; i < sizeof(sq_key_actions) / sizeof(sq_key_actions[0]);
         i++)
    {
        a = &sq_key_actions[i];
        if (strcmp(a->action, action) != 0) {
            continue;
        }

        *allow = a->allow;
        route->handler = method == a->method ? a->handler : NULL;

        return route->handler != NULL ? SQ_ROUTE_FOUND : SQ_ROUTE_BAD_METHOD;
    }

    return SQ_ROUTE_NOT_FOUND;
}


/* path is below /v1/keys: rest is what follows it */
static sq_route_rc_t
sq_route_keys(const char *rest, int method, sq_route_t *route,
    const char **allow)
{
    const char  *slash;

    route->keys = 1;
    route->scope = SQ_SC_KEYS_MANAGE;

    if (*rest == '\0') {
        route->handler = method == EVHTTP_REQ_GET ? sq_keys_list
                         : method == EVHTTP_REQ_POST ? sq_keys_create : NULL;
        *allow = SQ_ALLOW_COLLECTION;
    } else if (*rest != '/' || rest[1] == '\0' || rest[1] == '/') {
        return SQ_ROUTE_NOT_FOUND;
    } else if (strcmp(rest, "/review") == 0) {       /* issue 16 */
        route->handler = method == EVHTTP_REQ_GET ? sq_keys_review : NULL;
        *allow = SQ_ALLOW_GET;
    } else if ((slash = strchr(rest + 1, '/')) != NULL) {
        route->id = rest + 1;
        if (strchr(slash + 1, '/') != NULL) {
            return SQ_ROUTE_NOT_FOUND;
        }
        return sq_route_key_action(slash + 1, method, route, allow);
    } else {
        route->id = rest + 1;
        route->handler = method == EVHTTP_REQ_GET ? sq_keys_get
                         : method == EVHTTP_REQ_DELETE ? sq_keys_delete
                         : method == EVHTTP_REQ_PATCH ? sq_keys_patch
                         : NULL;
        *allow = SQ_ALLOW_KEY;
    }

    return route->handler != NULL ? SQ_ROUTE_FOUND : SQ_ROUTE_BAD_METHOD;
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

    if (strncmp(path, SQ_KEYS_PATH, sizeof(SQ_KEYS_PATH) - 1) == 0
        && (path[sizeof(SQ_KEYS_PATH) - 1] == '\0'
            || path[sizeof(SQ_KEYS_PATH) - 1] == '/'))
    {
        return sq_route_keys(path + sizeof(SQ_KEYS_PATH) - 1, method, route,
                             allow);
    }

    /* issue 14 (apps) */
    if (strncmp(path, SQ_APPS_PATH, sizeof(SQ_APPS_PATH) - 1) == 0
        && (path[sizeof(SQ_APPS_PATH) - 1] == '\0'
            || path[sizeof(SQ_APPS_PATH) - 1] == '/'))
    {
        return sq_route_apps(path + sizeof(SQ_APPS_PATH) - 1, method, route,
                             allow);
    }

    /* issue 16 (keyops): the user's notices, as /v1/me */
    if (strcmp(path, "/v1/me/notifications") == 0) {
        route->scope = SQ_SC_WORKSPACE_READ;
        route->handler = method == EVHTTP_REQ_GET ? sq_me_notifications
                                                  : NULL;
        *allow = SQ_ALLOW_ME;
        return route->handler != NULL ? SQ_ROUTE_FOUND : SQ_ROUTE_BAD_METHOD;
    }

    if (strcmp(path, "/v1/me") == 0) {
        route->scope = SQ_SC_WORKSPACE_READ;
        route->handler = method == EVHTTP_REQ_GET ? sq_res_me_get : NULL;
        *allow = SQ_ALLOW_ME;
        return route->handler != NULL ? SQ_ROUTE_FOUND : SQ_ROUTE_BAD_METHOD;
    }

    for (i = 0; i < sizeof(sq_resources) / sizeof(sq_resources[0]); i++) {
        if (!sq_route_resource(path, sq_resources[i].res, &id)) {
            continue;
        }

        route->res = sq_resources[i].res;
        route->scope = method == EVHTTP_REQ_GET ? sq_resources[i].read
                                                : sq_resources[i].read + 1;
        route->id = id;
        route->handler = id == NULL ? sq_route_collection(method)
                                    : sq_route_item(method);
        *allow = id == NULL ? SQ_ALLOW_COLLECTION : SQ_ALLOW_ITEM;

        return route->handler != NULL ? SQ_ROUTE_FOUND : SQ_ROUTE_BAD_METHOD;
    }

    return SQ_ROUTE_NOT_FOUND;
}


int
sq_route_authorize(const sq_ident_t *id, const sq_route_t *route,
    int method, sq_err_t *e)
{
    if (id->publishable
        && (route->keys || route->apps
            || (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD)))
    {
        *e = SQ_E_PUBLISHABLE;
        return -1;
    }

    if (!(id->scopes & SQ_SCOPE_BIT(route->scope))) {
        *e = SQ_E_INSUFFICIENT_SCOPE;
        return -1;
    }

    return 0;
}


int
sq_route_oauth_excluded(const char *path)
{
    size_t              i, n;
    static const char  *const roots[] = { "/v1/keys", "/v1/apps",
                                          "/v1/me/notifications" };

    if (path == NULL) {
        return 1;
    }

    for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        n = strlen(roots[i]);

        if (strncmp(path, roots[i], n) == 0
            && (path[n] == '\0' || path[n] == '/'))
        {
            return 1;
        }
    }

    return 0;
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
