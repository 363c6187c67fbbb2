/* report_params.c: a report's parameters (--param NAME=VALUE). Names are matched against the
 * definition; values are validated and normalised by the database (fmtbank.report_param, the
 * same date and time rules as every command), checked against the declared bounds, and bound as
 * typed query parameters, never spliced into SQL. */
#include "report/report_int.h"
#include "db/db.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

Oid
report_param_oid(enum cell_type t)
{
    switch (t) {
    case CELL_INTEGER:
        return OID_INT8;
    case CELL_NUMBER:
        return OID_NUMERIC;
    case CELL_DATE:
        return OID_DATE;
    case CELL_TIMESTAMP:
        return OID_TIMESTAMPTZ;
    case CELL_BOOLEAN:
        return OID_BOOL;
    default:
        return OID_TEXT;
    }
}

void
report_bound_nulls(const struct report_def *def, struct report_bound *b)
{
    b->n = def->nparams;
    b->values = xcalloc(b->n + 1, sizeof(char *));
    b->owned = xcalloc(b->n + 1, sizeof(char *));
    b->types = xcalloc(b->n + 1, sizeof(Oid));
    for (size_t k = 0; k < def->nparams; k++)
        b->types[k] = report_param_oid(def->params[k].type);
}

void
report_bound_free(struct report_bound *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->owned[i]);
    free(b->owned);
    free(b->values);
    free(b->types);
    memset(b, 0, sizeof(*b));
}

static void
param_names(const struct report_def *def, struct strbuf *sb)
{
    for (size_t i = 0; i < def->nparams; i++)
        strbuf_addf(sb, "%s%s (%s)", i ? ", " : "", def->params[i].name,
                    cell_type_name(def->params[i].type));
}

/* Validates one value through the database (the same date/time rules as every command). */
char *
report_param_normalise(PGconn *conn, const struct report_param *par, const char *value,
                       struct fb_error *err)
{
    const char *p[] = {value, cell_type_name(par->type), par->name,
                       par->end_of_day ? "true" : "false"};
    return db_scalar(conn, "SELECT fmtbank.report_param($1, $2, $3, $4::boolean)", 4, p, err);
}

/* Checks a normalised value against the parameter's declared min and max (normalised by the same
 * rules, so a date bound of a timestamp parameter means what it would mean as a value). Returns
 * 0 when it is inside, or -1 with err set: FB_ERR_INPUT naming the parameter and the bounds. */
int
report_param_check_bounds(PGconn *conn, const struct report_param *par, const char *given,
                          const char *value, struct fb_error *err)
{
    if (!value || (!par->min && !par->max))
        return 0;
    const char *sql;
    switch (par->type) {
    case CELL_DATE:
        sql = "SELECT ($2::date IS NULL OR $1::date >= $2::date)"
              " AND ($3::date IS NULL OR $1::date <= $3::date)";
        break;
    case CELL_TIMESTAMP:
        sql = "SELECT ($2::timestamptz IS NULL OR $1::timestamptz >= $2::timestamptz)"
              " AND ($3::timestamptz IS NULL OR $1::timestamptz <= $3::timestamptz)";
        break;
    default:
        sql = "SELECT ($2::numeric IS NULL OR $1::numeric >= $2::numeric)"
              " AND ($3::numeric IS NULL OR $1::numeric <= $3::numeric)";
    }
    char *lo = NULL, *hi = NULL, *ok = NULL;
    int rc = -1;
    if (par->min && !(lo = report_param_normalise(conn, par, par->min, err)))
        goto done;
    if (par->max && !(hi = report_param_normalise(conn, par, par->max, err)))
        goto done;
    const char *p[] = {value, lo, hi};
    if (!(ok = db_scalar(conn, sql, 3, p, err)))
        goto done;
    if (strcmp(ok, "t") == 0) {
        rc = 0;
        goto done;
    }
    fb_error_set(err, FB_ERR_INPUT, "invalid value \"%s\" for parameter \"%s\"", given, par->name);
    if (par->min && par->max)
        fb_error_detail(err, "The value must be between %s and %s.", par->min, par->max);
    else if (par->min)
        fb_error_detail(err, "The value must be at least %s.", par->min);
    else
        fb_error_detail(err, "The value must be at most %s.", par->max);
done:
    free(lo);
    free(hi);
    free(ok);
    return rc;
}

int
report_bind_params(PGconn *conn, const struct report_def *def, const char *const *params,
                   size_t nparams, struct report_bound *b, struct fb_error *err)
{
    report_bound_nulls(def, b);
    const char **given = xcalloc(b->n + 1, sizeof(char *));
    int rc = -1;
    for (size_t i = 0; i < nparams; i++) {
        const char *eq = params[i] ? strchr(params[i], '=') : NULL;
        if (!eq || eq == params[i]) {
            fb_error_set(err, FB_ERR_USAGE, "invalid parameter \"%s\"", params[i] ? params[i] : "");
            fb_error_hint(err, "Give parameters as --param NAME=VALUE.");
            goto done;
        }
        size_t klen = (size_t)(eq - params[i]);
        size_t k = 0;
        while (k < def->nparams && !(strlen(def->params[k].name) == klen &&
                                     strncmp(def->params[k].name, params[i], klen) == 0))
            k++;
        if (k == def->nparams) {
            fb_error_set(err, FB_ERR_USAGE, "unknown parameter \"%.*s\" for report \"%s\"",
                         (int)klen, params[i], def->name);
            if (def->nparams) {
                struct strbuf sb = STRBUF_INIT;
                param_names(def, &sb);
                fb_error_hint(err, "Report \"%s\" takes: %s.", def->name, sb.buf);
                strbuf_release(&sb);
            } else {
                fb_error_hint(err, "Report \"%s\" takes no parameter.", def->name);
            }
            goto done;
        }
        if (given[k]) {
            fb_error_set(err, FB_ERR_USAGE, "parameter \"%s\" is given twice", def->params[k].name);
            goto done;
        }
        given[k] = eq + 1;
    }
    for (size_t k = 0; k < def->nparams; k++)
        if (def->params[k].required && !given[k]) {
            fb_error_set(err, FB_ERR_USAGE, "report \"%s\" requires parameter \"%s\"", def->name,
                         def->params[k].name);
            fb_error_hint(err, "Give it as --param %s=VALUE%s%s.", def->params[k].name,
                          def->params[k].help ? ": " : "",
                          def->params[k].help ? def->params[k].help : "");
            goto done;
        }
    for (size_t k = 0; k < def->nparams; k++) {
        const struct report_param *par = &def->params[k];
        const char *v = given[k] ? given[k] : par->def;
        if (!v)
            continue;
        b->owned[k] = report_param_normalise(conn, par, v, err);
        if (!b->owned[k]) {
            if (err->kind == FB_OK)
                fb_error_set(err, FB_ERR_INPUT, "invalid value \"%s\" for parameter \"%s\"", v,
                             par->name);
            goto done;
        }
        b->values[k] = b->owned[k];
        if (report_param_check_bounds(conn, par, v, b->values[k], err) < 0)
            goto done;
    }
    rc = 0;
done:
    free(given);
    return rc;
}
