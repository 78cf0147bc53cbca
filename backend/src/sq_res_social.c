/*
 * sq_res_social: GET and POST /v1/social/accounts.  The workspace comes
 * only from the signed identity, never from the query string.
 */

#include <stdlib.h>
#include <time.h>

#include <event2/buffer.h>

#include "sq_log.h"
#include "sq_reply.h"
#include "sq_req.h"
#include "sq_store.h"


static json_t *
sq_res_social_render(const sq_social_t *s)
{
    char  created[32];

    if (sq_text_iso8601(s->created_at, created, sizeof(created)) != 0) {
        return NULL;
    }

    return json_pack("{s:I, s:I, s:s, s:s, s:s}",
                     "id", (json_int_t) s->id,
                     "workspace_id", (json_int_t) s->workspace_id,
                     "platform", s->platform, "handle", s->handle,
                     "created_at", created);
}


static json_t *
sq_res_social_render_list(const sq_social_t *items, size_t n)
{
    size_t   i;
    json_t  *arr, *item;

    arr = json_array();

    for (i = 0; arr != NULL && i < n; i++) {
        item = sq_res_social_render(&items[i]);
        if (item == NULL || json_array_append_new(arr, item) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }

    return arr;
}


void
sq_res_social_list(sq_req_t *r)
{
    size_t        nws, n;
    sq_rc_t       rc;
    uint64_t     *wids, one;
    sq_social_t  *items;

    wids = NULL;
    one = r->ident.workspace_id;

    if (one != 0) {
        nws = 1;
        rc = SQ_OK;
    } else {
        rc = sq_store_user_workspace_ids(r->redis, r->ident.user_id, &wids,
                                         &nws);
    }

    if (rc == SQ_OK) {
        rc = sq_store_social_list(r->redis, one != 0 ? &one : wids, nws, 0,
                                  SQ_LIST_LIMIT, &items, &n);
    }

    free(wids);

    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return;
    }

    sq_reply_data(r->req, 200, sq_res_social_render_list(items, n));
    free(items);
}


/* Content type and size; copies the body into buf (SQ_BODY_MAX + 1). */
static int
sq_res_social_body(sq_req_t *r, char *buf, size_t *len)
{
    size_t            n;
    const char       *ct;
    struct evbuffer  *in;

    ct = evhttp_find_header(evhttp_request_get_input_headers(r->req),
                            "Content-Type");
    if (!sq_json_content_type_ok(ct)) {
        sq_reply_error(r->req, SQ_E_VALIDATION,
                       "Content-Type must be application/json.");
        return -1;
    }

    in = evhttp_request_get_input_buffer(r->req);
    n = evbuffer_get_length(in);

    if (n > SQ_BODY_MAX) {
        sq_reply_error(r->req, SQ_E_PAYLOAD_TOO_LARGE, NULL);
        return -1;
    }

    if (evbuffer_copyout(in, buf, n) != (ev_ssize_t) n) {
        sq_reply_error(r->req, SQ_E_INTERNAL, NULL);
        return -1;
    }

    *len = n;

    return 0;
}


/* The identity's workspace, else the user's primary one (checked). */
static int
sq_res_social_workspace(sq_req_t *r, uint64_t *wid)
{
    int        member;
    sq_rc_t    rc;
    sq_user_t  u;

    if (r->ident.workspace_id != 0) {
        *wid = r->ident.workspace_id;
        return 0;
    }

    rc = sq_store_user_get(r->redis, r->ident.user_id, &u);
    if (rc == SQ_OK && u.primary_workspace_id == 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, "workspace_id: no "
                       "workspace was given and the user has no primary "
                       "workspace.");
        return -1;
    }

    if (rc == SQ_OK) {
        rc = sq_store_is_member(r->redis, u.primary_workspace_id,
                                r->ident.user_id, &member);
    }

    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return -1;
    }

    if (!member) {
        sq_reply_error(r->req, SQ_E_FORBIDDEN, NULL);
        return -1;
    }

    *wid = u.primary_workspace_id;

    return 0;
}


static void
sq_res_social_store(sq_req_t *r, const sq_social_input_t *in)
{
    sq_rc_t      rc;
    uint64_t     wid;
    sq_social_t  s;

    if (sq_res_social_workspace(r, &wid) != 0) {
        return;
    }

    rc = sq_store_social_create(r->redis, wid, in->platform, in->handle,
                                (int64_t) time(NULL), &s);
    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return;
    }

    sq_log(SQ_LOG_INFO, "social account %llu created in workspace %llu "
           "by user %llu", (unsigned long long) s.id,
           (unsigned long long) wid, (unsigned long long) r->ident.user_id);

    sq_reply_data(r->req, 201, sq_res_social_render(&s));
}


void
sq_res_social_create(sq_req_t *r)
{
    char               err[256], *buf;
    size_t             len;
    sq_social_input_t  in;

    buf = malloc(SQ_BODY_MAX + 1);
    if (buf == NULL) {
        sq_reply_error(r->req, SQ_E_INTERNAL, NULL);
        return;
    }

    if (sq_res_social_body(r, buf, &len) == 0) {
        if (sq_social_parse_body(buf, len, r->ident.workspace_id, &in, err,
                                 sizeof(err)) != 0)
        {
            sq_reply_error(r->req, SQ_E_VALIDATION, err);
        } else {
            sq_res_social_store(r, &in);
        }
    }

    free(buf);
}
