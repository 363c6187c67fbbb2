-- 040_report: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 040_report: what the report engine (src/report) asks of the database: the time of the
-- database state a report shows (its deterministic creation time), and the validation of report
-- parameters by the same rules as every command's options.

-- The time of the last change recorded anywhere (the newest audit row): the same database state
-- always gives the same value, so a report regenerated later carries the same creation time.
-- SECURITY DEFINER because technicians cannot read the audit trail; only this time is revealed.
CREATE OR REPLACE FUNCTION fmtbank.report_as_of() RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT at FROM fmtbank.audit_log ORDER BY id DESC LIMIT 1
$$;

-- Validates one report parameter (--param NAME=VALUE) of a declared type and returns it
-- normalised as text for binding as a typed query parameter; raises FB001 naming the parameter.
-- p_end_of_day: for a timestamp, a date alone means the end of that day (the next midnight), so
-- "until=2026-11-30" includes all of the 30th.
CREATE OR REPLACE FUNCTION fmtbank.report_param(p_value text, p_type text, p_name text,
                                     p_end_of_day boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v text := btrim(p_value);
    field text := format('parameter "%s"', p_name);
BEGIN
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    CASE p_type
    WHEN 'text' THEN
        RETURN p_value;
    WHEN 'integer' THEN
        IF v !~ '^[+-]?[0-9]{1,18}$' THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('invalid integer "%s" for %s', p_value, field);
        END IF;
        RETURN v::bigint::text;
    WHEN 'number' THEN
        IF v !~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$' THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('invalid number "%s" for %s', p_value, field);
        END IF;
        RETURN v::numeric::text;
    WHEN 'boolean' THEN
        IF lower(v) NOT IN ('true', 'false', 'yes', 'no', 'on', 'off', '1', '0', 't', 'f') THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('invalid boolean "%s" for %s', p_value, field),
                HINT = 'Use yes or no.';
        END IF;
        RETURN v::boolean::text;
    WHEN 'date' THEN
        RETURN fmtbank.parse_date(v, field)::text;
    WHEN 'timestamp' THEN
        IF p_end_of_day AND v ~ '^\d{4}-\d{2}-\d{2}$' THEN
            RETURN (fmtbank.parse_date(v, field) + 1)::timestamptz::text;
        END IF;
        RETURN fmtbank.parse_ts(v, field)::text;
    ELSE
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid type "%s" for %s', p_type, field);
    END CASE;
EXCEPTION WHEN numeric_value_out_of_range THEN
    RAISE EXCEPTION USING ERRCODE = 'FB001',
        MESSAGE = format('value "%s" is out of range for %s', p_value, field);
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.report_as_of(),
    fmtbank.report_param(text, text, text, boolean)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
