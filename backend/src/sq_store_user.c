/*
 * sq_store_user: users, workspaces and memberships.  Membership lives
 * twice (sq:ws:{w<w>}:members and sq:user:{u<u>}:workspaces); both are always
 * changed in one MULTI/EXEC.
 */

#include <stdlib.h>
#include <string.h>

#include "sq_json.h"
#include "sq_keys.h"
#include "sq_store.h"

#define SQ_TX_RETRIES  5


sq_rc_t
sq_store_user_create(redisContext *c, const char *email, const char *name,
    int64_t now, uint64_t *id)
{
    int          taken;
    char         lower[256];
    size_t       i, n;
    sq_rc_t      rc;
    redisReply  *r;

    /* issue 14: sign-in finds the user by the email, in lower case */
    n = strlen(email);
    if (n >= sizeof(lower)) {
        return SQ_ERR_INVALID;
    }
    for (i = 0; i <= n; i++) {
        lower[i] = (char) (email[i] >= 'A' && email[i] <= 'Z'
                           ? email[i] - 'A' + 'a' : email[i]);
    }

    rc = sq_next_id(c, "user", id);
    if (rc != SQ_OK) {
        return rc;
    }

    /* one user per email: the index is claimed before the user exists */
    rc = sq_cmd(c, &r, "SET " SQ_K_USER_EMAIL " %llu NX", lower,
                (unsigned long long) *id);
    if (rc != SQ_OK) {
        return rc;
    }
    taken = r->type == REDIS_REPLY_NIL;
    freeReplyObject(r);
    if (taken) {
        return SQ_ERR_TAKEN;
    }

    rc = sq_cmd(c, &r, "HSET " SQ_K_USER " id %llu email %s name %s "
                "created_at %lld", (unsigned long long) *id,
                (unsigned long long) *id, email, name, (long long) now);
    if (rc == SQ_OK) {
        freeReplyObject(r);
    }

    return rc;
}


/* An id field that may be absent, empty or "0" (meaning none). */
static sq_rc_t
sq_reply_opt_id(const redisReply *r, uint64_t *id)
{
    *id = 0;

    if (r->type == REDIS_REPLY_NIL
        || (r->type == REDIS_REPLY_STRING
            && (r->len == 0 || (r->len == 1 && r->str[0] == '0'))))
    {
        return SQ_OK;
    }

    return sq_reply_id(r, id);
}


sq_rc_t
sq_store_user_parse(const redisReply *r, uint64_t uid, sq_user_t *u)
{
    memset(u, 0, sizeof(*u));

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
        return SQ_ERR_REDIS;
    }

    if (r->element[0]->type == REDIS_REPLY_NIL) {
        return SQ_ERR_NOTFOUND;
    }

    if (sq_reply_id(r->element[0], &u->id) != SQ_OK
        || u->id != uid
        || sq_reply_copy(r->element[1], u->email, sizeof(u->email)) != SQ_OK
        || sq_reply_copy(r->element[2], u->name, sizeof(u->name)) != SQ_OK
        || sq_reply_opt_id(r->element[3], &u->primary_workspace_id)
           != SQ_OK)
    {
        return SQ_ERR_REDIS;
    }

    return SQ_OK;
}


sq_rc_t
sq_store_user_get(redisContext *c, uint64_t uid, sq_user_t *u)
{
    sq_rc_t      rc;
    redisReply  *r;

    rc = sq_cmd(c, &r, "HMGET " SQ_K_USER " id email name "
                "primary_workspace_id", (unsigned long long) uid);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = sq_store_user_parse(r, uid, u);
    freeReplyObject(r);

    return rc;
}


sq_rc_t
sq_store_is_member(redisContext *c, uint64_t wid, uint64_t uid,
    int *member)
{
    sq_rc_t    rc;
    long long  v;

    rc = sq_cmd_int(c, &v, "SISMEMBER " SQ_K_WS_MEMBERS " %llu",
                    (unsigned long long) wid, (unsigned long long) uid);
    *member = rc == SQ_OK && v == 1;

    return rc;
}


sq_rc_t
sq_store_is_member_all(redisContext *c, const sq_wslist_t *l, uint64_t uid,
    int *all)
{
    size_t   i;
    sq_rc_t  rc;

    *all = 1;
    rc = SQ_OK;

    for (i = 0; rc == SQ_OK && *all && i < l->n; i++) {
        rc = sq_store_is_member(c, l->ids[i], uid, all);
    }

    return rc;
}


static sq_rc_t
sq_store_exists(redisContext *c, const char *fmt, uint64_t id, int *exists)
{
    sq_rc_t    rc;
    long long  v;

    rc = sq_cmd_int(c, &v, fmt, (unsigned long long) id);
    *exists = rc == SQ_OK && v == 1;

    return rc;
}


sq_rc_t
sq_store_ws_exists(redisContext *c, uint64_t wid, int *exists)
{
    return sq_store_exists(c, "EXISTS " SQ_K_WS, wid, exists);
}


/* WATCHes the user and reads whether a primary workspace is set. */
static sq_rc_t
sq_store_watch_primary(redisContext *c, uint64_t uid, uint64_t *primary)
{
    sq_rc_t      rc;
    sq_user_t    u;
    redisReply  *r;

    rc = sq_cmd(c, &r, "WATCH " SQ_K_USER " " SQ_K_USER_WORKSPACES,
                (unsigned long long) uid, (unsigned long long) uid);
    if (rc != SQ_OK) {
        return rc;
    }
    freeReplyObject(r);

    rc = sq_store_user_get(c, uid, &u);
    if (rc != SQ_OK) {
        return sq_unwatch(c, rc);
    }

    *primary = u.primary_workspace_id;

    return SQ_OK;
}


/* Adds the membership (both sides) and the primary if there is none. */
static sq_rc_t
sq_store_join(redisContext *c, uint64_t wid, uint64_t uid,
    const char *ws_name, uint64_t owner, int64_t now)
{
    int       attempt;
    sq_rc_t   rc;
    sq_tx_t   tx;
    uint64_t  primary;

    rc = SQ_ERR_CONFLICT;

    for (attempt = 0; attempt < SQ_TX_RETRIES && rc == SQ_ERR_CONFLICT;
         attempt++)
    {
        rc = sq_store_watch_primary(c, uid, &primary);
        if (rc != SQ_OK) {
            return rc;
        }

        sq_tx_begin(&tx, c);
        if (ws_name != NULL) {
            sq_tx_add(&tx, "HSET " SQ_K_WS " id %llu name %s owner_id %llu "
                      "created_at %lld", (unsigned long long) wid,
                      (unsigned long long) wid, ws_name,
                      (unsigned long long) owner, (long long) now);
        }
        sq_tx_add(&tx, "SADD " SQ_K_WS_MEMBERS " %llu",
                  (unsigned long long) wid, (unsigned long long) uid);
        sq_tx_add(&tx, "ZADD " SQ_K_USER_WORKSPACES " %llu %llu",
                  (unsigned long long) uid, (unsigned long long) wid,
                  (unsigned long long) wid);
        if (primary == 0) {
            sq_tx_add(&tx, "HSET " SQ_K_USER " primary_workspace_id %llu",
                      (unsigned long long) uid, (unsigned long long) wid);
        }
        rc = sq_tx_exec(&tx);
    }

    return rc;
}


sq_rc_t
sq_store_ws_create(redisContext *c, uint64_t owner, const char *name,
    int64_t now, uint64_t *id)
{
    sq_rc_t    rc;
    sq_user_t  u;

    rc = sq_store_user_get(c, owner, &u);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = sq_next_id(c, "ws", id);
    if (rc != SQ_OK) {
        return rc;
    }

    return sq_store_join(c, *id, owner, name, owner, now);
}


sq_rc_t
sq_store_member_add(redisContext *c, uint64_t wid, uint64_t uid)
{
    int        exists;
    sq_rc_t    rc;
    sq_user_t  u;

    rc = sq_store_ws_exists(c, wid, &exists);
    if (rc != SQ_OK) {
        return rc;
    }

    if (!exists) {
        return SQ_ERR_NOTFOUND;
    }

    rc = sq_store_user_get(c, uid, &u);
    if (rc != SQ_OK) {
        return rc;
    }

    return sq_store_join(c, wid, uid, NULL, 0, 0);
}


/* The lowest workspace of uid other than wid, 0 when there is none. */
static sq_rc_t
sq_store_next_primary(redisContext *c, uint64_t uid, uint64_t wid,
    uint64_t *next)
{
    size_t       i;
    sq_rc_t      rc;
    uint64_t     id;
    redisReply  *r;

    *next = 0;

    rc = sq_cmd(c, &r, "ZRANGE " SQ_K_USER_WORKSPACES " 0 1",
                (unsigned long long) uid);
    if (rc != SQ_OK) {
        return rc;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        rc = SQ_ERR_REDIS;
    }

    for (i = 0; rc == SQ_OK && i < r->elements && *next == 0; i++) {
        rc = sq_reply_id(r->element[i], &id);
        if (rc == SQ_OK && id != wid) {
            *next = id;
        }
    }

    freeReplyObject(r);

    return rc;
}


static sq_rc_t
sq_store_leave(redisContext *c, uint64_t wid, uint64_t uid)
{
    sq_rc_t   rc;
    sq_tx_t   tx;
    uint64_t  primary, next;

    rc = sq_store_watch_primary(c, uid, &primary);
    if (rc != SQ_OK) {
        return rc;
    }

    next = 0;
    if (primary == wid) {
        rc = sq_store_next_primary(c, uid, wid, &next);
        if (rc != SQ_OK) {
            return sq_unwatch(c, rc);
        }
    }

    sq_tx_begin(&tx, c);
    sq_tx_add(&tx, "SREM " SQ_K_WS_MEMBERS " %llu",
              (unsigned long long) wid, (unsigned long long) uid);
    sq_tx_add(&tx, "ZREM " SQ_K_USER_WORKSPACES " %llu",
              (unsigned long long) uid, (unsigned long long) wid);
    if (primary == wid && next != 0) {
        sq_tx_add(&tx, "HSET " SQ_K_USER " primary_workspace_id %llu",
                  (unsigned long long) uid, (unsigned long long) next);
    } else if (primary == wid) {
        sq_tx_add(&tx, "HDEL " SQ_K_USER " primary_workspace_id",
                  (unsigned long long) uid);
    }

    return sq_tx_exec(&tx);
}


sq_rc_t
sq_store_member_remove(redisContext *c, uint64_t wid, uint64_t uid)
{
    int      attempt, member;
    sq_rc_t  rc;

    rc = sq_store_is_member(c, wid, uid, &member);
    if (rc != SQ_OK) {
        return rc;
    }

    if (!member) {
        return SQ_ERR_NOTFOUND;
    }

    rc = SQ_ERR_CONFLICT;

    for (attempt = 0; attempt < SQ_TX_RETRIES && rc == SQ_ERR_CONFLICT;
         attempt++)
    {
        rc = sq_store_leave(c, wid, uid);
    }

    return rc;
}
