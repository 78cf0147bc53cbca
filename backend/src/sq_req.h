/*
 * sq_req: what a resource handler gets: the request, its verified
 * identity, a live Redis connection and, for the schema-driven
 * resources, the resource and the raw {id} of the path.
 */

#ifndef SQ_REQ_H
#define SQ_REQ_H

#include <event2/http.h>
#include <hiredis/hiredis.h>

#include "sq_auth.h"
#include "sq_ctx.h"
#include "sq_resource.h"

typedef struct {
    sq_ctx_t               *ctx;
    struct evhttp_request  *req;
    redisContext           *redis;
    sq_ident_t              ident;
    const sq_resource_t    *res;        /* NULL for /v1/me */
    const char             *id;         /* the path's {id}, undecoded */
} sq_req_t;

/* resource handlers; each sends exactly one reply */
void sq_res_me_get(sq_req_t *r);

/* the generic ones (sq_res_generic.c) */
void sq_res_list(sq_req_t *r);
void sq_res_create(sq_req_t *r);
void sq_res_get(sq_req_t *r);
void sq_res_patch(sq_req_t *r);
void sq_res_delete(sq_req_t *r);

#endif /* SQ_REQ_H */
