/* trial.c: "fmtbank trial add|show|list|kits make|kits return|kits destroy|enrol|dispense|
 * unblind": blinded trial dispensing (product.md §14). The rules, the randomisation and the
 * concealment are in the database (schema/code/270_trial.sql); this file reads the allocation
 * list file, prints, and writes the kit labels. */
#include "cmd/cmd.h"
#include "cmd/labels.h"
#include "db/db.h"
#include "common/csv.h"
#include "common/json.h"
#include "common/util.h"
#include "common/zpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --list FILE.csv (header stratum,block,arm) as [{line, stratum, block, arm}] for trial_add: the
 * one CSV path (bad bytes, quotes, field counts are refused here with their line; the values are
 * checked in the database, every bad line named). Returns 0, or an exit code with ctx->err set. */
static int
read_list(struct cmd_ctx *ctx, const char *path, struct strbuf *json)
{
    FILE *in = cmd_open_input(ctx, path);
    if (!in)
        return ctx->err.kind;
    struct strbuf buf = STRBUF_INIT;
    int rc = csv_read_all(in, &buf);
    if (in != stdin)
        fclose(in);
    if (rc < 0) {
        strbuf_release(&buf);
        fb_error_set(&ctx->err, FB_ERR_INPUT, "could not read \"%s\"", path);
        return FB_ERR_INPUT;
    }
    struct csv_lines l;
    struct csv_record rec = {0};
    const char *why = NULL;
    csv_lines_init(&l, buf.buf ? buf.buf : "", buf.len);
    bool header = true;
    int n = 0;
    strbuf_addch(json, '[');
    rc = 0;
    for (;;) {
        int got = csv_lines_next(&l, &rec, &why);
        if (got == 0)
            break;
        if (got < 0) {
            fb_error_set(&ctx->err, FB_ERR_INPUT, "%s:%d: %s", path, rec.line, why);
            rc = FB_ERR_INPUT;
            break;
        }
        if (header) {
            header = false;
            if (rec.nfields != 3 || strcmp(rec.fields[0], "stratum") != 0 ||
                strcmp(rec.fields[1], "block") != 0 || strcmp(rec.fields[2], "arm") != 0) {
                fb_error_set(&ctx->err, FB_ERR_INPUT,
                             "%s:%d: the header must be \"stratum,block,arm\"", path, rec.line);
                rc = FB_ERR_INPUT;
                break;
            }
            continue;
        }
        if (rec.nfields != 3) {
            fb_error_set(&ctx->err, FB_ERR_INPUT, "%s:%d: %zu fields, expected 3 (stratum,block,arm)",
                         path, rec.line, rec.nfields);
            rc = FB_ERR_INPUT;
            break;
        }
        strbuf_addf(json, "%s{\"line\":%d,\"stratum\":", n++ ? "," : "", rec.line);
        json_add_string(json, rec.fields[0]);
        strbuf_adds(json, ",\"block\":");
        json_add_string(json, rec.fields[1]);
        strbuf_adds(json, ",\"arm\":");
        json_add_string(json, rec.fields[2]);
        strbuf_addch(json, '}');
    }
    strbuf_addch(json, ']');
    if (rc == 0 && header) {
        fb_error_set(&ctx->err, FB_ERR_INPUT, "%s: empty file: no header \"stratum,block,arm\"", path);
        rc = FB_ERR_INPUT;
    }
    csv_record_free(&rec);
    csv_lines_free(&l);
    strbuf_release(&buf);
    return rc;
}

static int
cmd_trial_add(struct cmd_ctx *ctx)
{
    const char *list = cmd_opt(ctx, "list");
    struct strbuf json = STRBUF_INIT;
    if (list) {
        int rc = read_list(ctx, list, &json);
        if (rc != 0) {
            strbuf_release(&json);
            return rc;
        }
    }
    const char *p[] = {ctx->args[0],          cmd_opt(ctx, "arms"),
                       cmd_opt(ctx, "block-sizes"), cmd_opt(ctx, "strata"),
                       cmd_opt(ctx, "doses"),  cmd_opt(ctx, "donor-pool"),
                       cmd_flag(ctx, "same-donor") ? "t" : "f", list ? json.buf : NULL};
    int rc = out_new_ids(ctx,
                         "SELECT fmtbank.trial_add($1, $2, $3, $4, $5, $6, $7::boolean, $8::jsonb)",
                         8, p);
    strbuf_release(&json);
    return rc;
}

static int
cmd_trial_show(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    return out_query(ctx, OUT_OBJECT, "SELECT * FROM fmtbank.trial_show($1)", 1, p,
                     "trial not found");
}

static int
cmd_trial_list(struct cmd_ctx *ctx)
{
    return cmd_query_noargs(ctx, OUT_LIST, "SELECT * FROM fmtbank.trial_list()");
}

/* Kit labels: the same layout for every arm (trial, kit number, handling); no lot, no donor. */
static void
kit_labels(const PGresult *r, struct strbuf *zpl)
{
    for (int i = 0; i < PQntuples(r); i++) {
        struct zpl_kit_label k = {.kit = PQgetvalue(r, i, 0), .trial = PQgetvalue(r, i, 1),
                                  .handling = PQgetvalue(r, i, 2)};
        zpl_kit_label_append(zpl, &k);
    }
}

static int
cmd_trial_kits_make(struct cmd_ctx *ctx)
{
    const char *labels = cmd_opt(ctx, "labels");
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "arm"), cmd_opt(ctx, "aliquots")};
    char *staged = NULL;
    int rc = db_run(ctx->conn, "BEGIN", 0, NULL, &ctx->err);
    PGresult *r = NULL;
    if (rc == 0) {
        r = db_exec(ctx->conn, "SELECT kit, trial, handling FROM fmtbank.trial_kits_make($1, $2, $3)",
                    3, p, &ctx->err);
        if (!r)
            rc = -1;
    }
    if (rc == 0 && labels) {
        struct strbuf zpl = STRBUF_INIT;
        kit_labels(r, &zpl);
        if (!(staged = labels_stage(ctx, labels, &zpl)))
            rc = -1;
        strbuf_release(&zpl);
    }
    if (rc == 0)
        rc = db_run(ctx->conn, "COMMIT", 0, NULL, &ctx->err);
    if (rc != 0) {
        PQclear(PQexec(ctx->conn, "ROLLBACK")); /* the error already set is the one reported */
        labels_drop(staged);
        PQclear(r);
        return cmd_fail(ctx);
    }
    out_ids(ctx, r);
    int n = PQntuples(r);
    fprintf(stderr, "made %d kit%s for trial \"%s\"\n", n, n == 1 ? "" : "s",
            n > 0 ? PQgetvalue(r, 0, 1) : ctx->args[0]);
    PQclear(r);
    if (staged) {
        if (labels_put(ctx, staged, labels) != 0)
            return cmd_fail(ctx);
        fprintf(stderr, "wrote %d kit labels to \"%s\"\n", n, labels);
    }
    return 0;
}

static int
kit_set(struct cmd_ctx *ctx, const char *status)
{
    const char *p[] = {ctx->args[0], status};
    char *kit = db_scalar(ctx->conn, "SELECT fmtbank.trial_kit_set($1, $2)", 2, p, &ctx->err);
    if (!kit)
        return cmd_fail(ctx);
    fprintf(stderr, "kit \"%s\" %s\n", kit, status);
    free(kit);
    return 0;
}

static int
cmd_trial_kits_return(struct cmd_ctx *ctx)
{
    return kit_set(ctx, "returned");
}

static int
cmd_trial_kits_destroy(struct cmd_ctx *ctx)
{
    return kit_set(ctx, "destroyed");
}

static int
cmd_trial_enrol(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], ctx->args[1], cmd_opt(ctx, "stratum")};
    return out_new_ids(ctx, "SELECT fmtbank.trial_enrol($1, $2, $3)", 3, p);
}

static int
cmd_trial_dispense(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], ctx->args[1], cmd_opt(ctx, "visit"), cmd_opt(ctx, "site")};
    char *kit = db_scalar(ctx->conn, "SELECT fmtbank.trial_dispense($1, $2, $3, $4)", 4, p,
                          &ctx->err);
    if (!kit)
        return cmd_fail(ctx);
    printf("%s\n", kit);
    fprintf(stderr, "dispensed kit \"%s\" to \"%s\", visit %s\n", kit, ctx->args[1],
            cmd_opt(ctx, "visit"));
    free(kit);
    return 0;
}

static int
cmd_trial_unblind(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], ctx->args[1], cmd_flag(ctx, "emergency") ? "t" : "f"};
    return out_query(ctx, OUT_OBJECT, "SELECT * FROM fmtbank.trial_unblind($1, $2, $3::boolean)",
                     3, p, NULL);
}

#define TRIAL_ARG {"T", 1, 1, "trial T"}
#define TRIAL_P_ARGS {"T PARTICIPANT", 2, 2, "trial T and PARTICIPANT"}

const struct cmd_def cmd_defs_trial[] = {
    {"trial add", cmd_trial_add, CMD_DB, {"CODE", 1, 1, "trial CODE"},
     (const struct opt_spec[]){
         {"arms", 0, OPT_STRING, "ARM:RATIO,...", .help = "the arms and their ratio, e.g. "
                                                          "FMT:2,PLACEBO:1 (PLACEBO: placebo lots)",
          .flags = OPT_REQUIRED},
         {"block-sizes", 0, OPT_STRING, "N,...",
          .help = "permuted block sizes, multiples of the ratio sum (one is drawn per block)"},
         {"strata", 0, OPT_STRING, "FACTOR,...", .help = "stratification factors, e.g. site,sex"},
         {"doses", 0, OPT_STRING, "N", .help = "doses (visits) per participant",
          .flags = OPT_REQUIRED},
         {"donor-pool", 0, OPT_STRING, "CODE,...",
          .help = "only these donors' doses go into the active arms' kits"},
         {"same-donor", 0, OPT_FLAG, NULL,
          .help = "every dose of a participant from one donor (or one placebo preparation)"},
         {"list", 0, OPT_STRING, "FILE.csv",
          .help = "an allocation list to import (stratum,block,arm) instead of a sealed seed"},
         {0}},
     "add a trial with its randomisation (unblinded role); prints its code",
     "Permuted-block randomisation per stratum from a sealed 32-byte seed (pgcrypto\n"
     "gen_random_bytes): block b of stratum s is drawn from HMAC-SHA256(seed, T|s|b:k) - its\n"
     "size, then a Fisher-Yates shuffle of the arms in ratio (schema/code/270_trial.sql says how,\n"
     "so the unblinded role can reproduce the list from the seed). Lists are generated per\n"
     "stratum as participants arrive. With --list, the list is imported instead: every line is\n"
     "checked (stratum factors, block numbers in order, arms known, each block in the ratio)\n"
     "and each bad line is named; nothing is stored then (exit 3). Seed and list are readable\n"
     "only by fmtbank_unblinded.\n"},
    {"trial show", cmd_trial_show, CMD_DB, TRIAL_ARG, NULL,
     "a trial: arms, strata, doses, participants, kits, dispensing and unblinding counts",
     "Block sizes and the allocation per arm are shown to the unblinded role only.\n"},
    {"trial list", cmd_trial_list, CMD_DB, {0}, NULL, "every trial with its counts", NULL},
    {"trial kits make", cmd_trial_kits_make, CMD_DB, TRIAL_ARG,
     (const struct opt_spec[]){
         {"arm", 0, OPT_STRING, "ARM", .help = "the arm these doses belong to",
          .flags = OPT_REQUIRED},
         {"aliquots", 0, OPT_STRING, "ID,...", .help = "the dose aliquots, one kit each",
          .flags = OPT_REQUIRED},
         {"labels", 0, OPT_STRING, "FILE.zpl",
          .help = "write the kit labels (ZPL II): trial, kit number, handling; same for every arm"},
         {0}},
     "make kits from doses (unblinded role); prints the random kit numbers",
     "Each aliquot becomes one kit with a random number K + 7 digits + a MOD 37-2 check\n"
     "character. The PLACEBO arm takes only the trial's placebo preparations, the other arms\n"
     "only donors' doses (of --donor-pool when the trial has one). The kit tube carries the\n"
     "kit label only.\n"},
    {"trial kits return", cmd_trial_kits_return, CMD_DB | CMD_REASON, {"KIT", 1, 1, "kit number"},
     NULL, "a dispensed kit came back unused (site or unblinded; with --reason)", NULL},
    {"trial kits destroy", cmd_trial_kits_destroy, CMD_DB | CMD_REASON,
     {"KIT", 1, 1, "kit number"}, NULL,
     "destroy a kit not dispensed, or returned (its tube is discarded; with --reason)", NULL},
    {"trial enrol", cmd_trial_enrol, CMD_DB, TRIAL_P_ARGS,
     (const struct opt_spec[]){
         {"stratum", 0, OPT_STRING, "F=V,...",
          .help = "the participant's value of every factor, e.g. site=OSLO,sex=F"},
         {0}},
     "enrol a participant (site or unblinded): the next place of the stratum's list",
     "The participant code is pseudonymous (recipient format). The arm is never shown.\n"},
    {"trial dispense", cmd_trial_dispense, CMD_DB, TRIAL_P_ARGS,
     (const struct opt_spec[]){
         {"visit", 0, OPT_STRING, "N", .help = "the visit (1 to the trial's doses)",
          .flags = OPT_REQUIRED},
         {"site", 0, OPT_STRING, "S", .help = "the receiving site (default: the stratum's site)"},
         {0}},
     "name the kit to give a participant at a visit, and record it; prints the kit number",
     "The kit is of the participant's arm, released, not held, not expired, of a donor whose\n"
     "consent covers trial use, and from the donor of the participant's earlier doses when the\n"
     "trial says --same-donor; the first to expire first. It is recorded as an issue with use\n"
     "trial (recall and vigilance reach the participant). Refusals never name the arm.\n"},
    {"trial unblind", cmd_trial_unblind, CMD_DB | CMD_REASON, TRIAL_P_ARGS,
     (const struct opt_spec[]){
         {"emergency", 0, OPT_FLAG, NULL,
          .help = "an emergency: the site and quality may unblind too"},
         {0}},
     "reveal a participant's arm (unblinded role; --emergency: site, quality); recorded",
     "Every unblinding is recorded with who, when, why and whether it was an emergency, and\n"
     "counted in \"trial show\" and the reports; the arm itself is never stored with it.\n"},
    {0},
};
