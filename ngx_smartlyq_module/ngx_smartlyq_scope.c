/*
 * ngx_smartlyq_scope: what kind of key may do what where.
 *
 * Key type first (no I/O: the prefix says it): a publishable key
 * (sqp_...) only where "smartlyq_publishable on" and only for GET/HEAD,
 * an OAuth access token (sqo_...) only where "smartlyq_oauth on".
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

    if (ctx->type == SQ_KEY_SECRET) {
        return NGX_OK;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (ctx->type == SQ_KEY_OAUTH) {
        return slcf->oauth ? NGX_OK
                           : ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_OAUTH);
    }

    if (slcf->publishable && ngx_smartlyq_is_read(r)) {
        return NGX_OK;
    }

    return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_PUBLISHABLE);
}


/* is scope one of the space-separated scopes? */
static ngx_uint_t
ngx_smartlyq_has_scope(ngx_str_t *scopes, ngx_str_t *scope)
{
    u_char  *p, *end, *tok;

    p = scopes->data;
    end = p + scopes->len;

    while (p < end) {
        while (p < end && *p == ' ') {
            p++;
        }

        tok = p;

        while (p < end && *p != ' ') {
            p++;
        }

        if ((size_t) (p - tok) == scope->len
            && ngx_strncmp(tok, scope->data, scope->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_smartlyq_scope_allowed(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    ngx_str_t                *need;
    ngx_smartlyq_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (slcf->scope.len == 0) {
        return NGX_OK;
    }

    need = &ctx->needed_scope;

    if (ngx_strlchr(slcf->scope.data, slcf->scope.data + slcf->scope.len,
                    ':'))
    {
        *need = slcf->scope;

    } else {
        need->data = ngx_pnalloc(r->pool, slcf->scope.len + sizeof(":write"));
        if (need->data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        need->len = ngx_sprintf(need->data, "%V:%s", &slcf->scope,
                                ngx_smartlyq_is_read(r) ? "read" : "write")
                    - need->data;
    }

    if (ngx_smartlyq_has_scope(&ctx->scopes, need)) {
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

    return NGX_CONF_OK;
}
