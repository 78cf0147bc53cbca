/*
 * sq_procs: fork, watch, restart with backoff, stop the workers.
 */

#define _DEFAULT_SOURCE             /* prctl, sigtimedwait */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/wait.h>

#include "sq_listen.h"
#include "sq_log.h"
#include "sq_procs.h"


static int64_t
sq_procs_now_ms(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


int
sq_procs_write_pid(const char *path)
{
    int   fd, len;
    char  buf[32];

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        sq_log(SQ_LOG_ERR, "cannot write the pid file");
        return -1;
    }

    len = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
    if (write(fd, buf, (size_t) len) != len) {
        close(fd);
        sq_log(SQ_LOG_ERR, "cannot write the pid file");
        return -1;
    }

    return close(fd);
}


static void
sq_procs_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
}


static int
sq_procs_open(sq_procs_t *p, int i)
{
    char  err[256];

    p->slot[i].fd = sq_listen_open(p->host, p->port, 1, err, sizeof(err));
    if (p->slot[i].fd < 0) {
        sq_log(SQ_LOG_ERR, "worker %d: cannot listen on %s", i, err);
        return -1;
    }

    return 0;
}


/* in the child: die with the supervisor, keep only its own socket */
static void
sq_procs_child(sq_procs_t *p, int i, pid_t parent)
{
    int       j, rc;
    sigset_t  set;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
        _exit(1);
    }

    for (j = 0; j < p->n; j++) {
        if (j != i && p->slot[j].fd >= 0) {
            close(p->slot[j].fd);
        }
    }

    sq_procs_signals(&set);
    sigprocmask(SIG_UNBLOCK, &set, NULL);

    rc = p->run(p->arg, p->slot[i].fd);

    exit(rc);
}


static int
sq_procs_spawn(sq_procs_t *p, int i)
{
    pid_t  pid, parent;

    if (p->slot[i].fd < 0 && sq_procs_open(p, i) != 0) {
        return -1;
    }

    parent = getpid();
    pid = fork();

    if (pid < 0) {
        sq_log(SQ_LOG_ERR, "worker %d: fork: %s", i, strerror(errno));
        return -1;
    }

    if (pid == 0) {
        sq_procs_child(p, i, parent);
    }

    p->slot[i].pid = pid;
    p->slot[i].started_ms = sq_procs_now_ms();
    sq_log(SQ_LOG_INFO, "worker %d started, pid %ld", i, (long) pid);

    return 0;
}


/* a start that failed, or a worker that died: when to try again */
static void
sq_procs_backoff(sq_procs_t *p, int i, int crashed)
{
    sq_procs_slot_t  *s = &p->slot[i];

    if (!crashed) {
        s->backoff_ms = 0;

    } else if (s->backoff_ms == 0) {
        s->backoff_ms = SQ_PROCS_BACKOFF_MIN_MS;

    } else if (s->backoff_ms < SQ_PROCS_BACKOFF_MAX_MS) {
        s->backoff_ms *= 2;
        if (s->backoff_ms > SQ_PROCS_BACKOFF_MAX_MS) {
            s->backoff_ms = SQ_PROCS_BACKOFF_MAX_MS;
        }
    }

    s->restart_ms = sq_procs_now_ms() + s->backoff_ms;

    /* while nobody accepts on it, new connections go to the others */
    if (s->backoff_ms > 0 && s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}


static int
sq_procs_slot_of(sq_procs_t *p, pid_t pid)
{
    int  i;

    for (i = 0; i < p->n; i++) {
        if (p->slot[i].pid == pid) {
            return i;
        }
    }

    return -1;
}


/* every worker that exited; when restart is set, plans its restart */
static int
sq_procs_reap(sq_procs_t *p, int restart)
{
    int      i, st, n, crashed;
    pid_t    pid;
    int64_t  lived;

    n = 0;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        i = sq_procs_slot_of(p, pid);
        if (i < 0) {
            continue;
        }

        n++;
        p->slot[i].pid = 0;
        lived = sq_procs_now_ms() - p->slot[i].started_ms;
        crashed = lived < SQ_PROCS_SHORT_MS;

        if (WIFSIGNALED(st)) {
            sq_log(restart ? SQ_LOG_ERR : SQ_LOG_INFO,
                   "worker %d, pid %ld, killed by signal %d after %lld ms",
                   i, (long) pid, WTERMSIG(st), (long long) lived);
        } else {
            sq_log(restart && WEXITSTATUS(st) != 0 ? SQ_LOG_ERR
                                                   : SQ_LOG_INFO,
                   "worker %d, pid %ld, exited with status %d after %lld ms",
                   i, (long) pid, WEXITSTATUS(st), (long long) lived);
        }

        if (restart) {
            sq_procs_backoff(p, i, crashed);
            if (p->slot[i].backoff_ms > 0) {
                sq_log(SQ_LOG_WARN, "worker %d: restarting in %lld ms", i,
                       (long long) p->slot[i].backoff_ms);
            }
        }
    }

    return n;
}


/* starts every stopped worker that is due; ms until the next one due */
static int64_t
sq_procs_start_due(sq_procs_t *p)
{
    int      i;
    int64_t  now, next;

    now = sq_procs_now_ms();
    next = 1000;

    for (i = 0; i < p->n; i++) {
        if (p->slot[i].pid != 0) {
            continue;
        }

        if (p->slot[i].restart_ms <= now && sq_procs_spawn(p, i) == 0) {
            continue;
        }

        if (p->slot[i].restart_ms <= now) {
            sq_procs_backoff(p, i, 1);
        }

        if (p->slot[i].restart_ms - now < next) {
            next = p->slot[i].restart_ms - now;
        }
    }

    return next > 0 ? next : 0;
}


static int
sq_procs_running(sq_procs_t *p)
{
    int  i, n;

    for (i = 0, n = 0; i < p->n; i++) {
        n += p->slot[i].pid != 0;
    }

    return n;
}


static void
sq_procs_kill_all(sq_procs_t *p, int sig)
{
    int  i;

    for (i = 0; i < p->n; i++) {
        if (p->slot[i].pid != 0) {
            kill(p->slot[i].pid, sig);
        }
    }
}


/* closes the sockets, passes sig on, waits, then kills what is left */
static void
sq_procs_stop(sq_procs_t *p, int sig)
{
    int              i;
    int64_t          end, left;
    sigset_t         set;
    struct timespec  ts;

    for (i = 0; i < p->n; i++) {
        if (p->slot[i].fd >= 0) {
            close(p->slot[i].fd);
            p->slot[i].fd = -1;
        }
    }

    sq_log(SQ_LOG_INFO, "signal %d, stopping %d workers", sig,
           sq_procs_running(p));
    sq_procs_kill_all(p, SIGTERM);

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    end = sq_procs_now_ms() + SQ_PROCS_STOP_MS;

    while (sq_procs_running(p) > 0) {
        sq_procs_reap(p, 0);
        left = end - sq_procs_now_ms();

        if (sq_procs_running(p) == 0) {
            break;
        }

        if (left <= 0) {
            sq_log(SQ_LOG_ERR, "%d workers still running after %d ms: "
                   "killed", sq_procs_running(p), SQ_PROCS_STOP_MS);
            sq_procs_kill_all(p, SIGKILL);
            end = sq_procs_now_ms() + SQ_PROCS_STOP_MS;
            continue;
        }

        ts.tv_sec = left / 1000;
        ts.tv_nsec = (left % 1000) * 1000000;
        (void) sigtimedwait(&set, NULL, &ts);
    }
}


int
sq_procs_supervise(sq_procs_t *p)
{
    int              i, sig;
    int64_t          wait_ms;
    sigset_t         set;
    struct timespec  ts;

    /* signals are taken by sigtimedwait; the workers unblock them */
    sq_procs_signals(&set);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
        return 1;
    }

    for (i = 0; i < p->n; i++) {
        p->slot[i].pid = 0;
        p->slot[i].fd = -1;
        p->slot[i].backoff_ms = 0;
        p->slot[i].restart_ms = 0;
    }

    for (i = 0; i < p->n; i++) {
        if (sq_procs_open(p, i) != 0) {
            sq_procs_stop(p, SIGTERM);
            return 1;
        }
    }

    for (i = 0; i < p->n; i++) {
        if (sq_procs_spawn(p, i) != 0) {
            sq_procs_stop(p, SIGTERM);
            return 1;
        }
    }

    if (p->pid_file != NULL && sq_procs_write_pid(p->pid_file) != 0) {
        sq_procs_stop(p, SIGTERM);
        return 1;
    }

    sq_log(SQ_LOG_INFO, "listening on %s:%u, %d workers", p->host,
           (unsigned) p->port, p->n);

    for ( ;; ) {
        wait_ms = sq_procs_start_due(p);
        ts.tv_sec = wait_ms / 1000;
        ts.tv_nsec = (wait_ms % 1000) * 1000000;

        sig = sigtimedwait(&set, NULL, &ts);

        if (sig == SIGTERM || sig == SIGINT) {
            sq_procs_stop(p, sig);
            break;
        }

        sq_procs_reap(p, 1);
    }

    if (p->pid_file != NULL) {
        unlink(p->pid_file);
    }

    return 0;
}
