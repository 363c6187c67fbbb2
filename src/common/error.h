/* error.h: caller-owned errors (message, detail, hint) and the one table from error kind to exit code. */
#ifndef FMTBANK_ERROR_H
#define FMTBANK_ERROR_H
#include <stdio.h>

/* The values are the documented exit codes of every fmtbank command. */
enum fb_errkind {
    FB_OK = 0,
    FB_ERR_INTERNAL = 1,   /* unexpected failure */
    FB_ERR_USAGE = 2,      /* bad command line */
    FB_ERR_INPUT = 3,      /* invalid input: check character, malformed file, unknown code */
    FB_ERR_NOTFOUND = 4,   /* the named record does not exist */
    FB_ERR_REFUSED = 5,    /* refused by a rule */
    FB_ERR_PERMISSION = 6, /* the acting role may not do this */
    FB_ERR_DBUNAVAIL = 7,  /* database unavailable */
    FB_ERR_TRANSIENT = 8,  /* a concurrent writer held a lock too long or conflicted: try again */
};

struct fb_error {
    enum fb_errkind kind;
    char *message;
    char *detail;
    char *hint;
    char sqlstate[6];
};

void fb_error_set(struct fb_error *e, enum fb_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fb_error_detail(struct fb_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fb_error_hint(struct fb_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fb_error_clear(struct fb_error *e);
void fb_error_print(const struct fb_error *e, FILE *out);
const char *fb_errkind_name(enum fb_errkind kind);
/* Exit-code table for --help. */
void fb_exit_codes_print(FILE *out);

#endif
