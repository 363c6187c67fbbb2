-- wording.sql: laboratory wordings as data (product.md §12; 130_wording): qualitative words mapped
-- per test or for every test, censored numbers compared with the limit as bounds, unit
-- equivalences converted into the test's unit; what the lab wrote kept; anything else refused
-- with the reason.
SELECT pg_temp.donor('D-4001');
CREATE TEMP TABLE w (k text, test text, written text, unit text);
INSERT INTO w VALUES
 ('word, every test', 'NORO', 'Not detected', NULL),
 ('word, case ignored', 'NORO', 'DETECTED', NULL),
 ('serology word', 'HIV', 'Non-reactive', NULL),
 ('equivocal', 'SALM', 'Equivocal', NULL),
 ('plain', 'SHIG', 'negative', NULL),
 ('CRP in mg/L', 'CRP', '5', 'mg/L'),
 ('CRP below a bound under the limit', 'CRP', '<3', 'mg/L'),
 ('CRP below a bound at the limit', 'CRP', '<5', 'mg/L'),
 ('CRP below a bound above the limit', 'CRP', '<6', 'mg/L'),
 ('CRP above a bound', 'CRP', '>1', 'mg/L'),
 ('CRP in mg/dL within', 'CRP', '0.5', 'mg/dL'),
 ('CRP in mg/dL outside', 'CRP', '0.51', 'mg/dL'),
 ('calprotectin in mg/kg within', 'CALPRO', '49.9', 'mg/kg'),
 ('calprotectin in mg/kg at the limit', 'CALPRO', '50', 'mg/kg'),
 ('calprotectin below a bound at the limit', 'CALPRO', '<50', 'µg/g');
CREATE TEMP TABLE r AS
SELECT w.k, w.test, w.written, w.unit,
       fmtbank.result_add('D-4001', w.test, (current_date - (row_number() OVER ())::integer)::text, w.written, w.unit, 'Lab W') AS id
FROM w;
SELECT r.k, x.result, x.value, x.unit, x.reported,
       fmtbank.result_acceptable(x.result, x.value, t.accept_op, t.accept_limit) AS acceptable
FROM r JOIN fmtbank.result x ON x.id = r.id
JOIN fmtbank.screening_test_at(clock_timestamp()) t ON t.test_no = x.test_no
ORDER BY r.k;

-- Refused, with the reason; nothing stored.
SELECT count(*) AS before FROM fmtbank.result;
SELECT k, pg_temp.try(format('SELECT fmtbank.result_add(%L, %L, %L, %L, %L, NULL)', 'D-4001', t, current_date::text, v, u)) AS refused
FROM (VALUES ('unknown word', 'NORO', 'maybe', NULL),
             ('a word for a number', 'CRP', 'detected', 'mg/L'),
             ('a bound without a number', 'CRP', '<', 'mg/L'),
             ('two signs', 'CRP', '<<3', 'mg/L'),
             ('unknown unit', 'CRP', '3', 'g/L'),
             ('a unit for a qualitative test', 'NORO', 'not detected', 'mg/L')) AS x(k, t, v, u);
SELECT count(*) AS after FROM fmtbank.result;

-- A file: every line normalised the same way; the line with an unknown wording is named and
-- nothing is imported.
INSERT INTO fmtbank_stage.result_stage (pid, line, donor, test, collected, result, unit, lab)
VALUES (pg_backend_pid(), 2, 'D-4001', 'ROTA', (current_date - 30)::text, 'not detected', NULL, 'Lab F'),
       (pg_backend_pid(), 3, 'D-4001', 'CRP', (current_date - 30)::text, '<0.5', 'mg/dL', 'Lab F'),
       (pg_backend_pid(), 4, 'D-4001', 'ADENO', (current_date - 30)::text, 'negatif', NULL, 'Lab F');
SELECT line, message FROM fmtbank.result_import_stage() ORDER BY line;
SELECT count(*) AS after_bad_file FROM fmtbank.result;
INSERT INTO fmtbank_stage.result_stage (pid, line, donor, test, collected, result, unit, lab)
VALUES (pg_backend_pid(), 2, 'D-4001', 'ROTA', (current_date - 30)::text, 'not detected', NULL, 'Lab F'),
       (pg_backend_pid(), 3, 'D-4001', 'CRP', (current_date - 30)::text, '<0.5', 'mg/dL', 'Lab F');
SELECT line, message IS NULL AS imported FROM fmtbank.result_import_stage() ORDER BY line;
SELECT t.code, x.result, x.value, x.unit, x.reported FROM fmtbank.result x
JOIN fmtbank.screening_test t ON t.test_no = x.test_no WHERE x.lab = 'Lab F' ORDER BY t.code;
