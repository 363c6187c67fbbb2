/* migrate.c: apply schema/NNN_*.sql in order under pg_advisory_lock, with checksums; then the code
 * set schema/code/NNN_*.sql (functions, views, grants) as one unit whenever its checksum changed. */
#include "db/migrate.h"
#include "db/db.h"
#include "common/file.h"
#include "common/paths.h"
#include "common/sha256.h"
#include "common/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATE_LOCK_SQL "SELECT pg_catalog.pg_advisory_lock(7064372)"
#define MIGRATE_UNLOCK_SQL "SELECT pg_catalog.pg_advisory_unlock(7064372)"

/* Run at the end of every migration and of the code set, as the superuser applying it
 * (issue 15; schema/060_owner_stage.sql creates the role and schema fmtbank_stage). Once both
 * exist:
 *  - every table, view, sequence, function and type of schemas fmtbank and fmtbank_stage (but
 *    the extension's own objects) is reassigned to it, so no SECURITY DEFINER function runs as a
 *    superuser;
 *  - every function there whose search_path does not already start with pg_catalog and end with
 *    pg_temp gets "pg_catalog, ..., pg_temp": pg_temp is searched last for relations and types,
 *    and never for functions and operators. SQL-standard bodies (BEGIN ATOMIC / RETURN) are bound
 *    when created and keep no SET clause so the planner can inline them, and so do the C
 *    functions declared IMMUTABLE or STABLE and not SECURITY DEFINER (a computation on the
 *    arguments, no name looked up; a C function that runs SQL declares its own SET, as 190's
 *    audit_chain_raw; a SET clause saves and restores the settings on every call, and
 *    fmtbank.hash_chain_step_raw was called once per audited row: 0.2-0.3 s per 100,000, as
 *    are now audit_chain_step_raw and row_jsonb_raw, 340);
 *  - the owner may execute the pgcrypto functions installed in schema fmtbank. */
#define OWNERSHIP_POLICY_SQL \
    "DO $owner$ DECLARE r record; sp text; parts text[]; BEGIN" \
    " IF pg_catalog.to_regnamespace('fmtbank_stage') IS NULL OR NOT EXISTS (SELECT 1" \
    "    FROM pg_catalog.pg_roles WHERE rolname = 'fmtbank_owner') THEN RETURN; END IF;" \
    " FOR r IN SELECT c.oid::pg_catalog.regclass AS obj, c.relkind FROM pg_catalog.pg_class c" \
    "   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace" \
    "   WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND c.relkind IN ('r', 'p', 'v', 'm', 'f')" \
    "     AND c.relowner <> 'fmtbank_owner'::pg_catalog.regrole" \
    "     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid =" \
    "       'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')" \
    "   ORDER BY c.oid LOOP" \
    "  EXECUTE pg_catalog.format('ALTER %s %s OWNER TO fmtbank_owner', CASE r.relkind" \
    "   WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'" \
    "   ELSE 'TABLE' END, r.obj);" \
    " END LOOP;" \
    " FOR r IN SELECT c.oid::pg_catalog.regclass AS obj FROM pg_catalog.pg_class c" \
    "   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace" \
    "   WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND c.relkind = 'S'" \
    "     AND c.relowner <> 'fmtbank_owner'::pg_catalog.regrole" \
    "     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid =" \
    "       'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid" \
    "       AND d.deptype IN ('e', 'a', 'i')) LOOP" \
    "  EXECUTE pg_catalog.format('ALTER SEQUENCE %s OWNER TO fmtbank_owner', r.obj);" \
    " END LOOP;" \
    " FOR r IN SELECT t.oid::pg_catalog.regtype AS obj FROM pg_catalog.pg_type t" \
    "   JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace" \
    "   WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND t.typtype IN ('c', 'd', 'e', 'r')" \
    "     AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_catalog.pg_class c" \
    "                              WHERE c.oid = t.typrelid) = 'c')" \
    "     AND t.typowner <> 'fmtbank_owner'::pg_catalog.regrole" \
    "     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid =" \
    "       'pg_catalog.pg_type'::pg_catalog.regclass AND d.objid = t.oid AND d.deptype = 'e') LOOP" \
    "  EXECUTE pg_catalog.format('ALTER TYPE %s OWNER TO fmtbank_owner', r.obj);" \
    " END LOOP;" \
    " FOR r IN SELECT p.oid::pg_catalog.regprocedure AS obj, p.prokind, p.proowner," \
    "   p.proconfig, p.prosqlbody IS NOT NULL OR (p.provolatile IN ('i', 's') AND NOT p.prosecdef" \
    "     AND p.prolang = (SELECT l.oid FROM pg_catalog.pg_language l WHERE l.lanname = 'c'))" \
    "   AS no_set FROM pg_catalog.pg_proc p" \
    "   JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace" \
    "   WHERE n.nspname IN ('fmtbank', 'fmtbank_stage')" \
    "     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid =" \
    "       'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e')" \
    "   ORDER BY p.oid LOOP" \
    "  IF r.proowner <> 'fmtbank_owner'::pg_catalog.regrole THEN" \
    "   EXECUTE pg_catalog.format('ALTER %s %s OWNER TO fmtbank_owner', CASE r.prokind" \
    "    WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.obj);" \
    "  END IF;" \
    "  CONTINUE WHEN r.no_set OR r.prokind = 'a';" \
    "  sp := (SELECT pg_catalog.substr(c, 13) FROM pg_catalog.unnest(r.proconfig) c" \
    "         WHERE c LIKE 'search\\_path=%');" \
    "  parts := pg_catalog.array_remove(pg_catalog.array_remove(pg_catalog.regexp_split_to_array(" \
    "            pg_catalog.btrim(coalesce(sp, '')), '\\s*,\\s*'), ''), NULL);" \
    "  CONTINUE WHEN parts[1] = 'pg_catalog' AND parts[pg_catalog.cardinality(parts)] = 'pg_temp';" \
    "  parts := pg_catalog.array_remove(pg_catalog.array_remove(parts, 'pg_catalog'), 'pg_temp');" \
    "  EXECUTE pg_catalog.format('ALTER %s %s SET search_path = %s'," \
    "   CASE r.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, r.obj," \
    "   pg_catalog.array_to_string(ARRAY['pg_catalog'] || parts || ARRAY['pg_temp'], ', '));" \
    " END LOOP;" \
    " FOR r IN SELECT p.oid::pg_catalog.regprocedure AS obj FROM pg_catalog.pg_proc p" \
    "   JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace" \
    "   JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass" \
    "     AND d.objid = p.oid AND d.deptype = 'e'" \
    "   WHERE n.nspname = 'fmtbank' AND p.prokind = 'f'" \
    "     AND NOT pg_catalog.has_function_privilege('fmtbank_owner', p.oid, 'EXECUTE') LOOP" \
    "  EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO fmtbank_owner', r.obj);" \
    " END LOOP;" \
    " ALTER SCHEMA fmtbank_stage OWNER TO fmtbank_owner;" \
    " END $owner$"

static int
cmp_migration(const void *a, const void *b)
{
    const struct migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

static bool
is_migration_name(const char *n)
{
    size_t len = strlen(n);
    return len > 8 && isdigit((unsigned char)n[0]) && isdigit((unsigned char)n[1]) &&
           isdigit((unsigned char)n[2]) && n[3] == '_' && strcmp(n + len - 4, ".sql") == 0;
}

int
migrate_list(const char *dir, struct migration_list *out, struct fb_error *err)
{
    memset(out, 0, sizeof(*out));
    DIR *d = opendir(dir);
    if (!d) {
        fb_error_set(err, FB_ERR_INTERNAL, "could not open schema directory \"%s\": %s", dir,
                     strerror(errno));
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_migration_name(de->d_name))
            continue;
        out->items = xrealloc(out->items, (out->n + 1) * sizeof(struct migration));
        struct migration *m = &out->items[out->n++];
        m->version = atoi(de->d_name);
        m->name = xstrdup(de->d_name);
        m->path = xasprintf("%s/%s", dir, de->d_name);
    }
    closedir(d);
    qsort(out->items, out->n, sizeof(struct migration), cmp_migration);
    for (size_t i = 1; i < out->n; i++) {
        if (out->items[i].version == out->items[i - 1].version) {
            fb_error_set(err, FB_ERR_INTERNAL, "two migrations share version %03d: \"%s\", \"%s\"",
                         out->items[i].version, out->items[i - 1].name, out->items[i].name);
            migrate_list_free(out);
            return -1;
        }
    }
    return 0;
}

void
migrate_list_free(struct migration_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].name);
        free(l->items[i].path);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* A schema file, whole (a migration, a code file, demo data): an unreadable one is the
 * installation's fault, not the user's input (exit 1). */
static char *
read_file(const char *path, struct fb_error *err)
{
    char *buf = NULL;
    if (file_read_all(path, 0, 0, &buf, NULL, err) < 0) {
        err->kind = FB_ERR_INTERNAL;
        return NULL;
    }
    return buf;
}

static int
bootstrap(PGconn *conn, struct fb_error *err)
{
    return db_run_script(conn,
                  "CREATE SCHEMA IF NOT EXISTS fmtbank;"
                  "CREATE TABLE IF NOT EXISTS fmtbank.schema_migration ("
                  " version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"
                  " applied_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),"
                  " applied_by text NOT NULL DEFAULT session_user);"
                  "CREATE TABLE IF NOT EXISTS fmtbank.schema_code ("
                  " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                  " schema_version integer NOT NULL, sha256 text NOT NULL, files integer NOT NULL,"
                  " applied_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),"
                  " applied_by text NOT NULL DEFAULT session_user)",
                  err);
}

/* Applies one file in its own transaction, or checks its checksum when already applied. */
static int
apply_one(PGconn *conn, const struct migration *m, FILE *progress, int *applied,
          struct fb_error *err)
{
    char *sql = read_file(m->path, err);
    if (!sql)
        return -1;
    char version[16];
    snprintf(version, sizeof(version), "%d", m->version);
    const char *p[] = {version, sql, m->name};
    int rc = -1;
    char *stored = db_scalar(conn, "SELECT sha256 FROM fmtbank.schema_migration WHERE version = $1",
                             1, p, err);
    char *sum = db_scalar(conn, "SELECT pg_catalog.encode(pg_catalog.sha256("
                                "pg_catalog.convert_to($1, 'UTF8')), 'hex')",
                          1, p + 1, err);
    if (!sum)
        goto done;
    if (stored) {
        if (strcmp(stored, sum) != 0) {
            fb_error_set(err, FB_ERR_REFUSED, "applied migration \"%s\" has changed", m->name);
            fb_error_detail(err, "Recorded checksum %s, file now %s.", stored, sum);
            fb_error_hint(err, "Applied migrations never change: restore the file and add a new "
                               "migration that fixes forward.");
            goto done;
        }
        rc = 0;
        goto done;
    }
    if (db_run_script(conn, "BEGIN", err) < 0)
        goto done;
    if (db_run_script(conn, sql, err) < 0) {
        char *msg = xasprintf("migration \"%s\" failed: %s", m->name, err->message);
        free(err->message);
        err->message = msg;
        err->kind = FB_ERR_INTERNAL;
        PQclear(PQexec(conn, "ROLLBACK"));
        goto done;
    }
    const char *rec[] = {version, m->name, sum};
    if (db_run_script(conn, OWNERSHIP_POLICY_SQL, err) < 0 ||
        db_run(conn, "INSERT INTO fmtbank.schema_migration (version, name, sha256) "
                     "VALUES ($1, $2, $3)", 3, rec, err) < 0 ||
        db_run(conn, "COMMIT", 0, NULL, err) < 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        goto done;
    }
    (*applied)++;
    if (progress)
        fprintf(progress, "applied %s\n", m->name);
    rc = 0;
done:
    free(stored);
    free(sum);
    free(sql);
    return rc;
}

/* Before the code set: no application role keeps EXECUTE on any function or SELECT on any view,
 * so the grant lists of schema/code are the whole truth (a grant removed there is gone). */
#define CODE_ROLES \
    "fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin, fmtbank_daemon," \
    " fmtbank_site, fmtbank_unblinded"
#define CODE_RESET_SQL \
    "DO $reset$ DECLARE r record; BEGIN" \
    " FOR r IN SELECT p.oid::pg_catalog.regprocedure AS f FROM pg_catalog.pg_proc p" \
    "   JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace" \
    "   WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND p.prokind IN ('f', 'p')" \
    "     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid =" \
    "       'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e') LOOP" \
    "  EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC, " CODE_ROLES "', r.f);" \
    " END LOOP;" \
    " FOR r IN SELECT c.oid::pg_catalog.regclass AS v FROM pg_catalog.pg_class c" \
    "   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace" \
    "   WHERE n.nspname IN ('fmtbank', 'fmtbank_stage') AND c.relkind = 'v' LOOP" \
    "  EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC, " CODE_ROLES "', r.v);" \
    " END LOOP; END $reset$"

struct code_set {
    struct migration_list files;
    char **texts;
    char sha[SHA256_HEX_LEN + 1];
};

static void
code_set_free(struct code_set *cs)
{
    for (size_t i = 0; i < cs->files.n; i++)
        free(cs->texts[i]);
    free(cs->texts);
    migrate_list_free(&cs->files);
}

/* Reads schema/code/NNN_*.sql; the checksum covers each file's name and bytes, in order (the same
 * digest CMakeLists.txt compiles in as FMTBANK_CODE_SHA256). */
static int
code_set_read(const char *dir, struct code_set *cs, struct fb_error *err)
{
    memset(cs, 0, sizeof(*cs));
    char *code_dir = xasprintf("%s/code", dir);
    int rc = migrate_list(code_dir, &cs->files, err);
    free(code_dir);
    if (rc < 0)
        return -1;
    cs->texts = xcalloc(cs->files.n ? cs->files.n : 1, sizeof(char *));
    struct sha256_ctx h;
    sha256_init(&h);
    for (size_t i = 0; i < cs->files.n; i++) {
        cs->texts[i] = read_file(cs->files.items[i].path, err);
        if (!cs->texts[i]) {
            code_set_free(cs);
            return -1;
        }
        char *head = xasprintf("-- file: %s\n", cs->files.items[i].name);
        sha256_update(&h, head, strlen(head));
        sha256_update(&h, cs->texts[i], strlen(cs->texts[i]));
        free(head);
    }
    unsigned char d[32];
    sha256_final(&h, d);
    for (int i = 0; i < 32; i++)
        snprintf(cs->sha + 2 * i, 3, "%02x", d[i]);
    return 0;
}

static int
code_set_run(PGconn *conn, const struct code_set *cs, struct fb_error *err)
{
    if (db_run_script(conn, "BEGIN", err) < 0)
        return -1;
    int rc = db_run_script(conn, CODE_RESET_SQL, err);
    for (size_t i = 0; rc == 0 && i < cs->files.n; i++) {
        rc = db_run_script(conn, cs->texts[i], err);
        if (rc < 0) {
            char *msg = xasprintf("code file \"code/%s\" failed: %s", cs->files.items[i].name,
                                  err->message);
            free(err->message);
            err->message = msg;
            err->kind = FB_ERR_INTERNAL;
        }
    }
    char files[16];
    snprintf(files, sizeof(files), "%zu", cs->files.n);
    const char *p[] = {cs->sha, files};
    if (rc == 0)
        rc = db_run_script(conn, OWNERSHIP_POLICY_SQL, err);
    if (rc == 0)
        rc = db_run(conn, "INSERT INTO fmtbank.schema_code (schema_version, sha256, files)"
                          " SELECT max(version), $1, $2::integer FROM fmtbank.schema_migration",
                    2, p, err);
    if (rc == 0)
        rc = db_run(conn, "COMMIT", 0, NULL, err);
    if (rc < 0)
        PQclear(PQexec(conn, "ROLLBACK"));
    return rc;
}

/* Applies the code set when the database's recorded checksum is not the set's. */
static int
code_apply(PGconn *conn, const char *dir, FILE *progress, struct fb_error *err)
{
    struct code_set cs;
    if (code_set_read(dir, &cs, err) < 0)
        return -1;
    int rc = 0;
    char *have = db_scalar(conn, "SELECT sha256 FROM fmtbank.schema_code ORDER BY id DESC LIMIT 1",
                           0, NULL, err);
    fb_error_clear(err);
    if (!have || strcmp(have, cs.sha) != 0) {
        rc = code_set_run(conn, &cs, err);
        if (rc == 0 && progress)
            fprintf(progress, "applied the code set (%zu files, sha256 %.12s)\n", cs.files.n,
                    cs.sha);
    }
    free(have);
    code_set_free(&cs);
    return rc;
}

int
migrate_apply(PGconn *conn, const char *dir, FILE *progress, int *applied, struct fb_error *err)
{
    struct migration_list list;
    *applied = 0;
    if (migrate_list(dir, &list, err) < 0)
        return -1;
    int rc = db_run(conn, MIGRATE_LOCK_SQL, 0, NULL, err);
    if (rc == 0)
        rc = bootstrap(conn, err);
    for (size_t i = 0; rc == 0 && i < list.n; i++)
        rc = apply_one(conn, &list.items[i], progress, applied, err);
    if (rc == 0)
        rc = code_apply(conn, dir, progress, err);
    struct fb_error ignore = {0};
    db_run(conn, MIGRATE_UNLOCK_SQL, 0, NULL, &ignore);
    fb_error_clear(&ignore);
    migrate_list_free(&list);
    return rc;
}

int
migrate_check_current(const char *db_version, const char *db_code, struct fb_error *err)
{
    int want = FMTBANK_SCHEMA_VERSION;
    int have = db_version ? atoi(db_version) : 0;
    if (have < want) {
        fb_error_set(err, FB_ERR_DBUNAVAIL, "database schema is at version %d, this fmtbank needs %d",
                     have, want);
        fb_error_hint(err, "Run \"fmtbank init\" to upgrade it.");
        return -1;
    }
    if (have > want) {
        fb_error_set(err, FB_ERR_DBUNAVAIL,
                     "database schema is at version %d, newer than this fmtbank (%d)", have, want);
        fb_error_hint(err, "Use the fmtbank release that matches the database.");
        return -1;
    }
    if (!db_code || strcmp(db_code, FMTBANK_CODE_SHA256) != 0) {
        fb_error_set(err, FB_ERR_DBUNAVAIL,
                     "the database's functions and views are not this fmtbank's (code set %.12s, "
                     "this fmtbank has %.12s)", db_code ? db_code : "none", FMTBANK_CODE_SHA256);
        fb_error_hint(err, "Run \"fmtbank init\" with this fmtbank to apply its code set.");
        return -1;
    }
    return 0;
}

int
migrate_check_row(const PGresult *r, struct fb_error *err)
{
    return migrate_check_current(PQgetisnull(r, 0, 0) ? NULL : PQgetvalue(r, 0, 0),
                                 PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1), err);
}

int
migrate_state_failed(PGconn *conn, struct fb_error *err)
{
    if (strcmp(err->sqlstate, "42P01") != 0 && strcmp(err->sqlstate, "3F000") != 0)
        return -1;
    /* a database from before the code set has schema_migration but no schema_code */
    struct fb_error e2 = {0};
    char *v = db_scalar(conn, "SELECT max(version) FROM fmtbank.schema_migration", 0, NULL, &e2);
    fb_error_clear(&e2);
    fb_error_clear(err);
    if (!v) {
        fb_error_set(err, FB_ERR_DBUNAVAIL, "database is not initialised");
        fb_error_hint(err, "Run \"fmtbank init\" first.");
        return -1;
    }
    int rc = migrate_check_current(v, NULL, err);
    free(v);
    return rc;
}

int
migrate_run_file(PGconn *conn, const char *path, struct fb_error *err)
{
    char *sql = read_file(path, err);
    if (!sql)
        return -1;
    char *wrapped = xasprintf("BEGIN;\n%s\n;COMMIT;", sql);
    int rc = db_run_script(conn, wrapped, err);
    if (rc < 0)
        PQclear(PQexec(conn, "ROLLBACK"));
    free(wrapped);
    free(sql);
    return rc;
}
