/* test_idtext.c: IDs as people read them (common/idtext.h): which strings are IDs, the displayed
 * form with the check character set apart, and reading the displayed form back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/checkchar.h"
#include "common/idtext.h"
#include "common/strbuf.h"

/* body + its check character */
static char *
id_of(const char *body)
{
    size_t n = strlen(body);
    char *s = malloc(n + 2);
    memcpy(s, body, n);
    s[n] = checkchar_compute(body);
    s[n + 1] = '\0';
    return s;
}

static void
test_kinds(void **state)
{
    (void)state;
    static const char *const bodies[] = {"F0001", "B000012", "L26000001", "L26000001-001",
                                         "C00000042", "E00000007"};
    static const char *const kinds[] = {"freezer", "box", "lot", "aliquot", "case", "event"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        char *id = id_of(bodies[i]);
        assert_string_equal(idtext_kind(id), kinds[i]);
        /* a wrong check character is not an ID */
        id[strlen(id) - 1] = id[strlen(id) - 1] == '0' ? '1' : '0';
        assert_null(idtext_kind(id));
        free(id);
    }
    assert_null(idtext_kind("D-0001"));
    assert_null(idtext_kind(""));
    assert_null(idtext_kind("L2600000A-0011"));
    assert_null(idtext_kind("l26000001-0011")); /* stored IDs are upper case */
}

static void
test_display(void **state)
{
    (void)state;
    char *id = id_of("L26000001-001");
    char want[64];
    snprintf(want, sizeof(want), "L26000001-001 \xC2\xB7%c", id[13]);
    struct strbuf sb = STRBUF_INIT;
    idtext_display(&sb, id);
    assert_string_equal(sb.buf, want);
    char *dup = idtext_display_dup(id);
    assert_string_equal(dup, want);
    /* and back */
    assert_true(idtext_plain(dup));
    assert_string_equal(dup, id);
    free(dup);
    strbuf_release(&sb);
    /* not an ID: unchanged */
    idtext_display(&sb, "D-0001");
    assert_string_equal(sb.buf, "D-0001");
    assert_null(idtext_display_dup("D-0001"));
    assert_null(idtext_display_dup("quarantine"));
    strbuf_release(&sb);
    free(id);
}

static void
test_plain(void **state)
{
    (void)state;
    char a[] = "L26000001-001\xC2\xB7" "1", b[] = "L26000001-001  \xC2\xB7\t1";
    assert_true(idtext_plain(a));
    assert_string_equal(a, "L26000001-0011");
    assert_true(idtext_plain(b));
    assert_string_equal(b, "L26000001-0011");
    /* the dot only before the last character */
    char c[] = "L26\xC2\xB7" "000001-0011", d[] = "\xC2\xB7" "1", e[] = "L26000001-0011";
    char f[] = "L26000001-001 \xC2\xB7" "12";
    assert_false(idtext_plain(c));
    assert_false(idtext_plain(d));
    assert_false(idtext_plain(e));
    assert_false(idtext_plain(f));
    assert_string_equal(f, "L26000001-001 \xC2\xB7" "12");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_display),
        cmocka_unit_test(test_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
