/*
 * ngx_smartlyq_json: jansson's allocations while the edge parses a body
 * come from one per-worker arena.
 *
 * jansson 2.14's lexer ignores a failed allocation while it buffers a
 * token (lex_save) and then copies the string past the end of the
 * buffers it has: out of memory, a long string in a body is a heap
 * overflow (found with the worker's address space capped).  Here no
 * allocation inside json_loadb() can fail: the arena is sized for any
 * body within smartlyq_body_limit (jansson needs under 80 bytes per byte
 * of input, measured on the worst shapes: arrays of empty objects), and
 * a body needing more stops the parse with longjmp() before jansson sees
 * a NULL.  The arena is reused, so nothing leaks either way.
 */

#include <setjmp.h>
#include <jansson.h>

#include "ngx_smartlyq_json.h"
#include "sq_keys.h"


#define NGX_SMARTLYQ_JSON_MAX     (16 * 1024 * 1024)


static void *ngx_smartlyq_json_malloc(size_t size);
static void ngx_smartlyq_json_free(void *p);


static u_char      *ngx_smartlyq_json_start;
static u_char      *ngx_smartlyq_json_pos;
static u_char      *ngx_smartlyq_json_end;
static ngx_uint_t   ngx_smartlyq_json_active;
static ngx_uint_t   ngx_smartlyq_json_hooked;
static jmp_buf      ngx_smartlyq_json_jmp;


static void *
ngx_smartlyq_json_malloc(size_t size)
{
    u_char  *p;

    if (!ngx_smartlyq_json_active) {
        return malloc(size);
    }

    size = ngx_align(size, 16);

    if (size > (size_t) (ngx_smartlyq_json_end - ngx_smartlyq_json_pos)) {
        ngx_smartlyq_json_active = 0;
        longjmp(ngx_smartlyq_json_jmp, 1);
    }

    p = ngx_smartlyq_json_pos;
    ngx_smartlyq_json_pos += size;

    return p;
}


static void
ngx_smartlyq_json_free(void *p)
{
    if ((u_char *) p >= ngx_smartlyq_json_start
        && (u_char *) p < ngx_smartlyq_json_end)
    {
        return;     /* the arena is reset before the next parse */
    }

    free(p);
}


/*
 * workspace_id from a JSON body: NGX_OK with *rc set, NGX_DECLINED when
 * the body needs more memory than the arena has, NGX_ERROR when the
 * arena cannot be allocated.
 */
ngx_int_t
ngx_smartlyq_json_workspace(ngx_http_request_t *r, u_char *body, size_t len,
    size_t limit, sq_ws_rc_t *rc, uint64_t *id)
{
    size_t   need;
    u_char  *p;

    if (limit > (NGX_SMARTLYQ_JSON_MAX - SQ_JSON_SLACK)
                / SQ_JSON_BYTES_PER_BYTE)
    {
        need = NGX_SMARTLYQ_JSON_MAX;

    } else {
        need = limit * SQ_JSON_BYTES_PER_BYTE + SQ_JSON_SLACK;
    }

    if ((size_t) (ngx_smartlyq_json_end - ngx_smartlyq_json_start) < need) {

        p = ngx_alloc(need, r->connection->log);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (ngx_smartlyq_json_start) {
            ngx_free(ngx_smartlyq_json_start);
        }

        ngx_smartlyq_json_start = p;
        ngx_smartlyq_json_end = p + need;
    }

    if (!ngx_smartlyq_json_hooked) {
        json_set_alloc_funcs(ngx_smartlyq_json_malloc,
                             ngx_smartlyq_json_free);
        ngx_smartlyq_json_hooked = 1;
    }

    ngx_smartlyq_json_pos = ngx_smartlyq_json_start;

    if (setjmp(ngx_smartlyq_json_jmp) != 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "smartlyq: JSON body of %uz bytes needs more than "
                      "%uz bytes to parse", len,
                      (size_t) (ngx_smartlyq_json_end
                                - ngx_smartlyq_json_start));
        return NGX_DECLINED;
    }

    ngx_smartlyq_json_active = 1;

    *rc = sq_workspace_from_json((const char *) body, len, id);

    ngx_smartlyq_json_active = 0;

    return NGX_OK;
}
