/* fuzz_report_def.c: report definitions (reports/NAME.report and NAME.sql), which an operator
 * may drop into the reports directory. The input is the layout, a NUL byte, then the SQL.
 * Invariants: a definition or an error naming one of the two files; a definition's sheets
 * name queries that exist, and every query is used. */
#include "fuzz.h"

#include "report/def.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *layout = fuzz_cstr(data, size);
    size_t ln = strlen(layout);
    const char *sql = ln < size ? layout + ln + 1 : "";
    struct fb_error err = {0};
    struct report_def *d = report_def_parse("fuzz", layout, "fuzz.report", sql, "fuzz.sql", &err);
    if (d) {
        CHECK(err.message == NULL);
        CHECK(d->nsheets > 0);
        for (size_t i = 0; i < d->nsheets; i++) {
            const struct report_sheet *sh = &d->sheets[i];
            CHECK(sh->name != NULL && sh->query != NULL);
            CHECK(report_def_query(d, sh->query) != NULL);
            if (sh->kind == SHEET_BOXMAP)
                CHECK(sh->ncolors > 0);
            else
                CHECK(sh->ncols > 0);
        }
        for (size_t i = 0; i < d->nparams; i++)
            CHECK(d->params[i].name != NULL && cell_type_name(d->params[i].type) != NULL);
        for (size_t i = 0; i < d->nqueries; i++)
            CHECK(d->queries[i].name != NULL && d->queries[i].sql != NULL);
        report_def_free(d);
    } else {
        CHECK(err.kind == FB_ERR_INPUT && err.message != NULL);
        CHECK(strstr(err.message, "fuzz.report") || strstr(err.message, "fuzz.sql"));
    }
    fb_error_clear(&err);
    free(layout);
    return 0;
}
