/*
 * sq_resource: the schema of a workspace-scoped resource and its records.
 * One generic implementation (validation in sq_resource.c, paging in
 * sq_resource_page.c, HTTP in sq_res_generic.c, storage in the sq_res_*
 * functions of redis/smartlyq.lua, read by sq_res_flat.c) serves every
 * resource; the sq_res_<family>.c
 * files hold only their schemas and special rules.
 * Their storage in Redis: redis/SCHEMA.md.
 */

#ifndef SQ_RESOURCE_H
#define SQ_RESOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SQ_FIELDS_MAX       12

/* field flags */
#define SQ_FF_REQUIRED      0x01    /* must be given on create */
#define SQ_FF_NULLABLE      0x02    /* null is a value (stored absent) */
#define SQ_FF_READONLY      0x04    /* set by the server only */
#define SQ_FF_MULTILINE     0x08    /* \n and \t allowed in the text */

/* resource flags */
#define SQ_RES_WS_REQUIRED  0x01    /* create needs an explicit workspace */

typedef enum {
    SQ_FT_STRING = 0,       /* min..max characters, then format() */
    SQ_FT_ENUM,             /* one of values[] */
    SQ_FT_INT,              /* a JSON integer in min..max */
    SQ_FT_TIME              /* "YYYY-MM-DDTHH:MM:SSZ", stored as given */
} sq_ftype_t;

typedef struct {
    const char          *name;
    sq_ftype_t           type;
    unsigned             flags;
    int64_t              min;
    int64_t              max;
    const char *const   *values;            /* SQ_FT_ENUM, NULL-ended */
    int                (*format)(const char *s, size_t len);   /* 0: ok */
    /* fills an absent value on create (cap bytes, NUL-terminated) */
    int                (*generate)(char *out, size_t cap);
    const char          *def;               /* default on create */
    const char          *rule;              /* "a string of 1 to 100 …" */
} sq_field_t;

typedef struct {
    const char          *path;              /* "/v1/chatbots" */
    const char          *name;              /* "chatbot" */
    const char          *plural;            /* "chatbots" */
    const sq_field_t    *fields;
    size_t               nfields;
    unsigned             flags;
    const char          *unique;            /* unique per workspace */
    const char          *unique_key;        /* "url_slugs" */
    const char          *ref;               /* id of a record of ... */
    const char          *ref_name;          /* ... this resource, same ws */
    const char          *ref_rule;          /* message when it is not */
    /* rules across fields, on the complete record; NULL: none */
    int                (*check)(const json_t *fields, char *err,
                                size_t errlen);
} sq_resource_t;

typedef struct {
    uint64_t    id;
    uint64_t    workspace_id;
    int         test_mode;  /* made with a test key: seen by test keys */
    int64_t     created_at;
    int64_t     updated_at;
    json_t     *fields;     /* owned; every schema field, null included */
} sq_record_t;

/* the resources (sq_res_<family>.c) */
extern const sq_resource_t  sq_res_chatbots;
extern const sq_resource_t  sq_res_social_accounts;
extern const sq_resource_t  sq_res_social_posts;
extern const sq_resource_t  sq_res_urls;
extern const sq_resource_t  sq_res_articles;
extern const sq_resource_t  sq_res_images;
extern const sq_resource_t  sq_res_media;

typedef enum {
    SQ_PARSE_CREATE = 0,
    SQ_PARSE_PATCH
} sq_parse_mode_t;

/*
 * Parses a request body (strict JSON object, no duplicate keys) and
 * validates every member against the schema; *out holds the given
 * fields.  workspace_id may be given only as ws (an integer or a digit
 * string); the mode picks the message when it differs.
 * Returns 0, or -1 with a message naming the field in err.
 */
int sq_resource_parse(const sq_resource_t *res, const char *body,
    size_t len, sq_parse_mode_t mode, uint64_t ws, json_t **out,
    char *err, size_t errlen);

/*
 * As sq_resource_parse; flat 0 always reads the body with jansson, flat
 * 1 first tries the flat reader (sq_resource.c), which must give the
 * same answer: the tests and the fuzz target compare the two.
 */
int sq_resource_parse_with(const sq_resource_t *res, const char *body,
    size_t len, sq_parse_mode_t mode, uint64_t ws, int flat, json_t **out,
    char *err, size_t errlen);

/*
 * For create: enforces required fields, fills the others with their
 * defaults or generated values, then runs res->check.
 */
int sq_resource_complete(const sq_resource_t *res, json_t *fields,
    char *err, size_t errlen);

/* Merges a parsed patch into rec->fields, then runs res->check. */
int sq_resource_merge(const sq_resource_t *res, sq_record_t *rec,
    json_t *patch, char *err, size_t errlen);

/* Runs res->check on a complete field set; 0 or -1 with err. */
int sq_resource_check(const sq_resource_t *res, const json_t *fields,
    char *err, size_t errlen);

/* {id, workspace_id, fields..., created_at, updated_at}; NULL on OOM */
json_t *sq_resource_render(const sq_resource_t *res, const sq_record_t *rec);

/* Frees rec's fields and zeroes it. */
void sq_record_clear(sq_record_t *rec);

/* A strict JSON object (no duplicate keys); NULL with err otherwise. */
json_t *sq_json_load_object(const char *body, size_t len, char *err,
    size_t errlen);

/* "<key> is not a known field.", the key quoted only when plain */
void sq_json_unknown_field(const char *key, char *err, size_t errlen);

const sq_field_t *sq_resource_field(const sq_resource_t *res,
    const char *name);

/* formats shared by several schemas (sq_resource.c) */
int sq_format_http_url(const char *s, size_t len);

/* paging (sq_resource_page.c) */
#define SQ_PAGE_DEFAULT     20
#define SQ_PAGE_MAX         100
#define SQ_CURSOR_MAX       64      /* characters of an encoded cursor */

/* cursor = base64url (no padding) of "c1:<id>"; out >= SQ_CURSOR_MAX+1 */
int sq_cursor_encode(uint64_t id, char *out, size_t outlen);
int sq_cursor_decode(const char *s, size_t len, uint64_t *id);

/*
 * The list parameters of a raw query string (may be NULL): limit
 * (1..SQ_PAGE_MAX, default SQ_PAGE_DEFAULT) and cursor (0: first page).
 * Names are percent-decoded; each may be given once.  Others are ignored.
 */
int sq_page_parse(const char *query, size_t *limit, uint64_t *after,
    char *err, size_t errlen);

/*
 * The integer parameter name of a raw query string (may be NULL): def
 * when absent, else min..max.  Returns 0, or -1 with a message in err.
 */
int sq_query_int(const char *query, const char *name, int64_t min,
    int64_t max, int64_t def, int64_t *out, char *err, size_t errlen);

/*
 * issue 16 (keyops): the text parameter name of a raw query string,
 * percent-decoded, into out (< cap bytes, at most SQ_CURSOR_MAX);
 * *seen 0 when absent.  Returns 0, or -1 with a message in err.
 */
int sq_query_str(const char *query, const char *name, char *out, size_t cap,
    int *seen, char *err, size_t errlen);

#endif /* SQ_RESOURCE_H */
