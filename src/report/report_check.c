/* report_check.c: "report check": every query of a definition prepared with the declared
 * parameter types and described, its columns compared with the sheets', the parameters' bounds
 * and defaults validated; and the blame a failing query puts on its definition. */
#include "report/report.h"
#include "report/report_int.h"
#include "db/db.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* Line of NAME.sql holding character `pos` (1-based, as PostgreSQL counts) of query q. */
static int
query_line(const struct report_query *q, const char *pos)
{
    long want = pos ? strtol(pos, NULL, 10) : 0;
    int line = q->line;
    long ch = 0;
    for (const char *s = q->sql; *s && want > 0; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80 && ++ch >= want)
            break;
        if (*s == '\n')
            line++;
    }
    return line;
}

/* Rewrites err (filled from res) to name the query of def and its line. */
static void
blame(const struct report_def *def, const struct report_query *q, const PGresult *res,
      struct fb_error *err)
{
    int line = query_line(q, PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION));
    char *msg = xstrdup(err->message ? err->message : "query failed");
    fb_error_set(err, FB_ERR_INPUT, "report \"%s\": query \"%s\" (\"%s\", line %d): %s", def->name,
                 q->name, def->sql_file, line, msg);
    free(msg);
}

/* A query of the definition that PostgreSQL cannot run (class 42: syntax, unknown column or
 * function, type mismatch; not permission, 42501) is a broken definition: say which query and
 * line, as "report check" does. */
void
report_blame_query(const struct report_def *def, const struct report_query *q, const PGresult *res,
                   struct fb_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state || strncmp(state, "42", 2) != 0 || strcmp(state, "42501") == 0)
        return;
    blame(def, q, res, err);
    fb_error_hint(err, "The definition is broken; \"fmtbank report check\" checks them all.");
}

static int
check_one(PGconn *conn, const struct report_def *def, struct fb_error *err)
{
    struct report_bound b = {0};
    report_bound_nulls(def, &b);
    int rc = -1;
    if (db_run(conn, "BEGIN READ ONLY", 0, NULL, err) < 0) {
        report_bound_free(&b);
        return -1;
    }
    if (db_run(conn, REPORT_SESSION_SQL, 0, NULL, err) < 0)
        goto done;
    for (size_t k = 0; k < def->nparams; k++) {
        const struct report_param *par = &def->params[k];
        /* The bounds and the default must be values of the parameter's type; the default must be
         * inside the bounds. */
        const char *what[] = {"minimum", "maximum", "default"};
        const char *text[] = {par->min, par->max, par->def};
        for (int w = 0; w < 3; w++) {
            if (!text[w])
                continue;
            char *v = report_param_normalise(conn, par, text[w], err);
            if (v && w == 2 && report_param_check_bounds(conn, par, text[w], v, err) < 0) {
                free(v);
                v = NULL;
            }
            if (!v) {
                char *msg = xstrdup(err->message ? err->message : "invalid value");
                char *detail = err->detail ? xstrdup(err->detail) : NULL;
                fb_error_set(err, FB_ERR_INPUT, "report \"%s\": %s of parameter \"%s\": %s",
                             def->name, what[w], par->name, msg);
                if (detail)
                    fb_error_detail(err, "%s", detail);
                fb_error_hint(err, "See \"%s\", line %d.", def->layout_file, par->line);
                free(msg);
                free(detail);
                goto done;
            }
            free(v);
        }
    }
    for (size_t i = 0; i < def->nqueries; i++) {
        const struct report_query *q = &def->queries[i];
        PGresult *res = PQprepare(conn, "", q->sql, (int)b.n, b.types);
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            res = PQdescribePrepared(conn, "");
        }
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            db_error_fill(conn, res, err);
            blame(def, q, res, err);
            PQclear(res);
            goto done;
        }
        for (size_t s = 0; s < def->nsheets; s++)
            if (strcmp(def->sheets[s].query, q->name) == 0 &&
                report_shape_sheet(def, &def->sheets[s], res, NULL, err) < 0) {
                PQclear(res);
                goto done;
            }
        if (def->meta && strcmp(def->meta, q->name) == 0 && report_shape_meta(def, res, err) < 0) {
            PQclear(res);
            goto done;
        }
        PQclear(res);
    }
    rc = 0;
done : {
    PGresult *r = PQexec(conn, "ROLLBACK");
    PQclear(r);
}
    report_bound_free(&b);
    return rc;
}

int
report_check(PGconn *conn, const char *const *names, size_t n, FILE *out, FILE *errout,
             struct fb_error *err)
{
    size_t count = n;
    char **all = NULL;
    if (n == 0) {
        all = report_all_names(&count);
        names = (const char *const *)all;
    }
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        fb_error_set(err, FB_ERR_INTERNAL, "cannot check reports inside an open transaction");
        report_names_free(all, count);
        return -1;
    }
    int broken = 0;
    for (size_t i = 0; i < count; i++) {
        struct fb_error e = {0};
        struct report_def *def = report_find_def(names[i], &e);
        if (def && check_one(conn, def, &e) == 0) {
            fprintf(out, "%s: ok\n", names[i]);
        } else {
            if (PQstatus(conn) != CONNECTION_OK) {
                /* The database went away: that is not a broken definition. */
                *err = e;
                report_names_free(all, count);
                report_def_free(def);
                return -1;
            }
            fprintf(out, "%s: broken\n", names[i]);
            fb_error_print(&e, errout);
            broken++;
        }
        fb_error_clear(&e);
        report_def_free(def);
    }
    report_names_free(all, count);
    return broken;
}
