/* migrate.h: numbered schema migrations (schema/NNN_name.sql), applied in order, each in its own
 * transaction under an advisory lock, recorded with a SHA-256 checksum; applied files never change. */
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
/* Fails with a clear message unless the database is at the version the schema directory has. */
int migrate_check_current(PGconn *conn, const char *db_version, struct fb_error *err);
/* Runs a whole SQL file (demo data) in one transaction. */
int migrate_run_file(PGconn *conn, const char *path, struct fb_error *err);

#endif
