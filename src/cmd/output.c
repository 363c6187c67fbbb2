/* output.c: printing query results as an aligned table, TSV, CSV, or JSON made by PostgreSQL.
 * A table shows json/jsonb values as text (no JSON inside a cell) and, at a terminal, fits its
 * width: the widest columns are narrowed and their cells wrapped over several lines. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "common/idtext.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* Display width of UTF-8 text: one column per code point (good enough for names and codes). */
static size_t
text_width_n(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n && s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            w++;
    return w;
}

static size_t
text_width(const char *s)
{
    return text_width_n(s, strlen(s));
}

/* The width tables are fitted to: the terminal's when stdout is one ($COLUMNS, else TIOCGWINSZ),
 * else 0 (no limit: a file or a pipe gets every line whole). */
static size_t
term_width(void)
{
    if (!isatty(STDOUT_FILENO))
        return 0;
    const char *env = getenv("COLUMNS");
    if (env && *env) {
        char *end;
        long n = strtol(env, &end, 10);
        if (*end == '\0' && n >= 20 && n <= 10000)
            return (size_t)n;
    }
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 0;
}

/* One displayed line of a cell: bytes [p, p+len). */
struct seg {
    const char *p;
    size_t len;
};

struct segs {
    struct seg *v;
    size_t n, cap;
};

static void
segs_add(struct segs *s, const char *p, size_t len)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4;
        s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = (struct seg){p, len};
}

/* Splits text into the lines of a cell width columns wide: at its newlines, then at the last
 * space (dropped) or after the last _ - / , ; (kept) that fits, else within a word (at a UTF-8
 * character boundary). width 0: whole. */
static void
wrap_cell(const char *text, size_t width, struct segs *out)
{
    out->n = 0;
    const char *p = text;
    for (;;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (width && text_width_n(p, len) > width) {
            size_t cols = 0, i = 0, cut = 0, keep = 0;
            for (; i < len; i++) {
                if (((unsigned char)p[i] & 0xC0) != 0x80) {
                    if (cols == width)
                        break;
                    cols++;
                }
                if (p[i] == ' ')
                    cut = i, keep = 0;
                else if (i + 1 < len && cols < width && strchr("_-/,;", p[i]))
                    cut = i + 1, keep = 1; /* after the mark, which stays on this line */
            }
            size_t next = cut ? cut + (keep ? 0 : 1) : i;
            segs_add(out, p, cut ? cut : i);
            p += next;
            len -= next;
            while (len && *p == ' ') {
                p++;
                len--;
            }
        }
        segs_add(out, p, len);
        if (!e)
            break;
        p = e + 1;
    }
}

static void
pad_n(FILE *out, const char *s, size_t n, size_t width)
{
    fwrite(s, 1, n, out);
    for (size_t w = text_width_n(s, n); w < width; w++)
        fputc(' ', out);
}

static void
pad(FILE *out, const char *s, size_t width)
{
    pad_n(out, s, strlen(s), width);
}

/* json and jsonb, whose values a table shows as text (json_display), never as JSON. */
#define JSON_OID 114
#define JSONB_OID 3802

static unsigned
hex_digit(char c)
{
    return (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

/* Appends the JSON value at *p as people read it: a string's text, an array's items separated by
 * ", ", an object's "key: value" pairs separated by ", ", a container inside another in
 * parentheses, null as nothing. Advances *p past the value. The JSON is PostgreSQL's (valid). */
static void
json_display(const char **p, struct strbuf *sb, int depth)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    if (*s == '"') {
        for (s++; *s && *s != '"'; s++) {
            if (*s != '\\') {
                strbuf_addch(sb, *s);
                continue;
            }
            s++;
            switch (*s) {
            case 'n': strbuf_addch(sb, '\n'); break;
            case 't': strbuf_addch(sb, ' '); break;
            case 'r': break;
            case 'b': case 'f': break;
            case 'u': {
                unsigned cp = 0;
                for (int k = 1; k <= 4 && s[k]; k++)
                    cp = cp * 16 + hex_digit(s[k]);
                s += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && s[1] == '\\' && s[2] == 'u') {
                    unsigned lo = 0;
                    for (int k = 3; k <= 6 && s[k]; k++)
                        lo = lo * 16 + hex_digit(s[k]);
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    s += 6;
                }
                if (cp < 0x80) {
                    strbuf_addch(sb, (char)cp);
                } else if (cp < 0x800) {
                    strbuf_addch(sb, (char)(0xC0 | (cp >> 6)));
                    strbuf_addch(sb, (char)(0x80 | (cp & 0x3F)));
                } else if (cp < 0x10000) {
                    strbuf_addch(sb, (char)(0xE0 | (cp >> 12)));
                    strbuf_addch(sb, (char)(0x80 | ((cp >> 6) & 0x3F)));
                    strbuf_addch(sb, (char)(0x80 | (cp & 0x3F)));
                } else {
                    strbuf_addch(sb, (char)(0xF0 | (cp >> 18)));
                    strbuf_addch(sb, (char)(0x80 | ((cp >> 12) & 0x3F)));
                    strbuf_addch(sb, (char)(0x80 | ((cp >> 6) & 0x3F)));
                    strbuf_addch(sb, (char)(0x80 | (cp & 0x3F)));
                }
                break;
            }
            default:
                if (*s)
                    strbuf_addch(sb, *s);
                else
                    s--;
            }
        }
        *p = *s ? s + 1 : s;
        return;
    }
    if (*s == '[' || *s == '{') {
        char close = *s == '[' ? ']' : '}';
        bool object = *s == '{';
        size_t start = sb->len;
        if (depth > 0)
            strbuf_addch(sb, '(');
        size_t inner = sb->len;
        s++;
        for (;;) {
            while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r' || *s == ',')
                s++;
            if (!*s || *s == close)
                break;
            if (sb->len > inner)
                strbuf_adds(sb, ", ");
            if (object) {
                json_display(&s, sb, depth + 1);
                while (*s == ' ' || *s == ':')
                    s++;
                strbuf_adds(sb, ": ");
            }
            json_display(&s, sb, depth + 1);
        }
        if (depth > 0) {
            if (sb->len == inner)
                sb->len = start; /* an empty container inside another: nothing */
            else
                strbuf_addch(sb, ')');
            sb->buf[sb->len] = '\0';
        }
        *p = *s ? s + 1 : s;
        return;
    }
    const char *b = s;
    while (*s && !strchr(",]} \n\t\r", *s))
        s++;
    if (!(s - b == 4 && strncmp(b, "null", 4) == 0))
        strbuf_add(sb, b, (size_t)(s - b));
    *p = s;
}

/* The cells of a result as a table shows them: json and jsonb values as text. */
const char *
out_text(const char *v, char **own)
{
    *own = idtext_display_dup(v);
    return *own ? *own : v;
}

struct cells {
    int nf, nt;
    char **v; /* nt * nf; the result's own strings, or allocated ones (JSON columns, IDs shown) */
    bool *own;
};

/* The cells as people read them: JSON as text; with ids_shown (tables, not CSV) an ID with its
 * check character set apart (common/idtext.h). */
static void
cells_load(struct cells *c, const PGresult *res, bool ids_shown)
{
    c->nf = PQnfields(res);
    c->nt = PQntuples(res);
    size_t n = (size_t)c->nf * (size_t)c->nt;
    c->v = xcalloc(n ? n : 1, sizeof(char *));
    c->own = xcalloc(n ? n : 1, sizeof(bool));
    for (int f = 0; f < c->nf; f++) {
        bool json = PQftype(res, f) == JSON_OID || PQftype(res, f) == JSONB_OID;
        for (int r = 0; r < c->nt; r++) {
            size_t k = (size_t)r * (size_t)c->nf + (size_t)f;
            if (json && !PQgetisnull(res, r, f)) {
                struct strbuf sb = STRBUF_INIT;
                const char *p = PQgetvalue(res, r, f);
                json_display(&p, &sb, 0);
                c->v[k] = strbuf_detach(&sb);
                c->own[k] = true;
            } else {
                char *id = ids_shown ? idtext_display_dup(PQgetvalue(res, r, f)) : NULL;
                c->v[k] = id ? id : PQgetvalue(res, r, f);
                c->own[k] = id != NULL;
            }
        }
    }
}

static void
cells_free(struct cells *c)
{
    size_t n = (size_t)c->nf * (size_t)c->nt;
    for (size_t k = 0; k < n; k++)
        if (c->own[k])
            free(c->v[k]);
    free(c->v);
    free(c->own);
}

/* The widest line of a cell. */
static size_t
cell_width(const char *s)
{
    size_t w = 0;
    for (;;) {
        const char *e = strchr(s, '\n');
        size_t x = text_width_n(s, e ? (size_t)(e - s) : strlen(s));
        if (x > w)
            w = x;
        if (!e)
            return w;
        s = e + 1;
    }
}

/* Narrows the widest column above its floor, one column at a time, until the line (columns and
 * 2-space gaps) fits within limit or every column is down to its floor. */
static void
narrow(size_t *w, const size_t *floor, int nf, size_t *total, size_t limit)
{
    while (*total > limit) {
        int widest = -1;
        for (int c = 0; c < nf; c++)
            if (w[c] > floor[c] && (widest < 0 || w[c] > w[widest]))
                widest = c;
        if (widest < 0)
            return;
        w[widest]--;
        (*total)--;
    }
}

/* Fits the columns (w: each one's widest cell or header, data: its widest cell) within limit:
 * first headers longer than their data wrap (down to 8 columns), then the widest columns wrap
 * their cells (down to 10 columns each). Returns the width of the line. */
static size_t
fit_widths(size_t *w, const size_t *data, int nf, size_t limit)
{
    size_t total = 0;
    size_t *floor = xcalloc((size_t)nf ? (size_t)nf : 1, sizeof(size_t));
    for (int c = 0; c < nf; c++) {
        total += w[c] + (c + 1 < nf ? 2 : 0);
        floor[c] = data[c] > 8 ? data[c] : 8;
        if (floor[c] > w[c])
            floor[c] = w[c];
    }
    narrow(w, floor, nf, &total, limit);
    for (int c = 0; c < nf; c++)
        floor[c] = w[c] < 10 ? w[c] : 10;
    narrow(w, floor, nf, &total, limit);
    free(floor);
    return total;
}

/* One row of cells, each wrapped within its column; the last column is not padded. */
static void
print_wrapped_row(const char *const *v, const size_t *w, int nf, bool wrap)
{
    struct segs *s = xcalloc((size_t)nf, sizeof(*s));
    size_t lines = 1;
    for (int c = 0; c < nf; c++) {
        if (wrap) {
            wrap_cell(v[c], w[c], &s[c]);
        } else {
            s[c].n = 0;
            segs_add(&s[c], v[c], strlen(v[c]));
        }
        if (s[c].n > lines)
            lines = s[c].n;
    }
    for (size_t l = 0; l < lines; l++) {
        /* trailing empty cells are not padded */
        int last = nf - 1;
        while (last > 0 && (l >= s[last].n || s[last].v[l].len == 0))
            last--;
        for (int c = 0; c <= last; c++) {
            const struct seg *g = l < s[c].n ? &s[c].v[l] : NULL;
            pad_n(stdout, g ? g->p : "", g ? g->len : 0, c < last ? w[c] : 0);
            fputs(c < last ? "  " : "\n", stdout);
        }
    }
    for (int c = 0; c < nf; c++)
        free(s[c].v);
    free(s);
}

/* One record as "name  value" lines, values wrapped within limit (0: whole). */
static void
print_record(const PGresult *res, const struct cells *cl, int r, size_t limit)
{
    int nf = cl->nf;
    size_t w = 0;
    for (int c = 0; c < nf; c++)
        if (text_width(PQfname(res, c)) > w)
            w = text_width(PQfname(res, c));
    size_t widths[2] = {w, limit > w + 2 + 10 ? limit - w - 2 : 10};
    for (int c = 0; c < nf; c++) {
        const char *row[2] = {PQfname(res, c), cl->v[(size_t)r * (size_t)nf + (size_t)c]};
        if (limit) {
            print_wrapped_row(row, widths, 2, true);
        } else {
            pad(stdout, row[0], w);
            printf("  %s\n", row[1]);
        }
    }
}

/* The lines the rows take at widths w, on average. */
static size_t
average_height(const struct cells *cl, const size_t *w)
{
    if (cl->nt == 0)
        return 1;
    struct segs s = {0};
    size_t lines = 0;
    for (int r = 0; r < cl->nt; r++) {
        size_t h = 1;
        for (int c = 0; c < cl->nf; c++) {
            wrap_cell(cl->v[(size_t)r * (size_t)cl->nf + (size_t)c], w[c], &s);
            if (s.n > h)
                h = s.n;
        }
        lines += h;
    }
    free(s.v);
    return (lines + (size_t)cl->nt - 1) / (size_t)cl->nt;
}

/* A list: an aligned table with a header. At a terminal it fits the width (columns narrowed,
 * cells wrapped); when it cannot, or its rows would wrap over more than 4 lines on average, each
 * row is printed as a record ("-[ 3 ]----", then "name  value" lines) instead. */
static void
print_table(const PGresult *res)
{
    struct cells cl;
    cells_load(&cl, res, true);
    int nf = cl.nf, nt = cl.nt;
    size_t limit = term_width();
    size_t *w = xcalloc((size_t)nf ? (size_t)nf : 1, sizeof(size_t));
    const char **names = xcalloc((size_t)nf ? (size_t)nf : 1, sizeof(char *));
    size_t *data = xcalloc((size_t)nf ? (size_t)nf : 1, sizeof(size_t));
    for (int c = 0; c < nf; c++) {
        names[c] = PQfname(res, c);
        for (int r = 0; r < nt; r++) {
            const char *v = cl.v[(size_t)r * (size_t)nf + (size_t)c];
            size_t x = limit ? cell_width(v) : text_width(v);
            if (x > data[c])
                data[c] = x;
        }
        w[c] = text_width(names[c]) > data[c] ? text_width(names[c]) : data[c];
    }
    bool records = false;
    if (limit) {
        size_t total = fit_widths(w, data, nf, limit);
        records = total > limit || average_height(&cl, w) > 4;
    }
    free(data);
    if (records) {
        for (int r = 0; r < nt; r++) {
            int n = printf("-[ %d ]", r + 1);
            for (size_t k = n > 0 ? (size_t)n : 0; k < limit; k++)
                fputc('-', stdout);
            fputc('\n', stdout);
            print_record(res, &cl, r, limit);
        }
    } else {
        print_wrapped_row(names, w, nf, limit != 0);
        for (int c = 0; c < nf; c++) {
            for (size_t k = 0; k < w[c]; k++)
                fputc('-', stdout);
            fputs(c + 1 < nf ? "  " : "\n", stdout);
        }
        for (int r = 0; r < nt; r++)
            print_wrapped_row((const char *const *)cl.v + (size_t)r * (size_t)nf, w, nf,
                              limit != 0);
    }
    printf("(%d %s)\n", nt, nt == 1 ? "row" : "rows");
    free(names);
    free(w);
    cells_free(&cl);
}

static void
print_vertical(const PGresult *res)
{
    struct cells cl;
    cells_load(&cl, res, true);
    print_record(res, &cl, 0, term_width());
    cells_free(&cl);
}

static void
tsv_field(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\t')
            fputs("\\t", out);
        else if (*s == '\n')
            fputs("\\n", out);
        else if (*s == '\\')
            fputs("\\\\", out);
        else
            fputc(*s, out);
    }
}

/* RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
static void
csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

void
out_record(const struct cmd_ctx *ctx, const char *const *fields, int n)
{
    for (int c = 0; c < n; c++) {
        if (ctx->format == OUT_CSV)
            csv_field(stdout, fields[c]);
        else
            tsv_field(stdout, fields[c]);
        fputc(c + 1 < n ? (ctx->format == OUT_CSV ? ',' : '\t') : '\n', stdout);
    }
}

/* TSV: the values as PostgreSQL gives them; CSV (for spreadsheets): the table's cells. */
static void
print_delimited(const struct cmd_ctx *ctx, const PGresult *res)
{
    int nf = PQnfields(res), nt = PQntuples(res);
    struct cells cl = {0};
    if (ctx->format == OUT_CSV)
        cells_load(&cl, res, false);
    const char **f = xcalloc((size_t)nf ? (size_t)nf : 1, sizeof(char *));
    for (int c = 0; c < nf; c++)
        f[c] = PQfname(res, c);
    out_record(ctx, f, nf);
    for (int r = 0; r < nt; r++) {
        for (int c = 0; c < nf; c++)
            f[c] = ctx->format == OUT_CSV ? cl.v[(size_t)r * (size_t)nf + (size_t)c]
                                          : PQgetvalue(res, r, c);
        out_record(ctx, f, nf);
    }
    free(f);
    if (ctx->format == OUT_CSV)
        cells_free(&cl);
}

int
out_query(struct cmd_ctx *ctx, enum out_shape shape, const char *sql, int nparams,
          const char *const *params, const char *not_found)
{
    char *wrapped = NULL;
    if (ctx->format == OUT_JSON)
        wrapped = xasprintf(shape == OUT_LIST
                                ? "SELECT coalesce(pg_catalog.json_agg(q), '[]'::json) FROM (%s) q"
                                : "SELECT pg_catalog.row_to_json(q) FROM (%s) q",
                            sql);
    PGresult *res = db_exec(ctx->conn, wrapped ? wrapped : sql, nparams, params, &ctx->err);
    free(wrapped);
    if (!res)
        return cmd_fail(ctx);
    if (shape == OUT_OBJECT && PQntuples(res) == 0) {
        PQclear(res);
        fb_error_set(&ctx->err, FB_ERR_NOTFOUND, "%s", not_found ? not_found : "not found");
        return FB_ERR_NOTFOUND;
    }
    if (ctx->format == OUT_JSON)
        printf("%s\n", PQgetvalue(res, 0, 0));
    else if (out_delimited(ctx))
        print_delimited(ctx, res);
    else if (shape == OUT_OBJECT)
        print_vertical(res);
    else
        print_table(res);
    PQclear(res);
    return 0;
}

void
out_id(const struct cmd_ctx *ctx, const char *id)
{
    if (!ctx->quiet)
        printf("%s\n", id);
}

void
out_ids(const struct cmd_ctx *ctx, const PGresult *res)
{
    for (int r = 0; r < PQntuples(res); r++)
        out_id(ctx, PQgetvalue(res, r, 0));
}

int
out_new_ids(struct cmd_ctx *ctx, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = db_exec(ctx->conn, sql, nparams, params, &ctx->err);
    if (!res)
        return cmd_fail(ctx);
    out_ids(ctx, res);
    PQclear(res);
    return 0;
}

static char *
read_line(FILE *in)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, in);
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

char *
cmd_read_secret(const char *prompt, bool from_stdin, struct fb_error *err)
{
    if (from_stdin) {
        char *s = read_line(stdin);
        if (!s)
            fb_error_set(err, FB_ERR_INPUT, "no password on standard input");
        return s;
    }
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty || !isatty(fileno(tty))) {
        if (tty)
            fclose(tty);
        fb_error_set(err, FB_ERR_USAGE, "no terminal to ask for the password");
        fb_error_hint(err, "Use --password-stdin.");
        return NULL;
    }
    struct termios old, quiet;
    tcgetattr(fileno(tty), &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    fputs(prompt, tty);
    fflush(tty);
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    char *s = read_line(tty);
    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    if (!s)
        fb_error_set(err, FB_ERR_INPUT, "no password entered");
    return s;
}
