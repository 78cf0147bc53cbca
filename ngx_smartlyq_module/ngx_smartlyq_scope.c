/*
 * ngx_smartlyq_scope: what kind of key may do what where.
 *
 * Key type first (no I/O: the prefix says it): a publishable key
 * (sqp_...) only where "smartlyq_publishable on" and only for GET/HEAD.
 * Then, once Redis has the key's scopes, the scope a location declares
 * with "smartlyq_scope": a family ("social": social:read for GET/HEAD,
 * social:write otherwise) or one exact scope ("keys:manage").
 */

#include "ngx_smartlyq_scope.h"
#include "ngx_smartlyq_refuse.h"


#define NGX_SMARTLYQ_SCOPE_MAX  64


static ngx_uint_t
ngx_smartlyq_is_read(ngx_http_request_t *r)
{
    return (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) != 0;
}


ngx_int_t
ngx_smartlyq_type_allowed(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    ngx_smartlyq_loc_conf_t  *slcf;

    if (ctx->type != SQ_KEY_PUBLISHABLE) {
        return NGX_OK;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (slcf->publishable && ngx_smartlyq_is_read(r)) {
        return NGX_OK;
    }

    return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_PUBLISHABLE);
}


/*
 * Is scope one of the space-separated scopes?  Paid on every request, the
 * cached ones too: memchr() finds the separators, a token is compared
 * only when its length matches.
 */
static ngx_uint_t
ngx_smartlyq_has_scope(ngx_str_t *scopes, ngx_str_t *scope)
{
    u_char  *p, *end, *sp;

    p = scopes->data;
    end = p + scopes->len;

    while (p < end) {
        sp = memchr(p, ' ', end - p);
        if (sp == NULL) {
            sp = end;
        }

        if ((size_t) (sp - p) == scope->len
            && ngx_memcmp(p, scope->data, scope->len) == 0)
        {
            return 1;
        }

        p = sp + 1;
    }

    return 0;
}


ngx_int_t
ngx_smartlyq_scope_allowed(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    ngx_smartlyq_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (slcf->scope.len == 0) {
        return NGX_OK;
    }

    ctx->needed_scope = ngx_smartlyq_is_read(r) ? slcf->scope_read
                                                : slcf->scope_write;

    if (ngx_smartlyq_has_scope(&ctx->scopes, &ctx->needed_scope)) {
        return NGX_OK;
    }

    /* the scope was checked to be [a-z_:] at configuration: no escaping */
    return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_SCOPE);
}


/* smartlyq_scope family | family:permission; */
char *
ngx_smartlyq_scope_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_smartlyq_loc_conf_t  *slcf = conf;

    size_t      i, colons;
    ngx_str_t  *value;

    if (slcf->scope.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    colons = 0;

    for (i = 0; i < value[1].len; i++) {
        u_char  ch = value[1].data[i];

        if (ch == ':') {
            colons++;
            continue;
        }

        if ((ch < 'a' || ch > 'z') && ch != '_') {
            colons = 2;
            break;
        }
    }

    if (value[1].len == 0 || value[1].len > NGX_SMARTLYQ_SCOPE_MAX
        || colons > 1 || value[1].data[0] == ':'
        || value[1].data[value[1].len - 1] == ':')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid scope \"%V\", expected a family such "
                           "as \"social\" or a scope such as "
                           "\"keys:manage\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    slcf->scope = value[1];

    if (colons) {
        slcf->scope_read = value[1];
        slcf->scope_write = value[1];
        return NGX_CONF_OK;
    }

    /* a family: its two scopes, spelled once here, not per request */
    slcf->scope_read.data = ngx_pnalloc(cf->pool,
                                        value[1].len + sizeof(":read"));
    slcf->scope_write.data = ngx_pnalloc(cf->pool,
                                         value[1].len + sizeof(":write"));
    if (slcf->scope_read.data == NULL || slcf->scope_write.data == NULL) {
        return NGX_CONF_ERROR;
    }

    slcf->scope_read.len = ngx_sprintf(slcf->scope_read.data, "%V:read",
                                       &value[1])
                           - slcf->scope_read.data;
    slcf->scope_write.len = ngx_sprintf(slcf->scope_write.data, "%V:write",
                                        &value[1])
                            - slcf->scope_write.data;

    return NGX_CONF_OK;
}
