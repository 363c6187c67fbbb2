/* inbox.c: CSV files dropped into the inbox, each content imported exactly once.
 *
 * A file is taken when it is a regular *.csv file (hidden names are ignored, so a writer may
 * write ".x.csv" or "x.csv.part" and rename it) whose size, mtime and inode have not changed for
 * `settle` seconds across scans: a file still being written is left alone. It is read into
 * memory once; its SHA-256 keys it. In ONE transaction the content is claimed in
 * fmtbank.inbox_file (a unique index on the hash of imported files makes a second import of the
 * same content impossible, whatever its name, even from two daemons at once), the rows are
 * imported through the format's import_spec, and the row count is recorded. Only after COMMIT is
 * the file moved to processed/. A daemon killed before COMMIT leaves nothing (the transaction
 * dies with the session) and the file still in the inbox, so it is imported on restart; killed
 * after COMMIT but before the move, the restart finds the content already imported and only moves
 * the file. A file with bad lines is rolled back, recorded as rejected with its report, and moved
 * to rejected/ with NAME.errors.txt beside it (every bad line). Nothing is ever overwritten:
 * names taken in processed/ or rejected/ get a number (x.1.csv).
 *
 * Every byte is data or refused: a file that is not UTF-8 text (a UTF-16 export, a NUL byte) is
 * rejected with the line and byte named, and so is a file whose name is not UTF-8 or holds
 * control characters: recorded, logged and reported under its escaped name ("bad\xFF.csv"), it
 * keeps its real name in rejected/. A bad file never stops the files after it. */
#include "daemon/daemon.h"
#include "db/db.h"
#include "db/retry.h"
#include "common/file.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "common/text.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define INBOX_MAX_BYTES (1024L * 1024 * 1024)

static double
now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
is_candidate(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 && strcasecmp(name + n - 4, ".csv") == 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What changed since the last scan: returns the names (sorted) of files unchanged for at least
 * cfg.settle seconds; the others are remembered and make the loop look again soon. */
static char **
scan(struct daemon *d, size_t *nready, struct fb_error *err)
{
    *nready = 0;
    DIR *dir = opendir(d->cfg.inbox);
    if (!dir) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not open the inbox \"%s\": %s", d->cfg.inbox,
                     strerror(errno));
        return NULL;
    }
    double now = now_monotonic();
    struct inbox_seen *seen = NULL;
    size_t nseen = 0, cap = 0, rcap = 0;
    char **ready = NULL;
    bool pending = false;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        struct stat st;
        if (!is_candidate(e->d_name) ||
            fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        double since = now;
        for (size_t i = 0; i < d->nseen; i++) {
            const struct inbox_seen *o = &d->seen[i];
            if (strcmp(o->name, e->d_name) == 0 && o->size == st.st_size && o->ino == st.st_ino &&
                o->mtime.tv_sec == st.st_mtim.tv_sec && o->mtime.tv_nsec == st.st_mtim.tv_nsec)
                since = o->since;
        }
        if (nseen == cap) {
            cap = cap ? cap * 2 : 16;
            seen = xrealloc(seen, cap * sizeof(*seen));
        }
        seen[nseen++] = (struct inbox_seen){xstrdup(e->d_name), st.st_size, st.st_mtim,
                                            st.st_ino, since};
        /* 1 ms of slack: the loop sleeps exactly settle seconds between such scans. */
        if (d->cfg.settle <= 0 || (since < now && now - since >= d->cfg.settle - 1e-3)) {
            if (*nready == rcap) {
                rcap = rcap ? rcap * 2 : 16;
                ready = xrealloc(ready, rcap * sizeof(*ready));
            }
            ready[(*nready)++] = xstrdup(e->d_name);
        } else {
            pending = true;
        }
    }
    closedir(dir);
    for (size_t i = 0; i < d->nseen; i++)
        free(d->seen[i].name);
    free(d->seen);
    d->seen = seen;
    d->nseen = nseen;
    d->inbox_pending = pending;
    if (*nready > 1)
        qsort(ready, *nready, sizeof(*ready), cmp_names);
    if (pending)
        log_msg(LOG_DEBUG, "inbox: waiting for files still being written");
    return ready;
}

/* name with ".N" before its extension: x.csv -> x.3.csv. */
static char *
numbered(const char *name, int n)
{
    if (n == 0)
        return xstrdup(name);
    const char *dot = strrchr(name, '.');
    size_t stem = dot ? (size_t)(dot - name) : strlen(name);
    return xasprintf("%.*s.%d%s", (int)stem, name, n, dot ? dot : "");
}

/* Moves name to target (both relative to dfd) unless target exists: renameat2(RENAME_NOREPLACE),
 * or link() and unlink() where the file system lacks it. Returns 0, or -1 with errno. */
static int
move_noreplace(int dfd, const char *name, const char *target)
{
    if (renameat2(dfd, name, dfd, target, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
    if (linkat(dfd, name, dfd, target, 0) != 0)
        return -1;
    unlinkat(dfd, name, 0);
    return 0;
}

/* One candidate name in sub/: writes the report (when there is one) as <cand>.errors.txt, then
 * moves the file. Returns 1 when moved, 0 when the name is taken, -1 on error. */
static int
try_move(int dfd, const char *inbox, const char *name, const char *sub, const char *cand,
         const char *report, struct fb_error *err)
{
    char *target = xasprintf("%s/%s", sub, cand);
    char *rep = xasprintf("%s.errors.txt", target);
    int rc = -1;
    if (report) {
        int fd = openat(dfd, rep, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0) {
            if (errno == EEXIST)
                rc = 0;
            else
                fb_error_set(err, FB_ERR_INTERNAL, "could not create \"%s/%s\": %s", inbox, rep,
                             strerror(errno));
            goto done;
        }
        size_t len = strlen(report);
        bool ok = write(fd, report, len) == (ssize_t)len;
        ok = fsync(fd) == 0 && ok;
        ok = close(fd) == 0 && ok;
        if (!ok) {
            fb_error_set(err, FB_ERR_INTERNAL, "could not write \"%s/%s\"", inbox, rep);
            unlinkat(dfd, rep, 0);
            goto done;
        }
    }
    if (move_noreplace(dfd, name, target) == 0) {
        rc = 1;
    } else {
        if (errno == EEXIST)
            rc = 0;
        else
            fb_error_set(err, FB_ERR_INTERNAL, "could not move \"%s\" into \"%s/%s\": %s", name,
                         inbox, sub, strerror(errno));
        if (report)
            unlinkat(dfd, rep, 0);
    }
done:
    free(target);
    free(rep);
    return rc;
}

/* Moves inbox/name into inbox/sub/ under a name not yet taken there (x.csv, x.1.csv, ...), with
 * its report beside it. Returns the final name (caller frees) or NULL with err set. */
static char *
move_into(struct daemon *d, const char *name, const char *sub, const char *report,
          struct fb_error *err)
{
    int dfd = open(d->cfg.inbox, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not open the inbox \"%s\": %s", d->cfg.inbox,
                     strerror(errno));
        return NULL;
    }
    char *result = NULL;
    for (int n = 0; n < 10000; n++) {
        char *cand = numbered(name, n);
        int rc = try_move(dfd, d->cfg.inbox, name, sub, cand, report, err);
        if (rc == 1)
            result = cand;
        else
            free(cand);
        if (rc != 0)
            break;
    }
    if (!result && !err->message)
        fb_error_set(err, FB_ERR_INTERNAL, "could not find a free name for \"%s\" in \"%s/%s\"",
                     name, d->cfg.inbox, sub);
    close(dfd);
    return result;
}

static void
report_error(struct strbuf *sb, const struct fb_error *err)
{
    strbuf_addf(sb, "error: %s\n", err->message ? err->message : "unknown error");
    if (err->detail)
        strbuf_addf(sb, "DETAIL: %s\n", err->detail);
    if (err->hint)
        strbuf_addf(sb, "HINT: %s\n", err->hint);
}

/* Records a rejected file and moves it with its report. Returns -1 if the database failed. */
static int
reject(struct daemon *d, const char *raw, const char *shown, const char *format,
       const char *hash, const struct fb_error *why, const char *report)
{
    struct fb_error err = {0};
    const char *p[] = {hash, shown, format, "rejected", report};
    if (db_run(d->work, "SELECT fmtbank.inbox_record($1, $2, $3, $4, $5)", 5, p, &err) < 0) {
        char *what = xasprintf("could not record rejected file \"%s\"", shown);
        daemon_error(d, what, &err);
        free(what);
        fb_error_clear(&err);
        return -1;
    }
    char *moved = move_into(d, raw, "rejected", report, &err);
    if (!moved) {
        daemon_error(d, "inbox", &err);
        fb_error_clear(&err);
        return 0;
    }
    log_msg(LOG_WARNING, "rejected \"%s\": %s (report in rejected/%s.errors.txt)", shown,
            why->message, moved);
    free(moved);
    return 0;
}

static void
processed(struct daemon *d, const char *name)
{
    struct fb_error err = {0};
    char *moved = move_into(d, name, "processed", NULL, &err);
    if (!moved) {
        daemon_error(d, "inbox", &err);
        fb_error_clear(&err);
        return;
    }
    if (strcmp(moved, name) != 0)
        log_msg(LOG_INFO, "moved \"%s\" to processed/%s", name, moved);
    free(moved);
}

/* The content was imported before: record the duplicate (unless it is this same file, left in
 * the inbox by a daemon that died between COMMIT and the move) and move it. */
static int
duplicate(struct daemon *d, const char *raw, const char *name, const char *format,
          const char *hash, PGresult *prev)
{
    const char *prev_name = PQgetvalue(prev, 0, 1), *prev_at = PQgetvalue(prev, 0, 2);
    if (strcmp(prev_name, name) == 0) {
        log_msg(LOG_INFO, "\"%s\" was imported at %s already: moving it to processed/", name,
                prev_at);
    } else {
        struct fb_error err = {0};
        const char *p[] = {hash, name, format, "duplicate", NULL};
        if (db_run(d->work, "SELECT fmtbank.inbox_record($1, $2, $3, $4, $5)", 5, p, &err) < 0) {
            char *what = xasprintf("could not record duplicate file \"%s\"", name);
            daemon_error(d, what, &err);
            free(what);
            fb_error_clear(&err);
            return -1;
        }
        log_msg(LOG_INFO, "\"%s\" has the same content as \"%s\", imported at %s: not imported"
                " again", name, prev_name, prev_at);
    }
    processed(d, raw);
    return 0;
}

static bool
file_at_fault(enum fb_errkind k)
{
    return k == FB_ERR_INPUT || k == FB_ERR_REFUSED || k == FB_ERR_NOTFOUND;
}

/* The import transaction: claim the content, import, record the row count, commit. Returns 1
 * when imported, 0 when the content was imported before (*prev then holds that import), or -1
 * with err set and the bad lines written to bad (the caller rolls back). */
static int
import_tx(struct daemon *d, const struct inbox_format *fmt, const char *name, const char *hash,
          const char *buf, size_t len, FILE *bad, PGresult **prev, long *nrows,
          struct fb_error *err)
{
    const struct import_spec *spec = fmt->spec;
    char *reason = xasprintf("inbox file \"%s\" (sha256 %s)", name, hash);
    const char *claim[] = {hash, name, fmt->name};
    const char *why[] = {reason};
    int rc = -1;
    /* The write lock first, before the audited claim: the one lock order of every writer of
     * results (067_locks.sql); a CLI "result import" takes it the same way. */
    if (db_run(d->work, "BEGIN", 0, NULL, err) < 0 ||
        (spec->lock_sql && db_run(d->work, spec->lock_sql, 0, NULL, err) < 0) ||
        db_run(d->work, "SELECT pg_catalog.set_config('fmtbank.reason', $1, true)", 1, why,
               err) < 0)
        goto done;
    *prev = db_exec(d->work,
                    "SELECT f.id, f.name, f.imported_at FROM fmtbank.inbox_claim($1, $2, $3) f", 3,
                    claim, err);
    if (!*prev)
        goto done;
    if (!PQgetisnull(*prev, 0, 0)) {
        PQclear(PQexec(d->work, "ROLLBACK"));
        rc = 0;
        goto done;
    }
    FILE *in = fmemopen((void *)buf, len, "rb");
    if (!in)
        die("out of memory");
    long nbad = 0;
    PGresult *ids = NULL;
    int irc = import_csv_tx(d->work, spec, in, name, bad, &nbad, &ids, err);
    fclose(in);
    if (irc < 0)
        goto done;
    *nrows = PQntuples(ids);
    PQclear(ids);
    char rows[24];
    snprintf(rows, sizeof(rows), "%ld", *nrows);
    const char *done_p[] = {hash, *nrows >= 0 ? rows : NULL};
    if (db_run(d->work, "SELECT fmtbank.inbox_imported($1, $2)", 2, done_p, err) < 0 ||
        db_run(d->work, "COMMIT", 0, NULL, err) < 0)
        goto done;
    rc = 1;
done:
    free(reason);
    return rc;
}

/* The first part of buf that is not UTF-8 text: a NUL byte or invalid UTF-8 (control characters
 * are the import's business: they are data in some fields). Fills err naming the line. */
static bool
not_text(const char *shown, const char *buf, size_t len, struct fb_error *err)
{
    size_t at = 0;
    const char *what = NULL;
    const char *nul = memchr(buf, '\0', len);
    for (size_t i = 0; i < len;) {
        size_t n = text_utf8_len(buf + i, len - i);
        if (n == 0) {
            at = i, what = "invalid UTF-8";
            break;
        }
        i += n;
    }
    if (nul && (!what || (size_t)(nul - buf) < at))
        at = (size_t)(nul - buf), what = "a NUL byte";
    if (!what)
        return false;
    long line = 1;
    size_t bol = 0;
    for (size_t i = 0; i < at; i++)
        if (buf[i] == '\n')
            line++, bol = i + 1;
    fb_error_set(err, FB_ERR_INPUT,
                 "could not import \"%s\": line %ld contains %s (byte %zu of the line)", shown,
                 line, what, at - bol + 1);
    bool utf16 = len >= 2 && ((buf[0] == '\xFF' && buf[1] == '\xFE') ||
                              (buf[0] == '\xFE' && buf[1] == '\xFF') ||
                              (len >= 4 && (buf[1] == '\0' || buf[0] == '\0')));
    fb_error_detail(err, "%s", utf16 ? "The file looks like UTF-16 (a \"Unicode text\" export);"
                    " an inbox file is CSV in UTF-8."
                    : "An inbox file is CSV in UTF-8.");
    fb_error_hint(err, "Save it as \"CSV UTF-8\" and drop it into the inbox again.");
    return true;
}

/* Imports one file. Returns -1 when the database session failed, else 0. */
static int
import_one(struct daemon *d, const char *raw)
{
    struct fb_error err = {0};
    size_t len = 0;
    /* The name as recorded, logged and reported: the real one when it is text. */
    char *name = text_escape_str(raw, 0);
    char *path = xasprintf("%s/%s", d->cfg.inbox, raw);
    char *buf = NULL;
    int got_file = file_read_all(path, INBOX_MAX_BYTES, FILE_READ_NOFOLLOW, &buf, &len, &err);
    free(path);
    if (got_file < 0) {
        if (err.kind != FB_ERR_NOTFOUND) /* gone meanwhile: nothing to do */
            daemon_error(d, "inbox", &err);
        fb_error_clear(&err);
        free(name);
        return 0;
    }
    char hash[SHA256_HEX_LEN + 1];
    sha256_hex(buf, len, hash);
    log_msg(LOG_INFO, "importing \"%s\" (%zu bytes, sha256 %.16s)", name, len, hash);

    char *badtext = NULL;
    size_t badlen = 0;
    FILE *bad = NULL;
    PGresult *prev = NULL;
    long nrows = -1;
    int got = -1, rc = 0;
    bool detect = strcmp(d->cfg.inbox_format, "auto") == 0;
    const struct inbox_format *fmt = detect ? inbox_format_detect(buf, len)
                                            : config_inbox_format(d->cfg.inbox_format);
    const char *format = fmt ? fmt->name : "unknown";
    bool tried = false;
    size_t at;
    char name_bad[48];
    if (text_check(raw, strlen(raw), 0, &at, name_bad)) {
        fb_error_set(&err, FB_ERR_INPUT, "could not import \"%s\": the file name contains %s",
                     name, name_bad);
        fb_error_hint(&err, "Rename the file (UTF-8 letters, digits, - and _) and drop it into"
                      " the inbox again.");
    } else if (len == 0) {
        fb_error_set(&err, FB_ERR_INPUT, "could not import \"%s\": the file is empty", name);
    } else if (not_text(name, buf, len, &err)) {
        /* err says where */
    } else if (!fmt) {
        size_t skip = text_bom_len(buf, len);
        const char *head = buf + skip;
        const char *nl = memchr(head, '\n', len - skip);
        size_t n = nl ? (size_t)(nl - head) : len - skip;
        if (n > 0 && head[n - 1] == '\r')
            n--;
        char *shown = text_escape(head, n > 200 ? 200 : n, 0);
        fb_error_set(&err, FB_ERR_INPUT,
                     "could not import \"%s\": unrecognised header line \"%s\"", name, shown);
        free(shown);
        char *names = inbox_format_names();
        fb_error_detail(&err, "An inbox file starts with one of the header lines %s.", names);
        free(names);
    } else {
        tried = true;
        /* A UTF-8 byte order mark is not part of the header line (the hash keeps it). */
        size_t skip = text_bom_len(buf, len);
        /* A deadlock or serialization failure is a concurrent writer's doing, not the file's:
         * run the transaction again (bounded, logged) before judging the file. */
        char *what = xasprintf("importing \"%s\"", name);
        for (int attempt = 1;; attempt++) {
            bad = open_memstream(&badtext, &badlen);
            if (!bad)
                die("out of memory");
            got = import_tx(d, fmt, name, hash, buf + skip, len - skip, bad, &prev, &nrows, &err);
            fclose(bad);
            bad = NULL;
            if (got >= 0 || !db_retry_next(d->work, what, attempt, &err))
                break;
            free(badtext);
            badtext = NULL;
            badlen = 0;
            PQclear(prev);
            prev = NULL;
        }
        free(what);
    }

    if (got == 1) {
        d->imported = true;
        if (nrows >= 0)
            log_msg(LOG_INFO, "imported \"%s\": %ld row%s", name, nrows, nrows == 1 ? "" : "s");
        else
            log_msg(LOG_INFO, "imported \"%s\"", name);
        processed(d, raw);
    } else if (got == 0) {
        rc = duplicate(d, raw, name, format, hash, prev);
    } else {
        if (tried)
            PQclear(PQexec(d->work, "ROLLBACK"));
        if (file_at_fault(err.kind) && PQstatus(d->work) == CONNECTION_OK) {
            struct strbuf report = STRBUF_INIT;
            strbuf_addf(&report, "file: %s\n", name);
            if (badtext)
                strbuf_add(&report, badtext, badlen);
            report_error(&report, &err);
            /* The report is text whatever the file held. */
            char *safe = text_escape(report.buf ? report.buf : "", report.len, TEXT_KEEP_LINES);
            rc = reject(d, raw, name, format, hash, &err, safe);
            free(safe);
            strbuf_release(&report);
        } else if (PQstatus(d->work) != CONNECTION_OK) {
            log_msg(LOG_WARNING, "import of \"%s\" interrupted (the database session ended);"
                    " nothing was kept and the file stays in the inbox", name);
            rc = -1;
        } else {
            char *what = xasprintf("could not import \"%s\" (left in the inbox)", name);
            daemon_error(d, what, &err);
            free(what);
        }
    }
    free(badtext);
    PQclear(prev);
    free(buf);
    free(name);
    fb_error_clear(&err);
    return rc;
}

int
inbox_pass(struct daemon *d)
{
    /* With --once, wait (a bounded number of times) for new files to settle. */
    for (int round = 0;; round++) {
        struct fb_error err = {0};
        size_t n = 0;
        char **ready = scan(d, &n, &err);
        if (err.message) {
            daemon_error(d, "inbox", &err);
            fb_error_clear(&err);
            return 0;
        }
        int rc = 0;
        for (size_t i = 0; i < n; i++) {
            if (rc == 0 && !signals_stop_requested())
                rc = import_one(d, ready[i]);
            free(ready[i]);
        }
        free(ready);
        if (rc < 0)
            return -1;
        if (!d->opts.once || !d->inbox_pending || round >= 5 || signals_stop_requested())
            return 0;
        signals_wait(-1, d->cfg.settle);
    }
}
