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

static int
cmd_release_sign(struct cmd_ctx *ctx)
{
    const char *meaning = cmd_opt(ctx, "meaning");
    char *what = xasprintf("the release of lot %s", ctx->args[0]);
    char *pw = sign_password(ctx, what, meaning);
    free(what);
    if (!pw)
        return cmd_fail(ctx);
    const char *p[] = {ctx->args[0], meaning};
    PGresult *r = sign_run(ctx, pw, "SELECT fmtbank.sign_attempt($1, $2, $3)", ctx->args[0], meaning,
                           "SELECT outcome, signature, sha256, released, message, detail, hint"
                           " FROM fmtbank.release_sign($1, $2, $3::bigint)",
                           p, 2);
    sign_forget(pw);
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
          .help = "what the signature means, e.g. \"Released for clinical use\" (21 CFR 11.50)",
          .flags = OPT_REQUIRED},
         {"password-stdin", 0, OPT_FLAG, NULL,
          .help = "read the signature password from the first line of standard input"},
         {0}},
     "sign the release of a lot (quality): the lot and its doses become released; prints the "
     "signature ID",
     "An electronic signature under 21 CFR Part 11: only a quality officer signs, as themselves,\n"
     "re-entering their own signature password (asked without echo at a terminal, or read from\n"
     "standard input with --password-stdin). The lot must be releasable (\"release check\").\n"
     "The signature records the printed name, user, time, meaning, rule-set version and a\n"
     "canonical JSON snapshot of the evaluation it was signed on with its SHA-256; it can never\n"
     "be changed. The lot and its doses in quarantine become released in the same transaction;\n"
     "the retained sample stays in quarantine. If two officers sign at once, one release is\n"
     "made and the other is refused.\n"
     "A wrong password is refused (exit 5) and recorded; after 5 consecutive failures the signer\n"
     "is locked until an administrator runs \"fmtbank user unlock\".\n"},
    {"release review", cmd_release_review, CMD_DB, {0}, NULL,
     "released stock still in the freezers that the current rules would no longer release",
     "Lists released lots that still have released, unexpired doses in stock and fail a rule\n"
     "as the rules and records stand now (e.g. a test limit lowered after the stock was banked),\n"
     "with the doses and where they are, for a quality officer's review.\n"},
    {0},
};
