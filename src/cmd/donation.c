/* donation.c: "fmtbank donation add|check|process": registering a donation (a lot), what
 * registering it would do, and processing it into dose aliquots plus the retained sample, with
 * their labels. The rules (eligibility, donation-day questionnaire, Bristol range, mass,
 * processing time, entry time, duplicates) are in the database (schema/code/022_processing.sql);
 * refusals that must still record the material come back as a row. */
#include "cmd/cmd.h"
#include "cmd/labels.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sets a refusal from the message, detail and hint columns (first at column col) of row 0. */
static int
refusal_from_row(struct cmd_ctx *ctx, const PGresult *r, int col)
{
    fb_error_set(&ctx->err, FB_ERR_REFUSED, "%s", PQgetvalue(r, 0, col));
    if (!PQgetisnull(r, 0, col + 1))
        fb_error_detail(&ctx->err, "%s", PQgetvalue(r, 0, col + 1));
    if (!PQgetisnull(r, 0, col + 2))
        fb_error_hint(&ctx->err, "%s", PQgetvalue(r, 0, col + 2));
    return FB_ERR_REFUSED;
}

/* donation add --placebo: a placebo preparation of a trial (schema/code/270_trial.sql). */
static int
placebo_add(struct cmd_ctx *ctx)
{
    if (cmd_opt(ctx, "bristol"))
        return cmd_usage_error(ctx, "--bristol is not for a placebo preparation");
    if (cmd_flag(ctx, "not-duplicate"))
        return cmd_usage_error(ctx, "--not-duplicate is not for a placebo preparation");
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "trial"), cmd_opt(ctx, "collected"),
                       cmd_opt(ctx, "mass"), cmd_opt(ctx, "preparation")};
    return out_new_ids(ctx, "SELECT fmtbank.placebo_lot_add($1, $2, $3, $4, $5)", 5, p);
}

static int
cmd_donation_add(struct cmd_ctx *ctx)
{
    if (cmd_flag(ctx, "placebo"))
        return placebo_add(ctx);
    const char *collected = cmd_opt(ctx, "collected"), *mass = cmd_opt(ctx, "mass");
    const char *bristol = cmd_opt(ctx, "bristol");
    if (!bristol)
        return cmd_usage_error(ctx, "missing --bristol");
    if (cmd_opt(ctx, "trial") || cmd_opt(ctx, "preparation"))
        return cmd_usage_error(ctx, "--trial and --preparation are for --placebo");
    int rc = 0;
    const char *p[] = {ctx->args[0], collected, mass, bristol,
                       cmd_flag(ctx, "not-duplicate") ? "t" : "f"};
    PGresult *r = db_exec(ctx->conn,
                          "SELECT lot_id, status, message, detail, hint"
                          " FROM fmtbank.donation_add($1, $2, $3, $4, $5::boolean)",
                          5, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    /* The lot exists either way: its ID goes on the material, also when it is rejected. */
    out_id(ctx, PQgetvalue(r, 0, 0));
    if (strcmp(PQgetvalue(r, 0, 1), "rejected") == 0)
        rc = refusal_from_row(ctx, r, 2);
    PQclear(r);
    return rc;
}

/* "donation check": what "donation add" would do, creating nothing; exit 0 when it would record a
 * lot in quarantine, 5 when it would record a rejected lot or refuse it as a probable duplicate,
 * 3 when it would refuse it for want of --reason (entered later than max_entry_hours). */
static int
cmd_donation_check(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "collected"), cmd_opt(ctx, "mass"),
                       cmd_opt(ctx, "bristol")};
    PGresult *r = db_exec(
        ctx->conn,
        "SELECT would, c.status,"
        " pg_catalog.json_build_object('donor', c.donor, 'collected_at', c.collected_at,"
        "   'would', c.would, 'status', c.status, 'reasons', c.reasons,"
        "   'entered_late_seconds',"
        "   pg_catalog.floor(pg_catalog.date_part('epoch', c.entered_late))::bigint,"
        "   'needs_reason', c.needs_reason, 'duplicate_of', c.duplicate_of)::text,"
        " c.donor, c.collected_at, pg_catalog.date_trunc('second', c.entered_late),"
        " c.needs_reason, pg_catalog.array_to_string(c.duplicate_of, ', '),"
        " (SELECT pg_catalog.string_agg(pg_catalog.format('%s: %s', x ->> 'rule',"
        "   x ->> 'detail'), E'\\n') FROM pg_catalog.jsonb_array_elements(c.reasons) x)"
        " FROM fmtbank.donation_check($1, $2, $3, $4) c",
        4, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    const char *would = PQgetvalue(r, 0, 0);
    if (ctx->format == OUT_JSON) {
        printf("%s\n", PQgetvalue(r, 0, 2));
    } else {
        static const char *const names[] = {"donor",        "collected_at", "entered_late",
                                            "needs_reason", "duplicate_of", "reasons"};
        printf("%-12s  %s\n", "would", would);
        printf("%-12s  %s\n", "status", PQgetvalue(r, 0, 1));
        for (int c = 0; c < 6; c++) {
            const char *v = PQgetisnull(r, 0, c + 3) ? "" : PQgetvalue(r, 0, c + 3);
            printf("%-12s  ", names[c]);
            for (const char *q = v; *q; q++) {
                putchar(*q);
                if (*q == '\n')
                    printf("%-12s  ", "");
            }
            putchar('\n');
        }
    }
    int rc = 0;
    if (strcmp(would, "quarantine") == 0) {
        fprintf(stderr, "donation add would record the lot in quarantine\n");
    } else if (strcmp(would, "reason") == 0) {
        fb_error_set(&ctx->err, FB_ERR_INPUT,
                     "donation add would refuse it: entered later than max_entry_hours, "
                     "it needs --reason");
        rc = FB_ERR_INPUT;
    } else if (strcmp(would, "duplicate") == 0) {
        fb_error_set(&ctx->err, FB_ERR_REFUSED,
                     "donation add would refuse it as a probable duplicate of %s",
                     PQgetvalue(r, 0, 7));
        fb_error_hint(&ctx->err, "If it is a second donation, give --not-duplicate --reason TEXT.");
        rc = FB_ERR_REFUSED;
    } else {
        fb_error_set(&ctx->err, FB_ERR_REFUSED, "donation add would record the lot as rejected");
        fb_error_hint(&ctx->err, "The reasons say why.");
        rc = FB_ERR_REFUSED;
    }
    PQclear(r);
    return rc;
}

static int
process_in_tx(struct cmd_ctx *ctx, const char *lot, const char *processed, const char *doses,
              const char *labels, char **staged, PGresult **out)
{
    const char *p[] = {lot, processed, doses};
    PGresult *r = db_exec(ctx->conn,
                          "SELECT aliquot_id, retained, message, detail, hint"
                          " FROM fmtbank.donation_process($1, $2, $3)",
                          3, p, &ctx->err);
    if (!r)
        return -1;
    *out = r;
    if (PQgetisnull(r, 0, 0) || !labels)
        return 0;
    int n = PQntuples(r);
    const char **ids = xcalloc((size_t)n, sizeof(char *));
    for (int i = 0; i < n; i++)
        ids[i] = PQgetvalue(r, i, 0);
    struct strbuf zpl = STRBUF_INIT;
    int rc = labels_record(ctx, ids, (size_t)n, labels, cmd_opt(ctx, "dpi"), &zpl);
    if (rc == 0 && !(*staged = labels_stage(ctx, labels, &zpl)))
        rc = -1;
    strbuf_release(&zpl);
    free(ids);
    return rc;
}

static int
cmd_donation_process(struct cmd_ctx *ctx)
{
    const char *processed = cmd_opt(ctx, "processed"), *doses = cmd_opt(ctx, "doses");
    const char *labels = cmd_opt(ctx, "labels");
    /* One transaction: the aliquots and their label prints exist together or not at all; the
     * label file is put in place only after the commit. */
    PGresult *r = NULL;
    char *staged = NULL;
    int rc = db_run(ctx->conn, "BEGIN", 0, NULL, &ctx->err);
    if (rc == 0)
        rc = process_in_tx(ctx, ctx->args[0], processed, doses, labels, &staged, &r);
    if (rc != 0) {
        PQclear(PQexec(ctx->conn, "ROLLBACK")); /* the error already set is the one reported */
        labels_drop(staged);
        PQclear(r);
        return cmd_fail(ctx);
    }
    /* A refusal row (processed too late) still commits: the lot is recorded as rejected. */
    if (db_run(ctx->conn, "COMMIT", 0, NULL, &ctx->err) != 0) {
        labels_drop(staged);
        PQclear(r);
        return cmd_fail(ctx);
    }
    if (PQgetisnull(r, 0, 0)) {
        rc = refusal_from_row(ctx, r, 2);
    } else {
        int n = PQntuples(r);
        for (int i = 0; i < n; i++)
            out_id(ctx, PQgetvalue(r, i, 0));
        fprintf(stderr, "processed lot \"%s\" into %d dose%s and retained sample \"%s\"\n",
                ctx->args[0], n - 1, n == 2 ? "" : "s", PQgetvalue(r, n - 1, 0));
        if (staged) {
            if (labels_put(ctx, staged, labels) != 0)
                rc = cmd_fail(ctx);
            else
                fprintf(stderr, "wrote %d labels to \"%s\"\n", n, labels);
        }
    }
    PQclear(r);
    return rc;
}

const struct cmd_def cmd_defs_donation[] = {
    {"donation add", cmd_donation_add, CMD_DB, {"CODE", 1, 1, "donor CODE"},
     (const struct opt_spec[]){
         {"collected", 0, OPT_STRING, "TS", .help = "when the stool was collected (local time)",
          .flags = OPT_REQUIRED},
         {"mass", 0, OPT_STRING, "GRAMS", .help = "its mass", .flags = OPT_REQUIRED},
         {"bristol", 0, OPT_STRING, "N",
          .help = "its Bristol stool form (required but with --placebo)"},
         {"not-duplicate", 0, OPT_FLAG, NULL,
          .help = "a second donation within duplicate_donation_minutes of another (with --reason)"},
         {"placebo", 0, OPT_FLAG, NULL, .with = "trial",
          .help = "a placebo preparation of a trial: CODE is its pseudo-donor code"},
         {"trial", 0, OPT_STRING, "T", .with = "placebo", .help = "the trial of the placebo"},
         {"preparation", 0, OPT_STRING, "TEXT", .with = "placebo",
          .help = "the placebo's preparation record (what it is made of, batch)"},
         {0}},
     "register a donation (a lot) from a donor, or a trial's placebo preparation; prints the lot ID",
     "TS is e.g. 2026-11-27 08:30. The donor is judged on the facts valid at TS as known now:\n"
     "results collected by that day, questionnaires whose date and time (questionnaire record\n"
     "--time, default 00:00) are at or before TS, manual decisions, rules and catalog in force\n"
     "at TS, all as recorded by now (paperwork typed in the evening counts for a morning\n"
     "collection). Refused (exit 5) when the donor is not eligible then, the donation-day\n"
     "questionnaire (questionnaire record --short) of that day is missing, not clear or taken\n"
     "after TS, the Bristol form N is outside the rule range (bristol_min..bristol_max), the\n"
     "mass is below one dose (dose_mass_g), or the donor has an open case. Because the material\n"
     "exists, such a donation is still recorded as a rejected lot with its reasons, and its lot\n"
     "ID is printed for labelling the discard. Nothing is recorded when it is entered more than\n"
     "max_entry_hours after TS without --reason (exit 3), or when another lot of the donor was\n"
     "collected within duplicate_donation_minutes of TS, either side (a probable duplicate,\n"
     "exit 5) unless --not-duplicate with --reason; the reason is kept with the lot.\n"
     "With --placebo --trial T --preparation TEXT, CODE (donor format) names a placebo\n"
     "preparation of trial T (registered with its first lot; a donor's code is refused): no\n"
     "donor rules, no Bristol form; its readiness is the preparation record, and its doses are\n"
     "only ever dispensed in trial T (a database rule on every issue).\n"},
    {"donation check", cmd_donation_check, CMD_DB, {"CODE", 1, 1, "donor CODE"},
     (const struct opt_spec[]){
         {"collected", 0, OPT_STRING, "TS", .help = "when the stool was collected (local time)",
          .flags = OPT_REQUIRED},
         {"mass", 0, OPT_STRING, "GRAMS", .help = "its mass (its rule is judged only if given)"},
         {"bristol", 0, OPT_STRING, "N",
          .help = "its Bristol stool form (its rule is judged only if given)"},
         {0}},
     "what donation add would do now, creating nothing",
     "The same evaluation as donation add (one function in the database), recording nothing:\n"
     "no lot, no lot number used, no audit row. Prints would (quarantine, rejected, duplicate,\n"
     "or reason: refused without --reason), the status, the donor, collected_at, entered_late,\n"
     "needs_reason, duplicate_of and every reason; JSON: donor, collected_at, would, status,\n"
     "reasons [{rule, detail}], entered_late_seconds, needs_reason, duplicate_of. Exit 0 when\n"
     "the lot would be recorded in quarantine, 5 when rejected or refused as a duplicate, 3\n"
     "when --reason would be required and none is given.\n"},
    {"donation process", cmd_donation_process, CMD_DB, {"LOT", 1, 1, "lot ID"},
     (const struct opt_spec[]){
         {"processed", 0, OPT_STRING, "TS", .help = "when the lot was processed",
          .flags = OPT_REQUIRED},
         {"doses", 0, OPT_STRING, "N", .help = "how many dose aliquots", .flags = OPT_REQUIRED},
         {"labels", 0, OPT_STRING, "FILE.zpl",
          .help = "write their labels (ZPL II) to FILE; each print is recorded"},
         LABELS_DPI_OPT_WITH("labels"),
         {0}},
     "process a lot into N dose aliquots plus a retained sample; prints their IDs",
     "Creates N doses (LOT-001 .. LOT-N) and the retained sample (LOT-000, kept for testing and\n"
     "never issued), all in quarantine, expiring shelf_life_days after TS, with the rule's\n"
     "volume and glycerol. Prints the dose IDs, one per line, then the retained sample's, as\n"
     "plain whole IDs for scripts and scanners: L26000001-0011 is dose 001 of lot number\n"
     "L26000001, then its check character 1. Tables, labels and reports show the check character\n"
     "set apart, L26000001-001 \u00b71, so dose 1 is not read as -0011 (dose 11) and the retained\n"
     "sample (-000) is not taken for a dose; either form is accepted wherever an ID is typed.\n"
     "Refused when TS is more than max_processing_hours after collection (the lot is then\n"
     "recorded as rejected), when N x dose_mass_g exceeds the lot's mass, or when the lot was\n"
     "already processed or is not in quarantine.\n"
     LABELS_HELP},
    {0},
};
