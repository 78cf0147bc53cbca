/*
 * sqctl_cmd_keyops: the operator's side of keys (issue 16, keyops), by
 * the same function calls as the backend (sq_store_activity.h):
 *
 *   key activity --id K [--since T] [--until T] [--outcome allowed|refused]
 *                [--workspace W] [--limit N] [--cursor C] [--json]
 *   key review [--unused-days N] [--age-days M] [--user U] [--json]
 *   key set --id K [--owner U] [--purpose TEXT]
 *   key notify --id K --message TEXT
 *   user notifications --user U [--limit N] [--json]
 *   app set --id A [--owner U] [--purpose TEXT]
 *   activity unknown [--days N]   refusals of unknown keys per IP (act's
 *                                 sq:act:unknown:<day>), newest day first
 *
 * Lines are tab-separated; --json prints the API's data.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sq_keys.h"
#include "sq_store_activity.h"
#include "sq_store_app.h"
#include "sqctl.h"
#include "sqctl_args.h"


/* 1 when the flag (valueless option) name was given; removed from argv */
static int
sqctl_ko_flag(int *argc, char **argv, const char *name)
{
    int  i, found;

    found = 0;

    for (i = 0; i < *argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            found = 1;
            memmove(&argv[i], &argv[i + 1],
                    (size_t) (*argc - i - 1) * sizeof(char *));
            (*argc)--;
            i--;
        }
    }

    return found;
}


/* "2026-11-30T15:00:00Z", or dash */
static const char *
sqctl_ko_time(json_t *v, char *buf, size_t cap)
{
    if (!json_is_integer(v)
        || sq_text_iso8601((int64_t) json_integer_value(v), buf, cap) != 0)
    {
        return "-";
    }

    return buf;
}


static int
sqctl_ko_json(json_t *d)
{
    char  *s;
    int    rc;

    s = json_dumps(d, JSON_ENCODE_ANY | JSON_INDENT(2));
    if (s == NULL) {
        return SQCTL_FAIL;
    }

    rc = puts(s) >= 0 ? SQCTL_OK : SQCTL_FAIL;
    free(s);

    return rc;
}


/* d as JSON (json) or as lines (lines, when not NULL), then released */
static int
sqctl_ko_out(json_t *d, int json, void (*lines)(json_t *d))
{
    int  rc;

    if (json) {
        rc = sqctl_ko_json(d);
    } else {
        if (lines != NULL) {
            lines(d);
        }
        rc = SQCTL_OK;
    }

    json_decref(d);

    return rc == SQCTL_OK && fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
}


/* a JSON value as a cell: strings bare, null/"" as "-" */
static void
sqctl_ko_cell(json_t *v, const char *sep)
{
    if (json_is_string(v) && json_string_length(v) > 0) {
        printf("%s%s", json_string_value(v), sep);
    } else if (json_is_integer(v)) {
        printf("%lld%s", (long long) json_integer_value(v), sep);
    } else {
        printf("-%s", sep);
    }
}


static int
sqctl_ko_time_opt(const char *name, const char *v, int64_t *t)
{
    if (v == NULL) {
        *t = 0;
        return 0;
    }

    if (sq_act_time_parse(v, strlen(v), t) != 0 || *t <= 0) {
        fprintf(stderr, "sqctl: --%s must be unix seconds, YYYY-MM-DD or "
                "YYYY-MM-DDTHH:MM:SSZ\n", name);
        return -1;
    }

    return 0;
}


static int
sqctl_ko_num_opt(const char *name, const char *v, int64_t max, int64_t *n)
{
    if (v == NULL) {
        *n = 0;
        return 0;
    }

    if (sq_text_parse_u63(v, strlen(v), n) != 0 || *n < 1 || *n > max) {
        fprintf(stderr, "sqctl: --%s must be 1..%lld\n", name,
                (long long) max);
        return -1;
    }

    return 0;
}


/* the activity query of the options (since until outcome workspace
 * limit cursor, in that order from opts[1]) */
static int
sqctl_ko_query(const sqctl_opt_t *o, sq_act_query_t *q)
{
    int64_t  n;

    memset(q, 0, sizeof(*q));

    if (sqctl_ko_time_opt("since", o[1].value, &q->since) != 0
        || sqctl_ko_time_opt("until", o[2].value, &q->until) != 0)
    {
        return -1;
    }

    if (o[3].value != NULL) {
        if (strcmp(o[3].value, "allowed") == 0) {
            q->outcome = SQ_ACT_ALLOWED;
        } else if (strcmp(o[3].value, "refused") == 0) {
            q->outcome = SQ_ACT_REFUSED;
        } else {
            fprintf(stderr, "sqctl: --outcome must be allowed or "
                    "refused\n");
            return -1;
        }
    }

    if ((o[4].value != NULL && sqctl_arg_id("workspace", o[4].value,
                                            &q->wid) != 0)
        || sqctl_ko_num_opt("limit", o[5].value, SQ_ACT_LIMIT_MAX, &n) != 0)
    {
        return -1;
    }
    q->limit = (size_t) n;

    if (o[6].value != NULL) {
        if (strlen(o[6].value) > SQ_ACT_CURSOR_MAX) {
            fprintf(stderr, "sqctl: --cursor is too long\n");
            return -1;
        }
        strcpy(q->cursor, o[6].value);
    }

    return 0;
}


static void
sqctl_ko_activity_lines(json_t *d)
{
    char     t[32];
    size_t   i;
    json_t  *e, *next;

    json_array_foreach(json_object_get(d, "data"), i, e) {
        printf("%s\t", sqctl_ko_time(json_object_get(e, "time"), t,
                                     sizeof(t)));
        sqctl_ko_cell(json_object_get(e, "ip"), "\t");
        sqctl_ko_cell(json_object_get(e, "method"), "\t");
        sqctl_ko_cell(json_object_get(e, "route"), "\t");
        sqctl_ko_cell(json_object_get(e, "workspace_id"), "\t");
        sqctl_ko_cell(json_object_get(e, "status"), "\t");
        sqctl_ko_cell(json_object_get(e, "code"), "\t");
        sqctl_ko_cell(json_object_get(e, "count"), "\n");
    }

    next = json_object_get(d, "next_cursor");
    if (json_is_string(next)) {
        printf("# next: --cursor %s\n", json_string_value(next));
    }
}


int
sqctl_key_activity(sqctl_t *s, int argc, char **argv)
{
    int             rc;
    sq_rc_t         src;
    json_t         *d;
    uint64_t        kid;
    sq_argv_t       a;
    sq_key_who_t    w;
    sq_act_text_t   t;
    sq_act_query_t  q;
    sqctl_opt_t     opts[] = { { "id", 1, NULL }, { "since", 0, NULL },
                               { "until", 0, NULL }, { "outcome", 0, NULL },
                               { "workspace", 0, NULL },
                               { "limit", 0, NULL }, { "cursor", 0, NULL } };
    int             json;

    json = sqctl_ko_flag(&argc, argv, "--json");
    if (sqctl_args(argc, argv, opts, 7) != 0
        || sqctl_arg_id("id", opts[0].value, &kid) != 0
        || sqctl_ko_query(opts, &q) != 0)
    {
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    memset(&w, 0, sizeof(w));
    sq_act_argv(&a, &w, kid, &q, &t);
    src = sq_store_activity_call(s->c, &a, 0, 0, &d);
    if (src != SQ_OK) {
        return sqctl_fail("key activity", src);
    }

    return sqctl_ko_out(d, json, sqctl_ko_activity_lines);
}


/* ---- key review ---- */

/* the categories k's id is in, comma-separated */
static void
sqctl_ko_categories(json_t *d, json_int_t id, char *out, size_t cap)
{
    size_t              i, j, len;
    json_t             *k;
    static const char  *const cats[] = { "no_owner", "unused", "aging",
                                         "broad" };

    out[0] = '\0';

    for (i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
        json_array_foreach(json_object_get(d, cats[i]), j, k) {
            if (json_integer_value(json_object_get(k, "id")) != id) {
                continue;
            }
            len = strlen(out);
            snprintf(out + len, cap - len, "%s%s", len ? "," : "", cats[i]);
        }
    }
}


/* one line per key of the review of d, each once */
static void
sqctl_ko_review_lines(json_t *d)
{
    char                cats[64], t[32];
    size_t              i, j;
    json_t             *k, *done;
    static const char  *const order[] = { "no_owner", "unused", "aging",
                                          "broad" };

    done = json_object();

    for (i = 0; done != NULL && i < sizeof(order) / sizeof(order[0]); i++) {
        json_array_foreach(json_object_get(d, order[i]), j, k) {
            snprintf(t, sizeof(t), "%lld", (long long) json_integer_value(
                         json_object_get(k, "id")));
            if (json_object_get(done, t) != NULL) {
                continue;
            }
            json_object_set_new(done, t, json_true());

            sqctl_ko_categories(d, json_integer_value(json_object_get(k,
                                                                  "id")),
                                cats, sizeof(cats));
            sqctl_ko_cell(json_object_get(k, "id"), "\t");
            sqctl_ko_cell(json_object_get(k, "owner"), "\t");
            sqctl_ko_cell(json_object_get(k, "masked"), "\t");
            sqctl_ko_cell(json_object_get(k, "name"), "\t");
            sqctl_ko_cell(json_object_get(k, "last_used_at"), "\t");
            printf("%s\t", cats);
            sqctl_ko_cell(json_object_get(k, "owner_id"), "\t");
            sqctl_ko_cell(json_object_get(k, "purpose"), "\n");
        }
    }

    json_decref(done);
}


/* the review of user uid into all (its id -> data), or printed */
static sq_rc_t
sqctl_ko_review_user(sqctl_t *s, uint64_t uid, int64_t unused, int64_t age,
    json_t *all)
{
    char          id[24];
    sq_rc_t       rc;
    json_t       *d;
    int64_t       now;
    sq_argv_t     a;
    sq_key_who_t  w;

    memset(&w, 0, sizeof(w));
    w.uid = uid;
    now = (int64_t) time(NULL);

    sq_review_argv(&a, &w, now, unused, age);
    rc = sq_store_activity_call(s->c, &a, 1, now, &d);
    if (rc != SQ_OK) {
        return rc;
    }

    if (all != NULL) {
        snprintf(id, sizeof(id), "%llu", (unsigned long long) uid);
        json_object_set_new(all, id, d);
    } else {
        sqctl_ko_review_lines(d);
        json_decref(d);
    }

    return SQ_OK;
}


int
sqctl_key_review(sqctl_t *s, int argc, char **argv)
{
    int           rc;
    int64_t       unused, age;
    sq_rc_t       src;
    json_t       *all;
    uint64_t      uid, max;
    sqctl_opt_t   opts[] = { { "unused-days", 0, NULL },
                             { "age-days", 0, NULL }, { "user", 0, NULL } };
    int           json;

    uid = 0;
    json = sqctl_ko_flag(&argc, argv, "--json");
    if (sqctl_args(argc, argv, opts, 3) != 0
        || sqctl_ko_num_opt("unused-days", opts[0].value,
                            SQ_REVIEW_DAYS_MAX, &unused) != 0
        || sqctl_ko_num_opt("age-days", opts[1].value, SQ_REVIEW_DAYS_MAX,
                            &age) != 0
        || (opts[2].value != NULL
            && sqctl_arg_id("user", opts[2].value, &uid) != 0))
    {
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    all = json ? json_object() : NULL;
    if (json && all == NULL) {
        return sqctl_fail("key review", SQ_ERR_NOMEM);
    }

    if (uid != 0) {
        src = sqctl_ko_review_user(s, uid, unused, age, all);
    } else {
        src = sq_last_id(s->c, "user", &max);
        for (uid = 1; src == SQ_OK && uid <= max; uid++) {
            src = sqctl_ko_review_user(s, uid, unused, age, all);
        }
    }

    if (src != SQ_OK) {
        json_decref(all);
        return sqctl_fail("key review", src);
    }

    return sqctl_ko_out(all, json, NULL);
}


/* ---- key set, key notify, user notifications ---- */

/* --id N [--owner U] [--purpose TEXT] of key set and app set */
static int
sqctl_ko_set_args(int argc, char **argv, sqctl_opt_t *opts, uint64_t *id,
    uint64_t *owner)
{
    if (sqctl_args(argc, argv, opts, 3) != 0
        || sqctl_arg_id("id", opts[0].value, id) != 0
        || (opts[1].value != NULL
            && sqctl_arg_id("owner", opts[1].value, owner) != 0))
    {
        return -1;
    }

    return 0;
}


/* a --purpose: 0, or -1 once said on stderr */
static int
sqctl_ko_purpose(const char *v)
{
    if (strlen(v) > SQ_KEY_PURPOSE_MAX
        || sq_text_check_ex(v, strlen(v), 0, SQ_KEY_PURPOSE_MAX, 0) != 0)
    {
        fprintf(stderr, "sqctl: --purpose must be at most %d bytes "
                "without control characters\n", SQ_KEY_PURPOSE_MAX);
        return -1;
    }

    return 0;
}


int
sqctl_key_set(sqctl_t *s, int argc, char **argv)
{
    int           rc;
    sq_rc_t       src;
    uint64_t      kid, owner;
    sq_argv_t     a;
    redisReply   *r;
    sq_key_who_t  w;
    sqctl_opt_t   opts[] = { { "id", 1, NULL }, { "owner", 0, NULL },
                             { "purpose", 0, NULL } };

    owner = 0;
    if (sqctl_ko_set_args(argc, argv, opts, &kid, &owner) != 0) {
        return SQCTL_USAGE;
    }

    if (opts[1].value == NULL && opts[2].value == NULL) {
        fprintf(stderr, "sqctl: give --owner, --purpose or both\n");
        return SQCTL_USAGE;
    }

    if (opts[2].value != NULL && sqctl_ko_purpose(opts[2].value) != 0) {
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    memset(&w, 0, sizeof(w));
    sq_own_argv(&a, &w, kid, owner, opts[2].value);

    r = redisCommandArgv(s->c, a.argc, a.argv, a.lens);
    src = r == NULL ? SQ_ERR_IO : sq_key_reply_rc(r);
    if (r != NULL) {
        freeReplyObject(r);
    }

    if (src == SQ_ERR_BADREF) {
        fprintf(stderr, "sqctl: key set: --owner names no user\n");
        return SQCTL_FAIL;
    }

    return src == SQ_OK ? SQCTL_OK : sqctl_fail("key set", src);
}


int
sqctl_key_notify(sqctl_t *s, int argc, char **argv)
{
    int           rc;
    sq_rc_t       src;
    json_t       *d;
    uint64_t      kid;
    sq_argv_t     a;
    sq_key_who_t  w;
    sqctl_opt_t   opts[] = { { "id", 1, NULL }, { "message", 1, NULL } };

    if (sqctl_args(argc, argv, opts, 2) != 0
        || sqctl_arg_id("id", opts[0].value, &kid) != 0)
    {
        return SQCTL_USAGE;
    }

    if (opts[1].value[0] == '\0' || strlen(opts[1].value) > SQ_NOTICE_MAX
        || sq_text_check_ex(opts[1].value, strlen(opts[1].value), 1,
                            SQ_NOTICE_MAX, 1) != 0)
    {
        fprintf(stderr, "sqctl: --message must be 1..%d bytes without "
                "control characters\n", SQ_NOTICE_MAX);
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    memset(&w, 0, sizeof(w));
    sq_notify_argv(&a, &w, kid, opts[1].value, (int64_t) time(NULL));
    src = sq_store_activity_call(s->c, &a, 0, 0, &d);

    if (src == SQ_ERR_STATE) {
        fprintf(stderr, "sqctl: key notify: the key has no owner "
                "(sqctl key set --id %llu --owner U)\n",
                (unsigned long long) kid);
        return SQCTL_FAIL;
    }

    if (src != SQ_OK) {
        return sqctl_fail("key notify", src);
    }

    printf("%lld\n", (long long) json_integer_value(json_object_get(d,
                                                                "owner_id")));
    json_decref(d);

    return fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
}


static void
sqctl_ko_notice_lines(json_t *d)
{
    char     t[32];
    size_t   i;
    json_t  *e;

    json_array_foreach(d, i, e) {
        printf("%s\t", sqctl_ko_time(json_object_get(e, "time"), t,
                                     sizeof(t)));
        sqctl_ko_cell(json_object_get(e, "key_id"), "\t");
        sqctl_ko_cell(json_object_get(e, "from_user_id"), "\t");
        sqctl_ko_cell(json_object_get(e, "message"), "\n");
    }
}


int
sqctl_user_notifications(sqctl_t *s, int argc, char **argv)
{
    int           rc;
    sq_rc_t       src;
    json_t       *d;
    int64_t       limit;
    sq_argv_t     a;
    sq_key_who_t  w;
    sqctl_opt_t   opts[] = { { "user", 1, NULL }, { "limit", 0, NULL } };
    int           json;

    memset(&w, 0, sizeof(w));
    json = sqctl_ko_flag(&argc, argv, "--json");
    if (sqctl_args(argc, argv, opts, 2) != 0
        || sqctl_arg_id("user", opts[0].value, &w.uid) != 0
        || sqctl_ko_num_opt("limit", opts[1].value, SQ_NOTICES_KEEP, &limit)
           != 0)
    {
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    sq_notices_argv(&a, &w, (size_t) limit);
    src = sq_store_activity_call(s->c, &a, 0, 0, &d);
    if (src != SQ_OK) {
        return sqctl_fail("user notifications", src);
    }

    return sqctl_ko_out(d, json, sqctl_ko_notice_lines);
}


/* app set --id A [--owner U] [--purpose TEXT] */
int
sqctl_app_owner_set(sqctl_t *s, int argc, char **argv)
{
    int            rc;
    sq_rc_t        src;
    unsigned       fields;
    uint64_t       id;
    sq_app_t       app;
    sq_argv_t      a;
    redisReply    *r;
    sq_key_who_t   w;
    sq_app_text_t  t;
    sqctl_opt_t    opts[] = { { "id", 1, NULL }, { "owner", 0, NULL },
                              { "purpose", 0, NULL } };

    memset(&app, 0, sizeof(app));
    fields = 0;

    if (sqctl_ko_set_args(argc, argv, opts, &id, &app.owner_id) != 0) {
        return SQCTL_USAGE;
    }

    if (opts[1].value != NULL) {
        fields |= SQ_APP_F_OWNER;
    }

    if (opts[2].value != NULL) {
        if (sqctl_ko_purpose(opts[2].value) != 0) {
            return SQCTL_USAGE;
        }
        memcpy(app.purpose, opts[2].value, strlen(opts[2].value) + 1);
        fields |= SQ_APP_F_PURPOSE;
    }

    if (fields == 0) {
        fprintf(stderr, "sqctl: give --owner, --purpose or both\n");
        return SQCTL_USAGE;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    memset(&w, 0, sizeof(w));
    memset(&t, 0, sizeof(t));
    sq_app_argv_update(&a, &w, id, &app, fields, (int64_t) time(NULL), &t);
    src = sq_store_app_call(s->c, &a, &r);
    if (src == SQ_OK) {
        freeReplyObject(r);
        return SQCTL_OK;
    }

    if (src == SQ_ERR_BADREF) {
        fprintf(stderr, "sqctl: app set: --owner names no user\n");
        return SQCTL_FAIL;
    }

    return sqctl_fail("app set", src);
}


/* one day's refusals of unknown keys, "yyyymmdd" */
static sq_rc_t
sqctl_ko_unknown_day(sqctl_t *s, const char *ymd)
{
    size_t       i;
    sq_rc_t      rc;
    redisReply  *r, *ip, *n;

    rc = sq_cmd(s->c, &r, "HGETALL " SQ_K_ACT_UNKNOWN, ymd);
    if (rc != SQ_OK) {
        return rc;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
        freeReplyObject(r);
        return SQ_ERR_REDIS;
    }

    for (i = 0; i < r->elements; i += 2) {
        ip = r->element[i];
        n = r->element[i + 1];
        if (ip->type == REDIS_REPLY_STRING && n->type == REDIS_REPLY_STRING) {
            printf("%.4s-%.2s-%.2s\t%.*s\t%.*s\n", ymd, ymd + 4, ymd + 6,
                   (int) ip->len, ip->str, (int) n->len, n->str);
        }
    }

    freeReplyObject(r);

    return SQ_OK;
}


/* activity unknown [--days N]: refusals of unknown keys per IP and day */
int
sqctl_activity_unknown(sqctl_t *s, int argc, char **argv)
{
    int          rc;
    char         ymd[16];
    time_t       tt;
    int64_t      days, i, now;
    sq_rc_t      src;
    struct tm    tm;
    sqctl_opt_t  opts[] = { { "days", 0, NULL } };

    if (sqctl_args(argc, argv, opts, 1) != 0
        || sqctl_ko_num_opt("days", opts[0].value, 366, &days) != 0)
    {
        return SQCTL_USAGE;
    }

    if (days == 0) {
        days = 1;
    }

    rc = sqctl_connect(s);
    if (rc != SQCTL_OK) {
        return rc;
    }

    now = (int64_t) time(NULL);
    src = SQ_OK;

    for (i = 0; src == SQ_OK && i < days; i++) {
        tt = (time_t) (now - i * 86400);
        if (gmtime_r(&tt, &tm) == NULL
            || strftime(ymd, sizeof(ymd), "%Y%m%d", &tm) != 8)
        {
            src = SQ_ERR_INVALID;
            break;
        }
        src = sqctl_ko_unknown_day(s, ymd);
    }

    if (src != SQ_OK) {
        return sqctl_fail("activity unknown", src);
    }

    return fflush(stdout) == 0 ? SQCTL_OK : SQCTL_FAIL;
}
