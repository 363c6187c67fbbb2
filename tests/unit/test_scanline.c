/* test_scanline.c: the scan-line parser: every kind of scan, normalisation, and every way a scan
 * is rejected before it reaches the database (bad check character, malformed, unknown). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/checkchar.h"
#include "common/scanline.h"

/* A valid ID: body plus its check character. */
static const char *
with_check(const char *body)
{
    static char buf[64];
    size_t n = strlen(body);
    memcpy(buf, body, n);
    buf[n] = checkchar_compute(body);
    buf[n + 1] = '\0';
    return buf;
}

static void
test_kinds(void **state)
{
    (void)state;
    struct scan_line sl;
    scanline_parse(with_check("B000012"), &sl);
    assert_int_equal(sl.kind, SCAN_BOX);
    scanline_parse(with_check("L26000001-003"), &sl);
    assert_int_equal(sl.kind, SCAN_ALIQUOT);
    scanline_parse(with_check("L26000001"), &sl);
    assert_int_equal(sl.kind, SCAN_LOT);
    assert_non_null(strstr(sl.message, "is a lot ID, not a box, position or tube"));
    scanline_parse(with_check("F0001"), &sl);
    assert_int_equal(sl.kind, SCAN_FREEZER);
    assert_non_null(strstr(sl.message, "is a freezer ID"));
    scanline_parse("END", &sl);
    assert_int_equal(sl.kind, SCAN_END);
}

static void
test_normalised(void **state)
{
    (void)state;
    struct scan_line sl;
    char lower[32];
    snprintf(lower, sizeof(lower), "  %s\r\n", with_check("L26000001-003"));
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    scanline_parse(lower, &sl);
    assert_int_equal(sl.kind, SCAN_ALIQUOT);
    assert_string_equal(sl.text, with_check("L26000001-003"));
    scanline_parse("   \t\r\n", &sl);
    assert_int_equal(sl.kind, SCAN_EMPTY);
    scanline_parse("", &sl);
    assert_int_equal(sl.kind, SCAN_EMPTY);
    scanline_parse("end\n", &sl);
    assert_int_equal(sl.kind, SCAN_END);
}

static void
test_positions(void **state)
{
    (void)state;
    struct scan_line sl;
    scanline_parse("c4", &sl);
    assert_int_equal(sl.kind, SCAN_POSITION);
    assert_string_equal(sl.text, "C4");
    assert_int_equal(sl.row, 3);
    assert_int_equal(sl.col, 4);
    scanline_parse("P24", &sl);
    assert_int_equal(sl.kind, SCAN_POSITION);
    assert_int_equal(sl.row, 16);
    assert_int_equal(sl.col, 24);
    /* Outside every box is for the database to say (it knows the box); the shape is fine. */
    scanline_parse("Z99", &sl);
    assert_int_equal(sl.kind, SCAN_POSITION);
    scanline_parse("A0", &sl);
    assert_int_equal(sl.kind, SCAN_INVALID);
    assert_string_equal(sl.message, "invalid position \"A0\"");
    scanline_parse("A100", &sl);
    assert_int_equal(sl.kind, SCAN_INVALID);
}

static void
test_modes(void **state)
{
    (void)state;
    struct scan_line sl;
    scanline_parse("MODE retrieve", &sl);
    assert_int_equal(sl.kind, SCAN_MODE);
    assert_int_equal(sl.mode, SCAN_MODE_RETRIEVE);
    scanline_parse("mode   Audit", &sl);
    assert_int_equal(sl.kind, SCAN_MODE);
    assert_int_equal(sl.mode, SCAN_MODE_AUDIT);
    scanline_parse("MODE store", &sl);
    assert_int_equal(sl.mode, SCAN_MODE_STORE);
    scanline_parse("MODE fly", &sl);
    assert_int_equal(sl.kind, SCAN_INVALID);
    assert_string_equal(sl.message, "invalid scan mode \"fly\"");
    assert_non_null(sl.hint);
    scanline_parse("MODE", &sl);
    assert_int_equal(sl.kind, SCAN_INVALID);
    scanline_parse("MODEL X", &sl);
    assert_int_equal(sl.kind, SCAN_INVALID);
    assert_non_null(strstr(sl.message, "unrecognised scan"));
    enum scan_mode m;
    assert_true(scan_mode_parse("AUDIT", &m));
    assert_int_equal(m, SCAN_MODE_AUDIT);
    assert_true(scan_mode_parse("Issue", &m));
    assert_int_equal(m, SCAN_MODE_ISSUE);
    assert_false(scan_mode_parse("", &m));
    assert_string_equal(scan_mode_name(SCAN_MODE_RETRIEVE), "retrieve");
}

/* Every single-character misread of a valid aliquot ID is caught by its check character. */
static void
test_bad_check_characters(void **state)
{
    (void)state;
    char id[32];
    snprintf(id, sizeof(id), "%s", with_check("L26000001-003"));
    const char *alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";
    struct scan_line sl;
    size_t n = strlen(id);
    for (size_t pos = 0; pos < n; pos++) {
        char orig = id[pos];
        if (orig == '-' || orig == 'L')
            continue;
        for (const char *a = alphabet; *a; a++) {
            if (*a == orig)
                continue;
            /* keep the shape: digits stay digits, except the check character itself */
            if (pos + 1 < n && !(*a >= '0' && *a <= '9'))
                continue;
            id[pos] = *a;
            scanline_parse(id, &sl);
            assert_int_equal(sl.kind, SCAN_INVALID);
            assert_non_null(strstr(sl.message, "invalid check character in aliquot ID"));
            assert_non_null(sl.detail);
        }
        id[pos] = orig;
    }
    scanline_parse(id, &sl);
    assert_int_equal(sl.kind, SCAN_ALIQUOT);
    /* transposition of two digits */
    char box[16];
    snprintf(box, sizeof(box), "%s", with_check("B000012"));
    char t = box[5];
    box[5] = box[6];
    box[6] = t;
    scanline_parse(box, &sl);
    assert_int_equal(sl.kind, SCAN_INVALID);
    assert_non_null(strstr(sl.message, "invalid check character in box ID"));
}

static void
test_garbage(void **state)
{
    (void)state;
    struct scan_line sl;
    scanline_parse("hello world", &sl);
    assert_int_equal(sl.kind, SCAN_INVALID);
    assert_string_equal(sl.message, "unrecognised scan \"HELLO WORLD\"");
    assert_non_null(sl.hint);
    scanline_parse("B00001", &sl); /* too short for a box */
    assert_int_equal(sl.kind, SCAN_INVALID);
    scanline_parse("L26000001-03X", &sl);
    assert_int_equal(sl.kind, SCAN_INVALID);
    scanline_parse("B000012\x01X", &sl);
    assert_int_equal(sl.kind, SCAN_INVALID);
    assert_non_null(strstr(sl.message, "control character"));
    char longline[200];
    memset(longline, 'A', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    scanline_parse(longline, &sl);
    assert_int_equal(sl.kind, SCAN_INVALID);
    assert_non_null(strstr(sl.message, "too long"));
    /* a quote in a scan stays inside the message */
    scanline_parse("a\"b", &sl);
    assert_int_equal(sl.kind, SCAN_INVALID);
    assert_string_equal(sl.message, "unrecognised scan \"A\"B\"");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_normalised),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_bad_check_characters),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
