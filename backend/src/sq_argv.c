/*
 * sq_argv: argument vectors of Redis commands (sq_argv.h).
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sq_argv.h"
#include "sq_keys.h"

void
sq_argv_add(sq_argv_t *a, const char *s, size_t len)
{
    if (a->argc >= SQ_ARGV_MAX) {
        a->failed = 1;
        return;
    }

    a->argv[a->argc] = s;
    a->lens[a->argc] = len;
    a->argc++;
}


void
sq_argv_str(sq_argv_t *a, const char *s)
{
    sq_argv_add(a, s, strlen(s));
}


/* A formatted argument kept in the argv's own storage. */
void
sq_argv_fmt(sq_argv_t *a, const char *fmt, ...)
{
    int      n;
    va_list  ap;

    if (a->argc >= SQ_ARGV_MAX) {
        a->failed = 1;
        return;
    }

    va_start(ap, fmt);
    n = vsnprintf(a->buf[a->argc], SQ_ARG_BUF, fmt, ap);
    va_end(ap);

    if (n < 0 || n >= SQ_ARG_BUF) {
        a->failed = 1;
        return;
    }

    sq_argv_add(a, a->buf[a->argc], (size_t) n);
}


void
sq_argv_u64(sq_argv_t *a, uint64_t v)
{
    sq_argv_fmt(a, "%llu", (unsigned long long) v);
}


/* "name" "value" of a field that is not null */
static void
sq_argv_field(sq_argv_t *a, const char *name, const json_t *v)
{
    sq_argv_str(a, name);

    if (json_is_string(v)) {
        sq_argv_add(a, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        sq_argv_fmt(a, "%lld", (long long) json_integer_value(v));
    } else {
        a->failed = 1;
    }
}


void
sq_argv_fields(sq_argv_t *a, const sq_resource_t *res, const json_t *f)
{
    size_t       i;
    const char  *name;
    json_t      *v;

    for (i = 0; i < res->nfields; i++) {
        name = res->fields[i].name;
        v = json_object_get(f, name);
        if (v == NULL) {
            a->failed = 1;
        } else if (!json_is_null(v)) {
            sq_argv_field(a, name, v);
        }
    }
}


/* the names of the null fields, which the update deletes */
void
sq_argv_nulls(sq_argv_t *a, const sq_resource_t *res, const json_t *f)
{
    int     count_at;
    size_t  i, n;

    count_at = a->argc;
    sq_argv_str(a, "0");
    n = 0;

    for (i = 0; i < res->nfields; i++) {
        if (json_is_null(json_object_get(f, res->fields[i].name))) {
            sq_argv_str(a, res->fields[i].name);
            n++;
        }
    }

    if (!a->failed) {
        snprintf(a->buf[count_at], SQ_ARG_BUF, "%zu", n);
        a->argv[count_at] = a->buf[count_at];
        a->lens[count_at] = strlen(a->buf[count_at]);
    }
}


/*
 * sq:recws:<res>:<ref id>, the directory of the record f references (the
 * Redis function looks for it in the workspace it writes in), or ""
 * (!check, none)
 */
void
sq_argv_ref_key(sq_argv_t *a, const sq_resource_t *res, const json_t *f,
    int check)
{
    json_t  *v;

    v = res->ref != NULL ? json_object_get(f, res->ref) : NULL;

    if (!check || !json_is_integer(v)) {
        sq_argv_str(a, "");
    } else {
        sq_argv_fmt(a, SQ_K_RECWS, res->ref_name,
                    (unsigned long long) json_integer_value(v));
    }
}
