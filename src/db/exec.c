/* exec.c: parameterised execution and the mapping of server errors to fmtbank error kinds. */
#include "db/db.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

enum fb_errkind
db_kind_for_sqlstate(const char *s)
{
    if (str_empty(s))
        return FB_ERR_DBUNAVAIL;
    /* Class FB is fmtbank's own: raised by the rules in schema/. */
    if (strcmp(s, "FB001") == 0)
        return FB_ERR_INPUT;
    if (strcmp(s, "FB002") == 0 || strcmp(s, "P0002") == 0)
        return FB_ERR_NOTFOUND;
    if (strcmp(s, "FB003") == 0 || strcmp(s, "P0001") == 0)
        return FB_ERR_REFUSED;
    if (strcmp(s, "42501") == 0 || strcmp(s, "28000") == 0 || strcmp(s, "28P01") == 0)
        return FB_ERR_PERMISSION;
    /* A concurrent writer: serialization failure, deadlock, lock wait timed out. Not the
     * input's fault and no rule's refusal; the same command may succeed a moment later. */
    if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 || strcmp(s, "55P03") == 0)
        return FB_ERR_TRANSIENT;
    if (strncmp(s, "22", 2) == 0)
        return FB_ERR_INPUT;
    if (strncmp(s, "23", 2) == 0 || strncmp(s, "40", 2) == 0)
        return FB_ERR_REFUSED;
    /* Of class 53 (insufficient resources) only too_many_connections means "unavailable": a full
     * disk (53100) or out of memory (53200) is a failure of the request, not a server to wait for. */
    if (strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0 || strcmp(s, "53300") == 0)
        return FB_ERR_DBUNAVAIL;
    return FB_ERR_INTERNAL;
}

/* A change sent to a hot standby (product.md §15): not the input's fault nor an internal error but
 * a database that cannot take writes here, so exit 7 with a message saying so. The server reports
 * in_hot_standby (PostgreSQL 14+) at connection and when it is promoted. */
static void
standby_refusal(PGconn *conn, const char *state, struct fb_error *err)
{
    const char *hs = conn ? PQparameterStatus(conn, "in_hot_standby") : NULL;
    bool standby = hs && strcmp(hs, "on") == 0;
    /* 25006 read-only transaction; 0A000 an unlogged (staging) table; 55000 and XX000 a lock
     * or a transaction id that recovery does not give */
    static const char *const refusals[] = {"25006", "0A000", "55000", "XX000"};
    bool refused = false;
    for (size_t i = 0; state && i < sizeof(refusals) / sizeof(refusals[0]); i++)
        refused = refused || strcmp(state, refusals[i]) == 0;
    if (!standby || !refused)
        return;
    char *was = xstrdup(err->message ? err->message : "");
    fb_error_set(err, FB_ERR_DBUNAVAIL, "read-only standby: this server is a hot standby and "
                 "takes no changes");
    fb_error_detail(err, "%s", was);
    fb_error_hint(err, "Run changes against the primary; a multi-host --db or FMTBANK_DSN with "
                  "target_session_attrs=read-write finds it (README \"Standby and failover\").");
    free(was);
    strncpy(err->sqlstate, state, sizeof(err->sqlstate) - 1);
}

static char *
trimmed(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        n--;
    return xstrndup(s, n);
}

void
db_error_fill(PGconn *conn, const PGresult *res, struct fb_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;

    if (!primary) {
        char *msg = trimmed(conn ? PQerrorMessage(conn) : "no connection");
        fb_error_set(err, state ? db_kind_for_sqlstate(state) : FB_ERR_DBUNAVAIL, "%s",
                     *msg ? msg : "database request failed");
        free(msg);
    } else {
        fb_error_set(err, db_kind_for_sqlstate(state), "%s", primary);
    }
    if (detail)
        fb_error_detail(err, "%s", detail);
    if (hint)
        fb_error_hint(err, "%s", hint);
    /* COPY errors name the offending line only in their context. */
    const char *context = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;
    if (context && !detail && str_starts_with(context, "COPY "))
        fb_error_detail(err, "At %s.", context);
    if (state)
        strncpy(err->sqlstate, state, sizeof(err->sqlstate) - 1);
    standby_refusal(conn, state, err);
}

PGresult *
db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
        struct fb_error *err)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    db_error_fill(conn, res, err);
    PQclear(res);
    return NULL;
}

int
db_run(PGconn *conn, const char *sql, int nparams, const char *const *params,
       struct fb_error *err)
{
    PGresult *res = db_exec(conn, sql, nparams, params, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

char *
db_scalar(PGconn *conn, const char *sql, int nparams, const char *const *params,
          struct fb_error *err)
{
    PGresult *res = db_exec(conn, sql, nparams, params, err);
    char *out = NULL;
    if (!res)
        return NULL;
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        out = xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return out;
}

int
db_run_script(PGconn *conn, const char *sql, struct fb_error *err)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = 0;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        db_error_fill(conn, res, err);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

int
db_copy_in_buf(PGconn *conn, const char *copy_sql, const char *buf, size_t len,
               struct fb_error *err)
{
    PGresult *res = PQexec(conn, copy_sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        db_error_fill(conn, res, err);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    const char *failure = NULL;
    for (size_t off = 0; off < len;) {
        size_t n = len - off < 65536 ? len - off : 65536;
        if (PQputCopyData(conn, buf + off, (int)n) != 1) {
            failure = "connection lost during COPY";
            break;
        }
        off += n;
    }
    PQputCopyEnd(conn, failure);
    int rc = 0;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
            db_error_fill(conn, res, err);
            rc = -1;
        }
        PQclear(res);
    }
    return rc;
}
