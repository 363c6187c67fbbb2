/* case.c: "fmtbank case list|show|decide|notify|close" and "fmtbank hold add": the cases that hold
 * material on a safety signal (product.md §11.0), the quality officer's signed decision that alone
 * ends a hold, who was told, and closing. The rules are in schema/code/100_case.sql. */
#include "cmd/sign.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_case_list(struct cmd_ctx *ctx)
{
    const char *p[] = {cmd_flag(ctx, "open") ? "open" : NULL, cmd_opt(ctx, "source")};
    return out_query(ctx, OUT_LIST,
                     ctx->format == OUT_JSON
                         ? "SELECT \"case\", source, status, proposal, donor, scope, about,"
                           " opened_at, opened_by, lots_held, tubes_held, closed_at, closed_by,"
                           " close_reason FROM fmtbank.case_list"
                           " WHERE ($1::text IS NULL OR status = $1)"
                           "   AND ($2::text IS NULL OR source = $2) ORDER BY \"case\""
                         : "SELECT \"case\", source, coalesce(proposal, status) AS status, donor,"
                           " about, lots_held, tubes_held FROM fmtbank.case_list"
                           " WHERE ($1::text IS NULL OR status = $1)"
                           "   AND ($2::text IS NULL OR source = $2) ORDER BY \"case\"",
                     2, p, NULL);
}

static int
cmd_case_show(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    return out_query(ctx, OUT_OBJECT, "SELECT * FROM fmtbank.case_show($1)", 1, p,
                     "case not found");
}

/* Exactly one of the named options given; returns its name, or NULL with a usage error set. */
static const char *
one_of(struct cmd_ctx *ctx, const char *const *names, const char *what)
{
    const char *found = NULL;
    for (const char *const *n = names; *n; n++) {
        bool given = cmd_flag(ctx, *n);
        if (given && found) {
            cmd_usage_error(ctx, "give one of %s, not both --%s and --%s", what, found, *n);
            return NULL;
        }
        if (given)
            found = *n;
    }
    if (!found)
        cmd_usage_error(ctx, "missing %s", what);
    return found;
}

static int
cmd_case_decide(struct cmd_ctx *ctx)
{
    static const char *const decisions[] = {"lift", "recall", "discard", NULL};
    const char *decision = one_of(ctx, decisions, "--lift, --recall or --discard");
    if (!decision)
        return FB_ERR_USAGE;
    const char *meaning = cmd_opt(ctx, "meaning");
    char *what = xasprintf("the decision \"%s\" on case %s", decision, ctx->args[0]);
    char *pw = sign_password(ctx, what, meaning);
    free(what);
    if (!pw)
        return cmd_fail(ctx);
    const char *p[] = {ctx->args[0], decision, cmd_opt(ctx, "lot"), meaning};
    PGresult *r = sign_run(ctx, pw, "SELECT fmtbank.case_sign_attempt($1, $2, $3)", ctx->args[0],
                           meaning,
                           "SELECT outcome, lots, aliquots, message, detail, hint"
                           " FROM fmtbank.case_decide($1, $2, $3, $4, $5::bigint)",
                           p, 4);
    sign_forget(pw);
    if (!r)
        return cmd_fail(ctx);
    int rc = sign_outcome(ctx, r, "decided", 3);
    if (rc == 0)
        fprintf(stderr, "case %s: %s signed (%s lot%s and %s aliquot%s %s)\n", ctx->args[0],
                decision, PQgetvalue(r, 0, 1), strcmp(PQgetvalue(r, 0, 1), "1") == 0 ? "" : "s",
                PQgetvalue(r, 0, 2), strcmp(PQgetvalue(r, 0, 2), "1") == 0 ? "" : "s",
                strcmp(decision, "lift") == 0 ? "no longer held" : "changed");
    PQclear(r);
    return rc;
}

static int
cmd_case_notify(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "recipient"), cmd_opt(ctx, "by"),
                       cmd_opt(ctx, "at"), cmd_opt(ctx, "note")};
    char *id = db_scalar(ctx->conn, "SELECT fmtbank.case_notify($1, $2, $3, $4, $5)", 5, p,
                         &ctx->err);
    if (!id)
        return cmd_fail(ctx);
    fprintf(stderr, "recorded that recipient %s was told (case %s)\n", p[1], ctx->args[0]);
    free(id);
    return 0;
}

static int
cmd_case_close(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "unnotified-reason")};
    char *id = db_scalar(ctx->conn, "SELECT fmtbank.case_close($1, $2)", 2, p, &ctx->err);
    if (!id)
        return cmd_fail(ctx);
    fprintf(stderr, "closed case %s\n", id);
    free(id);
    return 0;
}

static int
cmd_hold_add(struct cmd_ctx *ctx)
{
    static const char *const scopes[] = {"donor", "lot", "aliquot", "box", "freezer", NULL};
    const char *scope = one_of(ctx, scopes, "--donor, --lot, --aliquot, --box or --freezer");
    if (!scope)
        return FB_ERR_USAGE;
    const char *p[] = {scope, cmd_opt(ctx, scope), cmd_opt(ctx, "from"), cmd_opt(ctx, "to")};
    PGresult *r = db_exec(ctx->conn,
                          "SELECT case_id, lots, aliquots FROM fmtbank.hold_add($1, $2, $3, $4)", 4,
                          p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    out_id(ctx, PQgetvalue(r, 0, 0));
    fprintf(stderr, "case %s holds %s lot%s and %s single tube%s\n", PQgetvalue(r, 0, 0),
            PQgetvalue(r, 0, 1), strcmp(PQgetvalue(r, 0, 1), "1") == 0 ? "" : "s",
            PQgetvalue(r, 0, 2), strcmp(PQgetvalue(r, 0, 2), "1") == 0 ? "" : "s");
    PQclear(r);
    return 0;
}

#define CASE_ARG {"CASE", 1, 1, "case ID"}

const struct cmd_def cmd_defs_case[] = {
    {"case list", cmd_case_list, CMD_DB, {0},
     (const struct opt_spec[]){
         {"open", 0, OPT_FLAG, NULL, .help = "only the open cases"},
         {"source", 0, OPT_STRING, "S", .help = "only the cases of that source (result, manual, "
                                                "disclosure, ...)"},
         {0}},
     "every case: source, state, what it is about, what it holds now",
     "A case withdrawn by a correction shows \"signal withdrawn - lift proposed\": its holds stay\n"
     "until a quality officer lifts them.\n"},
    {"case show", cmd_case_show, CMD_DB, CASE_ARG, NULL,
     "a case: scope, holds (with box:position), decisions and recipients with notification",
     "Closed cases keep everything they held, decided and recorded.\n"},
    {"case decide", cmd_case_decide, CMD_DB, CASE_ARG,
     (const struct opt_spec[]){
         {"lift", 0, OPT_FLAG, NULL, .help = "end the holds: the material is usable again"},
         {"recall", 0, OPT_FLAG, NULL,
          .help = "recall the lots and their doses in stock (the retained sample is kept)"},
         {"discard", 0, OPT_FLAG, NULL,
          .help = "discard the doses in stock and recall the lots (the retained sample is kept)"},
         {"lot", 0, OPT_STRING, "LOT", .help = "decide for this lot of the case only"},
         {"meaning", 0, OPT_STRING, "TEXT", .help = "what the signature means (21 CFR 11.50)",
          .flags = OPT_REQUIRED},
         {"password-stdin", 0, OPT_FLAG, NULL,
          .help = "read the signature password from the first line of standard input"},
         {0}},
     "a quality officer's signed decision on a case's held material (the only end of a hold)",
     "Re-authenticated like \"release sign\": the signer's own signature password, the meaning\n"
     "recorded; a wrong password is refused (exit 5) and recorded. The case is decided when none\n"
     "of its material is held any more. Issued doses are listed in \"case show\" for notifying.\n"},
    {"case notify", cmd_case_notify, CMD_DB, CASE_ARG,
     (const struct opt_spec[]){
         {"recipient", 0, OPT_STRING, "R", .help = "the recipient code told",
          .flags = OPT_REQUIRED},
         {"by", 0, OPT_STRING, "HOW", .help = "how", .flags = OPT_REQUIRED,
          .choices = "phone|letter|email|in-person"},
         {"at", 0, OPT_STRING, "TS", .help = "when (ISO 8601, not in the future)",
          .flags = OPT_REQUIRED},
         {"note", 0, OPT_STRING, "TEXT", .help = "anything worth keeping"},
         {0}},
     "record who was told about a dose of a case's material: when, how, by whom (quality, admin)",
     NULL},
    {"case close", cmd_case_close, CMD_DB | CMD_REASON, CASE_ARG,
     (const struct opt_spec[]){
         {"unnotified-reason", 0, OPT_STRING, "TEXT",
          .help = "why recipients not notified are left so (else closing is refused)"},
         {0}},
     "close a case (quality): refused while material is held undecided or a recipient is "
     "un-notified",
     NULL},
    {"hold add", cmd_hold_add, CMD_DB | CMD_REASON, {0},
     (const struct opt_spec[]){
         {"donor", 0, OPT_STRING, "CODE", .help = "the donor's lots (collected in the window)"},
         {"lot", 0, OPT_STRING, "LOT", .help = "one lot and its doses"},
         {"aliquot", 0, OPT_STRING, "ID", .help = "one tube"},
         {"box", 0, OPT_STRING, "BOX", .help = "the tubes that were in the box in the window"},
         {"freezer", 0, OPT_STRING, "F", .help = "the tubes that were in the freezer in the window"},
         {"from", 0, OPT_STRING, "TS", .help = "the window's start (donor: collection time)"},
         {"to", 0, OPT_STRING, "TS", .help = "the window's end (box, freezer: default now)"},
         {0}},
     "hold material on suspicion: opens a manual case (any role but the auditor); prints its ID",
     "A donor hold without --to also holds the lots collected later, until decided; while a\n"
     "donor has an open case, a new donation is recorded as rejected. A box or freezer hold\n"
     "holds the tubes that were there at any time in [--from, --to] (default: now), wherever\n"
     "they are now. Only a quality officer's signed \"case decide\" ends a hold.\n"},
    {0},
};
