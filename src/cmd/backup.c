/* backup.c: "fmtbank backup setup|run|list|check|restore" (product.md §15): pgBackRest backups and
 * point-in-time restores of the embedded instance.
 *
 * setup writes FMTBANK_HOME/pgbackrest.conf (once: an operator's later edits, such as a second,
 * off-machine repository, are kept), turns on WAL archiving through pgBackRest (ALTER SYSTEM:
 * archive_mode, archive_command, archive_timeout; the restart archive_mode needs) and creates the
 * stanza. pgBackRest always runs as the server's OS user (embedded_run), so the repository, its
 * lock and log files belong to that user. A configured server (--db, FMTBANK_DSN, PG*) is backed
 * up by its own operator with the configuration the README documents.
 *
 * restore --target-time T: reads the chain head and the recent audit rows (restore_prepare),
 * makes pgBackRest archive the last WAL, stops the instance and, under its home lock, moves the
 * data directory aside (never deleted: data.before-restore-STAMP) and restores into a new one
 * (--type=time, --target-action=promote); on failure the old directory is put back. Started
 * again and out of recovery, inbox files whose content the restored database has not imported
 * go back from processed/ into the inbox (--inbox), and restore_record writes the "restored to
 * T" anchor row and reports the audit rows lost; --key and --anchor-log sign it at once. */
#include "cmd/cmd.h"
#include "db/db.h"
#include "db/embedded.h"
#include "db/embedded_internal.h"
#include "common/file.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STANZA "fmtbank"
#define PGBACKREST_DEFAULT "/usr/bin/pgbackrest"
#define INBOX_FILE_MAX (1024L * 1024 * 1024)

static const char *
pgbackrest_bin(void)
{
    const char *b = getenv("FMTBANK_PGBACKREST");
    return str_empty(b) ? PGBACKREST_DEFAULT : b;
}

/* The embedded instance resolved, its server user known, the acting role an administrator
 * (asked of the database). Returns 0 or an exit code with ctx->err set. */
static int
backup_begin(struct cmd_ctx *ctx, struct embedded *e)
{
    memset(e, 0, sizeof *e);
    if (!db_uses_embedded(ctx->dsn)) {
        fb_error_set(&ctx->err, FB_ERR_USAGE,
                     "fmtbank backup manages the embedded instance only; a configured server is "
                     "backed up with pgBackRest by its operator");
        fb_error_hint(&ctx->err, "See the README section \"Backup and 30-year retention\".");
        return FB_ERR_USAGE;
    }
    if (db_run(ctx->conn, "SELECT fmtbank.backup_allowed()", 0, NULL, &ctx->err) < 0)
        return cmd_fail(ctx);
    if (access(pgbackrest_bin(), X_OK) != 0) {
        fb_error_set(&ctx->err, FB_ERR_INTERNAL, "pgBackRest is not installed (%s)",
                     pgbackrest_bin());
        fb_error_hint(&ctx->err, "Install the Debian package pgbackrest (scripts/install-deps.sh).");
        return FB_ERR_INTERNAL;
    }
    if (embedded_resolve(e, &ctx->err) < 0 || embedded_prepare_home(e, &ctx->err) < 0) {
        embedded_free(e);
        return cmd_fail(ctx);
    }
    return 0;
}

static char *
conf_path(const struct embedded *e)
{
    return xasprintf("%s/pgbackrest.conf", e->home);
}

/* Runs "pgbackrest --config=C --stanza=fmtbank ARGS..." as the server user. With out, its standard
 * output is captured there (malloc'd) instead of passed through. Returns its exit status, or -1
 * with err set when it could not be run. */
static int
pgbackrest(const struct embedded *e, char **out, struct fb_error *err, const char *const *args)
{
    char *conf = conf_path(e);
    char *conf_opt = xasprintf("--config=%s", conf);
    const char *argv[16];
    size_t n = 0;
    argv[n++] = pgbackrest_bin();
    argv[n++] = conf_opt;
    argv[n++] = "--stanza=" STANZA;
    for (; *args && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    FILE *tmp = NULL;
    int saved = -1;
    fflush(stdout);
    if (out) {
        tmp = tmpfile();
        saved = dup(STDOUT_FILENO);
        if (!tmp || saved < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0) {
            fb_error_set(err, FB_ERR_INTERNAL, "could not capture pgBackRest's output: %s",
                         strerror(errno));
            if (tmp)
                fclose(tmp);
            if (saved >= 0)
                close(saved);
            free(conf_opt);
            free(conf);
            return -1;
        }
    }
    int rc = embedded_run(e, argv, "");
    if (out) {
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        struct strbuf sb = STRBUF_INIT;
        char buf[8192];
        size_t k;
        rewind(tmp);
        while ((k = fread(buf, 1, sizeof buf, tmp)) > 0)
            strbuf_add(&sb, buf, k);
        fclose(tmp);
        *out = strbuf_detach(&sb);
    }
    if (rc < 0 || rc == 126 || rc == 127)
        fb_error_set(err, FB_ERR_INTERNAL, "could not run %s as the server user", argv[0]);
    else if (rc != 0)
        fb_error_set(err, FB_ERR_INTERNAL, "pgbackrest %s failed (exit %d)", argv[3], rc);
    free(conf_opt);
    free(conf);
    return rc < 0 || rc == 126 || rc == 127 ? -1 : rc;
}

/* Runs one pgBackRest command; its failure becomes ctx->err naming what was being done. */
static int
pgbackrest_step(struct cmd_ctx *ctx, const struct embedded *e, const char *what, char **out,
                const char *const *args)
{
    int rc = pgbackrest(e, out, &ctx->err, args);
    if (rc > 0) {
        fb_error_clear(&ctx->err);
        fb_error_set(&ctx->err, FB_ERR_INTERNAL, "pgBackRest could not %s (exit %d)", what, rc);
        char *conf = conf_path(e);
        fb_error_hint(&ctx->err, "Its message is above; its log is in %s/pgbackrest/log (%s).",
                      e->home, conf);
        free(conf);
    }
    return rc == 0 ? 0 : -1;
}

/* A directory owned by the server user (mode 0750). */
static int
server_dir(const struct embedded *e, const char *path, struct fb_error *err)
{
    if ((mkdir(path, 0750) != 0 && errno != EEXIST) ||
        (e->drop && chown(path, e->uid, e->gid) != 0)) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not create \"%s\": %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static bool
plain_path(const char *s)
{
    return s[0] == '/' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789/._+-") == strlen(s);
}

/* Writes pgbackrest.conf unless it exists (then it is kept as the operator left it). */
static int
write_conf(struct cmd_ctx *ctx, const struct embedded *e, const char *repo, const char *days,
           bool *written)
{
    char *path = conf_path(e);
    *written = false;
    int rc = 0;
    if (access(path, F_OK) != 0) {
        char *text = xasprintf(
            "# pgBackRest configuration of the fmtbank embedded instance, written by\n"
            "# \"fmtbank backup setup\" (kept as it is when setup runs again). The repository\n"
            "# belongs on another machine: see the README, \"Backup and 30-year retention\".\n"
            "[global]\n"
            "repo1-path=%s\n"
            "repo1-retention-full-type=time\n"
            "repo1-retention-full=%s\n"
            "lock-path=%s/pgbackrest/lock\n"
            "log-path=%s/pgbackrest/log\n"
            "spool-path=%s/pgbackrest/spool\n"
            "log-level-console=warn\n"
            "log-level-file=info\n"
            "start-fast=y\n"
            "compress-type=gz\n"
            "\n[" STANZA "]\n"
            "pg1-path=%s\n"
            "pg1-socket-path=%s\n"
            "pg1-user=" EMBEDDED_SUPERUSER "\n"
            "pg1-database=postgres\n",
            repo, days, e->home, e->home, e->home, e->datadir, e->home);
        char *tmp = xasprintf("%s.tmp", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        size_t len = strlen(text);
        bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
        if (fd >= 0)
            ok = close(fd) == 0 && ok;
        if (ok && e->drop)
            ok = chown(tmp, e->uid, e->gid) == 0;
        ok = ok && rename(tmp, path) == 0;
        if (!ok) {
            fb_error_set(&ctx->err, FB_ERR_INTERNAL, "could not write \"%s\": %s", path,
                         strerror(errno));
            rc = -1;
        }
        *written = ok;
        free(tmp);
        free(text);
    }
    free(path);
    return rc;
}

/* The instance superuser's connection (peer: the server's OS user or root). */
static PGconn *
superuser_conn(const struct embedded *e, struct fb_error *err)
{
    char *ci = embedded_conninfo(e, EMBEDDED_SUPERUSER);
    PGconn *c = PQconnectdb(ci);
    free(ci);
    if (PQstatus(c) != CONNECTION_OK) {
        fb_error_set(err, FB_ERR_DBUNAVAIL, "could not connect to the embedded instance as %s: %s",
                     EMBEDDED_SUPERUSER, PQerrorMessage(c));
        fb_error_hint(err, "Run fmtbank backup as root or as the server's OS user.");
        PQfinish(c);
        return NULL;
    }
    return c;
}

static int
cmd_backup_setup(struct cmd_ctx *ctx)
{
    const char *days = cmd_opt(ctx, "retention-days");
    if (!days)
        days = "35";
    if (strspn(days, "0123456789") != strlen(days) || atoi(days) < 1 || atoi(days) > 9999999) {
        fb_error_set(&ctx->err, FB_ERR_USAGE, "invalid --retention-days \"%s\"", days);
        fb_error_hint(&ctx->err, "A number of days, e.g. 35.");
        return FB_ERR_USAGE;
    }
    struct embedded e;
    int rc = backup_begin(ctx, &e);
    if (rc != 0)
        return rc;
    char *repo = cmd_opt(ctx, "repo") ? xstrdup(cmd_opt(ctx, "repo"))
                                      : xasprintf("%s/backup", e.home);
    char *conf = conf_path(&e);
    char *pb = xasprintf("%s/pgbackrest", e.home);
    char *sub[3] = {xasprintf("%s/lock", pb), xasprintf("%s/log", pb), xasprintf("%s/spool", pb)};
    bool written = false;
    PGconn *su = NULL;
    rc = -1;
    if (!plain_path(repo) || !plain_path(e.home)) {
        fb_error_set(&ctx->err, FB_ERR_USAGE,
                     "the repository \"%s\" and the home \"%s\" must be absolute paths of letters, "
                     "digits and /._+-", repo, e.home);
        goto done;
    }
    if (server_dir(&e, pb, &ctx->err) < 0 || server_dir(&e, sub[0], &ctx->err) < 0 ||
        server_dir(&e, sub[1], &ctx->err) < 0 || server_dir(&e, sub[2], &ctx->err) < 0 ||
        server_dir(&e, repo, &ctx->err) < 0 || write_conf(ctx, &e, repo, days, &written) < 0)
        goto done;
    /* Archiving through pgBackRest: ALTER SYSTEM (postgresql.auto.conf, which a restore brings
     * back with the data). archive_timeout bounds how much committed work a lost disk can take
     * with it (a minute); archive_mode needs the restart below. */
    if (!(su = superuser_conn(&e, &ctx->err)))
        goto done;
    char *cmd = xasprintf("%s --config=%s --stanza=" STANZA " archive-push %%p", pgbackrest_bin(),
                          conf);
    const char *p[] = {cmd};
    PGresult *r = db_exec(su,
                          "SELECT current_setting('archive_mode') = 'on' AND "
                          "current_setting('archive_command') = $1",
                          1, p, &ctx->err);
    bool active = r && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    bool set = r && db_run(su, "ALTER SYSTEM SET archive_mode = 'on'", 0, NULL, &ctx->err) == 0;
    if (set) {
        char *alter = db_scalar(su, "SELECT format('ALTER SYSTEM SET archive_command = %L', $1::text)",
                                1, p, &ctx->err);
        set = alter && db_run(su, alter, 0, NULL, &ctx->err) == 0 &&
              db_run(su, "ALTER SYSTEM SET archive_timeout = '60s'", 0, NULL, &ctx->err) == 0 &&
              db_run(su, "SELECT pg_reload_conf()", 0, NULL, &ctx->err) == 0;
        free(alter);
    }
    free(cmd);
    PQfinish(su);
    if (!set)
        goto done;
    if (!active) {
        /* The restart: the command's own session goes first. */
        PQfinish(ctx->conn);
        ctx->conn = NULL;
        bool was_running = false;
        if (embedded_stop(&e, &was_running, &ctx->err) < 0 || embedded_start(&e, &ctx->err) < 0)
            goto done;
        fprintf(stderr, "fmtbank: WAL archiving enabled: the embedded instance was restarted\n");
    }
    if (pgbackrest_step(ctx, &e, "create the stanza", NULL,
                        (const char *const[]){"stanza-create", NULL}) < 0 ||
        pgbackrest_step(ctx, &e, "check the archiving", NULL,
                        (const char *const[]){"check", NULL}) < 0)
        goto done;
    printf("configuration %s%s\nrepository    %s\nretention     %s days (full backups)\n"
           "stanza        " STANZA " (archiving checked)\n",
           conf, written ? "" : " (kept)", repo, days);
    rc = 0;
done:
    for (int i = 0; i < 3; i++)
        free(sub[i]);
    free(pb);
    free(conf);
    free(repo);
    embedded_free(&e);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

/* The label of the newest backup in pgBackRest's "info --output=json" (malloc'd), or NULL. */
static char *
last_label(const char *json)
{
    const char *at = NULL;
    for (const char *p = json; (p = strstr(p, "\"label\":\"")) != NULL; p++)
        at = p + strlen("\"label\":\"");
    if (!at)
        return NULL;
    size_t n = strcspn(at, "\"");
    return xasprintf("%.*s", (int)n, at);
}

/* The stop time (epoch) of the oldest backup, or -1. */
static long long
first_backup_stop(const char *json)
{
    const char *p = strstr(json, "\"timestamp\":{");
    p = p ? strstr(p, "\"stop\":") : NULL;
    return p ? atoll(p + strlen("\"stop\":")) : -1;
}

static int
cmd_backup_run(struct cmd_ctx *ctx)
{
    const char *type = cmd_opt(ctx, "type");
    struct embedded e;
    int rc = backup_begin(ctx, &e);
    if (rc != 0)
        return rc;
    char *type_opt = xasprintf("--type=%s", type ? type : "full");
    char *info = NULL;
    rc = pgbackrest_step(ctx, &e, "make the backup", NULL,
                         (const char *const[]){"backup", type_opt, NULL});
    if (rc == 0)
        rc = pgbackrest_step(ctx, &e, "list the backups", &info,
                             (const char *const[]){"info", "--output=json", NULL});
    char *label = rc == 0 ? last_label(info) : NULL;
    if (label)
        printf("%s\n", label);
    free(label);
    free(info);
    free(type_opt);
    embedded_free(&e);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_backup_list(struct cmd_ctx *ctx)
{
    struct embedded e;
    int rc = backup_begin(ctx, &e);
    if (rc != 0)
        return rc;
    rc = pgbackrest_step(ctx, &e, "list the backups", NULL,
                         (const char *const[]){"info",
                                               ctx->format == OUT_JSON ? "--output=json"
                                                                       : "--output=text",
                                               NULL});
    embedded_free(&e);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_backup_check(struct cmd_ctx *ctx)
{
    struct embedded e;
    int rc = backup_begin(ctx, &e);
    if (rc != 0)
        return rc;
    rc = pgbackrest_step(ctx, &e, "check the archiving and the repository", NULL,
                         (const char *const[]){"check", NULL});
    if (rc == 0)
        printf("backup check: WAL archiving and the repository work\n");
    embedded_free(&e);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

/* ---------------------------------------------------------------- restore */

struct restore {
    struct cmd_ctx *ctx;
    const char *target; /* UTC, for pgBackRest */
    char *aside;        /* where the replaced data directory went */
    bool recorded;      /* restore_record succeeded */
};

/* Under the home lock, the instance stopped: the data directory aside, pgBackRest's restore into
 * a new one; on failure the old one is put back (the failed attempt kept aside too). */
static int
restore_stopped(struct embedded *e, void *arg, struct fb_error *err)
{
    struct restore *rs = arg;
    if (rename(e->datadir, rs->aside) != 0) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not move \"%s\" aside: %s", e->datadir,
                     strerror(errno));
        return -1;
    }
    if (mkdir(e->datadir, 0700) != 0 || (e->drop && chown(e->datadir, e->uid, e->gid) != 0)) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not create \"%s\": %s", e->datadir,
                     strerror(errno));
        rmdir(e->datadir);
        rename(rs->aside, e->datadir);
        return -1;
    }
    char *target = xasprintf("--target=%s", rs->target);
    int rc = pgbackrest(e, NULL, err,
                        (const char *const[]){"restore", "--type=time", target,
                                              "--target-action=promote", NULL});
    free(target);
    if (rc != 0) {
        char *failed = xasprintf("%s.failed", rs->aside);
        fb_error_clear(err);
        fb_error_set(err, FB_ERR_INTERNAL, "pgBackRest could not restore to %s (exit %d)",
                     rs->target, rc);
        if (rename(e->datadir, failed) == 0 && rename(rs->aside, e->datadir) == 0)
            fb_error_detail(err, "The data directory is as it was; the failed attempt is in %s.",
                            failed);
        else
            fb_error_detail(err, "The old data directory is %s: put it back as %s by hand.",
                            rs->aside, e->datadir);
        free(failed);
        return -1;
    }
    return 0;
}

/* Waits (up to two minutes) until the restored instance has finished recovery and promoted. */
static int
wait_promoted(const struct embedded *e, struct fb_error *err)
{
    for (int i = 0; i < 600; i++) {
        PGconn *su = superuser_conn(e, err);
        if (su) {
            char *v = db_scalar(su, "SELECT pg_is_in_recovery()", 0, NULL, err);
            bool done = v && v[0] == 'f';
            free(v);
            PQfinish(su);
            if (done) {
                fb_error_clear(err);
                return 0;
            }
        }
        fb_error_clear(err);
        usleep(200000);
    }
    fb_error_set(err, FB_ERR_DBUNAVAIL, "the restored instance did not finish its recovery");
    fb_error_hint(err, "See %s.", e->logfile);
    return -1;
}

/* Moves the files of inbox/processed whose content the restored database has not imported back
 * into the inbox. Adds their names to moved (a Postgres text[] literal). Returns 0 or -1. */
static int
requeue_inbox(struct cmd_ctx *ctx, const char *inbox, struct strbuf *moved)
{
    char *dir = xasprintf("%s/processed", inbox);
    DIR *d = opendir(dir);
    if (!d) {
        fb_error_set(&ctx->err, FB_ERR_INPUT, "could not read \"%s\": %s", dir, strerror(errno));
        free(dir);
        return -1;
    }
    struct strbuf hashes = STRBUF_INIT;
    char **list = NULL, **sums = NULL;
    size_t n = 0;
    struct dirent *de;
    strbuf_adds(&hashes, "{");
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *path = xasprintf("%s/%s", dir, de->d_name), *buf = NULL;
        size_t len = 0;
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            file_read_all(path, INBOX_FILE_MAX, 0, &buf, &len, &ctx->err) == 0) {
            char hex[SHA256_HEX_LEN + 1];
            sha256_hex(buf, len, hex);
            list = xrealloc(list, (n + 1) * sizeof *list);
            sums = xrealloc(sums, (n + 1) * sizeof *sums);
            list[n] = xstrdup(de->d_name);
            sums[n] = xstrdup(hex);
            strbuf_addf(&hashes, "%s%s", n ? "," : "", hex);
            n++;
        }
        fb_error_clear(&ctx->err);
        free(buf);
        free(path);
    }
    closedir(d);
    strbuf_adds(&hashes, "}");
    int rc = 0;
    const char *p[] = {hashes.buf};
    PGresult *r = n ? db_exec(ctx->conn, "SELECT h FROM fmtbank.restore_unimported($1) h", 1, p,
                              &ctx->err)
                    : NULL;
    if (n && !r)
        rc = -1;
    for (size_t i = 0; r && i < n; i++) {
        bool lost = false;
        for (int k = 0; k < PQntuples(r) && !lost; k++)
            lost = strcmp(PQgetvalue(r, k, 0), sums[i]) == 0;
        if (!lost)
            continue;
        char *from = xasprintf("%s/%s", dir, list[i]), *to = xasprintf("%s/%s", inbox, list[i]);
        if (access(to, F_OK) == 0 || rename(from, to) != 0) {
            fprintf(stderr, "fmtbank: warning: could not put \"%s\" back into the inbox\n", from);
        } else {
            /* a text[] element: quoted, with " and \ escaped */
            strbuf_adds(moved, moved->len > 1 ? ",\"" : "\"");
            for (const char *c = list[i]; *c; c++) {
                if (*c == '"' || *c == '\\')
                    strbuf_addch(moved, '\\');
                strbuf_addch(moved, *c);
            }
            strbuf_addch(moved, '"');
            printf("re-queued inbox file: %s\n", list[i]);
        }
        free(from);
        free(to);
    }
    PQclear(r);
    for (size_t i = 0; i < n; i++) {
        free(list[i]);
        free(sums[i]);
    }
    free(list);
    free(sums);
    strbuf_release(&hashes);
    free(dir);
    return rc;
}

static int
cmd_backup_restore(struct cmd_ctx *ctx)
{
    const char *key = cmd_opt(ctx, "key"), *anchor_log = cmd_opt(ctx, "anchor-log");
    const char *inbox = cmd_opt(ctx, "inbox");
    struct stat st;
    if (anchor_log && stat(anchor_log, &st) == 0 && st.st_size > 0) {
        fb_error_set(&ctx->err, FB_ERR_USAGE, "anchor log \"%s\" is not new", anchor_log);
        fb_error_detail(&ctx->err, "A restore cuts the audit chain after the target time: the "
                        "anchors signed before it belong to the old log.");
        fb_error_hint(&ctx->err, "Name a new file for --anchor-log.");
        return FB_ERR_USAGE;
    }
    if (inbox && (stat(inbox, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fb_error_set(&ctx->err, FB_ERR_INPUT, "inbox \"%s\" is not a directory", inbox);
        return FB_ERR_INPUT;
    }
    struct embedded e;
    int rc = backup_begin(ctx, &e);
    if (rc != 0)
        return rc;
    struct restore rs = {ctx, NULL, NULL, false};
    char *info = NULL, *target = NULL, *old_seq = NULL, *old_hash = NULL, *ids = NULL, *ats = NULL;
    long long target_epoch = 0;
    bool restored = false;
    struct strbuf moved = STRBUF_INIT;
    strbuf_adds(&moved, "{");
    rc = -1;
    const char *tp[] = {cmd_opt(ctx, "target-time")};
    PGresult *r = db_exec(ctx->conn,
                          "SELECT target, target_epoch, head_seq, head_hash, recent_ids, recent_at"
                          " FROM fmtbank.restore_prepare($1)",
                          1, tp, &ctx->err);
    if (!r)
        goto done;
    target = xstrdup(PQgetvalue(r, 0, 0));
    target_epoch = atoll(PQgetvalue(r, 0, 1));
    old_seq = PQgetisnull(r, 0, 2) ? NULL : xstrdup(PQgetvalue(r, 0, 2));
    old_hash = PQgetisnull(r, 0, 3) ? NULL : xstrdup(PQgetvalue(r, 0, 3));
    ids = xstrdup(PQgetvalue(r, 0, 4));
    ats = xstrdup(PQgetvalue(r, 0, 5));
    PQclear(r);
    rs.target = target;
    /* Refused before anything stops: a target no backup reaches. */
    if (pgbackrest_step(ctx, &e, "list the backups", &info,
                        (const char *const[]){"info", "--output=json", NULL}) < 0)
        goto done;
    long long first = first_backup_stop(info);
    if (first < 0 || first > target_epoch) {
        fb_error_set(&ctx->err, FB_ERR_REFUSED, "no backup finished before %s", target);
        if (first >= 0)
            fb_error_detail(&ctx->err, "The oldest backup in the repository finished at epoch "
                            "%lld; the restore window is the repository's retention.", first);
        fb_error_hint(&ctx->err, "\"fmtbank backup list\" shows the backups.");
        rc = FB_ERR_REFUSED;
        goto done;
    }
    /* The last WAL into the archive (a switch, waited for); a broken instance may not manage. */
    if (pgbackrest(&e, NULL, &ctx->err, (const char *const[]){"check", NULL}) != 0) {
        fprintf(stderr, "fmtbank: warning: the newest WAL could not be archived; the restore "
                        "reaches what the archive holds\n");
        fb_error_clear(&ctx->err);
    }
    PQfinish(ctx->conn);
    ctx->conn = NULL;
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32];
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    rs.aside = xasprintf("%s.before-restore-%s", e.datadir, stamp);
    if (embedded_while_stopped(&e, restore_stopped, &rs, &ctx->err) < 0 ||
        embedded_start(&e, &ctx->err) < 0 || wait_promoted(&e, &ctx->err) < 0)
        goto done;
    restored = true;
    fprintf(stderr, "fmtbank: restored to %s; the replaced data directory is kept in %s\n", target,
            rs.aside);
    ctx->conn = db_connect(ctx->dsn, ctx->user, &ctx->err);
    const char *reason[] = {ctx->reason ? ctx->reason : ""};
    if (!ctx->conn ||
        db_run(ctx->conn, "SELECT pg_catalog.set_config('fmtbank.reason', $1, false)", 1, reason,
               &ctx->err) < 0)
        goto done;
    if (inbox && requeue_inbox(ctx, inbox, &moved) < 0)
        goto done;
    strbuf_adds(&moved, "}");
    const char *rp[] = {target, old_seq, old_hash, ids, ats, rs.aside, moved.buf};
    r = db_exec(ctx->conn,
                "SELECT restored_seq, lost_rows, lost_first, lost_last,"
                " to_char(lost_from, 'YYYY-MM-DD HH24:MI:SS.MS TZH:TZM'),"
                " to_char(lost_to, 'YYYY-MM-DD HH24:MI:SS.MS TZH:TZM'), anchor_seq, anchor_hash"
                " FROM fmtbank.restore_record($1, $2, $3, $4, $5, $6, $7)",
                7, rp, &ctx->err);
    if (!r)
        goto done;
    rs.recorded = true;
    printf("restored to %s (replaced data kept in %s)\n", target, rs.aside);
    if (PQgetisnull(r, 0, 3))
        printf("audit rows lost: none (the trail ended by then)\n");
    else
        printf("audit rows lost: %s (ids %s to %s, written %s to %s)\n", PQgetvalue(r, 0, 1),
               PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3),
               PQgetisnull(r, 0, 4) ? "?" : PQgetvalue(r, 0, 4),
               PQgetisnull(r, 0, 5) ? "?" : PQgetvalue(r, 0, 5));
    printf("restore anchor: audit row %s, chain hash %s\n", PQgetvalue(r, 0, 6),
           PQgetvalue(r, 0, 7));
    PQclear(r);
    rc = 0;
    if (key && anchor_log)
        rc = audit_anchor_sign(ctx, key, anchor_log, cmd_opt(ctx, "outbox"));
    else
        fprintf(stderr, "fmtbank: sign the restore anchor with \"fmtbank audit anchor --key KEY "
                        "--log NEW-LOG\" (a new anchor log: the old one ends with the lost rows)\n");
done:
    if (rc < 0 && restored && !rs.recorded)
        fprintf(stderr, "fmtbank: the database WAS restored to %s, but the restore is not recorded "
                        "in the audit trail yet: fix the error below and record it with "
                        "fmtbank.restore_record (README, \"Backup and 30-year retention\")\n",
                target);
    strbuf_release(&moved);
    free(info);
    free(target);
    free(old_seq);
    free(old_hash);
    free(ids);
    free(ats);
    free(rs.aside);
    embedded_free(&e);
    return rc == 0 ? 0 : rc > 0 ? rc : cmd_fail(ctx);
}

const struct cmd_def cmd_defs_backup[] = {
    {"backup setup", cmd_backup_setup, CMD_DB, {0},
     (const struct opt_spec[]){
         {"repo", 0, OPT_STRING, "DIR", .help = "the pgBackRest repository",
          .def = "$FMTBANK_HOME/backup"},
         {"retention-days", 0, OPT_STRING, "N",
          .help = "keep full backups (and the WAL to restore between them) this many days",
          .def = "35"},
         {0}},
     "configure pgBackRest backups of the embedded instance (admin)",
     "Writes $FMTBANK_HOME/pgbackrest.conf (once; later edits, such as an off-machine\n"
     "repository, are kept), turns on WAL archiving through pgBackRest (archive_mode, which\n"
     "restarts the instance; archive_command; archive_timeout 60 s) and creates the stanza\n"
     "\"fmtbank\". Run as root or the server's OS user. A configured server (--db, FMTBANK_DSN)\n"
     "is set up by its operator: README, \"Backup and 30-year retention\".\n"},
    {"backup run", cmd_backup_run, CMD_DB, {0},
     (const struct opt_spec[]){
         {"type", 0, OPT_STRING, "TYPE", .help = "the kind of backup", .choices = "full|diff|incr",
          .def = "full"},
         {0}},
     "make a backup now; prints its label (admin)", NULL},
    {"backup list", cmd_backup_list, CMD_DB, {0}, NULL,
     "the backups in the repository and the WAL archive (pgbackrest info; admin)", NULL},
    {"backup check", cmd_backup_check, CMD_DB, {0}, NULL,
     "check that WAL archiving and the repository work (admin)", NULL},
    {"backup restore", cmd_backup_restore, CMD_DB | CMD_REASON, {0},
     (const struct opt_spec[]){
         {"target-time", 0, OPT_STRING, "TS", .help = "the time to bring the database back to",
          .flags = OPT_REQUIRED},
         {"inbox", 0, OPT_STRING, "DIR",
          .help = "the daemon's inbox: files imported after TS go back into it"},
         {"key", 0, OPT_STRING, "FILE", .help = "the anchor signer's private key",
          .with = "anchor-log"},
         {"anchor-log", 0, OPT_STRING, "FILE",
          .help = "a new anchor log for the signed restore anchor", .with = "key"},
         {"outbox", 0, OPT_STRING, "DIR", .help = "where a copy of the anchor goes",
          .with = "key"},
         {0}},
     "point-in-time restore of the embedded instance (admin)",
     "Stops the instance, moves its data directory aside (data.before-restore-STAMP; nothing\n"
     "is deleted) and restores the newest backup before TS with the WAL up to TS (pgBackRest\n"
     "--type=time), then starts it. It then writes the \"restored to TS\" anchor row in the\n"
     "audit trail (fmtbank.restore_event), prints the audit rows that existed after TS and are\n"
     "lost (ids and times), and with --inbox moves the files of DIR/processed whose content the\n"
     "restored database has not imported back into DIR for the daemon. --key and --anchor-log\n"
     "sign the restore anchor at once (a new log: the old one ends with the lost rows).\n"
     "The window is the repository's retention; a target before the oldest backup exits 5.\n"},
    {0},
};
