/* trace.c: "fmtbank trace ID [--as-of TS]": everything about a donor, lot, aliquot, case or
 * recipient as one timeline (product.md §11.4), built by fmtbank.trace (schema/code/105_trace.sql). */
#include "cmd/cmd.h"

static int
cmd_trace(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "as-of")};
    return out_query(ctx, OUT_LIST,
                     "SELECT at, event, donor, lot, aliquot, detail"
                     " FROM fmtbank.trace($1, fmtbank.parse_as_of($2))",
                     2, p, NULL);
}

const struct cmd_def cmd_defs_trace[] = {
    {"trace", cmd_trace, CMD_DB, {"ID", 1, 1, "donor code, lot, aliquot or case ID, or recipient code"},
     (const struct opt_spec[]){
         {"as-of", 0, OPT_STRING, "TS",
          .help = "what had been recorded by then (results and questionnaires as they stood)"},
         {0}},
     "everything about a donor, lot, aliquot, case or recipient, as one timeline",
     "Donor, questionnaires, results, donations, processing, custody (box:position), holds and\n"
     "cases, release signatures, issues, decisions and notifications, oldest first. A lot or\n"
     "aliquot covers itself and its donor's screening; a donor, a case or a recipient covers\n"
     "every lot of the donors involved, so a recipient's trace reaches the donor and the\n"
     "donor's other recipients.\n"},
    {0},
};
