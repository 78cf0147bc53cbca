/*
 * sq_console: the operator's console (issue 16), server-rendered pages
 * under /console/ served through the edge (conf/smartlyq-console.conf).
 *
 *   sq_console.c          the dispatch, the session, CSRF, the layout
 *                         and its CSP, the static files
 *   sq_console_keys.c     the keys list (sparklines), create, and the
 *                         confirmed disable / enable / rotate / delete
 *   sq_console_key.c      a key's page (activity, the Ownership form),
 *                         the checklist, notify owner, notifications
 *   sq_console_play.c     the API playground
 *   sq_console_apps.c     the API Applications: redirect URIs, outcomes,
 *                         secret rotation
 *
 * Every page but the static files needs the sign-in session of
 * sq_signin.c (else a redirect to /signin?next=/console/...); every POST
 * needs the session's CSRF token in its form (else 403) and, when the
 * browser sends one, an Origin of this Host.  The key actions are the
 * key functions of /v1/keys (sq_store_key.h) as the session's user.
 */

#ifndef SQ_CONSOLE_H
#define SQ_CONSOLE_H

#include "sq_public.h"
#include "sq_store_key.h"
#include "sq_keygen.h"
#include "sq_app.h"

#define SQ_CON_KEYS_MAX     100     /* keys on the list */
#define SQ_CON_DAYS         30      /* the sparkline's days */
#define SQ_CON_OWNER_MAX    24
#define SQ_CON_PURPOSE_MAX  200
#define SQ_CON_PEOPLE_MAX   200     /* owners offered on a key's page */

/* a row of the keys list: what sq_key_t lacks */
typedef struct {
    char            owner[SQ_CON_OWNER_MAX + 1];
    char            purpose[SQ_CON_PURPOSE_MAX + 1];
    sq_usage_day_t  d[SQ_CON_DAYS];
    int             usage;          /* d is filled */
} sq_con_row_t;

/* a row of the apps list: its authorize outcomes */
typedef struct {
    sq_outcome_counts_t  c;
    sq_outcome_t         o[5];
    size_t               n;
    int                  ok;            /* c and o are filled */
} sq_con_app_row_t;

/* a console request's own state (sq_pub_t's console) */
typedef struct {
    const char     *sub;        /* the path after /console/ */
    int             post;
    void          (*page)(sq_pub_t *p);   /* once the session is known */
    uint64_t        kid;        /* keys/<id>/... */
    const char     *verb;       /* keys/<id>/<verb> */
    sq_key_t        k;
    sq_key_text_t   t;
    char            key[SQ_KEY_GEN_LEN + 1];    /* a new key, wiped */
    sq_key_t       *keys;       /* the list, malloc()ed */
    sq_con_row_t   *rows;
    size_t          n;
    size_t          calls;      /* usage / outcome calls sent */
    size_t          pending;    /* ... and still in flight */
    sq_app_t       *apps;       /* the apps list, malloc()ed */
    sq_con_app_row_t  *app_rows;
    json_t         *people;     /* [{"id","name","email"}]: owners to name */
} sq_con_t;


/* the layout: a page with the nav (active: "keys", ...), and its reply
 * with the strict CSP */
struct evbuffer *sq_con_begin(sq_pub_t *p, const char *title,
    const char *active);
/* sq_con_begin, or NULL once the 500 is sent */
struct evbuffer *sq_con_page(sq_pub_t *p, const char *title,
    const char *active);
void sq_con_send(sq_pub_t *p, int status, struct evbuffer *b);
void sq_con_error(sq_pub_t *p, int status, const char *title,
    const char *text);
/* a table's end, and <p id="id">text</p> when it had no row (n 0) */
void sq_con_table_end(struct evbuffer *b, size_t n, const char *id,
    const char *text);
/* a hidden input with the session's CSRF token */
void sq_con_csrf(sq_pub_t *p, struct evbuffer *b);
/* "YYYY-MM-DD HH:MM UTC" or "never" */
void sq_con_time(struct evbuffer *b, int64_t t);
/* 'Key N disabled.' after an action (done=, id= of the query) */
void sq_con_flash(sq_pub_t *p, struct evbuffer *b);
/* the who of the key functions: the session's user */
void sq_con_who(const sq_pub_t *p, sq_key_who_t *w);
/* a string field of an HGETALL array reply, or NULL */
const char *sq_con_field(const redisReply *h, const char *name);
/* the first page of the session's user's keys, its reply to fn */
void sq_con_keys_send(sq_pub_t *p, sq_aredis_fn fn);
/* the callback's start for a key function: 0, or -1 once answered */
int sq_con_enter(sq_pub_t *p, const redisReply *reply);

/* the users the session's user may name as an owner (sq_con_people of
 * smartlyq.lua, at most SQ_CON_PEOPLE_MAX): sends the call; 0, or -1
 * after a 503 */
int sq_con_people_send(sq_pub_t *p, sq_aredis_fn fn);
/* its reply into c->people; 0, or -1 after a 500 page */
int sq_con_people_take(sq_pub_t *p, const redisReply *reply);
/* an owner id as "name <email>" when c->people knows it, else "user N";
 * "no owner" when owner is NULL or "" */
void sq_con_owner(sq_pub_t *p, struct evbuffer *b, const char *owner);
/*
 * a page's fan-out (one call a row, its last reply renders the page):
 * sent, the calls that went: -1 for none (the caller renders now);
 * fan_in, a reply came: its row; fan_end, render when it was the last
 */
int sq_con_fan_sent(sq_pub_t *p, size_t sent);
size_t sq_con_fan_in(sq_pub_t *p);
void sq_con_fan_end(sq_pub_t *p, void (*render)(sq_pub_t *p));

/* the pages */
void sq_con_keys(sq_pub_t *p);
void sq_con_key_new(sq_pub_t *p);
void sq_con_key_create(sq_pub_t *p);
void sq_con_key_confirm(sq_pub_t *p);
void sq_con_key_act(sq_pub_t *p);
void sq_con_key_page(sq_pub_t *p);
void sq_con_checklist(sq_pub_t *p);
void sq_con_notify(sq_pub_t *p);
void sq_con_key_own(sq_pub_t *p);
void sq_con_notifications(sq_pub_t *p);
void sq_con_playground(sq_pub_t *p);
void sq_con_apps(sq_pub_t *p);
void sq_con_app_confirm(sq_pub_t *p);
void sq_con_app_rotate(sq_pub_t *p);

/* the static files (sq_console_static.c) */
extern const char  sq_con_css[];
extern const char  sq_con_js[];

#endif /* SQ_CONSOLE_H */
