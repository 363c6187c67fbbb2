-- 050_daemon: what the batch daemon fmtbankd needs in the database: its role, the heartbeat
-- writer, the inbox ledger (each file's content imported exactly once, keyed by its SHA-256) and
-- the one entry point of the sweeps, fmtbank.sweep().
--
-- The daemon's role: the group fmtbank_daemon may write the heartbeat, record inbox files and run
-- the sweeps; it is a member of fmtbank_technician so inbox imports go through exactly the checked
-- functions a technician's "import" command uses (the audit trail names the daemon's login). The
-- login fmtbankd (no password: it logs in where the server's authentication lets it, e.g. peer or
-- trust over the Unix socket, or give it a password or certificate) is what fmtbankd connects as
-- by default. A site may use another login: GRANT fmtbank_daemon TO it.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'fmtbank_daemon') THEN
        CREATE ROLE fmtbank_daemon NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'fmtbankd') THEN
        CREATE ROLE fmtbankd LOGIN;
    END IF;
END $$;
GRANT fmtbank_technician TO fmtbank_daemon;
GRANT fmtbank_daemon TO fmtbankd;
GRANT USAGE ON SCHEMA fmtbank TO fmtbank_daemon;

-- ---------------------------------------------------------------- heartbeat
-- One row per daemon process (host, pid), refreshed every pass. The times are the server's, so a
-- daemon host's clock cannot make a heartbeat look fresh. The active daemon's beat marks every
-- other row inactive (a killed daemon cannot clear its own flag); rows of daemons silent for a
-- week are pruned (operational state, not a business record: no audit trail).
CREATE FUNCTION fmtbank.daemon_beat(p_host text, p_pid integer, p_active boolean,
                                    p_swept boolean, p_imported boolean, p_errors bigint)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
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

-- ---------------------------------------------------------------- inbox ledger
-- Every file the inbox handled: imported (exactly once per content: the partial unique index),
-- rejected (with its error report; the same content may come again once the cause is fixed, e.g.
-- a donor registered since), or a duplicate of content imported before (not imported again).
CREATE TABLE fmtbank.inbox_file (
    id          bigserial PRIMARY KEY,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    name        text NOT NULL CHECK (name <> ''),
    format      text NOT NULL,
    status      text NOT NULL CHECK (status IN ('imported', 'rejected', 'duplicate')),
    rows        bigint,
    error_report text,
    imported_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    imported_by text NOT NULL DEFAULT session_user
);
CREATE UNIQUE INDEX inbox_file_once ON fmtbank.inbox_file (sha256) WHERE status = 'imported';
SELECT fmtbank.audit_enable('fmtbank.inbox_file', 'id');
REVOKE ALL ON fmtbank.inbox_file FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.inbox_file_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.inbox_file
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

CREATE FUNCTION fmtbank.inbox_check(p_sha256 text, p_name text, p_format text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
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
CREATE FUNCTION fmtbank.inbox_claim(p_sha256 text, p_name text, p_format text)
RETURNS fmtbank.inbox_file LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
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
CREATE FUNCTION fmtbank.inbox_imported(p_sha256 text, p_rows bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE i bigint;
BEGIN
    PERFORM fmtbank.require_role('importing inbox files', 'daemon');
    UPDATE fmtbank.inbox_file SET rows = p_rows
    WHERE sha256 = p_sha256 AND status = 'imported' AND rows IS NULL
    RETURNING id INTO i;
    IF i IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('no claimed inbox file with SHA-256 "%s"', p_sha256);
    END IF;
    RETURN i;
END $$;

-- Records a file that was not imported: 'rejected' (with its error report) or 'duplicate'.
CREATE FUNCTION fmtbank.inbox_record(p_sha256 text, p_name text, p_format text, p_status text,
                                     p_report text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
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

-- ---------------------------------------------------------------- sweeps
-- The sweeps the daemon runs on its interval and at once on NOTIFY fmtbank_result or
-- fmtbank_rules. Each sweep is one set-based SQL function RETURNS TABLE (what text, n bigint)
-- registered here with its order; fmtbank.sweep() runs them all in order, each in its own
-- subtransaction so one failing sweep cannot hold back the others (lookback above all), and
-- returns one row per change to log. A failed sweep comes back as (its message, NULL): the daemon
-- logs it as an error. Register with fmtbank.sweep_register('lot-ready', 'fmtbank.sweep_lot_ready()', 30)
-- (or, as other migrations may, CREATE OR REPLACE fmtbank.sweep() itself with the same result).
CREATE TABLE fmtbank.sweep_step (
    name  text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9-]*$'),
    fn    regprocedure NOT NULL,
    ord   integer NOT NULL DEFAULT 100,
    note  text
);
SELECT fmtbank.audit_enable('fmtbank.sweep_step', 'name');
REVOKE ALL ON fmtbank.sweep_step FROM PUBLIC;
GRANT SELECT ON fmtbank.sweep_step
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin, fmtbank_daemon;

-- For migrations (run by the superuser): registers or re-registers a sweep function.
CREATE FUNCTION fmtbank.sweep_register(p_name text, p_fn regprocedure, p_ord integer DEFAULT 100,
                                       p_note text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF (SELECT pronargs FROM pg_proc WHERE oid = p_fn) <> 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('sweep function %s must take no arguments', p_fn);
    END IF;
    INSERT INTO fmtbank.sweep_step (name, fn, ord, note) VALUES (p_name, p_fn, p_ord, p_note)
    ON CONFLICT (name) DO UPDATE SET fn = excluded.fn, ord = excluded.ord, note = excluded.note;
END $$;

CREATE FUNCTION fmtbank.sweep() RETURNS TABLE (what text, n bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
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

GRANT EXECUTE ON FUNCTION fmtbank.daemon_beat(text, integer, boolean, boolean, boolean, bigint),
    fmtbank.inbox_claim(text, text, text), fmtbank.inbox_imported(text, bigint),
    fmtbank.inbox_record(text, text, text, text, text), fmtbank.sweep()
    TO fmtbank_daemon;
GRANT EXECUTE ON FUNCTION fmtbank.sweep() TO fmtbank_admin;
