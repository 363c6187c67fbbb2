/* todo.c: "fmtbank todo": what needs a person now, from the one view fmtbank.todo
 * (schema/code/110_freezer.sql), where each kind of item is one branch with the role that acts on
 * it; by default the acting user's own kinds. */
#include "cmd/cmd.h"

#define TODO_WHERE                                                                                 \
    " FROM fmtbank.todo"                                                                           \
    " WHERE ($1::text IS NOT NULL OR fmtbank.acting_is('admin', 'auditor')"                        \
    "        OR fmtbank.acting_is(VARIADIC ARRAY[role]))"                                          \
    "   AND ($2::text IS NULL OR kind = $2)"                                                       \
    " ORDER BY kind, since, subject"

static int
cmd_todo(struct cmd_ctx *ctx)
{
    const char *p[] = {cmd_flag(ctx, "all") ? "all" : NULL, cmd_opt(ctx, "kind")};
    return out_query(ctx, OUT_LIST,
                     ctx->format == OUT_JSON
                         ? "SELECT kind, role, subject, todo, since, detail" TODO_WHERE
                         : "SELECT kind, subject, todo, detail" TODO_WHERE,
                     2, p, NULL);
}

const struct cmd_def cmd_defs_todo[] = {
    {"todo", cmd_todo, CMD_DB, {0},
     (const struct opt_spec[]){
         {"all", 0, OPT_FLAG, NULL,
          .help = "every role's items, not only the acting user's (admin and auditor: always)"},
         {"kind", 0, OPT_STRING, "KIND", .help = "only items of this kind",
          .choices = "release_sign|case_decision|signal_withdrawn|recipient_notification|"
                     "event_grading|excursion|inbox_rejected|rescreening_due|expiring_stock|"
                     "unmonitored_freezer"},
         {0}},
     "what needs a person now, by role: one row per item with its kind, subject and what to do",
     "A work queue by role: a quality officer sees the quality items, a technician the\n"
     "technician's; an administrator or auditor (and --all) sees every item. --format json adds\n"
     "the role and since (when the item arose or falls due).\n"
     "Quality: release_sign (a lot nothing blocks now: sign it), case_decision (an open case\n"
     "waiting for a decision), signal_withdrawn (an open case whose signal was withdrawn: lift\n"
     "proposed), recipient_notification (a recipient of an issued dose of a case not closed,\n"
     "not yet notified), event_grading (a serious adverse event in a recipient not graded yet),\n"
     "excursion (a freezer excursion whose case is not decided yet).\n"
     "Technician: inbox_rejected (an inbox file the daemon rejected and no corrected file of\n"
     "that name imported since: results awaiting correction), rescreening_due (a donor not\n"
     "excluded whose screening runs out within 14 days, or has), expiring_stock (a lot with\n"
     "tubes in stock expiring within 30 days, or expired), unmonitored_freezer (a freezer\n"
     "holding released stock without any temperature reading).\n"},
    {0},
};
