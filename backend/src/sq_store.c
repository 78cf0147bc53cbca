/*
 * sq_store: command helpers and MULTI/EXEC transactions over hiredis.
 */

#include <stdarg.h>
#include <string.h>

#include "sq_keys.h"
#include "sq_store.h"
#include "sq_workspace.h"


const char *
sq_rc_text(sq_rc_t rc)
{
    switch (rc) {
    case SQ_OK:
        return "ok";
    case SQ_ERR_IO:
        return "redis unavailable";
    case SQ_ERR_REDIS:
        return "redis error or unexpected data";
    case SQ_ERR_NOMEM:
        return "out of memory";
    case SQ_ERR_NOTFOUND:
        return "not found";
    case SQ_ERR_INVALID:
        return "invalid argument";
    case SQ_ERR_CONFLICT:
        return "concurrent update, try again";
    case SQ_ERR_TAKEN:
        return "unique value already taken";
    case SQ_ERR_BADREF:
        return "referenced record not found";
    case SQ_ERR_STATE:
        return "not allowed in the record's current state";
    }

    return "unknown error";
}


sq_rc_t
sq_reply_word_rc(const redisReply *r, const sq_reply_word_t *words,
    size_t n)
{
    size_t             i;
    const redisReply  *st;

    if (r == NULL) {
        return SQ_ERR_IO;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        return SQ_ERR_REDIS;
    }

    st = r->element[0];
    if (st->type != REDIS_REPLY_STRING) {
        return SQ_ERR_REDIS;
    }

    for (i = 0; i < n; i++) {
        if (strcmp(st->str, words[i].word) == 0) {
            return words[i].rc;
        }
    }

    return SQ_ERR_REDIS;
}


sq_rc_t
sq_store_argv_call(redisContext *c, sq_argv_t *a, redisReply **out)
{
    *out = NULL;

    if (a->failed) {
        return SQ_ERR_INVALID;
    }

    *out = redisCommandArgv(c, a->argc, a->argv, a->lens);

    return *out != NULL ? SQ_OK : SQ_ERR_IO;
}


static sq_rc_t
sq_vcmd(redisContext *c, redisReply **out, const char *fmt, va_list ap)
{
    redisReply  *r;

    r = redisvCommand(c, fmt, ap);
    if (r == NULL) {
        return c->err == REDIS_ERR_OOM ? SQ_ERR_NOMEM : SQ_ERR_IO;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        freeReplyObject(r);
        return SQ_ERR_REDIS;
    }

    *out = r;

    return SQ_OK;
}


sq_rc_t
sq_cmd(redisContext *c, redisReply **out, const char *fmt, ...)
{
    sq_rc_t  rc;
    va_list  ap;

    va_start(ap, fmt);
    rc = sq_vcmd(c, out, fmt, ap);
    va_end(ap);

    return rc;
}


sq_rc_t
sq_cmd_int(redisContext *c, long long *v, const char *fmt, ...)
{
    sq_rc_t      rc;
    va_list      ap;
    redisReply  *r;

    va_start(ap, fmt);
    rc = sq_vcmd(c, &r, fmt, ap);
    va_end(ap);

    if (rc != SQ_OK) {
        return rc;
    }

    if (r->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        return SQ_ERR_REDIS;
    }

    *v = r->integer;
    freeReplyObject(r);

    return SQ_OK;
}


sq_rc_t
sq_reply_id(const redisReply *r, uint64_t *id)
{
    if (r->type == REDIS_REPLY_INTEGER) {
        if (r->integer <= 0
            || (unsigned long long) r->integer > SQ_WORKSPACE_ID_MAX)
        {
            return SQ_ERR_REDIS;
        }
        *id = (uint64_t) r->integer;
        return SQ_OK;
    }

    if (r->type != REDIS_REPLY_STRING
        || sq_workspace_parse_id(r->str, r->len, id) != 0)
    {
        return SQ_ERR_REDIS;
    }

    return SQ_OK;
}


sq_rc_t
sq_last_id(redisContext *c, const char *seq, uint64_t *max)
{
    sq_rc_t      rc;
    redisReply  *r;

    *max = 0;

    rc = sq_cmd(c, &r, "GET " SQ_K_SEQ, seq);
    if (rc != SQ_OK) {
        return rc;
    }

    if (r->type != REDIS_REPLY_NIL) {
        rc = sq_reply_id(r, max);
    }

    freeReplyObject(r);

    return rc;
}


sq_rc_t
sq_reply_copy(const redisReply *r, char *dst, size_t cap)
{
    if (r->type == REDIS_REPLY_NIL) {
        dst[0] = '\0';
        return SQ_OK;
    }

    if (r->type != REDIS_REPLY_STRING || r->len >= cap
        || memchr(r->str, '\0', r->len) != NULL)
    {
        return SQ_ERR_REDIS;
    }

    memcpy(dst, r->str, r->len);
    dst[r->len] = '\0';

    return SQ_OK;
}


sq_rc_t
sq_next_id(redisContext *c, const char *seq, uint64_t *id)
{
    sq_rc_t    rc;
    long long  v;

    rc = sq_cmd_int(c, &v, "INCR " SQ_K_SEQ, seq);
    if (rc != SQ_OK) {
        return rc;
    }

    if (v <= 0 || (unsigned long long) v > SQ_WORKSPACE_ID_MAX) {
        return SQ_ERR_REDIS;
    }

    *id = (uint64_t) v;

    return SQ_OK;
}


sq_rc_t
sq_unwatch(redisContext *c, sq_rc_t rc)
{
    redisReply  *r;

    if (sq_cmd(c, &r, "UNWATCH") == SQ_OK) {
        freeReplyObject(r);
    }

    return rc;
}


void
sq_tx_begin(sq_tx_t *tx, redisContext *c)
{
    tx->c = c;
    tx->queued = 0;
    tx->multi = redisAppendCommand(c, "MULTI") == REDIS_OK;
    tx->failed = !tx->multi;
}


void
sq_tx_add(sq_tx_t *tx, const char *fmt, ...)
{
    va_list  ap;

    if (tx->failed) {
        return;
    }

    va_start(ap, fmt);
    if (redisvAppendCommand(tx->c, fmt, ap) != REDIS_OK) {
        tx->failed = 1;
    } else {
        tx->queued++;
    }
    va_end(ap);
}


/* Reads one pipelined reply; SQ_OK when it is not an error reply. */
static sq_rc_t
sq_tx_read(redisContext *c, redisReply **out)
{
    void  *r;

    if (redisGetReply(c, &r) != REDIS_OK || r == NULL) {
        return SQ_ERR_IO;
    }

    *out = r;

    return ((redisReply *) r)->type == REDIS_REPLY_ERROR ? SQ_ERR_REDIS
                                                          : SQ_OK;
}


static sq_rc_t
sq_tx_check_exec(const redisReply *r)
{
    size_t  i;

    if (r->type == REDIS_REPLY_NIL) {
        return SQ_ERR_CONFLICT;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        return SQ_ERR_REDIS;
    }

    for (i = 0; i < r->elements; i++) {
        if (r->element[i]->type == REDIS_REPLY_ERROR) {
            return SQ_ERR_REDIS;
        }
    }

    return SQ_OK;
}


sq_rc_t
sq_tx_exec(sq_tx_t *tx)
{
    int          i, total;
    sq_rc_t      rc, r1;
    redisReply  *r;

    if (!tx->multi) {
        return SQ_ERR_NOMEM;
    }

    /* after a failed append, end the MULTI without running anything */
    if (redisAppendCommand(tx->c, tx->failed ? "DISCARD" : "EXEC")
        != REDIS_OK)
    {
        tx->c->err = REDIS_ERR_OOM;    /* the connection must be dropped */
        return SQ_ERR_NOMEM;
    }

    total = tx->queued + 2;

    rc = tx->failed ? SQ_ERR_NOMEM : SQ_OK;

    for (i = 0; i < total; i++) {
        r = NULL;
        r1 = sq_tx_read(tx->c, &r);

        if (r1 == SQ_ERR_IO) {
            return SQ_ERR_IO;
        }

        if (rc == SQ_OK) {
            if (r1 != SQ_OK) {
                rc = r1;
            } else if (i == total - 1) {
                rc = sq_tx_check_exec(r);
            }
        }

        freeReplyObject(r);
    }

    return rc;
}
