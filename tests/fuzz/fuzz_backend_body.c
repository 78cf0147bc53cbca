/*
 * fuzz_backend_body: the backend's request-body validation
 * (backend/src/sq_resource.c: sq_resource_parse, then complete, check
 * and render) for every resource schema, differentially against the
 * edge's reading of the same body (sq_workspace_from_json).  Also the
 * backend's Content-Type test against the edge's, and its list
 * parameters (sq_page_parse, sq_query_int) on the input as a query.
 *
 * The flat reader of sq_resource_parse (no jansson for flat bodies)
 * must give what the jansson path gives for every body (check_flat).
 *
 * The same bodies go to the /v1/keys parsers (backend/src/sq_key_parse.c:
 * sq_key_parse_create, sq_key_parse_rotate) and sq_key_render.
 *
 * The edge authorizes the workspace_id it reads; the backend acts on
 * the identity's workspace and refuses a body naming another one.  So,
 * for every body and schema:
 *   - a body the edge cannot read (broken JSON, not an object, an
 *     invalid workspace_id) is refused by the backend too;
 *   - when the edge reads workspace X, the backend refuses the body for
 *     any other identity workspace, and never blames workspace_id when
 *     the identity says X;
 *   - when the edge reads none, the backend never finds a workspace_id
 *     in the body to complain about;
 *   - a Content-Type the backend takes for JSON is JSON for the edge (or
 *     the edge would skip a body the backend then reads).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sq_json.h"
#include "sq_key.h"
#include "sq_resource.h"
#include "sq_workspace.h"
#include "fuzz.h"


static const sq_resource_t  *const resources[] = {
    &sq_res_chatbots, &sq_res_social_accounts, &sq_res_social_posts,
    &sq_res_urls, &sq_res_articles, &sq_res_images, &sq_res_media
};


/* the messages sq_resource_parse gives about workspace_id itself */
static int
blames_workspace(const char *err)
{
    return strcmp(err, "workspace_id must be a positive integer.") == 0
           || strcmp(err, "workspace_id: records cannot move between "
                     "workspaces.") == 0
           || strcmp(err, "workspace_id must match the workspace of the "
                     "request.") == 0;
}


static void
check_render(const sq_resource_t *res, json_t *fields, uint64_t ws)
{
    char         *out;
    json_t       *obj;
    sq_record_t   rec;

    memset(&rec, 0, sizeof(rec));
    rec.id = 1;
    rec.workspace_id = ws;
    rec.created_at = 1700000000;
    rec.updated_at = 1700000000;
    rec.fields = fields;

    obj = sq_resource_render(res, &rec);
    if (obj == NULL) {
        return;
    }

    SQ_FUZZ_ASSERT(json_integer_value(json_object_get(obj, "workspace_id"))
                   == (json_int_t) ws);

    out = json_dumps(obj, 0);
    free(out);
    json_decref(obj);
}


/*
 * The flat reader (sq_resource.c) gives what jansson's path gives: the
 * same refusal and message, or the same fields.
 */
static void
check_flat(const sq_resource_t *res, const char *body, size_t len,
    sq_parse_mode_t mode, uint64_t ws)
{
    int      rc[2];
    char     err[2][512];
    json_t  *fields[2];
    int      flat;

    for (flat = 0; flat < 2; flat++) {
        err[flat][0] = '\0';
        fields[flat] = NULL;
        rc[flat] = sq_resource_parse_with(res, body, len, mode, ws, flat,
                                          &fields[flat], err[flat],
                                          sizeof(err[flat]));
    }

    SQ_FUZZ_ASSERT(rc[0] == rc[1]);

    if (rc[0] != 0) {
        SQ_FUZZ_ASSERT(strcmp(err[0], err[1]) == 0);

    } else {
        SQ_FUZZ_ASSERT(json_equal(fields[0], fields[1]));
        json_decref(fields[0]);
        json_decref(fields[1]);
    }
}


static void
check_resource(const sq_resource_t *res, const char *body, size_t len,
    sq_ws_rc_t edge, uint64_t edge_id)
{
    int        rc;
    char       err[512];
    json_t    *fields;
    uint64_t   ws, other;

    ws = edge == SQ_WS_OK ? edge_id : 7;
    other = ws == SQ_WORKSPACE_ID_MAX ? 1 : ws + 1;

    check_flat(res, body, len, SQ_PARSE_CREATE, ws);
    check_flat(res, body, len, SQ_PARSE_PATCH, other);

    /* create with the identity's workspace as the edge read it */
    err[0] = '\0';
    fields = NULL;
    rc = sq_resource_parse(res, body, len, SQ_PARSE_CREATE, ws, &fields,
                           err, sizeof(err));

    if (edge == SQ_WS_BAD_JSON || edge == SQ_WS_NOT_OBJECT
        || edge == SQ_WS_INVALID)
    {
        SQ_FUZZ_ASSERT(rc != 0);
    }

    if (rc != 0) {
        SQ_FUZZ_ASSERT(fields == NULL && err[0] != '\0');
        SQ_FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);

        if (edge == SQ_WS_OK || edge == SQ_WS_NONE) {
            SQ_FUZZ_ASSERT(!blames_workspace(err));
        }

    } else {
        SQ_FUZZ_ASSERT(edge == SQ_WS_OK || edge == SQ_WS_NONE);
        SQ_FUZZ_ASSERT(json_object_get(fields, "workspace_id") == NULL);

        if (sq_resource_complete(res, fields, err, sizeof(err)) == 0) {
            check_render(res, fields, ws);
        }

        json_decref(fields);
    }

    /* a body naming X is refused under any other identity workspace */
    fields = NULL;
    rc = sq_resource_parse(res, body, len, SQ_PARSE_PATCH, other, &fields,
                           err, sizeof(err));

    if (edge == SQ_WS_OK) {
        SQ_FUZZ_ASSERT(rc != 0);
    }

    if (rc == 0) {
        SQ_FUZZ_ASSERT(edge == SQ_WS_NONE);
        json_decref(fields);
    }
}


/* POST /v1/keys and POST /v1/keys/{id}/rotate bodies */
static void
check_keys(const char *body, size_t len, sq_ws_rc_t edge)
{
    int        rc;
    char      *out, err[512];
    size_t     i;
    json_t    *obj;
    int64_t    grace;
    sq_key_t   k;

    memset(&k, 0, sizeof(k));
    err[0] = '\0';
    rc = sq_key_parse_create(body, len, 7, 1764000000, &k, err, sizeof(err));

    if (edge == SQ_WS_BAD_JSON || edge == SQ_WS_NOT_OBJECT) {
        SQ_FUZZ_ASSERT(rc != 0);
    }

    if (rc != 0) {
        SQ_FUZZ_ASSERT(err[0] != '\0'
                       && memchr(err, '\0', sizeof(err)) != NULL);

    } else {
        SQ_FUZZ_ASSERT(k.user_id == 7);
        SQ_FUZZ_ASSERT((k.scopes & ~SQ_SCOPES_ALL) == 0);
        SQ_FUZZ_ASSERT(k.type != SQ_KEY_PUBLISHABLE
                       || (k.scopes & ~SQ_SCOPES_READ) == 0);
        SQ_FUZZ_ASSERT(k.mode == SQ_KEY_LIVE || k.mode == SQ_KEY_TEST);
        SQ_FUZZ_ASSERT(k.ws.n <= SQ_KEY_WS_MAX);
        for (i = 0; i < k.ws.n; i++) {
            SQ_FUZZ_ASSERT(k.ws.ids[i] >= 1
                           && k.ws.ids[i] <= SQ_WORKSPACE_ID_MAX);
        }
        SQ_FUZZ_ASSERT(memchr(k.name, '\0', sizeof(k.name)) != NULL);

        obj = sq_key_render(&k, 1764000000);
        if (obj != NULL) {
            out = json_dumps(obj, 0);
            free(out);
            json_decref(obj);
        }
    }

    grace = -1;
    if (sq_key_parse_rotate(body, len, &grace, err, sizeof(err)) == 0) {
        SQ_FUZZ_ASSERT(grace >= 0 && grace <= SQ_KEY_GRACE_MAX);
        SQ_FUZZ_ASSERT(edge != SQ_WS_BAD_JSON && edge != SQ_WS_NOT_OBJECT);
    }
}


static void
check_content_type(const char *data, size_t size)
{
    char  *ct;

    ct = malloc(size + 1);
    if (ct == NULL) {
        return;
    }

    memcpy(ct, data, size);
    ct[size] = '\0';

    /* the backend sees the header up to its first NUL */
    if (sq_json_content_type_ok(ct)) {
        SQ_FUZZ_ASSERT(sq_body_type(ct, strlen(ct)) == SQ_BODY_JSON);
    }

    free(ct);
}


static void
check_query(const char *data, size_t size)
{
    char      *q, err[256];
    size_t     limit;
    int64_t    n;
    uint64_t   after;

    if (memchr(data, '\0', size) != NULL) {
        return;
    }

    q = malloc(size + 1);
    if (q == NULL) {
        return;
    }

    memcpy(q, data, size);
    q[size] = '\0';

    limit = 0;
    after = 0;
    if (sq_page_parse(q, &limit, &after, err, sizeof(err)) == 0) {
        SQ_FUZZ_ASSERT(limit >= 1 && limit <= SQ_PAGE_MAX);
    }

    if (sq_query_int(q, "limit", 1, 100, 20, &n, err, sizeof(err)) == 0) {
        SQ_FUZZ_ASSERT(n >= 1 && n <= 100);
    }

    free(q);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char        *body;
    size_t       i;
    uint64_t     id;
    sq_ws_rc_t   edge;

    body = malloc(size ? size : 1);
    if (body == NULL) {
        return 0;
    }
    memcpy(body, data, size);

    id = 0;
    edge = sq_workspace_from_json(body, size, &id);

    for (i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
        check_resource(resources[i], body, size, edge, id);
    }

    check_keys(body, size, edge);
    check_content_type(body, size);
    check_query(body, size);

    free(body);

    return 0;
}
