/*
 * sq_req: what a resource handler gets: the request, its verified
 * identity and, for the schema-driven resources, the resource and the
 * raw {id} of the path.  Redis is reached only through a job on the
 * asynchronous link (sq_job.h).
 */

#ifndef SQ_REQ_H
#define SQ_REQ_H

#include <event2/http.h>

#include "sq_auth.h"
#include "sq_ctx.h"
#include "sq_resource.h"

typedef struct {
    sq_ctx_t               *ctx;
    struct evhttp_request  *req;
    sq_ident_t              ident;
    const sq_resource_t    *res;        /* NULL for /v1/me */
    const char             *id;         /* the path's {id}, undecoded */
    int                     async;      /* the handler answers later */
} sq_req_t;

/*
 * The request body, which must be application/json of at most
 * SQ_BODY_MAX bytes, as a fresh NUL-terminated copy (free() it); replies
 * itself and returns NULL otherwise.
 */
char *sq_req_body(sq_req_t *r, size_t *len);

/* the request-target's query string, or NULL */
const char *sq_req_query(sq_req_t *r);

/*
 * 0 when the backend has its pepper (--pepper-file), which making keys
 * and client secrets needs; else logs that it cannot make what, answers
 * 503 and returns -1.
 */
int sq_req_need_pepper(sq_req_t *r, const char *what);

/* {"limit": L, "next_cursor": "..." | null}; NULL when out of memory */
json_t *sq_res_pagination(size_t limit, uint64_t next);

/* 1 when the identity's key may reach workspace wid */
int sq_req_ws_allowed(const sq_req_t *r, uint64_t wid);

/* Logs why an identity was refused and answers 401 (sq_server.c). */
void sq_server_refuse(sq_req_t *r, sq_auth_rc_t rc);

/*
 * resource handlers; each sends exactly one reply.  The generic ones
 * answer from a Redis callback: they copy *r, set r->async and return.
 */
void sq_res_me_get(sq_req_t *r);

/* the generic ones (sq_res_generic.c) */
void sq_res_list(sq_req_t *r);
void sq_res_create(sq_req_t *r);
void sq_res_get(sq_req_t *r);
void sq_res_patch(sq_req_t *r);
void sq_res_delete(sq_req_t *r);

/* /v1/keys (sq_res_keys.c) */
void sq_keys_list(sq_req_t *r);
void sq_keys_create(sq_req_t *r);
void sq_keys_get(sq_req_t *r);
void sq_keys_delete(sq_req_t *r);
void sq_keys_rotate(sq_req_t *r);
void sq_keys_disable(sq_req_t *r);
void sq_keys_enable(sq_req_t *r);
void sq_keys_usage(sq_req_t *r);

/* issue 16 (keyops): sq_res_activity.c */
void sq_keys_activity(sq_req_t *r);
void sq_keys_review(sq_req_t *r);
void sq_keys_patch(sq_req_t *r);
void sq_keys_notify(sq_req_t *r);
void sq_me_notifications(sq_req_t *r);

/* /v1/apps (sq_res_apps.c), issue 14 */
void sq_apps_list(sq_req_t *r);
void sq_apps_create(sq_req_t *r);
void sq_apps_get(sq_req_t *r);
void sq_apps_patch(sq_req_t *r);
void sq_apps_delete(sq_req_t *r);
void sq_apps_disable(sq_req_t *r);
void sq_apps_enable(sq_req_t *r);
void sq_apps_rotate(sq_req_t *r);
void sq_apps_grants(sq_req_t *r);
void sq_apps_grant_delete(sq_req_t *r);
void sq_apps_outcomes(sq_req_t *r);

#endif /* SQ_REQ_H */
