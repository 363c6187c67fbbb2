/* test_report_cell.c: PostgreSQL text → cell values (dates, timestamps, numbers, booleans) and
 * Excel's limits (text length, sheet names), box row labels. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "report/cell.h"

static void
test_dates(void **state)
{
    (void)state;
    struct cell_datetime d;
    assert_int_equal(cell_parse_datetime("2026-11-27", false, &d), 0);
    assert_int_equal(d.year, 2026);
    assert_int_equal(d.month, 11);
    assert_int_equal(d.day, 27);
    assert_int_equal(d.hour, 0);
    assert_int_equal(cell_parse_datetime("2024-02-29", false, &d), 0); /* leap year */
    assert_int_equal(cell_parse_datetime("2000-02-29", false, &d), 0);
    assert_int_equal(cell_parse_datetime("1900-01-01", false, &d), 0);
    assert_int_equal(cell_parse_datetime("2026-02-29", false, &d), -1);
    assert_int_equal(cell_parse_datetime("1900-02-29", false, &d), -1);
    assert_int_equal(cell_parse_datetime("2026-04-31", false, &d), -1);
    assert_int_equal(cell_parse_datetime("2026-13-01", false, &d), -1);
    assert_int_equal(cell_parse_datetime("1899-12-31", false, &d), -1); /* before Excel's epoch */
    assert_int_equal(cell_parse_datetime("infinity", false, &d), -1);
    assert_int_equal(cell_parse_datetime("-infinity", false, &d), -1);
    assert_int_equal(cell_parse_datetime("0044-03-15 BC", false, &d), -1);
    assert_int_equal(cell_parse_datetime("12026-01-01", false, &d), -1);
    assert_int_equal(cell_parse_datetime("2026-11-27 08:30:00", false, &d), -1); /* a date column */
    assert_int_equal(cell_parse_datetime("", false, &d), -1);
}

static void
test_timestamps(void **state)
{
    (void)state;
    struct cell_datetime d;
    assert_int_equal(cell_parse_datetime("2026-11-27 08:30:15+01", true, &d), 0);
    assert_int_equal(d.hour, 8);
    assert_int_equal(d.min, 30);
    assert_true(d.sec == 15);
    assert_string_equal(d.offset, "+01:00"); /* kept for the printed format */
    assert_int_equal(cell_parse_datetime("2026-11-27 23:59:59.250001-05:30", true, &d), 0);
    assert_true(fabs(d.sec - 59.250001) < 1e-9);
    assert_string_equal(d.offset, "-05:30");
    assert_int_equal(cell_parse_datetime("2026-11-27 00:00:00+05:45:00", true, &d), 0);
    assert_string_equal(d.offset, "+05:45");
    assert_int_equal(cell_parse_datetime("2026-11-27 08:30:00", true, &d), 0); /* without zone */
    assert_string_equal(d.offset, "");
    assert_int_equal(cell_parse_datetime("2026-11-27T08:30", true, &d), 0);
    assert_int_equal(cell_parse_datetime("2026-11-27", true, &d), 0); /* midnight */
    assert_int_equal(d.hour, 0);
    assert_int_equal(cell_parse_datetime("2026-11-27 24:00:00", true, &d), -1);
    assert_int_equal(cell_parse_datetime("2026-11-27 08:60:00", true, &d), -1);
    assert_int_equal(cell_parse_datetime("2026-11-27 08:30:00.", true, &d), -1);
    assert_int_equal(cell_parse_datetime("2026-11-27 08:30:00+01 BC", true, &d), -1);
    assert_int_equal(cell_parse_datetime("2026-11-27 08:30:00 x", true, &d), -1);
    /* Found by fuzz_cell: a long run of fractional nines summed in floating point reached the
     * next second (59.999... gave 60, 60.999... gave 61, a second Excel has not). */
    assert_int_equal(cell_parse_datetime("2026-11-27 23:59:59.99999999999999999999999999", true,
                                         &d), 0);
    assert_true(d.sec < 60);
    assert_int_equal(cell_parse_datetime("2026-11-27 23:59:60.99999999999999999999999999", true,
                                         &d), 0);
    assert_true(d.sec < 61);
    assert_int_equal(cell_parse_datetime("2026-11-27 23:59:60.9999999999999999x", true, &d), -1);
}

static void
test_numbers_and_booleans(void **state)
{
    (void)state;
    double v;
    assert_int_equal(cell_parse_number("42", &v), 0);
    assert_true(v == 42);
    assert_int_equal(cell_parse_number("-3.5e2", &v), 0);
    assert_true(v == -350);
    assert_int_equal(cell_parse_number("0.10", &v), 0);
    assert_true(v == 0.1);
    assert_int_equal(cell_parse_number("NaN", &v), -1);
    assert_int_equal(cell_parse_number("Infinity", &v), -1);
    assert_int_equal(cell_parse_number("-Infinity", &v), -1);
    assert_int_equal(cell_parse_number("0x10", &v), -1);
    assert_int_equal(cell_parse_number("1e999", &v), -1);
    assert_int_equal(cell_parse_number("12abc", &v), -1);
    assert_int_equal(cell_parse_number("", &v), -1);
    bool b;
    assert_int_equal(cell_parse_bool("t", &b), 0);
    assert_true(b);
    assert_int_equal(cell_parse_bool("f", &b), 0);
    assert_false(b);
    assert_int_equal(cell_parse_bool("maybe", &b), -1);
}

static void
test_text_limits(void **state)
{
    (void)state;
    assert_int_equal(cell_utf8_len("Qualmann"), 8);
    assert_int_equal(cell_utf8_len("DRAFT — NOT"), 11); /* the dash is 3 bytes, 1 character */
    assert_int_equal(cell_utf8_prefix("abc", 2), 2);
    assert_int_equal(cell_utf8_prefix("a—c", 2), 4);
    assert_int_equal(cell_utf8_prefix("abc", 10), 3);
    assert_null(cell_sheet_name_problem("Box map"));
    assert_null(cell_sheet_name_problem("1234567890123456789012345678901"));
    assert_non_null(cell_sheet_name_problem(""));
    assert_non_null(cell_sheet_name_problem("12345678901234567890123456789012"));
    assert_non_null(cell_sheet_name_problem("a/b"));
    assert_non_null(cell_sheet_name_problem("'quoted'"));
    assert_null(cell_sheet_name_problem("Ärzte — Übersicht")); /* characters, not bytes */
}

static void
test_row_labels(void **state)
{
    (void)state;
    char b[8];
    cell_row_label(1, b);
    assert_string_equal(b, "A");
    cell_row_label(16, b);
    assert_string_equal(b, "P");
    cell_row_label(26, b);
    assert_string_equal(b, "Z");
    cell_row_label(27, b);
    assert_string_equal(b, "AA");
    cell_row_label(52, b);
    assert_string_equal(b, "AZ");
    cell_row_label(703, b);
    assert_string_equal(b, "AAA");
    cell_row_label(0, b);
    assert_string_equal(b, "?");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_numbers_and_booleans),
        cmocka_unit_test(test_text_limits),
        cmocka_unit_test(test_row_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
