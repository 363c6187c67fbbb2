/* lookback.c: "fmtbank lookback CODE [--test T] [--apply]", "lookback close", "lookback list":
 * what a donor's unacceptable results hold, recalling it (a quality officer's
 * signed "case decide --recall"), and the cases. The rules are in schema/code/034_lookback.sql. */
#include "cmd/sign.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns of a lookback item (fmtbank.lookback_item) as printed. */
#define ITEM_COLUMNS_JSON                                                                          \
    "(SELECT c.case_code FROM fmtbank.lookback_case c WHERE c.id = case_id) AS \"case\","          \
    " case_status, test, outcome, collected,"                                                      \
    " CASE WHEN hold_from = '-infinity' THEN NULL ELSE hold_from END AS hold_from,"                \
    " hold_from = '-infinity' AS holds_all, kind, lot_id AS lot, lot_collected, lot_status,"       \
    " aliquot_id AS aliquot, aliquot_status, action, recipient, site, issued_at"
#define ITEM_COLUMNS_TABLE                                                                         \
    "(SELECT c.case_code FROM fmtbank.lookback_case c WHERE c.id = case_id) AS \"case\","          \
    " test, outcome, collected,"                                                                   \
    " CASE WHEN hold_from = '-infinity' THEN 'all' ELSE hold_from::text END AS hold_from,"         \
    " lot_id AS lot, aliquot_id AS aliquot,"                                                       \
    " coalesce(aliquot_status, lot_status) AS status, action, recipient, site"

/* --apply: "case decide --recall" for each open result case of the donor, one signature
 * password for them all (a committed check for each). */
static int
lookback_apply(struct cmd_ctx *ctx, const char *test)
{
    const char *meaning = cmd_opt(ctx, "meaning");
    const char *p[] = {ctx->args[0], test};
    PGresult *cases = db_exec(ctx->conn, "SELECT fmtbank.lookback_open_cases_of($1, $2)", 2, p,
                              &ctx->err);
    if (!cases)
        return cmd_fail(ctx);
    char *what = xasprintf("the recall of donor %s's open lookback cases", ctx->args[0]);
    char *pw = sign_password(ctx, what, meaning);
    free(what);
    int rc = pw ? 0 : cmd_fail(ctx);
    for (int i = 0; rc == 0 && i < PQntuples(cases); i++) {
        const char *code = PQgetvalue(cases, i, 0);
        const char *pd[] = {code, meaning};
        PGresult *r = sign_run(ctx, pw, "SELECT fmtbank.case_sign_attempt($1, $2, $3)", code,
                               meaning,
                               "SELECT outcome, lots, aliquots, message, detail, hint"
                               " FROM fmtbank.case_decide($1, 'recall', NULL, $2, $3::bigint)",
                               pd, 2);
        rc = r ? sign_outcome(ctx, r, "decided", 3) : cmd_fail(ctx);
        PQclear(r);
    }
    sign_forget(pw);
    if (rc == 0)
        fprintf(stderr,
                "recalled what the open lookback cases of donor \"%s\" held (%d case%s, signed): "
                "the rows say what was recalled and which recipients to notify\n",
                ctx->args[0], PQntuples(cases), PQntuples(cases) == 1 ? "" : "s");
    PQclear(cases);
    return rc;
}

static int
cmd_lookback(struct cmd_ctx *ctx)
{
    const char *test = cmd_opt(ctx, "test");
    if (cmd_flag(ctx, "apply") && lookback_apply(ctx, test) != 0)
        return cmd_fail(ctx);
    const char *p[] = {ctx->args[0], test};
    char *sql = xasprintf("SELECT %s FROM fmtbank.lookback_show($1, $2)",
                          ctx->format == OUT_JSON ? ITEM_COLUMNS_JSON : ITEM_COLUMNS_TABLE);
    int rc = out_query(ctx, OUT_LIST, sql, 2, p, NULL);
    free(sql);
    return rc;
}

static int
cmd_lookback_close(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    char *id = db_scalar(ctx->conn, "SELECT fmtbank.lookback_close($1)", 1, p, &ctx->err);
    int rc = id ? 0 : cmd_fail(ctx);
    if (id)
        fprintf(stderr, "closed case %s\n", id);
    free(id);
    return rc;
}

static int
cmd_lookback_list(struct cmd_ctx *ctx)
{
    const char *status = cmd_opt(ctx, "status");
    const char *p[] = {status};
    return out_query(ctx, OUT_LIST,
                     ctx->format == OUT_JSON
                         ? "SELECT \"case\", donor, test, outcome, collected, status, opened_at,"
                           " hold_from, holds_all, lots, issued, applied_at, applied_by, closed_at,"
                           " closed_by, close_reason, result FROM fmtbank.lookback_list"
                           " WHERE $1::text IS NULL OR status = $1 ORDER BY \"case\""
                         : "SELECT \"case\", donor, test, outcome, collected, status,"
                           " CASE WHEN holds_all THEN 'all' ELSE hold_from::text END AS hold_from,"
                           " lots, issued, close_reason FROM fmtbank.lookback_list"
                           " WHERE $1::text IS NULL OR status = $1 ORDER BY \"case\"",
                     1, p, NULL);
}

const struct cmd_def cmd_defs_lookback[] = {
    {"lookback close", cmd_lookback_close, CMD_DB | CMD_REASON, {"CASE", 1, 1, "case ID"},
     NULL, "close a lookback case (quality; the reason is required): \"case close\"",
     "Refused while the case holds material undecided (\"case decide\") or a recipient of its\n"
     "material is un-notified (\"case close --unnotified-reason\" says why).\n"},
    {"lookback list", cmd_lookback_list, CMD_DB, {0},
     (const struct opt_spec[]){
         {"status", 0, OPT_STRING, "S", .help = "only the cases in that state (open: not applied "
                                                "yet)",
          .choices = "open|applied|closed"},
         {0}},
     "every lookback case: donor, result, what it holds, state",
     "hold_from is the first collection day held (\"all\": every lot of the donor); lots and\n"
     "issued count the lots held and their doses issued to recipients.\n"},
    {"lookback", cmd_lookback, CMD_DB, {"CODE", 1, 1, "donor CODE"},
     (const struct opt_spec[]){
         {"test", 0, OPT_STRING, "T", .help = "only the cases of test T"},
         {"apply", 0, OPT_FLAG, NULL,
          .help = "recall what the open cases hold now (quality, signed: \"case decide --recall\" "
                  "for each)",
          .with = "meaning"},
         {"meaning", 0, OPT_STRING, "TEXT", .help = "what the signature of --apply means"},
         {"password-stdin", 0, OPT_FLAG, NULL,
          .help = "read the signature password from the first line of standard input"},
         {0}},
     "what a donor's unacceptable results hold; --apply recalls it (quality, signed)",
     "Every unacceptable result (positive, out of limit, indeterminate: entered, imported or\n"
     "corrected) opens a lookback case. It holds the donor's lots collected since the last\n"
     "acceptable result of the same test collected before it, and at least lookback_min_days\n"
     "back (every lot when there is no earlier acceptable result); lots bracketed by acceptable\n"
     "results before that are not held. The case holds them at once, in the transaction that\n"
     "records the result; only a quality officer's signed decision ends the hold (the daemon\n"
     "never recalls). Shows, per open or applied case, the lots held and their aliquots with\n"
     "the action: recall (lots in quarantine, ready or released and their doses in stock),\n"
     "notify recipient (issued doses, with recipient and site), keep (the retained sample, for\n"
     "testing).\n"},
    {0},
};
