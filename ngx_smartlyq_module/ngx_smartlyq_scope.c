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

#include "sq_scope.h"


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


ngx_int_t
ngx_smartlyq_scope_allowed(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    uint32_t                  need;
    ngx_smartlyq_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    if (slcf->scope.len == 0) {
        return NGX_OK;
    }

    if (ngx_smartlyq_is_read(r)) {
        need = slcf->scope_read_bit;
        ctx->needed_scope = slcf->scope_read;

    } else {
        need = slcf->scope_write_bit;
        ctx->needed_scope = slcf->scope_write;
    }

    if (ctx->scope_bits & need) {
        return NGX_OK;
    }

    /* the scope was checked to be [a-z_:] at configuration: no escaping */
    return ngx_smartlyq_refuse(r, ctx, NGX_SMARTLYQ_R_SCOPE);
}


/*
 * A location's scopes as bits of the table the backend shares
 * (sq_scope.h): a name it does not know could never be held, so it is
 * refused here rather than refusing every request there.
 */
static char *
ngx_smartlyq_scope_bits(ngx_conf_t *cf, ngx_smartlyq_loc_conf_t *slcf)
{
    ngx_int_t   rd, wr;

    rd = sq_scope_lookup((char *) slcf->scope_read.data,
                         slcf->scope_read.len);
    wr = sq_scope_lookup((char *) slcf->scope_write.data,
                         slcf->scope_write.len);

    if (rd < 0 || wr < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown scope \"%V\"", rd < 0
                           ? &slcf->scope_read : &slcf->scope_write);
        return NGX_CONF_ERROR;
    }

    slcf->scope_read_bit = SQ_SCOPE_BIT(rd);
    slcf->scope_write_bit = SQ_SCOPE_BIT(wr);

    return NGX_CONF_OK;
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
        return ngx_smartlyq_scope_bits(cf, slcf);
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

    return ngx_smartlyq_scope_bits(cf, slcf);
}
