/*
 * sq_authz: the reply of FCALL_RO sq_authz (redis/smartlyq.lua), checked
 * and copied into a fixed-size record.  Plain C over hiredis's reply
 * type, so the unit tests and the fuzz harnesses use it as the module
 * does; the module's decision cache stores what this returns.
 */

#ifndef SQ_AUTHZ_H
#define SQ_AUTHZ_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "sq_bearer.h"


#define SQ_AUTHZ_ID_MAX     20      /* digits of a user or key id */
#define SQ_AUTHZ_LIST_MAX   1024    /* bytes of scopes, of workspaces */
#define SQ_AUTHZ_SEP        '|'     /* between the fields of the reply */


typedef enum {
    SQ_AUTHZ_INVALID = 0,       /* not a reply sq_authz gives */
    SQ_AUTHZ_REDIS_ERROR,       /* Redis answered with an error */
    SQ_AUTHZ_OK,
    SQ_AUTHZ_UNKNOWN,
    SQ_AUTHZ_DISABLED,
    SQ_AUTHZ_EXPIRED,
    SQ_AUTHZ_DELETED,
    SQ_AUTHZ_ROTATED,           /* rotated, grace period over */
    SQ_AUTHZ_FORBIDDEN          /* not a member, or outside the key's list */
} sq_authz_code_t;


typedef struct {
    sq_authz_code_t  code;
    sq_key_mode_t    mode;          /* of the record, to match the key's */
    sq_key_type_t    type;
    int64_t          rotated_at;    /* 0: not rotated */
    int64_t          sunset_at;     /* 0: not rotated */
    int64_t          expires_at;    /* 0: never; -1: not said (old lib) */
    size_t           user_id_len;
    size_t           key_id_len;
    uint32_t         scope_bits;    /* the known scopes (sq_scope.h) */
    size_t           scopes_len;
    size_t           workspaces_len;
    size_t           app_id_len;    /* 0: a key, not an OAuth token */
    char             user_id[SQ_AUTHZ_ID_MAX + 1];
    char             key_id[SQ_AUTHZ_ID_MAX + 1];
    char             scopes[SQ_AUTHZ_LIST_MAX + 1];      /* "a:read b" */
    char             workspaces[SQ_AUTHZ_LIST_MAX + 1];  /* "" or "1,2" */
    char             app_id[SQ_AUTHZ_ID_MAX + 1];        /* "" or digits */
} sq_authz_t;


/*
 * Checks reply and fills *a (zeroed first); returns a->code.  The reply
 * is one string of fields joined by SQ_AUTHZ_SEP, or, from an older
 * library, an array of them.  Anything off (types, lengths, characters,
 * field count) is SQ_AUTHZ_INVALID: the caller fails closed.
 */
sq_authz_code_t sq_authz_parse(const redisReply *reply, sq_authz_t *a);

/*
 * The unix time from which the answer is no longer true by itself: the
 * key's expiry or the end of its rotation grace, whichever is first; 0
 * when neither, -1 when unknown (do not cache).
 */
int64_t sq_authz_until(const sq_authz_t *a);

const char *sq_authz_code_name(sq_authz_code_t code);


#endif /* SQ_AUTHZ_H */
