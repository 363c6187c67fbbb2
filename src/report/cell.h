/* cell.h: pure conversions between PostgreSQL's text output and spreadsheet cells (no DB, no
 * xlsx): ISO dates and timestamps, numbers, booleans, Excel's text and sheet-name limits, box
 * row labels. Kept apart so they are unit-tested on their own. */
#ifndef FMTBANK_CELL_H
#define FMTBANK_CELL_H
#include <stdbool.h>
#include <stddef.h>

struct cell_datetime {
    int year, month, day, hour, min;
    double sec;
    char offset[8]; /* the value's UTC offset as "+01:00" (seconds dropped), "" when none */
};

/* Parses PostgreSQL's ISO output of a date ("2026-11-27") or, with with_time, of a timestamp
 * ("2026-11-27 08:30:00.25+01"; a date alone is midnight). The offset is not applied (values are
 * already in the session's time zone, and Excel has none) but kept in out->offset, for the cell's
 * number format to show. Returns 0, or -1 for what Excel cannot
 * hold as a date (infinity, BC, before 1900, malformed): the caller writes that as text. */
int cell_parse_datetime(const char *s, bool with_time, struct cell_datetime *out);
/* A finite number ("12", "-3.5e2", "1.50"). Returns 0 or -1 (NaN, Infinity, malformed). */
int cell_parse_number(const char *s, double *out);
/* PostgreSQL's boolean output ("t"/"f"). Returns 0 or -1. */
int cell_parse_bool(const char *s, bool *out);

/* Excel holds at most this many characters in a cell. */
#define CELL_TEXT_MAX 32767
/* Byte length of the first max_chars UTF-8 characters of s (all of s when shorter). */
size_t cell_utf8_prefix(const char *s, size_t max_chars);
/* Number of UTF-8 characters in s. */
size_t cell_utf8_len(const char *s);

/* Excel's rules for a sheet name: 1 to 31 characters, none of []:*?/\, no leading or trailing
 * apostrophe. Returns NULL when valid, else why not (a phrase for a message). */
const char *cell_sheet_name_problem(const char *name);
/* Row label of a box position: 1 → "A", 26 → "Z", 27 → "AA" (bijective base 26). buf ≥ 8 bytes. */
void cell_row_label(int row, char *buf);

#endif
