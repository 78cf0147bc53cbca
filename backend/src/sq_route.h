/*
 * sq_route: the route table and path/method matching.
 */

#ifndef SQ_ROUTE_H
#define SQ_ROUTE_H

#include <event2/http.h>

#include "sq_req.h"

typedef void (*sq_handler_t)(sq_req_t *r);

typedef struct {
    sq_handler_t          handler;
    const sq_resource_t  *res;      /* NULL: not a schema-driven resource */
    const char           *id;       /* points into the path, or NULL */
} sq_route_t;

typedef enum {
    SQ_ROUTE_FOUND = 0,
    SQ_ROUTE_NOT_FOUND,
    SQ_ROUTE_BAD_METHOD
} sq_route_rc_t;

/*
 * Exact match of the (undecoded) path: /v1/me, a resource's collection
 * path, or its path + "/" + one segment (the {id}, checked by the
 * handler).  HEAD follows GET.  On SQ_ROUTE_FOUND *route is set; on
 * SQ_ROUTE_BAD_METHOD *allow names the allowed methods.
 */
sq_route_rc_t sq_route_match(const char *path, int method,
    sq_route_t *route, const char **allow);

/* "GET", "POST", ... or NULL for a method the backend does not serve */
const char *sq_route_method_name(int method);

#endif /* SQ_ROUTE_H */
