/* report_run.c: running one report. Its queries run in one read-only repeatable-read
 * transaction, each streamed row by row (PQsetSingleRowMode) into the xlsx writer (constant
 * memory), so neither the result set nor the sheet is ever held whole. The file is written under
 * a temporary name in the target directory and renamed into place only when complete. */
#include "report/report.h"
#include "report/report_int.h"
#include "report/xlsx.h"
#include "report/cell.h"
#include "common/outfile.h"
#include "common/progress.h"
#include "db/db.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int
stream_start(PGconn *conn, const char *sql, const struct report_bound *b, struct fb_error *err)
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
            const struct report_bound *b, row_fn shape, row_fn fn, void *ctx,
            struct progress *prog, struct fb_error *err)
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
            if (rc == 0 && st == PGRES_SINGLE_TUPLE) {
                rc = fn(ctx, res, err);
                progress_add(prog, 1);
            }
        } else {
            db_error_fill(conn, res, err);
            report_blame_query(def, q, res, err);
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
    return report_shape_sheet(c->def, c->sh, res, c->map, err);
}

static int
table_row(void *vctx, const PGresult *res, struct fb_error *err)
{
    struct sheet_ctx *c = vctx;
    if (!report_sheet_wants(c->sh, c->map, res))
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
    if (!report_sheet_wants(c->sh, m, res))
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
           const struct report_sheet *sh, const struct report_bound *b,
           const struct xlsx_heading *h, unsigned long long *rows, struct fb_error *err)
{
    int rc = -1;
    struct xlsx_col *cols = xlsx_cols(sh);
    const struct report_query *q = report_def_query(def, sh->query);
    PGresult *res = PQexecParams(conn, q->sql, (int)b->n, b->types, b->values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error_fill(conn, res, err);
        report_blame_query(def, q, res, err);
    } else if (report_shape_sheet(def, sh, res, NULL, err) == 0) {
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
           size_t n, const struct report_bound *b, const struct xlsx_heading *h,
           unsigned long long *rows, struct progress *prog, struct fb_error *err)
{
    const struct report_sheet *sh = &def->sheets[first];
    progress_phase(prog, "sheet \"%s\"%s", sh->name, n > 1 ? " and the sheets of its query" : "");
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
                             sh->kind == SHEET_BOXMAP ? boxmap_row : table_row, &g.sheets[0],
                             prog, err)
               : stream_rows(conn, def, q, b, group_shape, group_row, &g, prog, err))
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
    char *created, *title, *subtitle, *banner, *subject, *protect;
};

static void
meta_free(struct meta *m)
{
    free(m->created);
    free(m->title);
    free(m->subtitle);
    free(m->banner);
    free(m->protect);
    free(m->subject);
}

static int
run_meta(PGconn *conn, const struct report_def *def, const struct report_bound *b, struct meta *m,
         struct fb_error *err)
{
    if (!def->meta)
        return 0;
    const struct report_query *q = report_def_query(def, def->meta);
    PGresult *res = PQexecParams(conn, q->sql, (int)b->n, b->types, b->values, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error_fill(conn, res, err);
        report_blame_query(def, q, res, err);
    } else if (report_shape_meta(def, res, err) == 0) {
        char **slots[] = {&m->created, &m->title, &m->subtitle, &m->banner, &m->subject,
                          &m->protect};
        for (int i = 0; PQntuples(res) > 0 && i < PQnfields(res); i++)
            for (size_t k = 0; k < sizeof(slots) / sizeof(slots[0]); k++)
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
add_params_text(struct strbuf *sb, const struct report_def *def, const struct report_bound *b)
{
    for (size_t k = 0; k < def->nparams; k++)
        strbuf_addf(sb, "%s%s=%s", k ? ", " : "", def->params[k].name,
                    b->values[k] ? b->values[k] : "(default)");
}

int
report_run(PGconn *conn, const struct report_request *req, struct report_stats *stats,
           struct fb_error *err)
{
    const char *out_path = req->out_path;
    struct report_def *def = NULL;
    struct report_bound b = {0};
    struct meta m = {0};
    struct xlsx_book *book = NULL;
    PGresult *ctx = NULL;
    char *tmp = NULL;
    bool in_tx = false;
    int rc = -1;
    unsigned long long rows = 0;
    struct stat st;

    if (stats)
        memset(stats, 0, sizeof(*stats));
    if (!(def = report_find_def(req->name, err)))
        goto done;
    if (!out_path || !ends_with_xlsx(out_path)) {
        fb_error_set(err, FB_ERR_USAGE, "output file \"%s\" must end in \".xlsx\"",
                     out_path ? out_path : "");
        goto done;
    }
    if (req->sheet_rows &&
        (req->sheet_rows < REPORT_SHEET_ROWS_MIN || req->sheet_rows > REPORT_SHEET_ROWS_MAX)) {
        fb_error_set(err, FB_ERR_USAGE, "invalid number of rows per sheet: %lu",
                     (unsigned long)req->sheet_rows);
        fb_error_detail(err, "It must be between %d and %d.", REPORT_SHEET_ROWS_MIN,
                        REPORT_SHEET_ROWS_MAX);
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
    if (report_bind_params(conn, def, req->params, req->nparams, &b, err) < 0)
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
                      " coalesce($1::timestamptz, fmtbank.report_as_of(), pg_catalog.now()),"
                      " pg_catalog.current_setting('TimeZone')"
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
            .time_zone = PQgetvalue(ctx, 0, 5),
        };
        if (props.created < 1)
            props.created = 1;
        book = xlsx_open(tmp, &props, err);
        free(author_full);
        strbuf_release(&comments);
        if (!book)
            goto done;
    }
    if (req->sheet_rows)
        xlsx_set_max_rows(book, req->sheet_rows);
    {
        bool protect = false;
        if (m.protect && cell_parse_bool(m.protect, &protect) < 0) {
            fb_error_set(err, FB_ERR_INPUT, "report \"%s\": the meta column protect is \"%s\", "
                         "not a boolean", def->name, m.protect);
            goto done;
        }
        xlsx_set_protect(book, protect);
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
        int r = run_sheets(conn, book, def, i, n, &b, h, &rows, req->progress, err);
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
    if (stats) {
        stats->sheets = def->nsheets;
        stats->rows = rows;
    }
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
    report_bound_free(&b);
    report_def_free(def);
    return rc;
}
