/*
 * sq_res_me: GET /v1/me, the caller, and their workspaces by id: those
 * the calling key may use, so a key limited to some workspaces lists only
 * those, and a primary workspace outside its limit shows as null.
 */

#include <stdlib.h>

#include "sq_job.h"
#include "sq_keys.h"
#include "sq_reply.h"
#include "sq_req.h"
#include "sq_store.h"


static json_t *
sq_res_me_workspaces(const sq_wslist_t *limit, const sq_ws_t *ws, size_t n)
{
    size_t   i;
    json_t  *arr, *item;

    arr = json_array();

    for (i = 0; arr != NULL && i < n; i++) {
        if (!sq_wslist_allows(limit, ws[i].id)) {
            continue;
        }

        item = json_pack("{s:I, s:s}", "id", (json_int_t) ws[i].id,
                         "name", ws[i].name);
        if (item == NULL || json_array_append_new(arr, item) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }

    return arr;
}


/* an OAuth access token's caller also learns which app it acts through */
static json_t *
sq_res_me_render(const sq_user_t *u, const sq_ident_t *id,
    const sq_ws_t *ws, size_t n)
{
    json_t             *wsj, *primary, *me;
    const sq_wslist_t  *limit;

    limit = &id->key_ws;
    wsj = sq_res_me_workspaces(limit, ws, n);
    primary = u->primary_workspace_id != 0
              && sq_wslist_allows(limit, u->primary_workspace_id)
              ? json_integer((json_int_t) u->primary_workspace_id)
              : json_null();

    if (wsj == NULL || primary == NULL) {
        json_decref(wsj);
        json_decref(primary);
        return NULL;
    }

    me = json_pack("{s:{s:I, s:s, s:s}, s:o, s:o}",
                   "user", "id", (json_int_t) u->id, "email", u->email,
                   "name", u->name, "primary_workspace_id", primary,
                   "workspaces", wsj);

    if (me != NULL && id->oauth
        && json_object_set_new(me, "app_id",
                               json_integer((json_int_t) id->app_id))
           != 0)
    {
        json_decref(me);
        return NULL;
    }

    return me;
}


/* {wid, name, ...} of sq_me into ws[]; SQ_ERR_REDIS if malformed */
static sq_rc_t
sq_res_me_ws(const redisReply *r, sq_ws_t **ws, size_t *n)
{
    size_t    i;
    sq_rc_t   rc;
    sq_ws_t  *out;

    *ws = NULL;
    *n = 0;

    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0
        || r->elements > 2 * SQ_WORKSPACES_MAX)
    {
        return SQ_ERR_REDIS;
    }

    out = calloc(r->elements / 2 + 1, sizeof(sq_ws_t));
    if (out == NULL) {
        return SQ_ERR_NOMEM;
    }

    rc = SQ_OK;
    for (i = 0; rc == SQ_OK && i < r->elements / 2; i++) {
        rc = sq_reply_id(r->element[2 * i], &out[i].id);
        if (rc == SQ_OK) {
            rc = sq_reply_copy(r->element[2 * i + 1], out[i].name,
                               sizeof(out[i].name));
        }
    }

    if (rc != SQ_OK) {
        free(out);
        return rc;
    }

    *ws = out;
    *n = r->elements / 2;

    return SQ_OK;
}


static void
sq_res_on_me(redisReply *reply, void *data)
{
    size_t     n;
    sq_rc_t    rc;
    sq_ws_t   *ws;
    sq_job_t  *j = data;
    sq_user_t  u;

    sq_job_enter(j);

    if (sq_job_refused(j, reply)) {
        sq_job_done(j);
        return;
    }

    ws = NULL;
    rc = reply->elements == 3
         ? sq_store_user_parse(reply->element[1], j->r.ident.user_id, &u)
         : SQ_ERR_REDIS;
    if (rc == SQ_OK) {
        rc = sq_res_me_ws(reply->element[2], &ws, &n);
    }

    if (rc != SQ_OK) {
        sq_reply_store_error(j->r.req, rc);
    } else {
        sq_reply_data(j->r.req, 200,
                      sq_res_me_render(&u, &j->r.ident, ws, n));
    }

    free(ws);
    sq_job_done(j);
}


/* One call of sq_me on the asynchronous link. */
void
sq_res_me_get(sq_req_t *r)
{
    sq_job_t   *j;
    sq_argv_t   a;

    j = sq_job_new(r, 0);
    if (j == NULL) {
        return;
    }

    sq_job_head(&a, j, "sq_me", 4);
    sq_argv_fmt(&a, SQ_K_USER, (unsigned long long) r->ident.user_id);
    sq_argv_fmt(&a, SQ_K_USER_WORKSPACES,
                (unsigned long long) r->ident.user_id);
    sq_job_common(&a, j);
    sq_job_start(j, r, &a, sq_res_on_me);
}
