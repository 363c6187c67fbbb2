/* result.c: "fmtbank result add|import|list|correct": screening results and their corrections.
 * Every rule (known donor and test, dates, result words, numbers and units) is checked by the
 * database (schema/012_result.sql); corrections supersede, never overwrite. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "db/import.h"
#include "db/result_import.h"
#include "db/retry.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>

static int
cmd_result_add(struct cmd_ctx *ctx)
{
    const char *collected = cmd_opt(ctx, "collected"), *result = cmd_opt(ctx, "result");
    const char *unit = cmd_opt(ctx, "unit"), *lab = cmd_opt(ctx, "lab");
    int rc = 0;
    {
        const char *p[] = {ctx->args[0], ctx->args[1], collected, result, unit, lab,
                           cmd_opt(ctx, "specimen")};
        PGresult *r = db_exec_retry(ctx->conn, "recording the result",
                                    "SELECT fmtbank.result_add($1, $2, $3, $4, $5, $6, $7)", 7, p,
                                    &ctx->err);
        if (r)
            out_ids(ctx, r);
        else
            rc = cmd_fail(ctx);
        PQclear(r);
    }
    return rc;
}

static int
cmd_result_import(struct cmd_ctx *ctx)
{
    return cmd_import_file(ctx, &result_import_spec, true, "result", "results");
}

static int
cmd_result_list(struct cmd_ctx *ctx)
{
    const char *test = cmd_opt(ctx, "test");
    bool current = cmd_flag(ctx, "current");
    const char *p[] = {ctx->args[0], test, current ? "t" : "f"};
    if (db_run(ctx->conn, "SELECT fmtbank.donor_get($1)", 1, p, &ctx->err) < 0) {
        return cmd_fail(ctx);
    }
    int rc = out_query(ctx, OUT_LIST,
                       "SELECT id, test, collected, result, unit, lab, recorded_at, recorded_by,"
                       " superseded, superseded_by, supersedes, reason, acceptable"
                       " FROM fmtbank.result_list"
                       " WHERE donor_id = (fmtbank.donor_get($1)).id"
                       "   AND ($2::text IS NULL OR test = upper(btrim($2)))"
                       "   AND NOT ($3::boolean AND superseded)"
                       " ORDER BY collected, test_no, recorded_at",
                       3, p, NULL);
    return rc;
}

static int
cmd_result_correct(struct cmd_ctx *ctx)
{
    const char *result = cmd_opt(ctx, "result"), *unit = cmd_opt(ctx, "unit");
    const char *collected = cmd_opt(ctx, "collected");
    if (ctx->nargs == 1 && collected)
        return cmd_usage_error(ctx, "--collected goes with CODE TEST, not with a result ID");
    if (ctx->nargs == 2 && !collected)
        return cmd_usage_error(ctx, "missing --collected (the collection day of the result to "
                                    "correct)");
    PGresult *r;
    if (ctx->nargs == 1) {
        const char *p[] = {ctx->args[0], result, unit};
        r = db_exec_retry(ctx->conn, "correcting the result",
                          "SELECT fmtbank.result_correct($1, $2, $3)", 3, p, &ctx->err);
    } else {
        const char *p[] = {ctx->args[0], ctx->args[1], collected, result, unit};
        r = db_exec_retry(ctx->conn, "correcting the result",
                          "SELECT fmtbank.result_correct_by($1, $2, $3, $4, $5)", 5, p,
                          &ctx->err);
    }
    if (!r)
        return cmd_fail(ctx);
    out_ids(ctx, r);
    PQclear(r);
    return 0;
}

#define UNIT_OPT                                                                                   \
    {"unit", 0, OPT_STRING, "U", .help = "the unit of a numeric result (the test's unit)"}

const struct cmd_def cmd_defs_result[] = {
    {"result add", cmd_result_add, CMD_DB, {"CODE TEST", 2, 2, "donor CODE and TEST"},
     (const struct opt_spec[]){
         {"collected", 0, OPT_STRING, "DATE", .help = "the collection day (not in the future)",
          .flags = OPT_REQUIRED},
         {"result", 0, OPT_STRING, "R",
          .help = "negative, positive or indeterminate; a number for numeric tests",
          .flags = OPT_REQUIRED},
         UNIT_OPT,
         {"lab", 0, OPT_STRING, "L", .help = "the laboratory"},
         {"specimen", 0, OPT_STRING, "ALIQUOT",
          .help = "the tube tested (the donor's, e.g. a lot's retained sample; --collected is its lot's day)"},
         {0}},
     "record one screening result (prints its ID)",
     "TEST is a code of \"fmtbank catalog tests\". A numeric result needs --unit. A result\n"
     "identical to one in force (same test, day, result and lab) is refused. The result may be\n"
     "written as the lab wrote it (\"fmtbank catalog wordings\").\n"},
    {"result import", cmd_result_import, CMD_DB, {"FILE.csv", 1, 1, "FILE.csv"}, NULL,
     "record many results from a CSV file, all or nothing (prints their IDs)",
     "The file has the header line donor,test,collected,result,unit,lab (unit empty for\n"
     "qualitative tests). Every bad line is reported with its line number and reason, and\n"
     "nothing is imported unless every line is good. \"-\" reads standard input. A\n"
     "spreadsheet's CSV is fine: a UTF-8 byte order mark, CRLF, and ; as the delimiter when the\n"
     "header uses it. A file sent again (every line a result already in force) says \"nothing\n"
     "new\" with the count and exits 0.\n"},
    {"result list", cmd_result_list, CMD_DB, {"CODE", 1, 1, "donor CODE"},
     (const struct opt_spec[]){
         {"test", 0, OPT_STRING, "T", .help = "only the results of test T"},
         {"current", 0, OPT_FLAG, NULL, .help = "hide superseded versions"},
         {0}},
     "a donor's results with every correction",
     "Corrections supersede: the original stays listed with superseded = t and superseded_by\n"
     "naming its correction. acceptable is judged by the rules in force now.\n"},
    {"result correct", cmd_result_correct, CMD_DB | CMD_REASON,
     {"ID | CODE TEST", 1, 2, "result ID, or donor CODE and TEST"},
     (const struct opt_spec[]){
         {"result", 0, OPT_STRING, "R", .help = "the corrected result", .flags = OPT_REQUIRED},
         UNIT_OPT,
         {"collected", 0, OPT_STRING, "DATE",
          .help = "with CODE TEST: the collection day of the result to correct"},
         {0}},
     "correct a result: a new version supersedes it (prints the new ID)",
     "Name the result by its ID (\"fmtbank result list CODE\"), or by donor CODE, TEST and\n"
     "--collected DATE: the one result in force of that test and day. When more than one is in\n"
     "force (two labs the same day) the command is refused (exit 5) listing them with their\n"
     "IDs; correct one by its ID. The original result stays visible, linked to its correction;\n"
     "the reason is required and kept in the audit trail. Verdicts \"as of\" a moment before\n"
     "the correction still use the original.\n"},
    {0},
};
