/* xlsx.c: the only file that includes xlsxwriter.h. Writes workbooks in constant_memory mode
 * (each sheet's rows go to a temporary file as soon as the next row begins), so memory stays flat
 * whatever the row count; rows are therefore written strictly top to bottom, which is why box
 * maps are drawn from a query ordered by box, row and column. Every lxw_error is checked. */
#include "report/xlsx.h"
#include "report/cell.h"
#include "common/idtext.h"
#include "common/strbuf.h"
#include "common/text.h"
#include "common/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define HEADER_BG 0xD9E1F2
#define BANNER_RED 0xC00000
#define GRID_BORDER 0x808080
#define TRUNCATED " [truncated]"

struct fmt_cache {
    char *key;
    lxw_format *fmt;
};

struct owned {
    struct owned *next;
    void *ptr;
};

struct xlsx_book {
    lxw_workbook *wb;
    lxw_doc_properties props;
    lxw_format *title, *subtitle, *banner, *header, *note, *bold, *label, *grid_empty, *grid_other;
    lxw_format *label_wrap; /* a record sheet's field names: bold, wrapped, at the top */
    struct fmt_cache *fmts;
    size_t nfmts;
    struct owned *owned; /* tables, box maps and their arrays, freed with the book */
    uint32_t max_rows;
    char *time_zone; /* the session's, shown after timestamps that carry no offset */
    bool protect;    /* every sheet protected (a signed certificate) */
};

struct xlsx_table {
    struct xlsx_book *book;
    char *base_name;
    struct xlsx_heading heading;
    const struct xlsx_col *cols;
    size_t ncols;
    lxw_format **fmts;
    double *widths;                  /* each column's printed width, in characters */
    char (*shown)[IDTEXT_SHOWN_MAX]; /* each text column's ID as shown in the current row */
    const char **cells;              /* the current row's values as written */
    lxw_worksheet *ws;
    int part;         /* 1, then 2, 3... for continuation sheets */
    lxw_row_t header; /* row of the header line on the current sheet */
    lxw_row_t row;    /* next row to write on the current sheet */
    uint64_t total;
};

struct xlsx_boxmap {
    struct xlsx_book *book;
    lxw_worksheet *ws;
    char *name;
    const struct xlsx_state *states;
    size_t nstates;
    lxw_format **fills;
    lxw_row_t row; /* next sheet row */
    int nrows, ncols;
    long next;     /* next position of the current box, row-major from 0; -1: no box */
    lxw_row_t top; /* sheet row of the box's grid row 1 */
    int maxcols;
    long boxes;
};

static void *
own(struct xlsx_book *b, void *p)
{
    struct owned *o = xmalloc(sizeof(*o));
    o->ptr = p;
    o->next = b->owned;
    b->owned = o;
    return p;
}

/* libxlsxwriter prints its own "[ERROR] ..." lines on stderr. Around the calls that may (open,
 * new sheet, close), stderr goes to a temporary file; what was printed becomes the DETAIL of
 * fmtbank's error, or a warning line of fmtbank's when the call succeeded. */
struct lxw_capture {
    int saved; /* the real stderr, or -1 when not capturing */
    FILE *tmp;
};

static void
capture_begin(struct lxw_capture *c)
{
    fflush(stderr);
    c->saved = -1;
    c->tmp = tmpfile();
    if (!c->tmp)
        return;
    c->saved = dup(STDERR_FILENO);
    if (c->saved < 0 || dup2(fileno(c->tmp), STDERR_FILENO) < 0) {
        if (c->saved >= 0)
            close(c->saved);
        c->saved = -1;
        fclose(c->tmp);
        c->tmp = NULL;
    }
}

/* Ends the capture; returns what libxlsxwriter printed, folded to one line without its
 * "[ERROR]" tags (caller frees), or NULL. */
static char *
capture_end(struct lxw_capture *c)
{
    if (c->saved < 0)
        return NULL;
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    c->saved = -1;
    struct strbuf sb = STRBUF_INIT;
    char line[1024];
    rewind(c->tmp);
    while (fgets(line, sizeof(line), c->tmp)) {
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        const char *p = line;
        if (strncmp(p, "[ERROR]", 7) == 0)
            p += 7;
        else if (strncmp(p, "[WARNING]", 9) == 0)
            p += 9;
        while (*p == ' ')
            p++;
        if (!*p)
            continue;
        if (sb.len > 0)
            strbuf_adds(&sb, "; ");
        strbuf_adds(&sb, p);
    }
    fclose(c->tmp);
    c->tmp = NULL;
    if (sb.len == 0) {
        strbuf_release(&sb);
        return NULL;
    }
    char *raw = strbuf_detach(&sb), *out = text_escape_str(raw, 0);
    free(raw);
    return out;
}

/* After a captured call: the library's words go into err (failed) or a warning (succeeded). */
static void
capture_report(char *said, bool failed, struct fb_error *err)
{
    if (!said)
        return;
    if (failed && err->message)
        fb_error_detail(err, "libxlsxwriter: %s", said);
    else
        fprintf(stderr, "fmtbank: warning: libxlsxwriter: %s\n", said);
    free(said);
}

static int
check(lxw_error e, struct fb_error *err, const char *what, const char *sheet)
{
    if (e == LXW_NO_ERROR)
        return 0;
    if (sheet)
        fb_error_set(err, FB_ERR_INTERNAL, "could not write %s of sheet \"%s\": %s", what, sheet,
                     lxw_strerror(e));
    else
        fb_error_set(err, FB_ERR_INTERNAL, "could not write %s: %s", what, lxw_strerror(e));
    return -1;
}

static lxw_format *
new_format(struct xlsx_book *b)
{
    lxw_format *f = workbook_add_format(b->wb);
    if (!f)
        die("out of memory");
    return f;
}

static char *
dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

struct xlsx_book *
xlsx_open(const char *path, const struct xlsx_props *p, struct fb_error *err)
{
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = NULL, .use_zip64 = LXW_TRUE};
    struct lxw_capture cap;
    capture_begin(&cap);
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    char *said = capture_end(&cap);
    if (!wb)
        fb_error_set(err, FB_ERR_INTERNAL, "could not create workbook \"%s\"", path);
    capture_report(said, !wb, err);
    if (!wb)
        return NULL;
    struct xlsx_book *b = xcalloc(1, sizeof(*b));
    b->wb = wb;
    b->max_rows = LXW_ROW_MAX;
    b->props.title = dup_or_null(p->title);
    b->props.subject = dup_or_null(p->subject);
    b->props.author = dup_or_null(p->author);
    b->props.company = dup_or_null(p->company);
    b->props.comments = dup_or_null(p->comments);
    b->props.keywords = dup_or_null(p->keywords);
    b->props.created = (time_t)p->created;
    b->time_zone = dup_or_null(p->time_zone);
    if (check(workbook_set_properties(wb, &b->props), err, "the document properties", NULL) < 0) {
        xlsx_discard(b);
        return NULL;
    }

    b->title = new_format(b);
    format_set_bold(b->title);
    format_set_font_size(b->title, 14);
    b->subtitle = new_format(b);
    format_set_italic(b->subtitle);
    b->banner = new_format(b);
    format_set_bold(b->banner);
    format_set_font_size(b->banner, 14);
    format_set_font_color(b->banner, BANNER_RED);
    b->header = new_format(b);
    format_set_bold(b->header);
    format_set_bg_color(b->header, HEADER_BG);
    format_set_bottom(b->header, LXW_BORDER_THIN);
    format_set_text_wrap(b->header);
    format_set_align(b->header, LXW_ALIGN_VERTICAL_TOP);
    b->note = new_format(b);
    format_set_italic(b->note);
    b->bold = new_format(b);
    format_set_bold(b->bold);
    b->label_wrap = new_format(b);
    format_set_bold(b->label_wrap);
    format_set_text_wrap(b->label_wrap);
    format_set_align(b->label_wrap, LXW_ALIGN_VERTICAL_TOP);
    b->label = new_format(b);
    format_set_bold(b->label);
    format_set_align(b->label, LXW_ALIGN_CENTER);
    format_set_align(b->label, LXW_ALIGN_VERTICAL_CENTER);
    b->grid_empty = new_format(b);
    format_set_border(b->grid_empty, LXW_BORDER_THIN);
    format_set_border_color(b->grid_empty, GRID_BORDER);
    b->grid_other = new_format(b);
    format_set_border(b->grid_other, LXW_BORDER_THIN);
    format_set_border_color(b->grid_other, GRID_BORDER);
    format_set_font_size(b->grid_other, 9);
    format_set_align(b->grid_other, LXW_ALIGN_CENTER);
    return b;
}

void
xlsx_set_protect(struct xlsx_book *b, bool protect)
{
    b->protect = protect;
}

void
xlsx_set_max_rows(struct xlsx_book *b, uint32_t max_rows)
{
    if (max_rows >= 8 && max_rows <= LXW_ROW_MAX)
        b->max_rows = max_rows;
}

static void
book_free(struct xlsx_book *b)
{
    while (b->owned) {
        struct owned *o = b->owned;
        b->owned = o->next;
        free(o->ptr);
        free(o);
    }
    for (size_t i = 0; i < b->nfmts; i++)
        free(b->fmts[i].key);
    free(b->fmts);
    free(b->props.title);
    free(b->props.subject);
    free(b->props.author);
    free(b->props.company);
    free(b->props.comments);
    free(b->props.keywords);
    free(b->time_zone);
    free(b);
}

int
xlsx_close(struct xlsx_book *b, struct fb_error *err)
{
    struct lxw_capture cap;
    capture_begin(&cap);
    lxw_error e = workbook_close(b->wb);
    char *said = capture_end(&cap);
    book_free(b);
    int rc = check(e, err, "the workbook", NULL);
    capture_report(said, rc < 0, err);
    return rc;
}

void
xlsx_discard(struct xlsx_book *b)
{
    if (!b)
        return;
    lxw_workbook_free(b->wb);
    book_free(b);
}

/* ------------------------------------------------------------------ common pieces */

static const char *
default_format(enum cell_type t)
{
    switch (t) {
    case CELL_INTEGER:
        return "0";
    case CELL_DATE:
        return "yyyy-mm-dd";
    case CELL_TIMESTAMP:
        return "yyyy-mm-dd hh:mm";
    default:
        return NULL;
    }
}

/* One format per distinct number format (NULL: General) and alignment: Excel limits a
 * workbook's formats. Every data cell is aligned to the top of its row (rows grow with wrapped
 * text), text wraps within its column, booleans (yes/no) are centred in tables; a record sheet's
 * values (left) are all aligned left, under one another. */
static lxw_format *
aligned_format(struct xlsx_book *b, enum cell_type t, const char *nf, bool left)
{
    char *key = xasprintf("%c%c|%s", t == CELL_TEXT ? 'w' : t == CELL_BOOLEAN ? 'c' : 'n',
                          left ? 'l' : '-', nf ? nf : "");
    for (size_t i = 0; i < b->nfmts; i++)
        if (strcmp(b->fmts[i].key, key) == 0) {
            free(key);
            return b->fmts[i].fmt;
        }
    lxw_format *f = new_format(b);
    if (nf)
        format_set_num_format(f, nf);
    format_set_align(f, LXW_ALIGN_VERTICAL_TOP);
    if (t == CELL_TEXT)
        format_set_text_wrap(f);
    if (left)
        format_set_align(f, LXW_ALIGN_LEFT);
    else if (t == CELL_BOOLEAN)
        format_set_align(f, LXW_ALIGN_CENTER);
    b->fmts = xrealloc(b->fmts, (b->nfmts + 1) * sizeof(*b->fmts));
    b->fmts[b->nfmts].key = key;
    b->fmts[b->nfmts].fmt = f;
    b->nfmts++;
    return f;
}

static lxw_format *
cached_format(struct xlsx_book *b, enum cell_type t, const char *nf)
{
    return aligned_format(b, t, nf, false);
}

static lxw_format *
data_format(struct xlsx_book *b, enum cell_type t, const char *numfmt)
{
    return cached_format(b, t, numfmt ? numfmt : default_format(t));
}

/* A timestamp's format: the column's, followed by the value's UTC offset ("+01:00"), or the
 * session's time zone for a value without one, so that no printed time is without its zone. */
static lxw_format *
timestamp_format(struct xlsx_book *b, const char *numfmt, const char *offset, bool left)
{
    const char *nf = numfmt ? numfmt : default_format(CELL_TIMESTAMP);
    const char *zone = offset && *offset ? offset : b->time_zone ? b->time_zone : "";
    if (!*zone)
        return aligned_format(b, CELL_TIMESTAMP, nf, left);
    struct strbuf sb = STRBUF_INIT;
    strbuf_addf(&sb, "%s \"", nf);
    for (const char *p = zone; *p; p++)
        if (*p != '"')
            strbuf_addch(&sb, *p);
    strbuf_addch(&sb, '"');
    lxw_format *f = aligned_format(b, CELL_TIMESTAMP, strbuf_str(&sb), left);
    strbuf_release(&sb);
    return f;
}

/* The widest a text column is made: longer text wraps within it instead of widening the page. */
#define TEXT_WIDTH_MAX 60
/* A record sheet's value column: one column for every field, wide enough for a SHA-256. */
#define RECORD_WIDTH_MAX 70

static double
declared_width(const struct xlsx_col *c)
{
    if (c->width > 0)
        return c->width;
    double w;
    switch (c->type) {
    case CELL_INTEGER:
        w = 10;
        break;
    case CELL_NUMBER:
        w = 12;
        break;
    case CELL_DATE:
        w = 11;
        break;
    case CELL_TIMESTAMP:
        w = 17;
        break;
    case CELL_BOOLEAN:
        w = 8;
        break;
    default:
        w = 16;
    }
    double h = (double)cell_utf8_len(c->header) + 2;
    if (h > w)
        w = h > 40 ? 40 : h;
    return w;
}

/* A column's width: as declared (or the type's default), a text column at most TEXT_WIDTH_MAX,
 * a timestamp column wide enough for its format and a UTC offset. */
static double
default_width(const struct xlsx_col *c)
{
    double w = declared_width(c);
    if (c->type == CELL_TEXT && w > TEXT_WIDTH_MAX)
        w = TEXT_WIDTH_MAX;
    if (c->type == CELL_TIMESTAMP) {
        const char *nf = c->format ? c->format : default_format(CELL_TIMESTAMP);
        double need = (double)strlen(nf) + 5; /* " +01:00": separators are narrower than digits */
        if (w < need)
            w = need;
    }
    return w;
}

/* Lines text takes in a column width characters wide, wrapped at spaces. A width counts digits
 * of Calibri 11; mixed text fits 1.15 to 1.25 characters a digit (measured with LibreOffice's
 * metric-compatible Carlito), taken as 1.1 to err on the side of a line too many; bold 0.95. */
static unsigned
text_lines(const char *s, double width, bool bold)
{
    double usable = (width - 1) * (bold ? 0.95 : 1.1);
    size_t per = usable >= 1 ? (size_t)usable : 1;
    unsigned lines = 0;
    for (const char *p = s;;) {
        const char *e = strchr(p, '\n');
        const char *end = e ? e : p + strlen(p);
        size_t col = 0;
        lines++;
        while (p < end) {
            while (p < end && *p == ' ')
                p++;
            const char *w = p;
            size_t wl = 0;
            for (; p < end && *p != ' '; p++)
                if (((unsigned char)*p & 0xC0) != 0x80)
                    wl++;
            if (p == w)
                break;
            if (col > 0 && col + 1 + wl <= per) {
                col += 1 + wl;
                continue;
            }
            if (col > 0)
                lines++;
            col = wl;
            while (col > per) {
                lines++;
                col -= per;
            }
        }
        if (!e)
            break;
        p = e + 1;
    }
    return lines;
}

/* The height of a row of lines lines (Calibri 11: 15 points a line; Excel's limit 409). */
static double
row_height(unsigned lines)
{
    double h = 15.0 * lines;
    return h > 409 ? 409 : h;
}

/* Text with Excel's 32,767-character limit applied (a longer value is cut and marked). */
static int
write_text(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *s, lxw_format *f)
{
    if (strlen(s) <= CELL_TEXT_MAX || cell_utf8_len(s) <= CELL_TEXT_MAX)
        return worksheet_write_string(ws, r, c, s, f);
    size_t keep = cell_utf8_prefix(s, CELL_TEXT_MAX - strlen(TRUNCATED));
    char *cut = xmalloc(keep + sizeof(TRUNCATED));
    memcpy(cut, s, keep);
    memcpy(cut + keep, TRUNCATED, sizeof(TRUNCATED));
    lxw_error e = worksheet_write_string(ws, r, c, cut, f);
    free(cut);
    return e;
}

/* The text a cell shows for value v: an ID with its check character set apart (common/idtext.h),
 * written into buf, or v itself. Row heights are measured on it: what is measured is what is
 * written (a displayed ID is two characters longer than the stored one). */
static const char *
shown_text(const char *v, char buf[IDTEXT_SHOWN_MAX])
{
    const char *id = idtext_display_into(v, buf);
    return id ? id : v;
}

/* Writes one value of column col (f: its format; left: a record sheet's value); what Excel
 * cannot hold as the column's type is written as text. A boolean is the word yes or no (printed
 * pages have no TRUE/FALSE); a timestamp shows its UTC offset. */
static lxw_error
write_value(struct xlsx_book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c,
            const struct xlsx_col *col, const char *v, lxw_format *f, bool left)
{
    double d;
    bool yes;
    struct cell_datetime dt;
    switch (col->type) {
    case CELL_INTEGER:
    case CELL_NUMBER:
        if (cell_parse_number(v, &d) == 0)
            return worksheet_write_number(ws, r, c, d, f);
        break;
    case CELL_DATE:
    case CELL_TIMESTAMP:
        if (cell_parse_datetime(v, col->type == CELL_TIMESTAMP, &dt) == 0) {
            lxw_datetime x = {dt.year, dt.month, dt.day, dt.hour, dt.min, dt.sec};
            if (col->type == CELL_TIMESTAMP)
                f = timestamp_format(b, col->format, dt.offset, left);
            return worksheet_write_datetime(ws, r, c, &x, f);
        }
        break;
    case CELL_BOOLEAN:
        if (cell_parse_bool(v, &yes) == 0)
            return worksheet_write_string(ws, r, c, yes ? "yes" : "no", f);
        break;
    case CELL_TEXT:
        break;
    }
    /* text, or a value that did not parse as its type: an ID is shown with its check character
     * set apart (shown_text; a text value the caller has already shown is no ID any more) */
    char buf[IDTEXT_SHOWN_MAX];
    return (lxw_error)write_text(ws, r, c, shown_text(v, buf),
                                 col->type == CELL_TEXT ? f
                                                        : aligned_format(b, CELL_TEXT, NULL, left));
}

/* The header/footer printed on every page; '&' is a control character there. */
static char *
print_text(const char *prefix, const char *s, const char *suffix)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_adds(&sb, prefix);
    for (const char *p = s ? s : ""; *p && sb.len < 200; p++) {
        if (*p == '&')
            strbuf_addch(&sb, '&');
        strbuf_addch(&sb, *p);
    }
    /* never cut a UTF-8 sequence */
    while (sb.len > 0 && ((unsigned char)sb.buf[sb.len - 1] & 0xC0) == 0x80)
        sb.len--;
    if (sb.len > 0 && ((unsigned char)sb.buf[sb.len - 1] & 0xC0) == 0xC0)
        sb.len--;
    sb.buf[sb.len] = '\0';
    strbuf_adds(&sb, suffix);
    return strbuf_detach(&sb);
}

static lxw_worksheet *
add_sheet(struct xlsx_book *b, const char *name, struct fb_error *err)
{
    lxw_error e = workbook_validate_sheet_name(b->wb, name);
    if (e != LXW_NO_ERROR) {
        fb_error_set(err, FB_ERR_INPUT, "invalid sheet name \"%s\": %s", name, lxw_strerror(e));
        return NULL;
    }
    struct lxw_capture cap;
    capture_begin(&cap);
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, name);
    char *said = capture_end(&cap);
    if (!ws)
        fb_error_set(err, FB_ERR_INTERNAL, "could not add sheet \"%s\"", name);
    capture_report(said, !ws, err);
    if (ws && b->protect) {
        /* no password: it keeps a signed record from being changed by mistake, and says so */
        lxw_protection opt = {.autofilter = LXW_TRUE};
        worksheet_protect(ws, NULL, &opt);
    }
    return ws;
}

/* The printed width of an A4 landscape page between Excel's default margins (0.7 inch each
 * side), in pixels at 96 dpi; and the smallest scale a page is printed at. */
#define PAGE_WIDTH_PX ((297.0 / 25.4 - 1.4) * 96)
#define PRINT_SCALE_MIN 60

/* Fits the printed page to the columns (widths in characters): one page wide (fit to width)
 * when that needs a scale of at least PRINT_SCALE_MIN %; else printed at PRINT_SCALE_MIN %,
 * the columns continuing on pages to the right, the first column repeated on each. */
static void
page_fit(lxw_worksheet *ws, const double *widths, size_t n)
{
    double px = 0;
    for (size_t c = 0; c < n; c++)
        px += (double)(int)(widths[c] * 7 + 5 + 0.5); /* Excel: Calibri 11, 7 px a character */
    if (px * PRINT_SCALE_MIN / 100 <= PAGE_WIDTH_PX) {
        worksheet_fit_to_pages(ws, 1, 0);
    } else {
        worksheet_set_print_scale(ws, PRINT_SCALE_MIN);
        worksheet_repeat_columns(ws, 0, 0);
    }
}

/* Writes the heading lines and the print setup; returns the first free row after a blank line,
 * or -1 on error. */
static long
heading(struct xlsx_book *b, lxw_worksheet *ws, const char *sheet, const struct xlsx_heading *h,
        const char *continued, struct fb_error *err)
{
    lxw_row_t r = 0;
    const char *title = h && h->title ? h->title : "";
    if (check(write_text(ws, r++, 0, title, b->title), err, "the title", sheet) < 0)
        return -1;
    if (h && h->subtitle)
        if (check(write_text(ws, r++, 0, h->subtitle, b->subtitle), err, "the subtitle", sheet) < 0)
            return -1;
    if (continued)
        if (check(write_text(ws, r++, 0, continued, b->subtitle), err, "the subtitle", sheet) < 0)
            return -1;
    if (h && h->banner)
        if (check(write_text(ws, r++, 0, h->banner, b->banner), err, "the banner", sheet) < 0)
            return -1;
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9); /* A4 */
    char *head = h && h->banner ? print_text("&C&\"-,Bold\"&KC00000", h->banner, "") : NULL;
    char *foot = print_text("&L", title, "&RPage &P of &N");
    int rc = 0;
    if (head)
        rc = check(worksheet_set_header(ws, head), err, "the page header", sheet);
    if (rc == 0)
        rc = check(worksheet_set_footer(ws, foot), err, "the page footer", sheet);
    free(head);
    free(foot);
    return rc < 0 ? -1 : (long)r + 1;
}

/* ------------------------------------------------------------------ table sheets */

/* The autofilter is set over the header as soon as it is written, then widened over the rows
 * when the sheet ends: constant_memory mode only accepts ranges ending on the row in memory. */
static int
table_autofilter(struct xlsx_table *t, lxw_row_t last, struct fb_error *err)
{
    return check(worksheet_autofilter(t->ws, t->header, 0, last, (lxw_col_t)(t->ncols - 1)), err,
                 "the autofilter", t->base_name);
}

static int
table_sheet(struct xlsx_table *t, struct fb_error *err)
{
    struct xlsx_book *b = t->book;
    char *name, *continued = NULL;
    if (t->part == 1) {
        name = xstrdup(t->base_name);
    } else {
        char suffix[24];
        snprintf(suffix, sizeof(suffix), " (%d)", t->part);
        size_t keep = cell_utf8_prefix(t->base_name, 31 - strlen(suffix));
        name = xasprintf("%.*s%s", (int)keep, t->base_name, suffix);
        continued = xasprintf("continued from sheet \"%s\"", t->base_name);
    }
    int rc = -1;
    t->ws = add_sheet(b, name, err);
    if (!t->ws)
        goto done;
    long r = heading(b, t->ws, name, &t->heading, continued, err);
    if (r < 0)
        goto done;
    t->header = (lxw_row_t)r;
    /* the header row is as tall as its most wrapped header, so none runs into the first row */
    unsigned lines = 1;
    for (size_t c = 0; c < t->ncols; c++) {
        unsigned l = text_lines(t->cols[c].header, t->widths[c], true);
        if (l > lines)
            lines = l;
    }
    if (check(worksheet_set_row(t->ws, t->header, row_height(lines), NULL), err, "the header",
              name) < 0)
        goto done;
    page_fit(t->ws, t->widths, t->ncols);
    for (size_t c = 0; c < t->ncols; c++) {
        if (check(worksheet_set_column(t->ws, (lxw_col_t)c, (lxw_col_t)c, t->widths[c], NULL),
                  err, "column widths", name) < 0 ||
            check(write_text(t->ws, t->header, (lxw_col_t)c, t->cols[c].header, b->header), err,
                  "the header", name) < 0)
            goto done;
    }
    if (table_autofilter(t, t->header, err) < 0)
        goto done;
    worksheet_freeze_panes(t->ws, t->header + 1, 0);
    if (check(worksheet_repeat_rows(t->ws, t->header, t->header), err, "the print titles", name) <
        0)
        goto done;
    t->row = t->header + 1;
    rc = 0;
done:
    free(name);
    free(continued);
    return rc;
}

static int
table_finish_sheet(struct xlsx_table *t, struct fb_error *err)
{
    return t->row > t->header + 1 ? table_autofilter(t, t->row - 1, err) : 0;
}

struct xlsx_table *
xlsx_table_begin(struct xlsx_book *b, const char *sheet, const struct xlsx_heading *h,
                 const struct xlsx_col *cols, size_t ncols, struct fb_error *err)
{
    if (ncols == 0 || ncols > LXW_COL_MAX) {
        fb_error_set(err, FB_ERR_INPUT, "sheet \"%s\" must have 1 to %d columns", sheet,
                     LXW_COL_MAX);
        return NULL;
    }
    struct xlsx_table *t = own(b, xcalloc(1, sizeof(*t)));
    t->book = b;
    t->base_name = own(b, xstrdup(sheet));
    if (h)
        t->heading = *h;
    t->cols = cols;
    t->ncols = ncols;
    t->fmts = own(b, xcalloc(ncols, sizeof(*t->fmts)));
    t->widths = own(b, xcalloc(ncols, sizeof(*t->widths)));
    t->shown = own(b, xcalloc(ncols, sizeof(*t->shown)));
    t->cells = own(b, xcalloc(ncols, sizeof(*t->cells)));
    for (size_t c = 0; c < ncols; c++) {
        t->fmts[c] = data_format(b, cols[c].type, cols[c].format);
        t->widths[c] = default_width(&cols[c]);
    }
    t->part = 1;
    return table_sheet(t, err) < 0 ? NULL : t;
}

int
xlsx_table_row(struct xlsx_table *t, const char *const *values, struct fb_error *err)
{
    if (t->row >= t->book->max_rows) {
        if (table_finish_sheet(t, err) < 0)
            return -1;
        t->part++;
        if (table_sheet(t, err) < 0)
            return -1;
    }
    /* a row with wrapped text is given its height: readers do not all compute it */
    unsigned lines = 1;
    for (size_t c = 0; c < t->ncols; c++) {
        t->cells[c] = values[c];
        if (values[c] && t->cols[c].type == CELL_TEXT) {
            t->cells[c] = shown_text(values[c], t->shown[c]);
            unsigned l = text_lines(t->cells[c], t->widths[c], false);
            if (l > lines)
                lines = l;
        }
    }
    if (lines > 1 &&
        check(worksheet_set_row(t->ws, t->row, row_height(lines), NULL), err, "a row height",
              t->base_name) < 0)
        return -1;
    for (size_t c = 0; c < t->ncols; c++) {
        if (!t->cells[c])
            continue;
        lxw_error e = write_value(t->book, t->ws, t->row, (lxw_col_t)c, &t->cols[c], t->cells[c],
                                  t->fmts[c], false);
        if (e != LXW_NO_ERROR) {
            fb_error_set(err, FB_ERR_INTERNAL, "could not write row %lu of sheet \"%s\": %s",
                         (unsigned long)t->total + 1, t->base_name, lxw_strerror(e));
            return -1;
        }
    }
    t->row++;
    t->total++;
    return 0;
}

int
xlsx_table_end(struct xlsx_table *t, const char *empty_text, struct fb_error *err)
{
    if (t->total == 0 && empty_text &&
        check(write_text(t->ws, t->row, 0, empty_text, t->book->note), err, "the empty note",
              t->base_name) < 0)
        return -1;
    return table_finish_sheet(t, err);
}

uint64_t
xlsx_table_rows(const struct xlsx_table *t)
{
    return t->total;
}

/* ------------------------------------------------------------------ record sheets */

int
xlsx_record_sheet(struct xlsx_book *b, const char *sheet, const struct xlsx_heading *h,
                  const struct xlsx_col *cols, size_t ncols, const char *const *values,
                  size_t nrecords, const char *empty_text, struct fb_error *err)
{
    lxw_worksheet *ws = add_sheet(b, sheet, err);
    if (!ws)
        return -1;
    long r0 = heading(b, ws, sheet, h, NULL, err);
    if (r0 < 0)
        return -1;
    lxw_row_t r = (lxw_row_t)r0;
    if (nrecords + 1 > LXW_COL_MAX) {
        fb_error_set(err, FB_ERR_INPUT, "record sheet \"%s\" has too many records (%zu)", sheet,
                     nrecords);
        return -1;
    }
    double wlabel = 10, wvalue = 12;
    for (size_t c = 0; c < ncols; c++) {
        double wl = (double)cell_utf8_len(cols[c].header) + 2;
        if (wl > wlabel)
            wlabel = wl > 50 ? 50 : wl;
        double wv = declared_width(&cols[c]);
        if (wv > wvalue)
            wvalue = wv > RECORD_WIDTH_MAX ? RECORD_WIDTH_MAX : wv;
    }
    {
        double *w = xcalloc(nrecords + 1, sizeof(double));
        w[0] = wlabel;
        for (size_t k = 1; k <= nrecords; k++)
            w[k] = wvalue;
        page_fit(ws, w, nrecords + 1);
        free(w);
    }
    if (check(worksheet_set_column(ws, 0, 0, wlabel, NULL), err, "column widths", sheet) < 0 ||
        (nrecords > 0 && check(worksheet_set_column(ws, 1, (lxw_col_t)nrecords, wvalue, NULL), err,
                               "column widths", sheet) < 0))
        return -1;
    if (nrecords == 0)
        return check(write_text(ws, r, 0, empty_text ? empty_text : "No record.", b->note), err,
                     "the empty note", sheet);
    for (size_t c = 0; c < ncols; c++, r++) {
        unsigned lines = text_lines(cols[c].header, wlabel, true);
        for (size_t k = 0; k < nrecords; k++) {
            const char *v = values[k * ncols + c];
            char shown[IDTEXT_SHOWN_MAX];
            unsigned l = v && cols[c].type == CELL_TEXT
                             ? text_lines(shown_text(v, shown), wvalue, false)
                             : 1;
            if (l > lines)
                lines = l;
        }
        if (lines > 1 && check(worksheet_set_row(ws, r, row_height(lines), NULL), err,
                               "a row height", sheet) < 0)
            return -1;
        if (check(write_text(ws, r, 0, cols[c].header, b->label_wrap), err, "a label", sheet) < 0)
            return -1;
        const char *nf = cols[c].format ? cols[c].format : default_format(cols[c].type);
        lxw_format *f = aligned_format(b, cols[c].type, nf, true);
        for (size_t k = 0; k < nrecords; k++) {
            const char *v = values[k * ncols + c];
            if (v && check(write_value(b, ws, r, (lxw_col_t)(k + 1), &cols[c], v, f, true), err,
                           "a value", sheet) < 0)
                return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ box maps */

#define BOX_COL_WIDTH 15

struct xlsx_boxmap *
xlsx_boxmap_begin(struct xlsx_book *b, const char *sheet, const struct xlsx_heading *h,
                  const struct xlsx_state *states, size_t nstates, struct fb_error *err)
{
    struct xlsx_boxmap *m = own(b, xcalloc(1, sizeof(*m)));
    m->book = b;
    m->name = own(b, xstrdup(sheet));
    m->states = states;
    m->nstates = nstates;
    m->next = -1;
    m->fills = own(b, xcalloc(nstates ? nstates : 1, sizeof(*m->fills)));
    m->ws = add_sheet(b, sheet, err);
    if (!m->ws)
        return NULL;
    long r = heading(b, m->ws, sheet, h, NULL, err);
    if (r < 0)
        return NULL;
    m->row = (lxw_row_t)r;
    if (check(worksheet_set_column(m->ws, 0, 0, 5, NULL), err, "column widths", sheet) < 0 ||
        check(write_text(m->ws, m->row++, 0, "Legend", b->bold), err, "the legend", sheet) < 0)
        return NULL;
    for (size_t i = 0; i < nstates; i++) {
        lxw_format *f = new_format(b);
        format_set_pattern(f, LXW_PATTERN_SOLID);
        format_set_bg_color(f, states[i].rgb);
        format_set_border(f, LXW_BORDER_THIN);
        format_set_border_color(f, GRID_BORDER);
        format_set_font_size(f, 9);
        format_set_align(f, LXW_ALIGN_CENTER);
        m->fills[i] = f;
        if (check(write_text(m->ws, m->row++, 1, states[i].label, f), err, "the legend", sheet) < 0)
            return NULL;
    }
    m->row++;
    m->maxcols = 1;
    return m;
}

/* Draws the positions of the current box before position `upto` (row-major index) as empty. */
static int
boxmap_fill(struct xlsx_boxmap *m, long upto, struct fb_error *err)
{
    for (; m->next < upto; m->next++) {
        int r = (int)(m->next / m->ncols), c = (int)(m->next % m->ncols);
        if (c == 0) {
            char lab[8];
            cell_row_label(r + 1, lab);
            if (check(write_text(m->ws, m->top + (lxw_row_t)r, 0, lab, m->book->label), err,
                      "a box row label", m->name) < 0)
                return -1;
        }
        if (check(worksheet_write_blank(m->ws, m->top + (lxw_row_t)r, (lxw_col_t)(c + 1),
                                        m->book->grid_empty),
                  err, "a box position", m->name) < 0)
            return -1;
    }
    return 0;
}

static int
boxmap_finish_box(struct xlsx_boxmap *m, struct fb_error *err)
{
    if (m->next < 0)
        return 0;
    if (boxmap_fill(m, (long)m->nrows * m->ncols, err) < 0)
        return -1;
    m->row = m->top + (lxw_row_t)m->nrows + 1;
    m->next = -1;
    return 0;
}

int
xlsx_boxmap_box(struct xlsx_boxmap *m, const char *caption, int nrows, int ncols,
                struct fb_error *err)
{
    if (boxmap_finish_box(m, err) < 0)
        return -1;
    if (nrows < 1 || nrows > 100 || ncols < 1 || ncols > 100) {
        fb_error_set(err, FB_ERR_INPUT,
                     "cannot draw box \"%s\" of %d rows and %d columns on sheet \"%s\"",
                     caption ? caption : "", nrows, ncols, m->name);
        fb_error_detail(err, "A box map draws boxes of 1 to 100 rows and columns.");
        return -1;
    }
    if (m->row + (lxw_row_t)nrows + 3 >= LXW_ROW_MAX) {
        fb_error_set(err, FB_ERR_INPUT, "too many boxes for one box-map sheet \"%s\"", m->name);
        return -1;
    }
    if (check(write_text(m->ws, m->row++, 0, caption ? caption : "", m->book->bold), err,
              "a box caption", m->name) < 0)
        return -1;
    for (int c = 1; c <= ncols; c++)
        if (check(worksheet_write_number(m->ws, m->row, (lxw_col_t)c, c, m->book->label), err,
                  "a box column label", m->name) < 0)
            return -1;
    m->top = ++m->row;
    m->nrows = nrows;
    m->ncols = ncols;
    m->next = 0;
    if (ncols > m->maxcols)
        m->maxcols = ncols;
    m->boxes++;
    return 0;
}

int
xlsx_boxmap_cell(struct xlsx_boxmap *m, int row, int col, const char *label, const char *state,
                 struct fb_error *err)
{
    if (m->next < 0) {
        fb_error_set(err, FB_ERR_INTERNAL, "box-map cell before any box on sheet \"%s\"", m->name);
        return -1;
    }
    if (row < 1 || row > m->nrows || col < 1 || col > m->ncols) {
        char lab[8];
        cell_row_label(row, lab);
        fb_error_set(err, FB_ERR_INPUT, "position %s%d is outside a box of %d rows and %d columns",
                     lab, col, m->nrows, m->ncols);
        return -1;
    }
    long k = (long)(row - 1) * m->ncols + (col - 1);
    if (k < m->next) {
        char lab[8];
        cell_row_label(row, lab);
        fb_error_set(err, FB_ERR_INPUT,
                     "position %s%d comes twice or out of order on box-map "
                     "sheet \"%s\"",
                     lab, col, m->name);
        fb_error_hint(err, "Order the box-map query by box, row and col, one row per position.");
        return -1;
    }
    if (boxmap_fill(m, k, err) < 0)
        return -1;
    if (col == 1) {
        char lab[8];
        cell_row_label(row, lab);
        if (check(write_text(m->ws, m->top + (lxw_row_t)(row - 1), 0, lab, m->book->label), err,
                  "a box row label", m->name) < 0)
            return -1;
    }
    lxw_format *f = m->book->grid_other;
    for (size_t i = 0; state && i < m->nstates; i++)
        if (strcmp(m->states[i].name, state) == 0) {
            f = m->fills[i];
            break;
        }
    char shown[IDTEXT_SHOWN_MAX]; /* an ID: as a person reads it */
    lxw_error e =
        label && *label
            ? (lxw_error)write_text(m->ws, m->top + (lxw_row_t)(row - 1), (lxw_col_t)col,
                                    shown_text(label, shown), f)
            : worksheet_write_blank(m->ws, m->top + (lxw_row_t)(row - 1), (lxw_col_t)col, f);
    if (check(e, err, "a box position", m->name) < 0)
        return -1;
    m->next = k + 1;
    return 0;
}

int
xlsx_boxmap_end(struct xlsx_boxmap *m, const char *empty_text, struct fb_error *err)
{
    if (boxmap_finish_box(m, err) < 0)
        return -1;
    if (m->boxes == 0 &&
        check(write_text(m->ws, m->row, 0, empty_text ? empty_text : "No box.", m->book->note), err,
              "the empty note", m->name) < 0)
        return -1;
    double *w = xcalloc((size_t)m->maxcols + 1, sizeof(double));
    w[0] = 5;
    for (int c = 1; c <= m->maxcols; c++)
        w[c] = BOX_COL_WIDTH;
    page_fit(m->ws, w, (size_t)m->maxcols + 1);
    free(w);
    return check(worksheet_set_column(m->ws, 1, (lxw_col_t)m->maxcols, BOX_COL_WIDTH, NULL), err,
                 "column widths", m->name);
}
