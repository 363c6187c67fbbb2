/* release.c: "fmtbank release check|sign|review": whether a lot may be released, the quality
 * officer's electronic signature (21 CFR Part 11: re-authentication with the signer's own
 * signature password, the meaning recorded, the evaluation signed on kept with its SHA-256), and
 * released stock the current rules would no longer release. The rules and the signature live in
 * schema/031_readiness.sql and schema/032_signature.sql; "release report" is the reports'. */
#include "cmd/lot.h"
#include "cmd/sign.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_release_check(struct cmd_ctx *ctx)
{
    bool releasable = false;
    const char *as_of = cmd_opt(ctx, "as-of");
    int rc = lot_print_state(ctx, ctx->args[0], &releasable);
    if (rc == 0 && !releasable) {
        if (as_of)
            fb_error_set(&ctx->err, FB_ERR_REFUSED, "lot \"%s\" was not releasable at %s",
                         ctx->args[0], as_of);
        else
            fb_error_set(&ctx->err, FB_ERR_REFUSED, "lot \"%s\" is not releasable", ctx->args[0]);
        fb_error_hint(&ctx->err, "The blocking rules say why.");
        rc = FB_ERR_REFUSED;
    } else if (rc == 0 && as_of) {
        fprintf(stderr, "lot \"%s\" was releasable at %s\n", ctx->args[0], as_of);
    } else if (rc == 0) {
        fprintf(stderr, "lot \"%s\" is releasable\n", ctx->args[0]);
    }
    return rc;
}

/* Before the password: what is signed, from fmtbank.release_sign_preview, which refuses (exit 5)
 * a lot that cannot be signed, so a password is never asked for (nor a typo counted) in vain. */
static int
cmd_release_sign(struct cmd_ctx *ctx)
{
    const char *pp[] = {ctx->args[0], cmd_opt(ctx, "meaning")};
    PGresult *v = db_exec(ctx->conn,
                          "SELECT refusal, refusal_detail, refusal_hint, lot, donor, collected,"
                          " doses, meaning, rules_passed, rules"
                          " FROM fmtbank.release_sign_preview($1, $2)",
                          2, pp, &ctx->err);
    if (!v)
        return cmd_fail(ctx);
    if (!PQgetisnull(v, 0, 0)) { /* the signer is locked */
        int rc = sign_outcome(ctx, v, "", 0);
        PQclear(v);
        return rc;
    }
    char *meaning = xstrdup(PQgetvalue(v, 0, 7));
    fprintf(stderr,
            "Release of lot %s\n  donor:     %s\n  collected: %s\n  doses:     %s to release\n"
            "  verdict:   releasable (%s of %s rules pass)\n  meaning:   \"%s\"\n",
            PQgetvalue(v, 0, 3), PQgetvalue(v, 0, 4), PQgetvalue(v, 0, 5), PQgetvalue(v, 0, 6),
            PQgetvalue(v, 0, 8), PQgetvalue(v, 0, 9), meaning);
    PQclear(v);
    char *what = xasprintf("the release of lot %s", ctx->args[0]);
    char *pw = sign_password(ctx, what, meaning);
    free(what);
    if (!pw) {
        free(meaning);
        return cmd_fail(ctx);
    }
    const char *p[] = {ctx->args[0], meaning};
    PGresult *r = sign_run(ctx, pw, "SELECT fmtbank.sign_attempt($1, $2, $3)", ctx->args[0], meaning,
                           "SELECT outcome, signature, sha256, released, message, detail, hint"
                           " FROM fmtbank.release_sign($1, $2, $3::bigint)",
                           p, 2);
    sign_forget(pw);
    free(meaning);
    if (!r)
        return cmd_fail(ctx);
    int rc = sign_outcome(ctx, r, "signed", 4);
    if (rc == 0) {
        printf("%s\n", PQgetvalue(r, 0, 1));
        fprintf(stderr, "released lot \"%s\" (%s dose%s); signature SHA-256 %s\n", ctx->args[0],
                PQgetvalue(r, 0, 3), strcmp(PQgetvalue(r, 0, 3), "1") == 0 ? "" : "s",
                PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    return rc;
}

static int
cmd_release_meanings(struct cmd_ctx *ctx)
{
    return cmd_query_noargs(ctx, OUT_LIST,
                            "SELECT meaning, \"default\" FROM fmtbank.release_meanings");
}

/* release meaning add|default|retire TEXT: the administrator keeps the controlled list. */
static int
meaning_change(struct cmd_ctx *ctx, const char *sql, int nparams, const char *const *p)
{
    PGresult *r = db_exec(ctx->conn, sql, nparams, p, &ctx->err);
    if (r == NULL)
        return cmd_fail(ctx);
    printf("%s\n", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

static int
cmd_release_meaning_add(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_flag(ctx, "default") ? "true" : "false", cmd_opt(ctx, "order")};
    return meaning_change(ctx, "SELECT fmtbank.signature_meaning_add($1, $2::boolean, $3)", 3, p);
}

static int
cmd_release_meaning_default(struct cmd_ctx *ctx)
{
    return meaning_change(ctx, "SELECT fmtbank.signature_meaning_default($1)", 1,
                          (const char *const[]){ctx->args[0]});
}

static int
cmd_release_meaning_retire(struct cmd_ctx *ctx)
{
    return meaning_change(ctx, "SELECT fmtbank.signature_meaning_retire($1)", 1,
                          (const char *const[]){ctx->args[0]});
}

static int
cmd_release_review(struct cmd_ctx *ctx)
{
    return cmd_query_noargs(ctx, OUT_LIST,
                            ctx->format == OUT_JSON
                                ? "SELECT lot, donor, released_at, released_by, in_stock,"
                                  " aliquots, blocking"
                                  " FROM fmtbank.release_review_at(pg_catalog.clock_timestamp())"
                                : "SELECT lot, donor, released_at, in_stock,"
                                  " (SELECT pg_catalog.string_agg(pg_catalog.format('%s: %s',"
                                  "   e ->> 'rule', e ->> 'detail'), '; ')"
                                  "  FROM pg_catalog.jsonb_array_elements(blocking) e) AS blocking"
                                  " FROM fmtbank.release_review_at(pg_catalog.clock_timestamp())");
}

#define LOT_ARG {"LOT", 1, 1, "lot ID"}
#define MEANING_ARG {"TEXT", 1, 1, "the meaning, quoted"}

const struct cmd_def cmd_defs_release[] = {
    {"release check", cmd_release_check, CMD_DB, LOT_ARG, LOT_AS_OF_OPTS,
     "whether a lot may be released now: exit 0 if so, else 5 with every blocking rule",
     "A lot is releasable when it is in quarantine or ready (not rejected, recalled or released)\n"
     "and: processed within max_processing_hours (processing); its donation-day questionnaire\n"
     "is recorded and clear (donation_questionnaire); every required test has an acceptable\n"
     "result collected in the pre_window_days before the collection day (pre_panel) and in the\n"
     "post_window_days after it (post_panel); no unacceptable result lies between them\n"
     "(unacceptable_result); no open lookback case holds it (lookback); and the donor is not\n"
     "manually excluded (donor_excluded). Results, questionnaires and rules are those in force\n"
     "now. Prints the lot as \"lot show\" does.\n"
     "With --as-of TS: whether it was releasable then (exit 0, else 5), with the blocking rules\n"
     "as they were. " LOT_AS_OF_HELP},
    {"release sign", cmd_release_sign, CMD_DB, LOT_ARG,
     (const struct opt_spec[]){
         {"meaning", 0, OPT_STRING, "TEXT",
          .help = "what the signature means (21 CFR 11.50): one of the site's list (\"release "
                  "meanings\"); default: the list's default, \"Released for clinical use\" as "
                  "shipped"},
         {"password-stdin", 0, OPT_FLAG, NULL,
          .help = "read the signature password from the first line of standard input"},
         {0}},
     "sign the release of a lot (quality): the lot and its doses become released; prints the "
     "signature ID",
     "An electronic signature under 21 CFR Part 11: only a quality officer signs, as themselves,\n"
     "re-entering their own signature password (asked without echo at a terminal, or read from\n"
     "standard input with --password-stdin). The lot must be releasable (\"release check\"):\n"
     "before the password is asked, everything that does not depend on it is checked (role,\n"
     "meaning, signer not locked, lot releasable and not held) and a lot that cannot be signed\n"
     "is refused (exit 5) without asking, so a mistyped password is never counted for it. Then\n"
     "what is signed is shown on standard error: lot, donor, collection time, the doses to\n"
     "release, the verdict (how many release rules pass) and the meaning.\n"
     "The meaning is one of a controlled list held as site data (\"fmtbank release meanings\";\n"
     "shipped: \"Released for clinical use\" (the default), \"Released for research use\",\n"
     "\"Released for clinical trial use\"); any other is refused (exit 3).\n"
     "The signature records the printed name, user, time, meaning, rule-set version and a\n"
     "canonical JSON snapshot of the evaluation it was signed on with its SHA-256; it can never\n"
     "be changed. The lot and its doses in quarantine become released in the same transaction;\n"
     "the retained sample stays in quarantine. If two officers sign at once, one release is\n"
     "made and the other is refused.\n"
     "A wrong password is refused (exit 5) and recorded; after 5 consecutive failures the signer\n"
     "is locked until an administrator runs \"fmtbank user unlock\".\n"},
    {"release meanings", cmd_release_meanings, CMD_DB, {0}, NULL,
     "the meanings a release signature may carry (site data), the default marked",
     "The controlled list of \"release sign --meaning\" (fmtbank.signature_meaning, audited): a\n"
     "meaning is never deleted, only retired, so every past signature's meaning stays known.\n"},
    {"release meaning add", cmd_release_meaning_add, CMD_DB | CMD_REASON, MEANING_ARG,
     (const struct opt_spec[]){
         {"default", 0, OPT_FLAG, NULL, .help = "make it the default meaning (of \"release sign\" without --meaning)"},
         {"order", 0, OPT_STRING, "N", .help = "its place in the list (default: last)"},
         {0}},
     "add a meaning to the release signature list (admin)",
     "Never added twice (case ignored), never renamed or deleted; prints the meaning.\n"},
    {"release meaning default", cmd_release_meaning_default, CMD_DB | CMD_REASON, MEANING_ARG, NULL,
     "make a meaning the default of \"release sign\" (admin)", NULL},
    {"release meaning retire", cmd_release_meaning_retire, CMD_DB | CMD_REASON, MEANING_ARG, NULL,
     "retire a meaning: no new signature carries it (admin)",
     "Past signatures keep it. The default cannot be retired: make another the default first.\n"},
    {"release review", cmd_release_review, CMD_DB, {0}, NULL,
     "released stock still in the freezers that the current rules would no longer release",
     "Lists released lots that still have released, unexpired doses in stock and fail a rule\n"
     "as the rules and records stand now (e.g. a test limit lowered after the stock was banked),\n"
     "with the doses and where they are, for a quality officer's review.\n"},
    {0},
};
