/* donor.c: "fmtbank donor add|import|list|show|explain|identity|defer|exclude|reinstate": the
 * pseudonymous donor registry, each donor's derived status (computed by the database, see
 * schema/013_eligibility.sql) and the quality officer's manual decisions. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "db/donor_import.h"
#include "common/text.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_donor_add(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *year = NULL, *sex = NULL;
    const struct opt_spec specs[] = {{"birth-year", 0, OPT_STRING, &year},
                                     {"sex", 0, OPT_STRING, &sex},
                                     {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "donor CODE") < 0)
        return cmd_fail(ctx);
    int rc;
    {
        const char *p[] = {pos.items[0], year, sex};
        PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.donor_add($1, $2, $3)", 3, p, &ctx->err);
        rc = r ? 0 : -1;
        if (r)
            out_ids(r);
        PQclear(r);
    }
    opt_args_free(&pos);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

/* Opens FILE ("-" for stdin) for an import command. */
FILE *
cmd_open_input(struct cmd_ctx *ctx, const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdin;
    FILE *f = fopen(path, "rb");
    if (!f)
        fb_error_set(&ctx->err, errno == ENOENT ? FB_ERR_NOTFOUND : FB_ERR_INPUT,
                     "could not open \"%s\": %s", path, strerror(errno));
    return f;
}

static int
cmd_donor_import(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct opt_args pos;
    static const struct opt_spec none[] = {{0}};
    if (cmd_parse(ctx, argc, argv, none, &pos, 1, "FILE.csv") < 0)
        return cmd_fail(ctx);
    int rc;
    FILE *in = cmd_open_input(ctx, pos.items[0]);
    if (in) {
        long nbad, nrows;
        FILE *bad = text_escaping_stream(stderr); /* bad lines quote the file: escaped */
        rc = import_csv(ctx->conn, &donor_import_spec, in, pos.items[0], bad ? bad : stderr, stdout,
                        &nbad, &nrows, &ctx->err);
        if (bad)
            fclose(bad);
        if (rc == 0)
            fprintf(stderr, "imported %ld donor%s from \"%s\"\n", nrows, nrows == 1 ? "" : "s",
                    pos.items[0]);
        if (in != stdin)
            fclose(in);
    } else {
        rc = -1;
    }
    opt_args_free(&pos);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static const char *const donor_states[] = {"screening", "eligible", "deferred", "excluded", NULL};

/* Reasons: the JSON array for --format json, a short summary for people otherwise. */
#define REASONS_COLUMN(json)                                                                    \
    ((json) ? "e.reasons"                                                                      \
            : "(SELECT pg_catalog.concat_ws(' ', pg_catalog.string_agg(x.r ->> 'rule', ', ')"    \
              "   FILTER (WHERE x.n <= 3), CASE WHEN pg_catalog.count(*) > 3 THEN"              \
              "   pg_catalog.format('and %s more', pg_catalog.count(*) - 3) END)"               \
              " FROM pg_catalog.jsonb_array_elements(e.reasons) WITH ORDINALITY AS x(r, n))")

static int
cmd_donor_list(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *status = NULL;
    const struct opt_spec specs[] = {{"status", 0, OPT_STRING, &status}, {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 0, "") < 0)
        return cmd_fail(ctx);
    opt_args_free(&pos);
    if (cmd_check_choice(ctx, "--status", status, donor_states) != 0)
        return FB_ERR_USAGE;
    char *sql = xasprintf("SELECT e.code, e.status, e.deferred_until, e.next_screening_due,"
                          " %s AS reasons, d.birth_year, d.sex, d.created_at"
                          " FROM fmtbank.donor_eligibility_at() e"
                          " JOIN fmtbank.donor d ON d.id = e.donor_id"
                          " WHERE $1::text IS NULL OR e.status = $1 ORDER BY e.code",
                          REASONS_COLUMN(ctx->format == OUT_JSON));
    const char *p[] = {status};
    int rc = out_query(ctx, OUT_LIST, sql, 1, p, NULL);
    free(sql);
    return rc;
}

static int
cmd_donor_show(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct opt_args pos;
    static const struct opt_spec none[] = {{0}};
    if (cmd_parse(ctx, argc, argv, none, &pos, 1, "donor CODE") < 0)
        return cmd_fail(ctx);
    const char *p[] = {pos.items[0]};
    int rc = out_query(ctx, OUT_OBJECT,
                       "SELECT e.code, e.status, e.deferred_until, e.reasons, e.next_screening_due,"
                       " e.rule_set_version, d.birth_year, d.sex, d.created_at"
                       " FROM fmtbank.donor_get($1) d"
                       " JOIN fmtbank.donor_status_at(d.id) e ON e.donor_id = d.id",
                       1, p, "donor not found");
    opt_args_free(&pos);
    return rc;
}

/* Every rule with its verdict, as of a moment: a summary object then the rules. Both queries
 * run in one read-only snapshot with the same moment, so they cannot disagree. */
static int
cmd_donor_explain(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *as_of = NULL;
    const struct opt_spec specs[] = {{"as-of", 0, OPT_STRING, &as_of}, {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "donor CODE") < 0)
        return cmd_fail(ctx);
    int rc = FB_OK;
    char *at = NULL;
    const char *p0[] = {pos.items[0], as_of};
    if (db_run(ctx->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
               &ctx->err) < 0 ||
        db_run(ctx->conn, "SELECT fmtbank.donor_get($1)", 1, p0, &ctx->err) < 0 ||
        !(at = db_scalar(ctx->conn, "SELECT fmtbank.parse_as_of($1)::text", 1, p0 + 1,
                         &ctx->err))) {
        rc = cmd_fail(ctx);
        goto done;
    }
    const char *p[] = {pos.items[0], at};
    char *msg = xasprintf("donor \"%s\" was not registered at %s", pos.items[0], at);
    if (ctx->format == OUT_JSON) {
        rc = out_query(ctx, OUT_OBJECT,
                       "SELECT e.code, $2::timestamptz AS as_of, e.status, e.deferred_until,"
                       " e.reasons, e.next_screening_due, e.rule_set_version,"
                       " (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('rule', x.rule,"
                       "   'verdict', x.verdict, 'until', x.until, 'detail', x.detail)"
                       "   ORDER BY x.ord, x.rule)"
                       "  FROM fmtbank.donor_explain_at(e.donor_id, $2::timestamptz) x) AS rules"
                       " FROM fmtbank.donor_status_at((fmtbank.donor_get($1)).id, $2::timestamptz) e",
                       2, p, msg);
    } else {
        rc = out_query(ctx, OUT_OBJECT,
                       "SELECT e.code, $2::timestamptz AS as_of, e.status, e.deferred_until,"
                       " e.next_screening_due, e.rule_set_version"
                       " FROM fmtbank.donor_status_at((fmtbank.donor_get($1)).id, $2::timestamptz) e",
                       2, p, msg);
        if (rc == 0) {
            if (ctx->format == OUT_TABLE)
                putchar('\n');
            rc = out_query(ctx, OUT_LIST,
                           "SELECT rule, verdict, until, detail FROM"
                           " fmtbank.donor_explain_at((fmtbank.donor_get($1)).id, $2::timestamptz)",
                           2, p, NULL);
        }
    }
    free(msg);
    if (rc == 0 && db_run(ctx->conn, "COMMIT", 0, NULL, &ctx->err) < 0)
        rc = cmd_fail(ctx);
done:
    free(at);
    opt_args_free(&pos);
    return rc;
}

/* defer / exclude / reinstate: one function call that checks the role, the reason and the
 * decision in force. */
static int
donor_decide(struct cmd_ctx *ctx, int argc, char **argv, const char *decision)
{
    const char *until = NULL;
    const struct opt_spec with_until[] = {{"until", 0, OPT_STRING, &until}, {0}};
    static const struct opt_spec none[] = {{0}};
    bool defer = strcmp(decision, "defer") == 0;
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, defer ? with_until : none, &pos, 1, "donor CODE") < 0)
        return cmd_fail(ctx);
    int rc = 0;
    if (defer && !until)
        rc = cmd_usage_error(ctx, "missing --until");
    if (rc == 0) {
        const char *p[] = {pos.items[0], decision, until};
        char *code = db_scalar(ctx->conn, "SELECT fmtbank.donor_decide($1, $2, $3)", 3, p,
                               &ctx->err);
        if (!code) {
            rc = cmd_fail(ctx);
        } else {
            const char *q[] = {code};
            char *st = db_scalar(ctx->conn,
                                 "SELECT e.status || coalesce(' until ' || e.deferred_until, '')"
                                 " FROM fmtbank.donor_status_at((fmtbank.donor_get($1)).id) e",
                                 1, q, &ctx->err);
            fprintf(stderr, "donor \"%s\" is now %s\n", code, st ? st : "?");
            free(st);
            free(code);
        }
    }
    opt_args_free(&pos);
    return rc;
}

static int
cmd_donor_defer(struct cmd_ctx *ctx, int argc, char **argv)
{
    return donor_decide(ctx, argc, argv, "defer");
}

static int
cmd_donor_exclude(struct cmd_ctx *ctx, int argc, char **argv)
{
    return donor_decide(ctx, argc, argv, "exclude");
}

static int
cmd_donor_reinstate(struct cmd_ctx *ctx, int argc, char **argv)
{
    return donor_decide(ctx, argc, argv, "reinstate");
}

static int
cmd_donor_identity(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *name = NULL, *birth = NULL, *contact = NULL;
    const struct opt_spec specs[] = {{"full-name", 0, OPT_STRING, &name},
                                     {"birth-date", 0, OPT_STRING, &birth},
                                     {"contact", 0, OPT_STRING, &contact},
                                     {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "donor CODE") < 0)
        return cmd_fail(ctx);
    int rc;
    const char *p[] = {pos.items[0], name, birth, contact};
    if (name || birth || contact) {
        rc = db_run(ctx->conn, "SELECT fmtbank.donor_identity_set($1, $2, $3, $4)", 4, p,
                    &ctx->err) == 0 ? 0 : cmd_fail(ctx);
    } else {
        char *msg = xasprintf("no identity recorded for donor \"%s\"", pos.items[0]);
        rc = out_query(ctx, OUT_OBJECT,
                       "SELECT d.code, i.full_name, i.birth_date, i.contact, i.updated_at"
                       " FROM fmtbank.donor_identity i"
                       " JOIN fmtbank.donor d ON d.id = i.donor_id"
                       " WHERE d.id = (fmtbank.donor_get($1)).id",
                       1, p, msg);
        free(msg);
    }
    opt_args_free(&pos);
    return rc;
}

const struct cmd_def cmd_defs_donor[] = {
    {"donor add", cmd_donor_add, CMD_DB, "donor add CODE [--birth-year Y] [--sex F|M|X]",
     "register a candidate donor by pseudonymous code (prints the code)",
     "CODE must match the site's pattern (default D- and 4 to 8 digits, e.g. D-0001).\n"},
    {"donor import", cmd_donor_import, CMD_DB, "donor import FILE.csv",
     "register many donors from a legacy register, all or nothing",
     "The file has the header line code,birth_year,sex. Every bad line is reported with its\n"
     "line number and nothing is imported unless all lines are good. Prints the new codes.\n"},
    {"donor list", cmd_donor_list, CMD_DB, "donor list [--status S]",
     "donors with their derived status (screening, eligible, deferred, excluded)",
     "Status is derived, never typed: see \"fmtbank donor explain\". --status shows only the\n"
     "donors in that state. In JSON, reasons is the array of {rule, detail}.\n"},
    {"donor show", cmd_donor_show, CMD_DB, "donor show CODE",
     "one donor: status, deferred_until, reasons, next_screening_due",
     "reasons has one {rule, detail} per failing rule, naming the test (test:HIV), the\n"
     "questionnaire item (item:antibiotics_last), age, questionnaire or manual. deferred_until\n"
     "is the first day the deferral no longer applies (null when it lasts until an acceptable\n"
     "retest or a clear questionnaire); next_screening_due is the last day on which every\n"
     "required result and the full questionnaire are still valid.\n"},
    {"donor identity", cmd_donor_identity, CMD_DB,
     "donor identity CODE [--full-name N] [--birth-date D] [--contact C]",
     "show or record a donor's identity (quality and admin only)",
     "Identity (PII) is kept apart from the pseudonymous donor record; technicians and\n"
     "auditors can never read it.\n"},
    {"donor explain", cmd_donor_explain, CMD_DB, "donor explain CODE [--as-of WHEN]",
     "every eligibility rule for a donor with its verdict",
     "Lists the manual decision, age, questionnaire, every questionnaire item and every test\n"
     "with pass, screening, deferred or excluded and why. --as-of WHEN (a date: the end of that\n"
     "day; or a timestamp) uses only what had been recorded by then and the rule-set version\n"
     "then in force, so it reproduces the verdict given at that moment.\n"},
    {"donor defer", cmd_donor_defer, CMD_DB, "donor defer CODE --until DATE --reason TEXT",
     "defer a donor until a date (quality)",
     "The deferral no longer applies on DATE. A manual decision adds to the derived rules; it\n"
     "never lifts them.\n"},
    {"donor exclude", cmd_donor_exclude, CMD_DB, "donor exclude CODE --reason TEXT",
     "exclude a donor permanently (quality)", NULL},
    {"donor reinstate", cmd_donor_reinstate, CMD_DB, "donor reinstate CODE --reason TEXT",
     "lift a manual deferral or exclusion (quality)",
     "Only manual decisions are lifted: deferrals and exclusions derived from results and\n"
     "questionnaires end by themselves, by a retest or by correcting the record.\n"},
    {0},
};
