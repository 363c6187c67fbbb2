-- gen_screening.sql: benchmark data for eligibility and result import (not a test).
--   psql -v donors=100000 -f gen_screening.sql
-- Every donor gets a full questionnaire (all items) and a full screening panel (every test of the
-- catalog, about 40 results), dated within the validity window so most donors are eligible (the
-- costly case: nothing short-circuits). A realistic mix exercises every path of the evaluation:
--   5%   a second, older panel still partly in the window (several groups per donor);
--   2%   a positive NORO 100 days ago, retested negative since (the unacceptable-result path);
--   0.5% a positive CDIFF in the current panel (deferred until a retest);
--   0.1% a positive HIV (excluded); 0.1% a yes to an exclusion item (excluded);
--   5%   antibiotics 200 days ago (clear), 1% antibiotics 10 days ago (deferred);
--   0.5% BMI 32 (deferred); 0.5% no questionnaire (screening).
-- Rows are inserted directly as the superuser with triggers off (session_replication_role =
-- replica): a generator, not the application path, so neither audit rows nor NOTIFY are made.
\set ON_ERROR_STOP 1
\if :{?donors}
\else
\set donors 100000
\endif
SET session_replication_role = replica;
SET synchronous_commit = off;

BEGIN;
INSERT INTO fmtbank.donor (code, birth_year, sex, created_at)
SELECT format('D-%s', 10000000 + i), 1970 + i % 30, (ARRAY['F', 'M', 'X'])[1 + i % 3],
       now() - interval '400 days'
FROM generate_series(1, :donors) i;
-- their signed consent, for every use, before any generated donation (150_consent.sql)
INSERT INTO fmtbank.donor_consent (donor_id, event, effective_on, version, scope, recorded_at)
SELECT d.id, 'signed', current_date - 400, 'bench-1', ARRAY['clinical', 'research', 'trial'],
       now() - interval '400 days'
FROM fmtbank.donor d WHERE d.code ~ '^D-1[0-9]{7}$';

CREATE TEMP TABLE gen_donor AS
SELECT d.id, (substr(d.code, 3)::int - 10000000) AS i FROM fmtbank.donor d
WHERE d.code ~ '^D-1[0-9]{7}$';
CREATE INDEX ON gen_donor (i);

-- questionnaires (0.5% have none)
CREATE TEMP TABLE gen_q AS
SELECT gen_random_uuid() AS id, g.id AS donor_id, g.i, current_date - (g.i % 50) AS q_date
FROM gen_donor g WHERE g.i % 200 <> 7;
INSERT INTO fmtbank.questionnaire (id, donor_id, kind, q_date, recorded_at, recorded_by)
SELECT id, donor_id, 'full', q_date, q_date + time '09:00', 'bench' FROM gen_q;

INSERT INTO fmtbank.questionnaire_answer (questionnaire_id, item, line, answer, yes, date_value, num_value)
SELECT q.id, it.code, it.sort_order, a.answer,
       CASE WHEN it.type = 'boolean' THEN a.answer = 'yes' END,
       CASE WHEN it.type = 'date' AND a.answer <> '' THEN a.answer::date END,
       CASE WHEN it.type = 'number' THEN a.answer::numeric END
FROM gen_q q
CROSS JOIN fmtbank.question_item it
CROSS JOIN LATERAL (
    SELECT CASE
             WHEN it.type = 'boolean' THEN
               CASE WHEN it.code = 'chronic_ppi' AND q.i % 1000 = 3 THEN 'yes' ELSE 'no' END
             WHEN it.type = 'date' THEN
               CASE WHEN it.code = 'antibiotics_last' AND q.i % 100 = 11 THEN (q.q_date - 10)::text
                    WHEN it.code = 'antibiotics_last' AND q.i % 20 = 5 THEN (q.q_date - 200)::text
                    ELSE '' END
             WHEN it.code = 'bmi' THEN CASE WHEN q.i % 200 = 13 THEN '32' ELSE (21 + q.i % 7)::text END
             WHEN it.code = 'phq9' THEN (q.i % 9)::text
             ELSE (q.i % 8)::text END AS answer) a
WHERE it.questionnaire = 'full' AND it.derived IS NULL;

-- the panels
INSERT INTO fmtbank.result (donor_id, test_no, collected, result, value, unit, lab, recorded_at, recorded_by)
SELECT g.id, t.test_no, c.collected,
       CASE WHEN t.kind = 'numeric' THEN CASE t.code WHEN 'CRP' THEN '1.2' ELSE '20' END
            WHEN t.code = 'CDIFF' AND g.i % 200 = 17 THEN 'positive'
            WHEN t.code = 'HIV' AND g.i % 1000 = 19 THEN 'positive'
            ELSE 'negative' END,
       CASE WHEN t.kind = 'numeric' THEN CASE t.code WHEN 'CRP' THEN 1.2 ELSE 20 END END,
       t.unit, 'Bench Lab', c.collected + time '18:00', 'bench'
FROM gen_donor g
CROSS JOIN LATERAL (SELECT current_date - (g.i % 50) - 1 AS collected) c
CROSS JOIN fmtbank.screening_test t;

INSERT INTO fmtbank.result (donor_id, test_no, collected, result, value, unit, lab, recorded_at, recorded_by)
SELECT g.id, t.test_no, current_date - (g.i % 50) - 31,
       CASE WHEN t.kind = 'numeric' THEN '2' ELSE 'negative' END,
       CASE WHEN t.kind = 'numeric' THEN 2 END, t.unit, 'Bench Lab',
       current_date - (g.i % 50) - 30, 'bench'
FROM gen_donor g CROSS JOIN fmtbank.screening_test t
WHERE g.i % 20 = 1;

INSERT INTO fmtbank.result (donor_id, test_no, collected, result, unit, lab, recorded_at, recorded_by)
SELECT g.id, t.test_no, current_date - 100, 'positive', NULL, 'Bench Lab', current_date - 99, 'bench'
FROM gen_donor g JOIN fmtbank.screening_test t ON t.code = 'NORO'
WHERE g.i % 50 = 2;
COMMIT;

RESET session_replication_role;
VACUUM ANALYZE fmtbank.donor;
VACUUM ANALYZE fmtbank.questionnaire;
VACUUM ANALYZE fmtbank.questionnaire_answer;
VACUUM ANALYZE fmtbank.result;
SELECT (SELECT count(*) FROM fmtbank.donor) AS donors,
       (SELECT count(*) FROM fmtbank.result) AS results,
       (SELECT count(*) FROM fmtbank.questionnaire_answer) AS answers;
