/* import.c: read the CSV here, COPY the good rows (text format, every field escaped) into the
 * owner's staging table, one validating statement, commit only when every line is good. */
#include "db/import.h"
#include "db/db.h"
#include "db/retry.h"
#include "common/csv.h"
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

static int
read_all(FILE *in, struct strbuf *sb)
{
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        strbuf_add(sb, buf, n);
    return ferror(in) ? -1 : 0;
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
          long *nbad, struct strbuf *copy, long *nrows, struct fb_error *err)
{
    struct strbuf data = STRBUF_INIT;
    if (read_all(in, &data) < 0) {
        strbuf_release(&data);
        fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\"", label);
        return -1;
    }
    size_t ncols = count_columns(spec->columns), npad = 0;
    bool with_optional = false;
    const char *p = strbuf_str(&data), *end = p + data.len;
    if (data.len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    struct csv_record rec = {0};
    struct strbuf line = STRBUF_INIT, why = STRBUF_INIT;
    char msg[256];
    int rc = 0, header = 1;
    for (long lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *next = nl ? nl + 1 : end;
        const char *bad = csv_check_bytes(p, len, msg, sizeof(msg));
        if (bad) {
            if (header) {
                fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\": line 1: %s", label, bad);
                rc = -1;
                break;
            }
            bad_line(bad_out, label, lineno, bad, nbad);
            p = next;
            continue;
        }
        if (len > 0 && p[len - 1] == '\r')
            len--;
        strbuf_reset(&line);
        strbuf_add(&line, p, len);
        p = next;
        if (len == 0)
            continue; /* blank line */
        const char *perr = NULL;
        int r = csv_parse_line(strbuf_str(&line), &rec, &perr);
        if (r < 0) {
            if (header) {
                fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\": line %ld: %s", label,
                             lineno, perr);
                rc = -1;
                break;
            }
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
    csv_record_free(&rec);
    strbuf_release(&line);
    strbuf_release(&why);
    strbuf_release(&data);
    return rc;
}

static int
report_bad(PGresult *res, const char *label, FILE *bad_out, long *nbad)
{
    for (int i = 0; i < PQntuples(res); i++)
        if (!PQgetisnull(res, i, 1)) {
            (*nbad)++;
            if (bad_out)
                fprintf(bad_out, "%s:%s: %s\n", label, PQgetvalue(res, i, 0),
                        PQgetvalue(res, i, 1));
        }
    return *nbad > 0 ? -1 : 0;
}

static void
refuse_bad(const char *label, long nbad, struct fb_error *err)
{
    fb_error_set(err, FB_ERR_INPUT, "could not import \"%s\": %ld bad line%s", label, nbad,
                 nbad == 1 ? "" : "s");
    fb_error_detail(err, "Nothing was imported; correct the file and import it again.");
}

int
import_csv_tx(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
              FILE *bad_out, long *nbad, PGresult **ids, struct fb_error *err)
{
    *nbad = 0;
    *ids = NULL;
    struct strbuf copy = STRBUF_INIT;
    long nrows = 0;
    PGresult *res = NULL;
    int rc = -1;
    if (read_rows(spec, in, label, bad_out, nbad, &copy, &nrows, err) < 0)
        goto done;
    if (*nbad > 0) {
        refuse_bad(label, *nbad, err);
        goto done;
    }
    if (db_run(conn, spec->begin_sql, 0, NULL, err) < 0)
        goto done;
    if (db_copy_in_buf(conn, spec->copy_sql, strbuf_str(&copy), copy.len, err) < 0) {
        char *msg = xasprintf("could not read \"%s\": %s", label, err->message);
        free(err->message);
        err->message = msg;
        err->kind = err->kind == FB_ERR_DBUNAVAIL || err->kind == FB_ERR_TRANSIENT ? err->kind
                                                                             : FB_ERR_INPUT;
        goto done;
    }
    res = db_exec(conn, spec->stage_sql, 0, NULL, err);
    if (!res)
        goto done;
    if (report_bad(res, label, bad_out, nbad) < 0) {
        refuse_bad(label, *nbad, err);
        goto done;
    }
    *ids = res;
    res = NULL;
    rc = 0;
done:
    PQclear(res);
    strbuf_release(&copy);
    return rc;
}

/* One attempt of import_csv: the whole input is in memory so that a retry reads it again. */
struct import_run {
    const struct import_spec *spec;
    const char *buf;
    size_t len;
    const char *label;
    FILE *bad_out;
    long *nbad;
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
    /* Serialise with every other writer of results, in the one lock order (067_locks.sql). */
    if (r->spec->lock_sql && db_run(conn, r->spec->lock_sql, 0, NULL, err) < 0)
        return -1;
    FILE *in = fmemopen(r->len ? (void *)r->buf : empty, r->len, "rb");
    if (!in)
        die("out of memory");
    int rc = import_csv_tx(conn, r->spec, in, r->label, r->bad_out, r->nbad, &r->ids, err);
    fclose(in);
    return rc;
}

int
import_csv(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
           FILE *bad_out, FILE *ids_out, long *nbad, long *nrows, struct fb_error *err)
{
    *nbad = 0;
    *nrows = 0;
    struct strbuf data = STRBUF_INIT;
    if (read_all(in, &data) < 0) {
        strbuf_release(&data);
        fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\"", label);
        return -1;
    }
    struct import_run run = {spec, data.len ? strbuf_str(&data) : NULL, data.len, label, bad_out,
                             nbad, NULL};
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
