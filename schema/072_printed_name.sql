-- 072_printed_name: a printed name identifies one signer (21 CFR Part 11 §11.50, §11.100(a)):
-- among enabled users no two printed names are the same ignoring case and white space ("Quinn
-- Qualmann", "quinn  qualmann" and "QuinnQualmann" are one name). A disabled user's name is free
-- again (their signatures keep it, with their user name). A trigger gives the clear error for
-- every path that writes app_user (user add, and any rename or re-enable); the partial unique
-- index backs it up against two at once.

CREATE FUNCTION fmtbank.printed_name_key(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN lower(regexp_replace(p, '\s+', '', 'g'));

DO $$
DECLARE dup text;
BEGIN
    SELECT string_agg(format('%s (%s)', g.names, g.k), '; ') INTO dup
    FROM (SELECT fmtbank.printed_name_key(printed_name) AS k,
                 string_agg(name, ', ' ORDER BY name) AS names
          FROM fmtbank.app_user WHERE disabled_at IS NULL
          GROUP BY 1 HAVING count(*) > 1) g;
    IF dup IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = 'enabled users share a printed name',
            DETAIL = dup,
            HINT = 'Disable one of each, or change a printed name, then upgrade again.';
    END IF;
END $$;

CREATE FUNCTION fmtbank.printed_name_unique() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
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

CREATE TRIGGER printed_name_unique BEFORE INSERT OR UPDATE OF printed_name, disabled_at
    ON fmtbank.app_user FOR EACH ROW WHEN (NEW.disabled_at IS NULL)
    EXECUTE FUNCTION fmtbank.printed_name_unique();

CREATE UNIQUE INDEX app_user_printed_name_enabled
    ON fmtbank.app_user (fmtbank.printed_name_key(printed_name)) WHERE disabled_at IS NULL;

GRANT EXECUTE ON FUNCTION fmtbank.printed_name_key(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA fmtbank FROM PUBLIC;
