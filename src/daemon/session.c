/* session.c: the daemon's two database sessions. The lock session holds the session-level
 * advisory lock that makes one daemon the active one, and LISTENs; it stays idle so that
 * notifications arrive at once and so that its end (process killed, host gone: the server
 * drops the session and with it the lock) lets a standby take over. The work session runs the
 * imports, sweeps, reports and heartbeat; its transactions never touch the lock. */
#include "daemon/daemon.h"
#include "db/db.h"
#include "db/migrate.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* The daemon's session-level advisory lock is 7064005001 (fmtbank's 7064 prefix, 005 for
 * migration 050, 001), taken by fmtbank.daemon_try_lead(); distinct from the audit trail's
 * transaction lock (70640001) and the migrations' lock. */

/* Names the session in pg_stat_activity and makes the server notice a vanished client: during
 * a long statement (client_connection_check_interval, PostgreSQL 14+) and, over TCP, while idle
 * (keepalives), so a dead host's lock is released within about half a minute. Best effort: an
 * older server or a Unix socket ignores what it cannot use. */
static void
name_session(PGconn *c, const char *name)
{
    const char *p[] = {name};
    PQclear(PQexecParams(c, "SELECT pg_catalog.set_config('application_name', $1, false)", 1,
                         NULL, p, NULL, NULL, 0));
    static const char *const settings[][2] = {{"client_connection_check_interval", "2s"},
                                              {"tcp_keepalives_idle", "10"},
                                              {"tcp_keepalives_interval", "5"},
                                              {"tcp_keepalives_count", "3"}};
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        const char *q[] = {settings[i][0], settings[i][1]};
        PQclear(PQexecParams(c,
                             "SELECT pg_catalog.set_config($1, $2, false)"
                             " WHERE EXISTS (SELECT FROM pg_catalog.pg_settings WHERE name = $1)",
                             2, NULL, q, NULL, NULL, 0));
    }
}

/* Server notices and libpq's own messages on a session go to the log as one line each. */
static void
notice_to_log(void *arg, const char *message)
{
    (void)arg;
    char *m = xstrdup(message);
    for (char *p = m; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    size_t n = strlen(m);
    while (n > 0 && m[n - 1] == ' ')
        m[--n] = '\0';
    log_msg(LOG_WARNING, "database: %s", m);
    free(m);
}

static int
check_schema(PGconn *c, struct fb_error *err)
{
    PGresult *r = db_exec(c, "SELECT " MIGRATE_STATE_COLUMNS, 0, NULL, err);
    if (!r)
        return migrate_state_failed(c, err);
    int rc = migrate_check_row(r, err);
    PQclear(r);
    return rc;
}

int
session_open(struct daemon *d, bool may_start, struct fb_error *err)
{
    const char *user = config_db_user(&d->cfg);
    d->active = false;
    d->ctl = may_start ? db_connect(d->cfg.db, user, err) : db_connect_running(d->cfg.db, user, err);
    if (!d->ctl)
        return -1;
    /* A hot standby takes no changes: the daemon waits for a primary (a multi-host string without
     * target_session_attrs=read-write may name a standby first). PostgreSQL 14+ reports it. */
    const char *hs = PQparameterStatus(d->ctl, "in_hot_standby");
    if (hs && strcmp(hs, "on") == 0) {
        fb_error_set(err, FB_ERR_DBUNAVAIL, "the server is a read-only standby: fmtbankd works "
                     "on the primary");
        fb_error_hint(err, "Name the primary, or every server with target_session_attrs=read-write "
                           "(README \"Standby and failover\").");
        goto fail;
    }
    if (check_schema(d->ctl, err) < 0)
        goto fail;
    d->work = db_connect_running(d->cfg.db, user, err);
    if (!d->work)
        goto fail;
    PQsetNoticeProcessor(d->ctl, notice_to_log, NULL);
    PQsetNoticeProcessor(d->work, notice_to_log, NULL);
    name_session(d->ctl, "fmtbankd lock");
    name_session(d->work, "fmtbankd");
    return 0;
fail:
    session_close(d);
    return -1;
}

void
session_close(struct daemon *d)
{
    if (d->ctl)
        PQfinish(d->ctl);
    if (d->work)
        PQfinish(d->work);
    d->ctl = d->work = NULL;
    d->active = false;
}

bool
session_ok(const struct daemon *d)
{
    return d->ctl && d->work && PQstatus(d->ctl) == CONNECTION_OK &&
           PQstatus(d->work) == CONNECTION_OK;
}

int
session_try_lock(struct daemon *d, struct fb_error *err)
{
    /* Through the owner's function: no application role may call pg_try_advisory_lock itself
     * (067_locks.sql); the lock is still this session's and lasts until it ends. */
    char *got = db_scalar(d->ctl, "SELECT fmtbank.daemon_try_lead()", 0, NULL, err);
    if (!got)
        return -1;
    bool locked = strcmp(got, "t") == 0;
    free(got);
    if (!locked)
        return 0;
    /* Only the active daemon listens: a standby has nothing to wake up for. */
    if (db_run(d->ctl, "LISTEN fmtbank_result", 0, NULL, err) < 0 ||
        db_run(d->ctl, "LISTEN fmtbank_donor", 0, NULL, err) < 0 ||
        db_run(d->ctl, "LISTEN fmtbank_rules", 0, NULL, err) < 0)
        return -1;
    d->active = true;
    return 1;
}

int
session_wait(struct daemon *d, double timeout)
{
    int sock = PQsocket(d->ctl);
    if (sock < 0)
        return -1;
    if (signals_wait(sock, timeout) == 0)
        return 0;
    /* Readable: notifications, or the end of the session (server shut down or restarted). */
    if (!PQconsumeInput(d->ctl) || PQstatus(d->ctl) != CONNECTION_OK)
        return -1;
    int n = 0;
    PGnotify *note;
    while ((note = PQnotifies(d->ctl)) != NULL) {
        log_msg(LOG_DEBUG, "notified on \"%s\"%s%s", note->relname, *note->extra ? ": " : "",
                note->extra);
        n++;
        PQfreemem(note);
    }
    return n;
}
