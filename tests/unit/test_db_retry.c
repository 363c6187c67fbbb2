/* test_db_retry.c: the pure parts of db/retry.c: which SQLSTATEs are retried, the backoff, and
 * the error kind each conflict maps to (exit 8, never "invalid input" or "refused"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "db/db.h"
#include "db/retry.h"

static void
test_retryable_sqlstates(void **state)
{
    (void)state;
    assert_true(db_retry_sqlstate("40001"));  /* serialization_failure */
    assert_true(db_retry_sqlstate("40P01"));  /* deadlock_detected */
    assert_false(db_retry_sqlstate("55P03")); /* lock timeout: waited already, not retried */
    assert_false(db_retry_sqlstate("40002")); /* integrity constraint at commit: the data's */
    assert_false(db_retry_sqlstate("FB001"));
    assert_false(db_retry_sqlstate("23505"));
    assert_false(db_retry_sqlstate(""));
    assert_false(db_retry_sqlstate(NULL));
}

static void
test_transient_kind(void **state)
{
    (void)state;
    assert_int_equal(db_kind_for_sqlstate("40001"), FB_ERR_TRANSIENT);
    assert_int_equal(db_kind_for_sqlstate("40P01"), FB_ERR_TRANSIENT);
    assert_int_equal(db_kind_for_sqlstate("55P03"), FB_ERR_TRANSIENT);
    assert_int_equal(FB_ERR_TRANSIENT, 8);
    /* The others keep their kinds. */
    assert_int_equal(db_kind_for_sqlstate("FB001"), FB_ERR_INPUT);
    assert_int_equal(db_kind_for_sqlstate("FB003"), FB_ERR_REFUSED);
    assert_int_equal(db_kind_for_sqlstate("23505"), FB_ERR_REFUSED);
    assert_int_equal(db_kind_for_sqlstate("40002"), FB_ERR_REFUSED);
    assert_int_equal(db_kind_for_sqlstate("08006"), FB_ERR_DBUNAVAIL);
}

static void
test_backoff_bounded_and_jittered(void **state)
{
    (void)state;
    /* Without jitter: 20, 40, 80, 160 ms, then capped at 400. */
    assert_int_equal(db_retry_delay_ms(1, 0), 20);
    assert_int_equal(db_retry_delay_ms(2, 0), 40);
    assert_int_equal(db_retry_delay_ms(3, 0), 80);
    assert_int_equal(db_retry_delay_ms(4, 0), 160);
    assert_int_equal(db_retry_delay_ms(5, 0), 320);
    assert_int_equal(db_retry_delay_ms(6, 0), 400);
    assert_int_equal(db_retry_delay_ms(1000, 0), 400);
    /* Jitter adds at most as much again, and different draws differ. */
    unsigned total = 0;
    for (int a = 1; a < DB_RETRY_ATTEMPTS; a++)
        for (unsigned r = 0; r < 1000; r += 7) {
            unsigned ms = db_retry_delay_ms(a, r * 2654435761u);
            unsigned base = db_retry_delay_ms(a, 0);
            assert_true(ms >= base && ms <= 2 * base);
        }
    for (int a = 1; a < DB_RETRY_ATTEMPTS; a++)
        total += 2 * db_retry_delay_ms(a, 0);
    assert_true(total <= 700); /* the worst case of all retries stays well under a second */
    assert_int_not_equal(db_retry_delay_ms(1, 3), db_retry_delay_ms(1, 11));
    assert_int_equal(db_retry_delay_ms(0, 0), 20);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retryable_sqlstates),
        cmocka_unit_test(test_transient_kind),
        cmocka_unit_test(test_backoff_bounded_and_jittered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
