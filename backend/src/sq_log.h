/*
 * sq_log: one-line log records on stderr.  Never pass secrets or full
 * keys to it.
 */

#ifndef SQ_LOG_H
#define SQ_LOG_H

typedef enum {
    SQ_LOG_ERR = 0,
    SQ_LOG_WARN,
    SQ_LOG_INFO
} sq_log_level_t;

void sq_log(sq_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* SQ_LOG_H */
