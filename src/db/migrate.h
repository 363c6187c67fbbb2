/* migrate.h: numbered schema migrations (schema/NNN_name.sql: tables, constraints, data), applied in
 * order, each in its own transaction under an advisory lock, recorded with a SHA-256 checksum;
 * applied files never change. Then the code set (schema/code/NNN_name.sql: functions, views and
 * their grants), re-applied as one transaction whenever its checksum differs from the recorded one. */
#ifndef FMTBANK_MIGRATE_H
#define FMTBANK_MIGRATE_H
#include "common/error.h"
#include <libpq-fe.h>
#include <stdio.h>

struct migration {
    int version;
    char *name; /* file name */
    char *path;
};

struct migration_list {
    struct migration *items;
    size_t n;
};

int migrate_list(const char *dir, struct migration_list *out, struct fb_error *err);
void migrate_list_free(struct migration_list *l);
/* Applies what is missing; reports each applied file on progress. *applied = how many. */
int migrate_apply(PGconn *conn, const char *dir, FILE *progress, int *applied,
                  struct fb_error *err);
/* The columns a connection reads to learn the database's schema version and code-set checksum (one
 * round trip with whatever else the caller selects). */
#define MIGRATE_STATE_COLUMNS \
    "(SELECT max(version) FROM fmtbank.schema_migration)," \
    " (SELECT sha256 FROM fmtbank.schema_code ORDER BY id DESC LIMIT 1)"
/* Fails with a clear message (exit 7) unless the database is at the schema version and code set
 * this binary was built with (FMTBANK_SCHEMA_VERSION, FMTBANK_CODE_SHA256, compiled in). */
int migrate_check_current(const char *db_version, const char *db_code, struct fb_error *err);
/* migrate_check_current on the first two columns of a MIGRATE_STATE_COLUMNS result. */
int migrate_check_row(const PGresult *r, struct fb_error *err);
/* After the MIGRATE_STATE_COLUMNS query failed with err: says "not initialised" or "upgrade" when
 * the tables are missing (a database older than the code set has no schema_code). Returns -1. */
int migrate_state_failed(PGconn *conn, struct fb_error *err);
/* Runs a whole SQL file (demo data) in one transaction. */
int migrate_run_file(PGconn *conn, const char *path, struct fb_error *err);

#endif
