-- 060_owner_stage: no path from an application role to the superuser (issue 15, item 1).
--
-- 1. Every object of schemas fmtbank and fmtbank_stage belongs to fmtbank_owner, a NOLOGIN,
--    NOSUPERUSER role, so a SECURITY DEFINER function runs with the owner's rights, never a
--    superuser's. The migration runner (src/db/migrate.c, OWNERSHIP_POLICY) reassigns every table,
--    view, sequence, function and type of both schemas to it after every migration, pins
--    "search_path = pg_catalog, pg_temp" (pg_temp last, explicitly) on every function that does not
--    already end its search_path with pg_temp, and grants the owner EXECUTE on the pgcrypto
--    functions installed in schema fmtbank.
--    fmtbank_owner has CREATEROLE because fmtbank.user_add() runs CREATE ROLE ... LOGIN IN ROLE
--    fmtbank_<role>, fmtbank.user_disable() runs ALTER ROLE ... NOLOGIN (and setting login
--    passwords needs it too); nothing else needs it. It has no membership in any role, and no
--    application role is a member of it (SET ROLE fmtbank_owner is refused). CREATEROLE cannot
--    create, alter or grant superusers; its remaining power (granting non-superuser roles) is only
--    reachable through the bodies of our own functions, which take every name as %I.
-- 2. Imports no longer read the caller's pg_temp: a caller controls pg_temp (a temporary VIEW
--    named result_stage over her own function would run as the definer). Files are staged in the
--    owner's private schema fmtbank_stage, in UNLOGGED tables keyed by the backend pid: an
--    application role may INSERT (COPY) rows for its own backend only (CHECK pid =
--    pg_backend_pid()), and has no SELECT, UPDATE or DELETE. fmtbank.*_import_begin() clears the
--    caller's rows, fmtbank.*_import_stage() reads only the caller's rows and removes them when
--    done. These are staging rows, not records: removing them is allowed. Rows left by a session
--    that died are never read by another (filtered by pid; begin clears them if the pid is reused).
--    The line number is sent by the client with each row (the file's line where the record
--    starts), so messages name the file's lines whatever other sessions stage at the same time.
--    The stage tables have no index: they hold only the rows of imports in progress, and an index
--    would be maintained for every staged row.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'fmtbank_owner') THEN
        CREATE ROLE fmtbank_owner NOLOGIN NOSUPERUSER NOCREATEDB CREATEROLE NOREPLICATION
            NOBYPASSRLS NOINHERIT;
    ELSE
        ALTER ROLE fmtbank_owner NOLOGIN NOSUPERUSER NOCREATEDB CREATEROLE NOREPLICATION
            NOBYPASSRLS NOINHERIT;
    END IF;
END $$;
GRANT USAGE ON SCHEMA fmtbank TO fmtbank_owner;

CREATE SCHEMA fmtbank_stage AUTHORIZATION fmtbank_owner;
REVOKE ALL ON SCHEMA fmtbank_stage FROM PUBLIC;
GRANT USAGE ON SCHEMA fmtbank_stage TO fmtbank_technician, fmtbank_quality, fmtbank_admin;

CREATE UNLOGGED TABLE fmtbank_stage.result_stage (
    pid       integer NOT NULL DEFAULT pg_catalog.pg_backend_pid()
              CHECK (pid = pg_catalog.pg_backend_pid()),
    line      bigint NOT NULL,
    donor     text,
    test      text,
    collected text,
    result    text,
    unit      text,
    lab       text
);

-- The validated rows of the session's stage (fmtbank.result_stage_validate): owner only.
CREATE UNLOGGED TABLE fmtbank_stage.result_checked (
    pid       integer NOT NULL,
    line      bigint NOT NULL,
    id        uuid NOT NULL,
    donor_id  uuid,
    dcode     text,
    test_no   smallint,
    test_code text,
    collected date,
    result    text,
    value     numeric,
    unit      text,
    lab       text,
    problem   text
);

CREATE UNLOGGED TABLE fmtbank_stage.donor_stage (
    pid        integer NOT NULL DEFAULT pg_catalog.pg_backend_pid()
               CHECK (pid = pg_catalog.pg_backend_pid()),
    line       bigint NOT NULL,
    code       text,
    birth_year text,
    sex        text
);

ALTER TABLE fmtbank_stage.result_stage OWNER TO fmtbank_owner;
ALTER TABLE fmtbank_stage.result_checked OWNER TO fmtbank_owner;
ALTER TABLE fmtbank_stage.donor_stage OWNER TO fmtbank_owner;
REVOKE ALL ON fmtbank_stage.result_stage, fmtbank_stage.result_checked, fmtbank_stage.donor_stage
    FROM PUBLIC;
GRANT INSERT ON fmtbank_stage.result_stage, fmtbank_stage.donor_stage
    TO fmtbank_technician, fmtbank_quality, fmtbank_admin;

-- Validates the session's rows of fmtbank_stage.result_stage (text as read from the file) as a
-- set into fmtbank_stage.result_checked: the normalised row, a new result ID, and its problem
-- (NULL when good). p_check_existing: refuse a row identical to a result already in force (a file
-- imported twice); corrections skip it. Writers of results are serialised by an advisory lock
-- held to commit, so that check also holds between two imports running at the same moment.
-- Not SECURITY DEFINER: it runs as the owner when called by one (application roles cannot call
-- it, nor read either table).
CREATE OR REPLACE FUNCTION fmtbank.result_stage_validate(p_check_existing boolean) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE me integer := pg_catalog.pg_backend_pid();
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(70640012);
    DELETE FROM fmtbank_stage.result_checked c WHERE c.pid = me;
    INSERT INTO fmtbank_stage.result_checked (pid, line, id, donor_id, dcode, test_no, test_code,
                                              collected, result, value, unit, lab, problem)
    WITH s AS (
        SELECT s.line, coalesce(s.donor, '') AS raw_donor,
               upper(btrim(coalesce(s.donor, ''))) AS dcode,
               coalesce(s.test, '') AS raw_test, upper(btrim(coalesce(s.test, ''))) AS tcode,
               btrim(coalesce(s.collected, '')) AS coll_raw, btrim(coalesce(s.result, '')) AS res_raw,
               nullif(btrim(coalesce(s.unit, '')), '') AS unit_raw,
               nullif(btrim(coalesce(s.lab, '')), '') AS lab
        FROM fmtbank_stage.result_stage s WHERE s.pid = me),
    j AS (
        SELECT s.*, d.id AS donor_id, t.test_no, t.code AS test_code, t.kind, t.unit AS cat_unit,
               t.unit_aliases, fmtbank.iso_date(s.coll_raw) AS coll,
               CASE WHEN t.kind = 'numeric' AND s.res_raw ~ '^[0-9]{1,12}(\.[0-9]{1,12})?$'
                    THEN s.res_raw::numeric END AS val,
               CASE WHEN t.kind = 'qualitative' THEN lower(s.res_raw) ELSE s.res_raw END AS res
        FROM s
        LEFT JOIN fmtbank.donor d ON d.code = s.dcode
        LEFT JOIN fmtbank.screening_test t ON t.code = s.tcode),
    k AS (
        SELECT j.*,
               min(j.line) OVER (PARTITION BY j.donor_id, j.test_no, j.coll, j.res, j.lab) AS first_line
        FROM j)
    SELECT me, k.line, pg_catalog.gen_random_uuid(), k.donor_id, k.dcode, k.test_no, k.test_code,
           k.coll, k.res, k.val, CASE WHEN k.kind = 'numeric' THEN k.cat_unit END, k.lab,
           CASE
             WHEN k.donor_id IS NULL
                  AND k.dcode !~ (SELECT value FROM fmtbank.site_setting WHERE name = 'donor_code_pattern')
               THEN format('invalid donor code "%s"', k.raw_donor)
             WHEN k.donor_id IS NULL THEN format('donor "%s" not found', k.dcode)
             WHEN k.test_no IS NULL THEN format('unknown test "%s"', k.raw_test)
             WHEN k.coll IS NULL
               THEN format('invalid collected date "%s" (use YYYY-MM-DD)', k.coll_raw)
             WHEN k.coll > current_date THEN format('collected date %s is in the future', k.coll)
             WHEN k.kind = 'qualitative' AND k.res NOT IN ('negative', 'positive', 'indeterminate')
               THEN format('result "%s" for test "%s" must be negative, positive or indeterminate',
                           k.res_raw, k.test_code)
             WHEN k.kind = 'qualitative' AND k.unit_raw IS NOT NULL
               THEN format('test "%s" is qualitative: its unit must be empty, not "%s"',
                           k.test_code, k.unit_raw)
             WHEN k.kind = 'numeric' AND k.val IS NULL
               THEN format('result "%s" for test "%s" is not a number (in %s)', k.res_raw,
                           k.test_code, k.cat_unit)
             WHEN k.kind = 'numeric' AND k.unit_raw IS NULL
               THEN format('unit missing for test "%s" (expected %s)', k.test_code, k.cat_unit)
             WHEN k.kind = 'numeric' AND lower(k.unit_raw) <> lower(k.cat_unit)
                  AND lower(k.unit_raw) <> ALL (k.unit_aliases)
               THEN format('wrong unit "%s" for test "%s" (expected %s)', k.unit_raw, k.test_code,
                           k.cat_unit)
             WHEN length(k.lab) > 200 THEN 'lab name is longer than 200 characters'
             WHEN k.first_line < k.line THEN format('same result as line %s', k.first_line)
             WHEN p_check_existing AND EXISTS (
                    SELECT 1 FROM fmtbank.result r
                    WHERE r.donor_id = k.donor_id AND r.test_no = k.test_no
                      AND r.collected = k.coll AND r.result = k.res
                      AND r.lab IS NOT DISTINCT FROM k.lab AND r.superseded_at IS NULL)
               THEN format('already recorded: %s %s collected %s for donor "%s"', k.test_code,
                           k.res, k.coll, k.dcode)
           END
    FROM k;
END $$;

-- "fmtbank result import", step 1: forget whatever this backend staged before.
CREATE FUNCTION fmtbank.result_import_begin() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE me integer := pg_catalog.pg_backend_pid();
BEGIN
    PERFORM fmtbank.require_role('importing results', 'technician', 'quality', 'admin');
    DELETE FROM fmtbank_stage.result_stage s WHERE s.pid = me;
    DELETE FROM fmtbank_stage.result_checked c WHERE c.pid = me;
END $$;

-- Step 3 (after COPY fmtbank_stage.result_stage (line, donor, ...)): validates this backend's
-- staged rows; returns every bad line (line, message) and stores nothing, or stores all rows and
-- returns (line, NULL, new result ID) for each, in file order. Removes the staged rows.
DROP FUNCTION fmtbank.result_import_stage();
CREATE FUNCTION fmtbank.result_import_stage() RETURNS TABLE (line bigint, message text, id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t timestamptz;
    me integer := pg_catalog.pg_backend_pid();
BEGIN
    PERFORM fmtbank.require_role('importing results', 'technician', 'quality', 'admin');
    PERFORM fmtbank.result_stage_validate(true);
    RETURN QUERY SELECT c.line, c.problem, NULL::uuid FROM fmtbank_stage.result_checked c
                 WHERE c.pid = me AND c.problem IS NOT NULL ORDER BY c.line;
    IF NOT FOUND THEN
        t := pg_catalog.clock_timestamp();
        INSERT INTO fmtbank.result (id, donor_id, test_no, collected, result, value, unit, lab,
                                    recorded_at)
        SELECT c.id, c.donor_id, c.test_no, c.collected, c.result, c.value, c.unit, c.lab, t
        FROM fmtbank_stage.result_checked c WHERE c.pid = me ORDER BY c.line;
        RETURN QUERY SELECT c.line, NULL::text, c.id FROM fmtbank_stage.result_checked c
                     WHERE c.pid = me ORDER BY c.line;
    END IF;
    DELETE FROM fmtbank_stage.result_stage s WHERE s.pid = me;
    DELETE FROM fmtbank_stage.result_checked c WHERE c.pid = me;
END $$;

-- Stages one row as an import of one line would, validates it, and raises its problem. Clears
-- the backend's stage first (a result add is not part of an import).
CREATE OR REPLACE FUNCTION fmtbank.result_validate_one(p_code text, p_test text, p_collected text,
                                                       p_result text, p_unit text, p_lab text,
                                                       p_check_existing boolean,
                                                       OUT id uuid, OUT donor_id uuid,
                                                       OUT test_no smallint, OUT collected date,
                                                       OUT result text, OUT value numeric,
                                                       OUT unit text, OUT lab text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    problem text;
    me integer := pg_catalog.pg_backend_pid();
BEGIN
    DELETE FROM fmtbank_stage.result_stage s WHERE s.pid = me;
    INSERT INTO fmtbank_stage.result_stage (pid, line, donor, test, collected, result, unit, lab)
    VALUES (me, 1, p_code, p_test, p_collected, p_result, p_unit, p_lab);
    PERFORM fmtbank.result_stage_validate(p_check_existing);
    SELECT c.problem, c.id, c.donor_id, c.test_no, c.collected, c.result, c.value, c.unit, c.lab
    INTO problem, id, donor_id, test_no, collected, result, value, unit, lab
    FROM fmtbank_stage.result_checked c WHERE c.pid = me;
    DELETE FROM fmtbank_stage.result_stage s WHERE s.pid = me;
    DELETE FROM fmtbank_stage.result_checked c WHERE c.pid = me;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = CASE WHEN problem LIKE 'already recorded%' THEN 'FB003'
                                             ELSE 'FB001' END,
            MESSAGE = problem;
    END IF;
END $$;

-- "fmtbank donor import", step 1: forget whatever this backend staged before.
CREATE FUNCTION fmtbank.donor_import_begin() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE me integer := pg_catalog.pg_backend_pid();
BEGIN
    PERFORM fmtbank.require_role('importing donors', 'technician', 'quality', 'admin');
    DELETE FROM fmtbank_stage.donor_stage s WHERE s.pid = me;
END $$;

-- Step 3 (after COPY fmtbank_stage.donor_stage (line, code, birth_year, sex)): validates this
-- backend's staged rows as a set; returns every bad line (line, message) and stores nothing, or
-- stores all rows and returns (line, NULL, donor code) for each, in file order.
DROP FUNCTION fmtbank.donor_import_stage();
CREATE FUNCTION fmtbank.donor_import_stage() RETURNS TABLE (line bigint, message text, code text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    pat text := (SELECT v.value FROM fmtbank.site_setting v WHERE v.name = 'donor_code_pattern');
    me integer := pg_catalog.pg_backend_pid();
BEGIN
    PERFORM fmtbank.require_role('importing donors', 'technician', 'quality', 'admin');
    RETURN QUERY
    WITH c AS (
        SELECT s.line,
               CASE
                 WHEN upper(btrim(coalesce(s.code, ''))) !~ pat
                   THEN format('invalid donor code "%s" (must match %s)', coalesce(s.code, ''), pat)
                 WHEN row_number() OVER (PARTITION BY upper(btrim(s.code)) ORDER BY s.line) > 1
                   THEN format('donor "%s" already appears on line %s', upper(btrim(s.code)),
                               min(s.line) OVER (PARTITION BY upper(btrim(s.code))))
                 WHEN EXISTS (SELECT 1 FROM fmtbank.donor d WHERE d.code = upper(btrim(s.code)))
                   THEN format('donor "%s" already exists', upper(btrim(s.code)))
                 WHEN nullif(s.birth_year, '') IS NOT NULL AND CASE WHEN s.birth_year ~ '^\d{4}$'
                      THEN s.birth_year::int NOT BETWEEN 1900 AND extract(year FROM current_date)::int
                      ELSE true END
                   THEN format('invalid birth_year "%s"', s.birth_year)
                 WHEN nullif(s.sex, '') IS NOT NULL AND upper(s.sex) NOT IN ('F', 'M', 'X')
                   THEN format('invalid sex "%s" (use F, M or X)', s.sex)
               END AS problem
        FROM fmtbank_stage.donor_stage s WHERE s.pid = me)
    SELECT c.line, c.problem, NULL::text FROM c WHERE c.problem IS NOT NULL ORDER BY c.line;
    IF NOT FOUND THEN
        INSERT INTO fmtbank.donor (code, birth_year, sex)
        SELECT upper(btrim(coalesce(s.code, ''))), nullif(s.birth_year, '')::int,
               upper(nullif(s.sex, ''))
        FROM fmtbank_stage.donor_stage s WHERE s.pid = me ORDER BY s.line;
        RETURN QUERY SELECT s.line, NULL::text, upper(btrim(coalesce(s.code, '')))
                     FROM fmtbank_stage.donor_stage s WHERE s.pid = me ORDER BY s.line;
    END IF;
    DELETE FROM fmtbank_stage.donor_stage s WHERE s.pid = me;
END $$;

GRANT EXECUTE ON FUNCTION fmtbank.result_import_begin(), fmtbank.result_import_stage(),
    fmtbank.donor_import_begin(), fmtbank.donor_import_stage()
    TO fmtbank_technician, fmtbank_quality, fmtbank_admin;

-- fmtbank.sweep() (SECURITY DEFINER) now runs the registered sweep functions as fmtbank_owner, not
-- as a superuser: registering one (superusers only, as before) lets the owner execute it. A sweep
-- function outside schema fmtbank that reads or writes other tables needs those rights granted
-- to fmtbank_owner, or must itself be SECURITY DEFINER owned by a role that has them.
CREATE OR REPLACE FUNCTION fmtbank.sweep_register(p_name text, p_fn regprocedure,
                                                  p_ord integer DEFAULT 100,
                                                  p_note text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (SELECT p.pronargs FROM pg_catalog.pg_proc p WHERE p.oid = p_fn) <> 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('sweep function %s must take no arguments', p_fn);
    END IF;
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO fmtbank_owner', p_fn);
    INSERT INTO fmtbank.sweep_step (name, fn, ord, note) VALUES (p_name, p_fn, p_ord, p_note)
    ON CONFLICT (name) DO UPDATE SET fn = excluded.fn, ord = excluded.ord, note = excluded.note;
END $$;
