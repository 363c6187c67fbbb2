/* aliquot_use.c: "fmtbank aliquot issue|thaw": a released dose issued to a recipient (the donor ->
 * recipient link recall follows), and thawing (never refrozen). The rules are in
 * schema/033_issue.sql. The other aliquot verbs are in aliquot.c; the dispatcher finds these by
 * name in this table. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_aliquot_issue(struct cmd_ctx *ctx)
{
    const char *recipient = cmd_opt(ctx, "recipient"), *site = cmd_opt(ctx, "site");
    const char *use = cmd_opt(ctx, "use");
    if (!use)
        use = "clinical";
    int rc = 0;
    {
        const char *p[] = {ctx->args[0], recipient, site, use};
        PGresult *r = db_exec(ctx->conn,
                              "SELECT fmtbank.aliquot_issue($1, $2, $3, $4),"
                              " fmtbank.recipient_code_check($2)",
                              4, p, &ctx->err);
        if (r) {
            out_ids(r);
            fprintf(stderr, "issued \"%s\" to recipient %s at %s for %s use\n",
                    PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), site, use);
        } else {
            rc = cmd_fail(ctx);
        }
        PQclear(r);
    }
    return rc;
}

static int
cmd_aliquot_thaw(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    PGresult *r = db_exec(ctx->conn,
                          "SELECT aliquot_id, fmtbank.ts_text(thawed_at), fmtbank.ts_text(use_by),"
                          " taken_from FROM fmtbank.aliquot_thaw($1)",
                          1, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    fprintf(stderr, "thawed \"%s\" at %s%s%s; use by %s, never refreeze\n", PQgetvalue(r, 0, 0),
            PQgetvalue(r, 0, 1), PQgetisnull(r, 0, 3) ? "" : ", taken from ",
            PQgetisnull(r, 0, 3) ? "" : PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 2));
    PQclear(r);
    return 0;
}

const struct cmd_def cmd_defs_aliquot_use[] = {
    {"aliquot issue", cmd_aliquot_issue, CMD_DB, {"ID", 1, 1, "aliquot ID"},
     (const struct opt_spec[]){
         {"recipient", 0, OPT_STRING, "CODE",
          .help = "the pseudonymous recipient or trial-subject code (never a name)",
          .flags = OPT_REQUIRED},
         {"site", 0, OPT_STRING, "SITE", .help = "the receiving site", .flags = OPT_REQUIRED},
         {"use", 0, OPT_STRING, "USE", .help = "what the dose is used for, kept on the issue",
          .choices = "clinical|research", .def = "clinical"},
         {0}},
     "issue a released dose to a recipient (prints its ID)",
     "Only a released dose of a released lot that has not expired, is not recalled or held by\n"
     "an open lookback case, was never thawed and is not the retained sample, and only when the\n"
     "donor's consent in force at the issue covers --use (\"fmtbank donor consent\"); otherwise\n"
     "refused (exit 5) with the reason. The tube leaves its box (a custody event); the issue is\n"
     "what lookback follows to the recipients to notify.\n"},
    {"aliquot thaw", cmd_aliquot_thaw, CMD_DB, {"ID", 1, 1, "aliquot ID"}, NULL,
     "record that a tube was thawed (it can never be stored or issued again)",
     "The tube leaves its box if it is in one (a custody event). Thawed material is used within\n"
     "thawed_use_hours and never refrozen: scanning it into a box is refused. Thaw an issued\n"
     "dose at the recipient's site, or a tube in stock (the retained sample) for testing.\n"},
    {0},
};
