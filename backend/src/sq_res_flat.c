/*
 * sq_res_flat: records from the flat replies of the Redis functions,
 * rendered straight into the response (no JSON tree for a page).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_res_flat.h"
#include "sq_store.h"
#include "sq_text.h"


/* a stored decimal 0..INT64_MAX; nil is absent (-1 returns) */
static int
sq_flat_num(const redisReply *v, int64_t *n)
{
    return v->type == REDIS_REPLY_STRING
           ? sq_text_parse_u63(v->str, v->len, n) : -1;
}


/* a decimal, as jansson prints an integer */
static int
sq_flat_u64(struct evbuffer *b, uint64_t v)
{
    char  buf[SQ_TEXT_U64_MAX];

    return evbuffer_add(b, buf, sq_text_u64(buf, v));
}


size_t
sq_flat_head(char *out, uint64_t id, uint64_t wid)
{
    size_t             n;
    static const char  id_[] = "{\"id\": ", wid_[] = ", \"workspace_id\": ";

    memcpy(out, id_, sizeof(id_) - 1);
    n = sizeof(id_) - 1;
    n += sq_text_u64(out + n, id);
    memcpy(out + n, wid_, sizeof(wid_) - 1);
    n += sizeof(wid_) - 1;
    n += sq_text_u64(out + n, wid);

    return n;
}


/* sq_flat_head into b */
static int
sq_flat_head_add(struct evbuffer *b, uint64_t id, uint64_t wid)
{
    char  head[SQ_FLAT_HEAD_MAX];

    return evbuffer_add(b, head, sq_flat_head(head, id, wid));
}


/*
 * "YYYY-MM-DDTHH:MM:SSZ" of unix seconds t >= 0, as sq_text_iso8601
 * writes it, without strftime (civil from days: H. Hinnant's method).
 */
static void
sq_flat_time(int64_t t, char out[21])
{
    int64_t   days, secs, z, era, doe, yoe, doy, mp, y, m, d;

    days = t / 86400;
    secs = t % 86400;

    z = days + 719468;
    era = z / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;

    out[0] = (char) ('0' + y / 1000 % 10);
    out[1] = (char) ('0' + y / 100 % 10);
    out[2] = (char) ('0' + y / 10 % 10);
    out[3] = (char) ('0' + y % 10);
    out[4] = '-';
    out[5] = (char) ('0' + m / 10);
    out[6] = (char) ('0' + m % 10);
    out[7] = '-';
    out[8] = (char) ('0' + d / 10);
    out[9] = (char) ('0' + d % 10);
    out[10] = 'T';
    out[11] = (char) ('0' + secs / 36000);
    out[12] = (char) ('0' + secs / 3600 % 10);
    out[13] = ':';
    out[14] = (char) ('0' + secs % 3600 / 600);
    out[15] = (char) ('0' + secs % 3600 / 60 % 10);
    out[16] = ':';
    out[17] = (char) ('0' + secs % 60 / 10);
    out[18] = (char) ('0' + secs % 10);
    out[19] = 'Z';
    out[20] = '\0';
}


/* length of the valid UTF-8 sequence at s, 0 when invalid */
static size_t
sq_flat_utf8(const unsigned char *s, size_t left)
{
    size_t    n, i;
    uint32_t  cp, min;

    if (s[0] < 0x80) {
        return 1;
    }

    if ((s[0] & 0xE0) == 0xC0) {
        n = 2; cp = s[0] & 0x1F; min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3; cp = s[0] & 0x0F; min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4; cp = s[0] & 0x07; min = 0x10000;
    } else {
        return 0;
    }

    if (n > left) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }

    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }

    return n;
}


int
sq_flat_string(struct evbuffer *b, const char *s, size_t len)
{
    char                  esc[8];
    size_t                i, run, n;
    const unsigned char  *u;

    u = (const unsigned char *) s;

    if (evbuffer_add(b, "\"", 1) != 0) {
        return -1;
    }

    run = 0;
    for (i = 0; i < len; i += n) {
        if (u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' && u[i] != '\\') {
            n = 1;
            continue;
        }

        n = sq_flat_utf8(u + i, len - i);
        if (n == 0) {
            return -1;
        }

        if (n > 1) {
            continue;
        }

        switch (u[i]) {
        case '"':  memcpy(esc, "\\\"", 3); break;
        case '\\': memcpy(esc, "\\\\", 3); break;
        case '\b': memcpy(esc, "\\b", 3); break;
        case '\f': memcpy(esc, "\\f", 3); break;
        case '\n': memcpy(esc, "\\n", 3); break;
        case '\r': memcpy(esc, "\\r", 3); break;
        case '\t': memcpy(esc, "\\t", 3); break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04X", (unsigned) u[i]);
        }

        if (evbuffer_add(b, s + run, i - run) != 0
            || evbuffer_add(b, esc, strlen(esc)) != 0)
        {
            return -1;
        }
        run = i + 1;
    }

    if (evbuffer_add(b, s + run, len - run) != 0
        || evbuffer_add(b, "\"", 1) != 0)
    {
        return -1;
    }

    return 0;
}


/* the meta values, checked; *wid in: expected (0: any), out: stored */
static int
sq_flat_meta(redisReply **v, uint64_t id, uint64_t *wid, int test_mode,
    int64_t *created, int64_t *updated)
{
    int64_t  n;

    if (sq_flat_num(v[0], &n) != 0 || (uint64_t) n != id) {
        return -1;
    }

    if (sq_flat_num(v[1], &n) != 0 || n == 0
        || (*wid != 0 && (uint64_t) n != *wid))
    {
        return -1;
    }
    *wid = (uint64_t) n;

    if (v[2]->type == REDIS_REPLY_NIL) {
        n = 0;      /* absent: live */
    } else if (v[2]->type == REDIS_REPLY_STRING && v[2]->len == 4
               && (memcmp(v[2]->str, "live", 4) == 0
                   || memcmp(v[2]->str, "test", 4) == 0))
    {
        n = v[2]->str[0] == 't';
    } else {
        return -1;
    }

    if (test_mode >= 0 && n != !!test_mode) {
        return -1;
    }

    *created = 0;
    *updated = 0;

    if ((v[3]->type != REDIS_REPLY_NIL && sq_flat_num(v[3], created) != 0)
        || (v[4]->type != REDIS_REPLY_NIL
            && sq_flat_num(v[4], updated) != 0))
    {
        return -1;
    }

    return 0;
}


static int
sq_flat_field(struct evbuffer *b, const sq_field_t *f, const redisReply *v)
{
    int64_t  n;

    if (evbuffer_add(b, ", \"", 3) != 0
        || evbuffer_add(b, f->name, strlen(f->name)) != 0
        || evbuffer_add(b, "\": ", 3) != 0)
    {
        return -1;
    }

    if (v->type == REDIS_REPLY_NIL) {
        return (f->flags & SQ_FF_NULLABLE)
               && evbuffer_add(b, "null", 4) == 0 ? 0 : -1;
    }

    if (v->type != REDIS_REPLY_STRING) {
        return -1;
    }

    if (f->type == SQ_FT_INT) {
        return sq_flat_num(v, &n) == 0 ? sq_flat_u64(b, (uint64_t) n) : -1;
    }

    return sq_flat_string(b, v->str, v->len);
}


/* ", \"name\": " then a field's value from a parsed record */
static int
sq_flat_json_field(struct evbuffer *b, const char *name, const json_t *v)
{
    char  num[24];

    if (evbuffer_add(b, ", \"", 3) != 0
        || evbuffer_add(b, name, strlen(name)) != 0
        || evbuffer_add(b, "\": ", 3) != 0)
    {
        return -1;
    }

    if (v == NULL || json_is_null(v)) {
        return evbuffer_add(b, "null", 4);
    }

    if (json_is_string(v)) {
        return sq_flat_string(b, json_string_value(v), json_string_length(v));
    }

    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        return evbuffer_add(b, num, strlen(num));
    }

    return -1;      /* the schemas hold strings, integers and nulls only */
}


char *
sq_flat_record_json(const sq_resource_t *res, const sq_record_t *rec)
{
    int               bad;
    char             *out, created[32], updated[32];
    size_t            i, len;
    struct evbuffer  *b;

    if (sq_text_iso8601(rec->created_at, created, sizeof(created)) != 0
        || sq_text_iso8601(rec->updated_at, updated, sizeof(updated)) != 0)
    {
        return NULL;
    }

    b = evbuffer_new();
    if (b == NULL) {
        return NULL;
    }

    bad = sq_flat_head_add(b, rec->id, rec->workspace_id) != 0;

    for (i = 0; !bad && i < res->nfields; i++) {
        bad = sq_flat_json_field(b, res->fields[i].name,
                                 json_object_get(rec->fields,
                                                 res->fields[i].name))
              != 0;
    }

    bad = bad
          || evbuffer_add(b, ", \"created_at\": \"", 17) != 0
          || evbuffer_add(b, created, strlen(created)) != 0
          || evbuffer_add(b, "\", \"updated_at\": \"", 18) != 0
          || evbuffer_add(b, updated, strlen(updated)) != 0
          || evbuffer_add(b, "\"}", 2) != 0;

    out = NULL;
    len = evbuffer_get_length(b);

    if (!bad) {
        out = malloc(len + 1);
    }

    if (out != NULL) {
        if (evbuffer_remove(b, out, len) == (int) len) {
            out[len] = '\0';
        } else {
            free(out);
            out = NULL;
        }
    }

    evbuffer_free(b);

    return out;
}


int
sq_flat_render(struct evbuffer *b, const sq_resource_t *res,
    redisReply **v, uint64_t id, uint64_t wid, int test_mode)
{
    char      created[32], updated[32];
    size_t    i;
    int64_t   c, u;

    if (sq_flat_meta(v, id, &wid, test_mode, &c, &u) != 0) {
        return -1;
    }

    /* sq_text_iso8601's range: years 0000-9999 */
    if (c < 253402300800 && u < 253402300800) {
        sq_flat_time(c, created);
        sq_flat_time(u, updated);
    } else if (sq_text_iso8601(c, created, sizeof(created)) != 0
               || sq_text_iso8601(u, updated, sizeof(updated)) != 0)
    {
        return -1;
    }

    if (sq_flat_head_add(b, id, wid) != 0) {
        return -1;
    }

    for (i = 0; i < res->nfields; i++) {
        if (sq_flat_field(b, &res->fields[i], v[SQ_FLAT_META + i]) != 0) {
            return -1;
        }
    }

    return evbuffer_add(b, ", \"created_at\": \"", 17) != 0
           || evbuffer_add(b, created, strlen(created)) != 0
           || evbuffer_add(b, "\", \"updated_at\": \"", 18) != 0
           || evbuffer_add(b, updated, strlen(updated)) != 0
           || evbuffer_add(b, "\"}", 2) != 0 ? -1 : 0;
}


static json_t *
sq_flat_value(const sq_field_t *f, const redisReply *v)
{
    int64_t  n;

    if (v->type == REDIS_REPLY_NIL) {
        return (f->flags & SQ_FF_NULLABLE) ? json_null() : NULL;
    }

    if (v->type != REDIS_REPLY_STRING) {
        return NULL;
    }

    if (f->type == SQ_FT_INT) {
        return sq_flat_num(v, &n) == 0 ? json_integer((json_int_t) n)
                                       : NULL;
    }

    return json_stringn(v->str, v->len);
}


int
sq_flat_record(const sq_resource_t *res, redisReply **v, uint64_t id,
    sq_record_t *rec)
{
    size_t    i;
    int64_t   mode;

    memset(rec, 0, sizeof(*rec));

    mode = v[2]->type == REDIS_REPLY_STRING && v[2]->len == 4
           && memcmp(v[2]->str, "test", 4) == 0;

    if (sq_flat_meta(v, id, &rec->workspace_id, (int) mode,
                     &rec->created_at, &rec->updated_at) != 0)
    {
        return -1;
    }

    rec->id = id;
    rec->test_mode = (int) mode;
    rec->fields = json_object();
    if (rec->fields == NULL) {
        return -1;
    }

    for (i = 0; i < res->nfields; i++) {
        if (json_object_set_new(rec->fields, res->fields[i].name,
                                sq_flat_value(&res->fields[i],
                                              v[SQ_FLAT_META + i]))
            != 0)
        {
            sq_record_clear(rec);
            return -1;
        }
    }

    return 0;
}
