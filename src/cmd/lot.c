/* lot.c: "fmtbank lot show|list|void": a lot's state and what blocks its release, evaluated by the
 * database at the moment of the command (schema/031_readiness.sql), so the status shown is never
 * stale: a quarantined lot that nothing blocks shows as ready. */
#include "cmd/lot.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One evaluation, everything printed comes from: the fields, the blocking rules (JSON text, for
 * the table's rule list) and the JSON object made by PostgreSQL (product.md §5: lot, donor,
 * status, blocking, aliquots). */
#define LOT_JSON_FIELDS                                                                            \
    "'lot', s.lot, 'donor', s.donor, 'status', s.status,"                                         \
    "   'held', s.held, 'holds', s.holds,"                                                         \
    "   'blocking', s.blocking, 'aliquots', s.aliquots, 'doses', s.doses,"                         \
    "   'stored_status', s.stored_status, 'collected_at', s.collected_at,"                         \
    "   'processed_at', s.processed_at, 'released_at', s.released_at,"                             \
    "   'released_by', s.released_by, 'entered_at', s.entered_at,"                                 \
    "   'entered_late_seconds',"                                                                   \
    "   pg_catalog.floor(pg_catalog.date_part('epoch', s.entered_late))::bigint,"                  \
    "   'entry_reason', s.entry_reason, 'reject_reasons', s.reject_reasons"

/* The state now (FN lot_show) or at x.at (--as-of: lot_show_at, schema/code/160_asof.sql, after
 * a leading as_of column); the present-time query is the one it always was. */
#define LOT_STATE_SQL(AS_OF, JSON_AS_OF, FN)                                                           \
    "SELECT " AS_OF "s.lot, s.donor, s.status, s.aliquots, s.doses, s.stored_status,"             \
    " s.collected_at, s.processed_at, s.released_at, s.released_by, s.entered_at,"                 \
    " pg_catalog.date_trunc('second', s.entered_late) AS entered_late,"                            \
    " s.entry_reason, s.held,"                                                                     \
    " (SELECT pg_catalog.string_agg(pg_catalog.format('%s (%s): %s', h ->> 'case',"              \
    "   h ->> 'source', h ->> 'reason'), '; ') FROM pg_catalog.jsonb_array_elements(s.holds) h)"  \
    "   AS holds, s.blocking::text AS blocking,"                                                   \
    " pg_catalog.json_build_object(" JSON_AS_OF LOT_JSON_FIELDS ") AS json"                      \
    " FROM (SELECT fmtbank.as_of_given($2) AS at) x"                                               \
    " CROSS JOIN LATERAL " FN " s"

/* One evaluation, everything printed comes from: the fields, the blocking rules (JSON text, for
 * the table's rule list) and the JSON object made by PostgreSQL (product.md §5: lot, donor,
 * status, blocking, aliquots), with as_of first when --as-of is given. */
static const char lot_state_sql[] = LOT_STATE_SQL("", "", "fmtbank.lot_show($1)");
static const char lot_state_as_of_sql[] =
    LOT_STATE_SQL("x.at AS as_of, ", "'as_of', x.at, ", "fmtbank.lot_show_at($1, x.at)");

int
lot_print_state(struct cmd_ctx *ctx, const char *lot, bool *releasable)
{
    const char *as_of = cmd_opt(ctx, "as-of");
    const char *p[] = {lot, as_of};
    PGresult *r = db_exec(ctx->conn, as_of ? lot_state_as_of_sql : lot_state_sql, 2, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    if (PQntuples(r) == 0) {
        PQclear(r);
        fb_error_set(&ctx->err, FB_ERR_NOTFOUND, "lot \"%s\" not found", lot);
        return FB_ERR_NOTFOUND;
    }
    int json = PQnfields(r) - 1, blocking = json - 1;
    *releasable = strcmp(PQgetvalue(r, 0, blocking), "[]") == 0;
    int rc = 0;
    if (ctx->format == OUT_JSON) {
        printf("%s\n", PQgetvalue(r, 0, json));
    } else if (out_delimited(ctx)) {
        const char **f = xcalloc((size_t)blocking + 1, sizeof(char *));
        for (int c = 0; c <= blocking; c++)
            f[c] = PQfname(r, c);
        out_record(ctx, f, blocking + 1);
        for (int c = 0; c <= blocking; c++)
            f[c] = PQgetvalue(r, 0, c);
        out_record(ctx, f, blocking + 1);
        free(f);
    } else {
        size_t w = strlen("blocking");
        for (int c = 0; c < blocking; c++)
            if (strlen(PQfname(r, c)) > w)
                w = strlen(PQfname(r, c));
        for (int c = 0; c < blocking; c++) {
            char *own;
            printf("%-*s  %s\n", (int)w, PQfname(r, c), out_text(PQgetvalue(r, 0, c), &own));
            free(own);
        }
        if (*releasable) {
            printf("%-*s  nothing: releasable\n", (int)w, "blocking");
        } else {
            printf("\nblocking:\n");
            const char *b[] = {PQgetvalue(r, 0, blocking)};
            rc = out_query(ctx, OUT_LIST,
                           "SELECT e ->> 'rule' AS rule, e ->> 'detail' AS detail"
                           " FROM pg_catalog.jsonb_array_elements($1::jsonb) e",
                           1, b, NULL);
        }
    }
    PQclear(r);
    return rc;
}

static int
cmd_lot_show(struct cmd_ctx *ctx)
{
    bool releasable;
    int rc = lot_print_state(ctx, ctx->args[0], &releasable);
    return rc;
}

/* lot list: the lots now, or at x.at with --as-of (then with a leading as_of column). In JSON,
 * blocking is the array of {rule, detail}; in a table, the failing rules' names. */
#define LOT_LIST_FROM(FN)                                                                          \
    " FROM (SELECT fmtbank.as_of_given($3) AS at) x"                                               \
    " CROSS JOIN LATERAL " FN " s WHERE s.held OR NOT $2::boolean"
#define LOT_LIST_NOW LOT_LIST_FROM("fmtbank.lot_list($1)")
#define LOT_LIST_AS_OF LOT_LIST_FROM("fmtbank.lot_list_at($1, x.at)")
#define LOT_LIST_JSON_SQL(AS_OF, FROM)                                                                   \
    "SELECT " AS_OF "s.lot, s.donor, s.status, s.held, s.holds, s.blocking, s.aliquots, s.doses,"  \
    " s.collected_at, s.processed_at, s.released_at, s.released_by, s.entered_at,"                 \
    " pg_catalog.floor(pg_catalog.date_part('epoch', s.entered_late))::bigint"                     \
    "   AS entered_late_seconds, s.entry_reason, s.reject_reasons" FROM
#define LOT_LIST_TABLE_SQL(AS_OF, FROM)                                                                  \
    "SELECT " AS_OF "s.lot, s.donor, s.status, s.held, s.aliquots, s.collected_at,"               \
    " s.processed_at,"                                                                             \
    " (SELECT pg_catalog.string_agg(y.r, ', ' ORDER BY y.o) FROM"                                  \
    "  (SELECT x.e ->> 'rule' AS r, pg_catalog.min(x.o) AS o"                                      \
    "   FROM pg_catalog.jsonb_array_elements(s.blocking) WITH ORDINALITY"                          \
    "   AS x(e, o) GROUP BY 1) y) AS blocking" FROM

static int
cmd_lot_list(struct cmd_ctx *ctx)
{
    const char *as_of = cmd_opt(ctx, "as-of");
    const char *p[] = {cmd_opt(ctx, "status"), cmd_flag(ctx, "held") ? "t" : "f", as_of};
    const char *sql;
    if (ctx->format == OUT_JSON)
        sql = as_of ? LOT_LIST_JSON_SQL("x.at AS as_of, ", LOT_LIST_AS_OF)
                    : LOT_LIST_JSON_SQL("", LOT_LIST_NOW);
    else
        sql = as_of ? LOT_LIST_TABLE_SQL("x.at AS as_of, ", LOT_LIST_AS_OF)
                    : LOT_LIST_TABLE_SQL("", LOT_LIST_NOW);
    return out_query(ctx, OUT_LIST, sql, 3, p, NULL);
}

static int
cmd_lot_void(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.lot_void($1)", 1, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    fprintf(stderr, "voided lot \"%s\": rejected as entered in error, %s aliquot%s recalled\n",
            ctx->args[0], PQgetvalue(r, 0, 0), strcmp(PQgetvalue(r, 0, 0), "1") == 0 ? "" : "s");
    PQclear(r);
    return 0;
}

const struct opt_spec lot_as_of_opts[] = {LOT_AS_OF_OPT, {0}};

const struct cmd_def cmd_defs_lot[] = {
    {"lot show", cmd_lot_show, CMD_DB, {"LOT", 1, 1, "lot ID"}, LOT_AS_OF_OPTS,
     "one lot: status, what blocks its release, aliquots",
     "The status is evaluated now (or as of --as-of TS): quarantine, ready (nothing blocks the\n"
     "release), released, rejected or recalled. blocking lists every rule that blocks the\n"
     "release with why: status, processing, donation_questionnaire, pre_panel, post_panel,\n"
     "unacceptable_result, hold, donor_excluded (see \"fmtbank release check\"). In JSON: lot, donor, status, held (a case\n"
     "holds it), holds (the holds in force: [{case, source, reason}], [] when none), blocking\n"
     "(array of {rule, detail}), aliquots (count, the retained sample included), doses,\n"
     "stored_status (the state the last sweep stored), collected_at, processed_at,\n"
     "released_at, released_by, entered_at (when the donation was registered),\n"
     "entered_late_seconds (entered_at - collected_at, in whole seconds), entry_reason (the\n"
     "--reason required when it was entered late or as --not-duplicate, else null) and\n"
     "reject_reasons (array of {rule, detail}; entered_in_error for a voided lot).\n"
     LOT_AS_OF_HELP},
    {"lot list", cmd_lot_list, CMD_DB, {0},
     (const struct opt_spec[]){
         {"status", 0, OPT_STRING, "S", .help = "only the lots in that state (evaluated now)",
          .choices = "quarantine|ready|released|rejected|recalled"},
         {"held", 0, OPT_FLAG, NULL, .help = "only the lots a case holds"},
         LOT_AS_OF_OPT,
         {0}},
     "lots with their status as of now and what blocks them",
     "In JSON, blocking is the array of {rule, detail}; in a table, the failing rules. JSON also\n"
     "gives entered_at, entered_late_seconds, entry_reason and reject_reasons (see lot show).\n"
     "With --as-of, the lots entered by then, --status and --held judged as of then.\n"
     LOT_AS_OF_HELP},
    {"lot void", cmd_lot_void, CMD_DB | CMD_REASON, {"LOT", 1, 1, "lot ID"}, NULL,
     "void a lot entered in error (quality; --reason required)",
     "The lot is kept and becomes rejected with the reason \"entered in error: REASON\"; its\n"
     "aliquots still in stock become recalled, so their labels no longer store or print (a\n"
     "scan in store mode refuses them, retrieve mode warns). Refused (exit 5) for a lot already\n"
     "rejected or recalled, for held material (a hold of the lot or of one of its aliquots:\n"
     "only a signed case decision ends it) and for a lot with issued doses (open a case\n"
     "instead). Audited with the reason.\n"},
    {0},
};
