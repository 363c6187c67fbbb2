/* util.h: allocation that aborts on out-of-memory, and die() for main() and option parsing. */
#ifndef FMTBANK_UTIL_H
#define FMTBANK_UTIL_H
#include <stddef.h>
#include <stdbool.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool str_empty(const char *s);
bool str_starts_with(const char *s, const char *prefix);

#endif
