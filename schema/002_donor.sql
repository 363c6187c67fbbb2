-- 002_donor: site settings, the donor registry (pseudonymous codes) and the separate identity
-- table that only quality and admin can read.

CREATE TABLE fmtbank.site_setting (
    name   text PRIMARY KEY,
    value  text NOT NULL,
    note   text NOT NULL
);
SELECT fmtbank.audit_enable('fmtbank.site_setting', 'name');
INSERT INTO fmtbank.site_setting (name, value, note) VALUES
    ('donor_code_pattern', '^D-[0-9]{4,8}$',
     'pseudonymous donor code: D- and 4 to 8 digits (a site may set its own pattern)'),
    ('site_name', 'fmtbank stool bank', 'printed on reports and labels');
REVOKE ALL ON fmtbank.site_setting FROM PUBLIC;
GRANT SELECT ON fmtbank.site_setting
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

CREATE TABLE fmtbank.donor (
    id          uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    code        text NOT NULL UNIQUE,
    birth_year  integer CHECK (birth_year BETWEEN 1900 AND 2100),
    sex         text CHECK (sex IN ('F', 'M', 'X')),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by  text NOT NULL DEFAULT session_user
);
SELECT fmtbank.audit_enable('fmtbank.donor', 'code');

-- Identity (PII): never in the donor table, never readable by technicians or auditors.
CREATE TABLE fmtbank.donor_identity (
    donor_id    uuid PRIMARY KEY REFERENCES fmtbank.donor,
    full_name   text NOT NULL CHECK (btrim(full_name) <> ''),
    birth_date  date,
    contact     text,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
SELECT fmtbank.audit_enable('fmtbank.donor_identity', 'donor_id', true);

REVOKE ALL ON fmtbank.donor, fmtbank.donor_identity FROM PUBLIC;
GRANT SELECT ON fmtbank.donor TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT SELECT ON fmtbank.donor_identity TO fmtbank_quality, fmtbank_admin;

-- Normalises and validates a donor code against the site pattern (FB001 when it does not fit).
CREATE FUNCTION fmtbank.donor_code_check(p_code text, p_field text DEFAULT 'donor code') RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
    c text := upper(btrim(coalesce(p_code, '')));
    pat text := (SELECT value FROM fmtbank.site_setting WHERE name = 'donor_code_pattern');
BEGIN
    IF c !~ pat THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid %s "%s"', p_field, coalesce(p_code, '')),
            DETAIL = format('Donor codes must match %s.', pat),
            HINT = 'Donor codes are pseudonymous, e.g. D-0001; never use a name.';
    END IF;
    RETURN c;
END $$;

-- The donor with this code, or FB002.
CREATE FUNCTION fmtbank.donor_get(p_code text) RETURNS fmtbank.donor
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE d fmtbank.donor;
BEGIN
    SELECT * INTO d FROM fmtbank.donor WHERE code = upper(btrim(p_code));
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('donor "%s" not found', p_code);
    END IF;
    RETURN d;
END $$;

CREATE FUNCTION fmtbank.donor_sex_check(p_sex text, p_field text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
    IF p_sex IS NOT NULL AND upper(p_sex) NOT IN ('F', 'M', 'X') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid %s "%s"', p_field, p_sex), HINT = 'Use F, M or X.';
    END IF;
    RETURN upper(nullif(p_sex, ''));
END $$;

CREATE FUNCTION fmtbank.donor_birth_year_check(p_year text, p_field text) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
    IF nullif(p_year, '') IS NULL THEN
        RETURN NULL;
    END IF;
    IF (CASE WHEN p_year ~ '^\d{4}$'
             THEN p_year::int NOT BETWEEN 1900 AND extract(year FROM current_date)::int
             ELSE true END) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid %s "%s"', p_field, p_year),
            HINT = 'Give a four-digit year, not in the future.';
    END IF;
    RETURN p_year::int;
END $$;

CREATE FUNCTION fmtbank.donor_add(p_code text, p_birth_year text, p_sex text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE c text := fmtbank.donor_code_check(p_code);
BEGIN
    PERFORM fmtbank.require_role('registering donors', 'technician', 'quality', 'admin');
    IF EXISTS (SELECT 1 FROM fmtbank.donor WHERE code = c) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('donor "%s" already exists', c);
    END IF;
    INSERT INTO fmtbank.donor (code, birth_year, sex)
    VALUES (c, fmtbank.donor_birth_year_check(p_birth_year, '--birth-year'),
            fmtbank.donor_sex_check(p_sex, '--sex'));
    RETURN c;
END $$;

-- Validates the session's staging table pg_temp.donor_stage (line, code, birth_year, sex) as a
-- set; returns every bad line, and inserts all rows only when there is none.
CREATE FUNCTION fmtbank.donor_import_stage() RETURNS TABLE (line bigint, message text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE pat text := (SELECT value FROM fmtbank.site_setting WHERE name = 'donor_code_pattern');
BEGIN
    PERFORM fmtbank.require_role('importing donors', 'technician', 'quality', 'admin');
    CREATE TEMP TABLE donor_stage_checked ON COMMIT DROP AS
    SELECT s.line + 1 AS line, upper(btrim(coalesce(s.code, ''))) AS code, s.birth_year, s.sex,
           CASE
             WHEN upper(btrim(coalesce(s.code, ''))) !~ pat
               THEN format('invalid donor code "%s" (must match %s)', coalesce(s.code, ''), pat)
             WHEN row_number() OVER (PARTITION BY upper(btrim(s.code)) ORDER BY s.line) > 1
               THEN format('donor "%s" already appears on line %s', upper(btrim(s.code)),
                           min(s.line) OVER (PARTITION BY upper(btrim(s.code))) + 1)
             WHEN EXISTS (SELECT 1 FROM fmtbank.donor d WHERE d.code = upper(btrim(s.code)))
               THEN format('donor "%s" already exists', upper(btrim(s.code)))
             WHEN nullif(s.birth_year, '') IS NOT NULL AND CASE WHEN s.birth_year ~ '^\d{4}$'
                  THEN s.birth_year::int NOT BETWEEN 1900 AND extract(year FROM current_date)::int
                  ELSE true END
               THEN format('invalid birth_year "%s"', s.birth_year)
             WHEN nullif(s.sex, '') IS NOT NULL AND upper(s.sex) NOT IN ('F', 'M', 'X')
               THEN format('invalid sex "%s" (use F, M or X)', s.sex)
           END AS problem
    FROM pg_temp.donor_stage s;
    RETURN QUERY SELECT c.line, c.problem FROM donor_stage_checked c
                 WHERE c.problem IS NOT NULL ORDER BY c.line;
    IF NOT FOUND THEN
        INSERT INTO fmtbank.donor (code, birth_year, sex)
        SELECT c.code, nullif(c.birth_year, '')::int, upper(nullif(c.sex, ''))
        FROM donor_stage_checked c ORDER BY c.line;
    END IF;
END $$;

CREATE FUNCTION fmtbank.donor_identity_set(p_code text, p_full_name text, p_birth_date text,
                                           p_contact text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE d fmtbank.donor := fmtbank.donor_get(p_code);
BEGIN
    PERFORM fmtbank.require_role('recording donor identity', 'quality', 'admin');
    IF nullif(btrim(p_full_name), '') IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing --full-name';
    END IF;
    INSERT INTO fmtbank.donor_identity (donor_id, full_name, birth_date, contact)
    VALUES (d.id, btrim(p_full_name),
            CASE WHEN p_birth_date IS NULL THEN NULL
                 ELSE fmtbank.parse_date(p_birth_date, '--birth-date') END, p_contact)
    ON CONFLICT (donor_id) DO UPDATE
        SET full_name = excluded.full_name, birth_date = excluded.birth_date,
            contact = excluded.contact, updated_at = clock_timestamp();
    RETURN d.code;
END $$;

-- One row per donor; later migrations add the derived status to the view.
CREATE VIEW fmtbank.donor_list AS
    SELECT d.code, d.birth_year, d.sex, d.created_at FROM fmtbank.donor d;
REVOKE ALL ON fmtbank.donor_list FROM PUBLIC;
GRANT SELECT ON fmtbank.donor_list TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT EXECUTE ON FUNCTION fmtbank.donor_add(text, text, text), fmtbank.donor_import_stage()
    TO fmtbank_technician, fmtbank_quality, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.donor_identity_set(text, text, text, text)
    TO fmtbank_quality, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.donor_get(text), fmtbank.donor_code_check(text, text),
    fmtbank.donor_sex_check(text, text), fmtbank.donor_birth_year_check(text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

CREATE OR REPLACE VIEW fmtbank.status_counts AS
    SELECT 'user'::text AS entity, CASE WHEN disabled_at IS NULL THEN 'active' ELSE 'disabled' END AS state,
           count(*) AS n
    FROM fmtbank.app_user GROUP BY 2
    UNION ALL
    SELECT 'donor', 'registered', count(*) FROM fmtbank.donor;
