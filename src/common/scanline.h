/* scanline.h: classifying one line typed by a barcode scanner (box, position, tube, MODE, END)
 * and rejecting malformed IDs and bad check characters before they reach the database. */
#ifndef FMTBANK_SCANLINE_H
#define FMTBANK_SCANLINE_H
#include <stdbool.h>
#include <stddef.h>

enum scan_kind {
    SCAN_EMPTY,    /* nothing but blanks: ignored */
    SCAN_INVALID,  /* message (and detail, hint) say why */
    SCAN_BOX,      /* B + 6 digits + check */
    SCAN_POSITION, /* row letter + column number: C4 */
    SCAN_ALIQUOT,  /* L + 8 digits - 3 digits + check */
    SCAN_LOT,      /* a lot ID: valid, but not something to scan in a session */
    SCAN_FREEZER,  /* a freezer ID: likewise */
    SCAN_MODE,     /* MODE store|retrieve|audit|issue */
    SCAN_END,      /* END */
};

/* SCAN_MODE_ISSUE: a session started with --mode issue --recipient R --site S (src/cmd/scan.c). */
enum scan_mode { SCAN_MODE_STORE, SCAN_MODE_RETRIEVE, SCAN_MODE_AUDIT, SCAN_MODE_ISSUE };

#define SCANLINE_MAX 64

struct scan_line {
    enum scan_kind kind;
    char text[SCANLINE_MAX + 1]; /* trimmed, upper case */
    enum scan_mode mode;         /* SCAN_MODE */
    int row, col;                /* SCAN_POSITION, 1-based */
    char message[160];           /* SCAN_INVALID, SCAN_LOT, SCAN_FREEZER: in the database's words */
    const char *detail;          /* or NULL */
    const char *hint;            /* or NULL */
};

/* Parses one scanned line (without or with its line end). Never fails: bad input is SCAN_INVALID.
 */
void scanline_parse(const char *line, struct scan_line *out);
/* NULL, or what makes len bytes unreadable as a scan: "a NUL byte" or "invalid UTF-8". (Control
 * characters are refused by scanline_parse, in the database's words.) */
const char *scanline_unreadable(const char *line, size_t len);
/* The same for len bytes that may hold a NUL byte or invalid UTF-8 (both SCAN_INVALID). */
void scanline_parse_n(const char *line, size_t len, struct scan_line *out);
const char *scan_mode_name(enum scan_mode m);
/* Case-insensitive "store", "retrieve", "audit" or "issue". */
bool scan_mode_parse(const char *s, enum scan_mode *m);

#endif
