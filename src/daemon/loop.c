/* loop.c: the daemon's loop. Each turn: take a pending reload, (re)connect with capped
 * exponential back-off, try to become the active daemon (else wait one interval as a hot
 * standby), do one pass (inbox, sweeps, reports, heartbeat), then sleep until the interval ends,
 * a NOTIFY arrives or a signal comes. SIGTERM/SIGINT end it between units of work. */
#include "daemon/daemon.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
daemon_init(struct daemon *d)
{
    memset(d, 0, sizeof(*d));
    config_defaults(&d->cfg);
    if (gethostname(d->host, sizeof(d->host) - 1) != 0 || d->host[0] == '\0')
        strcpy(d->host, "localhost");
    d->pid = getpid();
}

void
daemon_free(struct daemon *d)
{
    session_close(d);
    for (size_t i = 0; i < d->nseen; i++)
        free(d->seen[i].name);
    free(d->seen);
    config_free(&d->cfg);
    opt_values_free(&d->opts.cli);
}

void
daemon_error(struct daemon *d, const char *what, const struct fb_error *err)
{
    d->errors++;
    log_msg(LOG_ERROR, "%s: %s%s%s%s%s", what, err->message ? err->message : "unknown error",
            err->detail ? " DETAIL: " : "", err->detail ? err->detail : "",
            err->hint ? " HINT: " : "", err->hint ? err->hint : "");
}

static int
check_dir(const char *what, const char *path, struct fb_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fb_error_set(err, FB_ERR_USAGE, "%s \"%s\" is not a directory", what, path);
        return -1;
    }
    if (access(path, R_OK | W_OK | X_OK) != 0) {
        fb_error_set(err, FB_ERR_USAGE, "cannot use %s \"%s\": %s", what, path, strerror(errno));
        return -1;
    }
    return 0;
}

int
daemon_prepare_dirs(const struct daemon_config *c, struct fb_error *err)
{
    if (c->inbox) {
        if (check_dir("inbox", c->inbox, err) < 0)
            return -1;
        static const char *const subs[] = {"processed", "rejected"};
        for (int i = 0; i < 2; i++) {
            char *p = xasprintf("%s/%s", c->inbox, subs[i]);
            int rc = mkdir(p, 0777) == 0 || errno == EEXIST ? check_dir("inbox folder", p, err) : -1;
            if (rc < 0 && !err->message)
                fb_error_set(err, FB_ERR_USAGE, "could not create \"%s\": %s", p, strerror(errno));
            free(p);
            if (rc < 0)
                return -1;
        }
    }
    if (c->outbox && check_dir("outbox", c->outbox, err) < 0)
        return -1;
    return 0;
}

static void
log_config(const struct daemon *d)
{
    const struct daemon_config *c = &d->cfg;
    char when[16] = "off";
    if (c->report_minute >= 0)
        snprintf(when, sizeof(when), "%02d:%02d", c->report_minute / 60, c->report_minute % 60);
    if (c->inbox)
        log_msg(LOG_INFO, "inbox \"%s\" (format %s), settle %g s", c->inbox, c->inbox_format,
                c->settle);
    else
        log_msg(LOG_INFO, "no inbox");
    log_msg(LOG_INFO, "outbox %s%s%s, daily reports (%s) at %s; interval %g s",
            c->outbox ? "\"" : "", c->outbox ? c->outbox : "none", c->outbox ? "\"" : "",
            c->reports, when, c->interval);
}

static bool
same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void
reload(struct daemon *d)
{
    if (!d->opts.config_path) {
        log_msg(LOG_INFO, "SIGHUP: no configuration file to reload (started without --config)");
        return;
    }
    struct fb_error err = {0};
    struct daemon_config next;
    config_defaults(&next);
    if (config_load(&d->opts, &next, &err) < 0 || daemon_prepare_dirs(&next, &err) < 0) {
        log_msg(LOG_ERROR, "could not reload the configuration: %s; keeping the previous one",
                err.message);
        d->errors++;
        fb_error_clear(&err);
        config_free(&next);
        return;
    }
    bool reconnect = !same(next.db, d->cfg.db) || !same(next.user, d->cfg.user);
    config_free(&d->cfg);
    d->cfg = next;
    log_set_level(d->cfg.log_level);
    log_msg(LOG_INFO, "reloaded the configuration from \"%s\"", d->opts.config_path);
    log_config(d);
    if (reconnect && d->ctl) {
        log_msg(LOG_INFO, "database settings changed: reconnecting");
        session_close(d);
    }
}

/* 1, 2, 4, ... seconds, capped at reconnect_max. */
static double
backoff(const struct daemon *d)
{
    double delay = 1;
    for (int i = 1; i < d->attempt && delay < d->cfg.reconnect_max; i++)
        delay *= 2;
    return delay < d->cfg.reconnect_max ? delay : d->cfg.reconnect_max;
}

static void
lost(struct daemon *d)
{
    const char *msg = d->ctl && PQstatus(d->ctl) != CONNECTION_OK ? PQerrorMessage(d->ctl)
                      : d->work                                   ? PQerrorMessage(d->work)
                                                                  : "";
    char *m = xstrdup(msg);
    m[strcspn(m, "\n")] = '\0';
    log_msg(LOG_WARNING, "lost the database connection%s%s; reconnecting", *m ? ": " : "", m);
    free(m);
    if (d->active)
        log_msg(LOG_WARNING, "no longer the active daemon until the lock is taken again");
    session_close(d);
}

static void
beat(struct daemon *d)
{
    struct fb_error err = {0};
    if (heartbeat_write(d, &err) < 0 && session_ok(d))
        daemon_error(d, "could not write the heartbeat", &err);
    fb_error_clear(&err);
}

/* One pass of the active daemon; each step is skipped once a stop was asked for. */
static void
pass(struct daemon *d)
{
    if (d->cfg.inbox && inbox_pass(d) < 0)
        return;
    if (!signals_stop_requested() && session_ok(d)) {
        struct fb_error err = {0};
        long n = daemon_sweep(d->work, &err);
        d->swept = n >= 0;
        /* A session lost meanwhile is the loop's to report, not an error of the sweep. */
        if (n < 0 && session_ok(d))
            daemon_error(d, "sweep", &err);
        fb_error_clear(&err);
    }
    if (!signals_stop_requested() && session_ok(d))
        reports_pass(d);
    if (session_ok(d))
        beat(d);
}

int
daemon_loop(struct daemon *d)
{
    bool ever_connected = false;
    int rc = 0;
    log_config(d);
    while (!signals_stop_requested()) {
        if (signals_take_reload())
            reload(d);
        if (!d->ctl) {
            struct fb_error err = {0};
            /* Only the first connection may start the embedded instance: one stopped later was
             * stopped on purpose. */
            if (session_open(d, !ever_connected, &err) < 0) {
                d->attempt++;
                if (d->opts.once) {
                    daemon_error(d, "could not connect to the database", &err);
                    rc = FB_ERR_DBUNAVAIL;
                    fb_error_clear(&err);
                    break;
                }
                double delay = backoff(d);
                log_msg(LOG_WARNING, "could not connect to the database (attempt %d): %s%s%s;"
                        " retrying in %g s", d->attempt, err.message,
                        err.hint ? " HINT: " : "", err.hint ? err.hint : "", delay);
                fb_error_clear(&err);
                signals_wait(-1, delay);
                continue;
            }
            log_msg(LOG_INFO, "connected to database \"%s\" as \"%s\"%s", PQdb(d->ctl),
                    PQuser(d->ctl), d->attempt ? " (reconnected)" : "");
            ever_connected = true;
            d->attempt = 0;
        }
        if (!d->active) {
            struct fb_error err = {0};
            int got = session_try_lock(d, &err);
            fb_error_clear(&err);
            if (got < 0) {
                lost(d);
                continue;
            }
            if (got == 0 && d->opts.once) {
                log_msg(LOG_INFO, "another fmtbankd is active: nothing done");
                break;
            }
            if (got == 0) {
                if (!d->standby_logged)
                    log_msg(LOG_INFO, "another fmtbankd is active: waiting as a hot standby"
                            " (trying every %g s)", d->cfg.interval);
                d->standby_logged = true;
                beat(d);
                if (session_wait(d, d->cfg.interval) < 0)
                    lost(d);
                continue;
            }
            log_msg(LOG_INFO, "%s (pid %ld on %s)",
                    d->standby_logged ? "taking over as the active daemon" : "active daemon",
                    (long)d->pid, d->host);
            d->standby_logged = false;
        }
        pass(d);
        if (!session_ok(d)) {
            if (d->opts.once) {
                log_msg(LOG_ERROR, "lost the database connection during the pass");
                rc = FB_ERR_DBUNAVAIL;
                break;
            }
            lost(d);
            continue;
        }
        if (d->opts.once)
            break;
        double wait = d->cfg.interval;
        if (d->inbox_pending && d->cfg.settle < wait)
            wait = d->cfg.settle > 0.05 ? d->cfg.settle : 0.05;
        if (session_wait(d, wait) < 0)
            lost(d);
    }
    if (signals_stop_requested())
        log_msg(LOG_INFO, "stop requested: exiting");
    if (rc == 0 && d->opts.once && d->errors > 0)
        rc = FB_ERR_INTERNAL;
    if (session_ok(d) && d->active) {
        /* Tell "fmtbank status" this daemon stopped; closing the session frees the lock. */
        d->active = false;
        beat(d);
    }
    session_close(d);
    return rc;
}
