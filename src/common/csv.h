/* csv.h: a small RFC 4180 reader for the files people hand us (questionnaires, donor lists). */
#ifndef FMTBANK_CSV_H
#define FMTBANK_CSV_H
#include "common/strbuf.h"
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

struct csv_record {
    char **fields;
    size_t nfields;
    size_t cap;
    int line; /* line number where the record starts (1-based) */
    char why[96]; /* a message about this record, when *why points here */
};

struct csv_reader {
    FILE *in;
    int line;
};

/* Returns 1 when a record was read, 0 at end of input, -1 on a malformed record (unterminated
 * quote, a field that is not text: a NUL byte, invalid UTF-8, a control character other than
 * tab or a newline in a quoted field); *why then says what is wrong, and the reader is at the
 * next record. Blank lines are skipped; CRLF line ends are accepted and a UTF-8 byte order mark
 * at the start of the input is dropped. */
int csv_read(struct csv_reader *r, struct csv_record *rec, const char **why);
/* Parse one line held in memory (no embedded newlines). Same return values. */
int csv_parse_line(const char *line, struct csv_record *rec, const char **why);
/* The same with another delimiter (',' or ';'). */
int csv_parse_line_delim(const char *line, char delim, struct csv_record *rec, const char **why);
void csv_record_free(struct csv_record *rec);

/* The one path of every CSV file people hand us (donor, result and reading imports, the daemon's
 * inbox, questionnaires): the file held in memory, read line by line. One UTF-8 byte order mark
 * at the start is dropped, CRLF line ends are accepted, blank lines are skipped, and the
 * delimiter is taken from the first line (the header): ';' when it has more unquoted semicolons
 * than commas (what a European spreadsheet writes), else ','. A line holding a NUL byte, invalid
 * UTF-8, a control character other than tab or an unterminated quote is a bad line. */
struct csv_lines {
    const char *p, *end;
    long line;    /* the number of the line last read (1-based) */
    char delim;   /* 0 until the header is read */
    char msg[256];
    struct strbuf buf;
};
/* Appends everything in from to sb. Returns 0, or -1 on a read error. */
int csv_read_all(FILE *in, struct strbuf *sb);
void csv_lines_init(struct csv_lines *l, const char *buf, size_t len);
/* 1: a record (rec->line its line), 0: end of input, -1: a bad line (rec->line, *why). */
int csv_lines_next(struct csv_lines *l, struct csv_record *rec, const char **why);
void csv_lines_free(struct csv_lines *l);
/* Checks the bytes of one line (without its line feed; a final carriage return is allowed): NUL,
 * invalid UTF-8 (overlong forms, surrogates and code points past U+10FFFF too), and control
 * characters other than tab (C0, DEL, C1) are refused. Returns NULL when the line is good, else a
 * message naming the first bad byte's position (1-based), written into buf. */
const char *csv_check_bytes(const char *line, size_t len, char *buf, size_t bufsize);

#endif
