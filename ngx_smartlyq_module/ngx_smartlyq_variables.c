/*
 * ngx_smartlyq_variables: $smartlyq_user_id, $smartlyq_key_id,
 * $smartlyq_workspace_id, $smartlyq_app_id (an OAuth access token's
 * app), $smartlyq_decision and $smartlyq_cache_status (HIT, MISS,
 * BYPASS, STALE), for access logs.
 * Empty (not found) until the check has run.
 */

#include "ngx_smartlyq_variables.h"
#include "ngx_smartlyq_util.h"


typedef enum {
    NGX_SMARTLYQ_VAR_USER = 0,
    NGX_SMARTLYQ_VAR_KEY,
    NGX_SMARTLYQ_VAR_WORKSPACE,
    NGX_SMARTLYQ_VAR_APP,
    NGX_SMARTLYQ_VAR_DECISION,
    NGX_SMARTLYQ_VAR_CACHE
} ngx_smartlyq_var_e;


static ngx_int_t ngx_smartlyq_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_smartlyq_vars[] = {

    { ngx_string("smartlyq_user_id"), NULL, ngx_smartlyq_variable,
      NGX_SMARTLYQ_VAR_USER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("smartlyq_key_id"), NULL, ngx_smartlyq_variable,
      NGX_SMARTLYQ_VAR_KEY, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("smartlyq_workspace_id"), NULL, ngx_smartlyq_variable,
      NGX_SMARTLYQ_VAR_WORKSPACE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("smartlyq_app_id"), NULL, ngx_smartlyq_variable,
      NGX_SMARTLYQ_VAR_APP, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("smartlyq_decision"), NULL, ngx_smartlyq_variable,
      NGX_SMARTLYQ_VAR_DECISION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("smartlyq_cache_status"), NULL, ngx_smartlyq_variable,
      NGX_SMARTLYQ_VAR_CACHE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_smartlyq_cache_statuses[] = {
    ngx_null_string,
    ngx_string("HIT"),
    ngx_string("MISS"),
    ngx_string("BYPASS"),
    ngx_string("STALE")
};


ngx_int_t
ngx_smartlyq_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_smartlyq_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_smartlyq_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t           *s;
    ngx_smartlyq_ctx_t  *ctx;

    ctx = ngx_smartlyq_get_ctx(r->main);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_SMARTLYQ_VAR_USER:
        s = &ctx->user_id;
        break;

    case NGX_SMARTLYQ_VAR_KEY:
        s = &ctx->key_id;
        break;

    case NGX_SMARTLYQ_VAR_WORKSPACE:
        s = &ctx->workspace_id;
        break;

    case NGX_SMARTLYQ_VAR_APP:
        s = &ctx->app_id;
        break;

    case NGX_SMARTLYQ_VAR_DECISION:
        s = ngx_smartlyq_decision_name(ctx->result);
        break;

    default: /* NGX_SMARTLYQ_VAR_CACHE */
        s = &ngx_smartlyq_cache_statuses[ctx->cache_status];
        break;
    }

    if (s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = s->data;

    return NGX_OK;
}

