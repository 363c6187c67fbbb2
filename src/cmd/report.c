/* report.c: "fmtbank report NAME|list|check": xlsx reports from the definitions in reports/
 * (the engine is src/report/; this file only parses the command line). */
#include "cmd/cmd.h"
#include "db/db.h"
#include "report/report.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --sheet-rows N: rows per worksheet before a long table continues on the next. */
static int
sheet_rows_parse(struct cmd_ctx *ctx, const char *text, uint32_t *out)
{
    if (!text)
        return 0;
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (!isdigit((unsigned char)*text) || *end || errno || v < REPORT_SHEET_ROWS_MIN ||
        v > REPORT_SHEET_ROWS_MAX) {
        fb_error_set(&ctx->err, FB_ERR_USAGE, "invalid value \"%s\" for \"--sheet-rows\"", text);
        fb_error_detail(&ctx->err, "It must be a whole number from %d to %d.",
                        REPORT_SHEET_ROWS_MIN, REPORT_SHEET_ROWS_MAX);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int
cmd_report_run(struct cmd_ctx *ctx)
{
    const char *out = cmd_opt(ctx, "output");
    const char *as_of = cmd_opt(ctx, "as-of");
    const struct opt_list *params = cmd_multi(ctx, "param");
    /* --as-of TS is the parameter as_of=TS (a report without it refuses it as unknown) */
    const char **all = xcalloc(params->n + 1, sizeof(char *));
    char *as_of_param = as_of ? xasprintf("as_of=%s", as_of) : NULL;
    size_t n = 0;
    for (; n < params->n; n++)
        all[n] = params->items[n];
    if (as_of_param)
        all[n++] = as_of_param;
    struct report_request req = {.name = ctx->args[0], .params = all, .nparams = n,
                                 .out_path = out};
    struct report_stats st;
    int rc = sheet_rows_parse(ctx, cmd_opt(ctx, "sheet-rows"), &req.sheet_rows);
    if (rc < 0) {
        free(all);
        free(as_of_param);
        return FB_ERR_USAGE;
    }
    struct progress prog;
    char *what = xasprintf("report \"%s\"", ctx->args[0]);
    progress_start(&prog, progress_wanted(ctx->quiet), what);
    free(what);
    req.progress = &prog;
    rc = report_run(ctx->conn, &req, &st, &ctx->err);
    progress_end(&prog);
    free(all);
    free(as_of_param);
    if (rc == 0) {
        fprintf(stderr, "wrote report \"%s\" to \"%s\": %zu sheet%s, %llu row%s\n", ctx->args[0],
                out, st.sheets, st.sheets == 1 ? "" : "s", st.rows, st.rows == 1 ? "" : "s");
    } else if (ctx->err.kind == FB_ERR_USAGE && !ctx->err.hint) {
        char *usage = cmd_usage(ctx->def);
        fb_error_hint(&ctx->err, "Usage: %s", usage);
        free(usage);
    }
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_report_list(struct cmd_ctx *ctx)
{
    struct strbuf json = STRBUF_INIT;
    report_list_json(&json, stderr);
    const char *p[] = {json.buf};
    /* PostgreSQL prints it, so table, tsv and json output look like every other list. */
    int rc = out_query(ctx, OUT_LIST,
                       "SELECT name, title, sheets, parameters, description, directory"
                       " FROM pg_catalog.json_to_recordset($1::json) AS r(name text, title text,"
                       " sheets text, parameters text, description text, directory text)"
                       " ORDER BY name",
                       1, p, NULL);
    strbuf_release(&json);
    return rc;
}

static int
cmd_report_check(struct cmd_ctx *ctx)
{
    int broken =
        report_check(ctx->conn, (const char *const *)ctx->args, ctx->nargs, stdout, stderr,
                     &ctx->err);
    size_t n = ctx->nargs;
    if (broken < 0)
        return cmd_fail(ctx);
    if (broken > 0) {
        fb_error_set(&ctx->err, FB_ERR_INPUT, "%d report definition%s broken", broken,
                     broken == 1 ? " is" : "s are");
        if (n == 0)
            fb_error_hint(&ctx->err, "Fix the files named above, then run \"fmtbank report check\" "
                                     "again.");
        return FB_ERR_INPUT;
    }
    return 0;
}

const struct cmd_def cmd_defs_report[] = {
    {"report list", cmd_report_list, CMD_DB, {0}, NULL,
     "list the reports defined in the reports directories",
     "A report is two files in a reports directory: NAME.report (title, parameters, sheets and\n"
     "their columns) and NAME.sql (the queries); see reports/README.md. The directories are\n"
     "$FMTBANK_REPORTS (several separated by ':', the first holding a name wins), else the\n"
     "installed reports/.\n"},
    {"report check", cmd_report_check, CMD_DB, {"[NAME...]", 0, OPT_ANY, NULL}, NULL,
     "check report definitions against the database (all of them by default)",
     "Parses every definition, prepares every query with the declared parameter types, and\n"
     "compares the declared columns (names, order, types) with what each query returns, and\n"
     "validates parameter defaults. Prints \"NAME: ok\" or \"NAME: broken\" per report, the\n"
     "problems on stderr; exits 3 when a definition is broken.\n"},
    {"report", cmd_report_run, CMD_DB, {"NAME", 1, 1, "report NAME"},
     (const struct opt_spec[]){
         {"param", 'p', OPT_MULTI, "K=V", .help = "a parameter of the report"},
         {"sheet-rows", 0, OPT_STRING, "N",
          .help = "rows per worksheet before a table continues on the next (8 to 1048576; "
                  "default: Excel's 1048576)"},
         {"output", 'o', OPT_STRING, "FILE.xlsx", .help = "the workbook to write",
          .flags = OPT_REQUIRED},
         {"as-of", 0, OPT_STRING, "TS",
          .help = "for a report with the parameter as_of (inventory): as recorded then"},
         {0}},
     "write report NAME as an xlsx workbook (see \"report list\")",
     "Parameters are typed (text, integer, number, date, timestamp, boolean) and checked before\n"
     "anything is written; dates and timestamps are ISO 8601, local time zone when none given.\n"
     "All sheets show one consistent database state. The file appears only when complete (it\n"
     "is written under a temporary name and renamed); on failure nothing is left behind.\n"
     "Dates, timestamps and numbers are real Excel values; each table has a bold frozen header\n"
     "row and an autofilter. Large reports stream in constant memory. A table longer than a\n"
     "worksheet holds (Excel: 1048576 rows, or --sheet-rows N, from 8) continues on the next\n"
     "sheet, \"NAME (2)\", under the same header.\n"
     "--as-of TS is --param as_of=TS, for the reports that take it: \"report inventory --as-of\n"
     "TS\" draws the stock as recorded then (a date alone: the end of that day).\n"
     "\n"
     "Examples:\n"
     "  fmtbank --user audrey report audit --param since=2026-11-01 --param until=2026-11-30 \\\n"
     "      -o audit-november.xlsx\n"},
    {0},
};
