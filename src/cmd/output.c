/* output.c: printing query results as an aligned table, TSV, or JSON made by PostgreSQL. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Display width of UTF-8 text: one column per code point (good enough for names and codes). */
static size_t
text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static void
pad(FILE *out, const char *s, size_t width)
{
    fputs(s, out);
    for (size_t w = text_width(s); w < width; w++)
        fputc(' ', out);
}

static void
print_table(const PGresult *res)
{
    int nf = PQnfields(res), nt = PQntuples(res);
    size_t *w = xcalloc((size_t)nf, sizeof(size_t));
    for (int c = 0; c < nf; c++) {
        w[c] = text_width(PQfname(res, c));
        for (int r = 0; r < nt; r++) {
            size_t x = text_width(PQgetvalue(res, r, c));
            if (x > w[c])
                w[c] = x;
        }
    }
    for (int c = 0; c < nf; c++) {
        pad(stdout, PQfname(res, c), c + 1 < nf ? w[c] : 0);
        fputs(c + 1 < nf ? "  " : "\n", stdout);
    }
    for (int c = 0; c < nf; c++) {
        for (size_t k = 0; k < w[c]; k++)
            fputc('-', stdout);
        fputs(c + 1 < nf ? "  " : "\n", stdout);
    }
    for (int r = 0; r < nt; r++)
        for (int c = 0; c < nf; c++) {
            pad(stdout, PQgetvalue(res, r, c), c + 1 < nf ? w[c] : 0);
            fputs(c + 1 < nf ? "  " : "\n", stdout);
        }
    printf("(%d %s)\n", nt, nt == 1 ? "row" : "rows");
    free(w);
}

static void
print_vertical(const PGresult *res)
{
    int nf = PQnfields(res);
    size_t w = 0;
    for (int c = 0; c < nf; c++)
        if (text_width(PQfname(res, c)) > w)
            w = text_width(PQfname(res, c));
    for (int c = 0; c < nf; c++) {
        pad(stdout, PQfname(res, c), w);
        printf("  %s\n", PQgetvalue(res, 0, c));
    }
}

static void
tsv_field(const char *s)
{
    for (; *s; s++) {
        if (*s == '\t')
            fputs("\\t", stdout);
        else if (*s == '\n')
            fputs("\\n", stdout);
        else if (*s == '\\')
            fputs("\\\\", stdout);
        else
            fputc(*s, stdout);
    }
}

static void
print_tsv(const PGresult *res)
{
    int nf = PQnfields(res), nt = PQntuples(res);
    for (int c = 0; c < nf; c++) {
        tsv_field(PQfname(res, c));
        fputc(c + 1 < nf ? '\t' : '\n', stdout);
    }
    for (int r = 0; r < nt; r++)
        for (int c = 0; c < nf; c++) {
            tsv_field(PQgetvalue(res, r, c));
            fputc(c + 1 < nf ? '\t' : '\n', stdout);
        }
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
    else if (ctx->format == OUT_TSV)
        print_tsv(res);
    else if (shape == OUT_OBJECT)
        print_vertical(res);
    else
        print_table(res);
    PQclear(res);
    return 0;
}

void
out_ids(const PGresult *res)
{
    for (int r = 0; r < PQntuples(res); r++)
        printf("%s\n", PQgetvalue(res, r, 0));
}

int
out_new_ids(struct cmd_ctx *ctx, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = db_exec(ctx->conn, sql, nparams, params, &ctx->err);
    if (!res)
        return cmd_fail(ctx);
    out_ids(res);
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
