/* import.c: COPY into staging, one validating statement, commit only when every line is good. */
#include "db/import.h"
#include "db/db.h"
#include "common/util.h"

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
        err->kind = err->kind == FB_ERR_DBUNAVAIL ? FB_ERR_DBUNAVAIL : FB_ERR_INPUT;
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

int
import_csv(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
           FILE *bad_out, FILE *ids_out, long *nbad, long *nrows, struct fb_error *err)
{
    *nbad = 0;
    *nrows = 0;
    if (db_run(conn, "BEGIN", 0, NULL, err) < 0)
        return -1;
    PGresult *ids = NULL;
    int rc = -1;
    if (import_csv_tx(conn, spec, in, label, bad_out, nbad, err) < 0)
        goto done;
    if (spec->ids_sql) {
        ids = db_exec(conn, spec->ids_sql, 0, NULL, err);
        if (!ids)
            goto done;
        *nrows = PQntuples(ids);
    }
    if (db_run(conn, "COMMIT", 0, NULL, err) < 0)
        goto done;
    for (int i = 0; ids && ids_out && i < PQntuples(ids); i++)
        fprintf(ids_out, "%s\n", PQgetvalue(ids, i, 0));
    rc = 0;
done:
    if (rc < 0)
        PQclear(PQexec(conn, "ROLLBACK"));
    PQclear(ids);
    return rc;
}
