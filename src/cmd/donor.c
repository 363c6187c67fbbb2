/* donor.c: "fmtbank donor add|import|list|show|explain|consent|identity|defer|exclude|reinstate": the
 * pseudonymous donor registry, each donor's derived status (computed by the database, see
 * schema/013_eligibility.sql), consent (schema/code/150_consent.sql) and the quality officer's
 * manual decisions. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "db/donor_import.h"
#include "common/progress.h"
#include "common/text.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_donor_add(struct cmd_ctx *ctx)
{
    const char *year = cmd_opt(ctx, "birth-year"), *sex = cmd_opt(ctx, "sex");
    int rc;
    {
        const char *p[] = {ctx->args[0], year, sex};
        PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.donor_add($1, $2, $3)", 3, p, &ctx->err);
        rc = r ? 0 : -1;
        if (r)
            out_ids(ctx, r);
        PQclear(r);
    }
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

/* An import command: FILE ("-": standard input) through import_csv (db/import.h), the bad lines
 * escaped on stderr, the new IDs on stdout when print_ids (and not --quiet), progress at a
 * terminal, one summary line on stderr (import_summary). Shared by donor, result and recipient score imports. */
int
cmd_import_file(struct cmd_ctx *ctx, const struct import_spec *spec, bool print_ids,
                const char *one, const char *many)
{
    FILE *in = cmd_open_input(ctx, ctx->args[0]);
    if (!in)
        return cmd_fail(ctx);
    long nbad = 0, nrows = 0, nold = 0;
    struct progress prog;
    char *what = xasprintf("importing \"%s\"", ctx->args[0]);
    progress_start(&prog, progress_wanted(ctx->quiet), what);
    free(what);
    FILE *bad = text_escaping_stream(stderr); /* bad lines quote the file: escaped */
    int rc = import_csv(ctx->conn, spec, in, ctx->args[0], bad ? bad : stderr,
                        print_ids && !ctx->quiet ? stdout : NULL, &prog, &nbad, &nrows, &nold,
                        &ctx->err);
    progress_end(&prog);
    if (bad)
        fclose(bad);
    if (in != stdin)
        fclose(in);
    if (rc != 0)
        return cmd_fail(ctx);
    import_summary(ctx->args[0], one, many, nrows, nold);
    return 0;
}

static int
cmd_donor_import(struct cmd_ctx *ctx)
{
    return cmd_import_file(ctx, &donor_import_spec, true, "donor", "donors");
}

/* Reasons: the JSON array for --format json, a short summary for people otherwise. */
#define REASONS_COLUMN(json)                                                                    \
    ((json) ? "e.reasons"                                                                      \
            : "(SELECT pg_catalog.concat_ws(' ', pg_catalog.string_agg(x.r ->> 'rule', ', ')"    \
              "   FILTER (WHERE x.n <= 3), CASE WHEN pg_catalog.count(*) > 3 THEN"              \
              "   pg_catalog.format('and %s more', pg_catalog.count(*) - 3) END)"               \
              " FROM pg_catalog.jsonb_array_elements(e.reasons) WITH ORDINALITY AS x(r, n))")

static int
cmd_donor_list(struct cmd_ctx *ctx)
{
    const char *status = cmd_opt(ctx, "status");
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
cmd_donor_show(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    int rc = out_query(ctx, OUT_OBJECT,
                       "SELECT e.code, e.status, e.deferred_until, e.reasons, e.next_screening_due,"
                       " e.rule_set_version, d.birth_year, d.sex, d.created_at,"
                       " c.consent, c.version AS consent_version, c.signed_on AS consent_signed,"
                       " c.scope AS consent_scope, c.withdrawn_on AS consent_withdrawn,"
                       " c.in_force AS consent_in_force"
                       " FROM fmtbank.donor_get($1) d"
                       " JOIN fmtbank.donor_status_at(d.id) e ON e.donor_id = d.id"
                       " CROSS JOIN fmtbank.consent_now(d.id) c",
                       1, p, "donor not found");
    return rc;
}

/* Every rule with its verdict, as of a moment: a summary object then the rules. Both queries
 * run in one read-only snapshot with the same moment, so they cannot disagree. */
static int
cmd_donor_explain(struct cmd_ctx *ctx)
{
    const char *as_of = cmd_opt(ctx, "as-of");
    int rc = FB_OK;
    char *at = NULL;
    const char *p0[] = {ctx->args[0], as_of};
    if (db_run(ctx->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
               &ctx->err) < 0 ||
        db_run(ctx->conn, "SELECT fmtbank.donor_get($1)", 1, p0, &ctx->err) < 0 ||
        !(at = db_scalar(ctx->conn, "SELECT fmtbank.parse_as_of($1)::text", 1, p0 + 1,
                         &ctx->err))) {
        rc = cmd_fail(ctx);
        goto done;
    }
    const char *p[] = {ctx->args[0], at};
    char *msg = xasprintf("donor \"%s\" was not registered at %s", ctx->args[0], at);
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
    return rc;
}

/* defer / exclude / reinstate: one function call that checks the role, the reason and the
 * decision in force. */
static int
donor_decide(struct cmd_ctx *ctx, const char *decision)
{
    const char *until = strcmp(decision, "defer") == 0 ? cmd_opt(ctx, "until") : NULL;
    int rc = 0;
    {
        const char *p[] = {ctx->args[0], decision, until};
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
    return rc;
}

static int
cmd_donor_defer(struct cmd_ctx *ctx)
{
    return donor_decide(ctx, "defer");
}

static int
cmd_donor_exclude(struct cmd_ctx *ctx)
{
    return donor_decide(ctx, "exclude");
}

static int
cmd_donor_reinstate(struct cmd_ctx *ctx)
{
    return donor_decide(ctx, "reinstate");
}

static int
cmd_donor_identity(struct cmd_ctx *ctx)
{
    const char *name = cmd_opt(ctx, "full-name"), *birth = cmd_opt(ctx, "birth-date");
    const char *contact = cmd_opt(ctx, "contact");
    int rc;
    const char *p[] = {ctx->args[0], name, birth, contact};
    if (name || birth || contact) {
        rc = db_run(ctx->conn, "SELECT fmtbank.donor_identity_set($1, $2, $3, $4)", 4, p,
                    &ctx->err) == 0 ? 0 : cmd_fail(ctx);
    } else {
        char *msg = xasprintf("no identity recorded for donor \"%s\"", ctx->args[0]);
        rc = out_query(ctx, OUT_OBJECT,
                       "SELECT d.code, i.full_name, i.birth_date, i.contact, i.updated_at"
                       " FROM fmtbank.donor_identity i"
                       " JOIN fmtbank.donor d ON d.id = i.donor_id"
                       " WHERE d.id = (fmtbank.donor_get($1)).id",
                       1, p, msg);
        free(msg);
    }
    return rc;
}

/* "donor consent CODE --version V --signed DATE --scope S [--document SHA256]" records a signed
 * consent; "donor consent CODE --withdraw --date D" its withdrawal. The options of each form go
 * together (declared with .with, so checked before connecting); that one form is given, not
 * both, is checked here before any statement (usage errors too). */
static int
cmd_donor_consent(struct cmd_ctx *ctx)
{
    /* --version brings --signed and --scope (and --document needs it): one test per form */
    const char *version = cmd_opt(ctx, "version");
    if (cmd_flag(ctx, "withdraw")) {
        if (version)
            return cmd_usage_error(ctx, "--version, --signed and --scope do not go with --withdraw");
        const char *p[] = {ctx->args[0], cmd_opt(ctx, "date")};
        return out_query(ctx, OUT_OBJECT, "SELECT * FROM fmtbank.donor_consent_withdraw($1, $2)",
                         2, p, "donor not found");
    }
    if (!version)
        return cmd_usage_error(ctx, "missing --version, --signed and --scope "
                                    "(or --withdraw --date D)");
    const char *p[] = {ctx->args[0], version, cmd_opt(ctx, "signed"), cmd_opt(ctx, "scope"),
                       cmd_opt(ctx, "document")};
    return out_query(ctx, OUT_OBJECT,
                     "SELECT * FROM fmtbank.donor_consent_sign($1, $2, $3, $4, $5)", 5, p,
                     "donor not found");
}

#define CODE_ARG {"CODE", 1, 1, "donor CODE"}

const struct cmd_def cmd_defs_donor[] = {
    {"donor add", cmd_donor_add, CMD_DB, CODE_ARG,
     (const struct opt_spec[]){
         {"birth-year", 0, OPT_STRING, "YEAR", .help = "year of birth"},
         {"sex", 0, OPT_STRING, "SEX", .help = "F, M or X"},
         {0}},
     "register a candidate donor by pseudonymous code (prints the code)",
     "CODE must match the site's pattern (default D- and 4 to 8 digits, e.g. D-0001).\n"},
    {"donor import", cmd_donor_import, CMD_DB, {"FILE.csv", 1, 1, "FILE.csv"}, NULL,
     "register many donors from a legacy register, all or nothing",
     "The file has the header line code,birth_year,sex, optionally followed by the consent\n"
     "columns consent_version,consent_signed,consent_scope,consent_document (all four in the\n"
     "header; on a line, version, signed day and scope together or none of them, the document\n"
     "hash optional; a scope with commas is quoted: \"clinical,research\", or use ;). Every bad\n"
     "line is reported with its line number and field, and nothing is imported unless all lines\n"
     "are good. Prints the new codes. A spreadsheet's CSV is fine: a UTF-8 byte order mark,\n"
     "CRLF, and ; as the delimiter when the header uses it. A file whose every donor is already\n"
     "recorded as it stands says \"nothing new\" with the count and exits 0.\n"},
    {"donor list", cmd_donor_list, CMD_DB, {0},
     (const struct opt_spec[]){
         {"status", 0, OPT_STRING, "S", .help = "only the donors in that state",
          .choices = "screening|eligible|deferred|excluded"},
         {0}},
     "donors with their derived status (screening, eligible, deferred, excluded)",
     "Status is derived, never typed: see \"fmtbank donor explain\". In JSON, reasons is the\n"
     "array of {rule, detail}.\n"},
    {"donor show", cmd_donor_show, CMD_DB, CODE_ARG, NULL,
     "one donor: status, deferred_until, reasons, next_screening_due, consent",
     "reasons has one {rule, detail} per failing rule, naming the test (test:HIV), the\n"
     "questionnaire item (item:antibiotics_last), age, questionnaire or manual. deferred_until\n"
     "is the first day the deferral no longer applies (null when it lasts until an acceptable\n"
     "retest or a clear questionnaire); next_screening_due is the last day on which every\n"
     "required result and the full questionnaire are still valid. consent: none, in_force or\n"
     "withdrawn, with the version, signing day and scope of the last consent signed,\n"
     "consent_withdrawn (the day it was withdrawn) and consent_in_force (the uses allowed now).\n"},
    {"donor consent", cmd_donor_consent, CMD_DB, CODE_ARG,
     (const struct opt_spec[]){
         {"version", 0, OPT_STRING, "V", .help = "the version of the consent form signed",
          .with = "signed"},
         {"signed", 0, OPT_STRING, "DATE", .help = "the day the donor signed it (not in the future)",
          .with = "scope"},
         {"scope", 0, OPT_STRING, "USES",
          .help = "what the material may be used for: clinical,research,trial (one or more)",
          .with = "version"},
         {"document", 0, OPT_STRING, "SHA256",
          .help = "the SHA-256 of the scanned signed form (64 hexadecimal digits)",
          .with = "version"},
         {"withdraw", 0, OPT_FLAG, NULL, .help = "record that the donor withdrew consent",
          .with = "date"},
         {"date", 0, OPT_STRING, "D", .help = "the day the withdrawal takes effect",
          .with = "withdraw"},
         {0}},
     "record a donor's signed consent, or its withdrawal (--withdraw --date D --reason R)",
     "Signed: --version, --signed and --scope are required. Both forms print the donor's consent\n"
     "now (consent: none, in_force or withdrawn; in_force: the uses allowed now).\n"
     "Withdrawal: --withdraw --date D with --reason (how the withdrawal was received); D is not\n"
     "in the future nor before the signing of the consent in force. Technicians, quality and\n"
     "admin record both; records are append-only and audited. A later consent supersedes an\n"
     "earlier one from its day. A donation needs a consent in force at its collection (any\n"
     "scope) or its lot is recorded as rejected (rule consent); \"aliquot issue --use U\" needs\n"
     "U in the scope in force at the issue. A withdrawal touches nothing already issued.\n"},
    {"donor identity", cmd_donor_identity, CMD_DB, CODE_ARG,
     (const struct opt_spec[]){
         {"full-name", 0, OPT_STRING, "N", .help = "record the full name"},
         {"birth-date", 0, OPT_STRING, "D", .help = "record the date of birth"},
         {"contact", 0, OPT_STRING, "C", .help = "record how to reach the donor"},
         {0}},
     "show or record a donor's identity (quality and admin only)",
     "Identity (PII) is kept apart from the pseudonymous donor record; technicians and\n"
     "auditors can never read it. Without an option it is shown.\n"},
    {"donor explain", cmd_donor_explain, CMD_DB, CODE_ARG,
     (const struct opt_spec[]){
         {"as-of", 0, OPT_STRING, "WHEN", .help = "a date (the end of that day) or a timestamp"},
         {0}},
     "every eligibility rule for a donor with its verdict",
     "Lists the manual decision, age, questionnaire, every questionnaire item and every test\n"
     "with pass, screening, deferred or excluded and why. --as-of uses only what had been\n"
     "recorded by then and the rule-set version then in force, so it reproduces the verdict\n"
     "given at that moment.\n"},
    {"donor defer", cmd_donor_defer, CMD_DB | CMD_REASON, CODE_ARG,
     (const struct opt_spec[]){
         {"until", 0, OPT_STRING, "DATE", .help = "the first day the deferral no longer applies",
          .flags = OPT_REQUIRED},
         {0}},
     "defer a donor until a date (quality)",
     "A manual decision adds to the derived rules; it never lifts them.\n"},
    {"donor exclude", cmd_donor_exclude, CMD_DB | CMD_REASON, CODE_ARG, NULL,
     "exclude a donor permanently (quality)", NULL},
    {"donor reinstate", cmd_donor_reinstate, CMD_DB | CMD_REASON, CODE_ARG, NULL,
     "lift a manual deferral or exclusion (quality)",
     "Only manual decisions are lifted: deferrals and exclusions derived from results and\n"
     "questionnaires end by themselves, by a retest or by correcting the record.\n"},
    {0},
};
