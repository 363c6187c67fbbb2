/* recipient.c: "fmtbank recipient show|event add|event update|score" and "fmtbank donor
 * recipients": recipients (the pseudonymous codes doses were issued to) and vigilance (product.md
 * §13): adverse events, their imputability and outcome, the adverse_event cases a serious event
 * opens on every donor of the recipient's doses, and outcome follow-up scores. The rules are in
 * schema/code/170_vigilance.sql. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "db/import.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns of recipient_show's doses, events and scores, for the table format. */
#define DOSES_SQL                                                                                  \
    "SELECT x.aliquot, x.lot, x.donor, x.site, x.issued_at, x.use, x.thawed_at"                    \
    " FROM fmtbank.recipient_show($1) s, pg_catalog.jsonb_to_recordset(s.doses)"                   \
    " AS x(aliquot text, lot text, donor text, site text, issued_at text, use text,"               \
    " thawed_at text)"
#define EVENTS_SQL                                                                                 \
    "SELECT x.event, x.date, x.kind, CASE WHEN x.serious THEN 'yes' ELSE 'no' END AS serious,"     \
    " x.severity, x.imputability, x.outcome,"                                                      \
    " (SELECT pg_catalog.string_agg(pg_catalog.format('%s %s (%s)%s', c->>'case', c->>'status',"   \
    "          c->>'donor', CASE WHEN (c->>'withdrawn')::boolean THEN ' withdrawn' ELSE '' END),"  \
    "          ', ') FROM pg_catalog.jsonb_array_elements(x.cases) c) AS cases, x.description"     \
    " FROM fmtbank.recipient_show($1) s, pg_catalog.jsonb_to_recordset(s.events)"                  \
    " AS x(event text, date date, kind text, serious boolean, severity text, imputability text,"   \
    " outcome text, cases jsonb, description text)"
#define SCORES_SQL                                                                                 \
    "SELECT x.visit, x.date, x.item, x.value, x.recorded_by"                                       \
    " FROM fmtbank.recipient_show($1) s, pg_catalog.jsonb_to_recordset(s.scores)"                  \
    " AS x(visit text, date date, item text, value numeric, recorded_by text)"

static int
cmd_recipient_show(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    if (ctx->format == OUT_JSON)
        return out_query(ctx, OUT_OBJECT, "SELECT * FROM fmtbank.recipient_show($1)", 1, p,
                         "recipient not found");
    int rc = out_query(ctx, OUT_OBJECT,
                       "SELECT recipient, donors, sites, first_issued, last_issued,"
                       " pg_catalog.jsonb_array_length(doses) AS doses,"
                       " pg_catalog.jsonb_array_length(events) AS events,"
                       " pg_catalog.jsonb_array_length(scores) AS scores"
                       " FROM fmtbank.recipient_show($1)",
                       1, p, "recipient not found");
    const char *const sections[][2] = {
        {"doses", DOSES_SQL}, {"adverse events", EVENTS_SQL}, {"outcome scores", SCORES_SQL}};
    for (size_t i = 0; rc == 0 && i < sizeof sections / sizeof sections[0]; i++) {
        printf("\n%s:\n", sections[i][0]);
        rc = out_query(ctx, OUT_LIST, sections[i][1], 1, p, NULL);
    }
    return rc;
}

static int
cmd_donor_recipients(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    return out_query(ctx, OUT_LIST, "SELECT * FROM fmtbank.donor_recipients($1)", 1, p, NULL);
}

/* An event command's result: JSON, or the event ID on stdout and its cases on stderr, one line
 * each (what is held, the other recipients to notify). */
static int
event_result(struct cmd_ctx *ctx, const char *call, int nparams, const char *const *params,
             const char *verb)
{
    if (ctx->format == OUT_JSON) {
        char *sql = xasprintf("SELECT * FROM %s", call);
        int rc = out_query(ctx, OUT_OBJECT, sql, nparams, params, NULL);
        free(sql);
        return rc;
    }
    char *sql = xasprintf(
        "SELECT r.event, r.recipient, CASE WHEN r.serious THEN 'serious' ELSE 'not serious' END,"
        " r.imputability, coalesce(r.outcome, '-'), c->>'case', c->>'donor', c->>'status',"
        " (c->>'withdrawn')::boolean, c->>'lots_held',"
        " (SELECT coalesce(pg_catalog.string_agg(pg_catalog.format('%%s (%%s)', x->>'recipient',"
        "          x->>'aliquot'), ', '), 'none')"
        "  FROM pg_catalog.jsonb_array_elements(c->'recipients') x)"
        " FROM %s r LEFT JOIN LATERAL pg_catalog.jsonb_array_elements(r.cases) c ON true",
        call);
    PGresult *r = db_exec(ctx->conn, sql, nparams, params, &ctx->err);
    free(sql);
    if (!r)
        return cmd_fail(ctx);
    printf("%s\n", PQgetvalue(r, 0, 0));
    fprintf(stderr, "%s adverse event %s of recipient %s (%s; imputability %s; outcome %s)\n", verb,
            PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3),
            PQgetvalue(r, 0, 4));
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetisnull(r, i, 5))
            continue;
        fprintf(stderr, "case %s on donor %s: %s%s, holds %s lot%s; other recipients to notify: %s\n",
                PQgetvalue(r, i, 5), PQgetvalue(r, i, 6), PQgetvalue(r, i, 7),
                strcmp(PQgetvalue(r, i, 8), "t") == 0 ? " (signal withdrawn - lift proposed)" : "",
                PQgetvalue(r, i, 9), strcmp(PQgetvalue(r, i, 9), "1") == 0 ? "" : "s",
                PQgetvalue(r, i, 10));
    }
    PQclear(r);
    return 0;
}

static int
cmd_recipient_event_add(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0],          cmd_opt(ctx, "date"),         cmd_opt(ctx, "kind"),
                       cmd_opt(ctx, "serious"), cmd_opt(ctx, "severity"),
                       cmd_opt(ctx, "imputability"), cmd_opt(ctx, "description")};
    return event_result(ctx, "fmtbank.recipient_event_add($1, $2, $3, $4, $5, $6, $7)", 7, p,
                        "recorded");
}

static int
cmd_recipient_event_update(struct cmd_ctx *ctx)
{
    const char *outcome = cmd_opt(ctx, "outcome"), *imp = cmd_opt(ctx, "imputability"),
               *serious = cmd_opt(ctx, "serious");
    if (!outcome && !imp && !serious)
        return cmd_usage_error(ctx, "give --outcome, --imputability, --serious yes, or several");
    const char *p[] = {ctx->args[0], outcome, imp, serious};
    return event_result(ctx, "fmtbank.recipient_event_update($1, $2, $3, $4)", 4, p, "updated");
}

static int
cmd_recipient_score(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "visit"), cmd_opt(ctx, "date"),
                       cmd_opt(ctx, "item"), cmd_opt(ctx, "value")};
    char *id = db_scalar(ctx->conn, "SELECT fmtbank.recipient_score_add($1, $2, $3, $4, $5)", 5, p,
                         &ctx->err);
    if (!id)
        return cmd_fail(ctx);
    fprintf(stderr, "recorded %s = %s for recipient %s at visit %s\n", p[3], p[4], p[0], p[1]);
    free(id);
    return 0;
}

static int
cmd_recipient_score_correct(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "visit"), cmd_opt(ctx, "item"), cmd_opt(ctx, "value")};
    char *id = db_scalar(ctx->conn, "SELECT fmtbank.recipient_score_correct($1, $2, $3, $4)", 4, p,
                         &ctx->err);
    if (!id)
        return cmd_fail(ctx);
    fprintf(stderr, "corrected %s to %s for recipient %s at visit %s\n", p[2], p[3], p[0], p[1]);
    free(id);
    return 0;
}

/* recipient,visit,date,item,value: validated and stored by fmtbank.score_import_stage()
 * (schema/code/170_vigilance.sql), all or nothing. */
static const struct import_spec score_import_spec = {
    .columns = "recipient,visit,date,item,value",
    .begin_sql = "SELECT fmtbank.score_import_begin()",
    .copy_sql = "COPY fmtbank_stage.score_stage (line, recipient, visit, visit_date, item, value)"
                " FROM STDIN",
    .stage_sql = "SELECT line, message, id FROM fmtbank.score_import_stage()",
};

static int
cmd_recipient_score_import(struct cmd_ctx *ctx)
{
    return cmd_import_file(ctx, &score_import_spec, false, "score", "scores");
}

#define RECIPIENT_ARG {"R", 1, 1, "recipient code R"}
#define KINDS "infection|gi_symptoms|fever|allergic|death|other"
#define IMPUTABILITIES "not_assessable|excluded|unlikely|possible|probable|definite"

const struct cmd_def cmd_defs_recipient[] = {
    {"recipient show", cmd_recipient_show, CMD_DB, RECIPIENT_ARG, NULL,
     "a recipient: doses (lot, donor, site, issue date, use), adverse events with cases, scores",
     "A recipient is the pseudonymous code its doses were issued to (\"aliquot issue\n"
     "--recipient\"); it is never linked to a name. Any role reads it.\n"},
    {"donor recipients", cmd_donor_recipients, CMD_DB, {"CODE", 1, 1, "donor CODE"}, NULL,
     "every dose of a donor issued: recipient, site, aliquot, lot, issue date, use, adverse events",
     NULL},
    {"recipient event add", cmd_recipient_event_add, CMD_DB, RECIPIENT_ARG,
     (const struct opt_spec[]){
         {"date", 0, OPT_STRING, "DATE", .help = "the day the event began (ISO 8601, not in the "
                                                 "future, not before the recipient's first dose)",
          .flags = OPT_REQUIRED},
         {"kind", 0, OPT_STRING, "K", .help = "what it is", .flags = OPT_REQUIRED,
          .choices = KINDS},
         {"serious", 0, OPT_STRING, "yes|no",
          .help = "death, life threat, hospitalisation, disability or a transmitted infection "
                  "(a death is serious)",
          .flags = OPT_REQUIRED, .choices = "yes|no"},
         {"severity", 0, OPT_STRING, "S", .help = "how severe", .flags = OPT_REQUIRED,
          .choices = "mild|moderate|severe"},
         {"imputability", 0, OPT_STRING, "I",
          .help = "the link to the dose (quality only, unless not_assessable)",
          .choices = IMPUTABILITIES, .def = "not_assessable"},
         {"description", 0, OPT_STRING, "TEXT",
          .help = "what happened (1 to 4000 characters; no names)", .flags = OPT_REQUIRED},
         {0}},
     "record an adverse event reported about a recipient (any role but the auditor); prints its ID",
     "A serious event opens, in the same transaction, an adverse_event case on EVERY donor of\n"
     "the doses issued to the recipient on or before --date: it holds every lot of the donor\n"
     "still in the bank (and the lots collected later, until decided) and lists the donor's\n"
     "other recipients to notify (printed, and in \"case show\"). An event graded excluded or\n"
     "unlikely opens nothing. Kinds: infection (a suspected transmitted infection), gi_symptoms,\n"
     "fever, allergic, death, other.\n"},
    {"recipient event update", cmd_recipient_event_update, CMD_DB | CMD_REASON,
     {"EVENT", 1, 1, "event ID"},
     (const struct opt_spec[]){
         {"outcome", 0, OPT_STRING, "O", .help = "how the recipient is now",
          .choices = "recovering|recovered|recovered_with_sequelae|not_recovered|fatal|unknown"},
         {"imputability", 0, OPT_STRING, "I", .help = "grade the link to the dose (quality)",
          .choices = IMPUTABILITIES},
         {"serious", 0, OPT_STRING, "yes",
          .help = "the event became serious (e.g. admitted later); never back to no",
          .choices = "yes"},
         {0}},
     "a follow-up of an adverse event: outcome, imputability (quality), seriousness; kept in its "
     "history",
     "Every grade and outcome stays in the event's history (recipient show, the vigilance\n"
     "report). Graded excluded or unlikely, the event's cases show \"signal withdrawn - lift\n"
     "proposed\": their holds stay until a quality officer's signed \"case decide --lift\".\n"
     "Graded back to not_assessable, possible, probable or definite, a serious event opens a\n"
     "new case on each donor whose case of it was withdrawn; made serious, a plausible event\n"
     "opens its cases then. A fatal outcome needs a serious event (a death is serious).\n"},
    {"recipient score", cmd_recipient_score, CMD_DB, RECIPIENT_ARG,
     (const struct opt_spec[]){
         {"visit", 0, OPT_STRING, "LABEL", .help = "the follow-up visit, e.g. week2",
          .flags = OPT_REQUIRED},
         {"date", 0, OPT_STRING, "DATE", .help = "the visit's day (ISO 8601, not in the future)",
          .flags = OPT_REQUIRED},
         {"item", 0, OPT_STRING, "CODE",
          .help = "the score instrument (fmtbank.score_instrument: phq9, gad7)",
          .flags = OPT_REQUIRED},
         {"value", 0, OPT_STRING, "N", .help = "the score, in the instrument's range",
          .flags = OPT_REQUIRED},
         {0}},
     "record an outcome follow-up score of a recipient at a visit (any role but the auditor)",
     "One value per recipient, visit and item; append-only. The instruments are catalog data:\n"
     "phq9 (PHQ-9, 0 to 27) and gad7 (GAD-7, 0 to 21), integers. Many at once: \"recipient\n"
     "score import\".\n"},
    {"recipient score correct", cmd_recipient_score_correct, CMD_DB | CMD_REASON, RECIPIENT_ARG,
     (const struct opt_spec[]){
         {"visit", 0, OPT_STRING, "LABEL", .help = "the visit of the score", .flags = OPT_REQUIRED},
         {"item", 0, OPT_STRING, "CODE", .help = "the score instrument", .flags = OPT_REQUIRED},
         {"value", 0, OPT_STRING, "N", .help = "the corrected score, in the instrument's range",
          .flags = OPT_REQUIRED},
         {0}},
     "correct a recorded outcome score, with a reason (any role but the auditor)",
     "The value recorded is never overwritten: the correction is kept beside it with the reason,\n"
     "who and when (audited), and \"recipient show\" gives the value in force, the value first\n"
     "recorded and every correction. Refused when the recipient has no such score (exit 4) or\n"
     "the value is the one in force already (exit 5).\n"},
    {"recipient score import", cmd_recipient_score_import, CMD_DB,
     {"FILE.csv", 1, 1, "FILE.csv"}, NULL,
     "record outcome scores from a CSV file (recipient,visit,date,item,value), all or nothing",
     "Each line is checked as \"recipient score\" checks one (and a line repeating an earlier\n"
     "line's recipient, visit and item is refused); any bad line is reported with its number\n"
     "and nothing is stored (exit 3). \"-\" reads standard input.\n"},
    {0},
};
