/*
 * sq_scope: the scopes a key or token may hold, by name and as bits.
 *
 * Plain C, shared by the module, the backend and sqctl: the edge checks
 * a location's scope as a bit of the key's, and signs the key's scopes
 * into the identity as those bits in hex (sq_identity.h), which the
 * backend reads back with the same table.  A new scope is a line here
 * and its name in sq_scope.c; the bits are on the wire, so a change of
 * the table is a change of SQ_IDENTITY_VERSION.
 */

#ifndef SQ_SCOPE_H
#define SQ_SCOPE_H

#include <stddef.h>
#include <stdint.h>

/* scopes; a resource family f has read 2f and write 2f + 1 */
typedef enum {
    SQ_SC_CHATBOTS_READ = 0,
    SQ_SC_CHATBOTS_WRITE,
    SQ_SC_SOCIAL_READ,
    SQ_SC_SOCIAL_WRITE,
    SQ_SC_URLS_READ,
    SQ_SC_URLS_WRITE,
    SQ_SC_ARTICLES_READ,
    SQ_SC_ARTICLES_WRITE,
    SQ_SC_IMAGES_READ,
    SQ_SC_IMAGES_WRITE,
    SQ_SC_MEDIA_READ,
    SQ_SC_MEDIA_WRITE,
    SQ_SC_WORKSPACE_READ,
    SQ_SC_APPS_MANAGE,          /* /v1/apps (API Applications) */
    SQ_SC_KEYS_MANAGE,
    SQ_SCOPE_COUNT
} sq_scope_t;

#define SQ_SCOPE_BIT(s)     (1u << (unsigned) (s))
#define SQ_SCOPES_ALL       (SQ_SCOPE_BIT(SQ_SCOPE_COUNT) - 1)
/* every *:read scope: what a publishable key may hold */
#define SQ_SCOPES_READ      0x1555u
/* hex digits of a scope set on the wire (uint32_t) */
#define SQ_SCOPES_HEX_MAX   8

const char *sq_scope_name(sq_scope_t s);

/* the scope named s[0..len), or -1 */
int sq_scope_lookup(const char *s, size_t len);

/*
 * The known scopes among space-separated names, as bits; names this
 * table does not know give nothing (a key record written by a newer
 * version grants here only what this version knows).
 */
uint32_t sq_scope_bits(const char *s, size_t len);

/*
 * bits in lowercase hex without leading zeros ("0" for none) into out,
 * NUL too; returns the length.
 */
size_t sq_scope_hex(uint32_t bits, char out[SQ_SCOPES_HEX_MAX + 1]);

/*
 * The reverse, strictly: 1..SQ_SCOPES_HEX_MAX lowercase hex digits, no
 * leading zero but in "0", no bit outside SQ_SCOPES_ALL; 0 or -1.
 */
int sq_scope_hex_parse(const char *s, size_t len, uint32_t *bits);

#endif /* SQ_SCOPE_H */
