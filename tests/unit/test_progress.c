/* test_progress.c: the progress line (common/progress.h): drawn in place, counts grouped,
 * erased at the end, and nothing at all when off or NULL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/progress.h"

static char *
contents(FILE *f, char *buf, size_t size)
{
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    return buf;
}

static void
test_drawn_and_erased(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    struct progress p;
    progress_start(&p, true, "importing \"x.csv\"");
    p.out = f;
    progress_phase(&p, "reading lines");
    progress_add(&p, 1234567); /* within a tenth of a second: not drawn again */
    p.last.tv_sec -= 1;        /* a second later */
    progress_add(&p, 1);
    progress_phase(&p, "sending %d rows", 3);
    progress_end(&p);
    char buf[1024];
    const char *s = contents(f, buf, sizeof(buf));
    assert_non_null(strstr(s, "\r\033[Kimporting \"x.csv\": reading lines (0.0 s)"));
    assert_non_null(strstr(s, "\r\033[Kimporting \"x.csv\": reading lines 1,234,568 ("));
    assert_null(strstr(s, "1,234,567"));
    assert_non_null(strstr(s, "\r\033[Kimporting \"x.csv\": sending 3 rows ("));
    assert_int_equal(strcmp(s + strlen(s) - 4, "\r\033[K"), 0); /* erased at the end */
    assert_null(strchr(s, '\n'));
    fclose(f);
}

static void
test_off(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    struct progress p;
    progress_start(&p, false, "report");
    p.out = f;
    progress_phase(&p, "sheet");
    progress_add(&p, 10);
    progress_end(&p);
    progress_phase(NULL, "x");
    progress_add(NULL, 1);
    progress_end(NULL);
    char buf[16];
    assert_string_equal(contents(f, buf, sizeof(buf)), "");
    assert_false(progress_wanted(true)); /* --quiet */
    fclose(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drawn_and_erased),
        cmocka_unit_test(test_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
