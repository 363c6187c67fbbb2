/* embedded.h: the PostgreSQL instance fmtbank creates and runs under $FMTBANK_HOME when no server
 * is configured (Unix socket in that directory only, no TCP; fsync on). */
#ifndef FMTBANK_EMBEDDED_H
#define FMTBANK_EMBEDDED_H
#include "common/error.h"
#include <stdbool.h>
#include <sys/types.h>

#define EMBEDDED_SUPERUSER "postgres"
#define EMBEDDED_DBNAME "fmtbank"
#define EMBEDDED_SYSTEM_USER "fmtbank"
#define EMBEDDED_ROOT_HOME "/var/lib/fmtbank"

struct embedded {
    char *home;     /* $FMTBANK_HOME: socket directory, lock file, log */
    char *datadir;  /* home/data */
    char *logfile;  /* home/postgres.log */
    char *lockfile; /* home/fmtbank.lock: serialises init, start and stop */
    bool drop;      /* invoked as root: the server runs as EMBEDDED_SYSTEM_USER */
    bool group_ok;  /* home and socket belong to the group "fmtbank" (persons' OS accounts) */
    uid_t uid;
    gid_t gid;
};

/* Resolves the paths; changes nothing on disk. */
int embedded_resolve(struct embedded *e, struct fb_error *err);
void embedded_free(struct embedded *e);
/* Creates (initdb) and starts the instance if needed; safe when several processes race. */
int embedded_start(struct embedded *e, struct fb_error *err);
int embedded_stop(struct embedded *e, bool *was_running, struct fb_error *err);
/* "fmtbank init" on a running instance whose installed server module (home/lib) is not this
 * fmtbank's: restarts it, which installs and preloads the new module (a module cannot be loaded
 * twice into a server that preloaded the old one), so that migrations may create its functions.
 * *restarted says whether it did. */
int embedded_refresh_module(struct embedded *e, bool *restarted, struct fb_error *err);
/* Writes pg_hba.conf, pg_ident.conf and fmtbank_auth.conf (scram for persons, peer for the service
 * account and the configured administrator) and installs the server module; takes effect at the
 * next start or reload. */
int embedded_write_auth(const struct embedded *e, struct fb_error *err);
/* Records the administrator OS account allowed peer login as role (home/fmtbank.conf) and
 * rewrites the authentication files. */
int embedded_set_admin(struct embedded *e, const char *os_user, const char *role,
                       struct fb_error *err);
/* Server pid when running, else 0. */
long embedded_pid(const struct embedded *e);
bool embedded_initialised(const struct embedded *e);
/* libpq keyword=value string / URI for user (NULL: the instance superuser). Caller frees. */
char *embedded_conninfo(const struct embedded *e, const char *user);
char *embedded_uri(const struct embedded *e, const char *user);

/* "fmtbank backup restore": stops the instance and runs fn under the home lock, so that no
 * command starts it (nor creates a new one) until fn returns. */
int embedded_while_stopped(struct embedded *e,
                           int (*fn)(struct embedded *e, void *arg, struct fb_error *err),
                           void *arg, struct fb_error *err);

#endif
