/* retry.h: transactions retried when a concurrent writer made them fail (SQLSTATE 40001
 * serialization_failure, 40P01 deadlock_detected): bounded attempts with a small jittered
 * backoff, each retry logged. What still fails is reported as FB_ERR_TRANSIENT (exit 8,
 * "temporary conflict"), never as bad input or a rule's refusal. */
#ifndef FMTBANK_RETRY_H
#define FMTBANK_RETRY_H
#include "common/error.h"
#include <libpq-fe.h>
#include <stdbool.h>

#define DB_RETRY_ATTEMPTS 5

/* Pure parts (unit-tested). True for the SQLSTATEs worth running the transaction again for. */
bool db_retry_sqlstate(const char *sqlstate);
/* Milliseconds to wait before attempt number attempt + 1 (attempt >= 1 has just failed):
 * 20 ms doubling per attempt, capped at 400 ms, plus a jitter of up to as much again taken from
 * rnd, so that the writers that collided do not collide again. */
unsigned db_retry_delay_ms(int attempt, unsigned rnd);

/* After a failed attempt (err filled, the caller's transaction not yet rolled back): when err is
 * retryable, attempt < DB_RETRY_ATTEMPTS and the session is still good, rolls back, logs "what"
 * and the retry, waits, clears err and returns true. Otherwise returns false and leaves err (and
 * the transaction) as they are; when the attempts are used up, err's detail says so. */
bool db_retry_next(PGconn *conn, const char *what, int attempt, struct fb_error *err);

/* One transaction body: runs inside BEGIN .. COMMIT and must be repeatable (rewind its input).
 * Returns 0, or -1 with err set. */
typedef int (*db_tx_body)(PGconn *conn, void *arg, struct fb_error *err);
/* BEGIN; body; COMMIT, retried as db_retry_next says; rolls back on failure. Returns 0 or -1. */
int db_tx_retry(PGconn *conn, const char *what, db_tx_body body, void *arg, struct fb_error *err);
/* One autocommit statement (no transaction open), retried likewise. Result as db_exec. */
PGresult *db_exec_retry(PGconn *conn, const char *what, const char *sql, int nparams,
                        const char *const *params, struct fb_error *err);

#endif
