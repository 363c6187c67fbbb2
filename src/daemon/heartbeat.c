/* heartbeat.c: the daemon's row in fmtbank.daemon_heartbeat, written every pass (and every
 * standby interval) through fmtbank.daemon_beat(); "fmtbank status" shows it. */
#include "daemon/daemon.h"
#include "db/db.h"

#include <stdio.h>

int
heartbeat_write(struct daemon *d, struct fb_error *err)
{
    char pid[24], errors[24];
    snprintf(pid, sizeof(pid), "%ld", (long)d->pid);
    snprintf(errors, sizeof(errors), "%lld", d->errors);
    const char *p[] = {d->host,
                       pid,
                       d->active ? "true" : "false",
                       d->swept ? "true" : "false",
                       d->imported ? "true" : "false",
                       errors};
    if (db_run(d->work, "SELECT fmtbank.daemon_beat($1, $2, $3, $4, $5, $6)", 6, p, err) < 0)
        return -1;
    d->swept = d->imported = false;
    return 0;
}
