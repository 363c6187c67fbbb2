-- 060_owner_stage: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- "fmtbank result import", step 1: forget whatever this backend staged before.
CREATE OR REPLACE FUNCTION fmtbank.result_import_begin() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE me integer := pg_catalog.pg_backend_pid();
BEGIN
    PERFORM fmtbank.require_role('importing results', 'technician', 'quality', 'admin');
    DELETE FROM fmtbank_stage.result_stage s WHERE s.pid = me;
    DELETE FROM fmtbank_stage.result_checked c WHERE c.pid = me;
END $$;

-- "fmtbank donor import", step 1: forget whatever this backend staged before.
CREATE OR REPLACE FUNCTION fmtbank.donor_import_begin() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE me integer := pg_catalog.pg_backend_pid();
BEGIN
    PERFORM fmtbank.require_role('importing donors', 'technician', 'quality', 'admin');
    DELETE FROM fmtbank_stage.donor_stage s WHERE s.pid = me;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.result_import_begin(),
    fmtbank.donor_import_begin()
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
