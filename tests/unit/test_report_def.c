/* test_report_def.c: report-definition parsing (reports/README.md): a full definition, the
 * "-- @query" split with line numbers, and every refusal naming its file and line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "report/def.h"

static const char good_layout[] = "# a comment\n"
                                  "[report]\n"
                                  "title = Inventory\n"
                                  "description = aliquots by state\n"
                                  "meta = meta\n"
                                  "\n"
                                  "[param days]\n"
                                  "type = integer\n"
                                  "default = 30\n"
                                  "min = 0\n"
                                  "max = 3650\n"
                                  "help = how far ahead\n"
                                  "\n"
                                  "[param until]\n"
                                  "type = timestamp\n"
                                  "end_of_day = yes\n"
                                  "\n"
                                  "[param lot]\n"
                                  "type = text\n"
                                  "required = yes\n"
                                  "\n"
                                  "[sheet Aliquots by state]\n"
                                  "query = list\n"
                                  "empty = Nothing.\n"
                                  "column id      = text    | Aliquot | 16\n"
                                  "column n       = integer\n"
                                  "column mass    = number  | Mass, g |    | #,##0.0\n"
                                  "column expires = date    | Expires | 11 | dd/mm/yyyy\n"
                                  "\n"
                                  "[sheet Summary]\n"
                                  "kind = record\n"
                                  "query = list\n"
                                  "title = Summary of it\n"
                                  "column id = text\n"
                                  "column n = integer\n"
                                  "column mass = number\n"
                                  "column expires = date\n"
                                  "\n"
                                  "[sheet Box map]\n"
                                  "kind = boxmap\n"
                                  "query = boxes\n"
                                  "color quarantine = FFEB9C | In quarantine\n"
                                  "color released   = #c6efce\n";

static const char good_sql[] = "-- inventory.sql: header comment\n"
                               "\n"
                               "-- @query meta\n"
                               "SELECT now() AS created;\n"
                               "\n"
                               "-- @query list\n"
                               "SELECT 'a' AS id, 1 AS n,\n"
                               "       2.5 AS mass, current_date AS expires;\n"
                               "-- @query boxes\n"
                               "SELECT 1\n";

static struct report_def *
parse(const char *layout, const char *sql, struct fb_error *err)
{
    return report_def_parse("inv", layout, "inv.report", sql, "inv.sql", err);
}

static void
test_full_definition(void **state)
{
    (void)state;
    struct fb_error err = {0};
    struct report_def *d = parse(good_layout, good_sql, &err);
    assert_non_null(d);
    assert_string_equal(d->title, "Inventory");
    assert_string_equal(d->description, "aliquots by state");
    assert_string_equal(d->meta, "meta");
    assert_int_equal(d->nparams, 3);
    assert_string_equal(d->params[0].name, "days");
    assert_int_equal(d->params[0].type, CELL_INTEGER);
    assert_string_equal(d->params[0].def, "30");
    assert_false(d->params[0].required);
    assert_string_equal(d->params[0].min, "0");
    assert_string_equal(d->params[0].max, "3650");
    assert_null(d->params[2].min);
    assert_null(d->params[2].max);
    assert_true(d->params[1].end_of_day);
    assert_null(d->params[1].def);
    assert_true(d->params[2].required);

    assert_int_equal(d->nsheets, 3);
    const struct report_sheet *s = &d->sheets[0];
    assert_string_equal(s->name, "Aliquots by state");
    assert_int_equal(s->kind, SHEET_TABLE);
    assert_string_equal(s->query, "list");
    assert_string_equal(s->empty, "Nothing.");
    assert_int_equal(s->ncols, 4);
    assert_string_equal(s->cols[0].name, "id");
    assert_string_equal(s->cols[0].header, "Aliquot");
    assert_true(s->cols[0].width == 16);
    assert_null(s->cols[0].format);
    assert_string_equal(s->cols[1].header, "n"); /* header defaults to the name */
    assert_true(s->cols[1].width == 0);
    assert_string_equal(s->cols[2].header, "Mass, g");
    assert_string_equal(s->cols[2].format, "#,##0.0");
    assert_int_equal(s->cols[3].type, CELL_DATE);
    assert_string_equal(s->cols[3].format, "dd/mm/yyyy");
    assert_int_equal(d->sheets[1].kind, SHEET_RECORD);
    assert_string_equal(d->sheets[1].title, "Summary of it");
    const struct report_sheet *b = &d->sheets[2];
    assert_int_equal(b->kind, SHEET_BOXMAP);
    assert_int_equal(b->ncolors, 2);
    assert_string_equal(b->colors[0].state, "quarantine");
    assert_string_equal(b->colors[0].label, "In quarantine");
    assert_int_equal(b->colors[0].rgb, 0xFFEB9C);
    assert_string_equal(b->colors[1].label, "released");
    assert_int_equal(b->colors[1].rgb, 0xC6EFCE);

    assert_int_equal(d->nqueries, 3);
    const struct report_query *q = report_def_query(d, "list");
    assert_non_null(q);
    assert_int_equal(q->line, 7);
    assert_string_equal(q->sql,
                        "SELECT 'a' AS id, 1 AS n,\n       2.5 AS mass, current_date AS expires");
    assert_int_equal(report_def_query(d, "meta")->line, 4);
    assert_string_equal(report_def_query(d, "boxes")->sql, "SELECT 1");
    assert_null(report_def_query(d, "nope"));
    report_def_free(d);
    fb_error_clear(&err);
}

/* Table and box-map sheets may share a query when they follow one another; a record sheet may
 * use any query. */
static void
test_shared_query(void **state)
{
    (void)state;
    struct fb_error err = {0};
    struct report_def *d = parse("[report]\ntitle = T\n"
                                 "[sheet Map]\nkind = boxmap\nquery = q\ncolor a = 000000\n"
                                 "[sheet List]\nquery = q\nfilter = has\ncolumn a = text\n"
                                 "[sheet Sum]\nkind = record\nquery = q\ncolumn a = text\n",
                                 "-- @query q\nSELECT 1 AS a\n", &err);
    assert_non_null(d);
    assert_string_equal(d->sheets[1].filter, "has");
    assert_null(d->sheets[0].filter);
    report_def_free(d);
    fb_error_clear(&err);
}

static void
test_single_query_is_main(void **state)
{
    (void)state;
    struct fb_error err = {0};
    struct report_def *d = parse("[report]\ntitle = T\n[sheet S]\ncolumn a = text\n",
                                 "-- just one\nSELECT 1 AS a;\n\n", &err);
    assert_non_null(d);
    assert_int_equal(d->nqueries, 1);
    assert_string_equal(d->queries[0].name, "main");
    assert_int_equal(d->queries[0].line, 1);
    assert_string_equal(d->queries[0].sql, "-- just one\nSELECT 1 AS a");
    assert_string_equal(d->sheets[0].query, "main");
    report_def_free(d);
}

/* Each broken definition must fail with exactly this message. */
static void
expect_error(const char *layout, const char *sql, const char *message)
{
    struct fb_error err = {0};
    struct report_def *d = parse(layout, sql, &err);
    assert_null(d);
    assert_int_equal(err.kind, FB_ERR_INPUT);
    assert_non_null(err.message);
    if (strcmp(err.message, message) != 0)
        fail_msg("expected: %s\n  actual: %s", message, err.message);
    fb_error_clear(&err);
}

#define L(body) "[report]\ntitle = T\n" body
#define Q "SELECT 1 AS a\n"

static void
test_layout_errors(void **state)
{
    (void)state;
    expect_error("title = x\n", Q,
                 "\"inv.report\", line 1: \"title\" is outside any section (begin with [report])");
    expect_error(L("[sheet S]\ncolour = red\n"), Q,
                 "\"inv.report\", line 4: unknown key \"colour\" in [sheet S] (expected kind, "
                 "query, title, empty, filter, column NAME or color STATE)");
    expect_error(L("[sheet S\n"), Q,
                 "\"inv.report\", line 3: section header \"[sheet S\" lacks its closing \"]\"");
    expect_error(L("[chart S]\n"), Q,
                 "\"inv.report\", line 3: unknown section [chart S] (expected [report], [param "
                 "NAME] or [sheet NAME])");
    expect_error(L("[sheet S]\ncolumn a = text\n[sheet s]\n"), Q,
                 "\"inv.report\", line 5: sheet \"s\" is declared twice");
    expect_error(L("[sheet A:B]\n"), Q,
                 "\"inv.report\", line 3: invalid sheet name \"A:B\": it contains one of []:*?/\\");
    expect_error(L("[sheet 12345678901234567890123456789012]\n"), Q,
                 "\"inv.report\", line 3: invalid sheet name \"12345678901234567890123456789012\": "
                 "it is longer than 31 characters");
    expect_error(L("[sheet S]\ncolumn a = txt\n"), Q,
                 "\"inv.report\", line 4: invalid type \"txt\" for column \"a\" (use text, "
                 "integer, number, date, timestamp or boolean)");
    expect_error(L("[sheet S]\ncolumn a = text | A | wide\n"), Q,
                 "\"inv.report\", line 4: invalid width \"wide\" for column \"a\" (a number of "
                 "characters, 1 to 255)");
    expect_error(L("[sheet S]\ncolumn a = text\ncolumn a = text\n"), Q,
                 "\"inv.report\", line 5: column \"a\" is declared twice");
    expect_error(L("[sheet S]\ncolumn A = text\n"), Q,
                 "\"inv.report\", line 4: invalid column name \"A\" (use the query's lower-case "
                 "column name)");
    expect_error(L("[sheet S]\nkind = table\nkind = record\n"), Q,
                 "\"inv.report\", line 5: \"kind\" is given twice in this section");
    expect_error(L("[sheet S]\nkind = chart\n"), Q,
                 "\"inv.report\", line 4: invalid kind \"chart\" (use table, record or boxmap)");
    expect_error(
        L("[sheet S]\nkind = boxmap\ncolor x = 12345\n"), Q,
        "\"inv.report\", line 5: invalid colour \"12345\" for \"x\" (use six hex digits, RRGGBB)");
    expect_error(L("[param 1x]\n"), Q,
                 "\"inv.report\", line 3: invalid parameter name \"1x\" (use lower-case letters, "
                 "digits and _)");
    expect_error(L("[param p]\ntype = text\n[param p]\n"), Q,
                 "\"inv.report\", line 5: parameter \"p\" is declared twice");
    expect_error(L("[param p]\ntype = when\n"), Q,
                 "\"inv.report\", line 4: invalid type \"when\" for parameter \"p\" (use text, "
                 "integer, number, date, timestamp or boolean)");
    expect_error(
        L("[param p]\ntype = text\nrequired = maybe\n"), Q,
        "\"inv.report\", line 5: invalid value \"maybe\" for \"required\" (use yes or no)");
    expect_error(L("[param p]\nsize = 3\n"), Q,
                 "\"inv.report\", line 4: unknown key \"size\" in [param p] (expected type, "
                 "default, required, end_of_day, min, max or help)");
    expect_error(L("[param p]\ntype = integer\nmin =\n"), Q,
                 "\"inv.report\", line 5: \"min\" is empty");
    expect_error(L("[param p]\ntype = integer\nmax = 1\nmax = 2\n"), Q,
                 "\"inv.report\", line 6: \"max\" is given twice in this section");
    expect_error(
        L("[sheet S]\nno equals sign\n"), Q,
        "\"inv.report\", line 4: expected \"key = value\" or a [section], not \"no equals sign\"");
    expect_error("[report]\ntitle = T\n[report]\n", Q,
                 "\"inv.report\", line 3: [report] is given twice");
}

static void
test_validation_errors(void **state)
{
    (void)state;
    expect_error(L("[sheet S]\nfilter = x y\ncolumn a = text\n"), Q,
                 "\"inv.report\", line 4: invalid filter column \"x y\"");
    expect_error(L("[sheet S]\nkind = record\nfilter = a\ncolumn a = text\n"), Q,
                 "\"inv.report\", line 3: \"filter\" is for table and box-map sheets only (sheet "
                 "\"S\")");
    expect_error(L("[sheet A]\ncolumn a = text\n[sheet B]\nquery = q\ncolumn a = text\n"
                   "[sheet C]\ncolumn a = text\n"),
                 "-- @query main\nSELECT 1 AS a\n-- @query q\nSELECT 2 AS a\n",
                 "\"inv.report\", line 8: sheet \"C\" shares query \"main\" with sheet \"A\" but "
                 "does not follow it: sheets that share a query come one after another");
    expect_error("[report]\ndescription = d\n[sheet S]\ncolumn a = text\n", Q,
                 "\"inv.report\", line 1: the [report] section must give a title");
    expect_error(
        L(""), Q,
        "\"inv.report\", line 1: no [sheet NAME] section: a report needs at least one sheet");
    expect_error(L("[param p]\nhelp = h\n[sheet S]\ncolumn a = text\n"), Q,
                 "\"inv.report\", line 3: parameter \"p\" has no type");
    expect_error(
        L("[param p]\ntype = text\nrequired = yes\ndefault = x\n[sheet S]\ncolumn a = text\n"), Q,
        "\"inv.report\", line 3: parameter \"p\" is required and has a default");
    expect_error(L("[param p]\ntype = date\nend_of_day = yes\n[sheet S]\ncolumn a = text\n"), Q,
                 "\"inv.report\", line 3: \"end_of_day\" applies to timestamp parameters only");
    expect_error(L("[param p]\ntype = text\nmin = a\n[sheet S]\ncolumn a = text\n"), Q,
                 "\"inv.report\", line 3: \"min\" applies to integer, number, date and timestamp "
                 "parameters only");
    expect_error(L("[param p]\ntype = boolean\nmax = yes\n[sheet S]\ncolumn a = text\n"), Q,
                 "\"inv.report\", line 3: \"max\" applies to integer, number, date and timestamp "
                 "parameters only");
    expect_error(L("[sheet S]\nquery = other\ncolumn a = text\n"), Q,
                 "\"inv.report\", line 3: sheet \"S\" uses query \"other\", which \"inv.sql\" does "
                 "not define");
    expect_error(L("[sheet S]\n"), Q, "\"inv.report\", line 3: sheet \"S\" declares no column");
    expect_error(L("[sheet S]\nkind = boxmap\n"), Q,
                 "\"inv.report\", line 3: box-map sheet \"S\" gives no \"color STATE = RRGGBB\"");
    expect_error(L("[sheet S]\nkind = boxmap\ncolor a = 000000\ncolumn a = text\n"), Q,
                 "\"inv.report\", line 3: box-map sheet \"S\" declares columns: its query returns "
                 "the fixed columns box, caption, nrows, ncols, row, col, label, state");
    expect_error(L("[sheet S]\ncolumn a = text\ncolor a = 000000\n"), Q,
                 "\"inv.report\", line 3: \"color\" is for box-map sheets only (sheet \"S\")");
    expect_error("[report]\ntitle = T\nmeta = m\n[sheet S]\ncolumn a = text\n", Q,
                 "\"inv.report\", line 4: meta query \"m\" is not defined in \"inv.sql\"");
}

static void
test_sql_errors(void **state)
{
    (void)state;
    const char *layout = L("[sheet S]\nquery = a\ncolumn a = text\n");
    expect_error(layout, "SELECT 1;\n-- @query a\nSELECT 1\n",
                 "\"inv.sql\", line 2: text before the first \"-- @query NAME\" line");
    expect_error(layout, "-- @query a\nSELECT 1\n-- @query a\nSELECT 2\n",
                 "\"inv.sql\", line 3: query \"a\" is defined twice");
    expect_error(layout, "-- @query a\nSELECT 1\n-- @query b\nSELECT 2\n",
                 "\"inv.sql\", line 4: query \"b\" is used by no sheet");
    expect_error(layout, "-- @query a\n  -- nothing\n;\n",
                 "\"inv.sql\", line 2: query \"a\" is empty");
    expect_error(layout, "-- @query A\nSELECT 1\n",
                 "\"inv.sql\", line 1: invalid query name \"A\" after \"-- @query\"");
    expect_error(layout, "-- @query\nSELECT 1\n",
                 "\"inv.sql\", line 1: invalid query name \"\" after \"-- @query\"");
    /* "-- @queryx" is an ordinary comment, not a marker. */
    struct fb_error err = {0};
    struct report_def *d = parse(layout, "-- @queryx\n-- @query a\nSELECT 1 -- @query b\n", &err);
    assert_non_null(d);
    assert_int_equal(d->nqueries, 1);
    report_def_free(d);
}

static void
test_names(void **state)
{
    (void)state;
    assert_true(report_name_valid("audit"));
    assert_true(report_name_valid("daily-inventory_2"));
    assert_false(report_name_valid(""));
    assert_false(report_name_valid("../audit"));
    assert_false(report_name_valid("Audit"));
    assert_false(report_name_valid("-x"));
    assert_false(report_name_valid("a b"));
    assert_string_equal(cell_type_name(CELL_TIMESTAMP), "timestamp");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_definition), cmocka_unit_test(test_single_query_is_main),
        cmocka_unit_test(test_layout_errors),   cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_sql_errors),      cmocka_unit_test(test_names),
        cmocka_unit_test(test_shared_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
