/*
 * sq_social: social account rules for `sqctl account create` (the API
 * uses the same ones through its schema in sq_res_social.c).
 */

#ifndef SQ_SOCIAL_H
#define SQ_SOCIAL_H

#include <stddef.h>
#include <stdint.h>

#define SQ_HANDLE_MAX_CHARS  100
#define SQ_HANDLE_MAX_BYTES  (SQ_HANDLE_MAX_CHARS * 4)

/* The canonical platform name, or NULL when it is not supported. */
const char *sq_social_platform(const char *s, size_t len);

/* 1..100 characters of valid UTF-8 without control characters */
int sq_social_check_handle(const char *s, size_t len);

#endif /* SQ_SOCIAL_H */
