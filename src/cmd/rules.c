/* rules.c: "fmtbank rules set|history": change a rule parameter (a new rule-set version, effective
 * from now; admin only, reason required) and list every change. */
#include "cmd/cmd.h"
#include "db/db.h"

#include <stdio.h>

static int
cmd_rules_set(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], ctx->args[1]};
    PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.rules_set($1, $2)", 2, p, &ctx->err);
    int rc = r ? 0 : cmd_fail(ctx);
    if (r) {
        fprintf(stderr, "rule set version %s: \"%s\" is now %s\n", PQgetvalue(r, 0, 0),
                ctx->args[0], ctx->args[1]);
        out_ids(ctx, r);
    }
    PQclear(r);
    return rc;
}

static int
cmd_rules_history(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->nargs ? ctx->args[0] : NULL};
    return out_query(ctx, OUT_LIST,
                     "SELECT version, effective_from, name, previous, value, created_by, reason"
                     " FROM fmtbank.rule_history WHERE $1::text IS NULL OR name = $1"
                     " ORDER BY version DESC, name",
                     1, p, NULL);
}

const struct cmd_def cmd_defs_rules[] = {
    {"rules set", cmd_rules_set, CMD_DB | CMD_REASON, {"NAME VALUE", 2, 2, "NAME and VALUE"},
     NULL,
     "change a rule parameter: a new rule-set version, effective now (admin; prints the version)",
     "NAME is a parameter of \"fmtbank catalog rules\"; VALUE must lie in its allowed range.\n"
     "Decisions made before the change keep the version they were made with: \"donor explain\n"
     "--as-of\" a moment before it reproduces them.\n"},
    {"rules history", cmd_rules_history, CMD_DB, {"[NAME]", 0, 1, NULL}, NULL,
     "every change of the rule set (version, when, what, who, why)", NULL},
    {0},
};
