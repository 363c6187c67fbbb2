/* import.c: COPY into staging, one validating statement, commit only when every line is good. */
#include "db/import.h"
#include "db/db.h"
#include "db/retry.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

#include <stdlib.h>

static int
report_bad(PGresult *bad, const char *label, FILE *bad_out, long *nbad)
{
    *nbad = PQntuples(bad);
    for (int i = 0; i < PQntuples(bad); i++)
        if (bad_out)
            fprintf(bad_out, "%s:%s: %s\n", label, PQgetvalue(bad, i, 0), PQgetvalue(bad, i, 1));
    return *nbad > 0 ? -1 : 0;
}

int
import_csv_tx(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
              FILE *bad_out, long *nbad, struct fb_error *err)
{
    *nbad = 0;
    PGresult *bad = NULL;
    int rc = -1;
    if (db_run_script(conn, spec->setup_sql, err) < 0 ||
        db_copy_in(conn, spec->copy_sql, in, err) < 0) {
        char *msg = xasprintf("could not read \"%s\": %s", label, err->message);
        free(err->message);
        err->message = msg;
        err->kind = err->kind == FB_ERR_DBUNAVAIL || err->kind == FB_ERR_TRANSIENT ? err->kind
                                                                             : FB_ERR_INPUT;
        goto done;
    }
    bad = db_exec(conn, spec->validate_sql, 0, NULL, err);
    if (!bad)
        goto done;
    if (report_bad(bad, label, bad_out, nbad) < 0) {
        fb_error_set(err, FB_ERR_INPUT, "could not import \"%s\": %ld bad line%s", label, *nbad,
                     *nbad == 1 ? "" : "s");
        fb_error_detail(err, "Nothing was imported; correct the file and import it again.");
        goto done;
    }
    rc = 0;
done:
    PQclear(bad);
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
    /* Serialise with every other writer of results, in the one lock order (067_locks.sql). */
    if (r->spec->lock_sql && db_run(conn, r->spec->lock_sql, 0, NULL, err) < 0)
        return -1;
    FILE *in = fmemopen(r->len ? (void *)r->buf : empty, r->len, "rb");
    if (!in)
        die("out of memory");
    int rc = import_csv_tx(conn, r->spec, in, r->label, r->bad_out, r->nbad, err);
    fclose(in);
    if (rc == 0 && r->spec->ids_sql) {
        r->ids = db_exec(conn, r->spec->ids_sql, 0, NULL, err);
        if (!r->ids)
            rc = -1;
    }
    return rc;
}

int
import_csv(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
           FILE *bad_out, FILE *ids_out, long *nbad, long *nrows, struct fb_error *err)
{
    *nbad = 0;
    *nrows = 0;
    struct strbuf data = STRBUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
        strbuf_add(&data, chunk, n);
    if (ferror(in)) {
        fb_error_set(err, FB_ERR_INPUT, "could not read \"%s\": %s", label, strerror(errno));
        fb_error_detail(err, "Nothing was imported.");
        strbuf_release(&data);
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
            fprintf(ids_out, "%s\n", PQgetvalue(run.ids, i, 0));
    }
    PQclear(run.ids);
    strbuf_release(&data);
    return rc;
}
