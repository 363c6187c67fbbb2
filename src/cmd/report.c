/* report.c: "fmtbank report NAME|list|check": xlsx reports from the definitions in reports/
 * (the engine is src/report/; this file only parses the command line). */
#include "cmd/cmd.h"
#include "db/db.h"
#include "report/report.h"
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
        fb_error_hint(&ctx->err, "Usage: fmtbank %s", ctx->def->usage);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int
cmd_report_run(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *out = NULL, *sheet_rows = NULL;
    struct opt_list params = {0};
    const struct opt_spec specs[] = {{"param", 'p', OPT_MULTI, &params},
                                     {"output", 'o', OPT_STRING, &out},
                                     {"sheet-rows", 0, OPT_STRING, &sheet_rows},
                                     {0}};
    struct report_request req = {0};
    struct opt_args pos = {0};
    /* Every usage error (a missing -o too) before connecting: parse once without connecting. */
    if (opts_parse(argc, argv, 1, specs, &pos, &ctx->err) < 0) {
        fb_error_hint(&ctx->err, "Usage: fmtbank %s", ctx->def->usage);
        opt_list_free(&params);
        return FB_ERR_USAGE;
    }
    int rc = cmd_want_args(ctx, &pos, 1, "report NAME") < 0 ? FB_ERR_USAGE
             : !out ? cmd_usage_error(ctx, "missing \"-o FILE.xlsx\"")
             : sheet_rows_parse(ctx, sheet_rows, &req.sheet_rows) < 0 ? FB_ERR_USAGE
                                                                      : 0;
    opt_args_free(&pos);
    opt_list_free(&params);
    if (rc != 0)
        return rc;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "report NAME") < 0) {
        opt_list_free(&params);
        return cmd_fail(ctx);
    }
    req.name = pos.items[0];
    req.params = params.items;
    req.nparams = params.n;
    req.out_path = out;
    struct report_stats st;
    rc = report_run(ctx->conn, &req, &st, &ctx->err);
    if (rc == 0) {
        fprintf(stderr, "wrote report \"%s\" to \"%s\": %zu sheet%s, %llu row%s\n", pos.items[0],
                out, st.sheets, st.sheets == 1 ? "" : "s", st.rows, st.rows == 1 ? "" : "s");
    } else if (ctx->err.kind == FB_ERR_USAGE && !ctx->err.hint) {
        fb_error_hint(&ctx->err, "Usage: fmtbank %s", ctx->def->usage);
    }
    opt_args_free(&pos);
    opt_list_free(&params);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_report_list(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct opt_args pos;
    static const struct opt_spec none[] = {{0}};
    if (cmd_parse(ctx, argc, argv, none, &pos, 0, "") < 0)
        return cmd_fail(ctx);
    opt_args_free(&pos);
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
cmd_report_check(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct opt_args pos;
    static const struct opt_spec none[] = {{0}};
    if (cmd_parse(ctx, argc, argv, none, &pos, CMD_ANY_ARGS, "") < 0)
        return cmd_fail(ctx);
    int broken =
        report_check(ctx->conn, (const char *const *)pos.items, pos.n, stdout, stderr, &ctx->err);
    size_t n = pos.n;
    opt_args_free(&pos);
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
    {"report list", cmd_report_list, CMD_DB, "report list",
     "list the reports defined in the reports directories",
     "A report is two files in a reports directory: NAME.report (title, parameters, sheets and\n"
     "their columns) and NAME.sql (the queries); see reports/README.md. The directories are\n"
     "$FMTBANK_REPORTS (several separated by ':', the first holding a name wins), else the\n"
     "installed reports/.\n"},
    {"report check", cmd_report_check, CMD_DB, "report check [NAME...]",
     "check report definitions against the database (all of them by default)",
     "Parses every definition, prepares every query with the declared parameter types, and\n"
     "compares the declared columns (names, order, types) with what each query returns, and\n"
     "validates parameter defaults. Prints \"NAME: ok\" or \"NAME: broken\" per report, the\n"
     "problems on stderr; exits 3 when a definition is broken.\n"},
    {"report", cmd_report_run, CMD_DB,
     "report NAME [--param K=V ...] [--sheet-rows N] -o FILE.xlsx",
     "write report NAME as an xlsx workbook (see \"report list\")",
     "Parameters are typed (text, integer, number, date, timestamp, boolean) and checked before\n"
     "anything is written; dates and timestamps are ISO 8601, local time zone when none given.\n"
     "All sheets show one consistent database state. The file appears only when complete (it\n"
     "is written under a temporary name and renamed); on failure nothing is left behind.\n"
     "Dates, timestamps and numbers are real Excel values; each table has a bold frozen header\n"
     "row and an autofilter. Large reports stream in constant memory. A table longer than a\n"
     "worksheet holds (Excel: 1048576 rows, or --sheet-rows N, from 8) continues on the next\n"
     "sheet, \"NAME (2)\", under the same header.\n"
     "\n"
     "Examples:\n"
     "  fmtbank --user audrey report audit --param since=2026-11-01 --param until=2026-11-30 \\\n"
     "      -o audit-november.xlsx\n"},
    {0},
};
