/* storage.c: "fmtbank freezer add", "box add", "location show|list": where tubes are kept
 * (site > freezer > rack > box > position) and the box map. */
#include "cmd/cmd.h"
#include "cmd/labels.h"
#include "cmd/lot.h"
#include "db/db.h"
#include "common/boxmap.h"
#include "common/outfile.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static int
cmd_freezer_add(struct cmd_ctx *ctx)
{
    const char *temp = cmd_opt(ctx, "temp"), *site = cmd_opt(ctx, "site");
    int rc = 0;
    {
        const char *p[] = {ctx->args[0], temp, site};
        PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.freezer_add($1, $2, $3)", 3, p, &ctx->err);
        if (r)
            out_ids(ctx, r);
        else
            rc = cmd_fail(ctx);
        PQclear(r);
    }
    return rc;
}

static int
cmd_box_add(struct cmd_ctx *ctx)
{
    const char *p[] = {cmd_opt(ctx, "freezer"), cmd_opt(ctx, "rack"), cmd_opt(ctx, "rows"),
                       cmd_opt(ctx, "cols")};
    PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.box_add($1, $2, $3, $4)", 4, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    out_ids(ctx, r);
    PQclear(r);
    return 0;
}

/* "box label": the ZPL of each box's label, to stdout or a file (nothing is recorded). */
static int
cmd_box_label(struct cmd_ctx *ctx)
{
    const char *out = cmd_opt(ctx, "output");
    struct strbuf zpl = STRBUF_INIT;
    int rc = labels_boxes(ctx, (const char *const *)ctx->args, ctx->nargs, cmd_opt(ctx, "dpi"),
                          &zpl);
    if (rc == 0 && (!out || strcmp(out, "-") == 0)) {
        fputs(zpl.buf, stdout);
    } else if (rc == 0) {
        char *staged = labels_stage(ctx, out, &zpl);
        rc = staged ? outfile_commit(staged, out, &ctx->err) : -1;
        free(staged);
        if (rc == 0)
            fprintf(stderr, "wrote %zu box label%s to \"%s\"\n", ctx->nargs,
                    ctx->nargs == 1 ? "" : "s", out);
    }
    strbuf_release(&zpl);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

/* The tubes of a box, for --format tsv/json and for the map. */
/* x.at: the moment of --as-of ($2), NULL without it; the box and its tubes then (160_asof), or
 * now by the present-time functions, as always. */
#define AS_OF_X " FROM (SELECT fmtbank.as_of_given($2) AS at) x CROSS JOIN LATERAL "
#define BOX_TUBES_COLS                                                                             \
    "t.position, t.id AS aliquot, t.lot, t.donor, t.status, t.expires, t.retained, t.held"
#define TUBES_NOW "fmtbank.box_tubes($1)"
#define TUBES_THEN "fmtbank.box_tubes_at($1, x.at)"
#define BOX_NOW "fmtbank.location_of(NULL, $1)"
#define BOX_THEN "fmtbank.location_at($1, x.at)"
#define BOX_TUBES_SQL(TUBES) "SELECT " BOX_TUBES_COLS AS_OF_X TUBES " t"

static int
location_show_map(struct cmd_ctx *ctx, const char *box)
{
    const char *as_of = cmd_opt(ctx, "as-of");
    const char *p[] = {box, as_of};
#define HEAD_SQL(BOX)                                                                              \
    "SELECT l.box, l.rows, l.cols, l.freezer, l.freezer_name, l.temp_c,"                           \
    " coalesce(l.site, ''), coalesce(l.rack, ''), l.occupied, fmtbank.ts_text(x.at)" AS_OF_X BOX   \
    " l"
#define MAP_SQL(TUBES)                                                                             \
    "SELECT ascii(t.position) - 64, substr(t.position, 2)::int, t.status, t.retained" AS_OF_X      \
    TUBES " t"
    PGresult *h = db_exec(ctx->conn, as_of ? HEAD_SQL(BOX_THEN) : HEAD_SQL(BOX_NOW), 2, p,
                          &ctx->err);
    if (!h)
        return cmd_fail(ctx);
    if (PQntuples(h) != 1) { /* cannot happen: location_of raises for an unknown box */
        PQclear(h);
        fb_error_set(&ctx->err, FB_ERR_NOTFOUND, "box \"%s\" not found", box);
        return FB_ERR_NOTFOUND;
    }
    PGresult *t = db_exec(ctx->conn, as_of ? MAP_SQL(TUBES_THEN) : MAP_SQL(TUBES_NOW), 2, p,
                          &ctx->err);
#undef HEAD_SQL
#undef MAP_SQL
    if (!t) {
        PQclear(h);
        return cmd_fail(ctx);
    }
    int rows = atoi(PQgetvalue(h, 0, 1)), cols = atoi(PQgetvalue(h, 0, 2));
    int occupied = atoi(PQgetvalue(h, 0, 8));
    char *codes = xmalloc((size_t)rows * (size_t)cols + 1);
    memset(codes, BOXMAP_FREE, (size_t)rows * (size_t)cols);
    codes[rows * cols] = '\0';
    for (int i = 0; i < PQntuples(t); i++) {
        int r = atoi(PQgetvalue(t, i, 0)), c = atoi(PQgetvalue(t, i, 1));
        if (r >= 1 && r <= rows && c >= 1 && c <= cols)
            codes[(r - 1) * cols + (c - 1)] =
                boxmap_code(PQgetvalue(t, i, 2), PQgetvalue(t, i, 3)[0] == 't');
    }
    struct strbuf sb = STRBUF_INIT;
    strbuf_addf(&sb, "Box %s: freezer %s \"%s\" (%s °C)", PQgetvalue(h, 0, 0), PQgetvalue(h, 0, 3),
                PQgetvalue(h, 0, 4), PQgetvalue(h, 0, 5));
    if (*PQgetvalue(h, 0, 6))
        strbuf_addf(&sb, ", site %s", PQgetvalue(h, 0, 6));
    if (*PQgetvalue(h, 0, 7))
        strbuf_addf(&sb, ", rack %s", PQgetvalue(h, 0, 7));
    strbuf_addf(&sb, "; %d x %d, %d occupied, %d free", rows, cols, occupied,
                rows * cols - occupied);
    if (as_of)
        strbuf_addf(&sb, "; as of %s", PQgetvalue(h, 0, 9));
    strbuf_adds(&sb, "\n\n");
    boxmap_render(&sb, rows, cols, codes, boxmap_colour_wanted(STDOUT_FILENO));
    fputs(sb.buf, stdout);
    strbuf_release(&sb);
    free(codes);
    PQclear(t);
    PQclear(h);
    return 0;
}

static int
cmd_location_show(struct cmd_ctx *ctx)
{
    int rc;
    const char *as_of = cmd_opt(ctx, "as-of");
    const char *p[] = {ctx->args[0], as_of};
#define TSV_SQL(AS_OF, TUBES) "SELECT " AS_OF BOX_TUBES_COLS AS_OF_X TUBES " t"
#define JSON_SQL(AS_OF, BOX, TUBES)                                                                \
    "SELECT " AS_OF "l.box, l.freezer, l.freezer_name, l.temp_c, l.site, l.rack, l.rows,"          \
    " l.cols, l.occupied, l.free,"                                                                 \
    " (SELECT coalesce(json_agg(t), '[]'::json) FROM (" BOX_TUBES_SQL(TUBES) ") t)"                \
    " AS tubes" AS_OF_X BOX " l"
    if (ctx->format == OUT_TABLE)
        rc = location_show_map(ctx, ctx->args[0]);
    else if (out_delimited(ctx))
        rc = out_query(ctx, OUT_LIST,
                       as_of ? TSV_SQL("x.at AS as_of, ", TUBES_THEN) : TSV_SQL("", TUBES_NOW), 2,
                       p, NULL);
    else
        rc = out_query(ctx, OUT_OBJECT,
                       as_of ? JSON_SQL("x.at AS as_of, ", BOX_THEN, TUBES_THEN)
                             : JSON_SQL("", BOX_NOW, TUBES_NOW),
                       2, p, NULL);
#undef TSV_SQL
#undef JSON_SQL
    return rc;
}

static int
cmd_location_list(struct cmd_ctx *ctx)
{
    const char *freezer = cmd_opt(ctx, "freezer");
    const char *p[] = {freezer};
    return out_query(ctx, OUT_LIST,
                     "SELECT freezer, freezer_name, temp_c, site, rack, box, rows, cols, occupied,"
                     " free FROM fmtbank.location_of($1, NULL)",
                     1, p, NULL);
}

const struct cmd_def cmd_defs_storage[] = {
    {"freezer add", cmd_freezer_add, CMD_DB, {"NAME", 1, 1, "freezer NAME"},
     (const struct opt_spec[]){
         {"temp", 0, OPT_STRING, "C",
          .help = "the set temperature in degrees Celsius (FMT material is kept at -80)",
          .flags = OPT_REQUIRED},
         {"site", 0, OPT_STRING, "S", .help = "where the freezer stands"},
         {0}},
     "register a freezer (admin; prints its ID)",
     "The freezer ID (F + 4 digits + check character) is printed; NAME can be used too.\n"},
    {"box add", cmd_box_add, CMD_DB, {0},
     (const struct opt_spec[]){
         {"freezer", 0, OPT_STRING, "F", .help = "the freezer's ID or name", .flags = OPT_REQUIRED},
         {"rack", 0, OPT_STRING, "R", .help = "the rack in the freezer"},
         {"rows", 0, OPT_STRING, "N", .help = "rows, up to 16 (A to P)", .flags = OPT_REQUIRED},
         {"cols", 0, OPT_STRING, "N", .help = "columns, up to 24", .flags = OPT_REQUIRED},
         {0}},
     "register a storage box in a freezer (admin; prints its ID)",
     "Its positions are written A1 .. P24, a position in a box BOXID:A1. The box ID\n"
     "(B + 6 digits + check character) is printed; label the box with it (box label).\n"},
    {"box label", cmd_box_label, CMD_DB, {"BOX...", 1, OPT_ANY, "box ID"},
     (const struct opt_spec[]){
         {"output", 'o', OPT_STRING, "FILE.zpl",
          .help = "write to FILE instead of standard output"},
         LABELS_DPI_OPT,
         {0}},
     "print the labels of boxes as ZPL II, to stdout or FILE (technician, quality, admin)",
     "A box label (1.28 x 0.5 inch, laid out for --dpi 203 or 300) carries a DataMatrix of the\n"
     "box ID (what \"fmtbank scan\" reads to select the box), the ID with its check character\n"
     "set apart, the freezer, rack, rows x columns and the freezer's set temperature. Box\n"
     "labels are not recorded (a tube's are). Send the file to a Zebra printer as raw ZPL:\n"
     "lp -d PRINTER -o raw FILE.zpl\n"},
    {"location show", cmd_location_show, CMD_DB, {"BOX", 1, 1, "box ID"}, LOT_AS_OF_OPTS,
     "the map of a box: which tube is where, in which state",
     "Draws the position grid with one letter per tube (Q quarantine, R released, C recalled,\n"
     "X expired, S retained sample, . free), in colour when standard output is a terminal\n"
     "and NO_COLOR is not set. --format tsv lists the tubes; --format json gives the box and\n"
     "its tubes.\n"
     "With --as-of, which tube was where then, in which state (the map's title says when).\n"
     LOT_AS_OF_HELP},
    {"location list", cmd_location_list, CMD_DB, {0},
     (const struct opt_spec[]){
         {"freezer", 0, OPT_STRING, "F", .help = "only the boxes of this freezer"}, {0}},
     "freezers and boxes with how many positions are occupied and free", NULL},
    {0},
};
