-- backup.sql: the rules of "fmtbank backup" and "fmtbank archive" (product.md §15, issue 16):
-- backups are the administrator's; a restore needs a reason and a past target, which it spells in
-- UTC for pgBackRest; a restore record is refused without a new WAL timeline (no restore); the
-- inbox files to re-queue are those whose content is not imported; the archive is quality's,
-- bounded by the end of its day, with donor identity kept out of the open datasets and each open
-- audit row's hash given by its archived fields.
CREATE FUNCTION pg_temp.as_user(p_user text, p_sql text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.try(format('SET LOCAL SESSION AUTHORIZATION %I; %s; RESET SESSION AUTHORIZATION',
                              p_user, p_sql))
$$;

-- ---------------------------------------------------------------- backup and restore
SELECT pg_temp.as_user('alice', 'SELECT fmtbank.backup_allowed()') AS technician;
SELECT pg_temp.as_user('quinn', 'SELECT fmtbank.backup_allowed()') AS quality;
SELECT pg_temp.as_user('adam', 'SELECT fmtbank.backup_allowed()') AS admin;
SELECT set_config('fmtbank.reason', '', true) IS NOT NULL AS no_reason;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.restore_prepare('2026-01-01')$$) AS without_reason;
SELECT pg_temp.as_reason('restore drill');
SELECT pg_temp.as_user('quinn', $$SELECT fmtbank.restore_prepare('2026-01-01')$$) AS quality;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.restore_prepare('yesterday')$$) AS not_a_time;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.restore_prepare('2999-01-01 10:00')$$) AS future;
SET LOCAL SESSION AUTHORIZATION adam;
SELECT target, target_epoch, cardinality(recent_ids) = cardinality(recent_at) AS paired
FROM fmtbank.restore_prepare('2026-01-01 12:00+01');
RESET SESSION AUTHORIZATION;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.restore_record('2026-01-01', 1, NULL, '{}', '{}', '/x', '{}')$$)
    AS record_without_restore;
SELECT pg_temp.as_user('alice', $$SELECT fmtbank.restore_record('2026-01-01', 1, NULL, '{}', '{}', '/x', '{}')$$)
    AS technician_records;
SELECT pg_temp.as_user('adam', $$INSERT INTO fmtbank.restore_event (target_time, lost_rows, old_datadir, timeline)
                                 VALUES (now(), 0, '/x', 2)$$) AS direct_insert;
INSERT INTO fmtbank.inbox_file (sha256, name, format, status)
VALUES (repeat('a', 64), 'a.csv', 'donors', 'imported'), (repeat('b', 64), 'b.csv', 'donors', 'rejected');
SET LOCAL SESSION AUTHORIZATION adam;
SELECT left(h, 4) AS requeue FROM fmtbank.restore_unimported(ARRAY[repeat('a', 64), repeat('b', 64),
                                                                    repeat('c', 64), repeat('c', 64)]) h
ORDER BY 1;
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------- the archive
SELECT pg_temp.donor('D-0250001');
SET LOCAL SESSION AUTHORIZATION quinn;
SELECT 1 FROM fmtbank.donor_identity_set('D-0250001', 'Ann Archive', NULL, NULL);
RESET SESSION AUTHORIZATION;
SELECT pg_temp.as_user('alice', $$SELECT fmtbank.archive_begin('2026-01-01')$$) AS technician;
SELECT pg_temp.as_user('audrey', $$SELECT fmtbank.archive_begin('2026-01-01')$$) AS auditor;
SELECT pg_temp.as_user('quinn', $$SELECT fmtbank.archive_begin('2999-01-01')$$) AS future;
SELECT pg_temp.as_user('quinn', $$SELECT fmtbank.archive_begin('2026-13-01')$$) AS not_a_date;
SELECT pg_temp.as_user('audrey', 'SELECT count(*) FROM fmtbank.archive_audit') AS auditor_reads_a_view;
SELECT pg_temp.as_user('quinn', 'SELECT count(*) FROM fmtbank.archive_donors') AS before_archive_begin;
SET LOCAL SESSION AUTHORIZATION quinn;
SELECT until_bound::timestamptz = '2020-01-02'::date::timestamptz AS bound_next_midnight, audit_rows, audit_last
FROM fmtbank.archive_begin('2020-01-01');
SELECT count(*) AS donors_by_2020 FROM fmtbank.archive_donors;
SELECT (SELECT audit_rows FROM fmtbank.archive_begin(current_date::text))
       = (SELECT count(*) FROM fmtbank.audit_log) AS today_the_whole_trail;
SELECT count(*) AS donor_today FROM fmtbank.archive_donors WHERE code = 'D-0250001';
SELECT full_name AS sealed_identity FROM fmtbank.archive_donor_identity WHERE donor = 'D-0250001';
SELECT count(*) FILTER (WHERE sealed) > 0 AS some_rows_sealed,
       bool_and(NOT sealed OR (old_row IS NULL AND new_row IS NULL AND reason IS NULL)) AS sealed_rows_without_content,
       bool_and(position('Ann Archive' IN coalesce(old_row, '') || coalesce(new_row, '')) = 0) AS identity_in_no_open_row
FROM fmtbank.archive_audit;
SELECT (SELECT count(*) FROM fmtbank.archive_audit_sealed) = (SELECT count(*) FROM fmtbank.archive_audit WHERE sealed)
    AS every_sealed_row_in_the_sealed_file;
SELECT bool_and(a.hash = encode(sha256(coalesce(decode(a.prev, 'hex'), '\x'::bytea)
                                       || convert_to(concat_ws(E'\x1f', a.id::text, a.at_utc, a.who, a.tbl, a.op,
                                                               coalesce(a.key, ''), coalesce(a.old_row, ''),
                                                               coalesce(a.new_row, ''), coalesce(a.reason, '')),
                                                     'UTF8')), 'hex')) AS open_rows_hash_from_their_fields
FROM (SELECT v.*, lag(v.hash) OVER (ORDER BY v.id) AS prev FROM fmtbank.archive_audit v) a
WHERE NOT a.sealed;
RESET SESSION AUTHORIZATION;
