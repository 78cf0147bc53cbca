/*
 * sq_store_resource: records of the schema-driven resources.  Writes go
 * through the sq_res_* functions of redis/smartlyq.lua (one atomic call
 * each, acknowledged only after Redis applied it); reads are HGETALL and
 * per-workspace ZRANGEBYSCORE merged by id.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_argv.h"
#include "sq_json.h"
#include "sq_keys.h"
#include "sq_store.h"
#include "sq_workspace.h"

/* the value of the unique field, "" when the resource has none */
static const char *
sq_unique_value(const sq_resource_t *res, const json_t *fields)
{
    json_t  *v;

    if (res->unique == NULL) {
        return "";
    }

    v = json_object_get(fields, res->unique);

    return json_is_string(v) ? json_string_value(v) : "";
}


/* what goes between a workspace and an index name (SQ_K_WS_INDEX) */
static const char *
sq_mode_infix(int test_mode)
{
    return test_mode ? "test:" : "";
}


static void
sq_argv_unique_key(sq_argv_t *a, const sq_resource_t *res, uint64_t wid,
    int test_mode)
{
    if (res->unique == NULL) {
        sq_argv_str(a, "");
    } else {
        sq_argv_fmt(a, SQ_K_WS_INDEX, (unsigned long long) wid,
                    sq_mode_infix(test_mode), res->unique_key);
    }
}


/*
 * The referenced record must have the mode of rec.  Its mode never
 * changes and its id is never reused, so the atomic workspace check of
 * the Redis function completes this one.
 */
static sq_rc_t
sq_ref_mode(redisContext *c, const sq_resource_t *res, const json_t *f,
    int test_mode)
{
    json_t       *v;
    sq_rc_t       rc;
    redisReply   *r;

    v = res->ref != NULL ? json_object_get(f, res->ref) : NULL;
    if (!json_is_integer(v)) {
        return SQ_OK;
    }

    rc = sq_cmd(c, &r, "HGET " SQ_K_RECORD " mode", res->ref_name,
                (unsigned long long) json_integer_value(v));
    if (rc != SQ_OK) {
        return rc;
    }

    if (r->type == REDIS_REPLY_STRING) {
        rc = (r->len == 4 && memcmp(r->str, "test", 4) == 0) == !!test_mode
             ? SQ_OK : SQ_ERR_BADREF;
    } else if (r->type == REDIS_REPLY_NIL) {
        rc = test_mode ? SQ_ERR_BADREF : SQ_OK;   /* absent: live */
    } else {
        rc = SQ_ERR_REDIS;
    }

    freeReplyObject(r);

    return rc;
}


/* Runs the FCALL; maps its status reply to a return code. */
static sq_rc_t
sq_argv_call(redisContext *c, sq_argv_t *a)
{
    sq_rc_t      rc;
    redisReply  *r;

    if (a->failed) {
        return SQ_ERR_INVALID;
    }

    r = redisCommandArgv(c, a->argc, a->argv, a->lens);
    if (r == NULL) {
        return c->err == REDIS_ERR_OOM ? SQ_ERR_NOMEM : SQ_ERR_IO;
    }

    rc = SQ_ERR_REDIS;

    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
        if (strcmp(r->str, "OK") == 0) {
            rc = SQ_OK;
        } else if (strcmp(r->str, "NOTFOUND") == 0) {
            rc = SQ_ERR_NOTFOUND;
        } else if (strcmp(r->str, "TAKEN") == 0) {
            rc = SQ_ERR_TAKEN;
        } else if (strcmp(r->str, "BADREF") == 0) {
            rc = SQ_ERR_BADREF;
        }
    }

    freeReplyObject(r);

    return rc;
}


sq_rc_t
sq_store_res_create(redisContext *c, const sq_resource_t *res,
    sq_record_t *rec)
{
    sq_rc_t    rc;
    sq_argv_t  a;

    rc = sq_ref_mode(c, res, rec->fields, rec->test_mode);
    if (rc == SQ_OK) {
        rc = sq_next_id(c, res->name, &rec->id);
    }
    if (rc != SQ_OK) {
        return rc;
    }

    memset(&a, 0, sizeof(a));
    sq_argv_str(&a, "FCALL");
    sq_argv_str(&a, "sq_res_create");
    sq_argv_str(&a, "4");
    sq_argv_fmt(&a, SQ_K_RECORD, res->name, (unsigned long long) rec->id);
    sq_argv_fmt(&a, SQ_K_WS_INDEX,
                (unsigned long long) rec->workspace_id,
                sq_mode_infix(rec->test_mode), res->plural);
    sq_argv_unique_key(&a, res, rec->workspace_id, rec->test_mode);
    sq_argv_ref_key(&a, res, rec->fields, 1);
    sq_argv_u64(&a, rec->id);
    sq_argv_u64(&a, rec->workspace_id);
    sq_argv_str(&a, sq_unique_value(res, rec->fields));
    sq_argv_str(&a, "id");
    sq_argv_u64(&a, rec->id);
    sq_argv_str(&a, "workspace_id");
    sq_argv_u64(&a, rec->workspace_id);
    sq_argv_str(&a, "mode");
    sq_argv_str(&a, rec->test_mode ? "test" : "live");
    sq_argv_str(&a, "created_at");
    sq_argv_fmt(&a, "%lld", (long long) rec->created_at);
    sq_argv_str(&a, "updated_at");
    sq_argv_fmt(&a, "%lld", (long long) rec->updated_at);
    sq_argv_fields(&a, res, rec->fields);

    return sq_argv_call(c, &a);
}


sq_rc_t
sq_store_res_update(redisContext *c, const sq_resource_t *res,
    const sq_record_t *rec, int check_ref)
{
    sq_rc_t    rc;
    sq_argv_t  a;

    if (check_ref) {
        rc = sq_ref_mode(c, res, rec->fields, rec->test_mode);
        if (rc != SQ_OK) {
            return rc;
        }
    }

    memset(&a, 0, sizeof(a));
    sq_argv_str(&a, "FCALL");
    sq_argv_str(&a, "sq_res_update");
    sq_argv_str(&a, "3");
    sq_argv_fmt(&a, SQ_K_RECORD, res->name, (unsigned long long) rec->id);
    sq_argv_unique_key(&a, res, rec->workspace_id, rec->test_mode);
    sq_argv_ref_key(&a, res, rec->fields, check_ref);
    sq_argv_u64(&a, rec->id);
    sq_argv_u64(&a, rec->workspace_id);
    sq_argv_str(&a, res->unique != NULL ? res->unique : "");
    sq_argv_str(&a, sq_unique_value(res, rec->fields));
    sq_argv_nulls(&a, res, rec->fields);
    sq_argv_str(&a, "updated_at");
    sq_argv_fmt(&a, "%lld", (long long) rec->updated_at);
    sq_argv_fields(&a, res, rec->fields);

    return sq_argv_call(c, &a);
}


sq_rc_t
sq_store_res_delete(redisContext *c, const sq_resource_t *res, uint64_t id,
    uint64_t wid, int test_mode)
{
    sq_argv_t  a;

    memset(&a, 0, sizeof(a));
    sq_argv_str(&a, "FCALL");
    sq_argv_str(&a, "sq_res_delete");
    sq_argv_str(&a, "3");
    sq_argv_fmt(&a, SQ_K_RECORD, res->name, (unsigned long long) id);
    sq_argv_fmt(&a, SQ_K_WS_INDEX, (unsigned long long) wid,
                sq_mode_infix(test_mode), res->plural);
    sq_argv_unique_key(&a, res, wid, test_mode);
    sq_argv_u64(&a, id);
    sq_argv_u64(&a, wid);
    sq_argv_str(&a, res->unique != NULL ? res->unique : "");

    return sq_argv_call(c, &a);
}


void
sq_record_clear(sq_record_t *rec)
{
    json_decref(rec->fields);
    memset(rec, 0, sizeof(*rec));
}


void
sq_records_free(sq_record_t *recs, size_t n)
{
    size_t  i;

    if (recs == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        json_decref(recs[i].fields);
    }

    free(recs);
}


/* A stored decimal 0..INT64_MAX. */
static int
sq_stored_num(const redisReply *v, int64_t *n)
{
    return v->type == REDIS_REPLY_STRING
           ? sq_text_parse_u63(v->str, v->len, n) : -1;
}


/* A stored field value as JSON, by the field's type; NULL if corrupt. */
static json_t *
sq_stored_value(const sq_field_t *f, const redisReply *v)
{
    int64_t  n;

    if (v->type != REDIS_REPLY_STRING) {
        return NULL;
    }

    if (f->type == SQ_FT_INT) {
        return sq_stored_num(v, &n) == 0 ? json_integer((json_int_t) n)
                                         : NULL;
    }

    return json_stringn(v->str, v->len);
}


static int
sq_stored_meta(const char *name, const redisReply *v, sq_record_t *rec)
{
    int64_t  n;

    if (strcmp(name, "id") == 0) {
        return sq_reply_id(v, &rec->id) == SQ_OK ? 0 : -1;
    }

    if (strcmp(name, "workspace_id") == 0) {
        return sq_reply_id(v, &rec->workspace_id) == SQ_OK ? 0 : -1;
    }

    if (strcmp(name, "mode") == 0) {
        if (v->type != REDIS_REPLY_STRING || v->len != 4
            || (memcmp(v->str, "live", 4) != 0
                && memcmp(v->str, "test", 4) != 0))
        {
            return -1;
        }
        rec->test_mode = v->str[0] == 't';
        return 0;
    }

    if (strcmp(name, "created_at") == 0 || strcmp(name, "updated_at") == 0) {
        if (sq_stored_num(v, &n) != 0) {
            return -1;
        }
        *(name[0] == 'c' ? &rec->created_at : &rec->updated_at) = n;
    }

    return 0;   /* not a field of the schema: ignored */
}


static sq_rc_t
sq_stored_pair(const sq_resource_t *res, const redisReply *k,
    const redisReply *v, sq_record_t *rec)
{
    char               name[64];
    const sq_field_t  *f;

    if (k->type != REDIS_REPLY_STRING || k->len >= sizeof(name)) {
        return SQ_OK;   /* not ours */
    }

    memcpy(name, k->str, k->len);
    name[k->len] = '\0';

    f = sq_resource_field(res, name);
    if (f == NULL) {
        return sq_stored_meta(name, v, rec) == 0 ? SQ_OK : SQ_ERR_REDIS;
    }

    if (json_object_set_new(rec->fields, f->name, sq_stored_value(f, v))
        != 0)
    {
        return SQ_ERR_REDIS;
    }

    return SQ_OK;
}


/* HGETALL reply into rec; the record must be id and complete. */
static sq_rc_t
sq_stored_record(const sq_resource_t *res, const redisReply *r, uint64_t id,
    sq_record_t *rec)
{
    size_t   i;
    sq_rc_t  rc;

    memset(rec, 0, sizeof(*rec));

    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
        return SQ_ERR_REDIS;
    }

    if (r->elements == 0) {
        return SQ_ERR_NOTFOUND;
    }

    rec->fields = json_object();
    rc = rec->fields != NULL ? SQ_OK : SQ_ERR_NOMEM;

    for (i = 0; rc == SQ_OK && i < r->elements; i += 2) {
        rc = sq_stored_pair(res, r->element[i], r->element[i + 1], rec);
    }

    for (i = 0; rc == SQ_OK && i < res->nfields; i++) {
        if (json_object_get(rec->fields, res->fields[i].name) != NULL) {
            continue;
        }
        rc = (res->fields[i].flags & SQ_FF_NULLABLE)
             && json_object_set_new(rec->fields, res->fields[i].name,
                                    json_null()) == 0
             ? SQ_OK : SQ_ERR_REDIS;
    }

    if (rc == SQ_OK && (rec->id != id || rec->workspace_id == 0)) {
        rc = SQ_ERR_REDIS;
    }

    if (rc != SQ_OK) {
        sq_record_clear(rec);
    }

    return rc;
}


sq_rc_t
sq_store_res_get(redisContext *c, const sq_resource_t *res, uint64_t id,
    sq_record_t *rec)
{
    sq_rc_t      rc;
    redisReply  *r;

    memset(rec, 0, sizeof(*rec));

    rc = sq_cmd(c, &r, "HGETALL " SQ_K_RECORD, res->name,
                (unsigned long long) id);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = sq_stored_record(res, r, id, rec);
    freeReplyObject(r);

    return rc;
}


/* ids per workspace: ids[w * per .. w * per + counts[w]) */
typedef struct {
    int         test_mode;
    size_t      nws;
    size_t      per;
    uint64_t   *ids;
    size_t     *counts;
    size_t     *heads;
} sq_idsets_t;


static sq_rc_t
sq_idsets_read(redisContext *c, sq_idsets_t *s, size_t w)
{
    size_t       i;
    sq_rc_t      rc;
    redisReply  *r;

    if (redisGetReply(c, (void **) &r) != REDIS_OK || r == NULL) {
        return SQ_ERR_IO;
    }

    rc = r->type == REDIS_REPLY_ARRAY && r->elements <= s->per
         ? SQ_OK : SQ_ERR_REDIS;

    for (i = 0; rc == SQ_OK && i < r->elements; i++) {
        rc = sq_reply_id(r->element[i], &s->ids[w * s->per + i]);
    }

    s->counts[w] = rc == SQ_OK ? r->elements : 0;
    freeReplyObject(r);

    return rc;
}


/* One pipelined ZRANGEBYSCORE per workspace. */
static sq_rc_t
sq_idsets_fetch(redisContext *c, const sq_resource_t *res,
    const uint64_t *wids, uint64_t after, sq_idsets_t *s)
{
    size_t   w;
    sq_rc_t  rc, r1;

    for (w = 0; w < s->nws; w++) {
        if (redisAppendCommand(c, "ZRANGEBYSCORE " SQ_K_WS_INDEX " (%llu "
                               "+inf LIMIT 0 %llu",
                               (unsigned long long) wids[w],
                               sq_mode_infix(s->test_mode), res->plural,
                               (unsigned long long) after,
                               (unsigned long long) s->per) != REDIS_OK)
        {
            c->err = REDIS_ERR_OOM;     /* replies are out of step now */
            return SQ_ERR_NOMEM;
        }
    }

    rc = SQ_OK;

    for (w = 0; w < s->nws; w++) {
        r1 = sq_idsets_read(c, s, w);
        if (r1 == SQ_ERR_IO) {
            return r1;
        }
        if (rc == SQ_OK) {
            rc = r1;
        }
    }

    return rc;
}


/* The smallest head of the k sorted sets (k-way merge step). */
static int
sq_idsets_next(sq_idsets_t *s, uint64_t *id, uint64_t *wsel)
{
    size_t    w, best;
    uint64_t  v;

    best = s->nws;

    for (w = 0; w < s->nws; w++) {
        if (s->heads[w] == s->counts[w]) {
            continue;
        }
        v = s->ids[w * s->per + s->heads[w]];
        if (best == s->nws || v < *id) {
            best = w;
            *id = v;
        }
    }

    if (best == s->nws) {
        return 0;
    }

    s->heads[best]++;
    *wsel = best;

    return 1;
}


static void
sq_idsets_free(sq_idsets_t *s)
{
    free(s->ids);
    free(s->counts);
    free(s->heads);
}


static sq_rc_t
sq_idsets_init(sq_idsets_t *s, size_t nws, size_t per)
{
    s->nws = nws;
    s->per = per;
    s->ids = calloc(nws * per + 1, sizeof(uint64_t));
    s->counts = calloc(nws + 1, sizeof(size_t));
    s->heads = calloc(nws + 1, sizeof(size_t));

    if (s->ids == NULL || s->counts == NULL || s->heads == NULL) {
        sq_idsets_free(s);
        return SQ_ERR_NOMEM;
    }

    return SQ_OK;
}


/* Pipelined HGETALL of the page; records deleted meanwhile are skipped. */
static sq_rc_t
sq_store_res_load(redisContext *c, const sq_resource_t *res, int test_mode,
    const uint64_t *ids, const uint64_t *wsof, size_t count,
    sq_record_t *out, size_t *n)
{
    size_t       i;
    sq_rc_t      rc, r1;
    redisReply  *r;

    for (i = 0; i < count; i++) {
        if (redisAppendCommand(c, "HGETALL " SQ_K_RECORD, res->name,
                               (unsigned long long) ids[i]) != REDIS_OK)
        {
            c->err = REDIS_ERR_OOM;
            return SQ_ERR_NOMEM;
        }
    }

    rc = SQ_OK;

    for (i = 0; i < count; i++) {
        if (redisGetReply(c, (void **) &r) != REDIS_OK || r == NULL) {
            return SQ_ERR_IO;
        }

        r1 = sq_stored_record(res, r, ids[i], &out[*n]);
        freeReplyObject(r);

        if (r1 == SQ_OK && (out[*n].workspace_id != wsof[i]
                            || out[*n].test_mode != test_mode))
        {
            sq_record_clear(&out[*n]);
            r1 = SQ_ERR_REDIS;
        }

        if (r1 == SQ_OK) {
            (*n)++;
        } else if (r1 != SQ_ERR_NOTFOUND && rc == SQ_OK) {
            rc = r1;
        }
    }

    return rc;
}


/* Merges up to limit + 1 ids; the extra one only says more follow. */
static size_t
sq_store_res_merge(sq_idsets_t *s, const uint64_t *wids, size_t limit,
    uint64_t *ids, uint64_t *wsof)
{
    size_t    k;
    uint64_t  w;

    for (k = 0; k <= limit && sq_idsets_next(s, &ids[k], &w); k++) {
        wsof[k] = wids[w];
    }

    return k;
}


sq_rc_t
sq_store_res_list(redisContext *c, const sq_resource_t *res, int test_mode,
    const uint64_t *wids, size_t nws, uint64_t after, size_t limit,
    sq_record_t **out, size_t *n, uint64_t *next)
{
    size_t        k;
    sq_rc_t       rc;
    uint64_t     *ids;
    sq_idsets_t   s;
    sq_record_t  *recs;

    *out = NULL;
    *n = 0;
    *next = 0;

    if (limit == 0 || limit > SQ_PAGE_MAX || nws > SQ_WORKSPACES_MAX) {
        return SQ_ERR_INVALID;
    }

    if (sq_idsets_init(&s, nws, limit + 1) != SQ_OK) {
        return SQ_ERR_NOMEM;
    }
    s.test_mode = test_mode != 0;

    ids = calloc(2 * (limit + 1), sizeof(uint64_t));
    recs = calloc(limit + 1, sizeof(sq_record_t));
    rc = ids != NULL && recs != NULL ? SQ_OK : SQ_ERR_NOMEM;

    if (rc == SQ_OK) {
        rc = sq_idsets_fetch(c, res, wids, after, &s);
    }

    if (rc == SQ_OK) {
        k = sq_store_res_merge(&s, wids, limit, ids, ids + limit + 1);
        if (k > limit) {
            *next = ids[limit - 1];
            k = limit;
        }
        rc = sq_store_res_load(c, res, s.test_mode, ids, ids + limit + 1, k,
                               recs, n);
    }

    free(ids);
    sq_idsets_free(&s);

    if (rc != SQ_OK) {
        sq_records_free(recs, *n);
        *n = 0;
        *next = 0;
        return rc;
    }

    *out = recs;

    return SQ_OK;
}
