/* lookback.c: "fmtbank lookback CODE [--test T] [--apply]", "lookback close", "lookback list":
 * what a donor's unacceptable results put on hold, applying it (a quality officer, or the
 * daemon's sweep), and the cases. The rules are in schema/034_lookback.sql. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns of a lookback item (fmtbank.lookback_item) as printed. */
#define ITEM_COLUMNS_JSON                                                                          \
    "case_id AS \"case\", case_status, test, outcome, collected,"                                  \
    " CASE WHEN hold_from = '-infinity' THEN NULL ELSE hold_from END AS hold_from,"                \
    " hold_from = '-infinity' AS holds_all, kind, lot_id AS lot, lot_collected, lot_status,"       \
    " aliquot_id AS aliquot, aliquot_status, action, recipient, site, issued_at"
#define ITEM_COLUMNS_TABLE                                                                         \
    "case_id AS \"case\", test, outcome, collected,"                                               \
    " CASE WHEN hold_from = '-infinity' THEN 'all' ELSE hold_from::text END AS hold_from,"         \
    " lot_id AS lot, aliquot_id AS aliquot,"                                                       \
    " coalesce(aliquot_status, lot_status) AS status, action, recipient, site"

static int
cmd_lookback(struct cmd_ctx *ctx)
{
    const char *test = cmd_opt(ctx, "test");
    bool apply = cmd_flag(ctx, "apply");
    const char *p[] = {ctx->args[0], test};
    char *sql = xasprintf("SELECT %s FROM fmtbank.%s($1, $2)",
                          ctx->format == OUT_JSON ? ITEM_COLUMNS_JSON : ITEM_COLUMNS_TABLE,
                          apply ? "lookback_apply" : "lookback_show");
    int rc = out_query(ctx, OUT_LIST, sql, 2, p, NULL);
    free(sql);
    if (rc == 0 && apply)
        fprintf(stderr,
                "applied the open lookback cases of donor \"%s\": the rows say what was "
                "recalled and which recipients to notify\n",
                ctx->args[0]);
    return rc;
}

static int
cmd_lookback_close(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    char *id = db_scalar(ctx->conn, "SELECT fmtbank.lookback_close($1)", 1, p, &ctx->err);
    int rc = id ? 0 : cmd_fail(ctx);
    if (id)
        fprintf(stderr, "closed lookback case %s\n", id);
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
    {"lookback close", cmd_lookback_close, CMD_DB | CMD_REASON, {"CASE", 1, 1, "lookback CASE"},
     NULL, "close a lookback case (quality; the reason is required)",
     "An open case closed without being applied holds nothing any more; an applied case stays\n"
     "applied (what it recalled stays recalled). A correction that withdraws the unacceptable\n"
     "result closes its open case by itself.\n"},
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
          .help = "apply the open cases now (quality): recall what they hold, record it, and list "
                  "who must be told; the daemon's sweep does the same automatically"},
         {0}},
     "what a donor's unacceptable results put on hold; --apply holds it (quality)",
     "Every unacceptable result (positive, out of limit, indeterminate: entered, imported or\n"
     "corrected) opens a lookback case. It holds the donor's lots collected since the last\n"
     "acceptable result of the same test collected before it, and at least lookback_min_days\n"
     "back (every lot when there is no earlier acceptable result); lots bracketed by acceptable\n"
     "results before that are not held. Shows, per open or applied case, the lots held and\n"
     "their aliquots with the action: recall (lots in quarantine, ready or released and their\n"
     "doses in stock), notify recipient (issued doses, with recipient and site), keep (the\n"
     "retained sample, for testing).\n"},
    {0},
};
