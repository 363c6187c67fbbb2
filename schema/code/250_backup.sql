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
-- audit ids follow commit order (the audit trigger's lock, 001 audit_stmt), so the rows lost are those of these above
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
    tl integer;
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
    -- A restore that promoted runs on a new WAL timeline: one restore record per timeline.
    tl := ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::integer;
    IF tl <= coalesce((SELECT max(e.timeline) FROM fmtbank.restore_event e), 1) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = 'no point-in-time restore to record',
            DETAIL = format('The server is on WAL timeline %s, which %s.', tl,
                            CASE WHEN tl = 1 THEN 'no restore has started'
                                 ELSE 'a restore record already names' END),
            HINT = 'A restore record is written by "fmtbank backup restore" after the restore.';
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
                                       old_datadir, requeued_files, timeline, reason)
    VALUES (t, p_old_seq, p_old_hash, restored_seq, lost_first, lost_last, lost_rows, lost_from,
            lost_to, p_old_datadir, coalesce(p_requeued, '{}'), tl, why);
    SELECT a.id, encode(a.hash, 'hex') INTO anchor_seq, anchor_hash
    FROM fmtbank.audit_log a ORDER BY a.id DESC LIMIT 1;
END $$;

-- ---------------------------------------------------------------- the 30-year archive
-- "fmtbank archive --until D -o DIR" (quality; product.md §15): archive_begin(D) checks the role
-- and D and sets the session's bound (the start of the day after D, fmtbank.archive_until); each
-- archive_* view is one dataset of the archive: the records created before the bound (as they
-- stand now; their history up to the bound is in the audit segment). The views read the tables
-- with their owner's rights and are granted to quality only. Donor identity (archive_donor_identity)
-- and the audit rows of identity changes (archive_audit_sealed, the full rows; archive_audit
-- holds them without their content) go only into the sealed file.
CREATE OR REPLACE FUNCTION fmtbank.archive_until() RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE v text := nullif(current_setting('fmtbank.archive_until', true), '');
BEGIN
    IF v IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'no archive date set',
            HINT = 'The archive views are read after fmtbank.archive_begin(D) ("fmtbank archive").';
    END IF;
    RETURN v::timestamptz;
END $$;

-- The audit segment of the archive: every row up to the last one written before the bound (ids
-- follow commit order, so this is a prefix of the chain, checkable from its first row).
CREATE OR REPLACE FUNCTION fmtbank.archive_audit_last() RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT max(a.id) FROM fmtbank.audit_log a WHERE a.at < fmtbank.archive_until()
$$;

CREATE OR REPLACE FUNCTION fmtbank.archive_begin(p_until text, OUT until_bound text,
                                                 OUT audit_rows bigint, OUT audit_last bigint,
                                                 OUT audit_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE d date;
BEGIN
    PERFORM fmtbank.require_role('writing the archive', 'quality');
    d := fmtbank.parse_date(p_until, '--until');
    IF d > current_date THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('--until %s is in the future', p_until),
            HINT = 'The archive holds what was recorded by the end of that day.';
    END IF;
    until_bound := ((d + 1)::timestamptz)::text;
    PERFORM set_config('fmtbank.archive_until', until_bound, false);
    SELECT count(*), max(a.id) INTO audit_rows, audit_last
    FROM fmtbank.audit_log a WHERE a.id <= fmtbank.archive_audit_last();
    SELECT encode(a.hash, 'hex') INTO audit_hash FROM fmtbank.audit_log a WHERE a.id = audit_last;
END $$;

CREATE OR REPLACE VIEW fmtbank.archive_donors AS
    SELECT d.* FROM fmtbank.donor d WHERE d.created_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_donor_decisions AS
    SELECT d.code AS donor, x.* FROM fmtbank.donor_decision x JOIN fmtbank.donor d ON d.id = x.donor_id
    WHERE x.recorded_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_donor_consents AS
    SELECT d.code AS donor, x.* FROM fmtbank.donor_consent x JOIN fmtbank.donor d ON d.id = x.donor_id
    WHERE x.recorded_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_questionnaires AS
    SELECT d.code AS donor, q.* FROM fmtbank.questionnaire q JOIN fmtbank.donor d ON d.id = q.donor_id
    WHERE q.recorded_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_questionnaire_answers AS
    SELECT a.* FROM fmtbank.questionnaire_answer a
    JOIN fmtbank.questionnaire q ON q.id = a.questionnaire_id
    WHERE q.recorded_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_results AS
    SELECT d.code AS donor, t.code AS test, r.* FROM fmtbank.result r
    JOIN fmtbank.donor d ON d.id = r.donor_id
    LEFT JOIN fmtbank.screening_test t ON t.test_no = r.test_no
    WHERE r.recorded_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_lots AS
    SELECT d.code AS donor, l.* FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id
    WHERE l.created_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_aliquots AS
    SELECT l.lot_id AS lot_code, a.* FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
    WHERE a.created_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_custody AS
    SELECT a.aliquot_id AS aliquot_code, c.* FROM fmtbank.custody_event c
    JOIN fmtbank.aliquot a ON a.id = c.aliquot
    WHERE c.at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_release_signatures AS
    SELECT l.lot_id AS lot_code, s.* FROM fmtbank.release_signature s JOIN fmtbank.lot l ON l.id = s.lot
    WHERE s.signed_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_issues AS
    SELECT a.aliquot_id AS aliquot_code, i.* FROM fmtbank.aliquot_issue i
    JOIN fmtbank.aliquot a ON a.id = i.aliquot
    WHERE i.issued_at < fmtbank.archive_until() AND i.use IS DISTINCT FROM 'trial';
CREATE OR REPLACE VIEW fmtbank.archive_cases AS
    SELECT d.code AS donor, c.* FROM fmtbank.safety_case c LEFT JOIN fmtbank.donor d ON d.id = c.donor_id
    WHERE c.opened_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_case_holds AS
    SELECT c.case_code, l.lot_id AS lot_code, h.* FROM fmtbank.case_hold h
    JOIN fmtbank.safety_case c ON c.id = h.case_id JOIN fmtbank.lot l ON l.id = h.lot
    WHERE h.held_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_case_decisions AS
    SELECT c.case_code, x.* FROM fmtbank.case_decision x JOIN fmtbank.safety_case c ON c.id = x.case_id
    WHERE x.signed_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_case_notifications AS
    SELECT c.case_code, n.* FROM fmtbank.case_notification n
    JOIN fmtbank.safety_case c ON c.id = n.case_id
    WHERE n.recorded_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_recipient_events AS
    SELECT e.* FROM fmtbank.recipient_event e WHERE e.recorded_at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_recipient_event_history AS
    SELECT h.* FROM fmtbank.recipient_event_history h WHERE h.at < fmtbank.archive_until();
CREATE OR REPLACE VIEW fmtbank.archive_recipient_scores AS
    SELECT s.* FROM fmtbank.recipient_score s WHERE s.recorded_at < fmtbank.archive_until();
-- The audit segment, each row with exactly the fields its hash covers (fmtbank.audit_content: at
-- in UTC to the microsecond, the rows as jsonb text); a row of donor identity (pii) without its
-- content, which is in archive_audit_sealed.
-- Sealed audit rows: those of donor identity (pii) and those only unblinded readers see (the trial
-- secrets and trial issues, 270_trial.sql's audit_trial_blind): their content is in the sealed
-- file only (the views read with their owner's rights, which row security does not restrict).
CREATE OR REPLACE FUNCTION fmtbank.archive_sealed(p_pii boolean, p_tbl text, p_old jsonb, p_new jsonb)
RETURNS boolean LANGUAGE sql IMMUTABLE
RETURN p_pii OR p_tbl IN ('trial', 'trial_seed', 'trial_allocation', 'trial_kit_content')
       OR (p_tbl = 'aliquot_issue' AND coalesce(p_new, p_old) ->> 'use' = 'trial');
CREATE OR REPLACE VIEW fmtbank.archive_audit AS
    SELECT a.id, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at_utc, a.who,
           a.tbl, a.op, a.key,
           CASE WHEN NOT s.sealed THEN a.old_row::text END AS old_row,
           CASE WHEN NOT s.sealed THEN a.new_row::text END AS new_row,
           CASE WHEN NOT s.sealed THEN a.reason END AS reason,
           s.sealed, encode(a.hash, 'hex') AS hash
    FROM fmtbank.audit_log a,
         LATERAL (SELECT fmtbank.archive_sealed(a.pii, a.tbl, a.old_row, a.new_row) AS sealed) s
    WHERE a.id <= fmtbank.archive_audit_last();
CREATE OR REPLACE VIEW fmtbank.archive_audit_sealed AS
    SELECT a.id, a.old_row::text AS old_row, a.new_row::text AS new_row, a.reason
    FROM fmtbank.audit_log a
    WHERE fmtbank.archive_sealed(a.pii, a.tbl, a.old_row, a.new_row)
      AND a.id <= fmtbank.archive_audit_last();
CREATE OR REPLACE VIEW fmtbank.archive_donor_identity AS
    SELECT d.code AS donor, i.* FROM fmtbank.donor_identity i JOIN fmtbank.donor d ON d.id = i.donor_id
    WHERE d.created_at < fmtbank.archive_until();

-- ---------------------------------------------------------------- privileges
GRANT EXECUTE ON FUNCTION
    fmtbank.backup_allowed(),
    fmtbank.restore_prepare(text),
    fmtbank.restore_unimported(text[]),
    fmtbank.restore_record(text, bigint, text, bigint[], timestamptz[], text, text[])
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- (each function refuses everyone but admin itself, naming the role)
GRANT EXECUTE ON FUNCTION fmtbank.archive_begin(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.archive_until(), fmtbank.archive_audit_last(),
    fmtbank.archive_sealed(boolean, text, jsonb, jsonb) TO fmtbank_quality;
GRANT SELECT ON fmtbank.archive_donors, fmtbank.archive_donor_decisions,
    fmtbank.archive_donor_consents, fmtbank.archive_questionnaires,
    fmtbank.archive_questionnaire_answers, fmtbank.archive_results, fmtbank.archive_lots,
    fmtbank.archive_aliquots, fmtbank.archive_custody, fmtbank.archive_release_signatures,
    fmtbank.archive_issues, fmtbank.archive_cases, fmtbank.archive_case_holds,
    fmtbank.archive_case_decisions, fmtbank.archive_case_notifications,
    fmtbank.archive_recipient_events, fmtbank.archive_recipient_event_history,
    fmtbank.archive_recipient_scores, fmtbank.archive_audit, fmtbank.archive_audit_sealed,
    fmtbank.archive_donor_identity
    TO fmtbank_quality;
