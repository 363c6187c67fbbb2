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
            out_ids(ctx, r);
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

/* "aliquot pick": the doses to take out for an issue, first expiring first
 * (schema/code/200_desk.sql, fmtbank.aliquot_pick). */
static int
cmd_aliquot_pick(struct cmd_ctx *ctx)
{
    const char *lot = cmd_opt(ctx, "lot"), *donor = cmd_opt(ctx, "donor");
    const char *n = cmd_opt(ctx, "n"), *use = cmd_opt(ctx, "use");
    if ((lot == NULL) == (donor == NULL))
        return cmd_usage_error(ctx, lot ? "--lot and --donor exclude each other"
                                        : "missing --lot or --donor");
    char *end = NULL;
    long want = n ? strtol(n, &end, 10) : 1;
    if (n && (end == n || *end != '\0' || want < 1 || want > 10000))
        return cmd_usage_error(ctx, "invalid value \"%s\" for --n (1 to 10000 doses)", n);
    char nbuf[24];
    snprintf(nbuf, sizeof(nbuf), "%ld", want);
    const char *p[] = {lot, donor, nbuf, use ? use : "clinical"};
#define PICK_FROM " FROM fmtbank.aliquot_pick($1, $2, $3::integer, $4)"
    PGresult *r = db_exec(ctx->conn, "SELECT id, available" PICK_FROM, 4, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    long got = PQntuples(r), available = got ? atol(PQgetvalue(r, 0, 1)) : 0;
    int rc = 0;
    if (cmd_flag(ctx, "ids"))
        out_ids(ctx, r);
    else
        rc = out_query(ctx, OUT_LIST,
                       "SELECT pick, id, location, expires, lot, donor, freezer_name AS freezer,"
                       " rack" PICK_FROM " ORDER BY pick",
                       4, p, NULL);
#undef PICK_FROM
    PQclear(r);
    if (rc != 0)
        return rc;
    if (got < want) {
        fb_error_set(&ctx->err, FB_ERR_REFUSED,
                     "only %ld dose%s of %s \"%s\" can be issued now, %ld asked", available,
                     available == 1 ? "" : "s", lot ? "lot" : "donor", lot ? lot : donor, want);
        fb_error_detail(&ctx->err, "The doses that can be issued are listed.");
        return cmd_fail(ctx);
    }
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
    {"aliquot pick", cmd_aliquot_pick, CMD_DB, {0},
     (const struct opt_spec[]){
         {"lot", 0, OPT_STRING, "LOT", .help = "pick from this lot"},
         {"donor", 0, OPT_STRING, "CODE", .help = "pick from every lot of this donor"},
         {"n", 0, OPT_STRING, "N", .help = "how many doses (1 to 10000)", .def = "1"},
         {"use", 0, OPT_STRING, "USE", .help = "the use the issue will be for (consent scope)",
          .choices = "clinical|research", .def = "clinical"},
         {"ids", 0, OPT_FLAG, NULL,
          .help = "print only the aliquot IDs, one per line (the input of scan --mode issue)"},
         {0}},
     "propose the doses to take out for an issue, first expiring first (FEFO)",
     "Give --lot or --donor. Lists the first N doses that \"aliquot issue\" and \"scan --mode\n"
     "issue\" would accept now, in the order to take them: released (dose and lot), not\n"
     "expired, never thawed, not held by an open case, never the retained sample, stored in a\n"
     "box, the donor's consent in force covering --use; the first expiring first, then by lot\n"
     "and dose. Each with its location BOX:POSITION, freezer and rack. Take the tubes out and\n"
     "scan them with \"fmtbank scan --mode issue --recipient R --site S\"; with --ids the list is\n"
     "that session's input as it stands. Changes nothing. No dose to propose is refused (exit\n"
     "5) with what stops the doses (issued, expired, held, ...); fewer than N prints those there\n"
     "are and exits 5.\n"},
    {"aliquot thaw", cmd_aliquot_thaw, CMD_DB, {"ID", 1, 1, "aliquot ID"}, NULL,
     "record that a tube was thawed (it can never be stored or issued again)",
     "The tube leaves its box if it is in one (a custody event). Thawed material is used within\n"
     "thawed_use_hours and never refrozen: scanning it into a box is refused. Thaw an issued\n"
     "dose at the recipient's site, or a tube in stock (the retained sample) for testing.\n"},
    {0},
};
