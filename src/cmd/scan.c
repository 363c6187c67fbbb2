/* scan.c: "fmtbank scan": the barcode session. Reads one scan per line, answers each at once
 * with a line beginning OK or ERR (bell on errors at a terminal), and ends with a summary line.
 * Malformed lines and bad check characters are answered locally (common/scanline); everything
 * else is ONE call of fmtbank.scan(), a prepared statement that decides and writes in a single
 * round trip. The session state (mode, current box, fixed position, tubes seen in audit mode, the
 * recipient and site of issue mode) lives here and travels with each call. */
#include "cmd/cmd.h"
#include "cmd/labels.h"
#include "db/db.h"
#include "common/scanline.h"
#include "common/text.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SCAN_STMT "fmtbank_scan"
#define SCAN_RETRIES 3

struct scan_session {
    struct cmd_ctx *ctx;
    enum scan_mode mode;
    char *box;   /* current box ID, or NULL */
    char *pos;   /* position fixed for the next tube, or NULL */
    char **seen; /* audit mode: tubes scanned in the current box */
    size_t nseen, capseen;
    char *recipient, *site; /* issue mode: whom the tubes go to (checked, as the database has them) */
    const char *use;        /* issue mode: what for (--use; NULL: clinical) */
    bool bell;              /* stdout is a terminal */
    /* counts for the summary */
    long scans, ok, refused, stored, retrieved, seen_n, issued, problems;
    enum fb_errkind worst; /* an unexpected (non-rule) failure of some scan */
    /* --timing: per-scan latency in microseconds */
    bool timing;
    double *lat;
    size_t nlat, caplat;
    long lineno; /* input lines read */
};

static void
set_str(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? xstrdup(v) : NULL;
}

static void
seen_reset(struct scan_session *s)
{
    for (size_t i = 0; i < s->nseen; i++)
        free(s->seen[i]);
    s->nseen = 0;
}

static void
seen_add(struct scan_session *s, const char *id)
{
    for (size_t i = 0; i < s->nseen; i++)
        if (strcmp(s->seen[i], id) == 0)
            return;
    if (s->nseen == s->capseen) {
        s->capseen = s->capseen ? 2 * s->capseen : 64;
        s->seen = xrealloc(s->seen, s->capseen * sizeof(char *));
    }
    s->seen[s->nseen++] = xstrdup(id);
}

/* One answer line; a bell first for errors at a terminal. */
static void
answer(struct scan_session *s, const char *line)
{
    if (s->bell && strncmp(line, "ERR", 3) == 0)
        fputc('\a', stdout);
    fputs(line, stdout);
    fputc('\n', stdout);
}

/* Appends text as one line: runs of whitespace (libpq's messages have newlines and tabs)
 * become one space. */
static void
add_one_line(struct strbuf *sb, const char *text)
{
    bool space = false;
    for (const char *p = text; *p; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
            space = true;
            continue;
        }
        if (space && sb->len > 0 && sb->buf[sb->len - 1] != ' ')
            strbuf_addch(sb, ' ');
        space = false;
        strbuf_addch(sb, *p);
    }
}

static void
answer_err(struct scan_session *s, const char *msg, const char *detail, const char *hint)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_adds(&sb, "ERR ");
    add_one_line(&sb, msg);
    if (detail && *detail) {
        strbuf_adds(&sb, " - ");
        add_one_line(&sb, detail);
    }
    if (hint && *hint) {
        strbuf_adds(&sb, " - ");
        add_one_line(&sb, hint);
    }
    answer(s, sb.buf);
    strbuf_release(&sb);
    s->refused++;
}

static bool
retryable(const char *sqlstate)
{
    return strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0;
}

/* Sends one scan to fmtbank.scan(). Returns 0 when answered (OK or a refusal), -1 when the
 * session cannot go on (connection lost), with ctx->err set. */
static int
db_scan(struct scan_session *s, const char *text)
{
    struct strbuf seen = STRBUF_INIT;
    if (s->mode == SCAN_MODE_AUDIT)
        pg_text_array(&seen, (const char *const *)s->seen, s->nseen);
    const char *p[] = {scan_mode_name(s->mode), s->box, s->pos, text,
                       s->mode == SCAN_MODE_AUDIT ? seen.buf : NULL, s->recipient, s->site,
                       s->use};
    PGresult *r = NULL;
    struct fb_error *err = &s->ctx->err;
    for (int attempt = 0;; attempt++) {
        r = PQexecPrepared(s->ctx->conn, SCAN_STMT, 8, p, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            break;
        db_error_fill(s->ctx->conn, r, err);
        PQclear(r);
        r = NULL;
        if (!(retryable(err->sqlstate) && attempt + 1 < SCAN_RETRIES))
            break;
        fb_error_clear(err);
    }
    strbuf_release(&seen);
    if (!r) {
        if (PQstatus(s->ctx->conn) == CONNECTION_BAD || err->kind == FB_ERR_DBUNAVAIL) {
            struct strbuf msg = STRBUF_INIT;
            strbuf_addf(&msg, "database connection lost: %s", err->message);
            answer_err(s, msg.buf, NULL,
                       "This scan and any after it were not recorded; scan them again.");
            strbuf_release(&msg);
            return -1;
        }
        if (err->kind == FB_ERR_INTERNAL)
            s->worst = FB_ERR_INTERNAL;
        /* A conflict with another writer that outlasted the retries or the lock timeout: the
         * scan was not refused by a rule; the session ends with exit 8 unless worse happened. */
        else if (err->kind == FB_ERR_TRANSIENT && s->worst == FB_OK)
            s->worst = FB_ERR_TRANSIENT;
        answer_err(s, err->message, err->detail, err->hint);
        fb_error_clear(err);
        return 0;
    }
    /* answer, event, mode, box, pos, problems */
    char *lines = PQgetvalue(r, 0, 0);
    for (char *line = lines, *nl; line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        answer(s, line);
    }
    const char *event = PQgetvalue(r, 0, 1);
    enum scan_mode newmode = s->mode;
    scan_mode_parse(PQgetvalue(r, 0, 2), &newmode);
    const char *newbox = PQgetisnull(r, 0, 3) ? NULL : PQgetvalue(r, 0, 3);
    s->problems += atol(PQgetvalue(r, 0, 5));
    if (strcmp(event, "stored") == 0)
        s->stored++;
    else if (strcmp(event, "retrieved") == 0)
        s->retrieved++;
    else if (strcmp(event, "issued") == 0)
        s->issued++;
    if (strcmp(event, "seen") == 0) {
        s->seen_n++;
        seen_add(s, text);
    } else if (strcmp(event, "box") == 0 || strcmp(event, "mode") == 0 ||
               strcmp(event, "end") == 0) {
        seen_reset(s); /* the audit of the previous box, if any, was closed */
    }
    s->mode = newmode;
    set_str(&s->box, newbox);
    set_str(&s->pos, PQgetisnull(r, 0, 4) ? NULL : PQgetvalue(r, 0, 4));
    s->ok++;
    PQclear(r);
    return 0;
}

/* Handles one input line. Returns 1 to go on, 0 after END, -1 when the session must stop. */
static int
scan_one(struct scan_session *s, const char *line, size_t len)
{
    struct scan_line sl;
    s->lineno++;
    if (s->lineno == 1) { /* a byte order mark before the first scan */
        size_t bom = text_bom_len(line, len);
        line += bom;
        len -= bom;
    }
    const char *bad = scanline_unreadable(line, len);
    if (bad) {
        /* Nothing of this line is used: a NUL would have cut it short. */
        char msg[96];
        snprintf(msg, sizeof(msg), "unreadable scan on line %ld (%s)", s->lineno, bad);
        s->scans++;
        answer_err(s, msg, NULL, "Scan again; check the scanner's configuration if it persists.");
        return 1;
    }
    scanline_parse_n(line, len, &sl);
    if (sl.kind == SCAN_EMPTY)
        return 1;
    s->scans++;
    switch (sl.kind) {
    case SCAN_LOT:
    case SCAN_FREEZER:
        if (s->mode == SCAN_MODE_ISSUE) {
            /* as fmtbank.scan() answers it */
            char msg[128];
            snprintf(msg, sizeof(msg), "%s: a %s is not issued in issue mode", sl.text,
                     sl.kind == SCAN_LOT ? "lot" : "freezer");
            answer_err(s, msg, NULL, "Issue tubes one by one: scan the label of each tube.");
            return 1;
        }
        answer_err(s, sl.message, sl.detail, sl.hint);
        return 1;
    case SCAN_INVALID:
        answer_err(s, sl.message, sl.detail, sl.hint);
        return 1;
    case SCAN_MODE:
    case SCAN_END:
        /* Only the end of an audit needs the database. */
        if (!(s->mode == SCAN_MODE_AUDIT && s->box)) {
            if (sl.kind == SCAN_END) {
                answer(s, "OK end of session");
            } else if (sl.mode == SCAN_MODE_ISSUE && !s->recipient) {
                answer_err(s, "issue mode needs a recipient and a site", NULL,
                           "Start the session with \"fmtbank scan --mode issue --recipient R --site "
                           "S\".");
                return 1;
            } else {
                /* As fmtbank.scan() does: an audit starts with the scan of a box; issue mode
                 * needs none. */
                if (sl.mode == SCAN_MODE_AUDIT && s->mode != SCAN_MODE_AUDIT) {
                    set_str(&s->box, NULL);
                    answer(s, "OK mode audit: scan a box to audit it");
                } else if (sl.mode == SCAN_MODE_ISSUE) {
                    set_str(&s->box, NULL);
                    char *msg = xasprintf("OK mode issue: each tube scanned is issued to %s at %s",
                                          s->recipient, s->site);
                    answer(s, msg);
                    free(msg);
                } else {
                    char buf[32];
                    snprintf(buf, sizeof(buf), "OK mode %s", scan_mode_name(sl.mode));
                    answer(s, buf);
                }
                s->mode = sl.mode;
                set_str(&s->pos, NULL);
            }
            s->ok++;
            return sl.kind == SCAN_END ? 0 : 1;
        }
        break;
    default:
        break;
    }
    if (db_scan(s, sl.text) < 0)
        return -1;
    return sl.kind == SCAN_END ? 0 : 1;
}

static double
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void
print_timing(struct scan_session *s, double wall_us)
{
    if (s->nlat == 0) {
        fprintf(stderr, "scan timing: no scans\n");
        return;
    }
    qsort(s->lat, s->nlat, sizeof(double), cmp_double);
    size_t n = s->nlat;
    double median = n % 2 ? s->lat[n / 2] : (s->lat[n / 2 - 1] + s->lat[n / 2]) / 2;
    size_t k99 = (size_t)((double)n * 0.99 + 0.999999) - 1; /* nearest-rank p99 */
    fprintf(stderr,
            "scan timing: %zu scans in %.3f s, %.0f scans/s; latency median %.3f ms, "
            "p99 %.3f ms, max %.3f ms\n",
            n, wall_us / 1e6, (double)n / (wall_us / 1e6), median / 1e3, s->lat[k99] / 1e3,
            s->lat[n - 1] / 1e3);
}

static int
cmd_scan(struct cmd_ctx *ctx)
{
    const char *mode = cmd_opt(ctx, "mode");
    bool timing = cmd_flag(ctx, "timing");
    struct scan_session s = {.ctx = ctx, .mode = SCAN_MODE_STORE, .timing = timing};
    if (mode)
        scan_mode_parse(mode, &s.mode); /* one of the declared choices */
    const char *recipient = cmd_opt(ctx, "recipient"); /* --site goes with it */
    if (s.mode == SCAN_MODE_ISSUE && !recipient)
        return cmd_usage_error(ctx, "missing --recipient and --site (issue mode issues each tube "
                                    "to that recipient at that site)");
    if (s.mode != SCAN_MODE_ISSUE && recipient)
        return cmd_usage_error(ctx, "--recipient and --site go with --mode issue");
    s.use = cmd_opt(ctx, "use");
    if (s.mode != SCAN_MODE_ISSUE && s.use)
        return cmd_usage_error(ctx, "--use goes with --mode issue");
    /* Who may scan is checked once, before the first scan. */
    if (db_run(ctx->conn, "SELECT fmtbank.scan_begin()", 0, NULL, &ctx->err) != 0)
        return cmd_fail(ctx);
    if (recipient) {
        /* the recipient code and the site, checked once, as the issue function checks them */
        const char *pr[] = {recipient, cmd_opt(ctx, "site")};
        PGresult *r = db_exec(ctx->conn,
                              "SELECT fmtbank.recipient_code_check($1), fmtbank.issue_site_check($2)",
                              2, pr, &ctx->err);
        if (!r)
            return cmd_fail(ctx);
        s.recipient = xstrdup(PQgetvalue(r, 0, 0));
        s.site = xstrdup(PQgetvalue(r, 0, 1));
        PQclear(r);
    }
    PGresult *prep = PQprepare(ctx->conn, SCAN_STMT,
                               "SELECT answer, event, mode, box, pos, problems"
                               " FROM fmtbank.scan($1, $2, $3, $4, $5::text[], $6, $7, $8)",
                               8, NULL);
    if (PQresultStatus(prep) != PGRES_COMMAND_OK) {
        db_error_fill(ctx->conn, prep, &ctx->err);
        PQclear(prep);
        free(s.recipient);
        free(s.site);
        return cmd_fail(ctx);
    }
    PQclear(prep);
    s.bell = isatty(STDOUT_FILENO);
    if (isatty(STDIN_FILENO)) {
        if (s.mode == SCAN_MODE_ISSUE)
            fprintf(stderr, "scan session in issue mode: each tube scanned is issued to %s at %s"
                            " for %s use; END or Ctrl-D ends\n", s.recipient, s.site,
                    s.use ? s.use : "clinical");
        else
            fprintf(stderr, "scan session in %s mode: scan a box, then tubes; END or Ctrl-D ends\n",
                    scan_mode_name(s.mode));
    }

    char *line = NULL;
    size_t cap = 0;
    int rc = 1;
    double start = now_us();
    ssize_t got;
    while (rc > 0 && (got = getline(&line, &cap, stdin)) >= 0) {
        double t0 = now_us();
        long before = s.scans;
        rc = scan_one(&s, line, (size_t)got);
        fflush(stdout);
        if (s.timing && s.scans > before) {
            if (s.nlat == s.caplat) {
                s.caplat = s.caplat ? 2 * s.caplat : 1024;
                s.lat = xrealloc(s.lat, s.caplat * sizeof(double));
            }
            s.lat[s.nlat++] = now_us() - t0;
        }
    }
    double wall = now_us() - start;
    free(line);
    /* End of input closes an audit in progress, as END does. */
    if (rc > 0 && s.mode == SCAN_MODE_AUDIT && s.box) {
        long ok = s.ok;
        rc = db_scan(&s, "END") < 0 ? -1 : 0;
        s.ok = ok;
    }
    char issued[48] = "";
    if (s.recipient)
        snprintf(issued, sizeof(issued), ", %ld issued", s.issued);
    printf("SUMMARY %ld scan%s: %ld OK, %ld refused; %ld stored, %ld retrieved, %ld seen%s;"
           " %ld audit discrepanc%s\n",
           s.scans, s.scans == 1 ? "" : "s", s.ok, s.refused, s.stored, s.retrieved, s.seen_n,
           issued, s.problems, s.problems == 1 ? "y" : "ies");
    fflush(stdout);
    if (s.timing)
        print_timing(&s, wall);

    int exit_code = 0;
    if (rc < 0) {
        exit_code = cmd_fail(ctx);
    } else if (s.worst != FB_OK) {
        exit_code = (int)s.worst;
        fb_error_set(&ctx->err, s.worst, "%ld of %ld scans failed", s.refused, s.scans);
    } else if (s.refused > 0 || s.problems > 0) {
        exit_code = FB_ERR_REFUSED;
        if (s.refused > 0)
            fb_error_set(&ctx->err, FB_ERR_REFUSED, "%ld of %ld scan%s refused", s.refused, s.scans,
                         s.scans == 1 ? " was" : "s were");
        else
            fb_error_set(&ctx->err, FB_ERR_REFUSED, "the audit found %ld discrepanc%s", s.problems,
                         s.problems == 1 ? "y" : "ies");
    }
    seen_reset(&s);
    free(s.seen);
    free(s.box);
    free(s.pos);
    free(s.recipient);
    free(s.site);
    free(s.lat);
    return exit_code;
}

const struct cmd_def cmd_defs_scan[] = {
    {"scan", cmd_scan, CMD_DB, {0},
     (const struct opt_spec[]){
         {"mode", 0, OPT_STRING, "M", .help = "the starting mode",
          .choices = "store|retrieve|audit|issue", .def = "store"},
         {"recipient", 0, OPT_STRING, "R",
          .help = "issue mode: the pseudonymous recipient code the tubes are issued to",
          .with = "site"},
         {"site", 0, OPT_STRING, "S", .help = "issue mode: the receiving site", .with = "recipient"},
         {"use", 0, OPT_STRING, "USE",
          .help = "issue mode: what the doses are used for (consent scope; default clinical)",
          .choices = "clinical|research"},
         {"timing", 0, OPT_FLAG, NULL,
          .help = "print scan throughput and latency (median, p99) to stderr at the end"},
         {0}},
     "barcode session: store, retrieve or audit tubes in freezer boxes, or issue them",
     "Reads one scan per line from standard input (a scanner types an ID and Enter) and\n"
     "answers each at once with one line beginning OK or ERR (with a bell at a terminal):\n"
     "  BOX ID           selects the current box and shows its free positions\n"
     "  POSITION (C4)    the next tube goes there (otherwise to the next free position,\n"
     "                   row by row)\n"
     "  ALIQUOT ID       stores the tube in the current box (store mode), takes it out\n"
     "                   (retrieve mode), or notes it as present (audit mode)\n"
     "  MODE M           switches to store, retrieve or audit (issue: only in a session\n"
     "                   started with --mode issue)\n"
     "  END              ends the session (as does the end of input)\n"
     "In audit mode the tubes scanned in a box are compared with the database when the next\n"
     "box is scanned, the mode changes, or the session ends: missing and unexpected tubes are\n"
     "listed and the audit is recorded.\n"
     "--mode issue --recipient R --site S (technician) issues each tube scanned to recipient R at\n"
     "site S (for --use, clinical by default), wherever it is stored, as \"aliquot issue\" does\n"
     "and by the same rules (the donor's consent must cover the use): OK ALIQUOT\n"
     "issued to R, or ERR ALIQUOT: why (held, naming the case; recalled; expired; discarded;\n"
     "already issued; thawed; the retained sample; not released). A box, lot or freezer label is\n"
     "refused in issue mode: tubes are issued one by one.\n"
     "A refused scan changes nothing. A summary line ends the session; the exit code is 5 if any\n"
     "scan was refused or an audit found discrepancies.\n"},
    {0},
};
