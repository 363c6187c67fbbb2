/* csv.c: RFC 4180 records (quoted fields, doubled quotes, CRLF), line numbers kept for messages. */
#include "common/csv.h"
#include "common/strbuf.h"
#include "common/text.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static void
rec_reset(struct csv_record *rec)
{
    for (size_t i = 0; i < rec->nfields; i++)
        free(rec->fields[i]);
    rec->nfields = 0;
}

static void
rec_push(struct csv_record *rec, struct strbuf *field)
{
    if (rec->nfields == rec->cap) {
        rec->cap = rec->cap ? rec->cap * 2 : 8;
        rec->fields = xrealloc(rec->fields, rec->cap * sizeof(char *));
    }
    rec->fields[rec->nfields++] = strbuf_detach(field);
}

void
csv_record_free(struct csv_record *rec)
{
    rec_reset(rec);
    free(rec->fields);
    memset(rec, 0, sizeof(*rec));
}

/* Remembers the first field of the record that is not text (fields are counted from 1). */
static void
check_field(struct csv_record *rec, const struct strbuf *field, const char **bad)
{
    size_t at;
    char what[48];
    if (*bad || !text_check(field->buf ? field->buf : "", field->len, TEXT_KEEP_LINES, &at, what))
        return;
    snprintf(rec->why, sizeof(rec->why), "field %zu contains %s", rec->nfields + 1, what);
    *bad = rec->why;
}

/* Feeds characters from next() until the end of one record. first: the start of the input,
 * where a byte order mark is dropped. */
static int
parse(int (*next)(void *), void *arg, int *line, bool first, struct csv_record *rec,
      const char **why)
{
    static const char bom[] = "\xEF\xBB\xBF";
    struct strbuf field = STRBUF_INIT;
    int c, quoted = 0, any = 0, after_quote = 0;
    size_t nbom = first ? 0 : 3;
    const char *bad = NULL;

    rec_reset(rec);
    rec->line = *line;
    while ((c = next(arg)) != EOF) {
        if (nbom < 3) {
            if (c == (unsigned char)bom[nbom]) {
                nbom++;
                continue;
            }
            strbuf_add(&field, bom, nbom); /* not a byte order mark after all */
            nbom = 3;
        }
        any = 1;
        if (quoted) {
            if (c == '"') {
                int d = next(arg);
                if (d == '"') {
                    strbuf_addch(&field, '"');
                    continue;
                }
                quoted = 0;
                after_quote = 1;
                if (d == EOF)
                    break;
                c = d;
            } else {
                if (c == '\n') {
                    (*line)++;
                    if (field.len > 0 && field.buf[field.len - 1] == '\r')
                        field.len--; /* CRLF in a quoted field */
                }
                strbuf_addch(&field, (char)c);
                continue;
            }
        }
        if (c == '"' && field.len == 0 && !after_quote) {
            quoted = 1;
            continue;
        }
        if (c == ',') {
            check_field(rec, &field, &bad);
            rec_push(rec, &field);
            after_quote = 0;
            continue;
        }
        if (c == '\r')
            continue;
        if (c == '\n') {
            (*line)++;
            if (rec->nfields == 0 && field.len == 0 && !after_quote) {
                rec->line = *line; /* blank line: keep looking */
                any = 0;
                continue;
            }
            break;
        }
        if (after_quote) {
            if (!bad)
                bad = "unexpected character after a closing quote";
            continue; /* the rest of the record is read, not taken for the next one */
        }
        strbuf_addch(&field, (char)c);
    }
    if (quoted) {
        strbuf_release(&field);
        *why = "unterminated quoted field";
        return -1;
    }
    if (!any) {
        strbuf_release(&field);
        return 0;
    }
    check_field(rec, &field, &bad);
    rec_push(rec, &field);
    if (bad) {
        *why = bad;
        return -1;
    }
    return 1;
}

static int
next_file(void *arg)
{
    return getc((FILE *)arg);
}

int
csv_read(struct csv_reader *r, struct csv_record *rec, const char **why)
{
    bool first = r->line == 0;
    if (first)
        r->line = 1;
    return parse(next_file, r->in, &r->line, first, rec, why);
}

struct mem_src {
    const char *p;
};

static int
next_mem(void *arg)
{
    struct mem_src *m = arg;
    if (*m->p == '\0')
        return EOF;
    return (unsigned char)*m->p++;
}

int
csv_parse_line(const char *line, struct csv_record *rec, const char **why)
{
    struct mem_src m = {line};
    int lineno = 1;
    return parse(next_mem, &m, &lineno, true, rec, why);
}
