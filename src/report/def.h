/* def.h: report definitions (reports/NAME.report + reports/NAME.sql, format in reports/README.md)
 * parsed into struct report_def. Pure: no database, no xlsx; report_run.c and report_check.c run
 * and check them. */
#ifndef FMTBANK_REPORT_DEF_H
#define FMTBANK_REPORT_DEF_H
#include "common/error.h"
#include "report/xlsx.h"
#include <stdbool.h>
#include <stddef.h>

struct report_param {
    char *name;
    enum cell_type type;
    char *def; /* default value as text, NULL: null when not given */
    bool required;
    bool end_of_day; /* timestamp: a date alone means the end of that day (the next midnight) */
    char *min, *max; /* integer, number, date, timestamp: bounds (included), NULL: none */
    char *help;
    int line;
};

struct report_column {
    char *name; /* the query's column name */
    enum cell_type type;
    double width; /* 0: default */
    char *header;
    char *format; /* NULL: the type's default */
    int line;
};

enum sheet_kind { SHEET_TABLE, SHEET_RECORD, SHEET_BOXMAP };

struct report_color {
    char *state, *label;
    uint32_t rgb;
    int line;
};

struct report_sheet {
    char *name;
    enum sheet_kind kind;
    char *query;  /* name of a query in NAME.sql */
    char *title;  /* NULL: the report's title */
    char *empty;  /* text shown when the query returns no row, NULL: a default */
    char *filter; /* table, box map: a boolean column; only rows where it is true are written */
    struct report_column *cols;
    size_t ncols;
    struct report_color *colors; /* boxmap: legend, in order */
    size_t ncolors;
    int line;
};

struct report_query {
    char *name;
    char *sql;
    int line; /* line of NAME.sql where the query text begins */
};

struct report_def {
    char *name;
    char *layout_file, *sql_file; /* paths, for messages */
    char *title, *description;
    char *meta; /* NULL, or the query giving created / title / subtitle / banner / subject */
    struct report_param *params;
    size_t nparams;
    struct report_sheet *sheets;
    size_t nsheets;
    struct report_query *queries;
    size_t nqueries;
};

/* The columns a box-map query returns, in this order. */
extern const char *const report_boxmap_columns[];
#define REPORT_BOXMAP_NCOLS 8
/* The columns a meta query may return (any subset, any order). */
extern const char *const report_meta_columns[];

/* Parses a definition from the text of its two files (file names are for messages). Returns a
 * definition, or NULL with err set (FB_ERR_INPUT) naming the file and line. */
struct report_def *report_def_parse(const char *name, const char *layout, const char *layout_file,
                                    const char *sql, const char *sql_file, struct fb_error *err);
/* Reads DIR/NAME.report and DIR/NAME.sql and parses them. */
struct report_def *report_def_load(const char *dir, const char *name, struct fb_error *err);
void report_def_free(struct report_def *def);

const struct report_query *report_def_query(const struct report_def *def, const char *name);
const char *cell_type_name(enum cell_type t);
/* True for a valid report name: lower-case letters, digits, '_' and '-', 1 to 63 characters. */
bool report_name_valid(const char *name);

#endif
