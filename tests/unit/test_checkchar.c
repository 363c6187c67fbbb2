/* test_checkchar.c: ISO/IEC 7064 MOD 37-2 against the UK Red Book vector and misreads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/checkchar.h"

static void
test_red_book_vector(void **state)
{
    (void)state;
    assert_int_equal(checkchar_compute("G123498654321"), 'H');
    assert_true(checkchar_valid("G123498654321H"));
}

static void
test_separators_ignored(void **state)
{
    (void)state;
    assert_int_equal(checkchar_compute("L26000001-003"), checkchar_compute("L26000001003"));
}

static void
test_single_substitution_detected(void **state)
{
    (void)state;
    const char *alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char id[] = "B000012";
    char good = checkchar_compute(id);
    for (size_t pos = 0; id[pos]; pos++) {
        char orig = id[pos];
        for (const char *a = alphabet; *a; a++) {
            if (*a == orig)
                continue;
            id[pos] = *a;
            assert_int_not_equal(checkchar_compute(id), good);
        }
        id[pos] = orig;
    }
}

static void
test_transposition_detected(void **state)
{
    (void)state;
    assert_int_not_equal(checkchar_compute("B000012"), checkchar_compute("B000021"));
}

static void
test_invalid_characters(void **state)
{
    (void)state;
    assert_int_equal(checkchar_compute("b00001"), '\0');
    assert_int_equal(checkchar_compute(""), '\0');
    assert_false(checkchar_valid("G123498654321J"));
    assert_false(checkchar_valid("H"));
    assert_false(checkchar_valid("g123498654321H"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_red_book_vector),
        cmocka_unit_test(test_separators_ignored),
        cmocka_unit_test(test_single_substitution_detected),
        cmocka_unit_test(test_transposition_detected),
        cmocka_unit_test(test_invalid_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
