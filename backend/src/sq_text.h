/*
 * sq_text: bounded checks for user-supplied text (names, e-mail
 * addresses, handles) and small number helpers.
 */

#ifndef SQ_TEXT_H
#define SQ_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define SQ_TEXT_MAX  200    /* bytes of a name or e-mail address */

/*
 * Strict UTF-8 (no overlongs, no surrogates), no control characters,
 * 1..max_chars code points and at most max_bytes bytes.  Returns 0 or -1.
 */
int sq_text_check(const char *s, size_t len, size_t max_chars,
    size_t max_bytes);

/*
 * The same rules with min_chars..max_chars code points (0 allowed) and,
 * when multiline, \n and \t allowed.  C1 controls are refused too.
 */
int sq_text_check_ex(const char *s, size_t len, size_t min_chars,
    size_t max_chars, int multiline);

/* A plausible e-mail address: one '@', no white space, <= SQ_TEXT_MAX */
int sq_text_check_email(const char *s, size_t len);

#define SQ_TEXT_U64_MAX  20  /* decimal digits of a uint64_t */

/* v in decimal at out (SQ_TEXT_U64_MAX bytes at most, no NUL); length */
size_t sq_text_u64(char *out, uint64_t v);

/* Decimal 0..INT64_MAX, digits only, no leading zero; 0 or -1 */
int sq_text_parse_u63(const char *s, size_t len, int64_t *out);

/* "2026-11-24T02:00:00Z" into out (at least 21 bytes); 0 or -1 */
int sq_text_iso8601(int64_t unix_seconds, char *out, size_t outlen);

/* Exactly "YYYY-MM-DDTHH:MM:SSZ", a real date from 1970; unix seconds */
int sq_text_parse_utc(const char *s, size_t len, int64_t *out);

#endif /* SQ_TEXT_H */
