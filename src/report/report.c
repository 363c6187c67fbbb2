/* report.c: the report engine. A report is a definition (def.c) whose queries run in one
 * read-only repeatable-read transaction, each streamed row by row (PQsetSingleRowMode) into the
 * xlsx writer (constant memory), so neither the result set nor the sheet is ever held whole.
 * Parameters are validated and normalised by the database (fmtbank.report_param) and bound as
 * typed query parameters, never spliced into SQL. The file is written under a temporary name in
 * the target directory and renamed into place only when complete. */
#include "report/report.h"
#include "common/outfile.h"
#include "report/def.h"
#include "report/xlsx.h"
#include "db/db.h"
#include "common/json.h"
#include "common/paths.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* PostgreSQL type OIDs (pg_type.dat; fixed since forever). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_DATE 1082
#define OID_TIMESTAMP 1114
#define OID_TIMESTAMPTZ 1184
#define OID_NUMERIC 1700

/* Settings for the report's transaction: ISO dates to parse, UTF-8 as xlsx requires, and no JIT
 * compilation: a streaming query's plan (nested loops over lateral subqueries) is costed high
 * enough to be compiled, which takes 0.1 to 0.3 s per query and buys nothing when the rows go
 * out as fast as the workbook takes them (measured with the inventory report). */
#define REPORT_SESSION_SQL                                                                         \
    "SELECT pg_catalog.set_config('DateStyle', 'ISO, YMD', true),"                                 \
    " pg_catalog.set_config('client_encoding', 'UTF8', true),"                                     \
    " pg_catalog.set_config('jit', 'off', true)"

static struct report_stats last_stats;

void
report_last_stats(struct report_stats *out)
{
    *out = last_stats;
}

/* ------------------------------------------------------------------ where definitions live */

char **
report_dirs(void)
{
    char *list = paths_data_dir("reports");
    size_t n = 0;
    char **dirs = xcalloc(strlen(list) + 2, sizeof(char *));
    char *save = NULL;
    for (char *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save))
        if (*d)
            dirs[n++] = xstrdup(d);
    free(list);
    return dirs;
}

void
report_dirs_free(char **dirs)
{
    for (size_t i = 0; dirs && dirs[i]; i++)
        free(dirs[i]);
    free(dirs);
}

static bool
file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Loads report `name` from the first directory that has NAME.report. */
static struct report_def *
find_def(const char *name, struct fb_error *err)
{
    struct report_def *def = NULL;
    char **dirs = report_dirs();
    bool found = false;
    for (size_t i = 0; report_name_valid(name) && dirs[i] && !found; i++) {
        char *p = xasprintf("%s/%s.report", dirs[i], name);
        if (file_exists(p)) {
            found = true;
            def = report_def_load(dirs[i], name, err);
        }
        free(p);
    }
    if (!found) {
        fb_error_set(err, FB_ERR_NOTFOUND, "report \"%s\" not found", name);
        fb_error_hint(err, "Run \"fmtbank report list\" for the reports defined here.");
    }
    report_dirs_free(dirs);
    return def;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of every definition, sorted, each once (the first directory holding a name wins). */
static char **
all_names(size_t *count)
{
    char **dirs = report_dirs();
    char **names = NULL;
    size_t n = 0;
    for (size_t i = 0; dirs[i]; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            if (len <= 7 || strcmp(e->d_name + len - 7, ".report") != 0)
                continue;
            char *name = xstrndup(e->d_name, len - 7);
            bool dup = !report_name_valid(name);
            for (size_t k = 0; k < n && !dup; k++)
                dup = strcmp(names[k], name) == 0;
            if (dup) {
                free(name);
                continue;
            }
            names = xrealloc(names, (n + 1) * sizeof(char *));
            names[n++] = name;
        }
        closedir(d);
    }
    report_dirs_free(dirs);
    if (n > 1)
        qsort(names, n, sizeof(char *), cmp_str);
    *count = n;
    return names;
}

static void
names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

/* ------------------------------------------------------------------ types and shapes */

static Oid
param_oid(enum cell_type t)
{
    switch (t) {
    case CELL_INTEGER:
        return OID_INT8;
    case CELL_NUMBER:
        return OID_NUMERIC;
    case CELL_DATE:
        return OID_DATE;
    case CELL_TIMESTAMP:
        return OID_TIMESTAMPTZ;
    case CELL_BOOLEAN:
        return OID_BOOL;
    default:
        return OID_TEXT;
    }
}

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

static int
shape_meta(const struct report_def *def, const PGresult *res, struct fb_error *err)
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
            fb_error_hint(err, "A meta query may return created, title, subtitle, banner and "
                               "subject.");
            return -1;
        }
        Oid oid = PQftype(res, i);
        enum cell_type t = type_for_oid(oid);
        if (strcmp(n, "created") == 0 ? t != CELL_TIMESTAMP : t != CELL_TEXT) {
            fb_error_set(err, FB_ERR_INPUT,
                         "report \"%s\": column \"%s\" of meta query \"%s\" must be %s, not %s",
                         def->name, n, def->meta,
                         strcmp(n, "created") == 0 ? "a timestamp" : "text", oid_name(oid));
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
static int
shape_sheet(const struct report_def *def, const struct report_sheet *sh, const PGresult *res,
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
static bool
sheet_wants(const struct report_sheet *sh, const int *map, const PGresult *res)
{
    int f = map[sh->kind == SHEET_BOXMAP ? REPORT_BOXMAP_NCOLS : sh->ncols];
    return f < 0 || (!PQgetisnull(res, 0, f) && strcmp(PQgetvalue(res, 0, f), "t") == 0);
}

/* ------------------------------------------------------------------ parameters */

struct bound {
    size_t n;
    const char **values; /* normalised text, NULL for null */
    char **owned;
    Oid *types;
};

static void
bound_free(struct bound *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->owned[i]);
    free(b->owned);
    free(b->values);
    free(b->types);
    memset(b, 0, sizeof(*b));
}

static void
param_names(const struct report_def *def, struct strbuf *sb)
{
    for (size_t i = 0; i < def->nparams; i++)
        strbuf_addf(sb, "%s%s (%s)", i ? ", " : "", def->params[i].name,
                    cell_type_name(def->params[i].type));
}

/* Validates one value through the database (the same date/time rules as every command). */
static char *
param_normalise(PGconn *conn, const struct report_param *par, const char *value,
                struct fb_error *err)
{
    const char *p[] = {value, cell_type_name(par->type), par->name,
                       par->end_of_day ? "true" : "false"};
    return db_scalar(conn, "SELECT fmtbank.report_param($1, $2, $3, $4::boolean)", 4, p, err);
}

/* Checks a normalised value against the parameter's declared min and max (normalised by the same
 * rules, so a date bound of a timestamp parameter means what it would mean as a value). Returns
 * 0 when it is inside, or -1 with err set: FB_ERR_INPUT naming the parameter and the bounds. */
static int
param_check_bounds(PGconn *conn, const struct report_param *par, const char *given,
                   const char *value, struct fb_error *err)
{
    if (!value || (!par->min && !par->max))
        return 0;
    const char *sql;
    switch (par->type) {
    case CELL_DATE:
        sql = "SELECT ($2::date IS NULL OR $1::date >= $2::date)"
              " AND ($3::date IS NULL OR $1::date <= $3::date)";
        break;
    case CELL_TIMESTAMP:
        sql = "SELECT ($2::timestamptz IS NULL OR $1::timestamptz >= $2::timestamptz)"
              " AND ($3::timestamptz IS NULL OR $1::timestamptz <= $3::timestamptz)";
        break;
    default:
        sql = "SELECT ($2::numeric IS NULL OR $1::numeric >= $2::numeric)"
              " AND ($3::numeric IS NULL OR $1::numeric <= $3::numeric)";
    }
    char *lo = NULL, *hi = NULL, *ok = NULL;
    int rc = -1;
    if (par->min && !(lo = param_normalise(conn, par, par->min, err)))
        goto done;
    if (par->max && !(hi = param_normalise(conn, par, par->max, err)))
        goto done;
    const char *p[] = {value, lo, hi};
    if (!(ok = db_scalar(conn, sql, 3, p, err)))
        goto done;
    if (strcmp(ok, "t") == 0) {
        rc = 0;
        goto done;
    }
    fb_error_set(err, FB_ERR_INPUT, "invalid value \"%s\" for parameter \"%s\"", given, par->name);
    if (par->min && par->max)
        fb_error_detail(err, "The value must be between %s and %s.", par->min, par->max);
    else if (par->min)
        fb_error_detail(err, "The value must be at least %s.", par->min);
    else
        fb_error_detail(err, "The value must be at most %s.", par->max);
done:
    free(lo);
    free(hi);
    free(ok);
    return rc;
}

/* Matches "K=V" strings to the declared parameters (usage errors), then normalises every value
 * given or defaulted (input errors). Runs inside the report's transaction. */
static int
bind_params(PGconn *conn, const struct report_def *def, const char *const *params, size_t nparams,
            struct bound *b, struct fb_error *err)
{
    b->n = def->nparams;
    b->values = xcalloc(b->n + 1, sizeof(char *));
    b->owned = xcalloc(b->n + 1, sizeof(char *));
    b->types = xcalloc(b->n + 1, sizeof(Oid));
    const char **given = xcalloc(b->n + 1, sizeof(char *));
    int rc = -1;
    for (size_t i = 0; i < nparams; i++) {
        const char *eq = params[i] ? strchr(params[i], '=') : NULL;
        if (!eq || eq == params[i]) {
            fb_error_set(err, FB_ERR_USAGE, "invalid parameter \"%s\"", params[i] ? params[i] : "");
            fb_error_hint(err, "Give parameters as --param NAME=VALUE.");
            goto done;
        }
        size_t klen = (size_t)(eq - params[i]);
        size_t k = 0;
        while (k < def->nparams && !(strlen(def->params[k].name) == klen &&
                                     strncmp(def->params[k].name, params[i], klen) == 0))
            k++;
        if (k == def->nparams) {
            fb_error_set(err, FB_ERR_USAGE, "unknown parameter \"%.*s\" for report \"%s\"",
                         (int)klen, params[i], def->name);
            if (def->nparams) {
                struct strbuf sb = STRBUF_INIT;
                param_names(def, &sb);
                fb_error_hint(err, "Report \"%s\" takes: %s.", def->name, sb.buf);
                strbuf_release(&sb);
            } else {
                fb_error_hint(err, "Report \"%s\" takes no parameter.", def->name);
            }
            goto done;
        }
        if (given[k]) {
            fb_error_set(err, FB_ERR_USAGE, "parameter \"%s\" is given twice", def->params[k].name);
            goto done;
        }
        given[k] = eq + 1;
    }
    for (size_t k = 0; k < def->nparams; k++)
        if (def->params[k].required && !given[k]) {
            fb_error_set(err, FB_ERR_USAGE, "report \"%s\" requires parameter \"%s\"", def->name,
                         def->params[k].name);
            fb_error_hint(err, "Give it as --param %s=VALUE%s%s.", def->params[k].name,
                          def->params[k].help ? ": " : "",
                          def->params[k].help ? def->params[k].help : "");
            goto done;
        }
    for (size_t k = 0; k < def->nparams; k++) {
        const struct report_param *par = &def->params[k];
        const char *v = given[k] ? given[k] : par->def;
        b->types[k] = param_oid(par->type);
        if (!v)
            continue;
        b->owned[k] = param_normalise(conn, par, v, err);
        if (!b->owned[k]) {
            if (err->kind == FB_OK)
                fb_error_set(err, FB_ERR_INPUT, "invalid value \"%s\" for parameter \"%s\"", v,
                             par->name);
            goto done;
        }
        b->values[k] = b->owned[k];
        if (param_check_bounds(conn, par, v, b->values[k], err) < 0)
            goto done;
    }
    rc = 0;
done:
    free(given);
    return rc;
}

/* ------------------------------------------------------------------ running */

/* Stops a streaming query (cancel, then read what is left) so the connection is usable again. */
static void
stream_abort(PGconn *conn)
{
    PGcancel *c = PQgetCancel(conn);
    if (c) {
        char buf[256];
        PQcancel(c, buf, sizeof(buf));
        PQfreeCancel(c);
    }
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL)
        PQclear(r);
}

/* A query of the definition that PostgreSQL cannot run (class 42: syntax, unknown column or
 * function, type mismatch; not permission, 42501) is a broken definition: say which query and
 * line, as "report check" does. */
static int query_line(const struct report_query *q, const char *pos);

static void
blame_query(const struct report_def *def, const struct report_query *q, const PGresult *res,
            struct fb_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state || strncmp(state, "42", 2) != 0 || strcmp(state, "42501") == 0)
        return;
    int line = query_line(q, PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION));
    char *msg = xstrdup(err->message ? err->message : "query failed");
    fb_error_set(err, FB_ERR_INPUT, "report \"%s\": query \"%s\" (\"%s\", line %d): %s", def->name,
                 q->name, def->sql_file, line, msg);
    fb_error_hint(err, "The definition is broken; \"fmtbank report check\" checks them all.");
    free(msg);
}

static int
stream_start(PGconn *conn, const char *sql, const struct bound *b, struct fb_error *err)
{
    if (!PQsendQueryParams(conn, sql, (int)b->n, b->types, b->values, NULL, NULL, 0)) {
        db_error_fill(conn, NULL, err);
        return -1;
    }
    if (!PQsetSingleRowMode(conn)) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not stream the query result");
        stream_abort(conn);
        return -1;
    }
    return 0;
}

/* Callbacks of a streamed query: shape (once, on the first row or the empty result), then each
 * row. */
typedef int (*row_fn)(void *ctx, const PGresult *res, struct fb_error *err);

static int
stream_rows(PGconn *conn, const struct report_def *def, const struct report_query *q,
            const struct bound *b, row_fn shape, row_fn fn, void *ctx, struct fb_error *err)
{
    if (stream_start(conn, q->sql, b, err) < 0)
        return -1;
    bool checked = false;
    int rc = 0;
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) {
            if (!checked) {
                checked = true;
                rc = shape(ctx, res, err);
            }
            if (rc == 0 && st == PGRES_SINGLE_TUPLE)
                rc = fn(ctx, res, err);
        } else {
            db_error_fill(conn, res, err);
            blame_query(def, q, res, err);
            rc = -1;
        }
        PQclear(res);
        if (rc < 0) {
            stream_abort(conn);
            return -1;
        }
    }
    return rc;
}

/* A sheet being streamed: its definition, its writer, and where its columns are in the result. */
struct sheet_ctx {
    const struct report_def *def;
    const struct report_sheet *sh;
    int *map; /* result column of each of the sheet's columns (set by the shape check) */
    /* table */
    struct xlsx_table *t;
    struct xlsx_col *cols;
    const char **vals;
    /* box map */
    struct xlsx_boxmap *m;
    struct xlsx_state *states;
    char *box; /* the current box's key */
    unsigned long long rows;
};

static int
sheet_shape(void *vctx, const PGresult *res, struct fb_error *err)
{
    struct sheet_ctx *c = vctx;
    return shape_sheet(c->def, c->sh, res, c->map, err);
}

static int
table_row(void *vctx, const PGresult *res, struct fb_error *err)
{
    struct sheet_ctx *c = vctx;
    if (!sheet_wants(c->sh, c->map, res))
        return 0;
    for (size_t i = 0; i < c->sh->ncols; i++)
        c->vals[i] = PQgetisnull(res, 0, c->map[i]) ? NULL : PQgetvalue(res, 0, c->map[i]);
    return xlsx_table_row(c->t, c->vals, err);
}

static int
int_field(const PGresult *res, int col, int *out)
{
    if (PQgetisnull(res, 0, col))
        return 0;
    char *end;
    long v = strtol(PQgetvalue(res, 0, col), &end, 10);
    if (*end || v < -1000000 || v > 1000000)
        return -1;
    *out = (int)v;
    return 1;
}

static int
boxmap_row(void *vctx, const PGresult *res, struct fb_error *err)
{
    struct sheet_ctx *c = vctx;
    const int *m = c->map; /* box, caption, nrows, ncols, row, col, label, state */
    if (!sheet_wants(c->sh, m, res))
        return 0;
    c->rows++;
    const char *box = PQgetisnull(res, 0, m[0]) ? "" : PQgetvalue(res, 0, m[0]);
    if (!c->box || strcmp(c->box, box) != 0) {
        int nrows = 0, ncols = 0;
        if (int_field(res, m[2], &nrows) <= 0 || int_field(res, m[3], &ncols) <= 0) {
            fb_error_set(err, FB_ERR_INPUT, "box \"%s\" has no size (nrows, ncols)", box);
            return -1;
        }
        free(c->box);
        c->box = xstrdup(box);
        if (xlsx_boxmap_box(c->m, PQgetisnull(res, 0, m[1]) ? box : PQgetvalue(res, 0, m[1]), nrows,
                            ncols, err) < 0)
            return -1;
    }
    int row = 0, col = 0;
    int hr = int_field(res, m[4], &row), hc = int_field(res, m[5], &col);
    if (hr == 0 && hc == 0)
        return 0; /* a box without aliquots */
    if (hr <= 0 || hc <= 0) {
        fb_error_set(err, FB_ERR_INPUT, "a position in box \"%s\" has no row or col", box);
        return -1;
    }
    return xlsx_boxmap_cell(c->m, row, col,
                            PQgetisnull(res, 0, m[6]) ? NULL : PQgetvalue(res, 0, m[6]),
                            PQgetisnull(res, 0, m[7]) ? NULL : PQgetvalue(res, 0, m[7]), err);
}

/* Sheets that share one query: shape-check each, then feed each row to each of them. */
struct group_ctx {
    struct sheet_ctx *sheets;
    size_t n;
};

static int
group_shape(void *vctx, const PGresult *res, struct fb_error *err)
{
    struct group_ctx *g = vctx;
    for (size_t i = 0; i < g->n; i++)
        if (sheet_shape(&g->sheets[i], res, err) < 0)
            return -1;
    return 0;
}

static int
group_row(void *vctx, const PGresult *res, struct fb_error *err)
{
    struct group_ctx *g = vctx;
    for (size_t i = 0; i < g->n; i++) {
        struct sheet_ctx *c = &g->sheets[i];
        if ((c->sh->kind == SHEET_BOXMAP ? boxmap_row(c, res, err) : table_row(c, res, err)) < 0)
            return -1;
    }
    return 0;
}

static void
heading_for(const struct report_def *def, const struct report_sheet *sh, const char *title,
            const char *subtitle, const char *banner, struct xlsx_heading *h)
{
    h->title = sh->title ? sh->title : title ? title : def->title;
    h->subtitle = subtitle;
    h->banner = banner;
}

static struct xlsx_col *
xlsx_cols(const struct report_sheet *sh)
{
    struct xlsx_col *cols = xcalloc(sh->ncols ? sh->ncols : 1, sizeof(*cols));
    for (size_t i = 0; i < sh->ncols; i++) {
        cols[i].header = sh->cols[i].header;
        cols[i].type = sh->cols[i].type;
        cols[i].format = sh->cols[i].format;
        cols[i].width = sh->cols[i].width;
    }
    return cols;
}

/* Starts the writer of a table or box-map sheet. */
static int
sheet_begin(struct xlsx_book *book, struct sheet_ctx *c, const struct xlsx_heading *h,
            struct fb_error *err)
{
    const struct report_sheet *sh = c->sh;
    c->map = xcalloc(REPORT_BOXMAP_NCOLS + sh->ncols + 1, sizeof(int));
    if (sh->kind == SHEET_TABLE) {
        c->cols = xlsx_cols(sh);
        c->vals = xcalloc(sh->ncols, sizeof(char *));
        c->t = xlsx_table_begin(book, sh->name, h, c->cols, sh->ncols, err);
        return c->t ? 0 : -1;
    }
    c->states = xcalloc(sh->ncolors, sizeof(*c->states));
    for (size_t i = 0; i < sh->ncolors; i++) {
        c->states[i].name = sh->colors[i].state;
        c->states[i].label = sh->colors[i].label;
        c->states[i].rgb = sh->colors[i].rgb;
    }
    c->m = xlsx_boxmap_begin(book, sh->name, h, c->states, sh->ncolors, err);
    return c->m ? 0 : -1;
}

static int
sheet_end(struct sheet_ctx *c, unsigned long long *rows, struct fb_error *err)
{
    const struct report_sheet *sh = c->sh;
    if (sh->kind == SHEET_TABLE) {
        if (xlsx_table_end(c->t, sh->empty ? sh->empty : "No rows.", err) < 0)
            return -1;
        *rows += xlsx_table_rows(c->t);
        return 0;
    }
    if (xlsx_boxmap_end(c->m, sh->empty, err) < 0)
        return -1;
    *rows += c->rows;
    return 0;
}

/* The table and box map writers belong to the book; the rest is the context's. */
static void
sheet_free(struct sheet_ctx *c)
{
    free(c->map);
    free(c->vals);
    free(c->cols);
    free(c->states);
    free(c->box);
}

/* A record sheet is a short result (one record, a few): fetched whole. */
static int
run_record(PGconn *conn, struct xlsx_book *book, const struct report_def *def,
           const struct report_sheet *sh, const struct bound *b, const struct xlsx_heading *h,
           unsigned long long *rows, struct fb_error *err)
{
    int rc = -1;
    struct xlsx_col *cols = xlsx_cols(sh);
    const struct report_query *q = report_def_query(def, sh->query);
    PGresult *res = PQexecParams(conn, q->sql, (int)b->n, b->types, b->values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error_fill(conn, res, err);
        blame_query(def, q, res, err);
    } else if (shape_sheet(def, sh, res, NULL, err) == 0) {
        size_t nt = (size_t)PQntuples(res);
        const char **vals = xcalloc(nt * sh->ncols + 1, sizeof(char *));
        for (size_t r = 0; r < nt; r++)
            for (size_t c = 0; c < sh->ncols; c++)
                vals[r * sh->ncols + c] =
                    PQgetisnull(res, (int)r, (int)c) ? NULL : PQgetvalue(res, (int)r, (int)c);
        rc = xlsx_record_sheet(book, sh->name, h, cols, sh->ncols, vals, nt, sh->empty, err);
        *rows += nt;
        free(vals);
    }
    PQclear(res);
    free(cols);
    return rc;
}

/* Writes sheets first .. first + n - 1, which use the same query (n is 1 unless several sheets
 * share it): the query runs once, streamed, and each row goes to every one of them, so a list
 * and the box map of the same tubes cost one pass over the database. Their worksheets are
 * written side by side (each in row order, as constant-memory mode requires). */
static int
run_sheets(PGconn *conn, struct xlsx_book *book, const struct report_def *def, size_t first,
           size_t n, const struct bound *b, const struct xlsx_heading *h, unsigned long long *rows,
           struct fb_error *err)
{
    const struct report_sheet *sh = &def->sheets[first];
    if (sh->kind == SHEET_RECORD)
        return run_record(conn, book, def, sh, b, h, rows, err);
    struct group_ctx g = {xcalloc(n, sizeof(struct sheet_ctx)), n};
    int rc = -1;
    size_t started = 0;
    for (; started < n; started++) {
        struct sheet_ctx *c = &g.sheets[started];
        c->def = def;
        c->sh = &def->sheets[first + started];
        if (sheet_begin(book, c, &h[started], err) < 0) {
            started++;
            goto done;
        }
    }
    const struct report_query *q = report_def_query(def, sh->query);
    if (n == 1 ? stream_rows(conn, def, q, b, sheet_shape,
                             sh->kind == SHEET_BOXMAP ? boxmap_row : table_row, &g.sheets[0], err)
               : stream_rows(conn, def, q, b, group_shape, group_row, &g, err))
        goto done;
    for (size_t i = 0; i < n; i++)
        if (sheet_end(&g.sheets[i], rows, err) < 0)
            goto done;
    rc = 0;
done:
    for (size_t i = 0; i < started; i++)
        sheet_free(&g.sheets[i]);
    free(g.sheets);
    return rc;
}

struct meta {
    char *created, *title, *subtitle, *banner, *subject;
};

static void
meta_free(struct meta *m)
{
    free(m->created);
    free(m->title);
    free(m->subtitle);
    free(m->banner);
    free(m->subject);
}

static int
run_meta(PGconn *conn, const struct report_def *def, const struct bound *b, struct meta *m,
         struct fb_error *err)
{
    if (!def->meta)
        return 0;
    const struct report_query *q = report_def_query(def, def->meta);
    PGresult *res = PQexecParams(conn, q->sql, (int)b->n, b->types, b->values, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error_fill(conn, res, err);
        blame_query(def, q, res, err);
    } else if (shape_meta(def, res, err) == 0) {
        char **slots[] = {&m->created, &m->title, &m->subtitle, &m->banner, &m->subject};
        for (int i = 0; PQntuples(res) > 0 && i < PQnfields(res); i++)
            for (size_t k = 0; k < 5; k++)
                if (strcmp(PQfname(res, i), report_meta_columns[k]) == 0 && !PQgetisnull(res, 0, i))
                    *slots[k] = xstrdup(PQgetvalue(res, 0, i));
        rc = 0;
    }
    PQclear(res);
    return rc;
}

static bool
ends_with_xlsx(const char *p)
{
    size_t n = strlen(p);
    return n > 5 && strcasecmp(p + n - 5, ".xlsx") == 0 && p[n - 6] != '/';
}

/* Reserves a temporary name beside out_path (same file system, so rename is atomic); refuses a
 * target that is not a regular file (common/outfile.c). */
static char *
temp_beside(const char *out_path, struct fb_error *err)
{
    char *tmp = outfile_temp(out_path, NULL, err);
    if (!tmp && err->kind == FB_ERR_NOTFOUND)
        err->kind = FB_ERR_INPUT;
    return tmp;
}

static void
add_params_text(struct strbuf *sb, const struct report_def *def, const struct bound *b)
{
    for (size_t k = 0; k < def->nparams; k++)
        strbuf_addf(sb, "%s%s=%s", k ? ", " : "", def->params[k].name,
                    b->values[k] ? b->values[k] : "(default)");
}

int
report_run(PGconn *conn, const char *name, const char *const *params, size_t nparams,
           const char *out_path, struct fb_error *err)
{
    struct report_def *def = NULL;
    struct bound b = {0};
    struct meta m = {0};
    struct xlsx_book *book = NULL;
    PGresult *ctx = NULL;
    char *tmp = NULL;
    bool in_tx = false;
    int rc = -1;
    unsigned long long rows = 0;
    struct stat st;

    memset(&last_stats, 0, sizeof(last_stats));
    if (!(def = find_def(name, err)))
        goto done;
    if (!out_path || !ends_with_xlsx(out_path)) {
        fb_error_set(err, FB_ERR_USAGE, "output file \"%s\" must end in \".xlsx\"",
                     out_path ? out_path : "");
        goto done;
    }
    if (stat(out_path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fb_error_set(err, FB_ERR_INPUT, "could not create \"%s\": it is a directory", out_path);
        goto done;
    }
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        fb_error_set(err, FB_ERR_INTERNAL, "cannot run a report inside an open transaction");
        goto done;
    }
    /* One snapshot for every sheet; read-only, so no definition can change anything. */
    if (db_run(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err) < 0)
        goto done;
    in_tx = true;
    if (db_run(conn, REPORT_SESSION_SQL, 0, NULL, err) < 0)
        goto done;
    if (bind_params(conn, def, params, nparams, &b, err) < 0)
        goto done;
    if (!(tmp = temp_beside(out_path, err)))
        goto done;
    if (run_meta(conn, def, &b, &m, err) < 0)
        goto done;
    {
        const char *p[] = {m.created};
        ctx = db_exec(conn,
                      "SELECT u.login, coalesce(a.printed_name, u.login),"
                      " (SELECT value FROM fmtbank.site_setting WHERE name = 'site_name'),"
                      " pg_catalog.floor(extract(epoch FROM coalesce($1::timestamptz,"
                      "                    fmtbank.report_as_of(), pg_catalog.now())))::bigint,"
                      " coalesce($1::timestamptz, fmtbank.report_as_of(), pg_catalog.now())"
                      " FROM (SELECT session_user::text AS login) u"
                      " LEFT JOIN fmtbank.app_user a ON a.name = u.login",
                      1, p, err);
        if (!ctx)
            goto done;
    }
    {
        struct strbuf comments = STRBUF_INIT;
        strbuf_addf(&comments, "fmtbank report \"%s\"", def->name);
        if (def->nparams) {
            strbuf_adds(&comments, " (");
            add_params_text(&comments, def, &b);
            strbuf_adds(&comments, ")");
        }
        strbuf_addf(&comments, "; as of %s", PQgetvalue(ctx, 0, 4));
        const char *author = PQgetvalue(ctx, 0, 1);
        char *author_full = strcmp(author, PQgetvalue(ctx, 0, 0)) == 0
                                ? xstrdup(author)
                                : xasprintf("%s (%s)", author, PQgetvalue(ctx, 0, 0));
        struct xlsx_props props = {
            .title = m.title ? m.title : def->title,
            .subject = m.subject,
            .author = author_full,
            .company = PQgetisnull(ctx, 0, 2) ? NULL : PQgetvalue(ctx, 0, 2),
            .comments = comments.buf,
            .keywords = def->name,
            .created = strtoll(PQgetvalue(ctx, 0, 3), NULL, 10),
        };
        if (props.created < 1)
            props.created = 1;
        book = xlsx_open(tmp, &props, err);
        free(author_full);
        strbuf_release(&comments);
        if (!book)
            goto done;
    }
    {
        const char *lim = getenv("FMTBANK_XLSX_MAX_ROWS"); /* tests of continuation sheets */
        if (!str_empty(lim))
            xlsx_set_max_rows(book, (uint32_t)strtoul(lim, NULL, 10));
    }
    for (size_t i = 0; i < def->nsheets;) {
        /* Consecutive table and box-map sheets of one query run together (def.c makes sheets
         * that share a query consecutive). */
        size_t n = 1;
        while (def->sheets[i].kind != SHEET_RECORD && i + n < def->nsheets &&
               def->sheets[i + n].kind != SHEET_RECORD &&
               strcmp(def->sheets[i + n].query, def->sheets[i].query) == 0)
            n++;
        struct xlsx_heading *h = xcalloc(n, sizeof(*h));
        for (size_t k = 0; k < n; k++)
            heading_for(def, &def->sheets[i + k], m.title, m.subtitle, m.banner, &h[k]);
        int r = run_sheets(conn, book, def, i, n, &b, h, &rows, err);
        free(h);
        if (r < 0)
            goto done;
        i += n;
    }
    if (db_run(conn, "COMMIT", 0, NULL, err) < 0)
        goto done;
    in_tx = false;
    {
        struct xlsx_book *bk = book;
        book = NULL;
        if (xlsx_close(bk, err) < 0)
            goto done;
    }
    {
        char *t = tmp;
        tmp = NULL;
        int crc = outfile_commit(t, out_path, err); /* removes t on failure */
        free(t);
        if (crc < 0)
            goto done;
    }
    last_stats.sheets = def->nsheets;
    last_stats.rows = rows;
    rc = 0;
done:
    if (book)
        xlsx_discard(book);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    if (in_tx) {
        PGresult *r = PQexec(conn, "ROLLBACK");
        PQclear(r);
    }
    PQclear(ctx);
    meta_free(&m);
    bound_free(&b);
    report_def_free(def);
    return rc;
}

/* ------------------------------------------------------------------ checking */

/* Line of NAME.sql holding character `pos` (1-based, as PostgreSQL counts) of query q. */
static int
query_line(const struct report_query *q, const char *pos)
{
    long want = pos ? strtol(pos, NULL, 10) : 0;
    int line = q->line;
    long ch = 0;
    for (const char *s = q->sql; *s && want > 0; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80 && ++ch >= want)
            break;
        if (*s == '\n')
            line++;
    }
    return line;
}

static int
check_one(PGconn *conn, const struct report_def *def, struct fb_error *err)
{
    struct bound b = {0};
    b.n = def->nparams;
    b.types = xcalloc(b.n + 1, sizeof(Oid));
    b.values = xcalloc(b.n + 1, sizeof(char *));
    b.owned = xcalloc(b.n + 1, sizeof(char *));
    int rc = -1;
    if (db_run(conn, "BEGIN READ ONLY", 0, NULL, err) < 0) {
        bound_free(&b);
        return -1;
    }
    if (db_run(conn, REPORT_SESSION_SQL, 0, NULL, err) < 0)
        goto done;
    for (size_t k = 0; k < def->nparams; k++) {
        const struct report_param *par = &def->params[k];
        b.types[k] = param_oid(par->type);
        /* The bounds and the default must be values of the parameter's type; the default must be
         * inside the bounds. */
        const char *what[] = {"minimum", "maximum", "default"};
        const char *text[] = {par->min, par->max, par->def};
        for (int w = 0; w < 3; w++) {
            if (!text[w])
                continue;
            char *v = param_normalise(conn, par, text[w], err);
            if (v && w == 2 && param_check_bounds(conn, par, text[w], v, err) < 0) {
                free(v);
                v = NULL;
            }
            if (!v) {
                char *msg = xstrdup(err->message ? err->message : "invalid value");
                char *detail = err->detail ? xstrdup(err->detail) : NULL;
                fb_error_set(err, FB_ERR_INPUT, "report \"%s\": %s of parameter \"%s\": %s",
                             def->name, what[w], par->name, msg);
                if (detail)
                    fb_error_detail(err, "%s", detail);
                fb_error_hint(err, "See \"%s\", line %d.", def->layout_file, par->line);
                free(msg);
                free(detail);
                goto done;
            }
            free(v);
        }
    }
    for (size_t i = 0; i < def->nqueries; i++) {
        const struct report_query *q = &def->queries[i];
        PGresult *res = PQprepare(conn, "", q->sql, (int)b.n, b.types);
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            res = PQdescribePrepared(conn, "");
        }
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            db_error_fill(conn, res, err);
            int line = query_line(q, PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION));
            char *msg = xstrdup(err->message ? err->message : "query failed");
            fb_error_set(err, FB_ERR_INPUT, "report \"%s\": query \"%s\" (\"%s\", line %d): %s",
                         def->name, q->name, def->sql_file, line, msg);
            free(msg);
            PQclear(res);
            goto done;
        }
        for (size_t s = 0; s < def->nsheets; s++)
            if (strcmp(def->sheets[s].query, q->name) == 0 &&
                shape_sheet(def, &def->sheets[s], res, NULL, err) < 0) {
                PQclear(res);
                goto done;
            }
        if (def->meta && strcmp(def->meta, q->name) == 0 && shape_meta(def, res, err) < 0) {
            PQclear(res);
            goto done;
        }
        PQclear(res);
    }
    rc = 0;
done : {
    PGresult *r = PQexec(conn, "ROLLBACK");
    PQclear(r);
}
    bound_free(&b);
    return rc;
}

int
report_check(PGconn *conn, const char *const *names, size_t n, FILE *out, FILE *errout,
             struct fb_error *err)
{
    size_t count = n;
    char **all = NULL;
    if (n == 0) {
        all = all_names(&count);
        names = (const char *const *)all;
    }
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        fb_error_set(err, FB_ERR_INTERNAL, "cannot check reports inside an open transaction");
        names_free(all, count);
        return -1;
    }
    int broken = 0;
    for (size_t i = 0; i < count; i++) {
        struct fb_error e = {0};
        struct report_def *def = find_def(names[i], &e);
        if (def && check_one(conn, def, &e) == 0) {
            fprintf(out, "%s: ok\n", names[i]);
        } else {
            if (PQstatus(conn) != CONNECTION_OK) {
                /* The database went away: that is not a broken definition. */
                *err = e;
                names_free(all, count);
                report_def_free(def);
                return -1;
            }
            fprintf(out, "%s: broken\n", names[i]);
            fb_error_print(&e, errout);
            broken++;
        }
        fb_error_clear(&e);
        report_def_free(def);
    }
    names_free(all, count);
    return broken;
}

/* ------------------------------------------------------------------ listing */

int
report_list_json(struct strbuf *json, FILE *errout)
{
    size_t n;
    char **names = all_names(&n);
    char **dirs = report_dirs();
    int bad = 0;
    bool first = true;
    strbuf_addch(json, '[');
    for (size_t i = 0; i < n; i++) {
        struct fb_error e = {0};
        struct report_def *def = find_def(names[i], &e);
        if (!def) {
            fprintf(errout, "fmtbank: warning: report \"%s\" is left out: %s\n", names[i],
                    e.message ? e.message : "it does not parse");
            fb_error_clear(&e);
            bad++;
            continue;
        }
        struct strbuf sheets = STRBUF_INIT, pars = STRBUF_INIT;
        for (size_t s = 0; s < def->nsheets; s++)
            strbuf_addf(&sheets, "%s%s", s ? ", " : "", def->sheets[s].name);
        for (size_t k = 0; k < def->nparams; k++) {
            const struct report_param *p = &def->params[k];
            strbuf_addf(&pars, "%s%s (%s%s%s%s", k ? ", " : "", p->name, cell_type_name(p->type),
                        p->required ? ", required" : "", p->def ? ", default " : "",
                        p->def ? p->def : "");
            if (p->min && p->max)
                strbuf_addf(&pars, ", %s to %s", p->min, p->max);
            else if (p->min)
                strbuf_addf(&pars, ", at least %s", p->min);
            else if (p->max)
                strbuf_addf(&pars, ", at most %s", p->max);
            strbuf_addch(&pars, ')');
        }
        char *copy = xstrdup(def->layout_file);
        strbuf_adds(json, first ? "{" : ",{");
        first = false;
        strbuf_adds(json, "\"name\":");
        json_add_string(json, def->name);
        strbuf_adds(json, ",\"title\":");
        json_add_string(json, def->title);
        strbuf_adds(json, ",\"sheets\":");
        json_add_string(json, sheets.buf ? sheets.buf : "");
        strbuf_adds(json, ",\"parameters\":");
        json_add_string(json, pars.buf ? pars.buf : "");
        strbuf_adds(json, ",\"description\":");
        json_add_string(json, def->description ? def->description : "");
        strbuf_adds(json, ",\"directory\":");
        json_add_string(json, dirname(copy));
        strbuf_addch(json, '}');
        free(copy);
        strbuf_release(&sheets);
        strbuf_release(&pars);
        report_def_free(def);
    }
    strbuf_addch(json, ']');
    report_dirs_free(dirs);
    names_free(names, n);
    return bad;
}
