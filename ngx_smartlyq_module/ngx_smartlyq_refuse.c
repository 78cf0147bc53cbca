/*
 * ngx_smartlyq_refuse: refusals answered by the edge itself, as the
 * same JSON envelopes the backend uses:
 *   {"success": false, "error": {"code": "...", "message": "..."}}
 *
 * ngx_smartlyq_refusals[] holds one row per refusal, indexed by
 * ngx_smartlyq_refusal_e, as nginx's ngx_http_error_pages[]; refuse()
 * reads a row and does everything a refusal does: the decision, the
 * metric, the usage count, the log line and the envelope.  Codes and
 * messages are fixed strings of ours, so nothing needs escaping.
 */

#include "ngx_smartlyq_refuse.h"
#include "ngx_smartlyq_metrics.h"
#include "ngx_smartlyq_usage.h"
#include "ngx_smartlyq_util.h"


#define NGX_SMARTLYQ_UNAVAILABLE_MSG                                          \
    "Authorization is temporarily unavailable. Retry shortly."
#define NGX_SMARTLYQ_NO_KEY_MSG                                               \
    "Missing API key. Send it as Authorization: Bearer <key>."


typedef struct {
    ngx_smartlyq_result_e      decision;   /* $smartlyq_decision */
    ngx_uint_t                 status;
    const char                *code;       /* the envelope's */
    const char                *message;    /* ngx_sprintf() format: %V is
                                              the detail (needed scope) */
    const char                *www_error;  /* WWW-Authenticate error=, or
                                              NULL: the realm alone (a
                                              401; a 403 has none) */
    ngx_smartlyq_code_e        metric;     /* smartlyq_refusals_total */
    ngx_uint_t                 usage;      /* a denied use of a known key */
    ngx_uint_t                 quiet;      /* logged one level below
                                              smartlyq_log_level, as
                                              limit_req's delays */
    ngx_uint_t                 bare;       /* logged without the request
                                              line: it holds a key */
} ngx_smartlyq_refusal_t;


#define ngx_smartlyq_401(d, msg, err)                                         \
    .decision = d, .status = NGX_HTTP_UNAUTHORIZED, .code = "UNAUTHORIZED",   \
    .message = msg, .www_error = err, .metric = NGX_SMARTLYQ_CODE_UNAUTHORIZED

#define ngx_smartlyq_400(d, msg)                                              \
    .decision = d, .status = NGX_HTTP_BAD_REQUEST,                            \
    .code = "VALIDATION_ERROR", .message = msg,                               \
    .metric = NGX_SMARTLYQ_CODE_VALIDATION_ERROR


static ngx_smartlyq_refusal_t  ngx_smartlyq_refusals[NGX_SMARTLYQ_REFUSALS] = {

    [NGX_SMARTLYQ_R_KEY_IN_URL] = {
        ngx_smartlyq_400(NGX_SMARTLYQ_KEY_IN_URL,
                         "API keys must not be sent in the URL; send them "
                         "as Authorization: Bearer <key>, and rotate this "
                         "one."),
        .bare = 1 },

    [NGX_SMARTLYQ_R_AUTH_HEADERS] = {
        ngx_smartlyq_401(NGX_SMARTLYQ_MALFORMED_KEY,
                         "Send exactly one Authorization header.",
                         "invalid_token") },

    [NGX_SMARTLYQ_R_NO_KEY] = {
        ngx_smartlyq_401(NGX_SMARTLYQ_NO_KEY, NGX_SMARTLYQ_NO_KEY_MSG, NULL),
        .quiet = 1 },       /* no key at all: common, and nobody's */

    [NGX_SMARTLYQ_R_MALFORMED_KEY] = {
        ngx_smartlyq_401(NGX_SMARTLYQ_MALFORMED_KEY, "Malformed API key.",
                         "invalid_token") },

    [NGX_SMARTLYQ_R_PUBLISHABLE] = {
        .decision = NGX_SMARTLYQ_PUBLISHABLE,
        .status = NGX_HTTP_FORBIDDEN,
        .code = "PUBLISHABLE_KEY_NOT_ALLOWED",
        .message = "Publishable keys cannot be used here.",
        .metric = NGX_SMARTLYQ_CODE_PUBLISHABLE },

    [NGX_SMARTLYQ_R_OAUTH] = {
        .decision = NGX_SMARTLYQ_OAUTH,
        .status = NGX_HTTP_FORBIDDEN,
        .code = "OAUTH_TOKEN_NOT_ALLOWED",
        .message = "OAuth access tokens cannot be used here; use an "
                   "API key.",
        .metric = NGX_SMARTLYQ_CODE_OAUTH,
        .usage = 1 },

    [NGX_SMARTLYQ_R_WS_DUPLICATE] = {
        ngx_smartlyq_400(NGX_SMARTLYQ_BAD_WORKSPACE,
                         "workspace_id must be given only once.") },

    [NGX_SMARTLYQ_R_WS_CONFLICT] = {
        ngx_smartlyq_400(NGX_SMARTLYQ_BAD_WORKSPACE,
                         "workspace_id differs between the query string "
                         "and the body.") },

    [NGX_SMARTLYQ_R_WS_INVALID] = {
        ngx_smartlyq_400(NGX_SMARTLYQ_BAD_WORKSPACE,
                         "workspace_id must be a positive integer.") },

    [NGX_SMARTLYQ_R_CONTENT_TYPES] = {
        ngx_smartlyq_400(NGX_SMARTLYQ_BAD_BODY,
                         "Send at most one Content-Type header.") },

    [NGX_SMARTLYQ_R_BODY_TOO_LARGE] = {
        .decision = NGX_SMARTLYQ_BAD_BODY,
        .status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
        .code = "PAYLOAD_TOO_LARGE",
        .message = "The request body is too large.",
        .metric = NGX_SMARTLYQ_CODE_PAYLOAD_TOO_LARGE },

    [NGX_SMARTLYQ_R_BODY_BAD_JSON] = {
        ngx_smartlyq_400(NGX_SMARTLYQ_BAD_BODY,
                         "The request body is not valid JSON "
                         "(or repeats a key).") },

    [NGX_SMARTLYQ_R_BODY_NOT_OBJECT] = {
        ngx_smartlyq_400(NGX_SMARTLYQ_BAD_BODY,
                         "The request body must be a JSON object.") },

    [NGX_SMARTLYQ_R_UNKNOWN_KEY] = {
        ngx_smartlyq_401(NGX_SMARTLYQ_UNKNOWN_KEY, "Invalid API key.",
                         "invalid_token") },

    [NGX_SMARTLYQ_R_DISABLED_KEY] = {
        ngx_smartlyq_401(NGX_SMARTLYQ_DISABLED_KEY,
                         "This API key has been disabled.", "invalid_token"),
        .usage = 1 },

    [NGX_SMARTLYQ_R_EXPIRED_KEY] = {
        ngx_smartlyq_401(NGX_SMARTLYQ_EXPIRED_KEY,
                         "This API key has expired.", "invalid_token"),
        .usage = 1 },

    [NGX_SMARTLYQ_R_DELETED_KEY] = {
        ngx_smartlyq_401(NGX_SMARTLYQ_DELETED_KEY,
                         "This API key has been deleted.", "invalid_token"),
        .usage = 1 },

    [NGX_SMARTLYQ_R_ROTATED_KEY] = {
        ngx_smartlyq_401(NGX_SMARTLYQ_ROTATED_KEY,
                         "This API key was rotated and its grace period "
                         "is over.", "invalid_token"),
        .usage = 1 },

    [NGX_SMARTLYQ_R_SCOPE] = {
        .decision = NGX_SMARTLYQ_SCOPE,
        .status = NGX_HTTP_FORBIDDEN,
        .code = "INSUFFICIENT_SCOPE",
        .message = "This key lacks the scope %V.",
        .www_error = "insufficient_scope",
        .metric = NGX_SMARTLYQ_CODE_SCOPE,
        .usage = 1 },

    [NGX_SMARTLYQ_R_FORBIDDEN] = {
        .decision = NGX_SMARTLYQ_FORBIDDEN,
        .status = NGX_HTTP_FORBIDDEN,
        .code = "FORBIDDEN",
        .message = "You do not have access to this workspace.",
        .metric = NGX_SMARTLYQ_CODE_FORBIDDEN,
        .usage = 1 },

    [NGX_SMARTLYQ_R_UNAVAILABLE] = {
        .decision = NGX_SMARTLYQ_UNAVAILABLE,
        .status = NGX_HTTP_SERVICE_UNAVAILABLE,
        .code = "SERVICE_UNAVAILABLE",
        .message = NGX_SMARTLYQ_UNAVAILABLE_MSG,
        .metric = NGX_SMARTLYQ_CODE_UNAVAILABLE }
};


static ngx_int_t ngx_smartlyq_refusal_headers(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, ngx_smartlyq_refusal_t *rf);
static void ngx_smartlyq_refusal_log(ngx_http_request_t *r,
    ngx_smartlyq_ctx_t *ctx, ngx_smartlyq_refusal_t *rf);


/*
 * Answers the request with a refusal.  The access checker finalizes with
 * what this returns: NGX_HTTP_OK once sent (NGX_OK there would allow).
 */
ngx_int_t
ngx_smartlyq_refuse(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    ngx_smartlyq_refusal_e refusal)
{
    ngx_int_t                rc;
    ngx_buf_t               *b;
    ngx_str_t                body;
    ngx_chain_t              out;
    ngx_smartlyq_refusal_t  *rf;

    rf = &ngx_smartlyq_refusals[refusal];

    ctx->result = rf->decision;

    if (rf->usage) {
        ngx_smartlyq_usage_count(r, ctx, ctx->digest, 0);
    }

    ngx_smartlyq_metrics_decision(r, ctx, rf->metric);
    ngx_smartlyq_refusal_log(r, ctx, rf);

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        /* e.g. 400 for a broken chunked body: nginx answers that */
        return rc >= NGX_HTTP_SPECIAL_RESPONSE ? rc : NGX_ERROR;
    }

    if (ngx_smartlyq_envelope(r->pool, &body, rf->code, rf->message,
                              &ctx->needed_scope)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    r->headers_out.status = rf->status;
    r->headers_out.content_length_n = body.len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_smartlyq_refusal_headers(r, ctx, rf) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc == NGX_ERROR ? NGX_ERROR : NGX_HTTP_OK;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->memory = 1;
    b->pos = body.data;
    b->last = body.data + body.len;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_output_filter(r, &out);

    return rc == NGX_ERROR ? NGX_ERROR : NGX_HTTP_OK;
}


/*
 * WWW-Authenticate for a 401 and for a 403 with an error (RFC 6750 3:
 * insufficient_scope names the scope wanted), Retry-After for a 503,
 * never cached
 */
static ngx_int_t
ngx_smartlyq_refusal_headers(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    ngx_smartlyq_refusal_t *rf)
{
    u_char                   *p;
    size_t                    len;
    ngx_str_t                 value;
    ngx_smartlyq_loc_conf_t  *slcf;

    if (rf->status == NGX_HTTP_UNAUTHORIZED || rf->www_error != NULL) {
        len = sizeof("Bearer realm=\"smartlyq\"") - 1;

        if (rf->www_error) {
            len += sizeof(", error=\"\"") - 1 + ngx_strlen(rf->www_error);
        }

        if (rf->status == NGX_HTTP_FORBIDDEN) {
            len += sizeof(", scope=\"\"") - 1 + ctx->needed_scope.len;
        }

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        value.data = p;
        p = ngx_cpymem(p, "Bearer realm=\"smartlyq\"",
                       sizeof("Bearer realm=\"smartlyq\"") - 1);

        if (rf->www_error) {
            p = ngx_sprintf(p, ", error=\"%s\"", rf->www_error);
        }

        /* the scope was checked to be [a-z_:] at configuration */
        if (rf->status == NGX_HTTP_FORBIDDEN) {
            p = ngx_sprintf(p, ", scope=\"%V\"", &ctx->needed_scope);
        }

        value.len = p - value.data;

        if (ngx_smartlyq_add_header(r, "WWW-Authenticate", &value,
                                    &r->headers_out.www_authenticate)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (rf->status == NGX_HTTP_SERVICE_UNAVAILABLE) {
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

    return ngx_smartlyq_add_header(r, "Cache-Control", &value, NULL);
}


/* one line per refusal: its code, the key id and workspace, never a key */
static void
ngx_smartlyq_refusal_log(ngx_http_request_t *r, ngx_smartlyq_ctx_t *ctx,
    ngx_smartlyq_refusal_t *rf)
{
    ngx_log_t                *log;
    ngx_uint_t                level;
    ngx_log_handler_pt        handler;
    ngx_smartlyq_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_smartlyq_module);

    level = slcf->log_level;

    if (rf->quiet && level < NGX_LOG_INFO) {
        level++;
    }

    log = r->connection->log;
    handler = log->handler;

    if (rf->bare) {
        log->handler = NULL;    /* no "request: ..." after the line */
    }

    ngx_log_error(level, log, 0,
                  "smartlyq: access denied: %ui %s (%V), key id \"%V\", "
                  "workspace \"%V\"",
                  rf->status, rf->code,
                  ngx_smartlyq_decision_name(rf->decision),
                  &ctx->key_id, &ctx->workspace_id);

    log->handler = handler;
}


/*
 * The module's one JSON envelope, in pool: message is an ngx_sprintf()
 * format whose %V, if any, is detail.
 */
ngx_int_t
ngx_smartlyq_envelope(ngx_pool_t *pool, ngx_str_t *out, const char *code,
    const char *message, ngx_str_t *detail)
{
    u_char  *p;
    size_t   len;

    len = sizeof("{\"success\": false, \"error\": {\"code\": \"\", "
                 "\"message\": \"\"}}") - 1
          + ngx_strlen(code) + ngx_strlen(message)
          + (detail ? detail->len : 0);

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_sprintf(p, "{\"success\": false, \"error\": {\"code\": \"%s\", "
                    "\"message\": \"", code);
    p = ngx_sprintf(p, message, detail);
    p = ngx_cpymem(p, "\"}}", sizeof("\"}}") - 1);
    out->len = p - out->data;

    return NGX_OK;
}

