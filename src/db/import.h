/* import.h: all-or-nothing CSV import through a staging table: COPY the file into a temporary
 * table, validate it with one set-based function that returns every bad line, and keep the rows
 * only when there is none. Used by "donor import", "result import" and the daemon's inbox. */
#ifndef FMTBANK_IMPORT_H
#define FMTBANK_IMPORT_H
#include "common/error.h"
#include <libpq-fe.h>
#include <stdio.h>

struct import_spec {
    const char *setup_sql;    /* creates the pg_temp staging table (ON COMMIT DROP) */
    const char *copy_sql;     /* COPY pg_temp.<stage> (...) FROM STDIN WITH (FORMAT csv, HEADER MATCH) */
    const char *validate_sql; /* returns (line, message) for every bad row; inserts when none */
    const char *ids_sql;      /* after a good validation: the new identifiers, or NULL */
    const char *lock_sql;     /* run first in the transaction (fmtbank.write_lock()), or NULL */
};

/* Runs the import in one transaction, retried (db/retry.h) when a concurrent writer made it fail;
 * the input is read whole first so that a retry reads it again. Bad lines are written to bad_out as "label:LINE: message"
 * and counted in *nbad; then nothing is kept and err says so (FB_ERR_INPUT). New identifiers go
 * to ids_out (may be NULL). Returns 0 or -1. */
int import_csv(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
               FILE *bad_out, FILE *ids_out, long *nbad, long *nrows, struct fb_error *err);
/* The same steps inside the caller's open transaction (the daemon's inbox records the file in
 * it too): neither commits nor rolls back, and does not run ids_sql. Returns 0 when every line
 * is good, else -1 with the bad lines written and counted as by import_csv. */
int import_csv_tx(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
                  FILE *bad_out, long *nbad, struct fb_error *err);

#endif
