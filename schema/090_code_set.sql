-- 090_code_set: what the code set needs. From here on the migrations (schema/NNN_*.sql) hold tables,
-- constraints and data rows; functions, views and their grants are code in schema/code/, which
-- "fmtbank init" re-applies as one set whenever its checksum changes (recorded in
-- fmtbank.schema_code, created by the migration runner next to fmtbank.schema_migration).

REVOKE ALL ON fmtbank.schema_code FROM PUBLIC;
GRANT SELECT ON fmtbank.schema_code
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin, fmtbank_daemon;

-- The counts of "fmtbank status" by contribution: each code group registers a function returning
-- (entity, state, n) rows (fmtbank.status_register); the view fmtbank.status_counts reads them all.
CREATE TABLE fmtbank.status_source (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z_]*$'),
    fn   regprocedure NOT NULL
);
REVOKE ALL ON fmtbank.status_source FROM PUBLIC;
GRANT SELECT ON fmtbank.status_source
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
