/* init.c: "fmtbank init" (schema migrations, demo data) and "fmtbank status". */
#include "cmd/cmd.h"
#include "db/db.h"
#include "db/embedded.h"
#include "db/migrate.h"
#include "common/paths.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>

static int
cmd_init(struct cmd_ctx *ctx)
{
    bool demo = cmd_flag(ctx, "demo");
    const char *admin_os = cmd_opt(ctx, "admin-os-user"), *admin_role = cmd_opt(ctx, "admin-role");
    if (admin_os && !db_uses_embedded(ctx->dsn))
        return cmd_usage_error(ctx, "--admin-os-user applies to the embedded instance only");
    if (admin_os) {
        struct embedded e;
        int arc = embedded_resolve(&e, &ctx->err);
        if (arc == 0)
            arc = embedded_set_admin(&e, admin_os, admin_role, &ctx->err);
        embedded_free(&e);
        if (arc == 0 && db_run(ctx->conn, "SELECT pg_catalog.pg_reload_conf()", 0, NULL,
                               &ctx->err) < 0)
            arc = -1;
        if (arc < 0)
            return cmd_fail(ctx);
        fprintf(stderr, "OS user %s may log in as %s without a password (peer)\n", admin_os,
                admin_role);
    }

    char *dir = paths_data_dir("schema");
    int applied = 0;
    int rc = migrate_apply(ctx->conn, dir, stderr, &applied, &ctx->err);
    if (rc == 0 && demo) {
        char *path = xasprintf("%s/demo.sql", dir);
        rc = migrate_run_file(ctx->conn, path, &ctx->err);
        free(path);
    }
    free(dir);
    if (rc < 0)
        return cmd_fail(ctx);
    char *v = db_scalar(ctx->conn, "SELECT max(version) FROM fmtbank.schema_migration", 0, NULL,
                        &ctx->err);
    fprintf(stderr, "schema at version %s (%d migration%s applied now)%s\n", v ? v : "0", applied,
            applied == 1 ? "" : "s", demo ? ", demonstration data loaded" : "");
    free(v);
    return 0;
}

static int
cmd_status(struct cmd_ctx *ctx)
{
    /* counts: a JSON array of {entity, state, count}; in a table, "aliquot quarantine: 5, ..." */
#define STATUS_SQL(COUNTS)                                                                         \
        "SELECT pg_catalog.current_database() AS database,"                                        \
        " pg_catalog.current_setting('server_version') AS server_version,"                         \
        " CASE WHEN pg_catalog.pg_is_in_recovery() THEN 'standby (read-only)' ELSE 'primary'"     \
        " END AS server_role,"                                                                     \
        " session_user AS acting_user,"                                                            \
        " (SELECT max(version) FROM fmtbank.schema_migration) AS schema_version,"                  \
        " coalesce((SELECT pg_catalog.format('%s pid %s, last beat %s, last sweep %s, errors %s'," \
        "           host, pid, beat_at, coalesce(last_sweep::text, 'never'), errors)"              \
        "           FROM fmtbank.daemon_heartbeat ORDER BY active DESC, beat_at DESC LIMIT 1),"    \
        "          'no daemon has run') AS daemon,"                                                \
        " (SELECT " COUNTS " FROM fmtbank.status_counts) AS counts"
    return cmd_query_noargs(
        ctx, OUT_OBJECT,
        ctx->format == OUT_JSON
            ? STATUS_SQL("pg_catalog.json_agg(pg_catalog.json_build_object('entity', entity,"
                         " 'state', state, 'count', n) ORDER BY entity, state)")
            : STATUS_SQL("pg_catalog.string_agg(pg_catalog.format('%s %s: %s', entity, state, n),"
                         " ', ' ORDER BY entity, state)"));
#undef STATUS_SQL
}

const struct cmd_def cmd_defs_init[] = {
    {"init", cmd_init, CMD_DB_RAW, {0},
     (const struct opt_spec[]){
         {"demo", 0, OPT_FLAG, NULL,
          .help = "also load demonstration data (users alice, quinn, audrey, adam)"},
         {"admin-os-user", 0, OPT_STRING, "U",
          .help = "the one OS account that logs in as role R by peer (stored in "
                  "FMTBANK_HOME/fmtbank.conf); every other person uses a password",
          .with = "admin-role"},
         {"admin-role", 0, OPT_STRING, "R", .help = "the role of --admin-os-user",
          .with = "admin-os-user"},
         {0}},
     "create or upgrade the schema and load the default catalog and rules (idempotent)",
     "Applies schema/NNN_*.sql in order, each in its own transaction under an advisory lock,\n"
     "recording a SHA-256 of each; refuses if an applied file has changed. Then applies the\n"
     "code set schema/code/NNN_*.sql (functions, views, grants) in one transaction when its\n"
     "checksum differs from the recorded one. Needs a superuser\n"
     "(on the embedded instance the service account logs in as one by peer).\n"},
    {"status", cmd_status, CMD_DB, {0}, NULL,
     "database, schema version, daemon heartbeat and counts by state",
     "server_role says whether the server is the primary or a read-only standby.\n"},
    {0},
};
