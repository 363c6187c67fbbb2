-- desk.sql: the technician's desk (issue 14, schema/code/200_desk.sql and the import rules):
-- a donor line the same as the stored donor is "already recorded" (what import_csv counts as
-- nothing new), another one with its code a conflict; "never" answers a date item only;
-- result_correct_by corrects the one result in force of a day and refuses when two are;
-- aliquot_pick's arguments and its refusal when nothing can be issued. Picking released doses is
-- tested by the CLI (t0208-aliquot-pick: releasing needs a committed signature).

-- ---- donor import: a repeat is "already recorded: ", a conflict is "already exists"
SELECT pg_temp.donor('D-2401');
-- stage_one(code, birth year, sex, consent version): the message of that one donor line
CREATE FUNCTION pg_temp.stage_one(p_code text, p_year text, p_sex text, p_cv text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE m text;
BEGIN
    DELETE FROM fmtbank_stage.donor_stage WHERE pid = pg_backend_pid();
    INSERT INTO fmtbank_stage.donor_stage (line, code, birth_year, sex, consent_version,
                                           consent_signed, consent_scope)
    VALUES (2, p_code, p_year, p_sex, p_cv, CASE WHEN p_cv IS NOT NULL THEN '2020-01-02' END,
            CASE WHEN p_cv IS NOT NULL THEN 'clinical' END);
    SELECT coalesce(s.message, 'new: ' || s.code) INTO m FROM fmtbank.donor_import_stage() s;
    RETURN m;
END $$;
SELECT x.what, pg_temp.stage_one(x.c, x.y, x.s, x.v) AS message
FROM (VALUES ('the same, written otherwise', 'd-2401 ', '1990', 'f', NULL),
             ('another birth year', 'D-2401', '1991', 'F', NULL),
             ('no birth year', 'D-2401', '', 'F', NULL),
             ('another sex', 'D-2401', '1990', 'M', NULL),
             ('with its consent version', 'D-2401', '1990', 'F', 'test-1'),
             ('with another consent version', 'D-2401', '1990', 'F', 'test-2'),
             ('a new donor', 'D-2402', '1990', 'F', NULL)) x(what, c, y, s, v);
SELECT count(*) AS d2402_stored FROM fmtbank.donor WHERE code = 'D-2402';

-- ---- "never" is an answer to a date item (any case), stored as no date; not to anything else
SELECT line, item, answer, date_value, message
FROM fmtbank.questionnaire_lines_check('full', current_date,
       '[{"line": 2, "item": "antibiotics_last", "answer": "never"},
         {"line": 3, "item": "covid_last", "answer": " Never "},
         {"line": 4, "item": "prion_risk", "answer": "never"},
         {"line": 5, "item": "bmi", "answer": "never"},
         {"line": 6, "item": "needlestick_last", "answer": "nevermore"}]'::jsonb)
WHERE line IS NOT NULL ORDER BY line;

-- ---- result_correct_by: the one result in force of that day
SELECT pg_temp.donor('D-2403');
SELECT pg_temp.result('D-2403', 'HIV', current_date - 3, 'negative', NULL, 'Lab A');
SELECT pg_temp.result('D-2403', 'NORO', current_date - 3, 'negative', NULL, 'Lab A');
SELECT pg_temp.try($$SELECT fmtbank.result_correct_by('D-2403', 'HIV', (current_date - 3)::text, 'positive', NULL)$$) AS without_reason;
SELECT pg_temp.as_reason('lab reissued');
SELECT fmtbank.result_correct_by('d-2403', 'hiv', (current_date - 3)::text, 'positive', NULL) IS NOT NULL AS corrected;
SELECT t.code, r.result, r.superseded_at IS NOT NULL AS superseded, r.supersedes IS NOT NULL AS correction
FROM fmtbank.result r JOIN fmtbank.screening_test t USING (test_no) JOIN fmtbank.donor d ON d.id = r.donor_id
WHERE d.code = 'D-2403' ORDER BY t.code, r.recorded_at;
-- two in force the same day (two labs): refused; none: not found; unknown test; bad day
SELECT pg_temp.result('D-2403', 'HAV_IGM', current_date - 3, 'negative', NULL, 'Lab A');
SELECT pg_temp.result('D-2403', 'HAV_IGM', current_date - 3, 'indeterminate', NULL, 'Lab B');
SELECT pg_temp.rel(pg_temp.try($$SELECT fmtbank.result_correct_by('D-2403', 'HAV_IGM', (current_date - 3)::text, 'negative', NULL)$$)) AS two;
SELECT pg_temp.rel(pg_temp.try($$SELECT fmtbank.result_correct_by('D-2403', 'HIV', (current_date - 4)::text, 'negative', NULL)$$)) AS none;
SELECT pg_temp.try($$SELECT fmtbank.result_correct_by('D-2403', 'FOO', (current_date - 3)::text, 'negative', NULL)$$) AS unknown_test;
SELECT pg_temp.try($$SELECT fmtbank.result_correct_by('D-2403', 'HIV', '3/12/2026', 'negative', NULL)$$) AS bad_day;
SELECT count(*) AS hav_in_force FROM fmtbank.result r JOIN fmtbank.screening_test t USING (test_no)
JOIN fmtbank.donor d ON d.id = r.donor_id
WHERE d.code = 'D-2403' AND t.code = 'HAV_IGM' AND r.superseded_at IS NULL;

-- ---- aliquot_pick: its arguments; a lot in quarantine has nothing to propose, and says why
SELECT pg_temp.try($$SELECT * FROM fmtbank.aliquot_pick(NULL, NULL, 1)$$) AS neither;
SELECT pg_temp.try($$SELECT * FROM fmtbank.aliquot_pick('L1', 'D-2403', 1)$$) AS both;
SELECT pg_temp.try($$SELECT * FROM fmtbank.aliquot_pick(NULL, 'D-2403', 0)$$) AS zero;
SELECT pg_temp.try($$SELECT * FROM fmtbank.aliquot_pick(NULL, 'D-2403', 1, 'trial')$$) AS trial;
SELECT pg_temp.try($$SELECT * FROM fmtbank.aliquot_pick(NULL, 'D-2403', 1)$$) AS no_lots;
CREATE TEMP TABLE q AS SELECT pg_temp.lot('D-2403', 10, 3) AS lot;
SELECT pg_temp.try(format('SELECT * FROM fmtbank.aliquot_pick(%L, NULL, 1)', lot)) AS quarantine FROM q;
