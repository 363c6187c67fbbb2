/* conn.c: the one place fmtbank connects to PostgreSQL. */
#include "db/db.h"
#include "db/embedded.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

bool
db_uses_embedded(const char *dsn)
{
    static const char *const server_vars[] = {"FMTBANK_DSN", "PGHOST",    "PGHOSTADDR",
                                              "PGPORT",      "PGSERVICE", "PGDATABASE"};
    if (!str_empty(dsn))
        return false;
    for (size_t i = 0; i < sizeof(server_vars) / sizeof(server_vars[0]); i++)
        if (!str_empty(getenv(server_vars[i])))
            return false;
    return true;
}

/* The client's time zone name (TZ, else /etc/localtime's target, else /etc/timezone), so that a
 * timestamp typed without an offset means local time, as product.md says. NULL if unknown. */
static const char *
local_timezone(char *buf, size_t size)
{
    const char *tz = getenv("TZ");
    if (!str_empty(tz)) {
        snprintf(buf, size, "%s", tz[0] == ':' ? tz + 1 : tz);
    } else {
        char link[512];
        ssize_t n = readlink("/etc/localtime", link, sizeof(link) - 1);
        const char *zi = NULL;
        if (n > 0) {
            link[n] = '\0';
            zi = strstr(link, "zoneinfo/");
        }
        if (zi) {
            snprintf(buf, size, "%s", zi + strlen("zoneinfo/"));
        } else {
            FILE *f = fopen("/etc/timezone", "r");
            if (!f || !fgets(buf, (int)size, f))
                buf[0] = '\0';
            if (f)
                fclose(f);
            buf[strcspn(buf, "\n")] = '\0';
        }
    }
    if (buf[0] == '\0' || buf[0] == '/' || strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != strlen(buf))
        return NULL;
    return buf;
}

static PGconn *
try_connect(const char *dbname, const char *user)
{
    char tzbuf[128], options[256];
    const char *tz = local_timezone(tzbuf, sizeof(tzbuf));
    if (tz)
        snprintf(options, sizeof(options), "-c search_path=pg_catalog -c client_min_messages=warning -c TimeZone=%s", tz);
    else
        snprintf(options, sizeof(options), "-c search_path=pg_catalog -c client_min_messages=warning");
    /* search_path is set at connection time so no unqualified name can be hijacked. */
    const char *keys[] = {"dbname", "user", "fallback_application_name", "options", NULL};
    /* A NULL user makes libpq fall back to PGUSER and then the OS user name. */
    const char *vals[] = {dbname, user, "fmtbank", options, NULL};
    return PQconnectdbParams(keys, vals, 1);
}

/* The server is there but not accepting connections yet: starting up, recovering after a crash,
 * or a standby without hot_standby. */
static bool
recovering(const PGconn *c)
{
    const char *msg = c ? PQerrorMessage(c) : "";
    return strstr(msg, "the database system is starting up") ||
           strstr(msg, "the database system is in recovery mode") ||
           strstr(msg, "the database system is not yet accepting connections") ||
           strstr(msg, "the database system is not accepting connections");
}

/* Seconds to wait for a server that is starting up or recovering: FMTBANK_RECOVERY_WAIT (0 to 3600),
 * 30 by default. */
static double
recovery_wait(void)
{
    const char *v = getenv("FMTBANK_RECOVERY_WAIT");
    if (str_empty(v))
        return 30;
    char *end;
    double w = strtod(v, &end);
    return *end == '\0' && w >= 0 && w <= 3600 ? w : 30;
}

static double
mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

PGconn *
db_recovery_retry(PGconn *c, db_connect_fn again, const void *arg, struct fb_error *err)
{
    if (!c || PQstatus(c) == CONNECTION_OK || !recovering(c))
        return c;
    double wait = recovery_wait(), until = mono_now() + wait;
    while (PQstatus(c) != CONNECTION_OK && recovering(c) && mono_now() < until) {
        PQfinish(c);
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
        c = again(arg);
        if (!c)
            return NULL;
    }
    if (PQstatus(c) == CONNECTION_OK || !recovering(c))
        return c;
    char *msg = xstrdup(PQerrorMessage(c));
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    fb_error_set(err, FB_ERR_DBUNAVAIL,
                 "the database server is starting up or recovering and did not accept"
                 " connections within %g s",
                 wait);
    fb_error_detail(err, "%s", msg);
    fb_error_hint(err, "Try again when it has finished (FMTBANK_RECOVERY_WAIT sets how long to"
                  " wait, in seconds).");
    free(msg);
    PQfinish(c);
    return NULL;
}

static bool last_recovering; /* the last failed connection met a recovering server */

struct connect_args {
    const char *dbname, *user;
};

static PGconn *
connect_again(const void *arg)
{
    const struct connect_args *a = arg;
    return try_connect(a->dbname, a->user);
}

static PGconn *
connect_checked(const char *dbname, const char *user, struct fb_error *err)
{
    struct connect_args args = {dbname, user};
    last_recovering = false;
    PGconn *first = try_connect(dbname, user);
    PGconn *c = first ? db_recovery_retry(first, connect_again, &args, err) : NULL;
    if (first && !c) {
        last_recovering = true;
        return NULL;
    }
    if (c && PQstatus(c) == CONNECTION_OK)
        return c;
    db_error_fill(c, NULL, err);
    /* A role that does not exist, or a login refused, is a permission matter, not an outage. */
    const char *msg = c ? PQerrorMessage(c) : "";
    /* The server does not tell a missing role from a wrong password (scram): both name
     * "user add", which is how an administrator makes someone a user. */
    const char *who = c && PQuser(c) ? PQuser(c) : "NAME";
    if (strstr(msg, "does not exist") && strstr(msg, "role")) {
        err->kind = FB_ERR_PERMISSION;
        fb_error_hint(err, "\"%s\" is not a fmtbank user: an administrator adds it with "
                           "\"fmtbank --user ADMIN user add %s --role ROLE\".", who, who);
    } else if (strstr(msg, "not permitted to log in") || strstr(msg, "authentication failed") ||
               strstr(msg, "no password supplied") || strstr(msg, "failed logins")) {
        err->kind = FB_ERR_PERMISSION;
        if (strstr(msg, "no password supplied"))
            fb_error_hint(err, "Give the password in a PGPASSFILE (mode 0600) or name the acting "
                               "user with --user; it defaults to PGUSER, else your OS user name. "
                               "A new user is added by an administrator with \"fmtbank --user "
                               "ADMIN user add %s --role ROLE\".", who);
        else if (strstr(msg, "authentication failed"))
            fb_error_hint(err, "Check the password for \"%s\" (PGPASSFILE); if \"%s\" is not a "
                               "fmtbank user yet, an administrator adds it with \"fmtbank --user "
                               "ADMIN user add %s --role ROLE\".", who, who, who);
    }
    else
        err->kind = FB_ERR_DBUNAVAIL;
    PQfinish(c);
    return NULL;
}

static PGconn *
connect_embedded(const char *user, bool start, struct fb_error *err)
{
    struct embedded e;
    if (embedded_resolve(&e, err) < 0)
        return NULL;
    /* The acting role is the one asked for, else libpq's default (PGUSER, then the OS user
     * name): never the superuser implicitly. */
    char *ci = embedded_conninfo(&e, str_empty(user) ? NULL : user);
    PGconn *c = NULL;
    /* A person's own OS account (group fmtbank) cannot read the data directory's pid file but
     * can reach the socket: try it whenever it exists. */
    char *sock = xasprintf("%s/.s.PGSQL.5432", e.home);
    if (embedded_pid(&e) != 0 || access(sock, F_OK) == 0)
        c = connect_checked(ci, NULL, err);
    free(sock);
    if (!c && !start && embedded_pid(&e) == 0)
        fb_error_set(err, FB_ERR_DBUNAVAIL, "the embedded instance in \"%s\" is not running",
                     e.home);
    else if (!c && start && !last_recovering &&
             (embedded_pid(&e) == 0 || err->kind == FB_ERR_DBUNAVAIL)) {
        fb_error_clear(err);
        if (embedded_start(&e, err) == 0)
            c = connect_checked(ci, NULL, err);
    }
    free(ci);
    embedded_free(&e);
    return c;
}

PGconn *
db_connect(const char *dsn, const char *user, struct fb_error *err)
{
    if (db_uses_embedded(dsn))
        return connect_embedded(user, true, err);
    const char *target = !str_empty(dsn) ? dsn : getenv("FMTBANK_DSN");
    /* An empty dbname lets libpq take everything from the PG* environment. */
    return connect_checked(str_empty(target) ? "" : target, user, err);
}

PGconn *
db_connect_running(const char *dsn, const char *user, struct fb_error *err)
{
    if (db_uses_embedded(dsn))
        return connect_embedded(user, false, err);
    return db_connect(dsn, user, err);
}
