/*
 * sqctl_args: "--name value" options of a command, validated.
 */

#ifndef SQCTL_ARGS_H
#define SQCTL_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* bytes of any argument value: an app's 10 redirect URIs of 512 bytes */
#define SQCTL_ARG_MAX  5200

typedef struct {
    const char  *name;          /* without the leading "--" */
    int          required;
    const char  *value;         /* filled in */
} sqctl_opt_t;

/*
 * Fills opts from argv; unknown, repeated, valueless, over-long or
 * missing required options print a message and return -1.
 */
int sqctl_args(int argc, char **argv, sqctl_opt_t *opts, size_t n);

/* Validators: print "sqctl: --name: ..." and return -1 on failure. */
int sqctl_arg_id(const char *name, const char *v, uint64_t *id);
int sqctl_arg_text(const char *name, const char *v);
int sqctl_arg_email(const char *name, const char *v);

#endif /* SQCTL_ARGS_H */
