/*
 * sq_argv: a Redis command's argument vector built in place: strings
 * by reference, formatted numbers in its own storage.  A failed add
 * (too many, too long) marks it failed; the caller checks once.
 */

#ifndef SQ_ARGV_H
#define SQ_ARGV_H

#include <stddef.h>
#include <stdint.h>

#include "sq_resource.h"

#define SQ_ARGV_MAX     (24 + 4 * SQ_FIELDS_MAX)
#define SQ_ARG_BUF      128

typedef struct {
    int          argc;
    int          failed;
    const char  *argv[SQ_ARGV_MAX];
    size_t       lens[SQ_ARGV_MAX];
    char         buf[SQ_ARGV_MAX][SQ_ARG_BUF];
} sq_argv_t;

void sq_argv_add(sq_argv_t *a, const char *s, size_t len);
void sq_argv_str(sq_argv_t *a, const char *s);
void sq_argv_fmt(sq_argv_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sq_argv_u64(sq_argv_t *a, uint64_t v);

/* "name" "value" of every field of f that is not null */
void sq_argv_fields(sq_argv_t *a, const sq_resource_t *res, const json_t *f);

/* the count, then the names, of the null fields of f */
void sq_argv_nulls(sq_argv_t *a, const sq_resource_t *res, const json_t *f);

/*
 * the directory name of the record f references (SQ_K_RECWS), or "" when
 * check is 0 or f references none
 */
void sq_argv_ref_key(sq_argv_t *a, const sq_resource_t *res,
    const json_t *f, int check);

#endif /* SQ_ARGV_H */
