/* log.c: "2026-11-27T08:30:00Z INFO message" lines on stderr. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static const char *const names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};

void
log_set_level(enum log_level level)
{
    min_level = level;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s %s ", stamp, names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
}
