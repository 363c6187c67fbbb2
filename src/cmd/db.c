/* db.c: "fmtbank db start|stop|status|psql|url", managing the embedded instance. */
#include "cmd/cmd.h"
#include "db/embedded.h"
#include "db/standby.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
cmd_db_start(struct cmd_ctx *ctx)
{
    struct embedded e;
    if (embedded_resolve(&e, &ctx->err) < 0)
        return cmd_fail(ctx);
    int rc = embedded_start(&e, &ctx->err);
    if (rc == 0)
        fprintf(stderr, "embedded instance running in %s (pid %ld)\n", e.home, embedded_pid(&e));
    embedded_free(&e);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_db_stop(struct cmd_ctx *ctx)
{
    struct embedded e;
    bool was_running;
    if (embedded_resolve(&e, &ctx->err) < 0)
        return cmd_fail(ctx);
    int rc = embedded_stop(&e, &was_running, &ctx->err);
    if (rc == 0)
        fprintf(stderr, "embedded instance in %s %s\n", e.home,
                was_running ? "stopped" : "was not running");
    embedded_free(&e);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

static int
cmd_db_status(struct cmd_ctx *ctx)
{
    struct embedded e;
    if (embedded_resolve(&e, &ctx->err) < 0)
        return cmd_fail(ctx);
    long pid = embedded_pid(&e);
    const char *state = pid ? "running" : embedded_initialised(&e) ? "stopped" : "not created";
    printf("home     %s\nstate    %s\n", e.home, state);
    if (pid)
        printf("pid      %ld\n", pid);
    /* a standby has standby.signal until it is promoted (not shown when the data directory is
     * not readable: a person's own OS account) */
    char *signal = xasprintf("%s/standby.signal", e.datadir);
    if (embedded_initialised(&e))
        printf("role     %s\n", access(signal, F_OK) == 0 ? "standby (db promote makes it a primary)"
                                                         : "primary");
    free(signal);
    printf("log      %s\n", e.logfile);
    embedded_free(&e);
    return pid ? 0 : FB_ERR_DBUNAVAIL;
}

static int
cmd_db_url(struct cmd_ctx *ctx)
{
    struct embedded e;
    if (embedded_resolve(&e, &ctx->err) < 0)
        return cmd_fail(ctx);
    char *uri = embedded_uri(&e, ctx->user);
    printf("%s\n", uri);
    free(uri);
    embedded_free(&e);
    return 0;
}

static int
cmd_db_psql(struct cmd_ctx *ctx)
{
    struct embedded e;
    if (embedded_resolve(&e, &ctx->err) < 0 || embedded_start(&e, &ctx->err) < 0)
        return cmd_fail(ctx);
    char *ci = embedded_conninfo(&e, ctx->user ? ctx->user : EMBEDDED_SUPERUSER);
    const char **pargv = xcalloc(ctx->nargs + 4, sizeof(char *));
    int n = 0;
    pargv[n++] = "psql";
    pargv[n++] = "-d";
    pargv[n++] = ci;
    for (size_t i = 0; i < ctx->nargs; i++)
        pargv[n++] = ctx->args[i];
    fflush(stdout);
    execvp("psql", (char *const *)pargv);
    fb_error_set(&ctx->err, FB_ERR_INTERNAL, "could not run psql");
    fb_error_hint(&ctx->err, "Install the postgresql-client package.");
    free(pargv);
    free(ci);
    embedded_free(&e);
    return FB_ERR_INTERNAL;
}

static int
cmd_db_standby_create(struct cmd_ctx *ctx)
{
    return standby_create(cmd_opt(ctx, "from"), cmd_opt(ctx, "home"), &ctx->err) == 0
               ? 0
               : cmd_fail(ctx);
}

static int
cmd_db_promote(struct cmd_ctx *ctx)
{
    struct embedded e;
    if (embedded_resolve(&e, &ctx->err) < 0)
        return cmd_fail(ctx);
    int rc = standby_promote(&e, &ctx->err);
    embedded_free(&e);
    return rc == 0 ? 0 : cmd_fail(ctx);
}

const struct cmd_def cmd_defs_db[] = {
    {"db start", cmd_db_start, 0, {0}, NULL, "create (first time) and start the embedded instance",
     "The embedded PostgreSQL instance lives in $FMTBANK_HOME (default\n"
     "${XDG_DATA_HOME:-~/.local/share}/fmtbank; /var/lib/fmtbank when run as root, where the\n"
     "server runs as the system user \"fmtbank\"). It listens only on a Unix socket in that\n"
     "directory. Starting it twice at once is safe; other commands start it on demand.\n"},
    {"db stop", cmd_db_stop, 0, {0}, NULL, "stop the embedded instance", NULL},
    {"db status", cmd_db_status, 0, {0}, NULL,
     "show whether the embedded instance runs (exit 0 running, 7 otherwise)",
     "Also its role: primary, or a standby (fmtbank db standby create) until promoted.\n"},
    {"db psql", cmd_db_psql, CMD_RAW_ARGS, {"[PSQL ARGS...]", 0, OPT_ANY, NULL}, NULL,
     "open psql on the embedded instance as its superuser (further arguments go to psql)",
     "Example: fmtbank db psql -c 'select 1'\n"
     "With --user ROLE (before \"db\"), psql connects as that role instead.\n"},
    {"db url", cmd_db_url, 0, {0}, NULL, "print the libpq connection URI of the embedded instance",
     NULL},
    {"db standby create", cmd_db_standby_create, 0, {0},
     (const struct opt_spec[]){
         {"from", 0, OPT_STRING, "CONNINFO", .help = "the primary (libpq connection string, e.g. "
          "\"fmtbank db url\" of its home)", .flags = OPT_REQUIRED},
         {"home", 0, OPT_STRING, "DIR", .help = "the standby's FMTBANK_HOME (new or empty)",
          .flags = OPT_REQUIRED},
         {0}},
     "copy a primary into a new home and run it as a streaming hot standby",
     "pg_basebackup -R copies the primary into DIR/data (standby.signal, primary_conninfo), then\n"
     "the standby starts as the embedded instance of DIR: its own Unix socket directory (DIR),\n"
     "log and lock. Every read-only command and report works on it (FMTBANK_HOME=DIR, or\n"
     "--db \"host=DIR dbname=fmtbank\"); a change fails with \"read-only standby\" (exit 7).\n"
     "Failed logins on a standby are not counted there: the counts are the primary's.\n"
     "A standby on another machine connects over TCP with TLS and scram (README \"Standby\n"
     "and failover\").\n"},
    {"db promote", cmd_db_promote, 0, {0}, NULL,
     "make the standby in $FMTBANK_HOME a primary (refused while its primary answers)",
     "The primary is the standby's primary_conninfo; while it still answers, promotion is\n"
     "refused (exit 5): two primaries would split the records. Stop the old primary first.\n"
     "Clients and fmtbankd with a multi-host connection string\n"
     "(\"host=/a,/b dbname=fmtbank target_session_attrs=read-write\") then follow the new primary.\n"
     "The old primary never comes back as a primary: make it a standby of the new one\n"
     "(db standby create into a fresh home).\n"},
    {0},
};
