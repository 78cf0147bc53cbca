/*
 * sq_log: timestamped records on stderr, control characters masked.
 */

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "sq_log.h"


#define SQ_LOG_LINE_MAX  1024


static const char *
sq_log_level_name(sq_log_level_t level)
{
    switch (level) {
    case SQ_LOG_ERR:
        return "error";
    case SQ_LOG_WARN:
        return "warn";
    default:
        return "info";
    }
}


void
sq_log(sq_log_level_t level, const char *fmt, ...)
{
    char        line[SQ_LOG_LINE_MAX], stamp[32];
    size_t      i;
    time_t      now;
    va_list     ap;
    struct tm   tm;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);

    for (i = 0; line[i] != '\0'; i++) {
        if ((unsigned char) line[i] < 0x20 || line[i] == 0x7f) {
            line[i] = '?';
        }
    }

    now = time(NULL);
    if (gmtime_r(&now, &tm) == NULL
        || strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        stamp[0] = '\0';
    }

    fprintf(stderr, "%s [%s] %s\n", stamp, sq_log_level_name(level), line);
}
