-- Stand-ins for the screening functions (branch "screening") used by donation add/process, for
-- the inventory tests until that branch is merged. Created only when the real ones are missing.
CREATE TABLE IF NOT EXISTS fmtbank.stub_rule (name text PRIMARY KEY, value numeric);
INSERT INTO fmtbank.stub_rule VALUES ('max_processing_hours', 6), ('dose_mass_g', 50),
    ('dose_volume_ml', 200), ('glycerol_percent', 10), ('bristol_min', 3), ('bristol_max', 5),
    ('shelf_life_days', 730) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS fmtbank.stub_status (donor_id uuid PRIMARY KEY, status text);
GRANT SELECT ON fmtbank.stub_rule, fmtbank.stub_status TO PUBLIC;
DO $do$
BEGIN
    IF to_regprocedure('fmtbank.rule_value(text, timestamptz)') IS NULL THEN
        CREATE FUNCTION fmtbank.rule_value(p_name text, p_at timestamptz DEFAULT clock_timestamp())
        RETURNS numeric LANGUAGE sql STABLE SET search_path = pg_catalog AS
        $$ SELECT value FROM fmtbank.stub_rule WHERE name = p_name $$;
        CREATE FUNCTION fmtbank.rule_set_version_at(p_at timestamptz) RETURNS integer
        LANGUAGE sql STABLE AS $$ SELECT 1 $$;
        CREATE FUNCTION fmtbank.donor_status_at(p_donor_id uuid, p_at timestamptz)
        RETURNS TABLE (donor_id uuid, code text, status text, deferred_until date, reasons jsonb,
                       next_screening_due date, rule_set_version integer)
        LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
            SELECT d.id, d.code, coalesce(s.status, 'eligible'), NULL::date,
                   CASE WHEN s.status IS NULL THEN '[]'::jsonb
                        ELSE '[{"rule": "stub", "detail": "stub status"}]'::jsonb END, NULL::date, 1
            FROM fmtbank.donor d LEFT JOIN fmtbank.stub_status s ON s.donor_id = d.id
            WHERE d.id = p_donor_id $$;
        CREATE FUNCTION fmtbank.short_questionnaire_at(p_donor_id uuid, p_date date)
        RETURNS TABLE (recorded boolean, clear boolean, detail text)
        LANGUAGE sql STABLE AS $$ SELECT true, true, NULL::text $$;
        GRANT EXECUTE ON FUNCTION fmtbank.rule_value(text, timestamptz),
            fmtbank.rule_set_version_at(timestamptz), fmtbank.donor_status_at(uuid, timestamptz),
            fmtbank.short_questionnaire_at(uuid, date) TO PUBLIC;
    END IF;
END $do$;
