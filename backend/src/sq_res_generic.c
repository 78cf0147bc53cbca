/*
 * sq_res_generic: list, create, get, patch and delete for every
 * schema-driven resource.  The workspace comes only from the signed
 * identity.  A record outside the caller's reach is answered exactly like
 * one that does not exist (404), and membership is read on every request.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "sq_log.h"
#include "sq_reply.h"
#include "sq_req.h"
#include "sq_store.h"
#include "sq_workspace.h"

#define SQ_UNIQUE_RETRIES  5


int
sq_req_ws_allowed(const sq_req_t *r, uint64_t wid)
{
    return sq_wslist_allows(&r->ident.key_ws, wid);
}


/* Content type and size; copies the body into buf (SQ_BODY_MAX + 1). */
int
sq_req_body(sq_req_t *r, char *buf, size_t *len)
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


/* Reads and validates the body into *fields; replies itself on failure. */
static int
sq_res_parse(sq_req_t *r, sq_parse_mode_t mode, uint64_t ws,
    json_t **fields)
{
    int      rc;
    char     err[512], *buf;
    size_t   len;

    buf = malloc(SQ_BODY_MAX + 1);
    if (buf == NULL) {
        sq_reply_error(r->req, SQ_E_INTERNAL, NULL);
        return -1;
    }

    rc = sq_req_body(r, buf, &len);

    if (rc == 0) {
        rc = sq_resource_parse(r->res, buf, len, mode, ws, fields, err,
                               sizeof(err));
        if (rc != 0) {
            sq_reply_error(r->req, SQ_E_VALIDATION, err);
        }
    }

    free(buf);

    return rc;
}


/* The workspace of a new record: the identity's, else the primary one. */
static int
sq_res_home(sq_req_t *r, uint64_t *wid)
{
    int        member;
    sq_rc_t    rc;
    sq_user_t  u;

    if (r->ident.workspace_id != 0) {
        *wid = r->ident.workspace_id;
        return 0;
    }

    if (r->res->flags & SQ_RES_WS_REQUIRED) {
        sq_reply_error(r->req, SQ_E_VALIDATION, "workspace_id is required");
        return -1;
    }

    rc = sq_store_user_get(r->redis, r->ident.user_id, &u);
    if (rc == SQ_OK && u.primary_workspace_id == 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, "workspace_id: no "
                       "workspace was given and the user has no primary "
                       "workspace.");
        return -1;
    }

    if (rc == SQ_OK && !sq_req_ws_allowed(r, u.primary_workspace_id)) {
        sq_reply_error(r->req, SQ_E_VALIDATION,
                       "workspace_id is required for this key");
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


/* A failed write: 409 for a taken unique value, 400 for a bad reference. */
static void
sq_res_write_error(sq_req_t *r, sq_rc_t rc)
{
    char  msg[128];

    if (rc == SQ_ERR_TAKEN) {
        snprintf(msg, sizeof(msg), "%s is already used in this workspace.",
                 r->res->unique);
        sq_reply_error(r->req, SQ_E_CONFLICT, msg);
    } else if (rc == SQ_ERR_BADREF) {
        sq_reply_error(r->req, SQ_E_VALIDATION, r->res->ref_rule);
    } else {
        sq_reply_store_error(r->req, rc);
    }
}


/* Creates; a generated unique value is drawn again when it is taken. */
static sq_rc_t
sq_res_insert(sq_req_t *r, sq_record_t *rec, int unique_given)
{
    int      tries;
    char     err[256];
    sq_rc_t  rc;

    for (tries = 0; ; tries++) {
        rc = sq_store_res_create(r->redis, r->res, rec);

        if (rc != SQ_ERR_TAKEN || unique_given
            || tries + 1 >= SQ_UNIQUE_RETRIES)
        {
            return rc;
        }

        json_object_del(rec->fields, r->res->unique);
        if (sq_resource_complete(r->res, rec->fields, err, sizeof(err))
            != 0)
        {
            return SQ_ERR_NOMEM;
        }
    }
}


void
sq_res_create(sq_req_t *r)
{
    int          unique_given;
    char         err[512];
    sq_rc_t      rc;
    sq_record_t  rec;

    memset(&rec, 0, sizeof(rec));
    rec.test_mode = r->ident.test_mode;

    if (sq_res_home(r, &rec.workspace_id) != 0
        || sq_res_parse(r, SQ_PARSE_CREATE, r->ident.workspace_id,
                        &rec.fields) != 0)
    {
        return;
    }

    unique_given = r->res->unique != NULL
                   && json_object_get(rec.fields, r->res->unique) != NULL;

    if (sq_resource_complete(r->res, rec.fields, err, sizeof(err)) != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        sq_record_clear(&rec);
        return;
    }

    rec.created_at = (int64_t) time(NULL);
    rec.updated_at = rec.created_at;

    rc = sq_res_insert(r, &rec, unique_given);
    if (rc != SQ_OK) {
        sq_res_write_error(r, rc);
        sq_record_clear(&rec);
        return;
    }

    sq_log(SQ_LOG_INFO, "%s %llu created in workspace %llu by user %llu",
           r->res->name, (unsigned long long) rec.id,
           (unsigned long long) rec.workspace_id,
           (unsigned long long) r->ident.user_id);

    sq_reply_data(r->req, 201, sq_resource_render(r->res, &rec));
    sq_record_clear(&rec);
}


/*
 * The record of the path's {id} when the caller may see it: of the
 * key's mode, in a workspace the key may reach, and in the identity's
 * workspace, or without one in any workspace the user is a member of
 * now.  Everything else is the same 404.
 */
static int
sq_res_load(sq_req_t *r, sq_record_t *rec)
{
    int       member;
    sq_rc_t   rc;
    uint64_t  id;

    memset(rec, 0, sizeof(*rec));
    member = 0;

    if (r->id == NULL
        || sq_workspace_parse_id(r->id, strlen(r->id), &id) != 0)
    {
        sq_reply_error(r->req, SQ_E_NOT_FOUND, NULL);
        return -1;
    }

    rc = sq_store_res_get(r->redis, r->res, id, rec);

    if (rc == SQ_OK && (rec->test_mode != r->ident.test_mode
                        || !sq_req_ws_allowed(r, rec->workspace_id)))
    {
        member = 0;
    } else if (rc == SQ_OK && r->ident.workspace_id != 0) {
        member = rec->workspace_id == r->ident.workspace_id;
    } else if (rc == SQ_OK) {
        rc = sq_store_is_member(r->redis, rec->workspace_id,
                                r->ident.user_id, &member);
    }

    if (rc == SQ_OK && !member) {
        rc = SQ_ERR_NOTFOUND;
    }

    if (rc != SQ_OK) {
        sq_record_clear(rec);
        sq_reply_store_error(r->req, rc);
        return -1;
    }

    return 0;
}


void
sq_res_get(sq_req_t *r)
{
    sq_record_t  rec;

    if (sq_res_load(r, &rec) != 0) {
        return;
    }

    sq_reply_data(r->req, 200, sq_resource_render(r->res, &rec));
    sq_record_clear(&rec);
}


/* Applies a parsed patch to rec and stores it; replies on failure. */
static int
sq_res_update(sq_req_t *r, sq_record_t *rec, json_t *patch)
{
    int      check_ref;
    char     err[512];
    sq_rc_t  rc;

    check_ref = r->res->ref != NULL
                && json_object_get(patch, r->res->ref) != NULL;

    if (sq_resource_merge(r->res, rec, patch, err, sizeof(err)) != 0) {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return -1;
    }

    rec->updated_at = (int64_t) time(NULL);

    rc = sq_store_res_update(r->redis, r->res, rec, check_ref);
    if (rc != SQ_OK) {
        sq_res_write_error(r, rc);
        return -1;
    }

    return 0;
}


void
sq_res_patch(sq_req_t *r)
{
    int          rc;
    json_t      *patch;
    sq_record_t  rec;

    if (sq_res_load(r, &rec) != 0) {
        return;
    }

    rc = sq_res_parse(r, SQ_PARSE_PATCH, rec.workspace_id, &patch);

    if (rc == 0) {
        rc = sq_res_update(r, &rec, patch);
        json_decref(patch);
    }

    if (rc == 0) {
        sq_reply_data(r->req, 200, sq_resource_render(r->res, &rec));
    }

    sq_record_clear(&rec);
}


void
sq_res_delete(sq_req_t *r)
{
    sq_rc_t      rc;
    sq_record_t  rec;

    if (sq_res_load(r, &rec) != 0) {
        return;
    }

    rc = sq_store_res_delete(r->redis, r->res, rec.id, rec.workspace_id,
                             rec.test_mode);
    if (rc != SQ_OK) {
        sq_record_clear(&rec);
        sq_reply_store_error(r->req, rc);
        return;
    }

    sq_log(SQ_LOG_INFO, "%s %llu deleted from workspace %llu by user %llu",
           r->res->name, (unsigned long long) rec.id,
           (unsigned long long) rec.workspace_id,
           (unsigned long long) r->ident.user_id);

    sq_reply_data(r->req, 200, json_pack("{s:I, s:b}", "id",
                                         (json_int_t) rec.id, "deleted", 1));
    sq_record_clear(&rec);
}


static json_t *
sq_res_render_list(const sq_resource_t *res, const sq_record_t *recs,
    size_t n)
{
    size_t   i;
    json_t  *arr;

    arr = json_array();

    for (i = 0; arr != NULL && i < n; i++) {
        if (json_array_append_new(arr, sq_resource_render(res, &recs[i]))
            != 0)
        {
            json_decref(arr);
            arr = NULL;
        }
    }

    return arr;
}


json_t *
sq_res_pagination(size_t limit, uint64_t next)
{
    char  cursor[SQ_CURSOR_MAX + 1];

    if (next == 0) {
        return json_pack("{s:I, s:n}", "limit", (json_int_t) limit,
                         "next_cursor");
    }

    if (sq_cursor_encode(next, cursor, sizeof(cursor)) != 0) {
        return NULL;
    }

    return json_pack("{s:I, s:s}", "limit", (json_int_t) limit,
                     "next_cursor", cursor);
}


/* Keeps the ids the key may reach (all when it lists none). */
static size_t
sq_res_ws_filter(const sq_req_t *r, uint64_t *wids, size_t n)
{
    size_t  i, k;

    for (i = 0, k = 0; i < n; i++) {
        if (sq_req_ws_allowed(r, wids[i])) {
            wids[k++] = wids[i];
        }
    }

    return k;
}


void
sq_res_list(sq_req_t *r)
{
    char                      err[256];
    size_t                    limit, nws, n;
    sq_rc_t                   rc;
    uint64_t                  after, next, *wids, one;
    sq_record_t              *recs;
    const struct evhttp_uri  *uri;

    uri = evhttp_request_get_evhttp_uri(r->req);

    if (sq_page_parse(uri != NULL ? evhttp_uri_get_query(uri) : NULL,
                      &limit, &after, err, sizeof(err)) != 0)
    {
        sq_reply_error(r->req, SQ_E_VALIDATION, err);
        return;
    }

    wids = NULL;
    one = r->ident.workspace_id;
    nws = 1;
    rc = SQ_OK;

    if (one == 0) {
        rc = sq_store_user_workspace_ids(r->redis, r->ident.user_id, &wids,
                                         &nws);
        nws = rc == SQ_OK ? sq_res_ws_filter(r, wids, nws) : 0;
    }

    if (rc == SQ_OK) {
        rc = sq_store_res_list(r->redis, r->res, r->ident.test_mode,
                               one != 0 ? &one : wids, nws, after, limit,
                               &recs, &n, &next);
    }

    free(wids);

    if (rc != SQ_OK) {
        sq_reply_store_error(r->req, rc);
        return;
    }

    sq_reply_page(r->req, sq_res_render_list(r->res, recs, n),
                  sq_res_pagination(limit, next));
    sq_records_free(recs, n);
}
