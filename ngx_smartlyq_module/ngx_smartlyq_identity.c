/*
 * ngx_smartlyq_identity: what the upstream learns about an allowed
 * request.
 *
 * Every client-sent X-SmartlyQ-* header (any case) and the Authorization
 * header are taken out of the request; the verified user, key, workspace,
 * key mode and (for an OAuth access token) app go in, with a timestamp,
 * a nonce, the body's digest and a MAC over them and the method, the
 * request-target and the Content-Type (sq_identity.h).  The backend trusts nothing else, so
 * forging these headers, calling it directly, or replaying what it was
 * sent (with another body or as is) gets nothing.
 */

#include "ngx_smartlyq_identity.h"
#include "ngx_smartlyq_util.h"


#define NGX_SMARTLYQ_PREFIX      "x-smartlyq-"
#define NGX_SMARTLYQ_PREFIX_LEN  (sizeof(NGX_SMARTLYQ_PREFIX) - 1)


/* the headers the upstream gets, in this order */
typedef enum {
    NGX_SMARTLYQ_H_USER = 0,
    NGX_SMARTLYQ_H_KEY,
    NGX_SMARTLYQ_H_WORKSPACE,
    NGX_SMARTLYQ_H_MODE,
    NGX_SMARTLYQ_H_TYPE,
    NGX_SMARTLYQ_H_SCOPES,
    NGX_SMARTLYQ_H_KEY_WS,
    NGX_SMARTLYQ_H_APP,
    NGX_SMARTLYQ_H_TIMESTAMP,
    NGX_SMARTLYQ_H_NONCE,
    NGX_SMARTLYQ_H_BODY,
    NGX_SMARTLYQ_H_SIGNATURE,
    NGX_SMARTLYQ_H_COUNT
} ngx_smartlyq_header_e;


static void ngx_smartlyq_identity_names(void);


/*
 * The identity headers' names with their lowercase forms and hashes,
 * computed once per process: a request only copies them.
 */
static ngx_table_elt_t  ngx_smartlyq_names[NGX_SMARTLYQ_H_COUNT];
static u_char           ngx_smartlyq_lowcase[NGX_SMARTLYQ_H_COUNT][32];

static const char      *ngx_smartlyq_name_text[NGX_SMARTLYQ_H_COUNT] = {
    "X-SmartlyQ-User-Id",
    "X-SmartlyQ-Key-Id",
    "X-SmartlyQ-Workspace-Id",
    "X-SmartlyQ-Key-Mode",
    "X-SmartlyQ-Key-Type",
    "X-SmartlyQ-Key-Scopes",
    "X-SmartlyQ-Key-Workspaces",
    "X-SmartlyQ-App-Id",
    "X-SmartlyQ-Timestamp",
    "X-SmartlyQ-Nonce",
    "X-SmartlyQ-Body-Digest",
    "X-SmartlyQ-Signature"
};


/* this worker's nonces: a random stream id, chosen on first use, and a
 * counter (sq_identity.h) */
static sq_nonce_stream_t  ngx_smartlyq_nonces;


static ngx_uint_t
ngx_smartlyq_header_dropped(ngx_table_elt_t *h)
{
    if (h->key.len >= NGX_SMARTLYQ_PREFIX_LEN
        && ngx_strncasecmp(h->key.data, (u_char *) NGX_SMARTLYQ_PREFIX,
                           NGX_SMARTLYQ_PREFIX_LEN) == 0)
    {
        return 1;
    }

    if (h->key.len == sizeof("Authorization") - 1
        && ngx_strncasecmp(h->key.data, (u_char *) "Authorization",
                           h->key.len) == 0)
    {
        return 1;
    }

    return 0;
}


ngx_int_t
ngx_smartlyq_identity_set(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx)
{
    u_char                    *p;
    ngx_str_t                  ts, sig, mode, type, nonce, body, ct;
    ngx_str_t                  values[NGX_SMARTLYQ_H_COUNT];
    ngx_uint_t                 i, k, n;
    ngx_list_t                 list;
    sq_identity_t              id;
    ngx_list_part_t           *part;
    ngx_table_elt_t           *h, *nh;
    ngx_smartlyq_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_smartlyq_module);

    n = NGX_SMARTLYQ_H_COUNT;
    for (part = &r->headers_in.headers.part; part; part = part->next) {
        n += part->nelts;
    }

    if (ngx_list_init(&list, r->pool, n, sizeof(ngx_table_elt_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    i = 0;
    part = &r->headers_in.headers.part;

    while ((h = ngx_smartlyq_header_next(&part, &i)) != NULL) {

        if (ngx_smartlyq_header_dropped(h)) {
            continue;
        }

        nh = ngx_list_push(&list);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = *h;
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + SQ_MAC_HEX_LEN + 1
                             + SQ_NONCE_HEX_LEN + 1 + SQ_DIGEST_HEX_LEN + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ts.data = p;
    ts.len = ngx_sprintf(p, "%T", ngx_time()) - p;

    nonce.data = ts.data + ts.len + SQ_MAC_HEX_LEN + 1;
    nonce.len = SQ_NONCE_HEX_LEN;
    sq_nonce_next_hex(&ngx_smartlyq_nonces, (char *) nonce.data);

    ct.data = nonce.data + SQ_NONCE_HEX_LEN + 1;
    ct.len = 0;

    if (r->headers_in.content_type) {
        sq_content_digest_hex(r->headers_in.content_type->value.data,
                              r->headers_in.content_type->value.len,
                              (char *) ct.data);
        ct.len = SQ_DIGEST_HEX_LEN;
    }

    body.data = (u_char *) ctx->body_digest;
    body.len = ngx_strlen(ctx->body_digest);

    mode.data = (u_char *) sq_key_mode_name(ctx->mode);
    mode.len = ngx_strlen(mode.data);
    type.data = (u_char *) sq_key_type_name(ctx->type);
    type.len = ngx_strlen(type.data);

    id.method.data = (const char *) r->method_name.data;
    id.method.len = r->method_name.len;
    id.uri.data = (const char *) r->unparsed_uri.data;
    id.uri.len = r->unparsed_uri.len;
    id.user_id.data = (const char *) ctx->user_id.data;
    id.user_id.len = ctx->user_id.len;
    id.key_id.data = (const char *) ctx->key_id.data;
    id.key_id.len = ctx->key_id.len;
    id.workspace_id.data = (const char *) ctx->workspace_id.data;
    id.workspace_id.len = ctx->workspace_id.len;
    id.mode.data = (const char *) mode.data;
    id.mode.len = mode.len;
    id.key_type.data = (const char *) type.data;
    id.key_type.len = type.len;
    id.scopes.data = (const char *) ctx->scopes.data;
    id.scopes.len = ctx->scopes.len;
    id.key_workspaces.data = (const char *) ctx->key_workspaces.data;
    id.key_workspaces.len = ctx->key_workspaces.len;
    id.app_id.data = (const char *) ctx->app_id.data;
    id.app_id.len = ctx->app_id.len;
    id.timestamp.data = (const char *) ts.data;
    id.timestamp.len = ts.len;
    id.nonce.data = (const char *) nonce.data;
    id.nonce.len = nonce.len;
    id.content_type.data = (const char *) ct.data;
    id.content_type.len = ct.len;
    id.body.data = (const char *) body.data;
    id.body.len = body.len;

    sig.data = ts.data + ts.len;
    sq_identity_sign_hex_with(&smcf->signer, &id, (char *) sig.data);
    sig.len = SQ_MAC_HEX_LEN;

    values[NGX_SMARTLYQ_H_USER] = ctx->user_id;
    values[NGX_SMARTLYQ_H_KEY] = ctx->key_id;
    values[NGX_SMARTLYQ_H_WORKSPACE] = ctx->workspace_id;
    values[NGX_SMARTLYQ_H_MODE] = mode;
    values[NGX_SMARTLYQ_H_TYPE] = type;
    values[NGX_SMARTLYQ_H_SCOPES] = ctx->scopes;
    values[NGX_SMARTLYQ_H_KEY_WS] = ctx->key_workspaces;
    values[NGX_SMARTLYQ_H_APP] = ctx->app_id;
    values[NGX_SMARTLYQ_H_TIMESTAMP] = ts;
    values[NGX_SMARTLYQ_H_NONCE] = nonce;
    values[NGX_SMARTLYQ_H_BODY] = body;
    values[NGX_SMARTLYQ_H_SIGNATURE] = sig;

    if (ngx_smartlyq_names[0].hash == 0) {
        ngx_smartlyq_identity_names();
    }

    for (k = 0; k < NGX_SMARTLYQ_H_COUNT; k++) {

        /* the backend reads an absent optional header as empty */
        if (values[k].len == 0
            && (k == NGX_SMARTLYQ_H_WORKSPACE || k == NGX_SMARTLYQ_H_SCOPES
                || k == NGX_SMARTLYQ_H_KEY_WS || k == NGX_SMARTLYQ_H_APP
                || k == NGX_SMARTLYQ_H_BODY))
        {
            continue;
        }

        nh = ngx_list_push(&list);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = ngx_smartlyq_names[k];
        nh->value = values[k];
    }

    /*
     * ngx_list_init() pointed list.last at the local copy's part; n was
     * sized so that everything fits in that one part, which from now on
     * lives in r->headers_in.  The key is gone with its header.
     */
    r->headers_in.headers = list;
    r->headers_in.headers.last = &r->headers_in.headers.part;
    r->headers_in.authorization = NULL;

    return NGX_OK;
}



static void
ngx_smartlyq_identity_names(void)
{
    size_t            len;
    ngx_uint_t        k;
    ngx_table_elt_t  *h;

    for (k = 0; k < NGX_SMARTLYQ_H_COUNT; k++) {
        h = &ngx_smartlyq_names[k];
        len = ngx_strlen(ngx_smartlyq_name_text[k]);

        h->key.data = (u_char *) ngx_smartlyq_name_text[k];
        h->key.len = len;
        h->lowcase_key = ngx_smartlyq_lowcase[k];
        h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, len);
    }
}
