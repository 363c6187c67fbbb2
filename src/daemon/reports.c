/* reports.c: the daily reports (inventory, expiring) written into the outbox once the configured
 * local time of day has passed, named with the date (inventory-2026-11-27.xlsx). A report is
 * written to a hidden temporary name and linked into place, so the outbox never shows half a
 * file and an existing report is never overwritten: after a restart the day's files are found
 * and not written again. */
#include "daemon/daemon.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const daily_reports[] = {"inventory", "expiring"};

/* The reports module (src/report/report.h, report_run) is not part of this build yet. When it
 * is, these two become:
 *   return report_run(conn, name, NULL, 0, path, err);   and   return true;   */
int
daemon_report_write(PGconn *conn, const char *name, const char *path, struct fb_error *err)
{
    (void)conn;
    (void)path;
    fb_error_set(err, FB_ERR_INTERNAL, "report \"%s\" is not available in this build", name);
    return -1;
}

bool
daemon_reports_available(void)
{
    return false;
}

static int
write_one(struct daemon *d, const char *name, const char *date)
{
    char *final = xasprintf("%s/%s-%s.xlsx", d->cfg.outbox, name, date);
    char *tmp = xasprintf("%s/.%s-%s.xlsx.%ld.tmp", d->cfg.outbox, name, date, (long)d->pid);
    int rc = 0;
    if (access(final, F_OK) == 0) {
        log_msg(LOG_DEBUG, "report \"%s\" already written", final);
        goto done;
    }
    struct fb_error err = {0};
    unlink(tmp);
    if (daemon_report_write(d->work, name, tmp, &err) < 0) {
        char *what = xasprintf("could not write the %s report for %s", name, date);
        daemon_error(d, what, &err);
        free(what);
        fb_error_clear(&err);
        rc = -1;
    } else if (link(tmp, final) != 0 && errno != EEXIST) {
        log_msg(LOG_ERROR, "could not create \"%s\": %s", final, strerror(errno));
        d->errors++;
        rc = -1;
    } else {
        log_msg(LOG_INFO, "wrote the %s report \"%s\"", name, final);
    }
    unlink(tmp);
done:
    free(final);
    free(tmp);
    return rc;
}

void
reports_pass(struct daemon *d)
{
    if (!d->cfg.outbox || d->cfg.report_minute < 0)
        return;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    long day = (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    if (d->reports_done_day == day || tm.tm_hour * 60 + tm.tm_min < d->cfg.report_minute)
        return;
    char date[16];
    strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    if (!daemon_reports_available()) {
        log_msg(LOG_WARNING, "the daily reports for %s are skipped: the reports module is not"
                " part of this build", date);
        d->reports_done_day = day;
        return;
    }
    int failed = 0;
    for (size_t i = 0; i < sizeof(daily_reports) / sizeof(daily_reports[0]); i++) {
        if (signals_stop_requested())
            return;
        failed += write_one(d, daily_reports[i], date) < 0;
    }
    /* A failure is tried again on the next pass. */
    if (!failed)
        d->reports_done_day = day;
}
