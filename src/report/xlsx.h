/* xlsx.h: the one xlsx writer of fmtbank (xlsx.c is the only file that includes xlsxwriter.h).
 * A workbook is written to the path given (the caller renames it into place), always in
 * libxlsxwriter's constant_memory mode: rows go to disk as they are written, so a sheet of a
 * million rows costs no more memory than a sheet of ten. Three kinds of sheet:
 *  - table:  heading, a bold frozen header row with an autofilter, then typed rows, streamed;
 *  - record: heading, then one line per field (label, value) for short one-record queries;
 *  - boxmap: heading, a legend, then one coloured grid per freezer box, streamed cell by cell.
 * Cell values arrive as PostgreSQL's text output (ISO dates) and are written as real Excel
 * dates (a timestamp's format showing its UTC offset) and numbers, booleans as the words yes and
 * no, text wrapped within its column (at most 60 characters wide; the row as tall as its text).
 * Every sheet prints landscape on A4, one page wide when that needs 60 % or more, else at 60 %. */
#ifndef FMTBANK_XLSX_H
#define FMTBANK_XLSX_H
#include "common/error.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cell_type { CELL_TEXT, CELL_INTEGER, CELL_NUMBER, CELL_DATE, CELL_TIMESTAMP, CELL_BOOLEAN };

/* Document properties. created is a Unix time (0: the time of writing). */
struct xlsx_props {
    const char *title, *subject, *author, *company, *comments, *keywords;
    int64_t created;
    const char *time_zone; /* shown after a timestamp value without a UTC offset; may be NULL */
};

/* Lines above a sheet's content: title (bold), optional subtitle, optional banner (bold red, also
 * in the printed page header: "DRAFT — NOT RELEASED"). */
struct xlsx_heading {
    const char *title, *subtitle, *banner;
};

struct xlsx_col {
    const char *header;
    enum cell_type type;
    const char *format; /* Excel number format, NULL for the type's default */
    double width;       /* characters, 0 for a default from the type and header */
};

/* A state drawn in box maps: its value, its legend label and its fill colour (0xRRGGBB). */
struct xlsx_state {
    const char *name, *label;
    uint32_t rgb;
};

struct xlsx_book;
struct xlsx_table;
struct xlsx_boxmap;

/* Creates the workbook at path (overwriting it). Returns NULL with err set. */
struct xlsx_book *xlsx_open(const char *path, const struct xlsx_props *props, struct fb_error *err);
/* Writes the file and frees the book. Returns 0, or -1 with err set (the file is then partial). */
int xlsx_close(struct xlsx_book *book, struct fb_error *err);
/* Frees the book without finishing the file (after an error). */
void xlsx_discard(struct xlsx_book *book);
/* Protects every sheet added from now on (no password: a signed record is not changed by
 * mistake; the autofilter still works). */
void xlsx_set_protect(struct xlsx_book *book, bool protect);
/* Rows per sheet before a table continues on a new sheet "NAME (2)" (Excel's limit by default;
 * lowered only by tests). */
void xlsx_set_max_rows(struct xlsx_book *book, uint32_t max_rows);

/* Table sheet. The table belongs to the book (freed with it); values[i] NULL is an empty cell. */
struct xlsx_table *xlsx_table_begin(struct xlsx_book *book, const char *sheet,
                                    const struct xlsx_heading *heading, const struct xlsx_col *cols,
                                    size_t ncols, struct fb_error *err);
int xlsx_table_row(struct xlsx_table *t, const char *const *values, struct fb_error *err);
/* Finishes the table: autofilter over what was written; empty_text (may be NULL) is written
 * below the header when there was no row. */
int xlsx_table_end(struct xlsx_table *t, const char *empty_text, struct fb_error *err);
/* Rows written so far, over all its sheets. */
uint64_t xlsx_table_rows(const struct xlsx_table *t);

/* Record sheet: values[r * ncols + c] for record r; each record is one value column. */
int xlsx_record_sheet(struct xlsx_book *book, const char *sheet, const struct xlsx_heading *heading,
                      const struct xlsx_col *cols, size_t ncols, const char *const *values,
                      size_t nrecords, const char *empty_text, struct fb_error *err);

/* Box-map sheet: the legend lists states in order. Then for each box, xlsx_boxmap_box() and its
 * occupied positions in (row, col) order, 1-based. A state not in the legend gets no fill. */
struct xlsx_boxmap *xlsx_boxmap_begin(struct xlsx_book *book, const char *sheet,
                                      const struct xlsx_heading *heading,
                                      const struct xlsx_state *states, size_t nstates,
                                      struct fb_error *err);
int xlsx_boxmap_box(struct xlsx_boxmap *m, const char *caption, int nrows, int ncols,
                    struct fb_error *err);
int xlsx_boxmap_cell(struct xlsx_boxmap *m, int row, int col, const char *label, const char *state,
                     struct fb_error *err);
int xlsx_boxmap_end(struct xlsx_boxmap *m, const char *empty_text, struct fb_error *err);

#endif
