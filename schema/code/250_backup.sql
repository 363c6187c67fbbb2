-- 250_backup: functions (code: re-applied as a set by "fmtbank init", see README.md "SQL as code")
-- of "fmtbank backup" (product.md §15): who may manage backups, and what a point-in-time restore
-- reads before it replaces the data and writes once it is back (fmtbank.restore_event, migration
-- 250: the "restored to T" anchor of the audit chain).

-- backup setup|run|list|check: the administrator's (the CLI asks before it touches pgBackRest).
CREATE OR REPLACE FUNCTION fmtbank.backup_allowed() RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.require_role('managing backups', 'admin');
END $$;

-- Before a restore to p_target, on the data about to be replaced: the target checked (a past
-- time) and spelled for pgBackRest (UTC), its epoch (to compare with the backups' times), the
-- chain head, and the id and time of every audit row written from an hour before the target on:
-- audit ids follow commit order (audit_write's lock), so the rows lost are those of these above
-- the last id the restored data holds (restore_record compares). A transaction open for more than
-- an hour across T would have rows earlier than this list; their count is then a lower bound.
CREATE OR REPLACE FUNCTION fmtbank.restore_prepare(p_target text, OUT target text,
                                                   OUT target_epoch bigint, OUT head_seq bigint,
                                                   OUT head_hash text, OUT recent_ids bigint[],
                                                   OUT recent_at timestamptz[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE t timestamptz;
BEGIN
    PERFORM fmtbank.require_role('restoring the database', 'admin');
    PERFORM fmtbank.acting_reason(true, 'restoring the database');
    t := fmtbank.parse_ts(p_target, '--target-time');
    IF t >= clock_timestamp() THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('--target-time %s is not in the past', p_target),
            HINT = 'A restore goes back to a time before now.';
    END IF;
    target := to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00';
    target_epoch := floor(extract(epoch FROM t))::bigint;
    SELECT a.id, encode(a.hash, 'hex') INTO head_seq, head_hash
    FROM fmtbank.audit_log a ORDER BY a.id DESC LIMIT 1;
    SELECT coalesce(array_agg(a.id ORDER BY a.id), '{}'), coalesce(array_agg(a.at ORDER BY a.id), '{}')
    INTO recent_ids, recent_at
    FROM fmtbank.audit_log a WHERE a.at > t - interval '1 hour';
END $$;

-- Of the SHA-256s of files in the inbox's processed/ directory, those whose content the
-- (restored) database has not recorded as imported: they go back into the inbox.
CREATE OR REPLACE FUNCTION fmtbank.restore_unimported(p_hashes text[]) RETURNS SETOF text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.require_role('restoring the database', 'admin');
    RETURN QUERY
        SELECT DISTINCT h FROM unnest(p_hashes) AS u(h)
        WHERE NOT EXISTS (SELECT 1 FROM fmtbank.inbox_file f
                          WHERE f.sha256 = u.h AND f.status = 'imported');
END $$;

-- After the restore, the first write: the restore_event row (its audit row is the "restored to T"
-- anchor row) naming the replaced chain head and the audit rows lost (those of the replaced data
-- above the restored head). The audit id sequence moves past the replaced head, so a lost row's id
-- never names another row. Returns what was lost and the new chain head (the anchor row).
CREATE OR REPLACE FUNCTION fmtbank.restore_record(p_target text, p_old_seq bigint, p_old_hash text,
                                                  p_recent_ids bigint[], p_recent_at timestamptz[],
                                                  p_old_datadir text, p_requeued text[],
                                                  OUT restored_seq bigint, OUT lost_rows bigint,
                                                  OUT lost_first bigint, OUT lost_last bigint,
                                                  OUT lost_from timestamptz, OUT lost_to timestamptz,
                                                  OUT anchor_seq bigint, OUT anchor_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    why text;
    t timestamptz;
BEGIN
    PERFORM fmtbank.require_role('restoring the database', 'admin');
    why := fmtbank.acting_reason(true, 'restoring the database');
    t := fmtbank.parse_ts(p_target, '--target-time');
    IF pg_is_in_recovery() THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = 'the database is still recovering: the restore is not finished';
    END IF;
    IF cardinality(p_recent_ids) IS DISTINCT FROM cardinality(p_recent_at) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'audit ids and times do not pair up';
    END IF;
    PERFORM fmtbank.lock_wait(70640001, 'the audit chain');
    SELECT max(a.id) INTO restored_seq FROM fmtbank.audit_log a;
    SELECT count(*), min(u.id), max(u.id), min(u.at), max(u.at)
    INTO lost_rows, lost_first, lost_last, lost_from, lost_to
    FROM unnest(p_recent_ids, p_recent_at) AS u(id, at)
    WHERE u.id > coalesce(restored_seq, 0);
    IF p_old_seq > coalesce(restored_seq, 0) THEN
        lost_first := coalesce(lost_first, coalesce(restored_seq, 0) + 1);
        lost_last := p_old_seq;
        PERFORM setval('fmtbank.audit_log_id_seq',
                       greatest(p_old_seq, (SELECT s.last_value FROM fmtbank.audit_log_id_seq s)));
    END IF;
    INSERT INTO fmtbank.restore_event (target_time, old_head_seq, old_head_hash, restored_head_seq,
                                       lost_first_seq, lost_last_seq, lost_rows, lost_from, lost_to,
                                       old_datadir, requeued_files, reason)
    VALUES (t, p_old_seq, p_old_hash, restored_seq, lost_first, lost_last, lost_rows, lost_from,
            lost_to, p_old_datadir, coalesce(p_requeued, '{}'), why);
    SELECT a.id, encode(a.hash, 'hex') INTO anchor_seq, anchor_hash
    FROM fmtbank.audit_log a ORDER BY a.id DESC LIMIT 1;
END $$;

-- ---------------------------------------------------------------- privileges
GRANT EXECUTE ON FUNCTION
    fmtbank.backup_allowed(),
    fmtbank.restore_prepare(text),
    fmtbank.restore_unimported(text[]),
    fmtbank.restore_record(text, bigint, text, bigint[], timestamptz[], text, text[])
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- (each function refuses everyone but admin itself, naming the role)
