/* test_daemon_config.c: fmtbankd's configuration file: keys, values, comments, errors naming the
 * line, nothing kept from a bad file, the role the daemon connects as. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"

static void
test_defaults(void **state)
{
    (void)state;
    struct daemon_config c;
    config_defaults(&c);
    assert_null(c.inbox);
    assert_null(c.outbox);
    assert_string_equal(c.inbox_format, "auto");
    assert_true(c.interval == 60);
    assert_int_equal(c.report_minute, 360);
    assert_int_equal(c.log_level, LOG_INFO);
    assert_string_equal(c.reports, "inventory, expiring");
    config_free(&c);
}

static void
test_parse_all_keys(void **state)
{
    (void)state;
    struct daemon_config c;
    struct fb_error err = {0};
    config_defaults(&c);
    const char *text = "# fmtbankd\n"
                       "\n"
                       "  inbox = /srv/in  \n"
                       "outbox=/srv/out\r\n"
                       "interval = 2.5\n"
                       "settle = 0\n"
                       "reconnect_max = 10\n"
                       "report_time = 07:30\n"
                       "db = host=/run/postgresql dbname=fmtbank\n"
                       "user = lab_daemon\n"
                       "inbox_format = donor\n"
                       "log_level = debug\n"
                       "reports = audit,inventory  expiring\n"
                       "interval = 3";
    assert_int_equal(config_parse_text(text, "f.conf", &c, &err), 0);
    assert_string_equal(c.inbox, "/srv/in");
    assert_string_equal(c.outbox, "/srv/out");
    assert_true(c.interval == 3); /* the last one wins */
    assert_true(c.settle == 0);
    assert_true(c.reconnect_max == 10);
    assert_int_equal(c.report_minute, 7 * 60 + 30);
    assert_string_equal(c.db, "host=/run/postgresql dbname=fmtbank");
    assert_string_equal(c.user, "lab_daemon");
    assert_string_equal(config_db_user(&c), "lab_daemon");
    assert_int_equal(c.log_level, LOG_DEBUG);
    assert_string_equal(c.reports, "audit,inventory  expiring");
    assert_int_equal(config_parse_text("report_time = off\n", "f", &c, &err), 0);
    assert_int_equal(c.report_minute, -1);
    config_free(&c);
}

static void
expect_error(const char *text, const char *message)
{
    struct daemon_config c;
    struct fb_error err = {0};
    config_defaults(&c);
    assert_int_equal(config_parse_text("interval = 7\n", "ok", &c, &err), 0);
    assert_int_equal(config_parse_text(text, "f.conf", &c, &err), -1);
    assert_int_equal(err.kind, FB_ERR_USAGE);
    if (!strstr(err.message, message))
        fail_msg("\"%s\" does not contain \"%s\"", err.message, message);
    /* Nothing of the bad text is kept, not even its good lines. */
    assert_true(c.interval == 7);
    assert_null(c.inbox);
    fb_error_clear(&err);
    config_free(&c);
}

static void
test_errors_name_the_line(void **state)
{
    (void)state;
    expect_error("inbox = /x\nfoo = 1\n", "f.conf:2: unknown setting \"foo\"");
    expect_error("inbox = /x\n\n# c\nno equals sign\n", "f.conf:4: expected \"key = value\"");
    expect_error("interval = 0\n", "f.conf:1: invalid value \"0\" for \"interval\"");
    expect_error("inbox = /x\ninterval = 5s\n", "f.conf:2: invalid value \"5s\" for \"interval\"");
    expect_error("interval = nan\n", "invalid value \"nan\"");
    expect_error("interval = 1e9\n", "invalid value \"1e9\"");
    expect_error("settle = -1\n", "invalid value \"-1\" for \"settle\"");
    expect_error("report_time = 6:00\n", "invalid value \"6:00\" for \"report_time\"");
    expect_error("report_time = 24:00\n", "invalid value \"24:00\"");
    expect_error("report_time = 06:60\n", "invalid value \"06:60\"");
    expect_error("report_time = 06:00x\n", "invalid value \"06:00x\"");
    expect_error("log_level = loud\n", "invalid value \"loud\" for \"log_level\"");
    expect_error("inbox_format = xml\n", "invalid value \"xml\" for \"inbox_format\"");
    expect_error("inbox =\n", "f.conf:1: empty value for \"inbox\"");
    expect_error("reports = Audit\n", "invalid value \"Audit\" for \"reports\"");
    expect_error("reports = , ,\n", "invalid value \", ,\" for \"reports\"");
    expect_error("reports = ../x\n", "invalid value \"../x\" for \"reports\"");
    expect_error("db = host='unterminated\n", "f.conf:1: invalid value for \"db\"");
}

static void
test_db_user(void **state)
{
    (void)state;
    struct daemon_config c;
    config_defaults(&c);
    unsetenv("PGUSER");
    unsetenv("FMTBANK_DSN");
    assert_string_equal(config_db_user(&c), "fmtbankd");
    c.db = strdup("dbname=x user=someone");
    assert_null(config_db_user(&c)); /* the conninfo's user stands */
    free(c.db);
    c.db = strdup("postgresql://other@/fmtbank");
    assert_null(config_db_user(&c));
    free(c.db);
    c.db = strdup("dbname=x");
    assert_string_equal(config_db_user(&c), "fmtbankd");
    setenv("PGUSER", "pguser", 1);
    assert_null(config_db_user(&c)); /* PGUSER stands */
    unsetenv("PGUSER");
    config_free(&c);
}

static void
test_inbox_formats(void **state)
{
    (void)state;
    const struct inbox_format *f = config_inbox_format("donor");
    assert_non_null(f);
    assert_non_null(f->spec);
    assert_null(config_inbox_format("auto")); /* a mode, not a format */
    assert_null(config_inbox_format("nope"));
    assert_null(config_inbox_format(NULL));
    const char *donors = "code,birth_year,sex\nD-0001,1990,F\n";
    assert_ptr_equal(inbox_format_detect(donors, strlen(donors)), f);
    const char *bom = "\xEF\xBB\xBF" "code,birth_year,sex\r\nD-0001,1990,F\r\n";
    assert_ptr_equal(inbox_format_detect(bom, strlen(bom)), f);
    const char *header_only = "code,birth_year,sex";
    assert_ptr_equal(inbox_format_detect(header_only, strlen(header_only)), f);
    const char *other = "code,birth_year\nD-0001,1990\n";
    assert_null(inbox_format_detect(other, strlen(other)));
    const char *longer = "code,birth_year,sex,extra\n";
    assert_null(inbox_format_detect(longer, strlen(longer)));
    assert_null(inbox_format_detect("", 0));
    char *names = inbox_format_names();
    assert_non_null(strstr(names, "\"code,birth_year,sex\" (donor)"));
    free(names);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_parse_all_keys),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_db_user),
        cmocka_unit_test(test_inbox_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
