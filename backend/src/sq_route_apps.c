/*
 * sq_route_apps: the routes below /v1/apps (issue 14).  The {id} and
 * {grant_id} segments are left to the handlers, which answer 404 for a
 * malformed one; route->id points at the {id}, what follows included.
 */

#include <string.h>

#include "sq_route.h"

#define SQ_ALLOW_APPS        "GET, HEAD, POST"
#define SQ_ALLOW_APP         "GET, HEAD, PATCH, DELETE"
#define SQ_ALLOW_APP_POST    "POST"
#define SQ_ALLOW_APP_GET     "GET, HEAD"
#define SQ_ALLOW_APP_DELETE  "DELETE"

typedef struct {
    const char     *action;     /* after /v1/apps/{id}/ */
    int             method;
    sq_handler_t    handler;
    const char     *allow;
} sq_route_app_action_t;

static const sq_route_app_action_t  sq_app_actions[] = {
    { "disable", EVHTTP_REQ_POST, sq_apps_disable, SQ_ALLOW_APP_POST },
    { "enable", EVHTTP_REQ_POST, sq_apps_enable, SQ_ALLOW_APP_POST },
    { "secret/rotate", EVHTTP_REQ_POST, sq_apps_rotate, SQ_ALLOW_APP_POST },
    { "authorizations", EVHTTP_REQ_GET, sq_apps_grants, SQ_ALLOW_APP_GET },
    { "outcomes", EVHTTP_REQ_GET, sq_apps_outcomes, SQ_ALLOW_APP_GET }
};

#define SQ_GRANTS_SEGMENT  "authorizations/"


static sq_route_rc_t
sq_route_app_action(const char *action, int method, sq_route_t *route,
    const char **allow)
{
    size_t  i, n;

    n = sizeof(SQ_GRANTS_SEGMENT) - 1;

    if (strncmp(action, SQ_GRANTS_SEGMENT, n) == 0 && action[n] != '\0'
        && strchr(action + n, '/') == NULL)
    {
        *allow = SQ_ALLOW_APP_DELETE;
        route->handler = method == EVHTTP_REQ_DELETE ? sq_apps_grant_delete
                                                     : NULL;
        return route->handler != NULL ? SQ_ROUTE_FOUND : SQ_ROUTE_BAD_METHOD;
    }

    for (i = 0; i < sizeof(sq_app_actions) / sizeof(sq_app_actions[0]); i++)
    {
        if (strcmp(sq_app_actions[i].action, action) != 0) {
            continue;
        }

        *allow = sq_app_actions[i].allow;
        route->handler = method == sq_app_actions[i].method
                         ? sq_app_actions[i].handler : NULL;

        return route->handler != NULL ? SQ_ROUTE_FOUND : SQ_ROUTE_BAD_METHOD;
    }

    return SQ_ROUTE_NOT_FOUND;
}


sq_route_rc_t
sq_route_apps(const char *rest, int method, sq_route_t *route,
    const char **allow)
{
    const char  *slash;

    if (method == EVHTTP_REQ_HEAD) {
        method = EVHTTP_REQ_GET;
    }

    route->apps = 1;
    route->scope = SQ_SC_APPS_MANAGE;

    if (*rest == '\0') {
        *allow = SQ_ALLOW_APPS;
        route->handler = method == EVHTTP_REQ_GET ? sq_apps_list
                         : method == EVHTTP_REQ_POST ? sq_apps_create : NULL;
        return route->handler != NULL ? SQ_ROUTE_FOUND : SQ_ROUTE_BAD_METHOD;
    }

    if (rest[0] != '/' || rest[1] == '\0' || rest[1] == '/') {
        return SQ_ROUTE_NOT_FOUND;
    }

    route->id = rest + 1;
    slash = strchr(rest + 1, '/');

    if (slash != NULL) {
        return sq_route_app_action(slash + 1, method, route, allow);
    }

    *allow = SQ_ALLOW_APP;
    route->handler = method == EVHTTP_REQ_GET ? sq_apps_get
                     : method == EVHTTP_REQ_PATCH ? sq_apps_patch
                     : method == EVHTTP_REQ_DELETE ? sq_apps_delete : NULL;

    return route->handler != NULL ? SQ_ROUTE_FOUND : SQ_ROUTE_BAD_METHOD;
}
