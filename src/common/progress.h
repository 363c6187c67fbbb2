/* progress.h: progress of a long command (imports, reports) on standard error, only when it is a
 * terminal (and --quiet is not given): one line rewritten in place ("\r", erase to end of line),
 * at most ten times a second, erased when the work is done, so nothing of it reaches a file, a
 * pipe or a log. A NULL progress, or one that is off, is accepted everywhere and does nothing. */
#ifndef FMTBANK_PROGRESS_H
#define FMTBANK_PROGRESS_H
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

struct progress {
    bool on;
    FILE *out;               /* stderr */
    char what[160];          /* "importing \"results.csv\"" */
    char phase[96];          /* "reading lines" */
    unsigned long long n;    /* done in this phase */
    struct timespec start;   /* of the command */
    struct timespec last;    /* the last time the line was drawn */
    bool drawn;              /* a line is on the terminal */
};

/* Whether a command shows progress: standard error is a terminal and not quiet. */
bool progress_wanted(bool quiet);
/* Starts: on as given (progress_wanted()), what names the work. */
void progress_start(struct progress *p, bool on, const char *what);
/* A new phase (printf format), its count back to 0; drawn at once. */
void progress_phase(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* k more done in this phase; drawn when a tenth of a second has passed since the last time. */
void progress_add(struct progress *p, unsigned long long k);
/* Erases the line (the command's own summary follows). */
void progress_end(struct progress *p);

#endif
