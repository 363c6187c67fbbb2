-- 250_backup: point-in-time restores (product.md §15, "backup restore --target-time T"). A restore
-- brings the database back to T and so cuts the audit chain after the last row committed by T; the
-- first thing written afterwards is one restore_event row, whose audit row is the "restored to T"
-- anchor of the chain: it names T, the chain head of the data that was replaced (its last row and
-- hash), the audit rows that existed there after T and are gone (ids and times), where the old
-- data directory was kept, and the inbox files put back into the inbox. "backup restore --key"
-- signs it at once (an anchor line of a new anchor log: the old log ends with the lost rows).
-- timeline: the server's WAL timeline after the restore (a point-in-time restore that promotes
-- starts a new one); one restore_event per new timeline, so none is written without a restore.
CREATE TABLE fmtbank.restore_event (
    id              bigserial PRIMARY KEY,
    target_time     timestamptz NOT NULL,
    restored_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    restored_by     text NOT NULL DEFAULT session_user,
    old_head_seq    bigint,
    old_head_hash   text CHECK (old_head_hash ~ '^[0-9a-f]{64}$'),
    restored_head_seq bigint,
    lost_first_seq  bigint,
    lost_last_seq   bigint,
    lost_rows       bigint NOT NULL CHECK (lost_rows >= 0),
    lost_from       timestamptz,
    lost_to         timestamptz,
    old_datadir     text NOT NULL CHECK (old_datadir <> ''),
    requeued_files  text[] NOT NULL DEFAULT '{}',
    timeline        integer NOT NULL CHECK (timeline > 1),
    reason          text
);
SELECT fmtbank.audit_enable('fmtbank.restore_event', 'id');
REVOKE ALL ON fmtbank.restore_event FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.restore_event_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.restore_event TO fmtbank_quality, fmtbank_auditor, fmtbank_admin;
