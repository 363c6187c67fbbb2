/* csv.c: RFC 4180 records (quoted fields, doubled quotes, CRLF), line numbers kept for messages. */
#include "common/csv.h"
#include "common/strbuf.h"
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

/* Feeds characters from next() until the end of one record. */
static int
parse(int (*next)(void *), void *arg, int *line, struct csv_record *rec, const char **why)
{
    struct strbuf field = STRBUF_INIT;
    int c, quoted = 0, any = 0, after_quote = 0;

    rec_reset(rec);
    rec->line = *line;
    while ((c = next(arg)) != EOF) {
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
                if (c == '\n')
                    (*line)++;
                strbuf_addch(&field, (char)c);
                continue;
            }
        }
        if (c == '"' && field.len == 0 && !after_quote) {
            quoted = 1;
            continue;
        }
        if (c == ',') {
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
            strbuf_release(&field);
            *why = "unexpected character after a closing quote";
            return -1;
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
    rec_push(rec, &field);
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
    if (r->line == 0)
        r->line = 1;
    return parse(next_file, r->in, &r->line, rec, why);
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
    return parse(next_mem, &m, &lineno, rec, why);
}
