/* text.h: bytes from outside (files, scanners, file names) checked as text, and escaped for
 * messages so that a control character or an invalid byte never reaches a terminal or the
 * database raw. */
#ifndef FMTBANK_TEXT_H
#define FMTBANK_TEXT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Flags of text_escape and text_check. */
#define TEXT_KEEP_TAB 1u   /* tab is data (text_check) or printed as is (text_escape) */
#define TEXT_KEEP_LINES 2u /* newline (and tab) is data or printed as is */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one (overlong
 * forms, surrogates and values above U+10FFFF are not valid). */
size_t text_utf8_len(const char *s, size_t n);
/* The first byte of s[0..n) that is not text: a NUL, invalid UTF-8, or a control character (C0,
 * DEL, C1; tab only unless TEXT_KEEP_TAB). Returns NULL when all is text, else what is wrong
 * ("a NUL byte", "invalid UTF-8", "a control character (0x1B)") in why (at least 48 bytes),
 * with *at the byte offset. */
const char *text_check(const char *s, size_t n, unsigned flags, size_t *at, char *why);
/* A copy of s[0..n) that is valid UTF-8 without control characters: those and invalid bytes
 * become \xNN (tab \t, newline \n, carriage return \r), C1 controls \u0085. Caller frees. */
char *text_escape(const char *s, size_t n, unsigned flags);
/* The same for a C string. */
char *text_escape_str(const char *s, unsigned flags);
/* A stream that writes to out what is written to it, escaped as text_escape(TEXT_KEEP_LINES)
 * does (a UTF-8 sequence cut between two writes is kept whole). For messages that quote lines of
 * files (an import's bad lines on stderr). fclose() it (out stays open); NULL when out of memory. */
FILE *text_escaping_stream(FILE *out);
/* 3 when s starts with a UTF-8 byte order mark, else 0. */
size_t text_bom_len(const char *s, size_t n);

#endif
