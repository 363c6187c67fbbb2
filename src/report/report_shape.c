/* report_shape.c: whether a query's result columns fit the sheets that show them (names, order,
 * types), checked on the first row of a run and on the described statement by "report check", so
 * a date or a number is never written as text and a broken definition names its line. */
#include "report/report_int.h"
#include "common/util.h"

#include <string.h>

/* The declared type that fits a result column of type oid. */
static enum cell_type
type_for_oid(Oid oid)
{
    switch (oid) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
        return CELL_INTEGER;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC:
        return CELL_NUMBER;
    case OID_DATE:
        return CELL_DATE;
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ:
        return CELL_TIMESTAMP;
    case OID_BOOL:
        return CELL_BOOLEAN;
    default:
        return CELL_TEXT;
    }
}

/* An integer column may also be declared number; everything else must match exactly, so dates
 * and numbers are never written as text. */
static bool
type_fits(enum cell_type declared, Oid oid)
{
    enum cell_type actual = type_for_oid(oid);
    return declared == actual || (declared == CELL_NUMBER && actual == CELL_INTEGER);
}

static const char *
oid_name(Oid oid)
{
    switch (oid) {
    case OID_BOOL:
        return "boolean";
    case OID_INT8:
        return "bigint";
    case OID_INT2:
        return "smallint";
    case OID_INT4:
        return "integer";
    case OID_TEXT:
        return "text";
    case OID_FLOAT4:
        return "real";
    case OID_FLOAT8:
        return "double precision";
    case OID_DATE:
        return "date";
    case OID_TIMESTAMP:
        return "timestamp without time zone";
    case OID_TIMESTAMPTZ:
        return "timestamp with time zone";
    case OID_NUMERIC:
        return "numeric";
    default:
        return "a non-numeric, non-date type";
    }
}

/* A result's column names and types, from a PGresult or a described statement. */
static void
add_field_list(struct strbuf *sb, const PGresult *res)
{
    for (int i = 0; i < PQnfields(res); i++)
        strbuf_addf(sb, "%s%s", i ? ", " : "", PQfname(res, i));
}

static int
shape_columns(const struct report_def *def, const struct report_sheet *sh, const PGresult *res,
              struct fb_error *err)
{
    int nf = PQnfields(res);
    if ((size_t)nf != sh->ncols) {
        struct strbuf sb = STRBUF_INIT;
        add_field_list(&sb, res);
        fb_error_set(err, FB_ERR_INPUT,
                     "report \"%s\": sheet \"%s\" declares %zu columns but query \"%s\" returns %d",
                     def->name, sh->name, sh->ncols, sh->query, nf);
        fb_error_detail(err, "The query returns: %s.", sb.buf ? sb.buf : "nothing");
        fb_error_hint(err, "Make the \"column\" lines of [sheet %s] in \"%s\" match the query.",
                      sh->name, def->layout_file);
        strbuf_release(&sb);
        return -1;
    }
    for (int i = 0; i < nf; i++) {
        const struct report_column *c = &sh->cols[i];
        if (strcmp(PQfname(res, i), c->name) != 0) {
            fb_error_set(err, FB_ERR_INPUT,
                         "report \"%s\": column %d of sheet \"%s\" is \"%s\" in the definition but "
                         "\"%s\" in query \"%s\"",
                         def->name, i + 1, sh->name, c->name, PQfname(res, i), sh->query);
            fb_error_hint(err, "See \"%s\", line %d.", def->layout_file, c->line);
            return -1;
        }
        Oid oid = PQftype(res, i);
        if (!type_fits(c->type, oid)) {
            fb_error_set(err, FB_ERR_INPUT,
                         "report \"%s\": column \"%s\" of sheet \"%s\" is declared %s but query "
                         "\"%s\" returns %s",
                         def->name, c->name, sh->name, cell_type_name(c->type), sh->query,
                         oid_name(oid));
            fb_error_hint(err, "Declare it %s in \"%s\", line %d, or cast it in the query.",
                          cell_type_name(type_for_oid(oid)), def->layout_file, c->line);
            return -1;
        }
    }
    return 0;
}

static int
shape_boxmap(const struct report_def *def, const struct report_sheet *sh, const PGresult *res,
             struct fb_error *err)
{
    static const enum cell_type want[] = {CELL_TEXT,    CELL_TEXT,    CELL_INTEGER, CELL_INTEGER,
                                          CELL_INTEGER, CELL_INTEGER, CELL_TEXT,    CELL_TEXT};
    bool ok = PQnfields(res) == REPORT_BOXMAP_NCOLS;
    for (int i = 0; ok && i < REPORT_BOXMAP_NCOLS; i++)
        ok = strcmp(PQfname(res, i), report_boxmap_columns[i]) == 0 &&
             (i < 2 || type_for_oid(PQftype(res, i)) == want[i]);
    if (ok)
        return 0;
    struct strbuf sb = STRBUF_INIT;
    add_field_list(&sb, res);
    fb_error_set(err, FB_ERR_INPUT,
                 "report \"%s\": box-map sheet \"%s\" needs query \"%s\" to return box, caption, "
                 "nrows, ncols, row, col, label, state",
                 def->name, sh->name, sh->query);
    fb_error_detail(err,
                    "The query returns: %s. nrows, ncols, row and col must be integers; "
                    "label and state text.",
                    sb.buf ? sb.buf : "nothing");
    strbuf_release(&sb);
    return -1;
}

int
report_shape_meta(const struct report_def *def, const PGresult *res, struct fb_error *err)
{
    for (int i = 0; i < PQnfields(res); i++) {
        const char *n = PQfname(res, i);
        bool known = false;
        for (size_t k = 0; report_meta_columns[k] && !known; k++)
            known = strcmp(n, report_meta_columns[k]) == 0;
        if (!known) {
            fb_error_set(err, FB_ERR_INPUT,
                         "report \"%s\": meta query \"%s\" returns unknown column \"%s\"",
                         def->name, def->meta, n);
            fb_error_hint(err, "A meta query may return created, title, subtitle, banner, "
                               "subject and protect.");
            return -1;
        }
        Oid oid = PQftype(res, i);
        enum cell_type t = type_for_oid(oid);
        enum cell_type want = strcmp(n, "created") == 0   ? CELL_TIMESTAMP
                              : strcmp(n, "protect") == 0 ? CELL_BOOLEAN
                                                          : CELL_TEXT;
        if (t != want) {
            fb_error_set(err, FB_ERR_INPUT,
                         "report \"%s\": column \"%s\" of meta query \"%s\" must be %s, not %s",
                         def->name, n, def->meta,
                         want == CELL_TIMESTAMP ? "a timestamp"
                         : want == CELL_BOOLEAN ? "a boolean"
                                                : "text",
                         oid_name(oid));
            return -1;
        }
    }
    return 0;
}

/* True when another table or box-map sheet uses the same query as this one: the query then runs
 * once and feeds them all, and each sheet takes its columns by name. */
static bool
query_shared(const struct report_def *def, const struct report_sheet *sh)
{
    for (size_t i = 0; sh->kind != SHEET_RECORD && i < def->nsheets; i++)
        if (&def->sheets[i] != sh && def->sheets[i].kind != SHEET_RECORD &&
            strcmp(def->sheets[i].query, sh->query) == 0)
            return true;
    return false;
}

static int
field_named(const PGresult *res, const char *name)
{
    for (int i = 0; i < PQnfields(res); i++)
        if (strcmp(PQfname(res, i), name) == 0)
            return i;
    return -1;
}

/* A sheet that shares its query: every column it shows must be one of the query's, by name, of a
 * fitting type; map[k] is the result column of the sheet's k-th column. */
static int
shape_named(const struct report_def *def, const struct report_sheet *sh, const PGresult *res,
            int *map, struct fb_error *err)
{
    static const enum cell_type boxmap_types[] = {CELL_TEXT,    CELL_TEXT,    CELL_INTEGER,
                                                  CELL_INTEGER, CELL_INTEGER, CELL_INTEGER,
                                                  CELL_TEXT,    CELL_TEXT};
    bool boxmap = sh->kind == SHEET_BOXMAP;
    size_t n = boxmap ? REPORT_BOXMAP_NCOLS : sh->ncols;
    for (size_t k = 0; k < n; k++) {
        const char *name = boxmap ? report_boxmap_columns[k] : sh->cols[k].name;
        int f = field_named(res, name);
        if (f < 0) {
            struct strbuf sb = STRBUF_INIT;
            add_field_list(&sb, res);
            fb_error_set(err, FB_ERR_INPUT,
                         "report \"%s\": sheet \"%s\" shows column \"%s\" but query \"%s\" "
                         "does not return it",
                         def->name, sh->name, name, sh->query);
            fb_error_detail(err, "The query returns: %s.", sb.buf ? sb.buf : "nothing");
            strbuf_release(&sb);
            if (!boxmap)
                fb_error_hint(err, "See \"%s\", line %d.", def->layout_file, sh->cols[k].line);
            return -1;
        }
        Oid oid = PQftype(res, f);
        bool fits = boxmap ? k < 2 || type_for_oid(oid) == boxmap_types[k]
                           : type_fits(sh->cols[k].type, oid);
        if (!fits) {
            fb_error_set(err, FB_ERR_INPUT,
                         "report \"%s\": column \"%s\" of sheet \"%s\" is %s %s but query \"%s\" "
                         "returns %s",
                         def->name, name, sh->name, boxmap ? "to be" : "declared",
                         cell_type_name(boxmap ? boxmap_types[k] : sh->cols[k].type), sh->query,
                         oid_name(oid));
            if (!boxmap)
                fb_error_hint(err, "Declare it %s in \"%s\", line %d, or cast it in the query.",
                              cell_type_name(type_for_oid(oid)), def->layout_file,
                              sh->cols[k].line);
            return -1;
        }
        if (map)
            map[k] = f;
    }
    return 0;
}

/* Checks a sheet's columns against a result; map (may be NULL) receives the result column of each
 * of the sheet's columns (table: its declared columns; box map: box .. state), then that of its
 * filter column (-1 without one). */
int
report_shape_sheet(const struct report_def *def, const struct report_sheet *sh, const PGresult *res,
                   int *map, struct fb_error *err)
{
    size_t n = sh->kind == SHEET_BOXMAP ? REPORT_BOXMAP_NCOLS : sh->ncols;
    int rc;
    if (query_shared(def, sh)) {
        rc = shape_named(def, sh, res, map, err);
    } else {
        rc = sh->kind == SHEET_BOXMAP ? shape_boxmap(def, sh, res, err)
                                      : shape_columns(def, sh, res, err);
        for (size_t k = 0; map && rc == 0 && k < n; k++)
            map[k] = (int)k;
    }
    int f = sh->filter ? field_named(res, sh->filter) : -1;
    if (rc == 0 && sh->filter && (f < 0 || PQftype(res, f) != OID_BOOL)) {
        fb_error_set(err, FB_ERR_INPUT,
                     "report \"%s\": the filter of sheet \"%s\", \"%s\", is not a boolean column "
                     "of query \"%s\"",
                     def->name, sh->name, sh->filter, sh->query);
        if (f >= 0)
            fb_error_detail(err, "The query returns it as %s.", oid_name(PQftype(res, f)));
        rc = -1;
    }
    if (map && rc == 0)
        map[n] = f;
    return rc;
}

/* False for a row the sheet's filter leaves out. */
bool
report_sheet_wants(const struct report_sheet *sh, const int *map, const PGresult *res)
{
    int f = map[sh->kind == SHEET_BOXMAP ? REPORT_BOXMAP_NCOLS : sh->ncols];
    return f < 0 || (!PQgetisnull(res, 0, f) && strcmp(PQgetvalue(res, 0, f), "t") == 0);
}
