/* report.h: the report engine: finds the definitions in the reports directories, runs one into an
 * xlsx file (streaming), checks every definition against the database, lists them. The CLI
 * (src/cmd/report.c), "release report" and the daemon's scheduled reports all come through here. */
#ifndef FMTBANK_REPORT_H
#define FMTBANK_REPORT_H
#include "common/error.h"
#include "common/strbuf.h"
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Excel's limits on the rows of a worksheet that report_request.sheet_rows may lower. */
#define REPORT_SHEET_ROWS_MIN 8
#define REPORT_SHEET_ROWS_MAX 1048576

struct progress;

/* A report to write. */
struct report_request {
    const char *name;
    const char *const *params; /* "K=V" strings */
    size_t nparams;
    const char *out_path; /* must end in .xlsx */
    /* Rows per worksheet before a table continues on a new sheet ("Aliquots (2)" ...): 0 for
     * Excel's maximum, else REPORT_SHEET_ROWS_MIN .. REPORT_SHEET_ROWS_MAX. */
    uint32_t sheet_rows;
    /* Rows written, sheet by sheet (common/progress.h), or NULL. */
    struct progress *progress;
};

/* What report_run wrote (for the CLI's summary line). */
struct report_stats {
    size_t sheets;
    unsigned long long rows;
};

/* Runs report req->name with its parameters, writing req->out_path through a temporary file in
 * the same directory renamed into place on success, so nobody ever sees a half-written report and
 * a failure leaves no file. conn must be idle (not in a transaction): the report's queries run in
 * one read-only repeatable-read transaction, so all its sheets show the same database state.
 * stats (may be NULL) receives what was written. Returns 0, or -1 with err set: FB_ERR_NOTFOUND
 * (no such report), FB_ERR_USAGE (unknown, repeated or missing parameter, output name, rows per
 * sheet), FB_ERR_INPUT (bad parameter value, broken definition, unwritable output), or what the
 * database said (e.g. FB_ERR_PERMISSION for a role that may not read the data). */
int report_run(PGconn *conn, const struct report_request *req, struct report_stats *stats,
               struct fb_error *err);

/* Checks the named definitions (all when n is 0): parses them, prepares every query with the
 * declared parameter types, compares the declared columns (names, order, types) with the query's
 * result columns, and validates parameter defaults. Writes "NAME: ok" or "NAME: <problem>" for
 * each to out; the problems also go to errout. Returns the number of broken definitions, or -1
 * with err set when the check itself could not run. */
int report_check(PGconn *conn, const char *const *names, size_t n, FILE *out, FILE *errout,
                 struct fb_error *err);

/* Appends a JSON array describing every definition (name, title, description, sheets, parameters,
 * directory) to json; definitions that do not parse are reported on errout and left out.
 * Returns the number left out. */
int report_list_json(struct strbuf *json, FILE *errout);

/* The directories searched for definitions, in order: $FMTBANK_REPORTS (a ':'-separated list),
 * else the source tree's or installed reports/. Returns a malloc'd NULL-terminated array. */
char **report_dirs(void);
void report_dirs_free(char **dirs);

#endif
