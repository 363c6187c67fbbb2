-- 002_donor: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- Normalises and validates a donor code against the site pattern (FB001 when it does not fit).
CREATE OR REPLACE FUNCTION fmtbank.donor_code_check(p_code text, p_field text DEFAULT 'donor code') RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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
CREATE OR REPLACE FUNCTION fmtbank.donor_get(p_code text) RETURNS fmtbank.donor
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE d fmtbank.donor;
BEGIN
    SELECT * INTO d FROM fmtbank.donor WHERE code = upper(btrim(p_code));
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('donor "%s" not found', p_code);
    END IF;
    RETURN d;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.donor_sex_check(p_sex text, p_field text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_sex IS NOT NULL AND upper(p_sex) NOT IN ('F', 'M', 'X') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid %s "%s"', p_field, p_sex), HINT = 'Use F, M or X.';
    END IF;
    RETURN upper(nullif(p_sex, ''));
END $$;

CREATE OR REPLACE FUNCTION fmtbank.donor_birth_year_check(p_year text, p_field text) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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

CREATE OR REPLACE FUNCTION fmtbank.donor_add(p_code text, p_birth_year text, p_sex text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

-- The consent columns (consent_version, consent_signed, consent_scope, consent_document; the file
-- may leave them out) go together: a line gives version, signed day and scope, or none of the
-- four; the document hash is optional. Each bad value is reported with its line and column.
CREATE OR REPLACE FUNCTION fmtbank.donor_import_stage() RETURNS TABLE (line bigint, message text, code text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    pat text := (SELECT v.value FROM fmtbank.site_setting v WHERE v.name = 'donor_code_pattern');
    me integer := pg_catalog.pg_backend_pid();
BEGIN
    PERFORM fmtbank.require_role('importing donors', 'technician', 'quality', 'admin');
    RETURN QUERY
    WITH s AS (
        SELECT s.*, nullif(btrim(coalesce(s.consent_version, '')), '') AS cv,
               nullif(btrim(coalesce(s.consent_signed, '')), '') AS cs,
               nullif(btrim(coalesce(s.consent_scope, '')), '') AS cscope,
               nullif(btrim(coalesce(s.consent_document, '')), '') AS cdoc
        FROM fmtbank_stage.donor_stage s WHERE s.pid = me),
    c AS (
        SELECT s.line,
               CASE
                 WHEN upper(btrim(coalesce(s.code, ''))) !~ pat
                   THEN format('invalid donor code "%s" (must match %s)', coalesce(s.code, ''), pat)
                 WHEN row_number() OVER (PARTITION BY upper(btrim(s.code)) ORDER BY s.line) > 1
                   THEN format('donor "%s" already appears on line %s', upper(btrim(s.code)),
                               min(s.line) OVER (PARTITION BY upper(btrim(s.code))))
                 -- the same donor as stored (a file sent again): "already recorded: " is the
                 -- prefix import_csv counts as nothing new (src/db/import.h)
                 WHEN EXISTS (SELECT 1 FROM fmtbank.donor d WHERE d.code = upper(btrim(s.code))
                                AND d.birth_year IS NOT DISTINCT FROM
                                    CASE WHEN s.birth_year ~ '^\d{4}$' THEN s.birth_year::int END
                                AND (nullif(s.birth_year, '') IS NULL OR s.birth_year ~ '^\d{4}$')
                                AND d.sex IS NOT DISTINCT FROM upper(nullif(btrim(s.sex), ''))
                                AND (s.cv IS NULL OR EXISTS (
                                       SELECT 1 FROM fmtbank.donor_consent k
                                       WHERE k.donor_id = d.id AND k.version = s.cv)))
                   THEN format('already recorded: donor "%s"', upper(btrim(s.code)))
                 WHEN EXISTS (SELECT 1 FROM fmtbank.donor d WHERE d.code = upper(btrim(s.code)))
                   THEN format('donor "%s" already exists', upper(btrim(s.code)))
                 WHEN nullif(s.birth_year, '') IS NOT NULL AND CASE WHEN s.birth_year ~ '^\d{4}$'
                      THEN s.birth_year::int NOT BETWEEN 1900 AND extract(year FROM current_date)::int
                      ELSE true END
                   THEN format('invalid birth_year "%s"', s.birth_year)
                 WHEN nullif(s.sex, '') IS NOT NULL AND upper(s.sex) NOT IN ('F', 'M', 'X')
                   THEN format('invalid sex "%s" (use F, M or X)', s.sex)
                 WHEN (s.cv IS NULL OR s.cs IS NULL OR s.cscope IS NULL)
                      AND (s.cv IS NOT NULL OR s.cs IS NOT NULL OR s.cscope IS NOT NULL OR s.cdoc IS NOT NULL)
                   THEN format('consent_%s is missing (a consent needs consent_version, consent_signed and consent_scope)',
                               CASE WHEN s.cv IS NULL THEN 'version' WHEN s.cs IS NULL THEN 'signed' ELSE 'scope' END)
                 WHEN length(s.cv) > 100
                   THEN format('invalid consent_version "%s" (1 to 100 characters)', s.cv)
                 WHEN s.cs IS NOT NULL AND fmtbank.iso_date(s.cs) IS NULL
                   THEN format('invalid consent_signed "%s" (use YYYY-MM-DD)', s.cs)
                 WHEN fmtbank.iso_date(s.cs) > current_date
                   THEN format('consent_signed %s is in the future', s.cs)
                 WHEN s.cscope IS NOT NULL AND fmtbank.consent_scope_norm(s.cscope) IS NULL
                   THEN format('invalid consent_scope "%s" (one or more of clinical, research, trial)', s.cscope)
                 WHEN s.cdoc IS NOT NULL AND fmtbank.consent_sha256_norm(s.cdoc) IS NULL
                   THEN format('invalid consent_document "%s" (the SHA-256 of the signed form: 64 hexadecimal digits)', s.cdoc)
               END AS problem
        FROM s)
    SELECT c.line, c.problem, NULL::text FROM c WHERE c.problem IS NOT NULL ORDER BY c.line;
    IF NOT FOUND THEN
        INSERT INTO fmtbank.donor (code, birth_year, sex)
        SELECT upper(btrim(coalesce(s.code, ''))), nullif(s.birth_year, '')::int,
               upper(nullif(s.sex, ''))
        FROM fmtbank_stage.donor_stage s WHERE s.pid = me ORDER BY s.line;
        INSERT INTO fmtbank.donor_consent (donor_id, event, effective_on, version, scope, document_sha256, reason)
        SELECT d.id, 'signed', fmtbank.iso_date(btrim(s.consent_signed)), btrim(s.consent_version),
               fmtbank.consent_scope_norm(s.consent_scope),
               fmtbank.consent_sha256_norm(nullif(btrim(coalesce(s.consent_document, '')), '')),
               fmtbank.acting_reason(false, NULL)
        FROM fmtbank_stage.donor_stage s
        JOIN fmtbank.donor d ON d.code = upper(btrim(coalesce(s.code, '')))
        WHERE s.pid = me AND nullif(btrim(coalesce(s.consent_version, '')), '') IS NOT NULL
        ORDER BY s.line;
        RETURN QUERY SELECT s.line, NULL::text, upper(btrim(coalesce(s.code, '')))
                     FROM fmtbank_stage.donor_stage s WHERE s.pid = me ORDER BY s.line;
    END IF;
    DELETE FROM fmtbank_stage.donor_stage s WHERE s.pid = me;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.donor_identity_set(p_code text, p_full_name text, p_birth_date text,
                                           p_contact text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
CREATE OR REPLACE VIEW fmtbank.donor_list AS
    SELECT d.code, d.birth_year, d.sex, d.created_at, e.status, e.deferred_until,
           e.next_screening_due, e.reasons
    FROM fmtbank.donor d
    LEFT JOIN fmtbank.donor_eligibility_at(clock_timestamp()) e ON e.donor_id = d.id;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.donor_code_check(text, text),
    fmtbank.donor_get(text),
    fmtbank.donor_sex_check(text, text),
    fmtbank.donor_birth_year_check(text, text),
    fmtbank.donor_add(text, text, text),
    fmtbank.donor_import_stage(),
    fmtbank.donor_identity_set(text, text, text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT SELECT ON fmtbank.donor_list
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
