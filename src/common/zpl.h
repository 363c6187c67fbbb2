/* zpl.h: labels in ZPL II (Zebra printers) for 203 and 300 dpi printers. A cryovial label: a
 * DataMatrix of the aliquot ID (the plain ID, what scanners read), the ID as people read it (check
 * character set apart, common/idtext.h), lot, donor code, dose n of N (or "Retained sample"),
 * processed and expiry dates and the storage temperature. No status band: a tube's status changes
 * while it sits at -80 °C, so it is scanned (fmtbank scan, aliquot show), never printed. A box
 * label: a DataMatrix of the box ID, the ID, its freezer, rack, size and storage temperature. */
#ifndef FMTBANK_ZPL_H
#define FMTBANK_ZPL_H
#include "common/strbuf.h"
#include <stdbool.h>

struct zpl_label {
    const char *id;        /* aliquot ID: encoded in the DataMatrix and printed */
    const char *lot;       /* lot ID */
    const char *donor;     /* pseudonymous donor code */
    const char *processed; /* YYYY-MM-DD */
    const char *expires;   /* YYYY-MM-DD */
    const char *storage;   /* storage temperature as printed, e.g. "-80 °C" */
    int dose, doses;       /* dose n of N */
    bool retained;         /* the retained sample: printed instead of "Dose n of N" */
    bool reprint;          /* marked REPRINT */
    int dpi;               /* ZPL_DPI_203 or ZPL_DPI_300 (0: 300) */
};

struct zpl_box_label {
    const char *id;      /* box ID: encoded in the DataMatrix and printed */
    const char *freezer; /* freezer name */
    const char *freezer_id;
    const char *rack;    /* or NULL */
    const char *storage; /* the freezer's temperature as printed, e.g. "-80 °C" */
    int rows, cols;
    int dpi;
};

/* Label geometry: the common 1.28 x 0.5 inch cryovial label (32.5 x 12.7 mm), laid out in
 * 300-dpi dots; on a 203-dpi printer every coordinate, font and module size is scaled by
 * 203/300 (rounded), so the printed label has the same size and layout. */
#define ZPL_DPI_203 203
#define ZPL_DPI_300 300
#define ZPL_WIDTH_DOTS 384  /* at 300 dpi; 260 at 203 dpi */
#define ZPL_HEIGHT_DOTS 150 /* at 300 dpi; 102 at 203 dpi */

/* v dots at 300 dpi in dots at dpi (rounded to the nearest dot). */
int zpl_scale(int v, int dpi);

/* Appends one complete label (^XA ... ^XZ) to out. Text fields are hex-escaped (^FH) so no field
 * can inject ZPL commands. */
void zpl_label_append(struct strbuf *out, const struct zpl_label *l);
void zpl_box_label_append(struct strbuf *out, const struct zpl_box_label *b);

/* A trial kit label (product.md §14): what a blinded site may see and nothing else - the trial,
 * the kit number (also as the DataMatrix) and the storage and handling text. The layout and every
 * fixed text are the same for every arm, so the labels of two kits differ only in the number. */
struct zpl_kit_label {
    const char *kit;      /* kit number: encoded in the DataMatrix and printed */
    const char *trial;    /* trial code */
    const char *handling; /* storage and handling text (wrapped over three lines) */
};

void zpl_kit_label_append(struct strbuf *out, const struct zpl_kit_label *k);

#endif
