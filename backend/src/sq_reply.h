/*
 * sq_reply: JSON replies over evhttp.
 */

#ifndef SQ_REPLY_H
#define SQ_REPLY_H

#include <event2/http.h>
#include <jansson.h>

#include "sq_json.h"
#include "sq_store.h"

/* message NULL: the default message of the code */
void sq_reply_error(struct evhttp_request *req, sq_err_t e,
    const char *message);

/* 405 with an Allow header */
void sq_reply_bad_method(struct evhttp_request *req, const char *allow);

/* Steals data (NULL means out of memory and gives a 500). */
void sq_reply_data(struct evhttp_request *req, int status, json_t *data);

/* 200 with data and pagination; steals both. */
void sq_reply_page(struct evhttp_request *req, json_t *data,
    json_t *pagination);

/* A body rendered already (JSON), with the usual headers; b is kept. */
void sq_reply_buffer(struct evhttp_request *req, int status,
    struct evbuffer *b);

/* Maps a store failure: IO -> 503, not found -> 404, else 500. */
void sq_reply_store_error(struct evhttp_request *req, sq_rc_t rc);

/* issue 16 (keyops): a whole body (steals it; NULL gives a 500) */
void sq_reply_json(struct evhttp_request *req, int status, json_t *body);

/* issue 16 (keyops): an error envelope with a code of the handler's */
void sq_reply_error_code(struct evhttp_request *req, int status,
    const char *reason, const char *code, const char *message);

#endif /* SQ_REPLY_H */
