/* sweep.c: the loop's hook into the sweeps. All of them are set-based SQL behind the one function
 * fmtbank.sweep() (schema/050_daemon.sql); the daemon only calls it and logs what it changed. */
#include "daemon/daemon.h"
#include "db/db.h"

#include <stdlib.h>

long
daemon_sweep(PGconn *conn, struct fb_error *err)
{
    PGresult *r = db_exec(conn, "SELECT what, n FROM fmtbank.sweep()", 0, NULL, err);
    if (!r)
        return -1;
    long total = 0;
    int failed = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetisnull(r, i, 1)) {
            log_msg(LOG_ERROR, "sweep %s", PQgetvalue(r, i, 0));
            failed++;
            continue;
        }
        log_msg(LOG_INFO, "sweep %s: %s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        total += atol(PQgetvalue(r, i, 1));
    }
    if (PQntuples(r) == 0)
        log_msg(LOG_DEBUG, "sweep: nothing changed");
    PQclear(r);
    if (failed > 0) {
        fb_error_set(err, FB_ERR_INTERNAL, "%d sweep%s failed", failed, failed == 1 ? "" : "s");
        return -1;
    }
    return total;
}
