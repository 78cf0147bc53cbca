/*
 * sq_res_me: GET /v1/me, the caller, and their workspaces by id: those
 * the calling key may use, so a key limited to some workspaces lists only
 * those, and a primary workspace outside its limit shows as null.
 */

#include <stdlib.h>

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


static json_t *
sq_res_me_render(const sq_user_t *u, const sq_wslist_t *limit,
    const sq_ws_t *ws, size_t n)
{
    json_t  *wsj, *primary;

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

    return json_pack("{s:{s:I, s:s, s:s}, s:o, s:o}",
                     "user", "id", (json_int_t) u->id, "email", u->email,
                     "name", u->name, "primary_workspace_id", primary,
                     "workspaces", wsj);
}


void
sq_res_me_get(sq_req_t *r)
{
    size_t     n;
    sq_rc_t    rc;
    sq_ws_t   *ws;
    sq_user_t  u;

    rc = sq_store_user_get(r->redis, r->ident.user_id, &u);
    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return;
    }

    rc = sq_store_user_workspaces(r->redis, r->ident.user_id, &ws, &n);
    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return;
    }

    sq_reply_data(r->req, 200, sq_res_me_render(&u, &r->ident.key_ws, ws, n));
    free(ws);
}
