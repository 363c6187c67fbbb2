/* catalog.c: "fmtbank catalog tests|questions|wordings|rules": the screening tests, questionnaire
 * items, laboratory wordings and rule parameters in force now, or at a past moment (--as-of), as the database defines them
 * (schema/010_catalog.sql). */
#include "cmd/cmd.h"
#include "db/db.h"

#include <stddef.h>

static int
catalog_query(struct cmd_ctx *ctx, const char *sql)
{
    const char *as_of = cmd_opt(ctx, "as-of");
    const char *p[] = {as_of};
    return out_query(ctx, OUT_LIST, sql, 1, p, NULL);
}

static int
cmd_catalog_tests(struct cmd_ctx *ctx)
{
    return catalog_query(ctx,
                         "SELECT code, name, specimen, pg_catalog.to_jsonb(required) AS required,"
                         " validity_days, accept, unit, excludes_permanently, rule_set_version"
                         " FROM fmtbank.screening_test_at(fmtbank.parse_as_of($1))"
                         " ORDER BY test_no");
}

static int
cmd_catalog_questions(struct cmd_ctx *ctx)
{
    return catalog_query(
        ctx,
        "SELECT code, fmtbank.questionnaire_kind_name(questionnaire) AS questionnaire, type, text,"
        " CASE WHEN type = 'boolean' THEN 'no' END AS clear,"
        " CASE WHEN type = 'number' THEN coalesce(clear_min, answer_min) END AS min,"
        " CASE WHEN type = 'number' THEN coalesce(clear_max, answer_max) END AS max,"
        " defer_days,"
        " CASE effect WHEN 'exclude' THEN 'yes excludes permanently'"
        "   WHEN 'defer' THEN CASE type WHEN 'date' THEN 'deferred until the date + defer_days'"
        "                     ELSE 'yes defers by defer_days' END"
        "   ELSE 'deferred when outside min to max' END AS effect,"
        " answer_min, answer_max, derived, source,"
        " (SELECT x.lookback_days FROM fmtbank.question_item x WHERE x.code = q.code)"
        " AS lookback_days"
        " FROM fmtbank.question_item_at(fmtbank.parse_as_of($1)) q ORDER BY sort_order");
}

static int
cmd_catalog_wordings(struct cmd_ctx *ctx)
{
    return out_query(
        ctx, OUT_LIST,
        "SELECT 'result' AS kind, coalesce(test, 'every qualitative test') AS test, wording AS written,"
        " result AS means, source FROM fmtbank.result_wording"
        " UNION ALL"
        " SELECT 'unit', from_unit || ' into ' || to_unit, from_unit,"
        " pg_catalog.format('x %s %s', pg_catalog.trim_scale(factor), to_unit), source"
        " FROM fmtbank.unit_equivalence ORDER BY 1, 2, 3",
        0, NULL, NULL);
}

static int
cmd_catalog_rules(struct cmd_ctx *ctx)
{
    return catalog_query(ctx,
                         "SELECT name, value, unit, description, source,"
                         " set_in_version, set_from, rule_set_version"
                         " FROM fmtbank.rule_params_at(fmtbank.parse_as_of($1)) ORDER BY sort_order");
}

static const struct opt_spec as_of_opt[] = {
    {"as-of", 0, OPT_STRING, "WHEN",
     .help = "the rule set in force then (a date: the end of that day, or a timestamp)"},
    {0},
};

const struct cmd_def cmd_defs_catalog[] = {
    {"catalog tests", cmd_catalog_tests, CMD_DB, {0}, as_of_opt,
     "the screening tests: specimen, required phases, validity, accept rule, unit",
     "accept is negative or a limit such as <=5 (in unit). A positive (or out-of-limit) result\n"
     "of a test with excludes_permanently excludes the donor for good; of any other test it\n"
     "defers the donor until an acceptable retest.\n"},
    {"catalog questions", cmd_catalog_questions, CMD_DB, {0}, as_of_opt,
     "the questionnaire items: type, what answer is clear, deferral periods",
     "Boolean items are clear when answered no; number items inside min to max; date items\n"
     "(the date of the last occurrence, empty for never) when older than defer_days. The\n"
     "donation-day items (questionnaire record --short) and the follow-up items (--followup)\n"
     "defer by defer_days after a yes. age is not answered: it comes from the donor's birth\n"
     "year. lookback_days: when an answer recorded after a donation reveals an event, the lots\n"
     "collected from this many days before it are held (product.md section 11.0).\n"},
    {"catalog wordings", cmd_catalog_wordings, CMD_DB, {0}, NULL,
     "how laboratories may write results: words for qualitative results, unit equivalences",
     "A qualitative result may be written as one of these words (for one test, or for every\n"
     "qualitative test); a number may come in a unit that converts into the test's unit, and\n"
     "as a bound (<3: some number below 3; >100: above 100), compared with the limit as such.\n"
     "What the lab wrote is kept with the result (reported). Any other wording is refused.\n"},
    {"catalog rules", cmd_catalog_rules, CMD_DB, {0}, as_of_opt,
     "the rule parameters in force, with their source and the version that set them",
     "Every number a rule uses is a parameter of the versioned rule set; \"fmtbank rules set\"\n"
     "changes one (admin).\n"},
    {0},
};
