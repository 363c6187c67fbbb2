/* test_text.c: UTF-8 validity, control characters, escaping for messages, the byte order mark;
 * and the error printer that uses them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/text.h"

static void
test_utf8_len(void **state)
{
    (void)state;
    assert_int_equal(text_utf8_len("a", 1), 1);
    assert_int_equal(text_utf8_len("\xC3\xA9", 2), 2);         /* é */
    assert_int_equal(text_utf8_len("\xE2\x82\xAC", 3), 3);     /* € */
    assert_int_equal(text_utf8_len("\xF0\x9F\x98\x80", 4), 4); /* emoji */
    assert_int_equal(text_utf8_len("\xC3", 1), 0);             /* cut short */
    assert_int_equal(text_utf8_len("\xC0\xAF", 2), 0);         /* overlong */
    assert_int_equal(text_utf8_len("\xE0\x80\xAF", 3), 0);     /* overlong */
    assert_int_equal(text_utf8_len("\xED\xA0\x80", 3), 0);     /* surrogate */
    assert_int_equal(text_utf8_len("\xF4\x90\x80\x80", 4), 0); /* above U+10FFFF */
    assert_int_equal(text_utf8_len("\xFF\xFE", 2), 0);         /* a UTF-16 byte order mark */
    assert_int_equal(text_utf8_len("\xE9t\xE9", 3), 0);        /* Latin-1 */
}

static void
test_check(void **state)
{
    (void)state;
    size_t at = 99;
    char why[48];
    assert_null(text_check("caf\xC3\xA9 ok", 8, 0, &at, why));
    assert_string_equal(text_check("ab\0cd", 5, 0, &at, why), "a NUL byte");
    assert_int_equal(at, 2);
    assert_string_equal(text_check("ab\xE9", 3, 0, &at, why), "invalid UTF-8");
    assert_int_equal(at, 2);
    assert_string_equal(text_check("a\x1B[31m", 6, 0, &at, why), "a control character (0x1B)");
    assert_int_equal(at, 1);
    assert_string_equal(text_check("a\x7F", 2, 0, &at, why), "a control character (0x7F)");
    assert_string_equal(text_check("a\xC2\x85", 3, 0, &at, why), "a control character (0x85)");
    assert_string_equal(text_check("a\tb", 3, 0, &at, why), "a control character (0x09)");
    assert_null(text_check("a\tb", 3, TEXT_KEEP_TAB, &at, why));
    assert_string_equal(text_check("a\nb", 3, TEXT_KEEP_TAB, &at, why), "a control character (0x0A)");
    assert_null(text_check("a\nb\tc", 5, TEXT_KEEP_LINES, &at, why));
    assert_string_equal(text_check("a\r\n", 3, TEXT_KEEP_LINES, &at, why), "a control character (0x0D)");
}

static void
test_escape(void **state)
{
    (void)state;
    char *s = text_escape("a\x1B[31mred\xE9\0\tz\n", 14, 0);
    assert_string_equal(s, "a\\x1B[31mred\\xE9\\x00\\tz\\n");
    free(s);
    s = text_escape_str("line 1\n\tline 2\r\n\xC2\x85 caf\xC3\xA9", TEXT_KEEP_LINES);
    assert_string_equal(s, "line 1\n\tline 2\\r\n\\u0085 caf\xC3\xA9");
    free(s);
    s = text_escape_str("", 0);
    assert_string_equal(s, "");
    free(s);
    s = text_escape_str("\xF0\x9F\x98", 0); /* a truncated sequence: each byte escaped */
    assert_string_equal(s, "\\xF0\\x9F\\x98");
    free(s);
}

static void
test_bom(void **state)
{
    (void)state;
    assert_int_equal(text_bom_len("\xEF\xBB\xBFitem", 7), 3);
    assert_int_equal(text_bom_len("\xEF\xBB", 2), 0);
    assert_int_equal(text_bom_len("item", 4), 0);
}

static void
test_error_print_escapes(void **state)
{
    (void)state;
    struct fb_error e = {0};
    fb_error_set(&e, FB_ERR_INPUT, "invalid code \"D-1\x1B]0;pwned\x07\"");
    fb_error_detail(&e, "bytes \xFF\xFE");
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    fb_error_print(&e, f);
    fclose(f);
    assert_string_equal(out, "fmtbank: error: invalid code \"D-1\\x1B]0;pwned\\x07\"\n"
                             "DETAIL: bytes \\xFF\\xFE\n");
    free(out);
    fb_error_clear(&e);
}

static void
test_escaping_stream(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&out, &len);
    FILE *f = text_escaping_stream(mem);
    assert_non_null(f);
    setvbuf(f, NULL, _IONBF, 0); /* every write on its own: sequences cut between writes */
    fputs("x.csv:2: invalid code \"\x1B[2J\"\n", f);
    fputs("caf\xC3", f);
    fputs("\xA9 \xE2\x82", f);
    fputs("\xAC \xFF\n", f);
    fputs("end \xC3", f); /* cut at the very end: escaped at close */
    fclose(f);
    fclose(mem);
    assert_string_equal(out, "x.csv:2: invalid code \"\\x1B[2J\"\n"
                             "caf\xC3\xA9 \xE2\x82\xAC \\xFF\n"
                             "end \\xC3");
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_len), cmocka_unit_test(test_check),
        cmocka_unit_test(test_escape),   cmocka_unit_test(test_bom),
        cmocka_unit_test(test_error_print_escapes), cmocka_unit_test(test_escaping_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
