/*
 * sq_procs: the supervisor of the backend's worker processes.
 *
 * The supervisor opens one SO_REUSEPORT socket per worker slot before it
 * forks, and keeps its copy: a worker that dies is replaced in the same
 * slot, on the same socket, so the connections queued on it wait for
 * the replacement instead of being reset.  A worker that dies within
 * SQ_PROCS_SHORT_MS of its start is crash-looping: it is started again
 * after a backoff (SQ_PROCS_BACKOFF_MIN_MS, doubling up to
 * SQ_PROCS_BACKOFF_MAX_MS), and until then its socket is closed, so that
 * the kernel sends new connections to the live workers.
 *
 * SIGTERM or SIGINT to the supervisor: it closes its copies of the
 * sockets, passes the signal on (each worker stops accepting, answers
 * what it has in flight, exits), waits SQ_PROCS_STOP_MS at most, then
 * kills what is left.  A worker dies with its supervisor, however the
 * supervisor dies (PR_SET_PDEATHSIG).
 */

#ifndef SQ_PROCS_H
#define SQ_PROCS_H

#include <stdint.h>
#include <sys/types.h>

#define SQ_WORKERS_MAX           64
#define SQ_PROCS_SHORT_MS        1000
#define SQ_PROCS_BACKOFF_MIN_MS  100
#define SQ_PROCS_BACKOFF_MAX_MS  5000
#define SQ_PROCS_STOP_MS         10000

/* a worker's body: runs in the child on its listening socket fd, which
 * it owns; returns the child's exit status */
typedef int (*sq_procs_run_pt)(void *arg, int fd);

typedef struct {
    pid_t      pid;                 /* 0: not running */
    int        fd;                  /* the slot's socket, -1: closed */
    int64_t    started_ms;
    int64_t    restart_ms;          /* when to start it again */
    int64_t    backoff_ms;          /* 0: at once */
} sq_procs_slot_t;

typedef struct {
    const char       *host;
    uint16_t          port;
    int               n;            /* workers, 1..SQ_WORKERS_MAX */
    sq_procs_run_pt   run;
    void             *arg;
    const char       *pid_file;     /* written with the supervisor's pid */
    sq_procs_slot_t   slot[SQ_WORKERS_MAX];
} sq_procs_t;

/* Writes this process's pid to path; 0, or -1 (logged). */
int sq_procs_write_pid(const char *path);

/*
 * Opens the sockets, forks the workers, writes the pid file and
 * supervises until SIGTERM or SIGINT; returns the exit status (0 after a
 * stop, 1 when the workers could not be started).
 */
int sq_procs_supervise(sq_procs_t *p);

#endif /* SQ_PROCS_H */
