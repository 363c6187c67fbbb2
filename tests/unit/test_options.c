/* test_options.c: the option layer (common/options.h) and its use by every command: parsing,
 * the refusals generated from the declarations, the usage line and the option list of --help. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/options.h"

static const struct opt_spec specs[] = {
    {"until", 0, OPT_STRING, "DATE", .help = "the end"},
    {"output", 'o', OPT_STRING, "FILE.xlsx", .help = "where to write", .flags = OPT_REQUIRED},
    {"short", 0, OPT_FLAG, NULL, .help = "the short one"},
    {"param", 'p', OPT_MULTI, "K=V", .help = "a parameter"},
    {"status", 0, OPT_STRING, "S", .help = "a state", .choices = "open|held|closed"},
    {"anchors", 0, OPT_STRING, "FILE", .help = "anchor log", .with = "pub"},
    {"pub", 0, OPT_STRING, "KEY", .help = "public key"},
    {0},
};
static const struct opt_pos code = {"CODE", 1, 1, "donor CODE"};

/* Parses the NULL-terminated argv; returns opts_parse's result, the message in *msg (or NULL). */
static int
parse(char **argv, const struct opt_pos *pos, struct opt_values *v, struct fb_error *err)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    fb_error_clear(err);
    return opts_parse(argc, argv, 1, specs, pos, v, err);
}

static void
expect_refusal(char **argv, const struct opt_pos *pos, const char *message)
{
    struct opt_values v;
    struct fb_error err = {0};
    assert_int_equal(parse(argv, pos, &v, &err), -1);
    assert_int_equal(err.kind, FB_ERR_USAGE);
    assert_string_equal(err.message, message);
    opt_values_free(&v);
    fb_error_clear(&err);
}

static void
test_parse_values(void **state)
{
    (void)state;
    char *argv[] = {"cmd", "D-1", "--until=2026-01-01", "-o", "x.xlsx", "--short", "--param",
                    "a=1", "--param=b=2", "-p", "c=3", "--status", "held", "--",
                    "--not-an-option", NULL};
    struct opt_values v;
    struct fb_error err = {0};
    assert_int_equal(parse(argv, NULL, &v, &err), 0);
    assert_string_equal(opt_get(&v, "until"), "2026-01-01");
    assert_string_equal(opt_get(&v, "output"), "x.xlsx");
    assert_true(opt_has(&v, "short"));
    assert_false(opt_has(&v, "anchors"));
    assert_null(opt_get(&v, "anchors"));
    const struct opt_list *params = opt_all(&v, "param");
    assert_int_equal(params->n, 3);
    assert_string_equal(params->items[0], "a=1");
    assert_string_equal(params->items[1], "b=2");
    assert_string_equal(params->items[2], "c=3");
    assert_string_equal(opt_get(&v, "status"), "held");
    assert_int_equal(v.pos.n, 2); /* "--" ends the options */
    assert_string_equal(v.pos.items[0], "D-1");
    assert_string_equal(v.pos.items[1], "--not-an-option");
    opt_values_free(&v);

    /* A string option given twice: the last one wins. A negative number is a value. */
    char *twice[] = {"cmd", "-o", "a", "--output", "b", "-5", "--until", "-80", NULL};
    assert_int_equal(parse(twice, NULL, &v, &err), 0);
    assert_string_equal(opt_get(&v, "output"), "b");
    assert_string_equal(opt_get(&v, "until"), "-80");
    assert_int_equal(v.pos.n, 1);
    assert_string_equal(v.pos.items[0], "-5");
    opt_values_free(&v);
    fb_error_clear(&err);
}

static void
test_refusals(void **state)
{
    (void)state;
    expect_refusal((char *[]){"cmd", "-o", "x", "--nope", NULL}, NULL, "unknown option \"--nope\"");
    expect_refusal((char *[]){"cmd", "-o", "x", "-5x", NULL}, NULL, "unknown option \"-5x\"");
    expect_refusal((char *[]){"cmd", "-o", "x", "--until", NULL}, NULL,
                   "option \"--until\" requires a value");
    expect_refusal((char *[]){"cmd", "-o", "x", "--short=yes", NULL}, NULL,
                   "option \"--short\" takes no value");
    /* Required: named as the usage line shows it. */
    expect_refusal((char *[]){"cmd", "--until", "x", NULL}, NULL, "missing \"-o FILE.xlsx\"");
    expect_refusal((char *[]){"cmd", "-o", "x", "--status", "gone", NULL}, NULL,
                   "invalid value \"gone\" for \"--status\"");
    expect_refusal((char *[]){"cmd", "-o", "x", "--anchors", "a.log", NULL}, NULL,
                   "missing --pub (it goes with --anchors)");
    /* Positional arity. */
    expect_refusal((char *[]){"cmd", "-o", "x", NULL}, &code, "missing donor CODE");
    expect_refusal((char *[]){"cmd", "-o", "x", "A", "B", NULL}, &code,
                   "unexpected argument \"B\"");

    /* The choice refusal lists the choices; the required one explains the option. */
    struct opt_values v;
    struct fb_error err = {0};
    assert_int_equal(parse((char *[]){"cmd", "-o", "x", "--status=x", NULL}, NULL, &v, &err), -1);
    assert_string_equal(err.hint, "Use open, held or closed.");
    opt_values_free(&v);
    assert_int_equal(parse((char *[]){"cmd", NULL}, NULL, &v, &err), -1);
    assert_string_equal(err.detail, "-o FILE.xlsx: where to write");
    opt_values_free(&v);
    /* Enough positionals and every requirement met. */
    assert_int_equal(parse((char *[]){"cmd", "A", "-o", "x", "--anchors", "a", "--pub", "k", NULL},
                           &code, &v, &err),
                     0);
    opt_values_free(&v);
    fb_error_clear(&err);
}

static void
test_usage_and_help(void **state)
{
    (void)state;
    char *u = opts_usage(specs, &code);
    assert_string_equal(u, " CODE [--until DATE] -o FILE.xlsx [--short] [-p K=V ...] [--status S]"
                           " [--anchors FILE] [--pub KEY]");
    free(u);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    opts_print_help(f, specs);
    fclose(f);
    assert_non_null(strstr(buf, "  -o, --output FILE.xlsx\n"));
    assert_non_null(strstr(buf, "where to write (required)\n"));
    assert_non_null(strstr(buf, "  --status S             a state (open, held or closed)\n"));
    assert_non_null(strstr(buf, "a parameter (repeatable)\n"));
    assert_non_null(strstr(buf, "anchor log (with --pub)\n"));
    free(buf);
}

/* s with every run of spaces and newlines made one space (malloc'd). */
static char *
collapse_ws(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    assert_non_null(out);
    for (bool space = false; *s; s++) {
        if (*s == ' ' || *s == '\n') {
            space = true;
            continue;
        }
        if (space && o > out)
            *o++ = ' ';
        space = false;
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* Every command's --help shows its usage line and lists every option it declares, with its
 * value name; every entry has a summary. */
static void
test_every_command_help(void **state)
{
    (void)state;
    size_t ncommands = 0, noptions = 0;
    for (size_t g = 0; g < cmd_ngroups; g++)
        for (const struct cmd_def *d = cmd_groups[g]; d->name; d++, ncommands++) {
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            cmd_print_help(f, d);
            fclose(f);
            char *usage = cmd_usage(d);
            char *line = NULL;
            assert_true(asprintf(&line, "Usage: %s", usage) > 0);
            /* a long usage line wraps at 100 columns: compare with the whitespace collapsed */
            char *flat = collapse_ws(buf), *want = collapse_ws(line);
            if (strncmp(flat, want, strlen(want)) != 0)
                fail_msg("%s: --help does not begin with \"%s\"", d->name, line);
            free(flat);
            free(want);
            assert_non_null(d->summary);
            for (const struct opt_spec *s = d->opts; s && s->name; s++, noptions++) {
                char *item = NULL;
                assert_true(asprintf(&item, "--%s%s%s", s->name, s->value_name ? " " : "",
                                     s->value_name ? s->value_name : "") > 0);
                if (!strstr(buf, item))
                    fail_msg("%s: --help does not list \"%s\"", d->name, item);
                assert_non_null(s->help);
                free(item);
            }
            free(line);
            free(usage);
            free(buf);
        }
    assert_true(ncommands > 50);
    assert_true(noptions > 40);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_usage_and_help),
        cmocka_unit_test(test_every_command_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
