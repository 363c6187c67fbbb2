/* test_exec.c: the mapping of server SQLSTATEs to fmtbank exit codes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "db/db.h"

static void
test_sqlstate_kinds(void **state)
{
    (void)state;
    assert_int_equal(db_kind_for_sqlstate("53300"), FB_ERR_DBUNAVAIL); /* too_many_connections */
    assert_int_equal(db_kind_for_sqlstate("53100"), FB_ERR_INTERNAL);  /* disk_full */
    assert_int_equal(db_kind_for_sqlstate("53200"), FB_ERR_INTERNAL);  /* out_of_memory */
    assert_int_equal(db_kind_for_sqlstate("53400"), FB_ERR_INTERNAL);  /* configuration_limit */
    assert_int_equal(db_kind_for_sqlstate("57P03"), FB_ERR_DBUNAVAIL); /* cannot_connect_now */
    assert_int_equal(db_kind_for_sqlstate("08006"), FB_ERR_DBUNAVAIL);
    assert_int_equal(db_kind_for_sqlstate("22021"), FB_ERR_INPUT);
    assert_int_equal(db_kind_for_sqlstate("42501"), FB_ERR_PERMISSION);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sqlstate_kinds)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
