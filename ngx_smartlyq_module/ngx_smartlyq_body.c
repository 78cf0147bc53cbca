/*
 * ngx_smartlyq_body: the request body, read by the edge for two reasons.
 *
 * The identity signature covers a digest of every body (sq_identity.h),
 * so the edge reads any body, whatever the method or Content-Type,
 * bounded by smartlyq_body_limit, in the access phase before the
 * membership lookup, and keeps it for the upstream.  One pass digests
 * it: in place for memory buffers, in pieces for a temporary file.
 *
 * workspace_id may also come in a JSON or form body.  A body the edge
 * cannot read the way the backend will (not JSON, duplicate keys, too
 * large) is refused here, so the two never disagree on which workspace a
 * request names.
 */

#include "ngx_smartlyq_body.h"
#include "ngx_smartlyq_json.h"
#include "ngx_smartlyq_refuse.h"
#include "ngx_smartlyq_util.h"


#define NGX_SMARTLYQ_DIGEST_CHUNK  16384    /* bytes read from a file */


static ngx_uint_t ngx_smartlyq_content_types(ngx_http_request_t *r);
static void ngx_smartlyq_body_done(ngx_http_request_t *r);
static off_t ngx_smartlyq_body_size(ngx_http_request_t *r);
static u_char *ngx_smartlyq_body_bytes(ngx_http_request_t *r, size_t size);
static ngx_int_t ngx_smartlyq_body_digest(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, size_t size);
static ngx_int_t ngx_smartlyq_body_too_large(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx);


/*
 * NGX_DECLINED: no body to read; NGX_OK: read; NGX_AGAIN: reading, the
 * phases are run again when it is in; anything else: a status to return.
 */
ngx_int_t
ngx_smartlyq_body_read(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ngx_smartlyq_loc_conf_t  *slcf;

    /* one Content-Type is signed: with two, which one would be meant? */
    if (ngx_smartlyq_content_types(r) > 1) {
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_CONTENT_TYPES);
    }

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        return NGX_DECLINED;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (r->headers_in.content_length_n > (off_t) slcf->body_limit) {
        return ngx_smartlyq_body_too_large(r, ctx);
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


static ngx_uint_t
ngx_smartlyq_content_types(ngx_http_request_t *r)
{
    static ngx_str_t  name = ngx_string("Content-Type");

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    return ngx_smartlyq_headers_in(r, &name, NULL);
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
 * The body's digest, then its workspace_id; NGX_OK with *rc set, or a
 * refusal sent (413 for a chunked body over the limit, 400 for broken
 * JSON).
 */
ngx_int_t
ngx_smartlyq_body_workspace(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    sq_ws_rc_t *rc, uint64_t *id)
{
    off_t                     size;
    u_char                   *body;
    ngx_int_t                 jrc;
    sq_body_type_t            type;
    ngx_smartlyq_loc_conf_t  *slcf;

    *rc = SQ_WS_NONE;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    size = ngx_smartlyq_body_size(r);

    if (size > (off_t) slcf->body_limit) {
        return ngx_smartlyq_body_too_large(r, ctx);
    }

    if (size == 0) {
        return NGX_OK;      /* no bytes: the identity's body stays empty */
    }

    type = SQ_BODY_OTHER;

    /* workspace_id is looked for only where a body has a meaning */
    if ((r->method & (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH
                      |NGX_HTTP_DELETE))
        && r->headers_in.content_type)
    {
        type = sq_body_type(
                   (const char *) r->headers_in.content_type->value.data,
                   r->headers_in.content_type->value.len);
    }

    if (type == SQ_BODY_OTHER) {
        /* signed, not parsed: the backend refuses what it cannot read */
        return ngx_smartlyq_body_digest(r, ctx, (size_t) size);
    }

    body = ngx_smartlyq_body_bytes(r, (size_t) size);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sq_content_digest_hex(body, (size_t) size, ctx->body_digest);

    if (type == SQ_BODY_JSON) {
        jrc = ngx_smartlyq_json_workspace(r, body, (size_t) size,
                                          slcf->body_limit, rc, id);

        if (jrc == NGX_ERROR) {
            return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_UNAVAILABLE);
        }

        if (jrc == NGX_DECLINED) {
            return ngx_smartlyq_body_too_large(r, ctx);
        }

    } else {
        *rc = sq_workspace_from_query((const char *) body, (size_t) size, id);
    }

    if (*rc == SQ_WS_BAD_JSON) {
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_BODY_BAD_JSON);
    }

    if (*rc == SQ_WS_NOT_OBJECT) {
        return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_BODY_NOT_OBJECT);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_smartlyq_body_too_large(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_BODY_TOO_LARGE);
}


/* bytes in memory buffers and in the temporary file alike */
static off_t
ngx_smartlyq_body_size(ngx_http_request_t *r)
{
    off_t         size;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    size = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        size += b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
    }

    return size;
}


/*
 * The digest of a body that is not parsed, in one pass over its buffers:
 * memory in place, the temporary file in NGX_SMARTLYQ_DIGEST_CHUNK reads.
 */
static ngx_int_t
ngx_smartlyq_body_digest(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    size_t size)
{
    off_t                 pos;
    size_t                n, max;
    u_char               *chunk;
    ssize_t               got;
    ngx_buf_t            *b;
    ngx_chain_t          *cl;
    sq_content_digest_t   st;

    chunk = NULL;
    max = ngx_min(size, NGX_SMARTLYQ_DIGEST_CHUNK);
    sq_content_digest_init(&st);

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            /* a chunked body ends in an empty buffer whose pos is NULL */
            if (b->last != b->pos) {
                sq_content_digest_update(&st, b->pos, b->last - b->pos);
            }

            continue;
        }

        if (chunk == NULL && b->file_last > b->file_pos) {
            chunk = ngx_pnalloc(r->pool, max);
            if (chunk == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        for (pos = b->file_pos; pos < b->file_last; pos += got) {
            n = (size_t) ngx_min(b->file_last - pos, (off_t) max);

            got = ngx_read_file(b->file, chunk, n, pos);

            if (got != (ssize_t) n) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            sq_content_digest_update(&st, chunk, n);
        }
    }

    sq_content_digest_final(&st, ctx->body_digest);

    return NGX_OK;
}


/*
 * The whole body in one piece of memory: the buffer itself when it is
 * all in one, else a copy from memory buffers and the temporary file.
 */
static u_char *
ngx_smartlyq_body_bytes(ngx_http_request_t *r, size_t size)
{
    u_char       *body, *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file && (size_t) (b->last - b->pos) == size) {
            return b->pos;      /* the rest are empty */
        }
    }

    body = ngx_pnalloc(r->pool, size);
    if (body == NULL) {
        return NULL;
    }

    p = body;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
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
            return NULL;
        }

        p += n;
    }

    return body;
}
