-- 075_auth: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

CREATE OR REPLACE FUNCTION fmtbank.user_login_failures(p_name text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE n integer := 0;
BEGIN
    IF to_regprocedure('fmtbank.login_failures_raw(text)') IS NOT NULL THEN
        EXECUTE 'SELECT fmtbank.login_failures_raw($1)' INTO n USING p_name;
    END IF;
    RETURN coalesce(n, 0);
END $$;

-- Sets the login and signing password of p_name (no permission check: callers check).
CREATE OR REPLACE FUNCTION fmtbank.password_apply(p_name text, p_password text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    minlen integer := fmtbank.rule_value('password_min_length');
    hist integer := fmtbank.rule_value('password_history');
    maxd integer := fmtbank.rule_value('password_max_days');
    h text;
BEGIN
    IF p_password IS NULL OR length(p_password) < minlen THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('password must have at least %s characters', minlen);
    END IF;
    IF EXISTS (SELECT 1 FROM (SELECT p.sig_hash FROM fmtbank.password_history p
                              WHERE p.name = p_name ORDER BY p.set_at DESC LIMIT hist) x
               WHERE fmtbank.crypt(p_password, x.sig_hash) = x.sig_hash) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('password refused: it is one of the last %s passwords of "%s"', hist, p_name);
    END IF;
    h := fmtbank.crypt(p_password, fmtbank.gen_salt('bf', 10));
    BEGIN
        EXECUTE format('ALTER ROLE %I PASSWORD %L VALID UNTIL %L', p_name, p_password,
                       (clock_timestamp() + make_interval(days => maxd))::text);
    EXCEPTION WHEN OTHERS THEN
        -- re-raised without the statement (it holds the password) in the error context
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = SQLERRM;
    END;
    INSERT INTO fmtbank.user_secret (name, sig_hash) VALUES (p_name, h)
    ON CONFLICT (name) DO UPDATE SET sig_hash = excluded.sig_hash, set_at = clock_timestamp();
    INSERT INTO fmtbank.password_history (name, sig_hash) VALUES (p_name, h);
END $$;

-- "fmtbank user password": one's own (the current password required) or, for an admin, anyone's.
CREATE OR REPLACE FUNCTION fmtbank.user_password(p_name text, p_new text, p_current text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE u fmtbank.app_user := fmtbank.user_get(p_name);
BEGIN
    IF p_name = session_user AND EXISTS (SELECT 1 FROM fmtbank.user_secret s WHERE s.name = p_name) THEN
        IF p_current IS NULL OR NOT EXISTS (SELECT 1 FROM fmtbank.user_secret s WHERE s.name = p_name
                                            AND fmtbank.crypt(p_current, s.sig_hash) = s.sig_hash) THEN
            RAISE EXCEPTION USING ERRCODE = '28P01',
                MESSAGE = 'the current password is wrong',
                HINT = 'Changing one''s own password needs the current one.';
        END IF;
    ELSIF p_name = session_user THEN
        PERFORM fmtbank.require_role('setting a first password', 'admin');
    ELSE
        PERFORM fmtbank.require_role('setting another user''s password', 'admin');
    END IF;
    IF u.disabled_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" is disabled', p_name);
    END IF;
    PERFORM fmtbank.password_apply(p_name, p_new);
    RETURN p_name;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.user_role(p_name text, p_role text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE u fmtbank.app_user := fmtbank.user_get(p_name);
BEGIN
    PERFORM fmtbank.require_role('changing roles', 'admin');
    IF p_role IS NULL OR p_role NOT IN ('technician', 'quality', 'auditor', 'admin', 'site') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid role "%s"', p_role),
            HINT = 'Use technician, quality, auditor, admin or site.';
    END IF;
    IF p_name = session_user THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = 'cannot change your own role';
    END IF;
    IF u.role = p_role THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" already has role %s', p_name, p_role);
    END IF;
    PERFORM fmtbank.acting_reason(true, 'changing a role');
    EXECUTE format('REVOKE %I FROM %I', 'fmtbank_' || u.role, p_name);
    EXECUTE format('GRANT %I TO %I', 'fmtbank_' || p_role, p_name);
    UPDATE fmtbank.app_user SET role = p_role WHERE name = p_name;
    RETURN p_name;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.user_enable(p_name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE u fmtbank.app_user := fmtbank.user_get(p_name);
BEGIN
    PERFORM fmtbank.require_role('enabling users', 'admin');
    IF u.disabled_at IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" is not disabled', p_name);
    END IF;
    PERFORM fmtbank.acting_reason(true, 'enabling a user');
    EXECUTE format('ALTER ROLE %I LOGIN', p_name);
    UPDATE fmtbank.app_user SET disabled_at = NULL WHERE name = p_name;
    RETURN p_name;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.user_login_failures(text),
    fmtbank.user_password(text, text, text),
    fmtbank.user_role(text, text),
    fmtbank.user_enable(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): password_apply
