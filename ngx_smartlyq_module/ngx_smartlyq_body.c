/*
 * ngx_smartlyq_body: workspace_id may also come in a JSON or form body.
 *
 * For a method with a body, the edge reads it (bounded by
 * smartlyq_body_limit) in the access phase, before the membership
 * lookup, and keeps it for the upstream.  A body the edge cannot read the
 * way the backend will (not JSON, duplicate keys, too large) is refused
 * here, so the two never disagree on which workspace a request names.
 */

#include "ngx_smartlyq_module.h"


static void ngx_smartlyq_body_done(ngx_http_request_t *r);
static u_char *ngx_smartlyq_body_bytes(ngx_http_request_t *r, size_t *len);


/*
 * NGX_DECLINED: no body to read; NGX_OK: read; NGX_AGAIN: reading, the
 * phases are run again when it is in; anything else: a status to return.
 */
ngx_int_t
ngx_smartlyq_body_read(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ngx_smartlyq_loc_conf_t  *slcf;

    if (!(r->method & (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH
                       |NGX_HTTP_DELETE))
        || (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked))
    {
        return NGX_DECLINED;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (r->headers_in.content_length_n > (off_t) slcf->body_limit) {
        ctx->result = NGX_SMARTLYQ_BAD_BODY;
        return ngx_smartlyq_refuse(r, ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                   "PAYLOAD_TOO_LARGE",
                                   "The request body is too large.");
    }

    ctx->state = NGX_SMARTLYQ_STATE_NEW;

    rc = ngx_http_read_client_request_body(r, ngx_smartlyq_body_done);

    if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    if (ctx->state == NGX_SMARTLYQ_STATE_BODY_READ) {
        return NGX_OK;      /* all of it was there already */
    }

    /*
     * The body read now holds the request (it took a reference); the
     * phase gives up its own, as a content handler does with NGX_DONE.
     * If the read then fails, nginx's finalization of it frees the
     * request; if it succeeds, the post handler carries on with it.
     */
    r->main->count--;
    ctx->state = NGX_SMARTLYQ_STATE_READING_BODY;

    return NGX_AGAIN;
}


static void
ngx_smartlyq_body_done(ngx_http_request_t *r)
{
    ngx_smartlyq_ctx_t    *ctx;
    ngx_smartlyq_state_e   was;

    ctx = ngx_http_get_module_ctx(r, ngx_http_smartlyq_module);

    was = ctx->state;
    ctx->state = NGX_SMARTLYQ_STATE_BODY_READ;

    if (was != NGX_SMARTLYQ_STATE_READING_BODY) {
        /* called from within the read: give back the reference it took */
        r->main->count--;
        return;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "smartlyq: request body in, resuming");

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/*
 * The body's workspace_id; NGX_OK with *rc set, or a refusal sent (413
 * for a chunked body over the limit, 400 for broken JSON).
 */
ngx_int_t
ngx_smartlyq_body_workspace(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    sq_ws_rc_t *rc, uint64_t *id)
{
    u_char                   *body;
    size_t                    len;
    ngx_int_t                 jrc;
    sq_body_type_t            type;
    ngx_smartlyq_loc_conf_t  *slcf;

    *rc = SQ_WS_NONE;

    if (r->request_body == NULL || r->request_body->bufs == NULL
        || r->headers_in.content_type == NULL)
    {
        return NGX_OK;
    }

    type = sq_body_type((const char *) r->headers_in.content_type->value.data,
                        r->headers_in.content_type->value.len);

    if (type == SQ_BODY_OTHER) {
        return NGX_OK;      /* the backend refuses what it cannot read */
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    body = ngx_smartlyq_body_bytes(r, &len);

    if (body == NULL && len > slcf->body_limit) {
        ctx->result = NGX_SMARTLYQ_BAD_BODY;
        return ngx_smartlyq_refuse(r, ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                   "PAYLOAD_TOO_LARGE",
                                   "The request body is too large.");
    }

    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (len == 0) {
        return NGX_OK;
    }

    if (type == SQ_BODY_JSON) {
        jrc = ngx_smartlyq_json_workspace(r, body, len, slcf->body_limit,
                                          rc, id);

        if (jrc == NGX_ERROR) {
            ctx->result = NGX_SMARTLYQ_UNAVAILABLE;
            return ngx_smartlyq_refuse(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "SERVICE_UNAVAILABLE",
                                       NGX_SMARTLYQ_UNAVAILABLE_MSG);
        }

        if (jrc == NGX_DECLINED) {
            ctx->result = NGX_SMARTLYQ_BAD_BODY;
            return ngx_smartlyq_refuse(r, ctx,
                                       NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "PAYLOAD_TOO_LARGE",
                                       "The request body is too large.");
        }

    } else {
        *rc = sq_workspace_from_query((const char *) body, len, id);
    }

    if (*rc == SQ_WS_BAD_JSON) {
        ctx->result = NGX_SMARTLYQ_BAD_BODY;
        return ngx_smartlyq_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "VALIDATION_ERROR",
                                   "The request body is not valid JSON "
                                   "(or repeats a key).");
    }

    if (*rc == SQ_WS_NOT_OBJECT) {
        ctx->result = NGX_SMARTLYQ_BAD_BODY;
        return ngx_smartlyq_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "VALIDATION_ERROR",
                                   "The request body must be a JSON object.");
    }

    return NGX_OK;
}


/*
 * The whole body in one piece of memory, from memory buffers or the
 * temporary file alike; NULL with *len over the limit when it is too big.
 */
static u_char *
ngx_smartlyq_body_bytes(ngx_http_request_t *r, size_t *len)
{
    u_char                   *body, *p;
    off_t                     size;
    ssize_t                   n;
    ngx_buf_t                *b;
    ngx_chain_t              *cl;
    ngx_smartlyq_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    size = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        size += b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
    }

    *len = (size_t) size;

    if (size > (off_t) slcf->body_limit) {
        return NULL;
    }

    body = ngx_pnalloc(r->pool, (size_t) size + 1);
    if (body == NULL) {
        *len = 0;
        return NULL;
    }

    p = body;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            /* a chunked body ends in an empty buffer whose pos is NULL */
            if (b->last != b->pos) {
                p = ngx_cpymem(p, b->pos, b->last - b->pos);
            }

            continue;
        }

        if (b->file_last == b->file_pos) {
            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            *len = 0;
            return NULL;
        }

        p += n;
    }

    return body;
}
