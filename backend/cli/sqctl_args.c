/*
 * sqctl_args: option parsing without getopt, so that every command
 * states exactly which options it takes.
 */

#include <stdio.h>
#include <string.h>

#include "sq_text.h"
#include "sq_workspace.h"
#include "sqctl_args.h"


static sqctl_opt_t *
sqctl_find(sqctl_opt_t *opts, size_t n, const char *arg)
{
    size_t  i;

    if (strncmp(arg, "--", 2) != 0) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (strcmp(opts[i].name, arg + 2) == 0) {
            return &opts[i];
        }
    }

    return NULL;
}


int
sqctl_args(int argc, char **argv, sqctl_opt_t *opts, size_t n)
{
    int           i;
    size_t        k;
    sqctl_opt_t  *o;

    for (i = 0; i < argc; i += 2) {
        o = sqctl_find(opts, n, argv[i]);
        if (o == NULL) {
            fprintf(stderr, "sqctl: unexpected argument \"%.64s\"\n",
                    argv[i]);
            return -1;
        }

        if (o->value != NULL || i + 1 >= argc) {
            fprintf(stderr, "sqctl: --%s %s\n", o->name,
                    o->value != NULL ? "given twice" : "needs a value");
            return -1;
        }

        if (strlen(argv[i + 1]) > SQCTL_ARG_MAX) {
            fprintf(stderr, "sqctl: --%s is longer than %d bytes\n",
                    o->name, SQCTL_ARG_MAX);
            return -1;
        }

        o->value = argv[i + 1];
    }

    for (k = 0; k < n; k++) {
        if (opts[k].required && opts[k].value == NULL) {
            fprintf(stderr, "sqctl: --%s is required\n", opts[k].name);
            return -1;
        }
    }

    return 0;
}


int
sqctl_arg_id(const char *name, const char *v, uint64_t *id)
{
    if (sq_workspace_parse_id(v, strlen(v), id) != 0) {
        fprintf(stderr, "sqctl: --%s must be a positive decimal id\n",
                name);
        return -1;
    }

    return 0;
}


int
sqctl_arg_text(const char *name, const char *v)
{
    if (sq_text_check(v, strlen(v), SQ_TEXT_MAX, SQ_TEXT_MAX) != 0) {
        fprintf(stderr, "sqctl: --%s must be 1..%d bytes of UTF-8 "
                "without control characters\n", name, SQ_TEXT_MAX);
        return -1;
    }

    return 0;
}


int
sqctl_arg_email(const char *name, const char *v)
{
    if (sq_text_check_email(v, strlen(v)) != 0) {
        fprintf(stderr, "sqctl: --%s must be an e-mail address\n", name);
        return -1;
    }

    return 0;
}
