/*
 * ngx_smartlyq_envelope: refusals answered by the edge itself, as the
 * same JSON envelopes the backend uses:
 *   {"success": false, "error": {"code": "...", "message": "..."}}
 * Codes and messages are fixed strings of ours, so nothing needs
 * escaping.
 */

#include "ngx_smartlyq_module.h"


ngx_int_t
ngx_smartlyq_refuse(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    ngx_uint_t status, const char *code, const char *message)
{
    u_char                   *p;
    size_t                    len;
    ngx_int_t                 rc;
    ngx_buf_t                *b;
    ngx_str_t                 value;
    ngx_chain_t               out;
    ngx_smartlyq_loc_conf_t  *slcf;

    static ngx_str_t  realm = ngx_string("Bearer realm=\"smartlyq\"");
    static ngx_str_t  invalid = ngx_string(
                          "Bearer realm=\"smartlyq\", error=\"invalid_token\"");

    ngx_smartlyq_metrics_decision(r, ctx, code);

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        /* e.g. 400 for a broken chunked body: nginx answers that */
        return rc >= NGX_HTTP_SPECIAL_RESPONSE ? rc : NGX_ERROR;
    }

    len = sizeof("{\"success\": false, \"error\": {\"code\": \"\", "
                 "\"message\": \"\"}}") - 1
          + ngx_strlen(code) + ngx_strlen(message);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_sprintf(b->pos, "{\"success\": false, \"error\": "
                          "{\"code\": \"%s\", \"message\": \"%s\"}}",
                          code, message);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (status == NGX_HTTP_UNAUTHORIZED) {
        if (ngx_smartlyq_add_header(r, "WWW-Authenticate",
                                    ctx->presented ? &invalid : &realm,
                                    &r->headers_out.www_authenticate)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        value.data = p;
        value.len = ngx_sprintf(p, "%T", slcf->retry_after) - p;

        if (ngx_smartlyq_add_header(r, "Retry-After", &value, NULL)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    ngx_str_set(&value, "no-store");
    if (ngx_smartlyq_add_header(r, "Cache-Control", &value, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc == NGX_ERROR ? NGX_ERROR : NGX_HTTP_OK;
    }

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_output_filter(r, &out);

    /* the access checker finalizes with this; NGX_OK there would allow */
    return rc == NGX_ERROR ? NGX_ERROR : NGX_HTTP_OK;
}


/* adds a response header; ref, if given, gets the element */
ngx_int_t
ngx_smartlyq_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value, ngx_table_elt_t **ref)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;
    h->lowcase_key = NULL;

    if (ref) {
        *ref = h;
    }

    return NGX_OK;
}
