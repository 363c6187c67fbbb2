/* progress.c: one progress line on a terminal's standard error. */
#include "common/progress.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

bool
progress_wanted(bool quiet)
{
    return !quiet && isatty(STDERR_FILENO);
}

static double
seconds(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* 1234567 as "1,234,567". */
static void
grouped(char *buf, size_t size, unsigned long long v)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%llu", v), k = 0;
    for (int i = 0; i < n && (size_t)k + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
}

static void
draw(struct progress *p, const struct timespec *now)
{
    char count[40] = "";
    if (p->n > 0)
        grouped(count, sizeof(count), p->n);
    fprintf(p->out, "\r\033[K%s: %s%s%s (%.1f s)", p->what, p->phase, *count ? " " : "", count,
            seconds(&p->start, now));
    fflush(p->out);
    p->last = *now;
    p->drawn = true;
}

void
progress_start(struct progress *p, bool on, const char *what)
{
    memset(p, 0, sizeof(*p));
    p->on = on;
    p->out = stderr;
    snprintf(p->what, sizeof(p->what), "%s", what);
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    p->last = p->start;
}

void
progress_phase(struct progress *p, const char *fmt, ...)
{
    if (!p || !p->on)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->phase, sizeof(p->phase), fmt, ap);
    va_end(ap);
    p->n = 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    draw(p, &now);
}

void
progress_add(struct progress *p, unsigned long long k)
{
    if (!p || !p->on)
        return;
    p->n += k;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (seconds(&p->last, &now) >= 0.1)
        draw(p, &now);
}

void
progress_end(struct progress *p)
{
    if (!p || !p->on || !p->drawn)
        return;
    fputs("\r\033[K", p->out);
    fflush(p->out);
    p->drawn = false;
}
