-- 050_daemon: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- ---------------------------------------------------------------- heartbeat
-- One row per daemon process (host, pid), refreshed every pass. The times are the server's, so a
-- daemon host's clock cannot make a heartbeat look fresh. The active daemon's beat marks every
-- other row inactive (a killed daemon cannot clear its own flag); rows of daemons silent for a
-- week are pruned (operational state, not a business record: no audit trail).
CREATE OR REPLACE FUNCTION fmtbank.daemon_beat(p_host text, p_pid integer, p_active boolean,
                                    p_swept boolean, p_imported boolean, p_errors bigint)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE t timestamptz := clock_timestamp();
BEGIN
    PERFORM fmtbank.require_role('writing the daemon heartbeat', 'daemon');
    IF p_host IS NULL OR p_pid IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'daemon heartbeat needs a host and a pid';
    END IF;
    IF p_active THEN
        UPDATE fmtbank.daemon_heartbeat SET active = false
        WHERE active AND (host, pid) <> (p_host, p_pid);
    END IF;
    INSERT INTO fmtbank.daemon_heartbeat AS h (host, pid, started_at, beat_at, last_sweep,
                                               last_import, errors, active)
    VALUES (p_host, p_pid, t, t, CASE WHEN p_swept THEN t END,
            CASE WHEN p_imported THEN t END, coalesce(p_errors, 0), coalesce(p_active, false))
    ON CONFLICT (host, pid) DO UPDATE
        SET beat_at = t,
            last_sweep = CASE WHEN p_swept THEN t ELSE h.last_sweep END,
            last_import = CASE WHEN p_imported THEN t ELSE h.last_import END,
            errors = excluded.errors, active = excluded.active;
    DELETE FROM fmtbank.daemon_heartbeat WHERE NOT active AND beat_at < t - interval '7 days';
END $$;

CREATE OR REPLACE FUNCTION fmtbank.inbox_check(p_sha256 text, p_name text, p_format text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_sha256 IS NULL OR p_sha256 !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid SHA-256 "%s"', coalesce(p_sha256, ''));
    END IF;
    IF nullif(p_name, '') IS NULL OR nullif(p_format, '') IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'an inbox file needs a name and a format';
    END IF;
END $$;

-- Called first in the file's import transaction: claims its content. Returns NULL when claimed
-- (the row commits or rolls back with the import), or the earlier import's row when this content
-- was imported before. A concurrent import of the same content waits here for the other
-- transaction and then sees it (or claims the content if the other one rolled back).
CREATE OR REPLACE FUNCTION fmtbank.inbox_claim(p_sha256 text, p_name text, p_format text)
RETURNS fmtbank.inbox_file LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE f fmtbank.inbox_file;
BEGIN
    PERFORM fmtbank.require_role('importing inbox files', 'daemon');
    PERFORM fmtbank.inbox_check(p_sha256, p_name, p_format);
    INSERT INTO fmtbank.inbox_file (sha256, name, format, status)
    VALUES (p_sha256, p_name, p_format, 'imported')
    ON CONFLICT (sha256) WHERE status = 'imported' DO NOTHING;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO f FROM fmtbank.inbox_file WHERE sha256 = p_sha256 AND status = 'imported';
    RETURN f;
END $$;

-- Called last in the import transaction: how many rows the file brought.
CREATE OR REPLACE FUNCTION fmtbank.inbox_imported(p_sha256 text, p_rows bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i bigint;
    counted bigint;
BEGIN
    PERFORM fmtbank.require_role('importing inbox files', 'daemon');
    -- Only a claim made in this transaction (rows of other transactions are not ours to finish).
    SELECT f.id INTO i FROM fmtbank.inbox_file f
    WHERE f.sha256 = p_sha256 AND f.status = 'imported' AND f.rows IS NULL
      AND pg_xact_status((((pg_current_xact_id()::text::bigint >> 32) << 32)
                          | f.xmin::text::bigint)::text::xid8) = 'in progress';
    IF i IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('no claimed inbox file with SHA-256 "%s"', p_sha256);
    END IF;
    counted := fmtbank.inbox_rows_here();
    IF counted = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = 'the file imports no rows',
            DETAIL = 'A content is recorded as imported only together with the rows it imported.';
    END IF;
    IF p_rows IS NOT NULL AND p_rows > counted THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('the import reports %s rows, the server counted %s', p_rows, counted);
    END IF;
    UPDATE fmtbank.inbox_file SET rows = coalesce(p_rows, counted) WHERE id = i;
    RETURN i;
END $$;

-- Records a file that was not imported: 'rejected' (with its error report) or 'duplicate'.
CREATE OR REPLACE FUNCTION fmtbank.inbox_record(p_sha256 text, p_name text, p_format text, p_status text,
                                     p_report text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE i bigint;
BEGIN
    PERFORM fmtbank.require_role('importing inbox files', 'daemon');
    PERFORM fmtbank.inbox_check(p_sha256, p_name, p_format);
    IF p_status IS NULL OR p_status NOT IN ('rejected', 'duplicate') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid inbox file status "%s"', coalesce(p_status, '')),
            HINT = 'Use rejected or duplicate.';
    END IF;
    INSERT INTO fmtbank.inbox_file (sha256, name, format, status, error_report)
    VALUES (p_sha256, p_name, p_format, p_status, p_report)
    RETURNING id INTO i;
    RETURN i;
END $$;

-- fmtbank.sweep() (SECURITY DEFINER) now runs the registered sweep functions as fmtbank_owner, not
-- as a superuser: registering one (superusers only, as before) lets the owner execute it. A sweep
-- function outside schema fmtbank that reads or writes other tables needs those rights granted
-- to fmtbank_owner, or must itself be SECURITY DEFINER owned by a role that has them.
CREATE OR REPLACE FUNCTION fmtbank.sweep_register(p_name text, p_fn regprocedure,
                                                  p_ord integer DEFAULT 100,
                                                  p_note text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (SELECT p.pronargs FROM pg_catalog.pg_proc p WHERE p.oid = p_fn) <> 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('sweep function %s must take no arguments', p_fn);
    END IF;
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO fmtbank_owner', p_fn);
    INSERT INTO fmtbank.sweep_step (name, fn, ord, note) VALUES (p_name, p_fn, p_ord, p_note)
    ON CONFLICT (name) DO UPDATE SET fn = excluded.fn, ord = excluded.ord, note = excluded.note;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.sweep() RETURNS TABLE (what text, n bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE s fmtbank.sweep_step;
BEGIN
    PERFORM fmtbank.require_role('running the sweeps', 'daemon', 'admin');
    FOR s IN SELECT * FROM fmtbank.sweep_step ORDER BY ord, name LOOP
        BEGIN
            RETURN QUERY EXECUTE format('SELECT %L || '': '' || r.what, r.n FROM %s AS r(what, n)'
                                        ' WHERE r.n IS DISTINCT FROM 0',
                                        s.name, s.fn::text);
        EXCEPTION WHEN OTHERS THEN
            what := format('%s: failed: %s', s.name, SQLERRM);
            n := NULL;
            RETURN NEXT;
        END;
    END LOOP;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.daemon_beat(text, integer, boolean, boolean, boolean, bigint),
    fmtbank.inbox_claim(text, text, text),
    fmtbank.inbox_imported(text, bigint),
    fmtbank.inbox_record(text, text, text, text, text),
    fmtbank.sweep()
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin, fmtbank_daemon;

-- not granted (owner only): inbox_check, sweep_register
