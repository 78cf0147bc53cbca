/*
 * sq_route: the route table and path/method matching.
 */

#ifndef SQ_ROUTE_H
#define SQ_ROUTE_H

#include <event2/http.h>

#include "sq_json.h"
#include "sq_req.h"

typedef void (*sq_handler_t)(sq_req_t *r);

typedef struct {
    sq_handler_t          handler;
    const sq_resource_t  *res;      /* NULL: not a schema-driven resource */
    const char           *id;       /* points into the path, or NULL */
    sq_scope_t            scope;    /* the scope the request needs */
    int                   keys;     /* a /v1/keys route */
    int                   apps;     /* a /v1/apps route (issue 14) */
} sq_route_t;

typedef enum {
    SQ_ROUTE_FOUND = 0,
    SQ_ROUTE_NOT_FOUND,
    SQ_ROUTE_BAD_METHOD
} sq_route_rc_t;

/*
 * Exact match of the (undecoded) path: /v1/me, a resource's collection
 * path, or its path + "/" + one segment (the {id}, checked by the
 * handler), /v1/keys, /v1/keys/{id} and /v1/keys/{id}/<action> (id
 * then ends at the '/').  HEAD follows GET.  GET needs the family's
 * read scope, other methods its write scope.  On SQ_ROUTE_FOUND *route
 * is set; on SQ_ROUTE_BAD_METHOD *allow names the allowed methods.
 */
sq_route_rc_t sq_route_match(const char *path, int method,
    sq_route_t *route, const char **allow);

/*
 * Issue 14 (apps): below /v1/apps, rest being what follows it: "",
 * /{id}, /{id}/disable|enable|outcomes|authorizations,
 * /{id}/secret/rotate, /{id}/authorizations/{grant_id}.  Needs
 * apps:manage.  (sq_route_apps.c)
 */
sq_route_rc_t sq_route_apps(const char *rest, int method, sq_route_t *route,
    const char **allow);

/*
 * Defense in depth of the edge's decision: a publishable key only on GET
 * and HEAD and never on /v1/keys (SQ_E_PUBLISHABLE), then the route's
 * scope (SQ_E_INSUFFICIENT_SCOPE).  Returns 0, or -1 with *e set.
 */
int sq_route_authorize(const sq_ident_t *id, const sq_route_t *route,
    int method, sq_err_t *e);

/*
 * 1 when path is one an OAuth access token may never reach: /v1/keys and
 * /v1/apps, and everything under them (issue 14; the edge refuses them
 * first, with "smartlyq_oauth off" there).
 */
int sq_route_oauth_excluded(const char *path);

/* "GET", "POST", ... or NULL for a method the backend does not serve */
const char *sq_route_method_name(int method);

#endif /* SQ_ROUTE_H */
