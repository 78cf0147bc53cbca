/*
 * sq_keygen: new API keys and their masked form.
 */

#ifndef SQ_KEYGEN_H
#define SQ_KEYGEN_H

#include <stddef.h>

#include "sq_bearer.h"

#define SQ_KEY_GEN_LEN   (SQ_KEY_PREFIX_LEN + SQ_KEY_BODY_GEN)
#define SQ_KEY_MASK_MAX  32

/*
 * sq_key_prefix(type, mode) + SQ_KEY_BODY_GEN unbiased base62 chars;
 * out >= SQ_KEY_GEN_LEN + 1
 */
int sq_key_generate(sq_key_type_t type, sq_key_mode_t mode, char *out,
    size_t outlen);

/*
 * Issue 14 (apps): prefix ("sqs_", "sqc_", "sqo_", "sqr_") + SQ_KEY_BODY_GEN
 * unbiased base62 chars; out >= strlen(prefix) + SQ_KEY_BODY_GEN + 1.
 */
int sq_token_generate(const char *prefix, char *out, size_t outlen);

#endif /* SQ_KEYGEN_H */
