/* csv.h: a small RFC 4180 reader for the files people hand us (questionnaires, donor lists). */
#ifndef FMTBANK_CSV_H
#define FMTBANK_CSV_H
#include <stdio.h>
#include <stddef.h>

struct csv_record {
    char **fields;
    size_t nfields;
    size_t cap;
    int line; /* line number where the record starts (1-based) */
};

struct csv_reader {
    FILE *in;
    int line;
};

/* Returns 1 when a record was read, 0 at end of input, -1 on a malformed record (unterminated
 * quote); *why then says what is wrong. Blank lines are skipped. */
int csv_read(struct csv_reader *r, struct csv_record *rec, const char **why);
/* Parse one line held in memory (no embedded newlines). Same return values. */
int csv_parse_line(const char *line, struct csv_record *rec, const char **why);
void csv_record_free(struct csv_record *rec);

#endif
