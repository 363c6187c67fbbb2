/* catalog.c: "fmtbank catalog tests|questions|wordings|rules|history": the screening tests,
 * questionnaire items, laboratory wordings and rule parameters in force now, or at a past moment
 * (--as-of), as the database defines them (schema/code/010_catalog.sql); "catalog test|question
 * add|change|retire", each a new catalog version (schema/code/140_catalog_change.sql), and
 * "catalog reinterview ITEM". */
#include "cmd/cmd.h"
#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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
                         " validity_days, accept, unit, excludes_permanently, rule_set_version,"
                         " catalog_version"
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
        " answer_min, answer_max, derived, source, lookback_days, catalog_version"
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

static int
cmd_catalog_history(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->nargs ? ctx->args[0] : NULL};
    return out_query(ctx, OUT_LIST,
                     "SELECT version, effective_from, subject, code, action, applies_from, taken_at,"
                     " case_code, created_by, reason FROM fmtbank.catalog_history"
                     " WHERE $1::text IS NULL OR upper(code) = upper($1) ORDER BY version DESC",
                     1, p, NULL);
}

/* A catalog change: one call of the function, whose row (version, code, action, effective_from,
 * case_code, lots_held) is printed; a line on stderr says what happened. */
static int
catalog_change(struct cmd_ctx *ctx, const char *sql, int n, const char *const *p)
{
    PGresult *r = db_exec(ctx->conn, sql, n, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    fprintf(stderr, "catalog version %s: %s %s, effective %s\n", PQgetvalue(r, 0, 0),
            PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 3));
    if (!PQgetisnull(r, 0, 4))
        fprintf(stderr, "case %s opened: it holds %s released lot(s) never tested for %s\n",
                PQgetvalue(r, 0, 4), PQgetvalue(r, 0, 5), PQgetvalue(r, 0, 1));
    out_ids(ctx, r);
    PQclear(r);
    return 0;
}

#define CHANGE_COLS "version, code, action, effective_from, case_code, lots_held"

static int
catalog_test_edit(struct cmd_ctx *ctx, const char *fn)
{
    bool change = strcmp(fn, "catalog_test_change") == 0;
    const char *excl = cmd_flag(ctx, "excludes")                 ? "true"
                       : change && cmd_flag(ctx, "no-excludes") ? "false"
                                                                 : NULL;
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "name"), cmd_opt(ctx, "specimen"),
                       cmd_opt(ctx, "phases"), cmd_opt(ctx, "accept"), cmd_opt(ctx, "unit"),
                       cmd_opt(ctx, "validity-days"), excl, cmd_opt(ctx, "source"),
                       cmd_opt(ctx, "effective"), cmd_opt(ctx, "applies-from")};
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT " CHANGE_COLS " FROM fmtbank.%s($1, $2, $3, $4, $5, $6, $7, $8::boolean, $9,"
             " $10, $11)", fn);
    return catalog_change(ctx, sql, 11, p);
}

static int
cmd_catalog_test_add(struct cmd_ctx *ctx)
{
    return catalog_test_edit(ctx, "catalog_test_add");
}

static int
cmd_catalog_test_change(struct cmd_ctx *ctx)
{
    return catalog_test_edit(ctx, "catalog_test_change");
}

static int
cmd_catalog_test_retire(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "effective")};
    return catalog_change(ctx, "SELECT " CHANGE_COLS " FROM fmtbank.catalog_test_retire($1, $2)", 2, p);
}

static int
cmd_catalog_question_add(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "questionnaire"), cmd_opt(ctx, "type"),
                       cmd_opt(ctx, "effect"), cmd_opt(ctx, "text"), cmd_opt(ctx, "defer-days"),
                       cmd_opt(ctx, "lookback-days"), cmd_opt(ctx, "source"), cmd_opt(ctx, "effective")};
    return catalog_change(ctx,
                          "SELECT " CHANGE_COLS " FROM fmtbank.catalog_question_add($1, $2, $3, $4,"
                          " $5, $6, $7, $8, $9)", 9, p);
}

static int
cmd_catalog_question_change(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "text"), cmd_opt(ctx, "defer-days"),
                       cmd_opt(ctx, "lookback-days"), cmd_opt(ctx, "source"), cmd_opt(ctx, "effective")};
    return catalog_change(ctx,
                          "SELECT " CHANGE_COLS " FROM fmtbank.catalog_question_change($1, $2, $3, $4,"
                          " $5, $6)", 6, p);
}

static int
cmd_catalog_question_retire(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "effective")};
    return catalog_change(ctx, "SELECT " CHANGE_COLS " FROM fmtbank.catalog_question_retire($1, $2)",
                          2, p);
}

static int
cmd_catalog_reinterview(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    return out_query(ctx, OUT_LIST,
                     "SELECT donor, status, last_questionnaire, item_from"
                     " FROM fmtbank.catalog_reinterview($1)", 1, p, NULL);
}

#define EFFECTIVE_OPT                                                                              \
    {"effective", 0, OPT_STRING, "TS",                                                              \
     .help = "when the change takes effect (a future timestamp; default now)"}
#define TEST_OPTS(req)                                                                             \
    {"name", 0, OPT_STRING, "NAME", .help = "what the test detects", .flags = (req)},              \
    {"specimen", 0, OPT_STRING, "S", .help = "what is tested", .flags = (req),                    \
     .choices = "serum|stool|nasal_swab|rectal_swab|urine"},                                       \
    {"phases", 0, OPT_STRING, "P", .help = "required before and after each donation, or not",     \
     .flags = (req), .choices = "pre,post|pre|post|none"},                                         \
    {"accept", 0, OPT_STRING, "RULE", .flags = (req),                                              \
     .help = "negative, or a limit such as <=5 or <50 (with --unit)"},                             \
    {"unit", 0, OPT_STRING, "U", .help = "the unit of a numeric result, e.g. mg/L"},               \
    {"validity-days", 0, OPT_STRING, "N", .flags = (req),                                          \
     .help = "days a result supports eligibility after its collection (1 to 3650)"},             \
    {"excludes", 0, OPT_FLAG, NULL, .help = "an unacceptable result excludes the donor for good"}, \
    {"source", 0, OPT_STRING, "S", .help = "where the requirement comes from", .flags = (req)},   \
    EFFECTIVE_OPT,                                                                                 \
    {"applies-from", 0, OPT_STRING, "DATE",                                                        \
     .help = "a newly required test concerns released lots collected from this day (default: every lot)"}

static const struct opt_spec test_add_opts[] = {TEST_OPTS(OPT_REQUIRED), {0}};
static const struct opt_spec test_change_opts[] = {
    TEST_OPTS(0),
    {"no-excludes", 0, OPT_FLAG, NULL, .help = "an unacceptable result defers (no longer excludes)"},
    {0},
};
static const struct opt_spec effective_opts[] = {EFFECTIVE_OPT, {0}};
static const struct opt_spec question_add_opts[] = {
    {"questionnaire", 0, OPT_STRING, "Q", .help = "which questionnaire asks it", .flags = OPT_REQUIRED,
     .choices = "full|short|followup"},
    {"type", 0, OPT_STRING, "T", .help = "a yes/no or the date of the last time",
     .flags = OPT_REQUIRED, .choices = "boolean|date"},
    {"effect", 0, OPT_STRING, "E", .help = "what a yes (or a recent date) does",
     .flags = OPT_REQUIRED, .choices = "exclude|defer"},
    {"text", 0, OPT_STRING, "TEXT", .help = "the question as asked", .flags = OPT_REQUIRED},
    {"defer-days", 0, OPT_STRING, "N", .help = "the deferral period of a deferring item (0 to 3650)"},
    {"lookback-days", 0, OPT_STRING, "N",
     .help = "lots collected this many days before a disclosed event are held (default 0)"},
    {"source", 0, OPT_STRING, "S", .help = "where the requirement comes from", .flags = OPT_REQUIRED},
    EFFECTIVE_OPT,
    {0},
};
static const struct opt_spec question_change_opts[] = {
    {"text", 0, OPT_STRING, "TEXT", .help = "the question as asked"},
    {"defer-days", 0, OPT_STRING, "N", .help = "the deferral period (0 to 3650)"},
    {"lookback-days", 0, OPT_STRING, "N", .help = "the lookback before a disclosed event (0 to 3650)"},
    {"source", 0, OPT_STRING, "S", .help = "where the requirement comes from"},
    EFFECTIVE_OPT,
    {0},
};

#define CHANGE_HELP                                                                                \
    "Admin only, with --reason. Each change is a new catalog version, effective now or at\n"       \
    "--effective; \"catalog tests|questions --as-of\" and every evaluation at a moment use the\n"  \
    "catalog then in force, so past answers do not change (\"catalog history\" lists versions).\n"

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
    {"catalog history", cmd_catalog_history, CMD_DB, {"[CODE]", 0, 1, NULL}, NULL,
     "every catalog version: what changed, when it took effect, who, why, the case it opened",
     NULL},
    {"catalog test add", cmd_catalog_test_add, CMD_DB | CMD_REASON, {"CODE", 1, 1, "CODE"},
     test_add_opts, "add a screening test (admin): a new catalog version",
     CHANGE_HELP
     "A required test makes unreleased lots not ready until tested; when it takes effect (now,\n"
     "or by the daemon at --effective) it opens a catalog case holding the released lots\n"
     "collected from --applies-from that no result of it screened (a result on a lot's own\n"
     "retained sample, \"result add --specimen\", screens that lot).\n"},
    {"catalog test change", cmd_catalog_test_change, CMD_DB | CMD_REASON, {"CODE", 1, 1, "CODE"},
     test_change_opts, "change a screening test (admin): the options given replace those in force",
     CHANGE_HELP "A test made required by a change (--phases) opens a catalog case as one added.\n"},
    {"catalog test retire", cmd_catalog_test_retire, CMD_DB | CMD_REASON, {"CODE", 1, 1, "CODE"},
     effective_opts, "retire a screening test (admin): no longer required nor evaluated",
     CHANGE_HELP "A retired code is never reused.\n"},
    {"catalog question add", cmd_catalog_question_add, CMD_DB | CMD_REASON, {"CODE", 1, 1, "CODE"},
     question_add_opts, "add a questionnaire item (admin): a new catalog version",
     CHANGE_HELP
     "Questionnaires recorded from then on must answer it; \"catalog reinterview CODE\" lists\n"
     "the donors whose last questionnaire of its kind did not ask it.\n"},
    {"catalog question change", cmd_catalog_question_change, CMD_DB | CMD_REASON,
     {"CODE", 1, 1, "CODE"}, question_change_opts,
     "change a questionnaire item's text or periods (admin)", CHANGE_HELP},
    {"catalog question retire", cmd_catalog_question_retire, CMD_DB | CMD_REASON,
     {"CODE", 1, 1, "CODE"}, effective_opts, "retire a questionnaire item (admin)",
     CHANGE_HELP "A retired code is never reused.\n"},
    {"catalog reinterview", cmd_catalog_reinterview, CMD_DB, {"ITEM", 1, 1, "ITEM"}, NULL,
     "the donors to ask an item added after their last questionnaire of its kind",
     "Every donor not excluded whose latest questionnaire of the item's kind was recorded before\n"
     "the item took effect, or who has none.\n"},
    {"catalog rules", cmd_catalog_rules, CMD_DB, {0}, as_of_opt,
     "the rule parameters in force, with their source and the version that set them",
     "Every number a rule uses is a parameter of the versioned rule set; \"fmtbank rules set\"\n"
     "changes one (admin).\n"},
    {0},
};
