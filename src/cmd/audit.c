/* audit.c: "fmtbank audit log|verify|keygen|anchor": read the audit trail, check its hash chain,
 * and anchor the chain head outside the database with an Ed25519 signature (common/anchor.c). */
#include "cmd/cmd.h"
#include "db/db.h"
#include "common/anchor.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* fmtbank.audit_trail (schema/code/210_desk_audit.sql) resolves codes, lists the changed fields
 * and filters; the role check (quality, auditor, admin) is its first statement. */
static int
cmd_audit_log(struct cmd_ctx *ctx)
{
    const char *p[] = {cmd_opt(ctx, "since"), cmd_opt(ctx, "until"), cmd_opt(ctx, "table"),
                       cmd_opt(ctx, "key"),   cmd_opt(ctx, "who"),   cmd_opt(ctx, "donor"),
                       cmd_opt(ctx, "lot")};
    return out_query(ctx, OUT_LIST,
                     ctx->format == OUT_JSON
                         ? "SELECT id, at, who, tbl AS \"table\", op, key, subject, changes, reason,"
                           " old_row, new_row FROM fmtbank.audit_trail($1, $2, $3, $4, $5, $6, $7)"
                         : "SELECT id, at, who, tbl AS \"table\", op, subject,"
                           " changes, reason"
                           " FROM fmtbank.audit_trail($1, $2, $3, $4, $5, $6, $7)",
                     7, p, NULL);
}

/* Reads every anchor of an anchor log (blank lines skipped) and checks its signature. Returns
 * the number of anchors (and *out), or -1 with ctx->err set. */
static long
read_anchors(struct cmd_ctx *ctx, const char *path, const struct anchor_key *pub,
             struct anchor_line **out, long **lines)
{
    FILE *f = cmd_open_input(ctx, path);
    if (!f)
        return -1;
    struct anchor_line *a = NULL;
    long *at = NULL;
    long n = 0, lineno = 0, rc = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len == 0)
            continue;
        struct anchor_line one;
        struct fb_error perr = {0};
        if ((size_t)len != strlen(line) || anchor_line_parse(line, &one, &perr) < 0) {
            fb_error_set(&ctx->err, FB_ERR_INPUT, "%s line %ld is not an anchor: %s", path,
                         lineno, perr.message ? perr.message : "it contains a NUL byte");
            fb_error_hint(&ctx->err, "Each line is \"fmtbank-anchor v1 SEQ HASH TIME SIGNATURE\", "
                          "as written by \"fmtbank audit anchor\".");
            fb_error_clear(&perr);
            rc = -1;
            break;
        }
        if (!anchor_verify(pub, line, one.msg_len, one.sig)) {
            fb_error_set(&ctx->err, FB_ERR_REFUSED,
                         "anchor signature invalid: %s line %ld (row %lld, %s)", path, lineno,
                         one.seq, one.time);
            fb_error_detail(&ctx->err, "The line was forged or altered, or it was not signed with "
                            "the private key of this public key. Nothing in the anchor log can be "
                            "trusted until this is explained.");
            rc = -1;
            break;
        }
        a = xrealloc(a, (size_t)(n + 1) * sizeof *a);
        at = xrealloc(at, (size_t)(n + 1) * sizeof *at);
        a[n] = one;
        at[n] = lineno;
        n++;
    }
    if (rc == 0 && ferror(f)) {
        fb_error_set(&ctx->err, FB_ERR_INPUT, "could not read \"%s\": %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && n == 0) {
        fb_error_set(&ctx->err, FB_ERR_INPUT, "no anchors in \"%s\"", path);
        fb_error_hint(&ctx->err, "\"fmtbank audit anchor\" appends them; check the file name.");
        rc = -1;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc < 0) {
        free(a);
        free(at);
        return -1;
    }
    *out = a;
    *lines = at;
    return n;
}

/* Compares the chain recomputed from the database with every anchor, in row order, and names
 * the first anchor it does not match. Returns 0 or FB_ERR_REFUSED / another code with ctx->err. */
static int
check_anchors(struct cmd_ctx *ctx, const char *path, const struct anchor_line *a,
              const long *lines, long n, const char *last_id, long long *last_seq)
{
    struct strbuf arr = STRBUF_INIT;
    strbuf_addch(&arr, '{');
    for (long i = 0; i < n; i++)
        strbuf_addf(&arr, "%s%lld", i ? "," : "", a[i].seq);
    strbuf_addch(&arr, '}');
    const char *p[] = {strbuf_str(&arr)};
    /* audit_verify() held in this snapshot, so the stored hashes are the recomputed chain
     * (audit_hash_at); audit_chain_at recomputes on its own for callers without that check. */
    PGresult *r = db_exec(ctx->conn, "SELECT seq, hash FROM fmtbank.audit_hash_at($1::bigint[])",
                          1, p, &ctx->err);
    strbuf_release(&arr);
    if (!r)
        return cmd_fail(ctx);
    /* Rows come back in the file's order; judge them in row order so the first failure bounds
     * where the change is (after the last anchor that still matches). */
    long first = -1, good = -1;
    for (long i = 0; i < n; i++) {
        bool match = !PQgetisnull(r, (int)i, 1) && strcmp(PQgetvalue(r, (int)i, 1), a[i].hash) == 0;
        if (!match && (first < 0 || a[i].seq < a[first].seq))
            first = i;
    }
    for (long i = 0; i < n; i++) {
        bool match = !PQgetisnull(r, (int)i, 1) && strcmp(PQgetvalue(r, (int)i, 1), a[i].hash) == 0;
        if (match && (first < 0 || a[i].seq < a[first].seq) && (good < 0 || a[i].seq > a[good].seq))
            good = i;
    }
    int rc = 0;
    if (first >= 0) {
        const struct anchor_line *b = &a[first];
        char *since = good >= 0 ? xasprintf("the anchor of row %lld (%s) still matches, so the "
                                            "change lies in rows %lld to %lld",
                                            a[good].seq, a[good].time, a[good].seq + 1, b->seq)
                                : xasprintf("no earlier anchor matches, so the change lies in "
                                            "rows 1 to %lld", b->seq);
        if (PQgetisnull(r, (int)first, 1)) {
            fb_error_set(&ctx->err, FB_ERR_REFUSED,
                         "audit trail truncated: row %lld, anchored at %s (%s line %ld), is missing",
                         b->seq, b->time, path, lines[first]);
            if (atoll(last_id) < b->seq)
                fb_error_detail(&ctx->err, "The trail now ends at row %s; rows up to the anchored "
                                "row were removed outside fmtbank (%s).",
                                last_id[0] ? last_id : "0", since);
            else
                fb_error_detail(&ctx->err, "The anchored row was removed outside fmtbank and the "
                                "hash chain recomputed to hide it; %s.", since);
        } else {
            fb_error_set(&ctx->err, FB_ERR_REFUSED,
                         "audit trail rewritten: the chain at row %lld does not match its anchor "
                         "of %s (%s line %ld)", b->seq, b->time, path, lines[first]);
            fb_error_detail(&ctx->err, "Rows were changed, inserted or removed after they were "
                            "anchored and the hash chain recomputed to hide it; %s.", since);
        }
        free(since);
        rc = FB_ERR_REFUSED;
    }
    for (long i = 0; i < n; i++)
        if (a[i].seq > *last_seq)
            *last_seq = a[i].seq;
    PQclear(r);
    return rc;
}

/* The chain check's answer (fmtbank.audit_verify_range over the whole trail). */
struct chain_verdict {
    bool ok;
    long long rows;
    char first_broken[24]; /* "" when none */
    char last_id[24];      /* "" when the trail is empty */
};

/* Trails shorter than this are verified on one connection: a second one costs more to open. */
#define VERIFY_SPLIT_ROWS 200000
#define VERIFY_MAX_JOBS 4
#define VERIFY_RANGE_SQL                                                                        \
    "SELECT ok, rows_checked, first_broken, last_id FROM fmtbank.audit_verify_range($1, $2)"

/* Adds one range's answer (ranges come in id order) to v. Returns -1 when r is not an answer. */
static int
verdict_add(struct chain_verdict *v, PGconn *conn, PGresult *r, struct fb_error *err)
{
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        db_error_fill(conn, r, err);
        return -1;
    }
    if (PQgetvalue(r, 0, 0)[0] != 't' && v->ok) {
        v->ok = false;
        snprintf(v->first_broken, sizeof(v->first_broken), "%s", PQgetvalue(r, 0, 2));
    }
    v->rows += atoll(PQgetvalue(r, 0, 1));
    if (!PQgetisnull(r, 0, 3))
        snprintf(v->last_id, sizeof(v->last_id), "%s", PQgetvalue(r, 0, 3));
    return 0;
}

/* Verifies the id ranges (bound[i], bound[i+1]] (NULL: open) at once, range i on conns[i], all
 * in transactions on one snapshot (see verify_chain). Every link reads only stored rows, so the
 * ranges' answers add up to the whole trail's. Returns 0, or -1 with err set. */
static int
verify_ranges(PGconn **conns, int n, const char *const *bound, struct chain_verdict *v,
              struct fb_error *err)
{
    int rc = 0;
    int sent = 0;
    for (int i = 0; i < n && rc == 0; i++, sent++) {
        const char *p[] = {bound[i], bound[i + 1]};
        if (!PQsendQueryParams(conns[i], VERIFY_RANGE_SQL, 2, NULL, p, NULL, NULL, 0)) {
            db_error_fill(conns[i], NULL, err);
            rc = -1;
        }
    }
    /* Collect every answer sent (in range order), even after a failure, so no connection is
     * left busy. */
    for (int i = 0; i < sent; i++) {
        PGresult *r;
        bool got = false;
        while ((r = PQgetResult(conns[i])) != NULL) {
            if (rc == 0 && !got && verdict_add(v, conns[i], r, err) < 0)
                rc = -1;
            got = true;
            PQclear(r);
        }
    }
    return rc;
}

/* Opens a further connection in a REPEATABLE READ transaction on the snapshot snap (exported by
 * the first one, whose transaction is open), or NULL. SET TRANSACTION SNAPSHOT takes no
 * parameter: the server's snapshot name (hex digits and dashes, checked) is quoted as a literal. */
static PGconn *
connect_on_snapshot(struct cmd_ctx *ctx, const char *snap)
{
    if (snap[0] == '\0' || strspn(snap, "0123456789ABCDEFabcdef-") != strlen(snap))
        return NULL;
    struct fb_error ignore = {0};
    PGconn *c = db_connect(ctx->dsn, ctx->user, &ignore);
    char *set = xasprintf("SET TRANSACTION SNAPSHOT '%s'", snap);
    if (c && (db_run(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, &ignore) < 0 ||
              db_run(c, set, 0, NULL, &ignore) < 0)) {
        PQfinish(c);
        c = NULL;
    }
    free(set);
    fb_error_clear(&ignore);
    return c;
}

/* The chain check. A long trail is split into id ranges verified at once over up to
 * VERIFY_MAX_JOBS connections (one per CPU here) sharing one snapshot; a short one, or when a
 * further connection cannot be opened, on ctx->conn alone. ctx->conn is in a REPEATABLE READ
 * transaction (begun here when in_tx is false, and then ended). Returns 0 or -1 with ctx->err. */
static int
verify_chain(struct cmd_ctx *ctx, bool in_tx, struct chain_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->ok = true;
    if (!in_tx && db_run(ctx->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
                         &ctx->err) < 0)
        return -1;
    PGresult *r = db_exec(ctx->conn,
                          "SELECT pg_catalog.pg_export_snapshot(),"
                          " (SELECT min(id) FROM fmtbank.audit_log),"
                          " (SELECT max(id) FROM fmtbank.audit_log)",
                          0, NULL, &ctx->err);
    if (!r)
        return -1;
    long long lo = atoll(PQgetvalue(r, 0, 1)), hi = atoll(PQgetvalue(r, 0, 2));
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = cpus > VERIFY_MAX_JOBS ? VERIFY_MAX_JOBS : cpus < 1 ? 1 : (int)cpus;
    if (PQgetisnull(r, 0, 1) || hi - lo < VERIFY_SPLIT_ROWS)
        jobs = 1;
    PGconn *conns[VERIFY_MAX_JOBS] = {ctx->conn};
    for (int i = 1; i < jobs; i++)
        if (!(conns[i] = connect_on_snapshot(ctx, PQgetvalue(r, 0, 0)))) {
            jobs = i; /* as many as could be opened */
            break;
        }
    char bounds[VERIFY_MAX_JOBS + 1][24];
    const char *bound[VERIFY_MAX_JOBS + 1] = {NULL};
    for (int i = 1; i < jobs; i++) {
        snprintf(bounds[i], sizeof(bounds[i]), "%lld", lo + (hi - lo) / jobs * i);
        bound[i] = bounds[i];
    }
    bound[jobs] = NULL;
    int rc = verify_ranges(conns, jobs, bound, v, &ctx->err);
    PQclear(r);
    for (int i = 1; i < jobs; i++)
        PQfinish(conns[i]); /* ends its read-only transaction */
    if (!in_tx) {
        struct fb_error ignore = {0};
        db_run(ctx->conn, "COMMIT", 0, NULL, &ignore);
        fb_error_clear(&ignore);
    }
    return rc;
}

static int
cmd_audit_verify(struct cmd_ctx *ctx)
{
    const char *anchors = cmd_opt(ctx, "anchors"), *pub_path = cmd_opt(ctx, "pub");
    /* Signatures first: a forged anchor log is reported before anything is compared with it. */
    struct anchor_line *a = NULL;
    long *lines = NULL;
    long n = 0;
    if (anchors) {
        struct anchor_key *pub = anchor_key_load_public(pub_path, &ctx->err);
        if (!pub)
            return cmd_fail(ctx);
        n = read_anchors(ctx, anchors, pub, &a, &lines);
        anchor_key_free(pub);
        if (n < 0)
            return cmd_fail(ctx);
    }
    /* With anchors, the chain check and the comparison read one snapshot. */
    if (anchors && db_run(ctx->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
                          &ctx->err) < 0) {
        free(a);
        free(lines);
        return cmd_fail(ctx);
    }
    struct chain_verdict v;
    if (verify_chain(ctx, anchors != NULL, &v) < 0) {
        free(a);
        free(lines);
        return cmd_fail(ctx);
    }
    char rows[24];
    snprintf(rows, sizeof(rows), "%lld", v.rows);
    if (!v.ok) {
        fb_error_set(&ctx->err, FB_ERR_REFUSED, "audit trail broken at row %s", v.first_broken);
        fb_error_detail(&ctx->err,
                        "Row %s does not match the hash chain: it, or a row before it, was "
                        "changed or removed outside fmtbank (%s rows checked).",
                        v.first_broken, rows);
    }
    int rc = v.ok ? 0 : FB_ERR_REFUSED;
    long long last_seq = 0;
    if (v.ok && anchors)
        rc = check_anchors(ctx, anchors, a, lines, n, v.last_id, &last_seq);
    if (v.ok && rc == 0) {
        if (anchors) {
            long long last = atoll(v.last_id);
            printf("audit trail intact: %s rows verified; %ld anchor%s verified, the last at row "
                   "%lld; %lld row%s after it not yet anchored\n", rows, n,
                   n == 1 ? "" : "s", last_seq, last - last_seq > 0 ? last - last_seq : 0,
                   last - last_seq == 1 ? "" : "s");
        } else {
            printf("audit trail intact: %s rows verified\n", rows);
        }
    }
    free(a);
    free(lines);
    if (anchors) {
        struct fb_error ignore = {0};
        db_run(ctx->conn, "COMMIT", 0, NULL, &ignore);
        fb_error_clear(&ignore);
    }
    return rc;
}

static int
cmd_audit_keygen(struct cmd_ctx *ctx)
{
    const char *priv = cmd_opt(ctx, "private"), *pub = cmd_opt(ctx, "public");
    if (anchor_keygen(priv, pub, &ctx->err) < 0)
        return cmd_fail(ctx);
    printf("Ed25519 key pair written: private key %s (mode 0600), public key %s\n", priv, pub);
    return 0;
}

/* Writes all of buf to fd. Returns 0 or -1 with errno. */
static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Appends one line to the anchor log (fd opened with O_APPEND) and syncs it. */
static int
append_anchor(struct cmd_ctx *ctx, int fd, const char *path, const char *line)
{
    char *text = xasprintf("%s\n", line);
    int rc = write_all(fd, text, strlen(text));
    if (rc == 0)
        rc = fsync(fd);
    free(text);
    if (rc != 0)
        fb_error_set(&ctx->err, FB_ERR_INTERNAL, "could not append to anchor log \"%s\": %s",
                     path, strerror(errno));
    return rc;
}

/* Drops a copy of the anchor into the outbox as anchor-SEQ-TIME.txt: written under a hidden
 * temporary name, then linked into place (never replacing a file; -2, -3... on a clash). */
static int
outbox_anchor(struct cmd_ctx *ctx, const char *dir, const struct anchor_line *a,
              const char *line)
{
    char stamp[ANCHOR_TIME_LEN + 1];
    size_t k = 0;
    for (const char *t = a->time; *t; t++)
        if (*t != '-' && *t != ':')
            stamp[k++] = *t;
    stamp[k] = '\0';
    char *tmp = xasprintf("%s/.anchor-%lld-%s.%ld.tmp", dir, a->seq, stamp, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        fb_error_set(&ctx->err, FB_ERR_INPUT, "could not write into the outbox \"%s\": %s", dir,
                     strerror(errno));
        free(tmp);
        return -1;
    }
    char *text = xasprintf("%s\n", line);
    int rc = fchmod(fd, 0644);
    if (rc == 0)
        rc = write_all(fd, text, strlen(text));
    if (rc == 0)
        rc = fsync(fd);
    if (close(fd) != 0)
        rc = -1;
    free(text);
    char *final = NULL;
    for (int i = 1; rc == 0 && i <= 100; i++) {
        free(final);
        final = i == 1 ? xasprintf("%s/anchor-%lld-%s.txt", dir, a->seq, stamp)
                       : xasprintf("%s/anchor-%lld-%s-%d.txt", dir, a->seq, stamp, i);
        if (link(tmp, final) == 0)
            break;
        if (errno != EEXIST || i == 100)
            rc = -1;
    }
    if (rc != 0)
        fb_error_set(&ctx->err, FB_ERR_INTERNAL, "could not write into the outbox \"%s\": %s",
                     dir, strerror(errno));
    unlink(tmp);
    free(tmp);
    free(final);
    return rc;
}

/* The last anchor of the anchor log (fd), checked with the signing key (which holds its public
 * half): 1 with *a filled, 0 when the log is empty, -1 with ctx->err set when its last line is
 * not an anchor this key signed (another key starts another log). */
static int
last_anchor(struct cmd_ctx *ctx, int fd, const char *path, const struct anchor_key *key,
            struct anchor_line *a)
{
    memset(a, 0, sizeof *a);
    /* An anchor line is about 250 bytes: the last 1 KiB holds the last one. */
    char buf[1024];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
    ssize_t n = end < 0 ? -1 : pread(fd, buf, (size_t)(end - from), from);
    int saved = errno;
    if (n < 0) {
        fb_error_set(&ctx->err, FB_ERR_INPUT, "could not read anchor log \"%s\": %s", path,
                     strerror(saved));
        return -1;
    }
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (n == 0)
        return 0;
    char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    struct fb_error perr = {0};
    if ((size_t)n != strlen(buf) || anchor_line_parse(line, a, &perr) < 0 ||
        !anchor_verify(key, line, a->msg_len, a->sig)) {
        fb_error_set(&ctx->err, FB_ERR_REFUSED,
                     "the last line of anchor log \"%s\" is not an anchor signed with this key",
                     path);
        if (perr.message)
            fb_error_detail(&ctx->err, "%s.", perr.message);
        fb_error_hint(&ctx->err, "A new key starts a new anchor log; an altered log needs to be "
                      "explained (verify it with \"fmtbank audit verify --anchors\").");
        fb_error_clear(&perr);
        return -1;
    }
    return 1;
}

int
audit_anchor_sign(struct cmd_ctx *ctx, const char *key_path, const char *log_path,
                  const char *outbox)
{
    struct stat st;
    if (outbox && (stat(outbox, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fb_error_set(&ctx->err, FB_ERR_INPUT, "outbox \"%s\" is not a directory", outbox);
        return FB_ERR_INPUT;
    }
    struct anchor_key *key = anchor_key_load_private(key_path, &ctx->err);
    if (!key)
        return cmd_fail(ctx);
    /* The log stays locked from reading its last anchor to appending the new one, so two
     * signers at once (the timer and a run by hand) append anchors that extend each other. */
    int fd = open(log_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        fb_error_set(&ctx->err, FB_ERR_INPUT, "could not open anchor log \"%s\": %s", log_path,
                     strerror(errno));
        if (fd >= 0)
            close(fd);
        anchor_key_free(key);
        return cmd_fail(ctx);
    }
    struct anchor_line prev;
    int have_prev = last_anchor(ctx, fd, log_path, key, &prev);
    if (have_prev < 0) {
        close(fd);
        anchor_key_free(key);
        return cmd_fail(ctx);
    }
    char prev_seq[32];
    snprintf(prev_seq, sizeof prev_seq, "%lld", prev.seq);
    const char *hp[] = {have_prev ? prev_seq : NULL, have_prev ? prev.hash : NULL};
    PGresult *r = db_exec(ctx->conn, "SELECT seq, hash, extends FROM fmtbank.audit_head($1, $2)",
                          2, hp, &ctx->err);
    if (!r) {
        close(fd);
        anchor_key_free(key);
        return cmd_fail(ctx);
    }
    if (PQntuples(r) == 0 || (have_prev && PQgetvalue(r, 0, 2)[0] != 't')) {
        if (PQntuples(r) == 0 && !have_prev) {
            fb_error_set(&ctx->err, FB_ERR_NOTFOUND, "the audit trail is empty: nothing to anchor");
        } else {
            /* Signing now would anchor a rewritten trail: refuse, and say so loudly. */
            fb_error_set(&ctx->err, FB_ERR_REFUSED,
                         "not signing: the audit trail no longer extends the last anchor "
                         "(row %lld, %s)", prev.seq, prev.time);
            fb_error_detail(&ctx->err, "The anchored row was changed or removed, or the rows "
                            "after it do not chain from it: the trail was rewritten or cut "
                            "outside fmtbank since %s.", prev.time);
            fb_error_hint(&ctx->err, "Find where with \"fmtbank audit verify --anchors %s --pub "
                          "PUBLIC-KEY\".", log_path);
        }
        PQclear(r);
        close(fd);
        anchor_key_free(key);
        return cmd_fail(ctx);
    }
    struct anchor_line a = {0};
    a.seq = atoll(PQgetvalue(r, 0, 0));
    snprintf(a.hash, sizeof a.hash, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(a.time, sizeof a.time, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *msg = anchor_message(a.seq, a.hash, a.time);
    char *line = NULL;
    int rc = anchor_sign(key, msg, strlen(msg), a.sig, &ctx->err);
    anchor_key_free(key);
    if (rc == 0) {
        line = anchor_line_format(msg, a.sig);
        rc = append_anchor(ctx, fd, log_path, line);
    }
    if (close(fd) != 0 && rc == 0) {
        fb_error_set(&ctx->err, FB_ERR_INTERNAL, "could not append to anchor log \"%s\": %s",
                     log_path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && outbox && outbox_anchor(ctx, outbox, &a, line) < 0) {
        fb_error_hint(&ctx->err, "The anchor is in %s; copy it off the host by hand.", log_path);
        rc = -1;
    }
    if (rc == 0)
        printf("%s\n", line);
    free(msg);
    free(line);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_audit_anchor(struct cmd_ctx *ctx)
{
    return audit_anchor_sign(ctx, cmd_opt(ctx, "key"), cmd_opt(ctx, "log"), cmd_opt(ctx, "outbox"));
}

const struct cmd_def cmd_defs_audit[] = {
    {"audit log", cmd_audit_log, CMD_DB, {0},
     (const struct opt_spec[]){
         {"since", 0, OPT_STRING, "WHEN", .help = "only changes from then on"},
         {"until", 0, OPT_STRING, "WHEN",
          .help = "only changes until then (a date: that whole day)"},
         {"table", 0, OPT_STRING, "T", .help = "only changes of table T"},
         {"key", 0, OPT_STRING, "K", .help = "only changes of the row with key K"},
         {"who", 0, OPT_STRING, "USER", .help = "only changes made by USER"},
         {"donor", 0, OPT_STRING, "CODE",
          .help = "only changes concerning donor CODE, in every table"},
         {"lot", 0, OPT_STRING, "LOT", .help = "only changes concerning lot LOT, in every table"},
         {0}},
     "the audit trail: who changed what, when and why (quality, auditor, admin)",
     "One row per change: id, time, who, table, operation, subject (what the change is about,\n"
     "by codes: donor, lot, aliquot, box:position, freezer, case, test, questionnaire), changes\n"
     "and reason. Changes lists, for an update, each changed field as \"field: old → new\",\n"
     "and for an insert each field with a value; UUIDs and internal numbers of rows people know\n"
     "by a code are shown as that code (donor code, lot, aliquot, box, freezer, case, test).\n"
     "--format json adds the key and the full old and new rows.\n"
     "WHEN is a date or timestamp. --who USER: changes made by USER (the acting user; the global\n"
     "--user chooses who runs the command). --donor CODE: every change concerning the donor,\n"
     "in every table: the donor, its identity, decisions, consents, questionnaires and answers,\n"
     "results, lots, their doses and all that names them (placements, custody, labels, issues,\n"
     "signatures, holds, cases). --lot LOT: the lot, its doses, all that names them and results\n"
     "on its tubes. Filters combine (all must hold). An unknown donor, lot or user exits 4.\n"
     "Quality, auditor and admin read the trail (anyone else: exit 6, naming the roles); audit\n"
     "rows of donor identity are shown to quality and admin only.\n"},
    {"audit verify", cmd_audit_verify, CMD_DB, {0},
     (const struct opt_spec[]){
         {"anchors", 0, OPT_STRING, "FILE", .help = "the anchor log to check the trail against",
          .with = "pub"},
         {"pub", 0, OPT_STRING, "KEY", .help = "the public key of the anchors' signer",
          .with = "anchors"},
         {0}},
     "check the audit trail's hash chain; exit 5 naming the first broken row",
     "With --anchors, first every anchor's signature is checked with the public key KEY, then\n"
     "the chain recomputed from the rows is compared with each anchored row: a rewrite before\n"
     "an anchor (even one that recomputed the hash chain) or a trail cut short before an\n"
     "anchored row exits 5 naming the anchor. A malformed anchor line exits 3.\n"},
    {"audit keygen", cmd_audit_keygen, 0, {0},
     (const struct opt_spec[]){
         {"private", 0, OPT_STRING, "FILE", .help = "the private key to create (mode 0600)",
          .flags = OPT_REQUIRED},
         {"public", 0, OPT_STRING, "FILE", .help = "the public key to create",
          .flags = OPT_REQUIRED},
         {0}},
     "create the Ed25519 key pair that signs audit-chain anchors",
     "The private key (mode 0600) belongs to the signer's own OS user, never to the database's;\n"
     "existing files are never overwritten. Give the public key to whoever verifies.\n"},
    {"audit anchor", cmd_audit_anchor, CMD_DB, {0},
     (const struct opt_spec[]){
         {"key", 0, OPT_STRING, "FILE", .help = "the private key that signs",
          .flags = OPT_REQUIRED},
         {"log", 0, OPT_STRING, "FILE", .help = "the anchor log to append to",
          .flags = OPT_REQUIRED},
         {"outbox", 0, OPT_STRING, "DIR", .help = "also drop a copy of the anchor into DIR"},
         {0}},
     "sign the audit chain head and append the anchor to a log (and the outbox)",
     "Signs \"fmtbank-anchor v1 SEQ HASH TIME\" (the last audit row, its chain hash, now in\n"
     "UTC) with the private key, appends the line to the anchor log and drops a copy into DIR\n"
     "for shipping off the host. Refuses (exit 5, nothing signed) when the trail no longer\n"
     "extends the log's last anchor: rewritten or cut since. Run it periodically as a\n"
     "separate OS user (see dist/fmtbank-anchor.service and .timer).\n"},
    {0},
};
