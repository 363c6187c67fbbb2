/* standby.c: streaming replication of the embedded instance (product.md §15).
 *
 * Every embedded instance can serve a standby: fmtbank_replication.conf (written at every start,
 * included from fmtbank_auth.conf) sets wal_level = replica, max_wal_senders, wal_keep_size and
 * hot_standby, and pg_hba.conf lets the service account open replication connections on the Unix
 * socket (peer). "fmtbank db standby create --from CONNINFO --home DIR" copies the primary with
 * pg_basebackup -R (standby.signal and primary_conninfo in the copy) into DIR/data, as the server
 * user, and starts it as an embedded instance of DIR: its own socket directory (DIR), log, lock
 * and server module copy. "fmtbank db promote" promotes it, but only when the primary it streams
 * from (its primary_conninfo) no longer answers: two primaries would split the records. */
#include "db/standby.h"
#include "db/embedded_internal.h"
#include "db/db.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void
embedded_replication_hba(struct strbuf *hba)
{
    strbuf_adds(hba, "local replication postgres peer map=fmtbank_service\n");
}

int
embedded_write_replication_conf(const struct embedded *e, struct fb_error *err)
{
    char *path = xasprintf("%s/" EMBEDDED_REPLICATION_CONF, e->datadir);
    char *content = xasprintf(
        "# Written by fmtbank at every start; edits are lost (src/db/standby.c).\n"
        "# This home's socket directory: a standby's data directory is a copy of its primary's.\n"
        "unix_socket_directories = '%s'\n"
        "# A primary serves standbys (fmtbank db standby create); a standby serves reads.\n"
        "wal_level = replica\n"
        "max_wal_senders = 10\n"
        "wal_keep_size = '256MB'\n"
        "hot_standby = on\n"
        "hot_standby_feedback = on\n",
        e->home);
    int rc = embedded_write_file(e, path, content, err);
    free(content);
    free(path);
    return rc;
}

bool
embedded_conf_outdated(const struct embedded *e)
{
    char *path = xasprintf("%s/fmtbank_auth.conf", e->datadir);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, "include_if_exists = '" EMBEDDED_REPLICATION_CONF "'") != NULL;
    fclose(f);
    return !found;
}

/* "host=/a,/b port=5432" of a connection string, for messages (never its password). */
static char *
conninfo_where(const char *ci)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(ci, &errmsg);
    PQfreemem(errmsg);
    struct strbuf sb = STRBUF_INIT;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (o->val && *o->val &&
            (strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0 ||
             strcmp(o->keyword, "port") == 0))
            strbuf_addf(&sb, "%s%s=%s", sb.len ? " " : "", o->keyword, o->val);
    PQconninfoFree(opts);
    if (!sb.len)
        strbuf_adds(&sb, "the default server");
    return strbuf_detach(&sb);
}

int
standby_create(const char *from, const char *home, struct fb_error *err)
{
    if (str_empty(from) || str_empty(home)) {
        fb_error_set(err, FB_ERR_USAGE, "a standby needs --from CONNINFO and --home DIR");
        return -1;
    }
    char *errmsg = NULL;
    PQconninfoOption *parsed = PQconninfoParse(from, &errmsg);
    if (!parsed) {
        fb_error_set(err, FB_ERR_INPUT, "--from is not a libpq connection string: %s",
                     errmsg ? errmsg : "out of memory");
        PQfreemem(errmsg);
        return -1;
    }
    PQconninfoFree(parsed);
    /* The standby is the embedded instance of DIR: every later command on it names it by
     * FMTBANK_HOME, and so does this one. */
    if (setenv("FMTBANK_HOME", home, 1) != 0) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not set FMTBANK_HOME: %s", strerror(errno));
        return -1;
    }
    struct embedded e;
    if (embedded_resolve(&e, err) < 0)
        return -1;
    int rc = -1, fd = -1;
    char *where = conninfo_where(from), *log = NULL, *prog = NULL;
    struct stat st;
    if (stat(e.datadir, &st) == 0) {
        fb_error_set(err, FB_ERR_REFUSED,
                     "\"%s\" already holds a data directory: a standby is made in a new home",
                     e.home);
        fb_error_hint(err, "Name an empty or new directory with --home.");
        goto out;
    }
    if (embedded_prepare_home(&e, err) < 0 || (fd = embedded_lock(&e, err)) < 0)
        goto out;
    log = xasprintf("%s/basebackup.log", e.home);
    prog = embedded_pgprog("pg_basebackup");
    const char *argv[] = {prog, "-d", from, "-D", e.datadir, "-R", "-X", "stream", "-c", "fast",
                          "-w", NULL};
    int st_rc = embedded_run(&e, argv, log);
    if (st_rc != 0) {
        fb_error_set(err, FB_ERR_DBUNAVAIL, "could not copy the primary (%s) into \"%s\"", where,
                     e.datadir);
        fb_error_detail(err, "pg_basebackup exited with status %d; see \"%s\".", st_rc, log);
        fb_error_hint(err, "The primary must let this machine's service account open a "
                           "replication connection (README \"Standby and failover\").");
        /* what an interrupted copy left is kept aside, not deleted */
        char *aside = xasprintf("%s.incomplete.%ld", e.datadir, (long)time(NULL));
        if (stat(e.datadir, &st) == 0)
            rename(e.datadir, aside);
        free(aside);
        goto out;
    }
    embedded_unlock(fd);
    fd = -1;
    rc = embedded_start(&e, err);
    if (rc == 0)
        fprintf(stderr, "standby running in %s (pid %ld), streaming from %s\n", e.home,
                embedded_pid(&e), where);
out:
    if (fd >= 0)
        embedded_unlock(fd);
    free(prog);
    free(log);
    free(where);
    embedded_free(&e);
    return rc;
}

/* Whether the instance is in recovery and its primary_conninfo (malloc'd), by the superuser. */
static int
standby_state(const struct embedded *e, bool *recovering, char **primary, struct fb_error *err)
{
    char *ci = embedded_conninfo(e, EMBEDDED_SUPERUSER);
    PGconn *c = PQconnectdb(ci);
    free(ci);
    PGresult *r = NULL;
    int rc = -1;
    if (PQstatus(c) != CONNECTION_OK) {
        db_error_fill(c, NULL, err);
        err->kind = FB_ERR_DBUNAVAIL;
        goto out;
    }
    r = db_exec(c, "SELECT pg_catalog.pg_is_in_recovery(),"
                   " pg_catalog.current_setting('primary_conninfo')",
                0, NULL, err);
    if (!r)
        goto out;
    *recovering = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    *primary = xstrdup(PQgetvalue(r, 0, 1));
    rc = 0;
out:
    PQclear(r);
    PQfinish(c);
    return rc;
}

int
standby_promote(struct embedded *e, struct fb_error *err)
{
    if (!embedded_initialised(e) || embedded_pid(e) == 0) {
        fb_error_set(err, FB_ERR_DBUNAVAIL, "the embedded instance in \"%s\" is not running",
                     e->home);
        fb_error_hint(err, "Start the standby with \"fmtbank db start\" (FMTBANK_HOME=%s).",
                      e->home);
        return -1;
    }
    /* as root: the server user's ids, for pg_ctl */
    int fd = embedded_prepare_home(e, err) < 0 ? -1 : embedded_lock(e, err);
    if (fd < 0)
        return -1;
    bool recovering = false;
    char *primary = NULL, *where = NULL, *prog = NULL;
    int rc = -1;
    if (standby_state(e, &recovering, &primary, err) < 0)
        goto out;
    if (!recovering) {
        fb_error_set(err, FB_ERR_REFUSED, "the embedded instance in \"%s\" is not a standby: "
                     "nothing to promote", e->home);
        goto out;
    }
    if (str_empty(primary)) {
        fb_error_set(err, FB_ERR_REFUSED, "the standby in \"%s\" names no primary "
                     "(primary_conninfo is empty): cannot check that the primary is gone",
                     e->home);
        goto out;
    }
    where = conninfo_where(primary);
    PGPing ping = PQping(primary);
    if (ping == PQPING_OK || ping == PQPING_REJECT) {
        fb_error_set(err, FB_ERR_REFUSED, "the primary (%s) still answers: promoting this standby "
                     "would make a second primary", where);
        fb_error_detail(err, "The primary is the standby's primary_conninfo.");
        fb_error_hint(err, "Stop the old primary first (\"fmtbank db stop\" with its FMTBANK_HOME, "
                           "or shut its machine down), then promote.");
        goto out;
    }
    if (ping == PQPING_NO_ATTEMPT) {
        fb_error_set(err, FB_ERR_REFUSED, "the standby's primary_conninfo is not usable: cannot "
                     "check that the primary is gone");
        goto out;
    }
    prog = embedded_pgprog("pg_ctl");
    const char *argv[] = {prog, "promote", "-D", e->datadir, "-w", "-t", "120", NULL};
    int st = embedded_run(e, argv, e->logfile);
    if (st != 0) {
        fb_error_set(err, FB_ERR_DBUNAVAIL, "could not promote the standby in \"%s\"", e->home);
        fb_error_detail(err, "pg_ctl promote exited with status %d; see \"%s\".", st, e->logfile);
        goto out;
    }
    fprintf(stderr, "promoted: the instance in %s is now a primary (its old primary was %s)\n",
            e->home, where);
    rc = 0;
out:
    embedded_unlock(fd);
    free(prog);
    free(where);
    free(primary);
    return rc;
}
