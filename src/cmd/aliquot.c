/* aliquot.c: "fmtbank aliquot VERB": one tube's state, custody history, label reprint, and the
 * custody actions move and discard. Each verb is one handler and one line in cmd_defs_aliquot at
 * the end of this file; the rules live in schema/ (fmtbank.aliquot_*). */
#include "cmd/cmd.h"
#include "cmd/labels.h"
#include "cmd/lot.h"
#include "db/db.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The columns every aliquot listing shows (product.md: id, lot, donor, status, box, position,
 * expires). */
#define ALIQUOT_COLUMNS "id, lot, donor, status, box, position, expires, retained, held"

/* With --as-of TS (schema/code/160_asof.sql), the tubes as they were then, after a leading as_of
 * column; without it the present-time functions, as always. */
#define AS_OF_FROM " FROM (SELECT fmtbank.as_of_given($1) AS at) x CROSS JOIN LATERAL "

static int
cmd_aliquot_show(struct cmd_ctx *ctx)
{
    const char *as_of = cmd_opt(ctx, "as-of");
    const char *p[] = {as_of, ctx->args[0]};
#define SHOW_SQL(AS_OF, FN)                                                                        \
    "SELECT " AS_OF ALIQUOT_COLUMNS ", volume_ml, glycerol_percent, processed_at,"                 \
    " thawed_at, freezer, freezer_name, rack, status_reason, holds" AS_OF_FROM FN " s"
    return out_query(ctx, OUT_OBJECT,
                     as_of ? SHOW_SQL("x.at AS as_of, ", "fmtbank.aliquot_show_at($2, x.at)")
                           : SHOW_SQL("", "fmtbank.aliquot_show($2)"),
                     2, p, NULL);
#undef SHOW_SQL
}

static int
cmd_aliquot_list(struct cmd_ctx *ctx)
{
    const char *as_of = cmd_opt(ctx, "as-of");
    const char *p[] = {as_of, cmd_opt(ctx, "status"), cmd_opt(ctx, "lot"), cmd_opt(ctx, "box"),
                       cmd_flag(ctx, "held") ? "t" : "f"};
#define LIST_SQL(AS_OF, MORE, FN)                                                                  \
    "SELECT " AS_OF ALIQUOT_COLUMNS MORE AS_OF_FROM FN " s WHERE held OR NOT $5::boolean"
#define AT "x.at AS as_of, "
#define NOW "fmtbank.aliquot_list($2, $3, $4)"
#define THEN "fmtbank.aliquot_list_at($2, $3, $4, x.at)"
    const char *sql;
    if (ctx->format == OUT_JSON)
        sql = as_of ? LIST_SQL(AT, ", holds", THEN) : LIST_SQL("", ", holds", NOW);
    else
        sql = as_of ? LIST_SQL(AT, "", THEN) : LIST_SQL("", "", NOW);
#undef AT
#undef NOW
#undef THEN
#undef LIST_SQL
    return out_query(ctx, OUT_LIST, sql, 5, p, NULL);
}

static int
cmd_aliquot_history(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    int rc = out_query(ctx, OUT_LIST,
                       "SELECT at, event, detail, who, reason FROM fmtbank.aliquot_history_of($1)",
                       1, p, NULL);
    return rc;
}

static int
cmd_aliquot_label(struct cmd_ctx *ctx)
{
    const char *out = cmd_opt(ctx, "output");
    bool to_stdout = !out || strcmp(out, "-") == 0;
    struct strbuf zpl = STRBUF_INIT;
    char *staged = NULL;
    int rc = db_run(ctx->conn, "BEGIN", 0, NULL, &ctx->err);
    if (rc == 0)
        rc = labels_record(ctx, (const char *const *)ctx->args, ctx->nargs,
                           to_stdout ? "stdout" : out, cmd_opt(ctx, "dpi"), &zpl);
    if (rc == 0 && !to_stdout && !(staged = labels_stage(ctx, out, &zpl)))
        rc = -1;
    if (rc == 0)
        rc = db_run(ctx->conn, "COMMIT", 0, NULL, &ctx->err);
    if (rc != 0) {
        PQclear(PQexec(ctx->conn, "ROLLBACK")); /* the error already set is the one reported */
        labels_drop(staged);
        rc = cmd_fail(ctx);
    } else if (to_stdout) {
        fputs(zpl.buf, stdout);
    } else if (labels_put(ctx, staged, out) != 0) {
        rc = cmd_fail(ctx);
    } else {
        fprintf(stderr, "wrote %zu label%s to \"%s\"\n", ctx->nargs, ctx->nargs == 1 ? "" : "s",
                out);
    }
    strbuf_release(&zpl);
    return rc;
}

static int
cmd_aliquot_move(struct cmd_ctx *ctx)
{
    const char *to = cmd_opt(ctx, "to");
    int rc = 0;
    {
        const char *p[] = {ctx->args[0], to};
        PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.aliquot_move($1, $2)", 2, p, &ctx->err);
        if (r)
            out_ids(ctx, r);
        else
            rc = cmd_fail(ctx);
        PQclear(r);
    }
    return rc;
}

static int
cmd_aliquot_discard(struct cmd_ctx *ctx)
{
    const char *p[] = {ctx->args[0]};
    PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.aliquot_discard($1)", 1, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    fprintf(stderr, "discarded \"%s\"\n", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

/* New verbs (issue, thaw, ...) go at the end of this table. */
#define ID_ARG {"ID", 1, 1, "aliquot ID"}

const struct cmd_def cmd_defs_aliquot[] = {
    {"aliquot show", cmd_aliquot_show, CMD_DB, ID_ARG, LOT_AS_OF_OPTS,
     "one aliquot: state, lot, donor, where it is, expiry",
     "The status is shown as expired as soon as the expiry has passed.\n"
     "With --as-of, the state, position and holds of then.\n" LOT_AS_OF_HELP},
    {"aliquot list", cmd_aliquot_list, CMD_DB, {0},
     (const struct opt_spec[]){
         {"status", 0, OPT_STRING, "S",
          .help = "quarantine, released, issued, recalled, expired or discarded"},
         {"lot", 0, OPT_STRING, "LOT", .help = "only the aliquots of this lot"},
         {"box", 0, OPT_STRING, "BOX", .help = "only the aliquots in this box"},
         {"held", 0, OPT_FLAG, NULL, .help = "only the aliquots a case holds"},
         LOT_AS_OF_OPT,
         {0}},
     "list aliquots, optionally filtered",
     "held says whether a case holds the tube (its lot or the tube itself); in JSON, holds lists\n"
     "the holds in force: [{case, source, reason}], [] when none.\n"
     "With --as-of, the tubes made by then; --status, --box and --held as of then.\n"
     LOT_AS_OF_HELP},
    {"aliquot history", cmd_aliquot_history, CMD_DB, ID_ARG, NULL,
     "custody history of an aliquot: created, labelled, stored, moved, retrieved, ...", NULL},
    {"aliquot label", cmd_aliquot_label, CMD_DB, {"ID...", 1, OPT_ANY, "aliquot ID"},
     (const struct opt_spec[]){
         {"output", 'o', OPT_STRING, "FILE.zpl",
          .help = "write to FILE instead of standard output"},
         LABELS_DPI_OPT,
         {0}},
     "(re)print the labels of aliquots as ZPL II, to stdout or FILE",
     "Every print and reprint is recorded (who, when, where to) and shows in the aliquot's\n"
     "history; reprints are marked REPRINT on the label. Discarded tubes get no label.\n"
     LABELS_HELP},
    {"aliquot move", cmd_aliquot_move, CMD_DB, ID_ARG,
     (const struct opt_spec[]){
         {"to", 0, OPT_STRING, "BOX:POS", .help = "the new position", .flags = OPT_REQUIRED},
         {0}},
     "move a stored tube to another position; prints the new position",
     "The target position must be free. Give the reason with --reason if there is one.\n"},
    {"aliquot discard", cmd_aliquot_discard, CMD_DB | CMD_REASON, ID_ARG, NULL,
     "discard a tube (takes it out of its box; the reason is required)", NULL},
    {0},
};
