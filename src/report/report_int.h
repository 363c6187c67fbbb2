/* report_int.h: what the parts of the report engine share (not for use outside src/report/):
 *   report_find.c    where definitions live: the reports directories, finding one, listing all
 *   report_shape.c   whether a query's result columns fit the sheets that show them
 *   report_params.c  --param NAME=VALUE: matching, validating and binding
 *   report_run.c     running one report into an xlsx workbook (report_run)
 *   report_check.c   checking definitions against the database (report_check) */
#ifndef FMTBANK_REPORT_INT_H
#define FMTBANK_REPORT_INT_H
#include "common/error.h"
#include "common/strbuf.h"
#include "report/def.h"
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

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

/* ---- report_find.c */

/* Loads report `name` from the first directory that has NAME.report; FB_ERR_NOTFOUND when none
 * has. */
struct report_def *report_find_def(const char *name, struct fb_error *err);
/* Names of every definition, sorted, each once (the first directory holding a name wins). */
char **report_all_names(size_t *count);
void report_names_free(char **names, size_t n);

/* ---- report_shape.c */

/* Checks a sheet's columns against a result (of a query or a described statement); map (may be
 * NULL) receives the result column of each of the sheet's columns (table: its declared columns;
 * box map: box .. state), then that of its filter column (-1 without one). */
int report_shape_sheet(const struct report_def *def, const struct report_sheet *sh,
                       const PGresult *res, int *map, struct fb_error *err);
/* Checks the columns of the meta query's result. */
int report_shape_meta(const struct report_def *def, const PGresult *res, struct fb_error *err);
/* False for a row (the only row of res) the sheet's filter leaves out; map as set by
 * report_shape_sheet. */
bool report_sheet_wants(const struct report_sheet *sh, const int *map, const PGresult *res);

/* ---- report_params.c */

/* The report's parameters as bound to its queries, in declaration order. */
struct report_bound {
    size_t n;
    const char **values; /* normalised text, NULL for null */
    char **owned;
    Oid *types;
};

/* The type OID a parameter of type t is bound as. */
Oid report_param_oid(enum cell_type t);
/* Every parameter of def typed and null (what "report check" prepares the queries with). */
void report_bound_nulls(const struct report_def *def, struct report_bound *b);
void report_bound_free(struct report_bound *b);
/* Validates one value through the database (the same date/time rules as every command); returns
 * the normalised text (malloc'd), or NULL with err set. */
char *report_param_normalise(PGconn *conn, const struct report_param *par, const char *value,
                             struct fb_error *err);
/* Checks a normalised value against the parameter's declared min and max. Returns 0 when it is
 * inside, or -1 with err set: FB_ERR_INPUT naming the parameter and the bounds. */
int report_param_check_bounds(PGconn *conn, const struct report_param *par, const char *given,
                              const char *value, struct fb_error *err);
/* Matches "K=V" strings to the declared parameters (usage errors), then normalises every value
 * given or defaulted (input errors). Runs inside the report's transaction. */
int report_bind_params(PGconn *conn, const struct report_def *def, const char *const *params,
                       size_t nparams, struct report_bound *b, struct fb_error *err);

/* ---- report_check.c */

/* After a query of def failed with err filled from res: when PostgreSQL could not run it at all
 * (class 42 but for permission), rewrites err to blame the definition, naming the query and its
 * line in NAME.sql. */
void report_blame_query(const struct report_def *def, const struct report_query *q,
                        const PGresult *res, struct fb_error *err);

#endif
