/* release_report.c: "fmtbank release report LOT -o FILE.xlsx": the release certificate of a lot,
 * written by the report engine from reports/release.report (a draft, bannered, when unsigned). */
#include "cmd/cmd.h"
#include "db/db.h"
#include "report/report.h"
#include "common/strbuf.h"

#include <stdio.h>
#include <string.h>

static int
cmd_release_report(struct cmd_ctx *ctx)
{
    const char *out = cmd_opt(ctx, "output");
    /* The lot first, so a mistyped (FB001, exit 3) or unknown (FB002, exit 4) ID is told as such
     * and not as a report failure. */
    const char *p[] = {ctx->args[0]};
    PGresult *r = db_exec(ctx->conn, "SELECT (fmtbank.lot_get($1)).lot_id", 1, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    struct strbuf param = STRBUF_INIT;
    strbuf_addf(&param, "lot=%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    const char *params[] = {param.buf};
    const struct report_request req = {
        .name = "release", .params = params, .nparams = 1, .out_path = out};
    int rc = report_run(ctx->conn, &req, NULL, &ctx->err);
    if (rc == 0)
        fprintf(stderr, "wrote the release report of lot \"%s\" to \"%s\"\n", param.buf + 4, out);
    strbuf_release(&param);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

const struct cmd_def cmd_defs_release_report[] = {
    {"release report", cmd_release_report, CMD_DB, {"LOT", 1, 1, "lot ID"},
     (const struct opt_spec[]){
         {"output", 'o', OPT_STRING, "FILE.xlsx",
          .help = "the workbook to write (replaced only when complete)", .flags = OPT_REQUIRED},
         {0}},
     "write the release certificate of a lot as an xlsx workbook",
     "Writes the release certificate of LOT (reports/release.report): a Summary sheet (lot,\n"
     "donor, collection and processing, decision, the signature's printed name, time and\n"
     "meaning, rule-set version and the SHA-256 of the signed snapshot, verified), then the\n"
     "pre- and post-donation results, every rule verdict and the aliquots with their locations,\n"
     "all exactly as signed. For a lot not yet signed it writes a draft of the evaluation as of\n"
     "the last change to the database, with \"DRAFT — NOT RELEASED\" on every sheet. The same\n"
     "database state gives the same cell contents. Any role that can read releases may run it.\n"
     "Prints nothing on standard output; a note on standard error.\n"},
    {0},
};
