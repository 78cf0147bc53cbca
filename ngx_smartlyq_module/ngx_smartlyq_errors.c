/*
 * ngx_smartlyq_errors: where `smartlyq on` is in effect, the error pages
 * nginx generates itself (the backend down or too slow, a body over
 * client_max_body_size, a request nginx could not parse) go out as the
 * module's JSON envelopes instead of HTML, with no configuration:
 *   {"success": false, "error": {"code": "...", "message": "..."}}
 *
 * nginx's own pages are the ones ngx_http_special_response_handler()
 * sends: they carry r->err_status.  A response proxied from the backend
 * (even a 5xx) has none and is passed through untouched.  An error_page
 * of the operator's wins: a request it redirected is left alone.
 */

#include "ngx_smartlyq_filters.h"
#include "ngx_smartlyq_refuse.h"
#include "ngx_smartlyq_util.h"


typedef struct {
    ngx_uint_t   status;
    const char  *code;
    const char  *message;
} ngx_smartlyq_error_t;


static ngx_smartlyq_error_t  ngx_smartlyq_errors[] = {

    { NGX_HTTP_BAD_REQUEST, "BAD_REQUEST", "The request is malformed." },

    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "PAYLOAD_TOO_LARGE",
      "The request body is too large." },

    { NGX_HTTP_REQUEST_URI_TOO_LARGE, "URI_TOO_LONG",
      "The request URI is too long." },

    { NGX_HTTP_INTERNAL_SERVER_ERROR, "INTERNAL_ERROR",
      "The edge failed to process the request." },

    { NGX_HTTP_BAD_GATEWAY, "BAD_GATEWAY",
      "The API is unavailable. Retry shortly." },

    { NGX_HTTP_SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE",
      "The service is overloaded. Retry shortly." },

    { NGX_HTTP_GATEWAY_TIME_OUT, "GATEWAY_TIMEOUT",
      "The API did not answer in time. Retry shortly." },

    { 0, NULL, NULL }
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


/*
 * The envelope replacing this response, or NULL.  The header and the
 * body filter both ask, and get the same answer: nothing it reads
 * changes in between.
 */
static ngx_smartlyq_error_t *
ngx_smartlyq_error_page(ngx_http_request_t *r)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *ep;
    ngx_smartlyq_error_t      *e;
    ngx_smartlyq_loc_conf_t   *slcf;
    ngx_http_core_loc_conf_t  *clcf;

    if (r->err_status == 0 || r != r->main) {
        return NULL;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (slcf == NULL || !slcf->enable) {
        return NULL;
    }

    for (e = ngx_smartlyq_errors; e->status; e++) {
        if (e->status == r->err_status) {
            break;
        }
    }

    if (e->status == 0) {
        return NULL;
    }

    /*
     * r->error_page is set once an error_page was looked up.  Either it
     * redirected here, to a location whose error_page list is absent or
     * names this status (inherited from the server, usually), or no
     * entry matched and nginx is sending its own page from a location
     * whose list lacks this status.
     */
    if (r->error_page) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        if (clcf->error_pages == NULL) {
            return NULL;
        }

        ep = clcf->error_pages->elts;

        for (i = 0; i < clcf->error_pages->nelts; i++) {
            if ((ngx_uint_t) ep[i].status == r->err_status
                || (ngx_uint_t) ep[i].overwrite == r->err_status)
            {
                return NULL;
            }
        }
    }

    return e;
}


static ngx_int_t
ngx_smartlyq_errors_header_filter(ngx_http_request_t *r)
{
    ngx_str_t              v, body;
    ngx_smartlyq_error_t  *e;

    e = ngx_smartlyq_error_page(r);

    if (e == NULL) {
        return ngx_http_next_header_filter(r);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "smartlyq: %ui page as an envelope", e->status);

    /* the body filter writes the same envelope again */
    if (ngx_smartlyq_envelope(r->pool, &body, e->code, e->message, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    r->headers_out.content_length_n = body.len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    ngx_str_set(&v, "no-store");
    if (ngx_smartlyq_add_header(r, "Cache-Control", &v, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


/* nginx's HTML is dropped; the envelope goes with its last buffer */
static ngx_int_t
ngx_smartlyq_errors_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t             *b;
    ngx_str_t              body;
    ngx_uint_t             last;
    ngx_chain_t           *cl, out;
    ngx_smartlyq_error_t  *e;

    if (in == NULL || r->header_only) {
        return ngx_http_next_body_filter(r, in);
    }

    e = ngx_smartlyq_error_page(r);

    if (e == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        if (cl->buf->last_buf) {
            last = 1;
        }

        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (!last) {
        return NGX_OK;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (ngx_smartlyq_envelope(r->pool, &body, e->code, e->message, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    b->memory = 1;
    b->pos = body.data;
    b->last = body.data + body.len;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


ngx_int_t
ngx_smartlyq_errors_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_smartlyq_errors_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_smartlyq_errors_body_filter;

    return NGX_OK;
}
