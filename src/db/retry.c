/* retry.c: bounded, logged retries of transactions that lost to a concurrent writer. */
#include "db/retry.h"
#include "db/db.h"
#include "common/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool
db_retry_sqlstate(const char *sqlstate)
{
    return sqlstate && (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0);
}

unsigned
db_retry_delay_ms(int attempt, unsigned rnd)
{
    unsigned base = 20;
    for (int i = 1; i < attempt && base < 400; i++)
        base *= 2;
    if (base > 400)
        base = 400;
    return base + rnd % (base + 1);
}

static unsigned
jitter(void)
{
    static uint32_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        state = (uint32_t)ts.tv_nsec ^ ((uint32_t)getpid() << 16) ^ (uint32_t)ts.tv_sec;
        if (state == 0)
            state = 1;
    }
    state ^= state << 13; /* xorshift32 */
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

bool
db_retry_next(PGconn *conn, const char *what, int attempt, struct fb_error *err)
{
    if (!db_retry_sqlstate(err->sqlstate))
        return false;
    if (attempt >= DB_RETRY_ATTEMPTS) {
        fb_error_detail(err, "Tried %d times; each time a concurrent writer conflicted. Nothing was"
                             " changed: try again.", attempt);
        return false;
    }
    if (PQstatus(conn) != CONNECTION_OK)
        return false;
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    unsigned ms = db_retry_delay_ms(attempt, jitter());
    log_msg(LOG_WARNING, "%s: %s (SQLSTATE %s); retrying in %u ms (attempt %d of %d)", what,
            err->message ? err->message : "conflict", err->sqlstate, ms, attempt + 1,
            DB_RETRY_ATTEMPTS);
    fb_error_clear(err);
    sleep_ms(ms);
    return true;
}

int
db_tx_retry(PGconn *conn, const char *what, db_tx_body body, void *arg, struct fb_error *err)
{
    for (int attempt = 1;; attempt++) {
        if (db_run(conn, "BEGIN", 0, NULL, err) == 0 && body(conn, arg, err) == 0 &&
            db_run(conn, "COMMIT", 0, NULL, err) == 0)
            return 0;
        if (!db_retry_next(conn, what, attempt, err)) {
            if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
                PQclear(PQexec(conn, "ROLLBACK"));
            return -1;
        }
    }
}

PGresult *
db_exec_retry(PGconn *conn, const char *what, const char *sql, int nparams,
              const char *const *params, struct fb_error *err)
{
    for (int attempt = 1;; attempt++) {
        PGresult *r = db_exec(conn, sql, nparams, params, err);
        if (r || !db_retry_next(conn, what, attempt, err))
            return r;
    }
}
