-- catalog.sql: the catalog as versioned data (product.md §12; migration 140, code/140): a test
-- added by an administrator in one call (mpox) with every effect on donors and stock; answers
-- as of a moment before a change unchanged by it; retirement; per-test validity; the 64th and
-- the 100th test; questionnaire items added, changed, retired; every refusal.
SELECT pg_temp.as_reason('FDA 2022 mpox alert');
SELECT pg_temp.donor(c) FROM unnest(ARRAY['D-5001', 'D-5002', 'D-5003', 'D-5004']) c;
SELECT pg_temp.full_q(c, current_date) FROM unnest(ARRAY['D-5001', 'D-5002', 'D-5003', 'D-5004']) c;
SELECT pg_temp.panel(c, d) FROM unnest(ARRAY['D-5001', 'D-5002', 'D-5003', 'D-5004']) c,
                               unnest(ARRAY[current_date - 1, current_date - 45, current_date - 130]) d;
CREATE TEMP TABLE l (k text, lot text);
-- released stock (marked released as the superuser would, without a signature: the scenario is
-- the catalog, not the release): collected 40 days ago, and 100 days ago (before --applies-from)
INSERT INTO l VALUES ('rel-40', pg_temp.lot('D-5001', 40)), ('rel-100', pg_temp.lot('D-5002', 100)),
                     ('rel-specimen', pg_temp.lot('D-5003', 40)), ('unreleased', pg_temp.lot('D-5004', 40));
UPDATE fmtbank.lot SET status = 'released' WHERE lot_id IN (SELECT lot FROM l WHERE k LIKE 'rel-%');
SELECT k, pg_temp.lot_rules(lot) AS blocking FROM l WHERE k = 'unreleased';

-- the moment before the change, and what the system said then
CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS at;
CREATE TEMP TABLE said AS
SELECT d.code, e.* FROM fmtbank.donor d, fmtbank.donor_explain_at(d.id, (SELECT at FROM t0)) e
WHERE d.code = 'D-5001';
CREATE TEMP TABLE said_lot AS
SELECT l.k, b.* FROM l, fmtbank.lot x, fmtbank.lot_blocking_at((SELECT at FROM t0), x.id) b
WHERE x.lot_id = l.lot AND l.k = 'unreleased';
SELECT code, status FROM fmtbank.donor_eligibility_at() WHERE code LIKE 'D-500%' ORDER BY code;

-- mpox as data: one call
SELECT version, code, action, case_code IS NOT NULL AS case_opened, lots_held
FROM fmtbank.catalog_test_add('MPOX', 'mpox PCR', 'rectal_swab', 'pre,post', 'negative', NULL, '60',
                              false, 'FDA22', NULL, (current_date - 90)::text);
SELECT code, name, specimen, required, validity_days, accept, catalog_version, defined_in
FROM fmtbank.screening_test_at() WHERE code = 'MPOX';
SELECT count(*) AS tests_in_force FROM fmtbank.screening_test_at();
SELECT count(*) AS tests_before FROM fmtbank.screening_test_at((SELECT at FROM t0));
-- donors without an mpox result are screening again, naming it
SELECT e.code, e.status, e.reasons -> 0 ->> 'rule' AS rule
FROM fmtbank.donor_eligibility_at() e WHERE e.code LIKE 'D-500%' ORDER BY e.code;
-- the unreleased lot is not ready until tested
SELECT k, pg_temp.lot_details(lot) AS blocking FROM l WHERE k = 'unreleased';
-- released stock collected from --applies-from on, never tested for it, is held by the catalog case
SELECT l.k, coalesce(string_agg(h ->> 'source', ', '), '-') AS held
FROM l JOIN fmtbank.lot x ON x.lot_id = l.lot
LEFT JOIN LATERAL jsonb_array_elements(fmtbank.holds_of(x.id, NULL)) h ON true
GROUP BY l.k ORDER BY l.k;
SELECT c.source, pg_temp.rel(c.reason) AS reason FROM fmtbank.safety_case c WHERE c.source = 'catalog';
SELECT version, subject, code, action, pg_temp.rel(applies_from::text) AS applies_from,
       taken_at IS NOT NULL AS taken, case_code IS NOT NULL AS has_case, reason
FROM fmtbank.catalog_history ORDER BY version;

-- as of the moment before the change: exactly what was said then
SELECT count(*) AS explain_rows_now, count(*) FILTER (WHERE s.code IS NULL) AS differing
FROM fmtbank.donor d, fmtbank.donor_explain_at(d.id, (SELECT at FROM t0)) e
LEFT JOIN said s ON row(s.rule, s.verdict, s.until, s.detail) IS NOT DISTINCT FROM row(e.rule, e.verdict, e.until, e.detail)
WHERE d.code = 'D-5001';
SELECT (SELECT count(*) FROM said) AS explain_rows_then;
SELECT b.blocking = s.blocking AS blocking_unchanged, s.blocking AS blocking_then
FROM l, fmtbank.lot x, fmtbank.lot_blocking_at((SELECT at FROM t0), x.id) b, said_lot s
WHERE x.lot_id = l.lot AND l.k = 'unreleased';

-- a result on the unreleased lot's retained sample satisfies the test for that lot (both windows)
SELECT fmtbank.result_add('D-5004', 'MPOX', (current_date - 40)::text, 'Not detected', NULL, 'Lab M',
                          (SELECT a.aliquot_id FROM fmtbank.aliquot a JOIN fmtbank.lot x ON x.id = a.lot
                           WHERE x.lot_id = (SELECT lot FROM l WHERE k = 'unreleased') AND a.idx = 0))
       IS NOT NULL AS specimen_result;
SELECT k, pg_temp.lot_rules(lot) AS blocking FROM l WHERE k = 'unreleased';

-- a change scheduled for later is not in force before its time, and the daemon's sweep carries
-- it out when it comes (the time is moved to the past here, as the clock would)
SELECT version, action FROM fmtbank.catalog_test_add('ESBL2', 'ESBL screen (swab)', 'rectal_swab', 'pre',
                                                     'negative', NULL, '90', false, 'site', '2099-01-01', NULL);
SELECT count(*) AS in_force_now FROM fmtbank.screening_test_at() WHERE code = 'ESBL2';
SELECT count(*) AS in_force_2099 FROM fmtbank.screening_test_at('2099-01-02') WHERE code = 'ESBL2';
SELECT * FROM fmtbank.sweep_catalog();
SELECT pg_temp.try($$SELECT fmtbank.catalog_test_change('ESBL2', 'x', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$) AS change_pending;
UPDATE fmtbank.catalog_version SET effective_from = clock_timestamp() - interval '1 second' WHERE code = 'ESBL2';
SELECT * FROM fmtbank.sweep_catalog();
SELECT code, action, taken_at IS NOT NULL AS taken, case_code IS NOT NULL AS has_case
FROM fmtbank.catalog_history WHERE code = 'ESBL2';
SELECT * FROM fmtbank.sweep_catalog();

-- retiring a test: no longer required from then on; before, unchanged
SELECT pg_temp.panel('D-5001', current_date - 2, ARRAY['MRSA']);
DELETE FROM said;
INSERT INTO said SELECT d.code, e.* FROM fmtbank.donor d, fmtbank.donor_explain_at(d.id, clock_timestamp()) e
WHERE d.code = 'D-5001';
TRUNCATE t0;
INSERT INTO t0 SELECT clock_timestamp();
SELECT fmtbank.result_add('D-5001', 'MPOX', (current_date - 1)::text, 'negative', NULL, 'Lab M') IS NOT NULL AS mpox;
UPDATE fmtbank.result r SET superseded_at = clock_timestamp()
FROM fmtbank.donor d, fmtbank.screening_test t
WHERE d.code = 'D-5001' AND r.donor_id = d.id AND t.code IN ('MRSA', 'ESBL2') AND r.test_no = t.test_no;
SELECT e.status, e.reasons -> 0 ->> 'rule' AS rule FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-5001';
SELECT version, action FROM fmtbank.catalog_test_retire('MRSA', NULL);
SELECT version, action FROM fmtbank.catalog_test_retire('ESBL2', NULL);
SELECT e.status, e.reasons FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-5001';
SELECT count(*) AS mrsa_in_force FROM fmtbank.screening_test_at() WHERE code = 'MRSA';
SELECT count(*) AS mrsa_before FROM fmtbank.screening_test_at((SELECT at FROM t0)) WHERE code = 'MRSA';
SELECT pg_temp.try($$SELECT fmtbank.catalog_test_retire('MRSA', NULL)$$) AS retire_again,
       pg_temp.try($$SELECT fmtbank.catalog_test_change('MRSA', 'x', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$) AS change_retired,
       pg_temp.try($$SELECT fmtbank.catalog_test_add('MRSA', 'x', 'stool', 'pre', 'negative', NULL, '60', false, 's', NULL, NULL)$$) AS reuse_code;

-- a change: CRP's limit given with the test; the result of 6 mg/L was acceptable under 5? no; under 8 yes
SELECT fmtbank.result_add('D-5002', 'CRP', (current_date - 1)::text, '6', 'mg/L', 'Lab C') IS NOT NULL AS crp_6;
SELECT e.status, e.reasons -> 0 ->> 'rule' AS rule FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-5002';
SELECT version, action FROM fmtbank.catalog_test_change('CRP', NULL, NULL, NULL, '<=8', NULL, NULL, NULL, NULL, NULL, NULL);
SELECT code, accept, unit, catalog_version FROM fmtbank.screening_test_at() WHERE code = 'CRP';
SELECT e.status, e.reasons -> 0 ->> 'rule' AS rule FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-5002';
SELECT pg_temp.try($$SELECT fmtbank.catalog_test_change('CRP', NULL, NULL, NULL, '<=8', NULL, NULL, NULL, NULL, NULL, NULL)$$) AS same_again;
-- its unit or kind cannot change (the stored values would change meaning), nor a qualitative test
-- become numeric
SELECT pg_temp.try($$SELECT fmtbank.catalog_test_change('CRP', NULL, NULL, NULL, '<=0.8', 'mg/dL', NULL, NULL, NULL, NULL, NULL)$$) AS new_unit,
       pg_temp.try($$SELECT fmtbank.catalog_test_change('CRP', NULL, NULL, NULL, 'negative', NULL, NULL, NULL, NULL, NULL, NULL)$$) AS to_qualitative,
       pg_temp.try($$SELECT fmtbank.catalog_test_change('NORO', NULL, NULL, NULL, '<5', 'copies', NULL, NULL, NULL, NULL, NULL)$$) AS to_numeric;
-- a result is validated against the definition in force (a test added with its own limit and unit)
SELECT version FROM fmtbank.catalog_test_add('FOBT', 'faecal occult blood', 'stool', 'none', '<20', 'ng/mL',
                                             '60', false, 'site', NULL, NULL);
CREATE TEMP TABLE n AS SELECT fmtbank.result_add('D-5002', 'FOBT', (current_date - 3)::text, '<10', 'ng/mL', 'Lab C') AS id;
SELECT x.result, x.value, x.unit, x.reported, t.accept,
       fmtbank.result_acceptable(x.result, x.value, t.accept_op, t.accept_limit) AS acceptable
FROM n JOIN fmtbank.result x ON x.id = n.id JOIN fmtbank.screening_test_at() t ON t.test_no = x.test_no;
SELECT pg_temp.try($$SELECT fmtbank.result_add('D-5002', 'FOBT', (current_date - 4)::text, '5', 'mg/L', 'Lab C')$$) AS other_unit;

-- a test's own validity: 30 days
SELECT version FROM fmtbank.catalog_test_add('SHORTV', 'short-lived marker', 'serum', 'pre', 'negative',
                                             NULL, '30', false, 'site', NULL, NULL);
SELECT fmtbank.result_add('D-5002', 'MPOX', (current_date - 1)::text, 'negative', NULL, 'Lab M') IS NOT NULL AS mpox;
SELECT fmtbank.result_add('D-5002', 'SHORTV', (current_date - 31)::text, 'negative', NULL, 'Lab V') IS NOT NULL AS d31;
SELECT e.status, x ->> 'rule' AS rule, pg_temp.rel(x ->> 'detail') AS detail
FROM fmtbank.donor_eligibility_at() e, jsonb_array_elements(e.reasons) x WHERE e.code = 'D-5002';
SELECT fmtbank.result_add('D-5002', 'SHORTV', (current_date - 30)::text, 'negative', NULL, 'Lab V') IS NOT NULL AS d30;
SELECT e.status, e.next_screening_due - current_date AS due_in_days
FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-5002';

-- no cap on the number of tests: up to the 100th (test number 99); the 64th and the 100th required
SELECT count(*) AS added
FROM generate_series((SELECT max(test_no) + 1 FROM fmtbank.screening_test), 99) n,
     LATERAL fmtbank.catalog_test_add('T' || n, 'test number ' || n, 'stool',
                                      CASE WHEN n IN (63, 99) THEN 'pre' ELSE 'none' END,
                                      'negative', NULL, '60', false, 'scale', NULL, NULL) c;
SELECT test_no, code, required FROM fmtbank.screening_test_at() WHERE test_no IN (62, 63, 64, 99) ORDER BY test_no;
SELECT length((fmtbank.catalog_vectors_at(clock_timestamp())).zero) AS bits;
SELECT e.code, e.status, (SELECT string_agg(x ->> 'rule', ',') FROM jsonb_array_elements(e.reasons) x) AS rules
FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-5003';
SELECT fmtbank.result_add('D-5003', t, (current_date - 1)::text, 'negative', NULL, 'Lab T') IS NOT NULL AS ok
FROM unnest(ARRAY['T63', 'MPOX', 'SHORTV']) t;
SELECT e.code, e.status, (SELECT string_agg(x ->> 'rule', ',') FROM jsonb_array_elements(e.reasons) x) AS rules
FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-5003';
SELECT fmtbank.result_add('D-5003', 'T99', (current_date - 1)::text, 'negative', NULL, 'Lab T') IS NOT NULL AS ok;
SELECT e.code, e.status FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-5003';
-- a positive 100th test defers; the rule names it
SELECT fmtbank.result_add('D-5003', 'T99', current_date::text, 'positive', NULL, 'Lab T') IS NOT NULL AS ok;
SELECT e.status, e.reasons -> 0 ->> 'rule' AS rule FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-5003';
-- the readiness engine names the 100th test missing from a lot's windows
SELECT k, pg_temp.lot_details(lot) AS blocking FROM l WHERE k = 'unreleased';

-- questionnaire items: a new one must be answered from now on; the donors to re-interview
SELECT version, action FROM fmtbank.catalog_question_add('mpox_contact_last', 'full', 'date', 'defer',
                                                         'When did you last have close contact with someone with mpox?',
                                                         '21', '21', 'FDA22', NULL);
SELECT code, questionnaire, type, effect, defer_days, lookback_days, catalog_version
FROM fmtbank.question_item_at() WHERE code = 'mpox_contact_last';
SELECT pg_temp.rel(pg_temp.try($$SELECT pg_temp.full_q('D-5001', current_date)$$)) AS without_it;
SELECT donor, status, pg_temp.rel(last_questionnaire::text) AS last
FROM fmtbank.catalog_reinterview('mpox_contact_last') WHERE donor LIKE 'D-500%' ORDER BY donor;
SELECT pg_temp.full_q('D-5001', current_date, 'mpox_contact_last=d-10');
SELECT e.status, e.reasons -> 0 ->> 'rule' AS rule, pg_temp.rel(e.deferred_until::text) AS until
FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-5001';
SELECT donor FROM fmtbank.catalog_reinterview('mpox_contact_last') WHERE donor LIKE 'D-500%' ORDER BY donor;
SELECT version, action FROM fmtbank.catalog_question_change('mpox_contact_last', NULL, '5', NULL, NULL, NULL);
SELECT e.status FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-5001';
SELECT version, action FROM fmtbank.catalog_question_retire('mpox_contact_last', NULL);
SELECT count(*) AS in_force FROM fmtbank.question_item_at() WHERE code = 'mpox_contact_last';
SELECT pg_temp.try($$SELECT pg_temp.full_q('D-5002', current_date, 'mpox_contact_last=')$$) AS answering_retired;

-- refusals: each names the field; nothing is stored
CREATE TEMP TABLE v0 AS SELECT max(version) AS v FROM fmtbank.catalog_version;
SELECT k, pg_temp.try(q) AS refused FROM (VALUES
 ('code', $$SELECT fmtbank.catalog_test_add('9MPOX', 'x', 'stool', 'pre', 'negative', NULL, '60', false, 's', NULL, NULL)$$),
 ('code chars', $$SELECT fmtbank.catalog_test_add('A-B', 'x', 'stool', 'pre', 'negative', NULL, '60', false, 's', NULL, NULL)$$),
 ('exists', $$SELECT fmtbank.catalog_test_add('HIV', 'x', 'stool', 'pre', 'negative', NULL, '60', false, 's', NULL, NULL)$$),
 ('specimen', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'blood', 'pre', 'negative', NULL, '60', false, 's', NULL, NULL)$$),
 ('phases', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'during', 'negative', NULL, '60', false, 's', NULL, NULL)$$),
 ('accept', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'pre', 'absent', NULL, '60', false, 's', NULL, NULL)$$),
 ('accept >', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'pre', '>5', 'mg/L', '60', false, 's', NULL, NULL)$$),
 ('limit without unit', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'pre', '<=5', NULL, '60', false, 's', NULL, NULL)$$),
 ('unit on negative', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'pre', 'negative', 'mg/L', '60', false, 's', NULL, NULL)$$),
 ('unit with a space', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'pre', '<5', 'mg L', '60', false, 's', NULL, NULL)$$),
 ('validity 0', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'pre', 'negative', NULL, '0', false, 's', NULL, NULL)$$),
 ('validity text', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'pre', 'negative', NULL, 'sixty', false, 's', NULL, NULL)$$),
 ('no name', $$SELECT fmtbank.catalog_test_add('NEW1', ' ', 'stool', 'pre', 'negative', NULL, '60', false, 's', NULL, NULL)$$),
 ('name with a newline', $$SELECT fmtbank.catalog_test_add('NEW1', E'a\nb', 'stool', 'pre', 'negative', NULL, '60', false, 's', NULL, NULL)$$),
 ('no source', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'pre', 'negative', NULL, '60', false, '', NULL, NULL)$$),
 ('effective past', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'pre', 'negative', NULL, '60', false, 's', '2020-01-01', NULL)$$),
 ('effective text', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'pre', 'negative', NULL, '60', false, 's', 'soon', NULL)$$),
 ('applies-from', $$SELECT fmtbank.catalog_test_add('NEW1', 'x', 'stool', 'pre', 'negative', NULL, '60', false, 's', NULL, '2022-02-30')$$),
 ('change unknown', $$SELECT fmtbank.catalog_test_change('NOPE', 'x', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$),
 ('unit on qualitative', $$SELECT fmtbank.catalog_test_change('HIV', NULL, NULL, NULL, NULL, 'mg/L', NULL, NULL, NULL, NULL, NULL)$$),
 ('item code', $$SELECT fmtbank.catalog_question_add('Bad Item', 'full', 'boolean', 'exclude', 't', NULL, NULL, 's', NULL)$$),
 ('item exists', $$SELECT fmtbank.catalog_question_add('covid_last', 'full', 'date', 'defer', 't', '1', NULL, 's', NULL)$$),
 ('item retired code', $$SELECT fmtbank.catalog_question_add('mpox_contact_last', 'full', 'date', 'defer', 't', '1', NULL, 's', NULL)$$),
 ('questionnaire', $$SELECT fmtbank.catalog_question_add('new_item', 'weekly', 'boolean', 'defer', 't', '1', NULL, 's', NULL)$$),
 ('type', $$SELECT fmtbank.catalog_question_add('new_item', 'full', 'number', 'defer', 't', '1', NULL, 's', NULL)$$),
 ('effect', $$SELECT fmtbank.catalog_question_add('new_item', 'full', 'boolean', 'ignore', 't', NULL, NULL, 's', NULL)$$),
 ('exclude on short', $$SELECT fmtbank.catalog_question_add('new_item', 'short', 'boolean', 'exclude', 't', NULL, NULL, 's', NULL)$$),
 ('defer without days', $$SELECT fmtbank.catalog_question_add('new_item', 'short', 'boolean', 'defer', 't', NULL, NULL, 's', NULL)$$),
 ('exclude with days', $$SELECT fmtbank.catalog_question_add('new_item', 'full', 'boolean', 'exclude', 't', '5', NULL, 's', NULL)$$),
 ('lookback', $$SELECT fmtbank.catalog_question_add('new_item', 'short', 'boolean', 'defer', 't', '5', '-1', 's', NULL)$$),
 ('defer-days on exclude', $$SELECT fmtbank.catalog_question_change('infection_history', NULL, '5', NULL, NULL, NULL)$$),
 ('nothing to change', $$SELECT fmtbank.catalog_question_change('covid_last', NULL, NULL, NULL, NULL, NULL)$$),
 ('retire derived', $$SELECT fmtbank.catalog_question_retire('age', NULL)$$),
 ('reinterview unknown', $$SELECT * FROM fmtbank.catalog_reinterview('nope')$$)
) x(k, q);
SELECT pg_temp.as_reason('');
SELECT pg_temp.try($$SELECT fmtbank.catalog_test_add('NEW2', 'x', 'stool', 'pre', 'negative', NULL, '60', false, 's', NULL, NULL)$$) AS no_reason;
SELECT pg_temp.as_reason('x');
SELECT (SELECT max(version) FROM fmtbank.catalog_version) = (SELECT v FROM v0) AS nothing_stored,
       NOT EXISTS (SELECT 1 FROM fmtbank.screening_test WHERE code IN ('NEW1', 'NEW2')) AS no_test;
-- only an administrator changes the catalog, and no role writes the tables directly
-- (a session of each role: SET SESSION AUTHORIZATION, as a user of that role logs in)
SELECT r, pg_temp.try(format('SET LOCAL SESSION AUTHORIZATION %I; SELECT fmtbank.catalog_test_add(''NEW3'', ''x'', ''stool'', ''pre'', ''negative'', NULL, ''60'', false, ''s'', NULL, NULL)', r)) AS add_test
FROM unnest(ARRAY['fmtbank_technician', 'fmtbank_quality', 'fmtbank_auditor']) r;
SELECT r, pg_temp.try(format('SET LOCAL SESSION AUTHORIZATION %I; INSERT INTO fmtbank.screening_test_def SELECT * FROM fmtbank.screening_test_def LIMIT 1', r)) AS write_def,
       pg_temp.try(format('SET LOCAL SESSION AUTHORIZATION %I; UPDATE fmtbank.catalog_version SET reason = ''x''', r)) AS rewrite_history
FROM unnest(ARRAY['fmtbank_admin', 'fmtbank_technician']) r;
SELECT session_user = current_user AS back_to_the_test_session;
