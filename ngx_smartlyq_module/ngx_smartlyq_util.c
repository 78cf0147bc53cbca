/*
 * ngx_smartlyq_util: the request's ctx, response headers, the monotonic
 * clock and the names of decisions.
 */

#include <time.h>

#include "ngx_smartlyq_util.h"


/* $smartlyq_decision, and the label of smartlyq_decisions_total */
static ngx_str_t  ngx_smartlyq_decisions[NGX_SMARTLYQ_RESULTS] = {
    [NGX_SMARTLYQ_NONE] = ngx_null_string,
    [NGX_SMARTLYQ_ALLOW] = ngx_string("allow"),
    [NGX_SMARTLYQ_UNKNOWN_KEY] = ngx_string("unknown_key"),
    [NGX_SMARTLYQ_DISABLED_KEY] = ngx_string("disabled_key"),
    [NGX_SMARTLYQ_EXPIRED_KEY] = ngx_string("expired_key"),
    [NGX_SMARTLYQ_DELETED_KEY] = ngx_string("deleted_key"),
    [NGX_SMARTLYQ_ROTATED_KEY] = ngx_string("rotated_key"),
    [NGX_SMARTLYQ_FORBIDDEN] = ngx_string("forbidden"),
    [NGX_SMARTLYQ_UNAVAILABLE] = ngx_string("unavailable"),
    [NGX_SMARTLYQ_NO_KEY] = ngx_string("no_key"),
    [NGX_SMARTLYQ_MALFORMED_KEY] = ngx_string("malformed_key"),
    [NGX_SMARTLYQ_BAD_WORKSPACE] = ngx_string("bad_workspace"),
    [NGX_SMARTLYQ_BAD_BODY] = ngx_string("bad_body"),
    [NGX_SMARTLYQ_PUBLISHABLE] = ngx_string("publishable_not_allowed"),
    [NGX_SMARTLYQ_SCOPE] = ngx_string("insufficient_scope"),
    [NGX_SMARTLYQ_KEY_IN_URL] = ngx_string("key_in_url"),
    [NGX_SMARTLYQ_OAUTH] = ngx_string("oauth_not_allowed")
};


/* the ctx's pool cleanup: it has nothing to free, it carries the ctx */
static void
ngx_smartlyq_ctx_keep(void *data)
{
}


/*
 * The request's ctx.  An internal redirect, a named location or an
 * error_page clears module contexts; the one in the pool cleanup list
 * survives, so a request decided once (and whose Authorization header
 * is already gone) is not checked again from scratch.
 */
ngx_smartlyq_ctx_t *
ngx_smartlyq_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;
    ngx_smartlyq_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_smartlyq_module);
    if (ctx) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_smartlyq_ctx_keep) {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_smartlyq_module);
            return ctx;
        }
    }

    return NULL;
}


ngx_smartlyq_ctx_t *
ngx_smartlyq_create_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;
    ngx_smartlyq_ctx_t  *ctx;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    ctx = ngx_pcalloc(r->pool, sizeof(ngx_smartlyq_ctx_t));

    if (cln == NULL || ctx == NULL) {
        return NULL;
    }

    cln->handler = ngx_smartlyq_ctx_keep;
    cln->data = ctx;
    ctx->started_us = ngx_smartlyq_now_us();

    ngx_http_set_ctx(r, ctx, ngx_http_smartlyq_module);

    return ctx;
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


/*
 * Walks a header list: start with *part its first part and *i 0; the
 * next header, or NULL after the last.
 */
ngx_table_elt_t *
ngx_smartlyq_header_next(ngx_list_part_t **part, ngx_uint_t *i)
{
    ngx_table_elt_t  *h;

    while (*i >= (*part)->nelts) {
        if ((*part)->next == NULL) {
            return NULL;
        }

        *part = (*part)->next;
        *i = 0;
    }

    h = (*part)->elts;

    return &h[(*i)++];
}


/* how many request headers are called name; last, if given, the last */
ngx_uint_t
ngx_smartlyq_headers_in(ngx_http_request_t *r, ngx_str_t *name,
    ngx_table_elt_t **last)
{
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;
    i = 0;
    part = &r->headers_in.headers.part;

    while ((h = ngx_smartlyq_header_next(&part, &i)) != NULL) {

        if (h->key.len == name->len
            && ngx_strncasecmp(h->key.data, name->data, name->len) == 0)
        {
            if (last) {
                *last = h;
            }

            n++;
        }
    }

    return n;
}


/* microseconds, monotonic: how long a check took */
uint64_t
ngx_smartlyq_now_us(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


ngx_str_t *
ngx_smartlyq_decision_name(ngx_smartlyq_result_e result)
{
    return &ngx_smartlyq_decisions[result < NGX_SMARTLYQ_RESULTS ? result
                                                                 : 0];
}
