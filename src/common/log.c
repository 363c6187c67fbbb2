/* log.c: "2026-11-27T08:30:00Z INFO message" lines on stderr. */
#include "common/log.h"
#include "common/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    /* File names and lines from files are escaped: no control character reaches the log raw. */
    char *safe = n >= 0 ? text_escape(text, (size_t)n, TEXT_KEEP_LINES) : NULL;
    fprintf(stderr, "%s %s %s\n", stamp, names[level], safe ? safe : fmt);
    free(safe);
    free(text);
    fflush(stderr);
}
