/* bench_xlsx.c: the baselines for tests/bench/bench_report.sh: libxlsxwriter alone (constant_memory
 * mode) writing, from values made in C, what the measured reports write:
 *  - "bench_xlsx ROWS OUT.xlsx": N rows of the same 9 typed columns the "bench" report writes, with
 *    the same header, formats, frozen pane and autofilter;
 *  - "bench_xlsx ROWS OUT.xlsx inventory": the two long sheets of the inventory report for ROWS
 *    tubes in 10 x 10 boxes (tests/bench/gen_inventory.sql's layout): "Aliquots", the same 11
 *    typed columns under the same title, header, freeze and autofilter, and "Box map", the same
 *    legend, captions, row and column labels and one filled, bordered cell per position. The
 *    cells are those the report writes: IDs as a person reads them (check character set apart,
 *    "L26500001-001 ·V", README "IDs people can read aloud"), each text cell wrapped and aligned
 *    to the top of its row, booleans the words yes and no (centred), timestamps with their UTC
 *    offset in the format, dates and timestamps aligned to the top (src/report/xlsx.c); and the
 *    values gen_inventory.sql makes: IDs with their real check characters, processing times
 *    counted back from now (so that the sheets compress as the report's do).
 * Not a test: a yardstick. */
#include "common/checkchar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <xlsxwriter.h>

static const char *const states[] = {"quarantine", "released", "issued",
                                     "recalled",   "expired",  "discarded"};

static int inventory(long rows, const char *path);

int
main(int argc, char **argv)
{
    if (argc != 3 && !(argc == 4 && strcmp(argv[3], "inventory") == 0)) {
        fprintf(stderr, "usage: bench_xlsx ROWS OUT.xlsx [inventory]\n");
        return 2;
    }
    long rows = strtol(argv[1], NULL, 10);
    if (argc == 4)
        return inventory(rows, argv[2]);
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = NULL, .use_zip64 = LXW_TRUE};
    lxw_workbook *wb = workbook_new_opt(argv[2], &opt);
    if (!wb)
        return 1;
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Aliquots");
    lxw_format *bold = workbook_add_format(wb), *intf = workbook_add_format(wb),
               *tsf = workbook_add_format(wb), *datef = workbook_add_format(wb);
    format_set_bold(bold);
    format_set_num_format(intf, "0");
    format_set_num_format(tsf, "yyyy-mm-dd hh:mm");
    format_set_num_format(datef, "yyyy-mm-dd");
    static const char *const head[] = {"Row", "Aliquot",  "Lot",       "Donor",  "State",
                                       "Box", "Position", "Collected", "Expires"};
    lxw_error e = LXW_NO_ERROR;
    for (int c = 0; c < 9 && !e; c++)
        e = worksheet_write_string(ws, 0, (lxw_col_t)c, head[c], bold);
    worksheet_freeze_panes(ws, 1, 0);
    char aliquot[48], lot[32], donor[32], box[32], pos[32];
    for (long i = 1; i <= rows && !e; i++) {
        long l = (i - 1) / 10 + 1;
        snprintf(lot, sizeof(lot), "L26%06ldX", l);
        snprintf(aliquot, sizeof(aliquot), "L26%06ld-%03ldX", l, (i - 1) % 10 + 1);
        snprintf(donor, sizeof(donor), "D-%04ld", (l - 1) % 5000 + 1);
        snprintf(box, sizeof(box), "B%06ldX", (i - 1) / 100 + 1);
        snprintf(pos, sizeof(pos), "%c%ld", 'A' + (int)((i - 1) % 100 / 10), (i - 1) % 10 + 1);
        lxw_datetime ts = {2026,          (int)(l % 12) + 1, (int)(l % 28) + 1,
                           (int)(l % 24), (int)(l % 60),     0};
        lxw_datetime ex = {2027, (int)(l % 12) + 1, (int)(l % 28) + 1, 0, 0, 0};
        lxw_row_t r = (lxw_row_t)i;
        e = worksheet_write_number(ws, r, 0, (double)i, intf);
        if (!e)
            e = worksheet_write_string(ws, r, 1, aliquot, NULL);
        if (!e)
            e = worksheet_write_string(ws, r, 2, lot, NULL);
        if (!e)
            e = worksheet_write_string(ws, r, 3, donor, NULL);
        if (!e)
            e = worksheet_write_string(ws, r, 4, states[i % 6], NULL);
        if (!e)
            e = worksheet_write_string(ws, r, 5, box, NULL);
        if (!e)
            e = worksheet_write_string(ws, r, 6, pos, NULL);
        if (!e)
            e = worksheet_write_datetime(ws, r, 7, &ts, tsf);
        if (!e)
            e = worksheet_write_datetime(ws, r, 8, &ex, datef);
    }
    if (!e)
        e = worksheet_autofilter(ws, 0, 0, (lxw_row_t)rows, 8);
    lxw_error ce = workbook_close(wb);
    if (e || ce) {
        fprintf(stderr, "bench_xlsx: %s\n", lxw_strerror(e ? e : ce));
        return 1;
    }
    return 0;
}

/* The ID with body `body` as the report shows it: its check character set apart. */
static void
shown_id(char *out, size_t size, const char *body)
{
    snprintf(out, size, "%s \xc2\xb7%c", body, checkchar_compute(body));
}

/* The moment `secs` seconds before now (now: fractional seconds), as an lxw_datetime in UTC. */
static lxw_datetime
before(double now, double secs)
{
    double t = now - secs;
    time_t whole = (time_t)t;
    struct tm tm;
    gmtime_r(&whole, &tm);
    lxw_datetime d = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour,        tm.tm_min,     tm.tm_sec + (t - (double)whole)};
    return d;
}

/* The inventory report's two long sheets (see the header comment). */
static int
inventory(long rows, const char *path)
{
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = NULL, .use_zip64 = LXW_TRUE};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    if (!wb)
        return 1;
    lxw_format *title = workbook_add_format(wb), *sub = workbook_add_format(wb),
               *head = workbook_add_format(wb), *tsf = workbook_add_format(wb),
               *datef = workbook_add_format(wb), *bold = workbook_add_format(wb),
               *label = workbook_add_format(wb), *empty = workbook_add_format(wb),
               *text = workbook_add_format(wb), *yesno = workbook_add_format(wb);
    format_set_bold(title);
    format_set_font_size(title, 14);
    format_set_italic(sub);
    format_set_bold(head);
    format_set_bg_color(head, 0xD9E1F2);
    format_set_bottom(head, LXW_BORDER_THIN);
    format_set_text_wrap(head);
    format_set_align(head, LXW_ALIGN_VERTICAL_TOP);
    format_set_num_format(tsf, "yyyy-mm-dd hh:mm \"+00:00\"");
    format_set_align(tsf, LXW_ALIGN_VERTICAL_TOP);
    format_set_num_format(datef, "yyyy-mm-dd");
    format_set_align(datef, LXW_ALIGN_VERTICAL_TOP);
    format_set_align(text, LXW_ALIGN_VERTICAL_TOP);
    format_set_text_wrap(text);
    format_set_align(yesno, LXW_ALIGN_VERTICAL_TOP);
    format_set_align(yesno, LXW_ALIGN_CENTER);
    format_set_bold(bold);
    format_set_bold(label);
    format_set_align(label, LXW_ALIGN_CENTER);
    format_set_align(label, LXW_ALIGN_VERTICAL_CENTER);
    format_set_border(empty, LXW_BORDER_THIN);
    format_set_border_color(empty, 0x808080);
    static const char *const st[] = {"quarantine", "released", "issued",
                                     "recalled",   "expired",  "discarded"};
    static const char *const stlabel[] = {"Quarantine", "Released", "Issued",
                                          "Recalled",   "Expired",  "Discarded"};
    static const lxw_color_t rgb[] = {0xFFEB9C, 0xC6EFCE, 0xBDD7EE, 0xFFC7CE, 0xD9D9D9, 0xA6A6A6};
    lxw_format *fill[6];
    for (int i = 0; i < 6; i++) {
        fill[i] = workbook_add_format(wb);
        format_set_pattern(fill[i], LXW_PATTERN_SOLID);
        format_set_bg_color(fill[i], rgb[i]);
        format_set_border(fill[i], LXW_BORDER_THIN);
        format_set_border_color(fill[i], 0x808080);
        format_set_font_size(fill[i], 9);
        format_set_align(fill[i], LXW_ALIGN_CENTER);
    }
    static const char *const hd[] = {"Freezer",         "Rack",      "Box",    "Position",
                                     "Aliquot",         "Lot",       "Donor",  "State",
                                     "Retained sample", "Processed", "Expires"};
    static const double width[] = {9, 8, 11, 9, 16, 12, 11, 11, 10, 17, 11};
    lxw_error e = LXW_NO_ERROR;
    char freezer[48], rack[32], box[48], pos[32], aliquot[48], lot[48], donor[32], caption[200];
    char body[32], fbody[32];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    double now = (double)tv.tv_sec + tv.tv_usec / 1e6;
    const double day = 86400;

    /* Aliquots: the tube of position (r, c) of box b is tube n = (b - 1) * 100 + (r - 1) * 10 + c,
     * index (n - 1) % 10 of lot (n - 1) / 10 + 1, as gen_inventory.sql makes them. */
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Aliquots");
    e = worksheet_write_string(ws, 0, 0, "Inventory: aliquots in boxes, by position", title);
    if (!e)
        e = worksheet_write_string(ws, 1, 0, "Stock on 2026-11-27", sub);
    for (int c = 0; c < 11 && !e; c++) {
        e = worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, width[c] + 0.7, NULL);
        if (!e)
            e = worksheet_write_string(ws, 3, (lxw_col_t)c, hd[c], head);
    }
    worksheet_freeze_panes(ws, 4, 0);
    for (long n = 1; n <= rows && !e; n++) {
        long b = (n - 1) / 100 + 1, l = (n - 1) / 10 + 1, k = (n - 1) % 10;
        int r = (int)((n - 1) % 100 / 10), c = (int)((n - 1) % 10);
        snprintf(body, sizeof(body), "F%04ld", 5000 + (b - 1) / 500 + 1);
        shown_id(freezer, sizeof(freezer), body);
        snprintf(rack, sizeof(rack), "R%ld", (b - 1) % 500 / 25 + 1);
        snprintf(body, sizeof(body), "B%06ld", 300000 + b);
        shown_id(box, sizeof(box), body);
        snprintf(pos, sizeof(pos), "%c%d", 'A' + r, c + 1);
        snprintf(body, sizeof(body), "L26%06ld", 500000 + l);
        shown_id(lot, sizeof(lot), body);
        snprintf(body, sizeof(body), "L26%06ld-%03ld", 500000 + l, k);
        shown_id(aliquot, sizeof(aliquot), body);
        snprintf(donor, sizeof(donor), "D-%ld", 20000000 + 1 + l % 1000);
        int s = l % 20 == 7 && k > 0 ? 3 : l % 20 == 3 ? 4 : l % 10 < 6 && k > 0 ? 1 : 0;
        /* processed 6 hours after a day up to 700 days ago; expiring 730 days later, or 3 days
         * ago (expired), or within 30 days (1 lot in 100) */
        double ago = (double)(l % 700) * day + 6 * 3600;
        lxw_datetime pr = before(now, ago);
        lxw_datetime ex = l % 20 == 3     ? before(now, 3 * day)
                          : l % 100 == 11 ? before(now, -(double)(l % 30) * day - 3600)
                                          : before(now, ago - 730 * day);
        ex.hour = ex.min = 0;
        ex.sec = 0;
        lxw_row_t row = (lxw_row_t)(n + 3);
        const char *cells[] = {freezer, rack, box, pos, aliquot, lot, donor, st[s]};
        for (int i = 0; i < 8 && !e; i++)
            e = worksheet_write_string(ws, row, (lxw_col_t)i, cells[i], text);
        if (!e)
            e = worksheet_write_string(ws, row, 8, k == 0 ? "yes" : "no", yesno);
        if (!e)
            e = worksheet_write_datetime(ws, row, 9, &pr, tsf);
        if (!e)
            e = worksheet_write_datetime(ws, row, 10, &ex, datef);
    }
    if (!e)
        e = worksheet_autofilter(ws, 3, 0, (lxw_row_t)(rows + 3), 10);

    /* Box map: legend, then per box a caption, column numbers, rows A.. with a cell each. */
    lxw_worksheet *bm = workbook_add_worksheet(wb, "Box map");
    lxw_row_t row = 0;
    if (!e)
        e = worksheet_write_string(bm, row++, 0, "Inventory: box map", title);
    if (!e)
        e = worksheet_write_string(bm, row++, 0, "Stock on 2026-11-27", sub);
    row++;
    if (!e)
        e = worksheet_set_column(bm, 0, 0, 5, NULL);
    if (!e)
        e = worksheet_write_string(bm, row++, 0, "Legend", bold);
    for (int i = 0; i < 6 && !e; i++)
        e = worksheet_write_string(bm, row++, 1, stlabel[i], fill[i]);
    row++;
    long boxes = (rows + 99) / 100;
    for (long b = 1; b <= boxes && !e; b++) {
        snprintf(body, sizeof(body), "B%06ld", 300000 + b);
        shown_id(box, sizeof(box), body);
        snprintf(fbody, sizeof(fbody), "F%04ld", 5000 + (b - 1) / 500 + 1);
        shown_id(freezer, sizeof(freezer), fbody);
        snprintf(caption, sizeof(caption), "%s \xe2\x80\x94 Bench freezer %ld (%s), rack R%ld", box,
                 (b - 1) / 500 + 1, freezer, (b - 1) % 500 / 25 + 1);
        e = worksheet_write_string(bm, row++, 0, caption, bold);
        for (int c = 1; c <= 10 && !e; c++)
            e = worksheet_write_number(bm, row, (lxw_col_t)c, c, label);
        row++;
        for (int r = 0; r < 10 && !e; r++) {
            char letter[2] = {(char)('A' + r), 0};
            e = worksheet_write_string(bm, row + (lxw_row_t)r, 0, letter, label);
            for (int c = 0; c < 10 && !e; c++) {
                long n = (b - 1) * 100 + r * 10 + c + 1, l = (n - 1) / 10 + 1, k = (n - 1) % 10;
                if (n > rows) {
                    e = worksheet_write_blank(bm, row + (lxw_row_t)r, (lxw_col_t)(c + 1), empty);
                    continue;
                }
                int s = l % 20 == 7 && k > 0 ? 3 : l % 20 == 3 ? 4 : l % 10 < 6 && k > 0 ? 1 : 0;
                snprintf(body, sizeof(body), "L26%06ld-%03ld", 500000 + l, k);
                shown_id(aliquot, sizeof(aliquot), body);
                e = worksheet_write_string(bm, row + (lxw_row_t)r, (lxw_col_t)(c + 1), aliquot,
                                           fill[s]);
            }
        }
        row += 11;
    }
    if (!e)
        e = worksheet_set_column(bm, 1, 10, 15, NULL);
    lxw_error ce = workbook_close(wb);
    if (e || ce) {
        fprintf(stderr, "bench_xlsx: %s\n", lxw_strerror(e ? e : ce));
        return 1;
    }
    return 0;
}
