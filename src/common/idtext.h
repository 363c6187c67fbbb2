/* idtext.h: identifiers as people read them. Every scanned or typed ID ends in its MOD 37-2 check
 * character (checkchar.h); where a person reads an ID (tables, label text, report cells) the check
 * character is set apart from the serial, "L26000001-001 ·1", so dose 1 does not read "-0011" and
 * is not mistaken for dose 11 or the retained sample. Scanners (the DataMatrix), JSON, TSV and the
 * IDs a command prints for scripts keep the plain whole ID "L26000001-0011". Input accepts both. */
#ifndef FMTBANK_IDTEXT_H
#define FMTBANK_IDTEXT_H
#include "common/strbuf.h"
#include <stdbool.h>
#include <stddef.h>

/* What goes between the serial and the check character when an ID is displayed: a space and
 * U+00B7 MIDDLE DOT (UTF-8). */
#define IDTEXT_SEP " \xC2\xB7"

/* The kind of fmtbank ID s is ("freezer", "box", "lot", "aliquot", "case", "event") when it has
 * that shape and a valid check character, else NULL. Upper case only (IDs are stored so). */
const char *idtext_kind(const char *s);
/* Appends s to out as a person reads it: an ID (idtext_kind) with IDTEXT_SEP before its check
 * character, anything else unchanged. The one rendering of IDs in fmtbank. */
void idtext_display(struct strbuf *out, const char *s);
/* Room for the displayed form of the longest ID, with its terminating NUL. */
#define IDTEXT_SHOWN_MAX 24
/* The displayed form of s written into out when s is an ID (returns out), or NULL if s is not
 * one. Allocates nothing: a report shows millions. */
const char *idtext_display_into(const char *s, char out[IDTEXT_SHOWN_MAX]);
/* The displayed form of s if it is an ID (allocated), or NULL if s is not one. */
char *idtext_display_dup(const char *s);
/* Turns the displayed form back into the plain ID in place: blanks and one U+00B7 before the last
 * character are removed ("L26000001-001 ·1" → "L26000001-0011"; "L26000001-001·1" too). Anything
 * else is left as it is. Returns true when it changed s. */
bool idtext_plain(char *s);

#endif
