/*
 * sq_reply: every response is JSON with Content-Type application/json.
 */

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "sq_log.h"
#include "sq_metrics.h"
#include "sq_reply.h"


static void
sq_reply_headers(struct evhttp_request *req)
{
    struct evkeyvalq  *out;

    out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", "application/json");
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
}


static void
sq_reply_send(struct evhttp_request *req, int status, const char *reason,
    const char *body)
{
    struct evbuffer  *buf;

    sq_metrics_status(status);
    sq_reply_headers(req);

    buf = evbuffer_new();
    if (buf == NULL || evbuffer_add(buf, body, strlen(body)) != 0) {
        sq_log(SQ_LOG_ERR, "out of memory building a reply");
        if (buf != NULL) {
            evbuffer_free(buf);
        }
        sq_metrics_status(HTTP_INTERNAL);
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }

    evhttp_send_reply(req, status, reason, buf);
    evbuffer_free(buf);
}


static void
sq_reply_internal(struct evhttp_request *req)
{
    sq_reply_send(req, 500, sq_err_reason(SQ_E_INTERNAL),
                  sq_json_internal_fallback());
}


void
sq_reply_error(struct evhttp_request *req, sq_err_t e, const char *message)
{
    char  *body;

    body = sq_json_error(e, message);
    if (body == NULL) {
        sq_reply_internal(req);
        return;
    }

    if (e == SQ_E_UNAVAILABLE || e == SQ_E_NOT_REPLICATED) {
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "Retry-After", "1");
    }

    sq_reply_send(req, sq_err_status(e), sq_err_reason(e), body);
    sq_json_str_free(body);
}


void
sq_reply_bad_method(struct evhttp_request *req, const char *allow)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                      allow);
    sq_reply_error(req, SQ_E_METHOD_NOT_ALLOWED, NULL);
}


void
sq_reply_data(struct evhttp_request *req, int status, json_t *data)
{
    char  *body;

    body = sq_json_success(data);
    if (body == NULL) {
        sq_log(SQ_LOG_ERR, "cannot render a response");
        sq_reply_internal(req);
        return;
    }

    sq_reply_send(req, status, status == 201 ? "Created" : "OK", body);
    sq_json_str_free(body);
}


void
sq_reply_store_error(struct evhttp_request *req, sq_rc_t rc)
{
    switch (rc) {
    case SQ_ERR_IO:
        sq_reply_error(req, SQ_E_UNAVAILABLE, NULL);
        return;
    case SQ_ERR_NOTFOUND:
        sq_reply_error(req, SQ_E_NOT_FOUND, NULL);
        return;
    default:
        sq_log(SQ_LOG_ERR, "store: %s", sq_rc_text(rc));
        sq_reply_error(req, SQ_E_INTERNAL, NULL);
        return;
    }
}


void
sq_reply_page(struct evhttp_request *req, json_t *data, json_t *pagination)
{
    char  *body;

    body = sq_json_success_page(data, pagination);
    if (body == NULL) {
        sq_log(SQ_LOG_ERR, "cannot render a response");
        sq_reply_internal(req);
        return;
    }

    sq_reply_send(req, 200, "OK", body);
    sq_json_str_free(body);
}


void
sq_reply_buffer(struct evhttp_request *req, int status, struct evbuffer *body)
{
    sq_metrics_status(status);
    sq_reply_headers(req);
    evhttp_send_reply(req, status, status == 201 ? "Created" : "OK", body);
}


/* === keyops (issue 16) === */

void
sq_reply_json(struct evhttp_request *req, int status, json_t *body)
{
    char  *out;

    out = body != NULL ? json_dumps(body, JSON_ENCODE_ANY) : NULL;
    json_decref(body);

    if (out == NULL) {
        sq_log(SQ_LOG_ERR, "cannot render a response");
        sq_reply_internal(req);
        return;
    }

    sq_reply_send(req, status, status == 201 ? "Created" : "OK", out);
    sq_json_str_free(out);
}


void
sq_reply_error_code(struct evhttp_request *req, int status,
    const char *reason, const char *code, const char *message)
{
    char    *out;
    json_t  *root;

    root = json_pack("{s:b, s:{s:s, s:s}}", "success", 0, "error",
                     "code", code, "message", message);
    out = root != NULL ? json_dumps(root, 0) : NULL;
    json_decref(root);

    if (out == NULL) {
        sq_reply_internal(req);
        return;
    }

    sq_reply_send(req, status, reason, out);
    sq_json_str_free(out);
}
