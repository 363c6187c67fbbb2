-- 071_password_event: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

CREATE OR REPLACE FUNCTION fmtbank.user_secret_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.sig_hash IS NOT DISTINCT FROM OLD.sig_hash THEN
        RETURN NULL;
    END IF;
    INSERT INTO fmtbank.password_event (whose, kind)
    VALUES (NEW.name, CASE WHEN TG_OP = 'INSERT' THEN 'set'
                           WHEN NEW.name = session_user THEN 'changed'
                           ELSE 'reset' END);
    RETURN NULL;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

-- not granted (owner only): user_secret_event
