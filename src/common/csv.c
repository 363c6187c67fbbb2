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
parse(int (*next)(void *), void *arg, int *line, bool first, char delim, struct csv_record *rec,
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
        if (c == delim) {
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
    return parse(next_file, r->in, &r->line, first, ',', rec, why);
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
csv_parse_line_delim(const char *line, char delim, struct csv_record *rec, const char **why)
{
    struct mem_src m = {line};
    int lineno = 1;
    /* One line of a file the caller reads: a byte order mark is the caller's to strip (once, at
     * the start of the file), so here it is data. */
    return parse(next_mem, &m, &lineno, false, delim, rec, why);
}

int
csv_parse_line(const char *line, struct csv_record *rec, const char **why)
{
    return csv_parse_line_delim(line, ',', rec, why);
}

/* The header's delimiter: ';' when it has more unquoted semicolons than commas, else ','. */
static char
detect_delim(const char *p, size_t len)
{
    size_t commas = 0, semis = 0;
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '"')
            quoted = !quoted;
        else if (!quoted && p[i] == ',')
            commas++;
        else if (!quoted && p[i] == ';')
            semis++;
    }
    return semis > commas ? ';' : ',';
}

int
csv_read_all(FILE *in, struct strbuf *sb)
{
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        strbuf_add(sb, buf, n);
    return ferror(in) ? -1 : 0;
}

void
csv_lines_init(struct csv_lines *l, const char *buf, size_t len)
{
    memset(l, 0, sizeof(*l));
    l->p = buf ? buf : "";
    l->end = l->p + (buf ? len : 0);
    if (len >= 3 && memcmp(l->p, "\xEF\xBB\xBF", 3) == 0)
        l->p += 3;
}

int
csv_lines_next(struct csv_lines *l, struct csv_record *rec, const char **why)
{
    while (l->p < l->end) {
        const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
        size_t len = nl ? (size_t)(nl - l->p) : (size_t)(l->end - l->p);
        const char *start = l->p;
        l->p = nl ? nl + 1 : l->end;
        l->line++;
        rec->line = (int)l->line;
        const char *bad = csv_check_bytes(start, len, l->msg, sizeof(l->msg));
        if (bad) {
            *why = bad;
            return -1;
        }
        if (len > 0 && start[len - 1] == '\r')
            len--;
        if (len == 0)
            continue; /* blank line */
        strbuf_reset(&l->buf);
        strbuf_add(&l->buf, start, len);
        if (!l->delim)
            l->delim = detect_delim(start, len);
        int r = csv_parse_line_delim(strbuf_str(&l->buf), l->delim, rec, why);
        rec->line = (int)l->line;
        if (r < 0 && *why == rec->why) { /* the message lives in rec: keep a copy */
            snprintf(l->msg, sizeof(l->msg), "%s", rec->why);
            *why = l->msg;
        }
        if (r != 0)
            return r;
    }
    return 0;
}

void
csv_lines_free(struct csv_lines *l)
{
    strbuf_release(&l->buf);
}

/* Length of the valid UTF-8 sequence at p (n bytes available) and its code point, or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n, unsigned long *cp)
{
    size_t len;
    unsigned long min;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        len = 2;
        min = 0x80;
        *cp = p[0] & 0x1Fu;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        len = 3;
        min = 0x800;
        *cp = p[0] & 0x0Fu;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4;
        min = 0x10000;
        *cp = p[0] & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3Fu);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return len;
}

const char *
csv_check_bytes(const char *line, size_t len, char *buf, size_t bufsize)
{
    const unsigned char *p = (const unsigned char *)line;
    if (len > 0 && p[len - 1] == '\r')
        len--;
    size_t col = 1;
    for (size_t i = 0; i < len; col++) {
        unsigned long cp = 0;
        size_t n = utf8_seq(p + i, len - i, &cp);
        if (n == 0) {
            snprintf(buf, bufsize, "invalid UTF-8 (byte 0x%02X) at character %zu", p[i], col);
            return buf;
        }
        if (cp == 0) {
            snprintf(buf, bufsize, "NUL byte at character %zu", col);
            return buf;
        }
        if ((cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F)) {
            snprintf(buf, bufsize,
                     "control character U+%04lX at character %zu (only tab is allowed)", cp, col);
            return buf;
        }
        i += n;
    }
    return NULL;
}
