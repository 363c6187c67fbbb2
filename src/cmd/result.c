/* result.c: "fmtbank result add|import|list|correct": screening results and their corrections.
 * Every rule (known donor and test, dates, result words, numbers and units) is checked by the
 * database (schema/012_result.sql); corrections supersede, never overwrite. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "db/import.h"
#include "db/result_import.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>

static int
cmd_result_add(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *collected = NULL, *result = NULL, *unit = NULL, *lab = NULL;
    const struct opt_spec specs[] = {{"collected", 0, OPT_STRING, &collected},
                                     {"result", 0, OPT_STRING, &result},
                                     {"unit", 0, OPT_STRING, &unit},
                                     {"lab", 0, OPT_STRING, &lab},
                                     {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 2, "donor CODE and TEST") < 0)
        return cmd_fail(ctx);
    int rc = 0;
    if (!collected)
        rc = cmd_usage_error(ctx, "missing --collected");
    else if (!result)
        rc = cmd_usage_error(ctx, "missing --result");
    if (rc == 0) {
        const char *p[] = {pos.items[0], pos.items[1], collected, result, unit, lab};
        PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.result_add($1, $2, $3, $4, $5, $6)", 6,
                              p, &ctx->err);
        if (r)
            out_ids(r);
        else
            rc = cmd_fail(ctx);
        PQclear(r);
    }
    opt_args_free(&pos);
    return rc;
}

static int
cmd_result_import(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct opt_args pos;
    static const struct opt_spec none[] = {{0}};
    if (cmd_parse(ctx, argc, argv, none, &pos, 1, "FILE.csv") < 0)
        return cmd_fail(ctx);
    int rc;
    FILE *in = cmd_open_input(ctx, pos.items[0]);
    if (in) {
        long nbad, nrows;
        FILE *bad = text_escaping_stream(stderr); /* bad lines quote the file: escaped */
        rc = import_csv(ctx->conn, &result_import_spec, in, pos.items[0], bad ? bad : stderr, stdout,
                        &nbad, &nrows, &ctx->err);
        if (bad)
            fclose(bad);
        if (rc == 0)
            fprintf(stderr, "imported %ld result%s from \"%s\"\n", nrows, nrows == 1 ? "" : "s",
                    pos.items[0]);
        if (in != stdin)
            fclose(in);
    } else {
        rc = -1;
    }
    opt_args_free(&pos);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_result_list(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *test = NULL;
    bool current = false;
    const struct opt_spec specs[] = {{"test", 0, OPT_STRING, &test},
                                     {"current", 0, OPT_FLAG, &current},
                                     {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "donor CODE") < 0)
        return cmd_fail(ctx);
    const char *p[] = {pos.items[0], test, current ? "t" : "f"};
    if (db_run(ctx->conn, "SELECT fmtbank.donor_get($1)", 1, p, &ctx->err) < 0) {
        opt_args_free(&pos);
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
    opt_args_free(&pos);
    return rc;
}

static int
cmd_result_correct(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *result = NULL, *unit = NULL;
    const struct opt_spec specs[] = {{"result", 0, OPT_STRING, &result},
                                     {"unit", 0, OPT_STRING, &unit},
                                     {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "result ID") < 0)
        return cmd_fail(ctx);
    int rc = 0;
    if (!result)
        rc = cmd_usage_error(ctx, "missing --result");
    if (rc == 0) {
        const char *p[] = {pos.items[0], result, unit};
        PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.result_correct($1, $2, $3)", 3, p,
                              &ctx->err);
        if (r)
            out_ids(r);
        else
            rc = cmd_fail(ctx);
        PQclear(r);
    }
    opt_args_free(&pos);
    return rc;
}

const struct cmd_def cmd_defs_result[] = {
    {"result add", cmd_result_add, CMD_DB,
     "result add CODE TEST --collected DATE --result R [--unit U] [--lab L]",
     "record one screening result (prints its ID)",
     "TEST is a code of \"fmtbank catalog tests\". R is negative, positive or indeterminate for\n"
     "qualitative tests, a number for numeric ones (then --unit is required and must be the\n"
     "test's unit). The collection DATE may not be in the future. A result identical to one in\n"
     "force (same test, day, result and lab) is refused.\n"},
    {"result import", cmd_result_import, CMD_DB, "result import FILE.csv",
     "record many results from a CSV file, all or nothing (prints their IDs)",
     "The file has the header line donor,test,collected,result,unit,lab (unit empty for\n"
     "qualitative tests). Every bad line is reported with its line number and reason, and\n"
     "nothing is imported unless every line is good. \"-\" reads standard input.\n"},
    {"result list", cmd_result_list, CMD_DB, "result list CODE [--test T] [--current]",
     "a donor's results with every correction",
     "Corrections supersede: the original stays listed with superseded = t and superseded_by\n"
     "naming its correction. --current hides superseded versions. acceptable is judged by the\n"
     "rules in force now.\n"},
    {"result correct", cmd_result_correct, CMD_DB,
     "result correct ID --result R [--unit U] --reason TEXT",
     "correct a result: a new version supersedes it (prints the new ID)",
     "The original result stays visible, linked to its correction; the reason is required and\n"
     "kept in the audit trail. Verdicts \"as of\" a moment before the correction still use the\n"
     "original.\n"},
    {0},
};
