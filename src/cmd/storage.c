/* storage.c: "fmtbank freezer add", "box add", "location show|list": where tubes are kept
 * (site > freezer > rack > box > position) and the box map. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "common/boxmap.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct opt_spec no_opts[] = {{0}};

static int
cmd_freezer_add(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *temp = NULL, *site = NULL;
    const struct opt_spec specs[] = {
        {"temp", 0, OPT_STRING, &temp}, {"site", 0, OPT_STRING, &site}, {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 1, "freezer NAME") < 0)
        return cmd_fail(ctx);
    int rc = 0;
    if (!temp) {
        rc = cmd_usage_error(ctx, "missing --temp");
    } else {
        const char *p[] = {pos.items[0], temp, site};
        PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.freezer_add($1, $2, $3)", 3, p, &ctx->err);
        if (r)
            out_ids(r);
        else
            rc = cmd_fail(ctx);
        PQclear(r);
    }
    opt_args_free(&pos);
    return rc;
}

static int
cmd_box_add(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *freezer = NULL, *rack = NULL, *rows = NULL, *cols = NULL;
    const struct opt_spec specs[] = {{"freezer", 0, OPT_STRING, &freezer},
                                     {"rack", 0, OPT_STRING, &rack},
                                     {"rows", 0, OPT_STRING, &rows},
                                     {"cols", 0, OPT_STRING, &cols},
                                     {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 0, "") < 0)
        return cmd_fail(ctx);
    opt_args_free(&pos);
    if (!freezer)
        return cmd_usage_error(ctx, "missing --freezer");
    if (!rows || !cols)
        return cmd_usage_error(ctx, "missing --%s", rows ? "cols" : "rows");
    const char *p[] = {freezer, rack, rows, cols};
    PGresult *r = db_exec(ctx->conn, "SELECT fmtbank.box_add($1, $2, $3, $4)", 4, p, &ctx->err);
    if (!r)
        return cmd_fail(ctx);
    out_ids(r);
    PQclear(r);
    return 0;
}

/* The tubes of a box, for --format tsv/json and for the map. */
#define BOX_TUBES_SQL                                                                              \
    "SELECT t.position, t.id AS aliquot, t.lot, t.donor, t.status, t.expires, t.retained"          \
    " FROM fmtbank.box_tubes($1) t"

static int
location_show_map(struct cmd_ctx *ctx, const char *box)
{
    const char *p[] = {box};
    PGresult *h = db_exec(ctx->conn,
                          "SELECT l.box, l.rows, l.cols, l.freezer, l.freezer_name, l.temp_c,"
                          " coalesce(l.site, ''), coalesce(l.rack, ''), l.occupied"
                          " FROM fmtbank.location_of(NULL, $1) l",
                          1, p, &ctx->err);
    if (!h)
        return cmd_fail(ctx);
    if (PQntuples(h) != 1) { /* cannot happen: location_of raises for an unknown box */
        PQclear(h);
        fb_error_set(&ctx->err, FB_ERR_NOTFOUND, "box \"%s\" not found", box);
        return FB_ERR_NOTFOUND;
    }
    PGresult *t = db_exec(ctx->conn,
                          "SELECT ascii(t.position) - 64, substr(t.position, 2)::int, t.status,"
                          " t.retained FROM fmtbank.box_tubes($1) t",
                          1, p, &ctx->err);
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
    strbuf_addf(&sb, "; %d x %d, %d occupied, %d free\n\n", rows, cols, occupied,
                rows * cols - occupied);
    boxmap_render(&sb, rows, cols, codes, boxmap_colour_wanted(STDOUT_FILENO));
    fputs(sb.buf, stdout);
    strbuf_release(&sb);
    free(codes);
    PQclear(t);
    PQclear(h);
    return 0;
}

static int
cmd_location_show(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, no_opts, &pos, 1, "box ID") < 0)
        return cmd_fail(ctx);
    int rc;
    const char *p[] = {pos.items[0]};
    if (ctx->format == OUT_TABLE)
        rc = location_show_map(ctx, pos.items[0]);
    else if (ctx->format == OUT_TSV)
        rc = out_query(ctx, OUT_LIST, BOX_TUBES_SQL, 1, p, NULL);
    else
        rc = out_query(ctx, OUT_OBJECT,
                       "SELECT l.box, l.freezer, l.freezer_name, l.temp_c, l.site, l.rack, l.rows,"
                       " l.cols, l.occupied, l.free,"
                       " (SELECT coalesce(json_agg(t), '[]'::json) FROM (" BOX_TUBES_SQL ") t)"
                       " AS tubes"
                       " FROM fmtbank.location_of(NULL, $1) l",
                       1, p, NULL);
    opt_args_free(&pos);
    return rc;
}

static int
cmd_location_list(struct cmd_ctx *ctx, int argc, char **argv)
{
    const char *freezer = NULL;
    const struct opt_spec specs[] = {{"freezer", 0, OPT_STRING, &freezer}, {0}};
    struct opt_args pos;
    if (cmd_parse(ctx, argc, argv, specs, &pos, 0, "") < 0)
        return cmd_fail(ctx);
    opt_args_free(&pos);
    const char *p[] = {freezer};
    return out_query(ctx, OUT_LIST,
                     "SELECT freezer, freezer_name, temp_c, site, rack, box, rows, cols, occupied,"
                     " free FROM fmtbank.location_of($1, NULL)",
                     1, p, NULL);
}

const struct cmd_def cmd_defs_storage[] = {
    {"freezer add", cmd_freezer_add, CMD_DB, "freezer add NAME --temp C [--site S]",
     "register a freezer (admin; prints its ID)",
     "--temp is the set temperature in degrees Celsius (FMT material is kept at -80).\n"
     "The freezer ID (F + 4 digits + check character) is printed; NAME can be used too.\n"},
    {"box add", cmd_box_add, CMD_DB, "box add --freezer F [--rack R] --rows N --cols N",
     "register a storage box in a freezer (admin; prints its ID)",
     "F is the freezer's ID or name. A box has up to 16 rows (A to P) and 24 columns;\n"
     "its positions are written A1 .. P24, a position in a box BOXID:A1. The box ID\n"
     "(B + 6 digits + check character) is printed; label the box with it.\n"},
    {"location show", cmd_location_show, CMD_DB, "location show BOX",
     "the map of a box: which tube is where, in which state",
     "Draws the position grid with one letter per tube (Q quarantine, R released, C recalled,\n"
     "X expired, S retained sample, . free), in colour when standard output is a terminal\n"
     "and NO_COLOR is not set. --format tsv lists the tubes; --format json gives the box and\n"
     "its tubes.\n"},
    {"location list", cmd_location_list, CMD_DB, "location list [--freezer F]",
     "freezers and boxes with how many positions are occupied and free", NULL},
    {0},
};
