/* fuzz_cell.c: the spreadsheet cell parsers, fed PostgreSQL's text output of any value a report
 * query returns (dates, timestamps, numbers, booleans, free text), and Excel's naming rules.
 * Invariants: an accepted date is a real calendar date Excel can hold; an accepted number is
 * finite; UTF-8 lengths and prefixes stay within the string. */
#include "fuzz.h"

#include "report/cell.h"

#include <math.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    size_t len = strlen(s);
    struct cell_datetime dt;
    for (int with_time = 0; with_time <= 1; with_time++)
        if (cell_parse_datetime(s, with_time, &dt) == 0) {
            CHECK(dt.year >= 1900 && dt.year <= 9999);
            CHECK(dt.month >= 1 && dt.month <= 12);
            CHECK(dt.day >= 1 && dt.day <= 31);
            CHECK(dt.hour >= 0 && dt.hour <= 23 && dt.min >= 0 && dt.min <= 59);
            CHECK(dt.sec >= 0 && dt.sec < 61);
            if (!with_time)
                CHECK(dt.hour == 0 && dt.min == 0 && dt.sec == 0);
        }
    double d;
    if (cell_parse_number(s, &d) == 0)
        CHECK(isfinite(d));
    bool b;
    if (cell_parse_bool(s, &b) == 0)
        CHECK(b ? strcmp(s, "t") == 0 || strcmp(s, "true") == 0
                : strcmp(s, "f") == 0 || strcmp(s, "false") == 0);

    size_t chars = cell_utf8_len(s);
    CHECK(chars <= len);
    size_t max = size ? data[0] : 0;
    size_t pre = cell_utf8_prefix(s, max);
    CHECK(pre <= len);
    CHECK(cell_utf8_prefix(s, chars) == len);
    if (max >= chars)
        CHECK(pre == len);

    const char *why = cell_sheet_name_problem(s);
    if (!why)
        CHECK(len > 0 && !strpbrk(s, "[]:*?/\\") && s[0] != '\'' && s[len - 1] != '\'');

    char label[8];
    int row = size >= 2 ? (data[0] | data[1] << 8) % 1000 + 1 : 1;
    cell_row_label(row, label);
    CHECK(memchr(label, '\0', sizeof(label)) != NULL && label[0] >= 'A' && label[0] <= 'Z');
    free(s);
    return 0;
}
