/*
 * sq_resource: schema-driven validation and rendering of records.
 * Every message names the field it is about.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sq_resource.h"
#include "sq_text.h"
#include "sq_workspace.h"

#define SQ_URL_MAX  2048


/* the fields every record has and no client may set */
static const char  *const sq_meta_fields[] = {
    "id", "created_at", "updated_at"
};


const sq_field_t *
sq_resource_field(const sq_resource_t *res, const char *name)
{
    size_t  i;

    for (i = 0; i < res->nfields; i++) {
        if (strcmp(res->fields[i].name, name) == 0) {
            return &res->fields[i];
        }
    }

    return NULL;
}


static int
sq_resource_is_meta(const char *name)
{
    size_t  i;

    for (i = 0; i < sizeof(sq_meta_fields) / sizeof(sq_meta_fields[0]);
         i++)
    {
        if (strcmp(sq_meta_fields[i], name) == 0) {
            return 1;
        }
    }

    return 0;
}


int
sq_format_http_url(const char *s, size_t len)
{
    size_t  i, skip;

    if (len > 8 && strncasecmp(s, "https://", 8) == 0) {
        skip = 8;
    } else if (len > 7 && strncasecmp(s, "http://", 7) == 0) {
        skip = 7;
    } else {
        return -1;
    }

    if (len > SQ_URL_MAX || s[skip] == '/' || s[skip] == '?'
        || s[skip] == '#')
    {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x21 || (unsigned char) s[i] > 0x7e) {
            return -1;
        }
    }

    return 0;
}


/* A key quoted back to the client only when it is short and plain. */
void
sq_json_unknown_field(const char *key, char *err, size_t errlen)
{
    size_t  i, len;

    len = strlen(key);

    for (i = 0; i < len; i++) {
        if (key[i] < 0x21 || key[i] > 0x7e || key[i] == '"'
            || key[i] == '\\')
        {
            break;
        }
    }

    if (len == 0 || len > 64 || i < len) {
        snprintf(err, errlen, "The request body has an unknown field.");
    } else {
        snprintf(err, errlen, "%s is not a known field.", key);
    }
}


static int
sq_resource_enum_ok(const sq_field_t *f, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; f->values[i] != NULL; i++) {
        if (strlen(f->values[i]) == len
            && memcmp(f->values[i], s, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static int
sq_resource_string_ok(const sq_field_t *f, const char *s, size_t len)
{
    int64_t  t;

    switch (f->type) {
    case SQ_FT_STRING:
        return sq_text_check_ex(s, len, (size_t) f->min, (size_t) f->max,
                                (f->flags & SQ_FF_MULTILINE) != 0) == 0
               && (f->format == NULL || f->format(s, len) == 0);
    case SQ_FT_ENUM:
        return sq_resource_enum_ok(f, s, len);
    case SQ_FT_TIME:
        return sq_text_parse_utc(s, len, &t) == 0;
    default:
        return 0;
    }
}


/* 1 when v is an acceptable value of f */
static int
sq_resource_value_ok(const sq_field_t *f, const json_t *v)
{
    json_int_t  n;

    if (json_is_null(v)) {
        return (f->flags & SQ_FF_NULLABLE) != 0;
    }

    if (f->type == SQ_FT_INT) {
        if (!json_is_integer(v)) {
            return 0;
        }
        n = json_integer_value(v);
        return n >= f->min && n <= f->max;
    }

    return json_is_string(v)
           && sq_resource_string_ok(f, json_string_value(v),
                                    json_string_length(v));
}


/* An integer or a digit string naming a workspace, 0 when neither. */
static uint64_t
sq_resource_ws_value(const json_t *v)
{
    uint64_t    id;
    json_int_t  n;

    if (json_is_integer(v)) {
        n = json_integer_value(v);
        return n > 0 && (unsigned long long) n <= SQ_WORKSPACE_ID_MAX
               ? (uint64_t) n : 0;
    }

    if (json_is_string(v)
        && sq_workspace_parse_id(json_string_value(v),
                                 json_string_length(v), &id) == 0)
    {
        return id;
    }

    return 0;
}


static int
sq_resource_workspace(const json_t *v, sq_parse_mode_t mode, uint64_t ws,
    char *err, size_t errlen)
{
    uint64_t  id;

    id = sq_resource_ws_value(v);

    if (id == 0) {
        snprintf(err, errlen, "workspace_id must be a positive integer.");
        return -1;
    }

    if (id == ws) {
        return 0;
    }

    snprintf(err, errlen, "%s", mode == SQ_PARSE_PATCH
             ? "workspace_id: records cannot move between workspaces."
             : "workspace_id must match the workspace of the request.");

    return -1;
}


static int
sq_resource_member(const sq_resource_t *res, const char *key, json_t *v,
    sq_parse_mode_t mode, uint64_t ws, json_t *out, char *err,
    size_t errlen)
{
    const sq_field_t  *f;

    if (strcmp(key, "workspace_id") == 0) {
        return sq_resource_workspace(v, mode, ws, err, errlen);
    }

    f = sq_resource_field(res, key);

    if (f == NULL && !sq_resource_is_meta(key)) {
        sq_json_unknown_field(key, err, errlen);
        return -1;
    }

    if (f == NULL || (f->flags & SQ_FF_READONLY)) {
        snprintf(err, errlen, "%s is read-only.", key);
        return -1;
    }

    if (!sq_resource_value_ok(f, v)) {
        snprintf(err, errlen, "%s must be %s.", f->name, f->rule);
        return -1;
    }

    if (json_object_set(out, f->name, v) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    return 0;
}


/* The default of an absent field on create; NULL when out of memory. */
static json_t *
sq_resource_default(const sq_field_t *f)
{
    int64_t  n;
    char     buf[SQ_CURSOR_MAX + 1];

    if (f->generate != NULL) {
        return f->generate(buf, sizeof(buf)) == 0 ? json_string(buf) : NULL;
    }

    if (f->def == NULL) {
        return json_null();
    }

    if (f->type == SQ_FT_INT) {
        return sq_text_parse_u63(f->def, strlen(f->def), &n) == 0
               ? json_integer((json_int_t) n) : NULL;
    }

    return json_string(f->def);
}


int
sq_resource_complete(const sq_resource_t *res, json_t *out, char *err,
    size_t errlen)
{
    size_t             i;
    const sq_field_t  *f;

    for (i = 0; i < res->nfields; i++) {
        f = &res->fields[i];

        if (json_object_get(out, f->name) != NULL) {
            continue;
        }

        if (f->flags & SQ_FF_REQUIRED) {
            snprintf(err, errlen, "%s is required.", f->name);
            return -1;
        }

        if (json_object_set_new(out, f->name, sq_resource_default(f)) != 0)
        {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }

    return sq_resource_check(res, out, err, errlen);
}


json_t *
sq_json_load_object(const char *body, size_t len, char *err, size_t errlen)
{
    json_t        *obj;
    json_error_t   jerr;

    obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (obj == NULL) {
        snprintf(err, errlen, "%s",
                 json_error_code(&jerr) == json_error_duplicate_key
                 ? "The request body has a duplicate field."
                 : "The request body must be a valid JSON object.");
        return NULL;
    }

    if (!json_is_object(obj)) {
        json_decref(obj);
        snprintf(err, errlen, "The request body must be a JSON object.");
        return NULL;
    }

    return obj;
}


/*
 * The flat body: a JSON object whose members are ASCII strings without
 * escapes, integers, null, true or false, as nearly every create and
 * update sends, read here without jansson's parser (callgrind: 34k of
 * the backend's 171k instructions per article create were json_loadb).
 * It accepts only bodies jansson reads to the same object: anything it
 * does not take whole (an escape, a byte outside printable ASCII in a
 * string, a number with a fraction or exponent or more than 18 digits, a
 * nested value, a duplicate or over-long key, more than SQ_FLAT_MEMBERS
 * members, any syntax error) goes to jansson, which accepts or refuses
 * it as before, with the same message.  The fuzz target fuzz_backend_body
 * and backend/tests/test_resource.c compare the two parses.
 */

#define SQ_FLAT_MEMBERS     16
#define SQ_FLAT_KEY_MAX     64


typedef struct {
    const char  *key;
    size_t       key_len;
    json_t      *v;
} sq_flat_member_t;


static const char *
sq_flat_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    {
        p++;
    }

    return p;
}


/* p at the opening quote: the string's bytes, and what follows it */
static const char *
sq_flat_str(const char *p, const char *end, const char **s, size_t *len)
{
    const char     *q;
    unsigned char   c;

    for (q = ++p; q < end; q++) {
        c = (unsigned char) *q;

        if (c == '"') {
            *s = p;
            *len = (size_t) (q - p);
            return q + 1;
        }

        if (c < 0x20 || c > 0x7e || c == '\\') {
            return NULL;
        }
    }

    return NULL;
}


/* -?(0|[1-9][0-9]*) of at most 18 digits, no fraction, no exponent */
static const char *
sq_flat_int(const char *p, const char *end, json_t **v)
{
    int        neg, digits;
    json_int_t n;

    neg = p < end && *p == '-';
    p += neg;

    if (p >= end || *p < '0' || *p > '9') {
        return NULL;
    }

    n = 0;
    digits = 0;

    if (*p == '0') {
        p++;

    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            if (++digits > 18) {
                return NULL;
            }

            n = n * 10 + (*p++ - '0');
        }
    }

    if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) {
        return NULL;
    }

    *v = json_integer(neg ? -n : n);

    return *v != NULL ? p : NULL;
}


/* one member's value; NULL when it is not one the flat body takes */
static const char *
sq_flat_value(const char *p, const char *end, json_t **v)
{
    size_t       len;
    const char  *s, *q;

    *v = NULL;

    if (p >= end) {
        return NULL;
    }

    switch (*p) {

    case '"':
        q = sq_flat_str(p, end, &s, &len);
        if (q != NULL) {
            *v = json_stringn_nocheck(s, len);
        }
        return *v != NULL ? q : NULL;

    case 'n':
        if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
            *v = json_null();
            return p + 4;
        }
        return NULL;

    case 't':
        if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
            *v = json_true();
            return p + 4;
        }
        return NULL;

    case 'f':
        if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
            *v = json_false();
            return p + 5;
        }
        return NULL;

    default:
        return sq_flat_int(p, end, v);
    }
}


static void
sq_flat_free(sq_flat_member_t *m, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        json_decref(m[i].v);
    }
}


/* a new key, not one of the n before it */
static int
sq_flat_new_key(const sq_flat_member_t *m, size_t n, const char *key,
    size_t len)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (m[i].key_len == len && memcmp(m[i].key, key, len) == 0) {
            return 0;
        }
    }

    return 1;
}


/*
 * The members of a flat body, in their order, with new references in
 * m[].v; 0, or -1 (nothing held) when the body is not a flat one.
 */
static int
sq_flat_read(const char *body, size_t len, sq_flat_member_t *m, size_t *n)
{
    size_t        klen;
    json_t       *v;
    const char   *p, *end, *key;

    p = body;
    end = body + len;
    *n = 0;

    p = sq_flat_ws(p, end);
    if (p >= end || *p++ != '{') {
        return -1;
    }

    p = sq_flat_ws(p, end);

    if (p < end && *p == '}') {
        p = sq_flat_ws(p + 1, end);
        return p == end ? 0 : -1;
    }

    for ( ;; ) {
        if (p >= end || *p != '"' || *n == SQ_FLAT_MEMBERS) {
            break;
        }

        p = sq_flat_str(p, end, &key, &klen);
        if (p == NULL || klen >= SQ_FLAT_KEY_MAX
            || !sq_flat_new_key(m, *n, key, klen))
        {
            break;
        }

        p = sq_flat_ws(p, end);
        if (p >= end || *p++ != ':') {
            break;
        }

        p = sq_flat_value(sq_flat_ws(p, end), end, &v);
        if (p == NULL) {
            break;
        }

        m[*n].key = key;
        m[*n].key_len = klen;
        m[*n].v = v;
        (*n)++;

        p = sq_flat_ws(p, end);

        if (p < end && *p == ',') {
            p = sq_flat_ws(p + 1, end);
            continue;
        }

        if (p < end && *p == '}' && sq_flat_ws(p + 1, end) == end) {
            return 0;
        }

        break;
    }

    sq_flat_free(m, *n);
    *n = 0;

    return -1;
}


/* the flat body's members through the schema, as the jansson path does */
static int
sq_flat_members(const sq_resource_t *res, sq_flat_member_t *m, size_t n,
    sq_parse_mode_t mode, uint64_t ws, json_t *fields, char *err,
    size_t errlen)
{
    int     rc;
    char    key[SQ_FLAT_KEY_MAX];
    size_t  i;

    rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        memcpy(key, m[i].key, m[i].key_len);
        key[m[i].key_len] = '\0';

        rc = sq_resource_member(res, key, m[i].v, mode, ws, fields, err,
                                errlen);
    }

    return rc;
}


int
sq_resource_parse(const sq_resource_t *res, const char *body, size_t len,
    sq_parse_mode_t mode, uint64_t ws, json_t **out, char *err,
    size_t errlen)
{
    return sq_resource_parse_with(res, body, len, mode, ws, 1, out, err,
                                  errlen);
}


int
sq_resource_parse_with(const sq_resource_t *res, const char *body,
    size_t len, sq_parse_mode_t mode, uint64_t ws, int flat, json_t **out,
    char *err, size_t errlen)
{
    int                rc;
    size_t             n;
    json_t            *obj, *v, *fields;
    const char        *key;
    sq_flat_member_t   m[SQ_FLAT_MEMBERS];

    *out = NULL;

    if (flat && sq_flat_read(body, len, m, &n) == 0) {
        fields = json_object();
        rc = fields != NULL ? 0 : -1;

        if (rc != 0) {
            snprintf(err, errlen, "out of memory");

        } else {
            rc = sq_flat_members(res, m, n, mode, ws, fields, err, errlen);
        }

        sq_flat_free(m, n);

        if (rc != 0) {
            json_decref(fields);
            return -1;
        }

        *out = fields;

        return 0;
    }

    obj = sq_json_load_object(body, len, err, errlen);
    if (obj == NULL) {
        return -1;
    }

    fields = json_object();
    rc = fields != NULL ? 0 : -1;
    if (rc != 0) {
        snprintf(err, errlen, "out of memory");
    }

    json_object_foreach(obj, key, v) {
        if (rc == 0) {
            rc = sq_resource_member(res, key, v, mode, ws, fields, err,
                                    errlen);
        }
    }

    json_decref(obj);

    if (rc != 0) {
        json_decref(fields);
        return -1;
    }

    *out = fields;

    return 0;
}


int
sq_resource_check(const sq_resource_t *res, const json_t *fields,
    char *err, size_t errlen)
{
    if (res->check == NULL) {
        return 0;
    }

    return res->check(fields, err, errlen);
}


int
sq_resource_merge(const sq_resource_t *res, sq_record_t *rec, json_t *patch,
    char *err, size_t errlen)
{
    if (json_object_update(rec->fields, patch) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    return sq_resource_check(res, rec->fields, err, errlen);
}


json_t *
sq_resource_render(const sq_resource_t *res, const sq_record_t *rec)
{
    char     created[32], updated[32];
    size_t   i;
    json_t  *obj, *v;

    if (sq_text_iso8601(rec->created_at, created, sizeof(created)) != 0
        || sq_text_iso8601(rec->updated_at, updated, sizeof(updated)) != 0)
    {
        return NULL;
    }

    obj = json_pack("{s:I, s:I}", "id", (json_int_t) rec->id,
                    "workspace_id", (json_int_t) rec->workspace_id);

    for (i = 0; obj != NULL && i < res->nfields; i++) {
        v = json_object_get(rec->fields, res->fields[i].name);
        if (json_object_set(obj, res->fields[i].name,
                            v != NULL ? v : json_null()) != 0)
        {
            json_decref(obj);
            obj = NULL;
        }
    }

    if (obj != NULL
        && (json_object_set_new(obj, "created_at", json_string(created))
            != 0
            || json_object_set_new(obj, "updated_at", json_string(updated))
            != 0))
    {
        json_decref(obj);
        obj = NULL;
    }

    return obj;
}


void
sq_record_clear(sq_record_t *rec)
{
    json_decref(rec->fields);
    memset(rec, 0, sizeof(*rec));
}
