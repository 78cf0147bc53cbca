/*
 * sq_store_activity: the argument vectors and replies of sq_key_activity,
 * sq_key_review, sq_notify_owner and sq_notifications (redis/smartlyq.lua,
 * the keyops block), and their synchronous call for sqctl.  The
 * asynchronous entry points are in sq_res_activity.c (the backend only).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_keys.h"
#include "sq_store.h"
#include "sq_store_activity.h"

/* the edge's stream of a key's activity (act's layout, issue 16) */
#ifndef SQ_K_ACT
#define SQ_K_ACT                "sq:act:%llu"
#endif

#define SQ_ACT_SCAN_MAX         10000   /* entries a read scans at most: the
                                           default retention (act) */


static const char *
sq_act_outcome_name(sq_act_outcome_t o)
{
    switch (o) {
    case SQ_ACT_ALLOWED:
        return "allowed";
    case SQ_ACT_REFUSED:
        return "refused";
    default:
        return "";
    }
}


void
sq_act_argv(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    const sq_act_query_t *q, sq_act_text_t *t)
{
    size_t  limit;

    limit = q->limit != 0 ? q->limit : SQ_ACT_LIMIT_DEF;

    sq_store_who_head(a, w, "sq_key_activity", 0, 4);
    sq_argv_fmt(a, SQ_K_ACT, (unsigned long long) kid);
    sq_argv_fmt(a, SQ_K_KEYID, (unsigned long long) kid);
    sq_store_who_common(a, w, 0);

    t->since[0] = '\0';
    t->until[0] = '\0';
    t->wid[0] = '\0';

    if (q->since > 0) {
        snprintf(t->since, sizeof(t->since), "%lld", (long long) q->since);
    }
    if (q->until > 0) {
        snprintf(t->until, sizeof(t->until), "%lld", (long long) q->until);
    }
    if (q->wid != 0) {
        snprintf(t->wid, sizeof(t->wid), "%llu",
                 (unsigned long long) q->wid);
    }

    sq_argv_str(a, t->since);
    sq_argv_str(a, t->until);
    sq_argv_str(a, sq_act_outcome_name(q->outcome));
    sq_argv_str(a, q->cursor);
    sq_argv_fmt(a, "%zu", limit);
    sq_argv_str(a, t->wid);
    sq_argv_fmt(a, "%d", SQ_ACT_SCAN_MAX);

    if (limit > SQ_ACT_LIMIT_MAX || strlen(q->cursor) > SQ_ACT_CURSOR_MAX) {
        a->failed = 1;
    }
}


void
sq_review_argv(sq_argv_t *a, const sq_key_who_t *w, int64_t now,
    int64_t unused_days, int64_t age_days)
{
    sq_store_who_head(a, w, "sq_key_review", 0, 3);
    sq_argv_fmt(a, SQ_K_USER_KEYS, (unsigned long long) w->uid);
    sq_store_who_common(a, w, 0);
    sq_argv_fmt(a, "%lld", (long long) now);
    sq_argv_fmt(a, "%lld", (long long) (unused_days != 0 ? unused_days
                                        : SQ_REVIEW_UNUSED_DEF));
    sq_argv_fmt(a, "%lld", (long long) (age_days != 0 ? age_days
                                        : SQ_REVIEW_AGE_DEF));
    sq_argv_fmt(a, "%d", (int) SQ_SCOPE_COUNT);
    sq_argv_fmt(a, "%d", SQ_KEYS_MAX);

    if (w->uid == 0 || unused_days < 0 || unused_days > SQ_REVIEW_DAYS_MAX
        || age_days < 0 || age_days > SQ_REVIEW_DAYS_MAX)
    {
        a->failed = 1;
    }
}


void
sq_notify_argv(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    const char *message, int64_t now)
{
    sq_store_who_head(a, w, "sq_notify_owner", 1, 3);
    sq_argv_fmt(a, SQ_K_KEYID, (unsigned long long) kid);
    sq_store_who_common(a, w, 1);
    sq_argv_str(a, message);
    sq_argv_fmt(a, "%lld", (long long) now);
    sq_argv_fmt(a, "%d", SQ_NOTICES_KEEP);

    if (strlen(message) > SQ_NOTICE_MAX) {
        a->failed = 1;
    }
}


void
sq_notices_argv(sq_argv_t *a, const sq_key_who_t *w, size_t limit)
{
    sq_store_who_head(a, w, "sq_notifications", 0, 3);
    sq_argv_fmt(a, SQ_K_USER_NOTIFICATIONS, (unsigned long long) w->uid);
    sq_store_who_common(a, w, 0);
    sq_argv_fmt(a, "%zu", limit != 0 ? limit : SQ_NOTICES_DEF);

    if (w->uid == 0 || limit > SQ_NOTICES_KEEP) {
        a->failed = 1;
    }
}


void
sq_own_argv(sq_argv_t *a, const sq_key_who_t *w, uint64_t kid,
    uint64_t owner, const char *purpose)
{
    sq_store_who_head(a, w, "sq_key_own", 1, 3);
    sq_argv_fmt(a, SQ_K_KEYID, (unsigned long long) kid);
    sq_store_who_common(a, w, 1);

    if (owner != 0) {
        sq_argv_u64(a, owner);
    } else {
        sq_argv_str(a, "");
    }

    sq_argv_str(a, purpose != NULL ? "1" : "0");
    sq_argv_str(a, purpose != NULL ? purpose : "");
}


/* ---- replies ---- */

/* the first word of a keyops reply */
static sq_rc_t
sq_act_rc(const redisReply *r)
{
    static const sq_reply_word_t  words[] = {
        { "OK", SQ_OK },
        { "NOTFOUND", SQ_ERR_NOTFOUND },
        { "NO_OWNER", SQ_ERR_STATE },
        { "NOUSER", SQ_ERR_BADREF },
        { "FORBIDDEN", SQ_ERR_INVALID },
        { "TOOMANY", SQ_ERR_TAKEN }
    };

    return sq_reply_word_rc(r, words, sizeof(words) / sizeof(words[0]));
}


/* element i of r, a JSON text, as a new reference */
static sq_rc_t
sq_act_json_at(const redisReply *r, size_t i, json_t **data)
{
    const redisReply  *e;

    *data = NULL;

    if (r->elements <= i) {
        return SQ_ERR_REDIS;
    }

    e = r->element[i];
    if (e->type != REDIS_REPLY_STRING) {
        return SQ_ERR_REDIS;
    }

    *data = json_loadb(e->str, e->len, JSON_REJECT_DUPLICATES, NULL);

    return *data != NULL ? SQ_OK : SQ_ERR_REDIS;
}


sq_rc_t
sq_act_reply(const redisReply *r, json_t **data)
{
    sq_rc_t  rc;
    json_t  *owner;

    *data = NULL;

    rc = sq_act_rc(r);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = sq_act_json_at(r, 1, data);
    if (rc != SQ_OK || r->elements < 3) {
        return rc;
    }

    /* sq_notify_owner: {'OK', notice, owner id} */
    if (r->element[2]->type != REDIS_REPLY_STRING || !json_is_object(*data)) {
        json_decref(*data);
        *data = NULL;
        return SQ_ERR_REDIS;
    }

    owner = json_integer((json_int_t) strtoll(r->element[2]->str, NULL, 10));
    if (owner == NULL || json_object_set_new(*data, "owner_id", owner) != 0)
    {
        json_decref(*data);
        *data = NULL;
        return SQ_ERR_NOMEM;
    }

    return SQ_OK;
}


/* the rendering of key id among keys (ids[i] its id), or NULL */
static json_t *
sq_review_find(json_t *const *keys, const uint64_t *ids, size_t n,
    uint64_t id)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (ids[i] == id) {
            return keys[i];
        }
    }

    return NULL;
}


/* the category's ids replaced by the keys' renderings */
static sq_rc_t
sq_review_category(json_t *cat, json_t *const *keys, const uint64_t *ids,
    size_t n)
{
    size_t   i;
    json_t  *v, *k;

    if (!json_is_array(cat)) {
        return SQ_ERR_REDIS;
    }

    json_array_foreach(cat, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            return SQ_ERR_REDIS;
        }

        k = sq_review_find(keys, ids, n, (uint64_t) json_integer_value(v));
        if (k == NULL) {
            return SQ_ERR_REDIS;
        }

        if (json_array_set(cat, i, k) != 0) {
            return SQ_ERR_NOMEM;
        }
    }

    return SQ_OK;
}


/* the entries r->element[2..] rendered into keys[], their ids into ids[] */
static sq_rc_t
sq_review_render(const redisReply *r, int64_t now, json_t **keys,
    uint64_t *ids, size_t n)
{
    size_t    i;
    sq_rc_t   rc;
    sq_key_t  k;

    for (i = 0; i < n; i++) {
        rc = sq_key_entry(r->element[i + 2], 0, &k, NULL);
        if (rc != SQ_OK) {
            return rc;
        }

        ids[i] = k.id;
        keys[i] = sq_key_render(&k, now);
        if (keys[i] == NULL) {
            return SQ_ERR_NOMEM;
        }
    }

    return SQ_OK;
}


sq_rc_t
sq_review_reply(const redisReply *r, int64_t now, json_t **data)
{
    size_t               i, n;
    sq_rc_t              rc;
    json_t             **keys;
    uint64_t            *ids;
    static const char   *const cats[] = { "no_owner", "unused", "aging",
                                          "broad" };

    *data = NULL;

    rc = sq_act_rc(r);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = sq_act_json_at(r, 1, data);
    if (rc != SQ_OK) {
        return rc;
    }

    n = r->elements - 2;
    keys = calloc(n + 1, sizeof(json_t *));
    ids = calloc(n + 1, sizeof(uint64_t));

    rc = keys == NULL || ids == NULL ? SQ_ERR_NOMEM
                                     : sq_review_render(r, now, keys, ids, n);

    for (i = 0; rc == SQ_OK && i < sizeof(cats) / sizeof(cats[0]); i++) {
        rc = sq_review_category(json_object_get(*data, cats[i]), keys, ids,
                                n);
    }

    for (i = 0; keys != NULL && i < n; i++) {
        json_decref(keys[i]);
    }
    free(keys);
    free(ids);

    if (rc != SQ_OK) {
        json_decref(*data);
        *data = NULL;
    }

    return rc;
}


sq_rc_t
sq_store_activity_call(redisContext *c, sq_argv_t *a, int review,
    int64_t now, json_t **data)
{
    sq_rc_t      rc;
    redisReply  *r;

    *data = NULL;

    rc = sq_store_argv_call(c, a, &r);
    if (rc != SQ_OK) {
        return rc;
    }

    rc = review ? sq_review_reply(r, now, data) : sq_act_reply(r, data);
    freeReplyObject(r);

    return rc;
}


int
sq_act_time_parse(const char *s, size_t len, int64_t *t)
{
    char  buf[32];

    if (len > 0 && len <= 12 && sq_text_parse_u63(s, len, t) == 0) {
        return 0;
    }

    if (len == 10 && len + 10 < sizeof(buf)) {
        /* YYYY-MM-DD: its midnight, UTC */
        memcpy(buf, s, 10);
        memcpy(buf + 10, "T00:00:00Z", 10);
        return sq_text_parse_utc(buf, 20, t);
    }

    return sq_text_parse_utc(s, len, t);
}
