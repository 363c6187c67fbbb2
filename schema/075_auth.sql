-- 075_auth: one password per person (product.md Part II §15). The login password is the signature
-- password: fmtbank.password_apply sets, in one transaction, the role's login password (ALTER ROLE
-- with the plaintext, so the server module fmtbank_auth can check it; scram-sha-256 verifier)
-- with VALID UNTIL now + password_max_days, and the signing verifier (bcrypt) in user_secret,
-- refusing a password shorter than password_min_length or one of the last password_history.
-- Failed logins are counted by the server module (a file per role, no table can be written before
-- authentication); "user unlock" resets that count and the signature lockout.

SELECT fmtbank.rule_param_define('password_min_length', 12, 'characters', 8, 128, true,
    'shortest login and signature password', '21 CFR 11.300 (choice of values)');
SELECT fmtbank.rule_param_define('password_max_days', 365, 'days', 1, 3650, true,
    'a password expires this many days after it was set', '21 CFR 11.300 (choice of values)');
SELECT fmtbank.rule_param_define('password_history', 5, 'passwords', 1, 50, true,
    'a new password may not be any of this many latest passwords', '21 CFR 11.300 (choice of values)');
SELECT fmtbank.rule_param_define('login_max_failures', 5, 'attempts', 1, 100, true,
    'consecutive failed logins that lock a person until "user unlock" (the server module''s fmtbank_auth.login_max_failures)',
    '21 CFR 11.300 (choice of values)');

-- Every password a person had, as bcrypt hashes, for the history rule.
CREATE TABLE fmtbank.password_history (
    name     text NOT NULL REFERENCES fmtbank.app_user,
    sig_hash text NOT NULL,
    set_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    set_by   text NOT NULL DEFAULT session_user,
    PRIMARY KEY (name, set_at)
);
-- Not in the audit trail (no hash ever is, 071); the change is recorded by password_event.
REVOKE ALL ON fmtbank.password_history FROM PUBLIC;

-- The server module's failed-login counter, when the module is preloaded (embedded instance).
DO $$
DECLARE lib text;
BEGIN
    SELECT btrim(x, ' "') INTO lib
    FROM unnest(string_to_array(current_setting('shared_preload_libraries'), ',')) x
    WHERE x LIKE '%fmtbank_auth%' LIMIT 1;
    IF lib IS NOT NULL THEN
        EXECUTE format('CREATE FUNCTION fmtbank.login_failures_raw(text) RETURNS integer'
                       ' LANGUAGE c STRICT AS %L, %L', lib, 'fmtbank_login_failures');
        EXECUTE format('CREATE FUNCTION fmtbank.login_reset_raw(text) RETURNS integer'
                       ' LANGUAGE c STRICT AS %L, %L', lib, 'fmtbank_login_reset');
    END IF;
END $$;

CREATE FUNCTION fmtbank.user_login_failures(p_name text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE n integer := 0;
BEGIN
    IF to_regprocedure('fmtbank.login_failures_raw(text)') IS NOT NULL THEN
        EXECUTE 'SELECT fmtbank.login_failures_raw($1)' INTO n USING p_name;
    END IF;
    RETURN coalesce(n, 0);
END $$;

-- Sets the login and signing password of p_name (no permission check: callers check).
CREATE FUNCTION fmtbank.password_apply(p_name text, p_password text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
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
CREATE FUNCTION fmtbank.user_password(p_name text, p_new text, p_current text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
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

-- The old two-argument form: an admin resetting someone else's password.
CREATE OR REPLACE FUNCTION fmtbank.user_set_password(p_name text, p_password text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    RETURN fmtbank.user_password(p_name, p_password, NULL);
END $$;

CREATE OR REPLACE FUNCTION fmtbank.user_add(p_name text, p_role text, p_printed text, p_password text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    PERFORM fmtbank.require_role('adding users', 'admin');
    IF p_name IS NULL OR p_name !~ '^[a-z_][a-z0-9_]{0,62}$' OR p_name LIKE 'pg\_%'
       OR p_name LIKE 'fmtbank\_%' OR p_name IN ('postgres', 'fmtbankd') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid user name "%s"', p_name),
            HINT = 'Use lower-case letters, digits and underscores, starting with a letter.';
    END IF;
    IF p_role IS NULL OR p_role NOT IN ('technician', 'quality', 'auditor', 'admin') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid role "%s"', p_role),
            HINT = 'Use technician, quality, auditor or admin.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_name) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" already exists', p_name);
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN IN ROLE %I', p_name, 'fmtbank_' || p_role);
    INSERT INTO fmtbank.app_user (name, role, printed_name)
    VALUES (p_name, p_role, coalesce(nullif(btrim(p_printed), ''), p_name));
    IF p_password IS NOT NULL THEN
        PERFORM fmtbank.password_apply(p_name, p_password);
    END IF;
    RETURN p_name;
END $$;

-- Unlocks the login lockout (server module) and the signature lockout (070's signature_reset,
-- which settles first; guarded so this file also works without 070).
CREATE OR REPLACE FUNCTION fmtbank.user_unlock(p_name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    u fmtbank.app_user := fmtbank.user_get(p_name);
    unsettled boolean := false;
BEGIN
    PERFORM fmtbank.require_role('unlocking users', 'admin');
    IF to_regprocedure('fmtbank.signature_unsettled_failures(text)') IS NOT NULL THEN
        EXECUTE 'SELECT fmtbank.signature_unsettled_failures($1)' INTO unsettled USING p_name;
    END IF;
    IF u.locked_at IS NULL AND u.failed_attempts = 0 AND NOT coalesce(unsettled, false)
       AND fmtbank.user_login_failures(p_name) = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" is not locked', p_name);
    END IF;
    PERFORM fmtbank.acting_reason(true, 'unlocking a user');
    IF to_regprocedure('fmtbank.signature_reset(text)') IS NOT NULL THEN
        EXECUTE 'SELECT fmtbank.signature_reset($1)' USING p_name;
    ELSIF u.locked_at IS NOT NULL OR u.failed_attempts <> 0 THEN
        UPDATE fmtbank.app_user SET locked_at = NULL, failed_attempts = 0 WHERE name = p_name;
    END IF;
    IF to_regprocedure('fmtbank.login_reset_raw(text)') IS NOT NULL THEN
        EXECUTE 'SELECT fmtbank.login_reset_raw($1)' USING p_name;
    END IF;
    RETURN p_name;
END $$;

CREATE FUNCTION fmtbank.user_role(p_name text, p_role text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE u fmtbank.app_user := fmtbank.user_get(p_name);
BEGIN
    PERFORM fmtbank.require_role('changing roles', 'admin');
    IF p_role IS NULL OR p_role NOT IN ('technician', 'quality', 'auditor', 'admin') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid role "%s"', p_role),
            HINT = 'Use technician, quality, auditor or admin.';
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

CREATE FUNCTION fmtbank.user_enable(p_name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
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

-- "locked" also covers the login lockout of the server module.
CREATE OR REPLACE VIEW fmtbank.user_list AS
    SELECT u.name, u.role, u.printed_name,
           EXISTS (SELECT 1 FROM fmtbank.user_secret s WHERE s.name = u.name) AS has_signature,
           u.disabled_at IS NOT NULL AS disabled,
           u.locked_at IS NOT NULL
               OR fmtbank.user_login_failures(u.name)
                  >= coalesce(current_setting('fmtbank_auth.login_max_failures', true)::integer,
                              fmtbank.rule_value('login_max_failures')::integer) AS locked,
           u.created_at
    FROM fmtbank.app_user u;

REVOKE EXECUTE ON FUNCTION fmtbank.password_apply(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fmtbank.user_password(text, text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.user_role(text, text), fmtbank.user_enable(text) TO fmtbank_admin;
-- user_list calls it with the reader's privileges.
GRANT EXECUTE ON FUNCTION fmtbank.user_login_failures(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
