/*
 * sq_req: what a resource handler gets: the request, its verified
 * identity and a live Redis connection.
 */

#ifndef SQ_REQ_H
#define SQ_REQ_H

#include <event2/http.h>
#include <hiredis/hiredis.h>

#include "sq_auth.h"
#include "sq_ctx.h"

typedef struct {
    sq_ctx_t               *ctx;
    struct evhttp_request  *req;
    redisContext           *redis;
    sq_ident_t              ident;
} sq_req_t;

/* resource handlers (sq_res_*.c); each sends exactly one reply */
void sq_res_me_get(sq_req_t *r);
void sq_res_social_list(sq_req_t *r);
void sq_res_social_create(sq_req_t *r);

#endif /* SQ_REQ_H */
