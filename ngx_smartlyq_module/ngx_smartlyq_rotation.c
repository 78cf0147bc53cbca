/*
 * ngx_smartlyq_rotation: a key that was rotated keeps working until its
 * grace period ends; every response to it meanwhile says so, whatever
 * produced the response (the upstream or the module):
 *   Deprecation: @<rotated_at>      (RFC 9745)
 *   Sunset: <HTTP-date of the end>  (RFC 8594)
 */

#include "ngx_smartlyq_filters.h"
#include "ngx_smartlyq_util.h"


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


static ngx_int_t
ngx_smartlyq_rotation_header_filter(ngx_http_request_t *r)
{
    u_char              *p;
    ngx_str_t            v;
    ngx_smartlyq_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_smartlyq_get_ctx(r);

    if (ctx == NULL || ctx->sunset_at == 0) {
        return ngx_http_next_header_filter(r);
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 1 + sizeof(
                                 "Mon, 28 Sep 1970 06:00:00 GMT"));
    if (p == NULL) {
        return NGX_ERROR;
    }

    v.data = p;
    v.len = ngx_sprintf(p, "@%T", ctx->rotated_at) - p;

    if (ngx_smartlyq_add_header(r, "Deprecation", &v, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    v.data = p + NGX_TIME_T_LEN + 1;
    v.len = ngx_http_time(v.data, ctx->sunset_at) - v.data;

    if (ngx_smartlyq_add_header(r, "Sunset", &v, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


ngx_int_t
ngx_smartlyq_rotation_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_smartlyq_rotation_header_filter;

    return NGX_OK;
}
