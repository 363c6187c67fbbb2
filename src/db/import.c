/* import.c: read the CSV here, COPY the good rows (text format, every field escaped) into the
 * owner's staging table, one validating statement, commit only when every line is good. */
#include "db/import.h"
#include "db/db.h"
#include "db/retry.h"
#include "common/csv.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void
bad_line(FILE *bad_out, const char *label, long line, const char *msg, long *nbad)
{
    (*nbad)++;
    if (bad_out)
        fprintf(bad_out, "%s:%ld: %s\n", label, line, msg);
}

static void
copy_escape(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\': strbuf_adds(sb, "\\\\"); break;
        case '\t': strbuf_adds(sb, "\\t"); break;
        case '\n': strbuf_adds(sb, "\\n"); break;
        case '\r': strbuf_adds(sb, "\\r"); break;
        default: strbuf_addch(sb, *s);
        }
    }
}

static size_t
count_columns(const char *columns)
{
    size_t n = 1;
    for (const char *c = columns; *c; c++)
        n += *c == ',';
    return n;
}

/* The header must name the columns in order, as COPY's HEADER MATCH did: spec->columns, or
 * spec->columns followed by all of spec->optional. *with_optional says which. */
static int
check_header(const struct csv_record *rec, const struct import_spec *spec, bool *with_optional,
             struct strbuf *why)
{
    struct csv_record want = {0};
    const char *perr = NULL;
    int rc = 0;
    char *columns = spec->optional ? xasprintf("%s,%s", spec->columns, spec->optional)
                                   : xstrdup(spec->columns);
    size_t nbase = count_columns(spec->columns);
    if (csv_parse_line(columns, &want, &perr) != 1)
        die("bad import column list");
    free(columns);
    *with_optional = spec->optional && rec->nfields == want.nfields;
    /* without the optional columns, the first ones are compared */
    size_t nwant = *with_optional ? want.nfields : nbase;
    if (rec->nfields != nwant) {
        if (spec->optional)
            strbuf_addf(why, "wrong number of fields in header line: got %zu, expected %zu "
                             "(or %zu with %s)",
                        rec->nfields, nbase, nbase + count_columns(spec->optional),
                        spec->optional);
        else
            strbuf_addf(why, "wrong number of fields in header line: got %zu, expected %zu",
                        rec->nfields, nwant);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < nwant; i++)
        if (strcmp(rec->fields[i], want.fields[i]) != 0) {
            strbuf_addf(why, "column name mismatch in header line field %zu: got \"%s\", "
                             "expected \"%s\"", i + 1, rec->fields[i], want.fields[i]);
            rc = -1;
        }
    csv_record_free(&want);
    return rc;
}

/* Reads the file into COPY text rows ("line\tf1\t...\n") in copy; bad lines go to bad_out.
 * Returns 0, or -1 with err set when the file cannot be read or its header is wrong. */
static int
read_rows(const struct import_spec *spec, FILE *in, const char *label, FILE *bad_out,
          struct progress *prog, long *nbad, struct strbuf *copy, long *nrows,
          struct fb_error *err)
{
    struct strbuf data = STRBUF_INIT;
    if (csv_read_all(in, &data) < 0) {
        strbuf_release(&data);
        fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\"", label);
        return -1;
    }
    size_t ncols = count_columns(spec->columns), npad = 0;
    bool with_optional = false;
    struct csv_lines lines;
    csv_lines_init(&lines, strbuf_str(&data), data.len);
    struct csv_record rec = {0};
    struct strbuf why = STRBUF_INIT;
    char msg[256];
    int rc = 0, header = 1, r;
    const char *perr = NULL;
    progress_phase(prog, "reading lines");
    while ((r = csv_lines_next(&lines, &rec, &perr)) != 0) {
        long lineno = rec.line;
        progress_add(prog, 1);
        if (r < 0) {
            if (header) {
                fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\": line %ld: %s", label,
                             lineno, perr);
                rc = -1;
                break;
            }
            progress_end(prog); /* the bad line on a line of its own */
            bad_line(bad_out, label, lineno, perr, nbad);
            continue;
        }
        if (header) {
            header = 0;
            if (check_header(&rec, spec, &with_optional, &why) < 0) {
                fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\": line %ld: %s", label,
                             lineno, strbuf_str(&why));
                rc = -1;
                break;
            }
            if (with_optional)
                ncols = rec.nfields;
            else if (spec->optional)
                npad = count_columns(spec->optional);
            continue;
        }
        if (rec.nfields != ncols) {
            snprintf(msg, sizeof(msg), "%zu field%s, expected %zu (%s%s%s)", rec.nfields,
                     rec.nfields == 1 ? "" : "s", ncols, spec->columns,
                     with_optional ? "," : "", with_optional ? spec->optional : "");
            progress_end(prog); /* the bad line on a line of its own */
            bad_line(bad_out, label, lineno, msg, nbad);
            continue;
        }
        strbuf_addf(copy, "%ld", lineno);
        for (size_t i = 0; i < rec.nfields; i++) {
            strbuf_addch(copy, '\t');
            copy_escape(copy, rec.fields[i]);
        }
        for (size_t i = 0; i < npad; i++)
            strbuf_adds(copy, "\t\\N");
        strbuf_addch(copy, '\n');
        (*nrows)++;
    }
    csv_lines_free(&lines);
    csv_record_free(&rec);
    strbuf_release(&why);
    strbuf_release(&data);
    return rc;
}

/* A line the database reports as the same as data already stored (the prefix every stage
 * function gives it: schema/code/012_result.sql, 002_donor.sql). */
static bool
already_stored(const char *msg)
{
    return strncmp(msg, "already recorded: ", 18) == 0;
}

/* The bad lines of the stage function's answer. With nold: when every one of them only repeats
 * what is stored (a file sent again), nothing is written, *nold counts them and 1 is returned. */
static int
report_bad(PGresult *res, const char *label, FILE *bad_out, long *nbad, long *nold)
{
    long real = 0, old = 0;
    for (int i = 0; i < PQntuples(res); i++)
        if (!PQgetisnull(res, i, 1)) {
            if (already_stored(PQgetvalue(res, i, 1)))
                old++;
            else
                real++;
        }
    if (nold && real == 0 && old > 0) {
        *nold = old;
        return 1;
    }
    for (int i = 0; i < PQntuples(res); i++)
        if (!PQgetisnull(res, i, 1)) {
            (*nbad)++;
            if (bad_out)
                fprintf(bad_out, "%s:%s: %s\n", label, PQgetvalue(res, i, 0),
                        PQgetvalue(res, i, 1));
        }
    if (nold)
        *nold = old;
    return *nbad > 0 ? -1 : 0;
}

static void
refuse_bad(const char *label, long nbad, long nold, struct fb_error *err)
{
    if (nold > 0)
        fb_error_set(err, FB_ERR_INPUT, "could not import \"%s\": %ld bad line%s (%ld of them "
                     "already recorded)", label, nbad, nbad == 1 ? "" : "s", nold);
    else
        fb_error_set(err, FB_ERR_INPUT, "could not import \"%s\": %ld bad line%s", label, nbad,
                     nbad == 1 ? "" : "s");
    fb_error_detail(err, "Nothing was imported; correct the file and import it again.");
}

void
import_summary(const char *label, const char *one, const char *many, long nrows, long nold)
{
    if (nrows == 0 && nold > 0)
        fprintf(stderr, "nothing new in \"%s\": all %ld %s already recorded, nothing imported\n",
                label, nold, nold == 1 ? one : many);
    else
        fprintf(stderr, "imported %ld %s from \"%s\"\n", nrows, nrows == 1 ? one : many, label);
}

static int
import_tx(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
          FILE *bad_out, struct progress *prog, long *nbad, long *nold, PGresult **ids,
          struct fb_error *err)
{
    *nbad = 0;
    *ids = NULL;
    struct strbuf copy = STRBUF_INIT;
    long nrows = 0;
    PGresult *res = NULL;
    int rc = -1;
    if (read_rows(spec, in, label, bad_out, prog, nbad, &copy, &nrows, err) < 0)
        goto done;
    if (*nbad > 0) {
        refuse_bad(label, *nbad, 0, err);
        goto done;
    }
    if (db_run(conn, spec->begin_sql, 0, NULL, err) < 0)
        goto done;
    progress_phase(prog, "sending %ld rows", nrows);
    if (db_copy_in_buf(conn, spec->copy_sql, strbuf_str(&copy), copy.len, err) < 0) {
        char *msg = xasprintf("could not read \"%s\": %s", label, err->message);
        free(err->message);
        err->message = msg;
        err->kind = err->kind == FB_ERR_DBUNAVAIL || err->kind == FB_ERR_TRANSIENT ? err->kind
                                                                             : FB_ERR_INPUT;
        goto done;
    }
    progress_phase(prog, "checking and recording %ld rows", nrows);
    res = db_exec(conn, spec->stage_sql, 0, NULL, err);
    progress_end(prog);
    if (!res)
        goto done;
    int bad = report_bad(res, label, bad_out, nbad, nold);
    if (bad < 0) {
        refuse_bad(label, *nbad, nold ? *nold : 0, err);
        goto done;
    }
    if (bad == 0) {
        *ids = res;
        res = NULL;
    }
    rc = 0;
done:
    PQclear(res);
    strbuf_release(&copy);
    return rc;
}

int
import_csv_tx(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
              FILE *bad_out, long *nbad, PGresult **ids, struct fb_error *err)
{
    return import_tx(conn, spec, in, label, bad_out, NULL, nbad, NULL, ids, err);
}

/* One attempt of import_csv: the whole input is in memory so that a retry reads it again. */
struct import_run {
    const struct import_spec *spec;
    const char *buf;
    size_t len;
    const char *label;
    FILE *bad_out;
    struct progress *prog;
    long *nbad;
    long *nold;
    PGresult *ids;
};

static int
import_attempt(PGconn *conn, void *arg, struct fb_error *err)
{
    struct import_run *r = arg;
    static char empty[1];
    PQclear(r->ids);
    r->ids = NULL;
    *r->nbad = 0;
    *r->nold = 0;
    /* Serialise with every other writer of results, in the one lock order (067_locks.sql). */
    if (r->spec->lock_sql && db_run(conn, r->spec->lock_sql, 0, NULL, err) < 0)
        return -1;
    FILE *in = fmemopen(r->len ? (void *)r->buf : empty, r->len, "rb");
    if (!in)
        die("out of memory");
    int rc = import_tx(conn, r->spec, in, r->label, r->bad_out, r->prog, r->nbad, r->nold, &r->ids,
                       err);
    fclose(in);
    return rc;
}

int
import_csv(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
           FILE *bad_out, FILE *ids_out, struct progress *prog, long *nbad, long *nrows,
           long *nold, struct fb_error *err)
{
    *nbad = 0;
    *nrows = 0;
    *nold = 0;
    struct strbuf data = STRBUF_INIT;
    if (csv_read_all(in, &data) < 0) {
        strbuf_release(&data);
        fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\"", label);
        return -1;
    }
    struct import_run run = {spec, data.len ? strbuf_str(&data) : NULL, data.len, label, bad_out,
                             prog, nbad, nold, NULL};
    char *what = xasprintf("importing \"%s\"", label);
    int rc = db_tx_retry(conn, what, import_attempt, &run, err);
    free(what);
    if (rc == 0) {
        *nrows = run.ids ? PQntuples(run.ids) : 0;
        for (int i = 0; run.ids && ids_out && i < PQntuples(run.ids); i++)
            fprintf(ids_out, "%s\n", PQgetvalue(run.ids, i, 2));
    }
    PQclear(run.ids);
    strbuf_release(&data);
    return rc;
}
