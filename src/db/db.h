/* db.h: the only way fmtbank talks to PostgreSQL: connecting (configured server or the embedded
 * instance), parameterised execution, and SQLSTATE → error-kind mapping. */
#ifndef FMTBANK_DB_H
#define FMTBANK_DB_H
#include "common/error.h"
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

/* Connects to --db (dsn), else $FMTBANK_DSN, else the libpq PG* environment when it names a
 * server, else the embedded instance (started on demand). user (--user) overrides the role. */
PGconn *db_connect(const char *dsn, const char *user, struct fb_error *err);
/* As db_connect, but never starts the embedded instance: the daemon reconnects with it, so an
 * instance stopped on purpose ("fmtbank db stop") stays stopped until someone starts it. */
PGconn *db_connect_running(const char *dsn, const char *user, struct fb_error *err);
/* True when no server is configured, so the embedded instance is the target. */
bool db_uses_embedded(const char *dsn);

/* Runs sql with text parameters; returns the result (caller clears) or NULL with err filled
 * from the server's message, detail, hint and SQLSTATE. */
PGresult *db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
                  struct fb_error *err);
/* As db_exec, for statements whose result is not needed. Returns 0 or -1. */
int db_run(PGconn *conn, const char *sql, int nparams, const char *const *params,
           struct fb_error *err);
/* Runs a parameterless multi-statement script (migrations, bootstrap). Returns 0 or -1. */
int db_run_script(PGconn *conn, const char *sql, struct fb_error *err);
/* Sends len bytes in memory through "COPY ... FROM STDIN" (copy_sql). Returns 0 or -1; the
 * server's error names the line ("COPY x, line 5"). */
int db_copy_in_buf(PGconn *conn, const char *copy_sql, const char *buf, size_t len,
                   struct fb_error *err);
/* Fills err from a failed result (res may be NULL: the connection's message is used). */
void db_error_fill(PGconn *conn, const PGresult *res, struct fb_error *err);
enum fb_errkind db_kind_for_sqlstate(const char *sqlstate);
/* Given a connection attempt c that failed because the server is starting up or recovering
 * (or a standby without hot_standby): tries again with again(arg) every 0.2 s for at most
 * FMTBANK_RECOVERY_WAIT seconds (default 30). Returns the last connection (c itself when it did not
 * fail that way), or NULL with err set (FB_ERR_DBUNAVAIL, saying so) when the server still was
 * not accepting connections. */
typedef PGconn *(*db_connect_fn)(const void *arg);
PGconn *db_recovery_retry(PGconn *c, db_connect_fn again, const void *arg, struct fb_error *err);
/* Value of row 0 column 0 as a malloc'd string, or NULL when there is no row or it is null. */
char *db_scalar(PGconn *conn, const char *sql, int nparams, const char *const *params,
                struct fb_error *err);

#endif
