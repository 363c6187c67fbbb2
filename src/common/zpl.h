/* zpl.h: cryovial labels in ZPL II (Zebra printers): a DataMatrix of the aliquot ID, the
 * human-readable ID, lot, donor code, processed date, expiry, and the status banner. */
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
    const char *status;    /* aliquot status: printed upper case in the banner */
    bool retained;         /* the retained sample: banner says so */
    bool reprint;          /* marked REPRINT */
};

/* Label geometry: 1.28 x 0.5 inch cryovial label at 300 dpi. */
#define ZPL_WIDTH_DOTS 384
#define ZPL_HEIGHT_DOTS 150

/* Appends one complete label (^XA ... ^XZ) to out. Text fields are hex-escaped (^FH) so no field
 * can inject ZPL commands. */
void zpl_label_append(struct strbuf *out, const struct zpl_label *l);

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
