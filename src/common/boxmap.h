/* boxmap.h: the terminal map of a freezer box: a grid of positions, one letter per tube state,
 * optionally coloured with ANSI SGR sequences. */
#ifndef FMTBANK_BOXMAP_H
#define FMTBANK_BOXMAP_H
#include "common/strbuf.h"
#include <stdbool.h>

/* One letter per position, row-major: '.' free, or the tube's state. */
#define BOXMAP_FREE '.'
/* The letter for an aliquot status (and the retained sample, shown apart), '?' if unknown. */
char boxmap_code(const char *status, bool retained);

/* Appends the grid (column numbers on top, row letters at the left) and a legend of the letters
 * that occur. codes holds rows * cols letters. colour: wrap letters in SGR colour sequences. */
void boxmap_render(struct strbuf *out, int rows, int cols, const char *codes, bool colour);

/* True when colour should be used on stdout: it is a terminal and NO_COLOR is unset or empty. */
bool boxmap_colour_wanted(int fd);

#endif
