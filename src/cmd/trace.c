/* trace.c: "fmtbank trace ID [--as-of TS]": everything about a donor, lot, aliquot, case or
 * recipient as one timeline (product.md §11.4), built by fmtbank.trace (schema/code/105_trace.sql). */
#include "cmd/cmd.h"

static int
cmd_trace(struct cmd_ctx *ctx)
{
    const char *as_of = cmd_opt(ctx, "as-of");
    const char *p[] = {ctx->args[0], as_of};
    /* with --as-of, each event carries the moment asked about (as_of), as the other commands do */
#define TRACE_SQL(AS_OF)                                                                           \
    "SELECT " AS_OF "t.at, t.event, t.donor, t.lot, t.aliquot, t.detail"                           \
    " FROM (SELECT fmtbank.as_of_given($2) AS at) x CROSS JOIN LATERAL fmtbank.trace($1, x.at) t"
    return out_query(ctx, OUT_LIST, as_of ? TRACE_SQL("x.at AS as_of, ") : TRACE_SQL(""), 2, p,
                     NULL);
#undef TRACE_SQL
}

const struct cmd_def cmd_defs_trace[] = {
    {"trace", cmd_trace, CMD_DB, {"ID", 1, 1, "donor code, lot, aliquot or case ID, or recipient code"},
     (const struct opt_spec[]){
         {"as-of", 0, OPT_STRING, "TS",
          .help = "what had been recorded by then (results, questionnaires and states as they "
                  "stood)"},
         {0}},
     "everything about a donor, lot, aliquot, case or recipient, as one timeline",
     "Donor, questionnaires, results, donations, processing, custody (box:position), holds and\n"
     "cases, release signatures, issues, decisions and notifications, oldest first. A lot or\n"
     "aliquot covers itself and its donor's screening; a donor, a case or a recipient covers\n"
     "every lot of the donors involved, so a recipient's trace reaches the donor and the\n"
     "donor's other recipients.\n"
     "--as-of TS (a date alone: the end of that day) leaves out what was recorded later and shows\n"
     "each lot's status as it was stored then; each row then carries as_of.\n"},
    {0},
};
