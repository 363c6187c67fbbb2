-- 067_locks: one lock order for every writer, bounded lock waits, and advisory locks only the
-- owner can take (issue 15 items 3 and 4).
--
-- Lock order: the result writers' lock (70640012) before the audit chain's (70640001). A result
-- import used to take 70640012 in result_stage_validate and then 70640001 in audit_write, while
-- the daemon's inbox import took 70640001 first (the audited inbox_claim) and 70640012 after it:
-- the two deadlocked. fmtbank.write_lock() takes both in the canonical order; every path that
-- will write results calls it first (CLI "result import", the daemon's inbox import). Both
-- locks are transaction locks and re-entrant, so the later calls in the same transaction return
-- at once.
--
-- Bounded waits: fmtbank.lock_wait() waits at most fmtbank.lock_timeout (a setting, default
-- 10s; 0 waits for ever) and then raises SQLSTATE 55P03 "another writer holds the audit chain
-- for more than 10 s; try again". It waits with PostgreSQL's own lock_timeout, so the deadlock
-- detector still sees the wait (40P01, retried by the client).
--
-- Nobody else holds the locks: EXECUTE on every pg_catalog pg_advisory*lock* and
-- pg_try_advisory* function is revoked from PUBLIC and granted to fmtbank_owner (the superuser
-- keeps it). The daemon takes its leadership lock through fmtbank.daemon_try_lead().

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'fmtbank_owner') THEN
        CREATE ROLE fmtbank_owner NOLOGIN;
    END IF;
END $$;

-- ---------------------------------------------------------------- bounded lock waits
-- Takes the transaction-level advisory lock p_key, waiting at most fmtbank.lock_timeout.
-- p_what names the lock in the message. Not SECURITY DEFINER: called by the owner's functions.
CREATE FUNCTION fmtbank.lock_wait(p_key bigint, p_what text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
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
REVOKE ALL ON FUNCTION fmtbank.lock_wait(bigint, text) FROM PUBLIC;

-- Every writer of results, then of the audit chain, in this order. Callable by the roles that
-- write (not by the auditor). Deliberately not checked with require_role: the migration runner
-- grants every function that calls it to every fmtbank role.
CREATE FUNCTION fmtbank.write_lock() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF NOT fmtbank.acting_is('technician', 'quality', 'admin', 'daemon') THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = 'permission denied: writing requires the technician, quality, admin or daemon role',
            DETAIL = format('The acting user "%s" has none of them.', session_user);
    END IF;
    PERFORM fmtbank.lock_wait(70640012, 'the results lock');
    PERFORM fmtbank.lock_wait(70640001, 'the audit chain');
END $$;
REVOKE ALL ON FUNCTION fmtbank.write_lock() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fmtbank.write_lock()
    TO fmtbank_technician, fmtbank_quality, fmtbank_admin, fmtbank_daemon;

-- The existing lock calls become bounded waits: audit_write (70640001) and result_stage_validate
-- (70640012) are redefined from their current text with only the lock call replaced, so whatever
-- earlier migrations made of them stays; a function without the call stops the migration.
DO $$
DECLARE
    r record;
    def text;
BEGIN
    FOR r IN SELECT * FROM (VALUES
                 ('fmtbank.audit_write(text, text, text, boolean, jsonb[], jsonb[])'::regprocedure,
                  70640001::bigint, 'the audit chain'),
                 ('fmtbank.result_stage_validate(boolean)'::regprocedure, 70640012, 'the results lock'))
                 AS v(f, k, what) LOOP
        def := pg_catalog.pg_get_functiondef(r.f);
        IF pg_catalog.strpos(def, pg_catalog.format('pg_advisory_xact_lock(%s)', r.k)) = 0 THEN
            RAISE EXCEPTION '067_locks: % no longer calls pg_advisory_xact_lock(%)', r.f, r.k;
        END IF;
        def := pg_catalog.regexp_replace(def,
                   pg_catalog.format('(pg_catalog\.)?pg_advisory_xact_lock\(%s\)', r.k),
                   pg_catalog.format('fmtbank.lock_wait(%s, %L)', r.k, r.what), 'g');
        EXECUTE def;
    END LOOP;
END $$;

-- ---------------------------------------------------------------- advisory locks: owner only
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
             WHERE p.pronamespace = 'pg_catalog'::regnamespace
               AND (p.proname LIKE 'pg\_advisory%lock%' OR p.proname LIKE 'pg\_try\_advisory%')
             ORDER BY 1 LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO fmtbank_owner', f);
    END LOOP;
END $$;

-- The daemon's leadership: a session-level lock taken in the daemon's own (lock) session, so
-- it is held until that session ends. Only the daemon's role may call it.
CREATE FUNCTION fmtbank.daemon_try_lead() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    RETURN pg_try_advisory_lock(7064005001);
END $$;
REVOKE ALL ON FUNCTION fmtbank.daemon_try_lead() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fmtbank.daemon_try_lead() TO fmtbank_daemon;

-- Where the objects already belong to fmtbank_owner (the "escal" migrations), the functions above
-- do too; otherwise they stay with the superuser running the migrations, like everything else.
DO $$
DECLARE f regprocedure;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_proc
               WHERE oid = 'fmtbank.audit_write(text, text, text, boolean, jsonb[], jsonb[])'::regprocedure
                 AND proowner = 'fmtbank_owner'::regrole) THEN
        FOREACH f IN ARRAY ARRAY['fmtbank.lock_wait(bigint, text)'::regprocedure,
                                 'fmtbank.write_lock()'::regprocedure,
                                 'fmtbank.daemon_try_lead()'::regprocedure] LOOP
            EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO fmtbank_owner', f);
        END LOOP;
    END IF;
END $$;
