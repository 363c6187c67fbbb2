/* conn.c: the one place fmtbank connects to PostgreSQL. */
#include "db/db.h"
#include "db/embedded.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

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

static PGconn *
connect_checked(const char *dbname, const char *user, struct fb_error *err)
{
    PGconn *c = try_connect(dbname, user);
    if (c && PQstatus(c) == CONNECTION_OK)
        return c;
    db_error_fill(c, NULL, err);
    /* A role that does not exist, or a login refused, is a permission matter, not an outage. */
    const char *msg = c ? PQerrorMessage(c) : "";
    if (strstr(msg, "does not exist") && strstr(msg, "role"))
        err->kind = FB_ERR_PERMISSION;
    else if (strstr(msg, "not permitted to log in") || strstr(msg, "authentication failed") ||
             strstr(msg, "no password supplied") || strstr(msg, "failed logins")) {
        err->kind = FB_ERR_PERMISSION;
        if (strstr(msg, "no password supplied"))
            fb_error_hint(err, "Give the password in a PGPASSFILE (mode 0600) or name the acting "
                               "user with --user; it defaults to PGUSER, else your OS user name.");
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
    else if (!c && start && (embedded_pid(&e) == 0 || err->kind == FB_ERR_DBUNAVAIL)) {
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
