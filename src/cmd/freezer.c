/* freezer.c: "fmtbank freezer reading" and "freezer show": freezer temperature (product.md §11.3).
 * Readings make a freezer monitored; the daemon's sweep judges them and opens an `excursion` case
 * for each excursion (schema/code/110_freezer.sql holds the rule). */
#include "cmd/cmd.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_freezer_reading(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "at"), cmd_opt(ctx, "temp")};
    char *what = db_scalar(ctx->conn, "SELECT fmtbank.freezer_reading_add($1, $2, $3)", 3, p,
                           &ctx->err);
    if (!what)
        return cmd_fail(ctx);
    if (strcmp(what, "unchanged") == 0)
        fprintf(stderr, "freezer %s: the same reading at %s is recorded already (nothing changed)\n",
                ctx->args[0], p[1]);
    free(what);
    return 0;
}

#define SHOW_SQL "SELECT * FROM fmtbank.freezer_show($1, $2, $3)"

static int
cmd_freezer_show(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0], cmd_opt(ctx, "from"), cmd_opt(ctx, "to")};
    if (ctx->format == OUT_JSON)
        return out_query(ctx, OUT_OBJECT, SHOW_SQL, 3, p, "freezer not found");
    if (out_delimited(ctx))
        return out_query(ctx, OUT_LIST,
                         "SELECT s.freezer, r ->> 'at' AS at, (r ->> 'temp_c')::numeric AS temp_c,"
                         " (r ->> 'above')::boolean AS above"
                         " FROM fmtbank.freezer_show($1, $2, $3) s,"
                         " jsonb_array_elements(s.readings) r",
                         3, p, NULL);
    int rc = out_query(ctx, OUT_OBJECT,
                       "SELECT s.freezer, s.name, s.site, s.temp_c, s.limit_c, s.monitored,"
                       " s.last_reading, s.window_from, s.window_to,"
                       " jsonb_array_length(s.readings) AS readings_in_window,"
                       " jsonb_array_length(s.excursions) AS excursions,"
                       " jsonb_array_length(s.cases) AS cases"
                       " FROM " "fmtbank.freezer_show($1, $2, $3) s",
                       3, p, "freezer not found");
    if (rc != 0)
        return rc;
    /* the table view: one section per array of freezer_show, each a title and its columns */
    static const struct {
        const char *title, *sql;
    } sections[] = {
        {"Readings",
         "SELECT (x ->> 'at')::timestamptz AS at, (x ->> 'temp_c')::numeric AS temp_c,"
         " CASE WHEN (x ->> 'above')::boolean THEN 'above the limit' ELSE '' END AS note"
         " FROM fmtbank.freezer_show($1, $2, $3) s, jsonb_array_elements(s.readings) x"},
        {"Excursions",
         "SELECT x ->> 'kind' AS kind, (x ->> 'from')::timestamptz AS from,"
         " (x ->> 'to')::timestamptz AS to, x ->> 'max_temp_c' AS max_temp_c, x ->> 'case' AS case"
         " FROM fmtbank.freezer_show($1, $2, $3) s, jsonb_array_elements(s.excursions) x"},
        {"Cases",
         "SELECT x ->> 'case' AS case, x ->> 'status' AS status, x ->> 'tubes_held' AS tubes_held,"
         " x ->> 'about' AS about"
         " FROM fmtbank.freezer_show($1, $2, $3) s, jsonb_array_elements(s.cases) x"},
    };
    for (size_t i = 0; rc == 0 && i < sizeof sections / sizeof sections[0]; i++) {
        printf("\n%s:\n", sections[i].title);
        fflush(stdout);
        rc = out_query(ctx, OUT_LIST, sections[i].sql, 3, p, NULL);
    }
    return rc;
}

const struct cmd_def cmd_defs_freezer[] = {
    {"freezer reading", cmd_freezer_reading, CMD_DB, {"F", 1, 1, "freezer ID or name"},
     (const struct opt_spec[]){
         {"at", 0, OPT_STRING, "TS", .help = "when it was measured (ISO 8601, not in the future)",
          .flags = OPT_REQUIRED},
         {"temp", 0, OPT_STRING, "C", .help = "the temperature in degrees Celsius (-200 to 60)",
          .flags = OPT_REQUIRED},
         {0}},
     "record a freezer temperature reading (any role but the auditor)",
     "A freezer with at least one reading is monitored. A reading is never changed or deleted:\n"
     "the same freezer and time again with the same temperature is accepted and changes\n"
     "nothing; with another temperature it is refused (exit 5). A time more than 5 minutes\n"
     "in the future or a temperature outside -200 to 60 degrees is refused (exit 3).\n"
     "Monitoring systems can drop CSV files \"freezer,at,temp_c\" into fmtbankd's inbox instead.\n"
     "fmtbankd judges readings after reading_grace_minutes: readings above the freezer's limit\n"
     "(its temperature + excursion_margin_c) for longer than excursion_max_minutes, or a gap\n"
     "between readings longer than reading_gap_minutes, open an excursion case holding every\n"
     "tube that was in the freezer then.\n"},
    {"freezer show", cmd_freezer_show, CMD_DB, {"F", 1, 1, "freezer ID or name"},
     (const struct opt_spec[]){
         {"from", 0, OPT_STRING, "TS", .help = "readings from (default: 24 hours before --to)"},
         {"to", 0, OPT_STRING, "TS", .help = "readings up to (default: now)"},
         {0}},
     "a freezer's limit, whether it is monitored, its readings, excursions and cases",
     "--format json gives one object (freezer, name, site, temp_c, limit_c, monitored,\n"
     "last_reading, window_from, window_to, readings, excursions, cases); --format tsv lists\n"
     "the readings in the window.\n"},
    {0},
};
