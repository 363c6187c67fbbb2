-- 072_printed_name: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 072_printed_name: a printed name identifies one signer (21 CFR Part 11 §11.50, §11.100(a)):
-- among enabled users no two printed names are the same ignoring case and white space ("Quinn
-- Qualmann", "quinn  qualmann" and "QuinnQualmann" are one name). A disabled user's name is free
-- again (their signatures keep it, with their user name). A trigger gives the clear error for
-- every path that writes app_user (user add, and any rename or re-enable); the partial unique
-- index backs it up against two at once.
CREATE OR REPLACE FUNCTION fmtbank.printed_name_key(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN lower(regexp_replace(p, '\s+', '', 'g'));

CREATE OR REPLACE FUNCTION fmtbank.printed_name_unique() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE other text;
BEGIN
    SELECT u.name INTO other FROM fmtbank.app_user u
    WHERE u.disabled_at IS NULL AND u.name <> NEW.name
      AND fmtbank.printed_name_key(u.printed_name) = fmtbank.printed_name_key(NEW.printed_name)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('printed name "%s" is already the printed name of user "%s"',
                             NEW.printed_name, other),
            DETAIL = 'A printed name identifies one signer (case and spaces do not make it another).',
            HINT = 'Give a distinct printed name with --name, e.g. with a middle initial.';
    END IF;
    RETURN NEW;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.printed_name_key(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): printed_name_unique
