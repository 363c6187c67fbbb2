/* todo.c: "fmtbank todo": what needs a person now, from the one view fmtbank.todo
 * (schema/code/110_freezer.sql), where each kind of item is one branch. */
#include "cmd/cmd.h"

static int
cmd_todo(struct cmd_ctx *ctx)
{
    return out_query(ctx, OUT_LIST,
                     ctx->format == OUT_JSON
                         ? "SELECT kind, subject, todo, since, detail FROM fmtbank.todo"
                           " ORDER BY kind, since, subject"
                         : "SELECT kind, subject, todo, detail FROM fmtbank.todo"
                           " ORDER BY kind, since, subject",
                     0, NULL, NULL);
}

const struct cmd_def cmd_defs_todo[] = {
    {"todo", cmd_todo, CMD_DB, {0}, NULL,
     "what needs a person now: one row per item with its kind, subject and what to do",
     "Kinds: unmonitored_freezer (a freezer holding released stock without any temperature\n"
     "reading), signal_withdrawn (an open case whose signal was withdrawn: lift proposed),\n"
     "case_decision (an open case waiting for a quality officer's decision), event_grading (a\n"
     "serious adverse event in a recipient whose imputability quality has not assessed yet).\n"},
    {0},
};
