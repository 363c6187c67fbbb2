/* daemon.h: the batch daemon fmtbankd, one process in the style of redis: main() (src/fmtbankd.c)
 * reads the options and the configuration, installs the signal flags, then runs daemon_loop().
 * Each pass of the loop, on the active daemon only: the inbox, the sweeps, the scheduled
 * reports, the heartbeat. The pieces live in focused files:
 *   config.c    options and the "key = value" configuration file
 *   signals.c   flags set by SIGTERM/SIGINT/SIGHUP, and the race-free wait (pselect)
 *   session.c   the two database sessions (lock + LISTEN, and work), back-off, takeover
 *   loop.c      the loop and one pass
 *   inbox.c     exactly-once CSV imports from the inbox
 *   sweep.c     fmtbank.sweep()
 *   heartbeat.c fmtbank.daemon_beat()
 *   reports.c   the daily reports into the outbox (report_run) */
#ifndef FMTBANK_DAEMON_H
#define FMTBANK_DAEMON_H
#include "common/error.h"
#include "common/log.h"
#include "common/options.h"
#include "db/import.h"
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* ---------------------------------------------------------------- config.c */

/* The command line; its values win over the configuration file's, also after a reload. */
struct daemon_options {
    struct opt_values cli; /* every option given (see daemon_opts in config.c) */
    bool once;
    const char *config_path;
};

struct daemon_config {
    char *inbox;          /* directory watched for *.csv; NULL: no inbox */
    char *outbox;         /* directory for scheduled reports; NULL: none */
    char *db;             /* conninfo; NULL: FMTBANK_DSN, the PG* environment, else embedded */
    char *user;           /* role; NULL: the conninfo's or PGUSER, else "fmtbankd" */
    char *inbox_format;   /* "auto" (by each file's header line) or a format's name */
    double interval;      /* seconds between passes (and between standby lock attempts) */
    double settle;        /* seconds a new inbox file must stay unchanged before import */
    double reconnect_max; /* cap of the reconnection back-off, seconds */
    int report_minute;    /* minutes after local midnight of the daily reports; -1: none */
    char *reports;        /* the daily reports' names, comma or space separated */
    enum log_level log_level;
};

/* Parses argv. Returns 0 to run, 1 when --help or --version was printed, or FB_ERR_USAGE with
 * err set. */
int daemon_options_parse(int argc, char **argv, struct daemon_options *o, struct fb_error *err);
void daemon_print_usage(FILE *out);
const char *daemon_version(void);
void config_defaults(struct daemon_config *c);
void config_free(struct daemon_config *c);
/* Applies one "key = value" setting, validated (the configuration file's keys). */
int config_set(struct daemon_config *c, const char *key, const char *value, struct fb_error *err);
/* Applies a whole configuration text; errors name label:LINE. Nothing is kept on error. */
int config_parse_text(const char *text, const char *label, struct daemon_config *c,
                      struct fb_error *err);
/* Defaults, then the file (when o->config_path), then the command line. On error *c is left
 * untouched (a reload keeps the configuration it had). */
int config_load(const struct daemon_options *o, struct daemon_config *c, struct fb_error *err);
/* An inbox file format: its name, the header line that identifies it, its import. */
struct inbox_format {
    const char *name;
    const char *header;
    const struct import_spec *spec;
};
/* The format with this name, or NULL. */
const struct inbox_format *config_inbox_format(const char *name);
/* The format whose header line the file starts with, or NULL. */
const struct inbox_format *inbox_format_detect(const char *buf, size_t len);
/* "\"header\" (name), ..." for messages; caller frees. */
char *inbox_format_names(void);
/* The role to connect as: NULL lets the conninfo or PGUSER decide, else "fmtbankd". */
const char *config_db_user(const struct daemon_config *c);

/* ---------------------------------------------------------------- signals.c */

/* Handlers only set flags: SIGTERM/SIGINT stop, SIGHUP reload. SIGPIPE is ignored. */
void signals_install(void);
bool signals_stop_requested(void);
/* True once per SIGHUP received. */
bool signals_take_reload(void);
/* Sleeps up to timeout seconds, or until fd (>= 0) is readable or a signal arrives, without the
 * race of a signal just before the wait. Returns 1 if fd is readable, else 0. */
int signals_wait(int fd, double timeout);

/* ---------------------------------------------------------------- the daemon */

struct inbox_seen {
    char *name;
    off_t size;
    struct timespec mtime;
    ino_t ino;
    double since; /* monotonic time since which it has looked like this */
};

struct daemon {
    struct daemon_options opts;
    struct daemon_config cfg;
    char host[256];
    pid_t pid;
    /* session.c */
    PGconn *ctl;  /* advisory lock and LISTEN: kept idle so notifications arrive at once */
    PGconn *work; /* imports, sweeps, reports, heartbeat */
    bool active;  /* holds the lock: the one daemon that works */
    bool standby_logged;
    int attempt;  /* failed connection attempts in a row */
    /* what the next heartbeat reports */
    bool swept, imported;
    long long errors;
    /* inbox.c: the files seen at the last scan, to tell a finished file from one being written */
    struct inbox_seen *seen;
    size_t nseen;
    bool inbox_pending; /* some file is still changing: look again after cfg.settle */
    /* reports.c: the local day (YYYYMMDD) whose reports are done */
    long reports_done_day;
    long reports_warned_day; /* the day a missing definition was reported */
};

void daemon_init(struct daemon *d);
void daemon_free(struct daemon *d);
/* Creates the inbox's processed/ and rejected/ and checks the outbox. Returns 0 or -1. */
int daemon_prepare_dirs(const struct daemon_config *c, struct fb_error *err);
/* Counts and logs a failure (the heartbeat reports the count). */
void daemon_error(struct daemon *d, const char *what, const struct fb_error *err);

/* ---------------------------------------------------------------- session.c */

/* One attempt to open both sessions (may_start: db_connect may start the embedded instance),
 * check the schema version and name the sessions. Returns 0 or -1 with err set. */
int session_open(struct daemon *d, bool may_start, struct fb_error *err);
void session_close(struct daemon *d);
/* Tries the advisory lock once. Returns 1 (this daemon is active, LISTENing), 0 (another one is),
 * or -1 (the session failed). */
int session_try_lock(struct daemon *d, struct fb_error *err);
/* Waits up to timeout seconds for a notification or a signal; drains what arrived. Returns the
 * number of notifications, or -1 when the lock session was lost. */
int session_wait(struct daemon *d, double timeout);
/* False once either session is broken (the loop then reconnects). */
bool session_ok(const struct daemon *d);

/* ---------------------------------------------------------------- loop.c */

/* Runs until SIGTERM/SIGINT (or one pass with --once). Returns the exit code. */
int daemon_loop(struct daemon *d);

/* ---------------------------------------------------------------- the passes */

/* Imports the finished *.csv files of the inbox, each once, in name order; stops between files
 * on SIGTERM. Returns -1 when the database session failed (the loop reconnects), else 0. */
int inbox_pass(struct daemon *d);
/* Runs fmtbank.sweep() and logs each change. Returns the number of changes, or -1 with err set. */
long daemon_sweep(PGconn *conn, struct fb_error *err);
/* Writes the heartbeat row. Returns 0 or -1 with err set. */
int heartbeat_write(struct daemon *d, struct fb_error *err);
/* Writes the day's reports into the outbox once report_time has passed (never overwriting). */
void reports_pass(struct daemon *d);

#endif
