-- eligibility.sql: the table-driven scenarios of the derived donor status (formerly the shell
-- script t0103). Every scenario is one donor: a clear full questionnaire today and an acceptable
-- full panel collected yesterday, changed as the row says. Covers every questionnaire item and
-- every test of the default catalog, each deferral on the day before / of / after its boundary,
-- the number ranges at their edges, missing / expired / positive / over-limit results, retests
-- and the precedence of verdicts. Columns: birth year ('' 1990, 'none' not recorded, 'Y-17'
-- relative); full questionnaire changes ('-' none recorded, '@d-60 ...' dated); donation-day
-- questionnaire 'DATE item ...'; tests omitted from the panel ('ALL' no panel); extra results
-- 'TEST:RESULT:DATE[:UNIT] ...'; then what domain.md says: status, failing rules, a substring of
-- the first one's detail, deferred_until. The output lists every verdict (relative dates), then
-- the scenarios whose verdict differs from the expectation written here: none.
CREATE TEMP TABLE scen (n serial, name text, birth text, full_q text, short_q text, omit text,
                        extra text, status text, rules text, detail text, until text,
                        code text GENERATED ALWAYS AS ('D-' || (1000 + n)) STORED);
INSERT INTO scen (name, birth, full_q, short_q, omit, extra, status, rules, detail, until) VALUES
('baseline', '', '', '', '', '', 'eligible', '', '', ''),
('no-questionnaire', '', '-', '', '', '', 'screening', 'questionnaire', 'no full questionnaire recorded', ''),
('questionnaire-60-days-old', '', '@d-60', '', '', '', 'eligible', '', '', ''),
('questionnaire-61-days-old', '', '@d-61', '', '', '', 'screening', 'questionnaire', 'was valid through d-1', ''),
('no-panel', '', '', '', 'ALL', '', 'screening', 'test:HIV,test:MRSA,test:CRP,test:CALPRO', 'no acceptable result collected from d-60 to d+0', ''),
('missing-MRSA', '', '', '', 'MRSA', '', 'screening', 'test:MRSA', 'no acceptable result collected from d-60 to d+0', ''),
('result-60-days-old', '', '', '', 'CDIFF', 'CDIFF:negative:d-60', 'eligible', '', '', ''),
('result-61-days-old-expired', '', '', '', 'CDIFF', 'CDIFF:negative:d-61', 'screening', 'test:CDIFF', 'no acceptable result collected', ''),
('age-17', 'Y-17', '', '', '', '', 'deferred', 'age', '17 in Y+0, below the minimum 18', 'Y+1-01-01'),
('age-18', 'Y-18', '', '', '', '', 'eligible', '', '', ''),
('age-60', 'Y-60', '', '', '', '', 'eligible', '', '', ''),
('age-61', 'Y-61', '', '', '', '', 'excluded', 'age', '61 in Y+0, above the maximum 60', ''),
('age-unknown', 'none', '', '', '', '', 'screening', 'age', 'birth year not recorded', ''),
('bmi-18.4', '', 'bmi=18.4', '', '', '', 'deferred', 'item:bmi', '18.4 on d+0 is outside the clear range 18.5 to 30', ''),
('bmi-18.5', '', 'bmi=18.5', '', '', '', 'eligible', '', '', ''),
('bmi-30', '', 'bmi=30', '', '', '', 'eligible', '', '', ''),
('bmi-30.1', '', 'bmi=30.1', '', '', '', 'deferred', 'item:bmi', '30.1 on', ''),
('phq9-0', '', 'phq9=0', '', '', '', 'eligible', '', '', ''),
('phq9-9', '', 'phq9=9', '', '', '', 'eligible', '', '', ''),
('phq9-10', '', 'phq9=10', '', '', '', 'deferred', 'item:phq9', '10 on d+0 is outside the clear range 0 to 9', ''),
('phq9-27', '', 'phq9=27', '', '', '', 'deferred', 'item:phq9', '27 on', ''),
('gad7-9', '', 'gad7=9', '', '', '', 'eligible', '', '', ''),
('gad7-10', '', 'gad7=10', '', '', '', 'deferred', 'item:gad7', '10 on d+0 is outside the clear range 0 to 9', ''),
('gad7-21', '', 'gad7=21', '', '', '', 'deferred', 'item:gad7', '21 on', ''),
('CRP-5-at-limit', '', '', '', 'CRP', 'CRP:5:d-1:mg/L', 'eligible', '', '', ''),
('CRP-5.1-over-limit', '', '', '', 'CRP', 'CRP:5.1:d-1:mg/L', 'deferred', 'test:CRP', '5.1 mg/L collected d-1 (accept <=5 mg/L)', ''),
('CALPRO-49.9', '', '', '', 'CALPRO', 'CALPRO:49.9:d-1:ug/g', 'eligible', '', '', ''),
('CALPRO-50-over-limit', '', '', '', 'CALPRO', 'CALPRO:50:d-1:µg/g', 'deferred', 'test:CALPRO', '50 µg/g collected d-1 (accept <50 µg/g)', ''),
('HIV-indeterminate', '', '', '', 'HIV', 'HIV:indeterminate:d-1', 'deferred', 'test:HIV', 'indeterminate collected d-1', ''),
('CDIFF-indeterminate', '', '', '', 'CDIFF', 'CDIFF:indeterminate:d-1', 'deferred', 'test:CDIFF', 'indeterminate collected', ''),
('NORO-retested-later', '', '', '', 'NORO', 'NORO:positive:d-10 NORO:negative:d-1', 'eligible', '', '', ''),
('NORO-retest-same-day', '', '', '', 'NORO', 'NORO:positive:d-1 NORO:negative:d-1', 'deferred', 'test:NORO', 'deferred until an acceptable retest', ''),
('CDIFF-positive-long-ago-retested', '', '', '', '', 'CDIFF:positive:d-100', 'eligible', '', '', ''),
('HIV-positive-long-ago-excludes', '', '', '', '', 'HIV:positive:d-100', 'excluded', 'test:HIV', 'positive collected d-100: HIV excludes permanently', ''),
('HIV-positive-then-negative-still-excluded', '', '', '', 'HIV', 'HIV:positive:d-10 HIV:negative:d-1', 'excluded', 'test:HIV', 'excludes permanently', ''),
('excluded-beats-deferred', '', 'prion_risk=yes antibiotics_last=d-10', '', '', '', 'excluded', 'item:prion_risk,item:antibiotics_last', 'answered yes', ''),
('deferred-beats-screening', '', 'antibiotics_last=d-10', '', 'MRSA', '', 'deferred', 'item:antibiotics_last,test:MRSA', 'last on d-10', 'd+80'),
('latest-deferral-wins', '', 'antibiotics_last=d-80 covid_last=d-20', '', '', '', 'deferred', 'item:antibiotics_last,item:covid_last', 'until d+10', 'd+10'),
('open-ended-deferral-has-no-date', '', 'bmi=31 antibiotics_last=d-80', '', '', '', 'deferred', 'item:antibiotics_last,item:bmi', 'until d+10', ''),
('positive-retest-pending-has-no-date', '', '', '', 'SALM', 'SALM:positive:d-1', 'deferred', 'test:SALM', 'deferred until an acceptable retest', '');
-- every yes/no item of the full questionnaire excludes
INSERT INTO scen (name, birth, full_q, short_q, omit, extra, status, rules, detail, until)
SELECT 'yes-' || i, '', i || '=yes', '', '', '', 'excluded', 'item:' || i, 'answered yes on d+0', ''
FROM unnest(ARRAY['infection_history', 'transplant_recipient', 'prion_risk', 'chronic_gi_disease',
                  'gi_cancer_polyposis', 'autoimmune_atopic', 'neurological_disease',
                  'psychiatric_condition', 'metabolic_syndrome', 'chronic_pain_syndrome',
                  'malignancy', 'chronic_ppi', 'illicit_drug_injection', 'healthcare_worker',
                  'regular_outpatient_care']) i;
-- every dated item defers for its period (domain.md): the day before its end, the day, the day after
INSERT INTO scen (name, birth, full_q, short_q, omit, extra, status, rules, detail, until)
SELECT i || c.sfx, '', format('%s=d%s', i, to_char(c.off - p, 'SG999FM')), '', '', '', c.status,
       CASE WHEN c.status = 'deferred' THEN 'item:' || i ELSE '' END,
       CASE WHEN c.status = 'deferred'
            THEN format('last on d%s; deferred %s days, until d+1', to_char(1 - p, 'SG999FM'), p)
            ELSE '' END,
       CASE WHEN c.status = 'deferred' THEN 'd+1' ELSE '' END
FROM (VALUES ('antibiotics_last', 90), ('antiviral_antifungal_last', 90),
             ('immunosuppressant_last', 90), ('tattoo_piercing_acupuncture_last', 180),
             ('needlestick_last', 180), ('blood_products_last', 365),
             ('hiv_hepatitis_exposure_last', 365), ('high_risk_sex_last', 365),
             ('tropical_travel_last', 180), ('live_vaccine_last', 180),
             ('hospitalisation_last', 180), ('medical_tourism_last', 180),
             ('gi_infection_last', 28), ('covid_last', 28), ('mpox_exposure_last', 21)) f(i, p)
CROSS JOIN (VALUES ('-day-before-end', 1, 'deferred'), ('-day-of-end', 0, 'eligible'),
                   ('-day-after-end', -1, 'eligible')) c(sfx, off, status);
-- every donation-day item defers for its period
INSERT INTO scen (name, birth, full_q, short_q, omit, extra, status, rules, detail, until)
SELECT 'short-' || i || c.sfx, '', '', format('d%s %s', to_char(c.off - p, 'SG999FM'), i), '', '',
       c.status, CASE WHEN c.status = 'deferred' THEN 'item:' || i ELSE '' END,
       CASE WHEN c.status = 'deferred'
            THEN format('yes on the donation-day questionnaire of d%s; deferred %s days, until d+1',
                        to_char(1 - p, 'SG999FM'), p)
            ELSE '' END,
       CASE WHEN c.status = 'deferred' THEN 'd+1' ELSE '' END
FROM (VALUES ('new_gi_symptoms', 28), ('fever_or_illness', 28), ('antibiotics_since_last', 90),
             ('travel_since_last', 180), ('sick_contacts', 28), ('new_medication', 28)) f(i, p)
CROSS JOIN (VALUES ('-day-before-end', 1, 'deferred'), ('-day-of-end', 0, 'eligible'),
                   ('-day-after-end', -1, 'eligible')) c(sfx, off, status);
-- every qualitative test: a positive result defers until a retest, or excludes (blood-borne)
INSERT INTO scen (name, birth, full_q, short_q, omit, extra, status, rules, detail, until)
SELECT 'positive-' || t, '', '', '', t, t || ':positive:d-1',
       CASE WHEN x THEN 'excluded' ELSE 'deferred' END, 'test:' || t,
       CASE WHEN x THEN format('positive collected d-1: %s excludes permanently', t)
            ELSE 'positive collected d-1 (accept negative): deferred until an acceptable retest' END,
       ''
FROM unnest(pg_temp.qualitative_tests()) t,
     LATERAL (SELECT t = ANY (pg_temp.blood_excluding_tests()) AS x) b;

SELECT count(*) AS scenarios FROM scen;
-- the catalog has exactly the tests written above
SELECT count(*) AS tests_in_catalog_and_list
FROM fmtbank.screening_test t
WHERE t.code = ANY (pg_temp.qualitative_tests() || ARRAY['CRP', 'CALPRO']);

-- Record every scenario: the donor, its panel and extra results, its questionnaires.
SELECT count(fmtbank.donor_add(s.code,
                               CASE s.birth WHEN '' THEN '1990' WHEN 'none' THEN NULL
                                            ELSE pg_temp.resolve(s.birth) END, 'F')) AS donors
FROM scen s;
SELECT count(pg_temp.panel(s.code, current_date - 1, regexp_split_to_array(s.omit, '\s+')))
FROM scen s WHERE s.omit IS DISTINCT FROM 'ALL';
SELECT count(pg_temp.result(s.code, split_part(x, ':', 1), pg_temp.resolve(split_part(x, ':', 3))::date,
                            split_part(x, ':', 2), nullif(split_part(x, ':', 4), ''))) AS extra_results
FROM scen s, regexp_split_to_table(nullif(s.extra, ''), '\s+') x;
SELECT count(pg_temp.full_q(s.code,
                            CASE WHEN s.full_q LIKE '@%'
                                 THEN pg_temp.resolve(split_part(substr(s.full_q, 2), ' ', 1))::date
                                 ELSE current_date END,
                            CASE WHEN s.full_q LIKE '@%'
                                 THEN substr(s.full_q, strpos(s.full_q || ' ', ' ') + 1)
                                 ELSE s.full_q END)) AS full_questionnaires
FROM scen s WHERE s.full_q IS DISTINCT FROM '-';
SELECT count(pg_temp.short_q(s.code, pg_temp.resolve(split_part(s.short_q, ' ', 1))::date,
                             substr(s.short_q, strpos(s.short_q, ' ') + 1))) AS short_questionnaires
FROM scen s WHERE s.short_q <> '';

CREATE TEMP TABLE verdict AS
SELECT s.n, s.name, e.status, e.deferred_until, e.next_screening_due, e.reasons
FROM scen s JOIN fmtbank.donor_eligibility_at() e ON e.code = s.code;

-- Every verdict.
SELECT v.name, v.status,
       CASE WHEN v.name LIKE 'age-%' THEN pg_temp.rel_years(v.deferred_until::text)
            ELSE pg_temp.rel(v.deferred_until::text) END AS until,
       (SELECT string_agg(r ->> 'rule', ',' ORDER BY o) FROM jsonb_array_elements(v.reasons)
                WITH ORDINALITY x(r, o)) AS rules
FROM verdict v ORDER BY v.n;

-- Every reason's detail, for the scenarios with a failing rule other than one per missing test.
SELECT v.name, r ->> 'rule' AS rule,
       CASE WHEN r ->> 'rule' = 'age' THEN pg_temp.rel_years(r ->> 'detail')
            ELSE pg_temp.rel(r ->> 'detail') END AS detail
FROM verdict v, jsonb_array_elements(v.reasons) r
WHERE v.name <> 'no-panel' ORDER BY v.n, r ->> 'rule';

-- Scenarios whose verdict is not the one written above (expected: none).
SELECT s.name, v.status, s.status AS expected_status, v.reasons
FROM scen s JOIN verdict v USING (n)
WHERE v.status <> s.status
   OR v.deferred_until IS DISTINCT FROM nullif(pg_temp.resolve(s.until), '')::date
   OR (s.rules = '' AND jsonb_array_length(v.reasons) > 0)
   OR EXISTS (SELECT 1 FROM unnest(string_to_array(nullif(s.rules, ''), ',')) w
              WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v.reasons) r WHERE r ->> 'rule' = w))
   OR (s.rules <> '' AND NOT EXISTS (
          SELECT 1 FROM jsonb_array_elements(v.reasons) r
          WHERE r ->> 'rule' = split_part(s.rules, ',', 1)
            AND strpos(r ->> 'detail', pg_temp.resolve(s.detail)) > 0));

-- next_screening_due: the last day every required result and the full questionnaire are valid.
SELECT v.name, pg_temp.rel(v.next_screening_due::text) AS next_screening_due
FROM verdict v
WHERE v.name IN ('baseline', 'result-60-days-old', 'questionnaire-60-days-old', 'no-panel',
                 'age-61', 'latest-deferral-wins')
ORDER BY v.n;
SELECT count(*) AS no_panel_test_reasons
FROM verdict v, jsonb_array_elements(v.reasons) r
WHERE v.name = 'no-panel' AND r ->> 'rule' LIKE 'test:%';

-- For every donor, explain's failing rules are show's reasons (expected: 0 mismatches).
WITH s AS (SELECT e.code, r ->> 'rule' AS rule, r ->> 'detail' AS detail
           FROM fmtbank.donor_eligibility_at() e, jsonb_array_elements(e.reasons) r),
     x AS (SELECT d.code, x.rule, x.detail
           FROM fmtbank.eligibility_rules(clock_timestamp(), NULL) x
           JOIN fmtbank.donor d ON d.id = x.donor_id
           WHERE x.verdict IN ('screening', 'deferred', 'excluded'))
SELECT count(*) AS explain_show_mismatches
FROM ((SELECT * FROM s EXCEPT ALL SELECT * FROM x) UNION ALL (SELECT * FROM x EXCEPT ALL SELECT * FROM s)) m;

-- explain for one donor: every test and every answered item, the failing one with its detail.
SELECT rule, verdict, pg_temp.rel(detail) AS detail
FROM fmtbank.donor_explain_at((SELECT d.id FROM fmtbank.donor d JOIN scen s ON s.code = d.code
                               WHERE s.name = 'bmi-18.4'))
WHERE rule IN ('item:bmi', 'item:antibiotics_last', 'test:CALPRO');
SELECT count(*) FILTER (WHERE rule LIKE 'test:%') AS tests, count(*) FILTER (WHERE rule LIKE 'item:%') AS items
FROM fmtbank.donor_explain_at((SELECT d.id FROM fmtbank.donor d JOIN scen s ON s.code = d.code
                               WHERE s.name = 'bmi-18.4'));

-- The two wrappers over eligibility_summary are SQL-standard bodies with no SET clause, so a
-- call with a fixed moment is inlined: the plan reads eligibility_summary itself, not a stored
-- copy of the wrapper's result.
SELECT p.proname, p.proconfig IS NULL AS no_set, p.prosqlbody IS NOT NULL AS sql_body
FROM pg_proc p
WHERE p.pronamespace = 'fmtbank'::regnamespace AND p.proname IN ('donor_eligibility_at', 'donor_status_at')
ORDER BY 1;
SELECT q.name, pg_temp.plan(q.sql) !~ 'Function Scan on donor_(eligibility|status)_at' AS inlined,
       pg_temp.plan(q.sql) ~ 'Function Scan on eligibility_summary' AS reads_the_summary
FROM (VALUES
    ('every donor', 'SELECT count(*) FROM fmtbank.donor_eligibility_at(now())'),
    ('one donor', 'SELECT status FROM fmtbank.donor_status_at(''00000000-0000-0000-0000-000000000001'', now())')) q(name, sql)
ORDER BY 1;
