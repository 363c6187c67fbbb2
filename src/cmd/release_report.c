/* release_report.c: "fmtbank release report LOT -o FILE.xlsx": the release certificate of a lot,
 * written by the report engine from reports/release.report (a draft, bannered, when unsigned). */
#include "cmd/cmd.h"
#include "db/db.h"
#include "report/report.h"
#include "common/strbuf.h"

#include <stdio.h>
#include <string.h>

static int
cmd_release_report(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *out = NULL;
    const struct opt_spec specs[] = {{"output", 'o', OPT_STRING, &out}, {0}};
    struct opt_args pos = {0};
    /* Usage errors (a missing -o too) before connecting. */
    if (opts_parse(argc, argv, 1, specs, &pos, &ctx->err) < 0) {
        fb_error_hint(&ctx->err, "Usage: fmtbank %s", ctx->def->usage);
        return FB_ERR_USAGE;
    }
    int rc = cmd_want_args(ctx, &pos, 1, "lot ID") < 0 ? FB_ERR_USAGE
             : !out ? cmd_usage_error(ctx, "missing \"-o FILE.xlsx\"")
                    : 0;
    opt_args_free(&pos);
    if (rc != 0)
        return rc;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "lot ID") < 0)
        return cmd_fail(ctx);
    /* The lot first, so a mistyped (FB001, exit 3) or unknown (FB002, exit 4) ID is told as such
     * and not as a report failure. */
    const char *p[] = {pos.items[0]};
    PGresult *r = db_exec(ctx->conn, "SELECT (fmtbank.lot_get($1)).lot_id", 1, p, &ctx->err);
    if (!r) {
        opt_args_free(&pos);
        return cmd_fail(ctx);
    }
    struct strbuf param = STRBUF_INIT;
    strbuf_addf(&param, "lot=%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    const char *params[] = {param.buf};
    const struct report_request req = {
        .name = "release", .params = params, .nparams = 1, .out_path = out};
    rc = report_run(ctx->conn, &req, NULL, &ctx->err);
    if (rc == 0)
        fprintf(stderr, "wrote the release report of lot \"%s\" to \"%s\"\n", param.buf + 4, out);
    strbuf_release(&param);
    opt_args_free(&pos);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

const struct cmd_def cmd_defs_release_report[] = {
    {"release report", cmd_release_report, CMD_DB, "release report LOT -o FILE.xlsx",
     "write the release certificate of a lot as an xlsx workbook",
     "Writes the release certificate of LOT (reports/release.report): a Summary sheet (lot,\n"
     "donor, collection and processing, decision, the signature's printed name, time and\n"
     "meaning, rule-set version and the SHA-256 of the signed snapshot, verified), then the\n"
     "pre- and post-donation results, every rule verdict and the aliquots with their locations,\n"
     "all exactly as signed. For a lot not yet signed it writes a draft of the evaluation as of\n"
     "the last change to the database, with \"DRAFT — NOT RELEASED\" on every sheet. The same\n"
     "database state gives the same cell contents. Any role that can read releases may run it.\n"
     "Prints nothing on standard output; a note on standard error.\n"
     "  -o, --output FILE.xlsx   the workbook to write (replaced only when complete)\n"},
    {0},
};
