/* import.h: all-or-nothing CSV import through a staging table. The file is read here, in C
 * (src/common/csv.c): one UTF-8 BOM is stripped, CRLF accepted, and a line holding a NUL byte,
 * invalid UTF-8, a control character other than tab, an unterminated quote or the wrong number of
 * fields is a bad line; every byte of a good line is data (a line "\." too). The rows then go to
 * the owner's staging table fmtbank_stage.<stage> by COPY in text format (each field escaped),
 * each with the line number where it starts, and one set-based function validates them, returns
 * every bad line and stores the rows only when there is none. Used by "donor import", "result
 * import" and the daemon's inbox. */
#ifndef FMTBANK_IMPORT_H
#define FMTBANK_IMPORT_H
#include "common/error.h"
#include <libpq-fe.h>
#include <stdio.h>

struct import_spec {
    const char *columns;   /* the header the file must have, "a,b,c" */
    const char *begin_sql; /* SELECT fmtbank.<x>_import_begin(): clears this backend's stage */
    const char *copy_sql;  /* COPY fmtbank_stage.<stage> (line, a, b, c) FROM STDIN */
    const char *stage_sql; /* returns (line, message, id): the bad lines, or every stored row */
    const char *lock_sql;  /* run first in the transaction (fmtbank.write_lock()), or NULL */
    const char *optional;  /* columns the header may add after columns, all of them or none
                            * ("x,y"), or NULL; copy_sql names them too, and a file without
                            * them stages them NULL */
};

/* Runs the import in one transaction, retried (db/retry.h) when a concurrent writer made it
 * fail; the input is read whole first so that a retry reads it again. Bad lines are written to bad_out as "label:LINE: message"
 * and counted in *nbad; then nothing is kept and err says so (FB_ERR_INPUT). New identifiers go
 * to ids_out (may be NULL), one per line in file order, and are counted in *nrows. A file whose
 * every line the database reports as "already recorded: ..." (the same file sent again) is
 * "nothing new": 0 is returned, nothing is stored or written, and *nold counts those lines; when
 * other lines are bad too, every line is reported and *nold says how many were already recorded.
 * prog (may be NULL; common/progress.h) shows the phases: lines read, rows sent, rows checked
 * and recorded. Returns 0 or -1. */
struct progress;
int import_csv(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
               FILE *bad_out, FILE *ids_out, struct progress *prog, long *nbad, long *nrows,
               long *nold, struct fb_error *err);
/* The one summary line of an import on stderr: "imported N <many> from "FILE"", or "nothing new
 * in "FILE": all N <many> already recorded, nothing imported". */
void import_summary(const char *label, const char *one, const char *many, long nrows, long nold);
/* The same steps inside the caller's open transaction (the daemon's inbox records the file in
 * it too): neither commits nor rolls back. Returns 0 when every line is good, with *ids holding
 * the stored rows (line, NULL, id; the caller PQclears it), else -1 with the bad lines written
 * and counted as by import_csv. */
int import_csv_tx(PGconn *conn, const struct import_spec *spec, FILE *in, const char *label,
                  FILE *bad_out, long *nbad, PGresult **ids, struct fb_error *err);

#endif
