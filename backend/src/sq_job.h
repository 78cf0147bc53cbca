/*
 * sq_job: a request between its handler and its Redis reply.  A handler
 * makes a job (a copy of its sq_req_t), builds one FCALL with
 * sq_job_head + its keys + sq_job_common + its arguments, and
 * sq_job_start()s it; the callback begins with sq_job_enter, answers,
 * and ends with sq_job_done.  Every function of redis/smartlyq.lua it
 * calls takes KEYS[1] the nonce (writes) or "", KEYS[2] the identity
 * workspace's members or "", ARGV[1..5] as sq_job_common sends them,
 * and answers {'OK', ...} or a refusal that sq_job_refused maps.
 */

#ifndef SQ_JOB_H
#define SQ_JOB_H

#include <hiredis/hiredis.h>

#include "sq_aredis.h"
#include "sq_argv.h"
#include "sq_req.h"
#include "sq_store_key.h"

/*
 * A request between its handler and its Redis reply.  r is a copy of the
 * pipeline's, which lives on its stack; r.req stays valid until it is
 * answered (evhttp keeps a request whose client went away until then),
 * and sq_aredis answers every command exactly once, so a job is answered
 * and freed exactly once.
 */
typedef struct {
    sq_req_t      r;
    sq_record_t   rec;          /* create, patch */
    size_t        limit;        /* list */
    uint64_t      id;           /* the path's {id} */
    int           unique_given; /* create: the client chose the value */
    int           tries;        /* create: draws of a generated value */
    int           check_ref;    /* patch: the reference changed */
    int64_t       ttl;          /* a write's nonce, seconds; -1: a read */
    char         *kws;          /* the key's list "1,2", owned, or NULL */
    uint64_t      start_us;     /* when it arrived (sq_metrics_now) */
    int           keys;         /* a /v1/keys request (its metrics) */
    int           apps;         /* a /v1/apps request (issue 14) */
    void         *ext;          /* a handler's own state, or NULL */
    void        (*ext_free)(void *ext);     /* frees ext with the job, or
                                               NULL: wiped (ext_size
                                               bytes) and freed */
    size_t        ext_size;
} sq_job_t;

/* A job for r (write: with its nonce's TTL), or NULL after a 500. */
sq_job_t *sq_job_new(sq_req_t *r, int write);

/*
 * The same with ext: size zeroed bytes of the handler's own state, which
 * may hold secrets (a new key, a client secret): wiped and freed with
 * the job.  NULL after a 500.
 */
sq_job_t *sq_job_new_ext(sq_req_t *r, int write, size_t size);

/* the caller of a job's calls (keys, apps); write: with its nonce */
void sq_job_who(const sq_job_t *j, int write, sq_key_who_t *w);

/* The {id} of /v1/<collection>/{id}[/...]; replies 404 when malformed. */
int sq_job_path_id(sq_req_t *r, uint64_t *id);
void sq_job_free(sq_job_t *j);

/* A callback's start (its reply's metrics) and end (frees the job). */
void sq_job_enter(sq_job_t *j);
void sq_job_done(sq_job_t *j);

/* FCALL|FCALL_RO fn nkeys, KEYS[1] nonce or "", KEYS[2] members or "" */
void sq_job_head(sq_argv_t *a, const sq_job_t *j, const char *fn,
    int nkeys);

/* ARGV[1..5]: uid, the identity's workspace, the key's list, mode, TTL */
void sq_job_common(sq_argv_t *a, const sq_job_t *j);

/* Sends; on failure answers (500, or 503: Redis unavailable), -1. */
int sq_job_send(sq_job_t *j, sq_argv_t *a, sq_aredis_fn fn);

/* sq_job_send from a handler: sets r->async, or frees the job. */
void sq_job_start(sq_job_t *j, sq_req_t *r, sq_argv_t *a, sq_aredis_fn fn);

/* 403: the identity is not a member of its workspace (any more). */
void sq_job_forbidden(sq_job_t *j);

/* 1 and answered unless the reply is an array whose first is "OK". */
int sq_job_refused(sq_job_t *j, const redisReply *reply);

/* Logs corrupt data and answers 500. */
void sq_job_corrupt(sq_job_t *j);

#endif /* SQ_JOB_H */
