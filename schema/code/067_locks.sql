-- 067_locks: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- ---------------------------------------------------------------- bounded lock waits
-- Takes the transaction-level advisory lock p_key, waiting at most fmtbank.lock_timeout.
-- p_what names the lock in the message. Not SECURITY DEFINER: called by the owner's functions.
CREATE OR REPLACE FUNCTION fmtbank.lock_wait(p_key bigint, p_what text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    setting text;
    ms bigint;
    old text;
BEGIN
    -- The common case, no other writer: no subtransaction, no setting parsed.
    IF pg_try_advisory_xact_lock(p_key) THEN
        RETURN;
    END IF;
    setting := coalesce(nullif(btrim(current_setting('fmtbank.lock_timeout', true)), ''), '10s');
    BEGIN
        ms := CASE WHEN setting ~ '^[0-9]+$' THEN setting::bigint
                   ELSE round(extract(epoch FROM setting::interval) * 1000)::bigint END;
    EXCEPTION WHEN others THEN
        ms := NULL;
    END;
    IF ms IS NULL OR ms < 0 OR ms > 2147483647 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid fmtbank.lock_timeout "%s"', setting),
            HINT = 'Use a duration such as 10s or 500ms, or 0 to wait without limit.';
    END IF;
    old := current_setting('lock_timeout');
    PERFORM set_config('lock_timeout', ms::text, true);
    BEGIN
        PERFORM pg_advisory_xact_lock(p_key);
    EXCEPTION WHEN lock_not_available THEN
        RAISE EXCEPTION USING ERRCODE = '55P03',
            MESSAGE = format('another writer holds %s for more than %s s; try again', p_what,
                             trim_scale(round(ms / 1000.0, 3))),
            DETAIL = 'Nothing was changed.',
            HINT = 'fmtbank.lock_timeout sets how long a writer waits. If it keeps happening, '
                   'look for a session that is idle in a transaction (pg_stat_activity).';
    END;
    PERFORM set_config('lock_timeout', old, true);
END $$;

-- Every writer of results, then of the audit chain, in this order. Callable by the roles that
-- write (not by the auditor). Deliberately not checked with require_role: the migration runner
-- grants every function that calls it to every fmtbank role.
CREATE OR REPLACE FUNCTION fmtbank.write_lock() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT fmtbank.acting_is('technician', 'quality', 'admin', 'daemon') THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = 'permission denied: writing requires the technician, quality, admin or daemon role',
            DETAIL = format('The acting user "%s" has none of them.', session_user);
    END IF;
    PERFORM fmtbank.lock_wait(70640012, 'the results lock');
    PERFORM fmtbank.lock_wait(70640001, 'the audit chain');
END $$;

-- The daemon's leadership: a session-level lock taken in the daemon's own (lock) session, so
-- it is held until that session ends. Only the daemon's role may call it.
CREATE OR REPLACE FUNCTION fmtbank.daemon_try_lead() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN pg_try_advisory_lock(7064005001);
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

-- not granted (owner only): lock_wait

GRANT EXECUTE ON FUNCTION
    fmtbank.write_lock()
    TO fmtbank_technician, fmtbank_quality, fmtbank_admin, fmtbank_daemon;

GRANT EXECUTE ON FUNCTION
    fmtbank.daemon_try_lead()
    TO fmtbank_daemon;
