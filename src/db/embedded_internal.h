/* embedded_internal.h: what embedded.c and standby.c share (not for commands). */
#ifndef FMTBANK_EMBEDDED_INTERNAL_H
#define FMTBANK_EMBEDDED_INTERNAL_H
#include "db/embedded.h"
#include "common/strbuf.h"

/* The file, in the data directory, with the replication settings (written at every start). */
#define EMBEDDED_REPLICATION_CONF "fmtbank_replication.conf"

/* embedded.c */
/* Runs argv as the server user in home; output appended to logpath (NULL: /dev/null). Returns the
 * exit status or -1. */
int embedded_run(const struct embedded *e, const char *const argv[], const char *logpath);
/* Writes path (mode 0600, the server user's) atomically. */
int embedded_write_file(const struct embedded *e, const char *path, const char *content,
                        struct fb_error *err);
/* Creates home (0750 group fmtbank, or 0700) and, as root, the system user. */
int embedded_prepare_home(struct embedded *e, struct fb_error *err);
char *embedded_pgprog(const char *name);
/* The exclusive lock on home/fmtbank.lock (returns its fd, or -1 with err set). */
int embedded_lock(const struct embedded *e, struct fb_error *err);
void embedded_unlock(int fd);

/* standby.c */
/* The pg_hba.conf lines for replication connections (pg_basebackup and a standby's walreceiver
 * on this machine: the service account by peer). */
void embedded_replication_hba(struct strbuf *hba);
/* Writes data/EMBEDDED_REPLICATION_CONF: the WAL and hot-standby settings and this home's socket
 * directory (a standby's data directory is a copy of its primary's). */
int embedded_write_replication_conf(const struct embedded *e, struct fb_error *err);
/* Whether the running instance's fmtbank_auth.conf predates the replication include (written by
 * an older fmtbank): "init" then restarts it to take the new settings. */
bool embedded_conf_outdated(const struct embedded *e);

#endif
