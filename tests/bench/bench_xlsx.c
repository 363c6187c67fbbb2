/* bench_xlsx.c: the baseline for tests/bench/bench_report.sh: libxlsxwriter alone (constant_memory
 * mode) writing N rows of the same 9 typed columns the report benchmark writes, from values made
 * in C, with the same header, formats, frozen pane and autofilter. Not a test: a yardstick.
 * Usage: bench_xlsx ROWS OUT.xlsx */
#include <stdio.h>
#include <stdlib.h>
#include <xlsxwriter.h>

static const char *const states[] = {"quarantine", "released", "issued",
                                     "recalled",   "expired",  "discarded"};

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_xlsx ROWS OUT.xlsx\n");
        return 2;
    }
    long rows = strtol(argv[1], NULL, 10);
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
