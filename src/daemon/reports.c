/* reports.c: the daily reports ("reports" setting, default inventory and expiring) written into
 * the outbox through the report engine (report_run) once the configured local time of day has
 * passed, named with the date: inventory-2026-11-27.xlsx. A report is written under a hidden
 * temporary name and linked into place, so the outbox never shows half a file and an existing
 * report is never overwritten: after a restart the day's files are found and not written again.
 * A report not defined (no reports/NAME.report) is skipped with one warning a day; any other
 * failure is an error, tried again on the next pass. */
#include "daemon/daemon.h"
#include "report/report.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Returns 0 when the report exists (written now or before) or is not defined, else -1. */
static int
write_one(struct daemon *d, const char *name, const char *date, long day)
{
    char *final = xasprintf("%s/%s-%s.xlsx", d->cfg.outbox, name, date);
    char *tmp = xasprintf("%s/.%s-%s.%ld.xlsx", d->cfg.outbox, name, date, (long)d->pid);
    int rc = 0;
    if (access(final, F_OK) == 0) {
        log_msg(LOG_DEBUG, "report \"%s\" exists already", final);
        goto done;
    }
    struct fb_error err = {0};
    unlink(tmp);
    const struct report_request req = {.name = name, .out_path = tmp};
    if (report_run(d->work, &req, NULL, &err) < 0) {
        if (err.kind == FB_ERR_NOTFOUND) {
            if (d->reports_warned_day != day)
                log_msg(LOG_WARNING, "daily report \"%s\" skipped: %s", name, err.message);
            d->reports_warned_day = day;
        } else {
            char *what = xasprintf("could not write the %s report for %s", name, date);
            daemon_error(d, what, &err);
            free(what);
            rc = -1;
        }
        fb_error_clear(&err);
    } else if (link(tmp, final) != 0 && errno != EEXIST) {
        log_msg(LOG_ERROR, "could not create \"%s\": %s", final, strerror(errno));
        d->errors++;
        rc = -1;
    } else {
        log_msg(LOG_INFO, "wrote the daily report \"%s\"", final);
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
    if (!d->cfg.outbox || d->cfg.report_minute < 0 || !d->cfg.reports)
        return;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    long day = (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    if (d->reports_done_day == day || tm.tm_hour * 60 + tm.tm_min < d->cfg.report_minute)
        return;
    char date[16];
    strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    int failed = 0;
    char *names = xstrdup(d->cfg.reports), *save = NULL;
    for (char *n = strtok_r(names, ", ", &save); n; n = strtok_r(NULL, ", ", &save)) {
        if (signals_stop_requested()) {
            failed++;
            break;
        }
        failed += write_one(d, n, date, day) < 0;
    }
    free(names);
    if (!failed)
        d->reports_done_day = day;
}
