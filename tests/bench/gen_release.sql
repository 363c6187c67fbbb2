-- gen_release.sql: benchmark data for the release sweep (not a test), after gen_screening.sql.
--   psql -f gen_release.sql
-- gen_screening.sql gave every donor D-1xxxxxxx a full panel collected on P = current_date -
-- (i % 50) - 1 (with its mix of positives). This adds, per donor: a second full panel on P - 40,
-- two lots of 4 doses + the retained sample (5 aliquots each: 100,000 donors -> 200,000 lots,
-- 1,000,000 aliquots) with their donation-day questionnaires, processed an hour after collection:
--   lot A collected P - 30 (pre panel P - 40, post panel P: releasable unless a positive);
--   lot B collected P - 10, or on P itself for 1 donor in 10 (then no post-donation panel yet).
-- All lots are stored in quarantine (the sweep's worst case: every lot evaluated); 1% of the
-- aliquots are past their expiry; the donors with a positive HIV (0.1%) get an open result case
-- holding their lots.
-- Rows are inserted as the superuser with triggers off (session_replication_role = replica).
\set ON_ERROR_STOP 1
SET session_replication_role = replica;
SET synchronous_commit = off;

BEGIN;
CREATE TEMP TABLE gen_donor AS
SELECT d.id, (substr(d.code, 3)::int - 10000000) AS i,
       current_date - ((substr(d.code, 3)::int - 10000000) % 50) - 1 AS p
FROM fmtbank.donor d WHERE d.code ~ '^D-1[0-9]{7}$';

INSERT INTO fmtbank.result (donor_id, test_no, collected, result, value, unit, lab, recorded_at, recorded_by)
SELECT g.id, t.test_no, g.p - 40,
       CASE WHEN t.kind = 'numeric' THEN '2' ELSE 'negative' END,
       CASE WHEN t.kind = 'numeric' THEN 2 END, t.unit, 'Bench Lab', g.p - 39, 'bench'
FROM gen_donor g CROSS JOIN fmtbank.screening_test t;

CREATE TEMP TABLE gen_lot AS
SELECT gen_random_uuid() AS id, g.id AS donor_id, g.i, k,
       CASE WHEN k = 0 THEN g.p - 30 WHEN g.i % 10 = 0 THEN g.p ELSE g.p - 10 END AS cd,
       'L25' || lpad((2 * g.i - 1 + k)::text, 6, '0') AS body
FROM gen_donor g CROSS JOIN generate_series(0, 1) k;

INSERT INTO fmtbank.lot (id, lot_id, donor_id, collected_at, mass_g, bristol, status,
                         rule_set_version, processed_at, processed_rule_set_version, doses,
                         created_at, created_by)
SELECT l.id, fmtbank.with_check(l.body), l.donor_id, l.cd + time '08:30', 250, 4, 'quarantine', 1,
       l.cd + time '09:30', 1, 4, l.cd + time '08:35', 'bench'
FROM gen_lot l;

INSERT INTO fmtbank.aliquot (aliquot_id, lot, idx, retained, status, expires_at, volume_ml,
                             glycerol_percent, created_at, created_by)
SELECT fmtbank.with_check(l.body || '-' || lpad(x::text, 3, '0')), l.id, x, x = 0, 'quarantine',
       CASE WHEN (l.i * 5 + x) % 100 = 42 THEN now() - interval '1 day'
            ELSE l.cd + time '09:30' + interval '730 days' END,
       200, 10, l.cd + time '09:31', 'bench'
FROM gen_lot l CROSS JOIN generate_series(0, 4) x;

-- donation-day questionnaires, every answer no
CREATE TEMP TABLE gen_q AS
SELECT gen_random_uuid() AS id, l.donor_id, l.cd FROM gen_lot l;
INSERT INTO fmtbank.questionnaire (id, donor_id, kind, q_date, recorded_at, recorded_by)
SELECT q.id, q.donor_id, 'short', q.cd, q.cd + time '08:00', 'bench' FROM gen_q q;
INSERT INTO fmtbank.questionnaire_answer (questionnaire_id, item, line, answer, yes)
SELECT q.id, it.code, it.sort_order, 'no', false
FROM gen_q q CROSS JOIN fmtbank.question_item it WHERE it.questionnaire = 'short';

-- open result cases for the positive HIV results, holding the donor's lots collected from 28 days
-- (lookback_min_days) before the positive on, as the result trigger would have
CREATE TEMP TABLE gen_case AS
SELECT row_number() OVER (ORDER BY r.id) AS k, r.donor_id, r.id AS result_id, r.test_no,
       r.collected, r.recorded_at
FROM fmtbank.result r JOIN fmtbank.screening_test t ON t.test_no = r.test_no
WHERE t.code = 'HIV' AND r.result = 'positive';
INSERT INTO fmtbank.safety_case (case_code, source, donor_id, result_id, test_no, collected,
                                 outcome, opened_at, opened_by, hold_from)
SELECT fmtbank.with_check('C' || to_char(current_date, 'YY') || lpad(c.k::text, 6, '0')), 'result',
       c.donor_id, c.result_id, c.test_no, c.collected, 'positive', c.recorded_at, 'bench',
       c.collected - 28
FROM gen_case c;
INSERT INTO fmtbank.id_counter AS x (kind, year, last)
SELECT 'case', extract(year FROM current_date)::integer, count(*) FROM gen_case
ON CONFLICT (kind, year) DO UPDATE SET last = x.last + EXCLUDED.last;
INSERT INTO fmtbank.case_hold (case_id, lot, held_by)
SELECT c.id, l.id, 'bench' FROM fmtbank.safety_case c
JOIN gen_lot l ON l.donor_id = c.donor_id AND l.cd >= c.hold_from
WHERE c.opened_by = 'bench';
COMMIT;

-- as autovacuum would have left a bank that has been running: statistics, visibility map
VACUUM ANALYZE fmtbank.result;
VACUUM ANALYZE fmtbank.lot;
VACUUM ANALYZE fmtbank.aliquot;
ANALYZE;
SELECT (SELECT count(*) FROM fmtbank.donor), (SELECT count(*) FROM fmtbank.lot),
       (SELECT count(*) FROM fmtbank.aliquot), (SELECT count(*) FROM fmtbank.result),
       (SELECT count(*) FROM fmtbank.safety_case WHERE status = 'open');
