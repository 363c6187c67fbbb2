-- vigilance.sql: recipients and vigilance (product.md §13, schema/code/170_vigilance.sql): a serious
-- adverse event opens an adverse_event case on every donor of the recipient's doses, holding
-- exactly their stock and listing their other recipients; a recipient with doses of two donors;
-- grading to unlikely ends the case's claim (the holds stay until a signed lift) and grading back
-- opens a new case; a non-serious event, and one recorded already excluded, open nothing; scores;
-- refusals (input, rules and roles, through sessions of each role). IDs print masked (C#, E#, L#).
CREATE FUNCTION pg_temp.m(p text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(regexp_replace(regexp_replace(p, 'C[0-9]{8}[0-9A-Z*]', 'C#', 'g'),
                          'E[0-9]{8}[0-9A-Z*]', 'E#', 'g'), 'L[0-9]{8}(-[0-9]{3})?[0-9A-Z*]', 'L#\1', 'g')
$$;
CREATE FUNCTION pg_temp.held(p_lot text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(h ->> 'source', ', ' ORDER BY h ->> 'case'), '-')
    FROM fmtbank.lot l, jsonb_array_elements(fmtbank.holds_of(l.id, NULL)) h WHERE l.lot_id = p_lot
$$;
-- released(lot): the lot and its doses marked released as the superuser would (the scenario is
-- vigilance, not the release); issue(lot, dose, recipient, site) through "aliquot issue".
CREATE FUNCTION pg_temp.released(p_lot text) RETURNS text LANGUAGE sql AS $$
    UPDATE fmtbank.lot SET status = 'released' WHERE lot_id = p_lot;
    UPDATE fmtbank.aliquot a SET status = 'released' FROM fmtbank.lot l
    WHERE l.id = a.lot AND l.lot_id = p_lot AND NOT a.retained;
    SELECT p_lot
$$;
CREATE FUNCTION pg_temp.issue(p_lot text, p_idx integer, p_recipient text, p_site text DEFAULT 'Hospital A')
RETURNS text LANGUAGE sql AS $$
    SELECT fmtbank.aliquot_issue(a.aliquot_id, p_recipient, p_site)
    FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot WHERE l.lot_id = p_lot AND a.idx = p_idx
$$;
-- cases(event): the event's cases, one line each: donor, status, withdrawn, lots held, the other
-- recipients to notify
CREATE FUNCTION pg_temp.cases(p jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(format('%s %s%s held %s lots, notify %s', c ->> 'donor', c ->> 'status',
                                      CASE WHEN (c ->> 'withdrawn')::boolean THEN ' (withdrawn)' ELSE '' END,
                                      c ->> 'lots_held',
                                      (SELECT coalesce(string_agg(DISTINCT r ->> 'recipient', ' '), '-')
                                       FROM jsonb_array_elements(c -> 'recipients') r)),
                               '; ' ORDER BY c ->> 'donor', c ->> 'case'), 'no case')
    FROM jsonb_array_elements(p) c
$$;
-- as(role, sql): runs the statement in a session of that role (SET SESSION AUTHORIZATION, as a
-- user of the role logs in: require_role reads session_user); 'done' or the refusal
CREATE FUNCTION pg_temp.as_role(p_role text, p_sql text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.m(pg_temp.try(format('SET LOCAL SESSION AUTHORIZATION %I; %s; RESET SESSION AUTHORIZATION',
                                        p_role, p_sql)))
$$;
CREATE TEMP TABLE l (k text PRIMARY KEY, lot text);
CREATE TEMP TABLE ev (k text PRIMARY KEY, event text);

-- Stock: donor D-7001 with two lots (a1 issued from, a2 in stock), D-7002 with one lot, an
-- unrelated donor D-7003 with one lot.
SELECT pg_temp.donor('D-7001'), pg_temp.donor('D-7002'), pg_temp.donor('D-7003');
INSERT INTO l VALUES ('a1', pg_temp.released(pg_temp.lot('D-7001', 40))),
                     ('a2', pg_temp.released(pg_temp.lot('D-7001', 30))),
                     ('b1', pg_temp.released(pg_temp.lot('D-7002', 40))),
                     ('x1', pg_temp.released(pg_temp.lot('D-7003', 40)));
SELECT count(*) AS issued FROM (VALUES ('a1', 1, 'R-0001', 'Hospital A'), ('a1', 2, 'r-0002', 'Hospital B'),
    ('b1', 1, 'R-0003', 'Hospital A'), ('b1', 2, 'R-0004', 'Hospital A'), ('a1', 3, 'R-0004', 'Hospital B'),
    ('x1', 1, 'R-0005', 'Hospital A')) v(k, idx, r, site)
WHERE pg_temp.issue((SELECT lot FROM l WHERE l.k = v.k), v.idx, v.r, v.site) IS NOT NULL;

-- recipient show and donor recipients: doses, lots, donors, sites
SELECT recipient, donors, sites, jsonb_array_length(doses) AS doses, events, scores
FROM fmtbank.recipient_show('r-0004');
SELECT recipient, site, pg_temp.m(aliquot) AS aliquot, events FROM fmtbank.donor_recipients('D-7001');
SELECT pg_temp.try($$SELECT * FROM fmtbank.recipient_show('R-9999')$$) AS unknown,
       pg_temp.try($$SELECT * FROM fmtbank.recipient_show('John Smith')$$) AS a_name,
       pg_temp.try($$SELECT * FROM fmtbank.donor_recipients('D-9999')$$) AS unknown_donor;

-- A serious infection in R-0001 (recorded by a technician, imputability not_assessable): a case on
-- D-7001 holds exactly its stock (a1, a2), not D-7002's nor D-7003's, and lists its other
-- recipients R-0002 and R-0004 (not the reporter)
SELECT pg_temp.as_role('fmtbank_technician', $$SELECT fmtbank.recipient_event_add('R-0001', current_date::text,
    'infection', 'yes', 'severe', NULL, 'ESBL E. coli bacteraemia, hospitalised')$$) AS technician_records;
INSERT INTO ev SELECT 'inf', event_code FROM fmtbank.recipient_event WHERE recipient = 'R-0001';
SELECT e.recorded_by, e.imputability, pg_temp.cases(fmtbank.event_cases(e.id)) AS cases
FROM fmtbank.recipient_event e WHERE e.recipient = 'R-0001';
SELECT k, pg_temp.held(lot) AS held FROM l ORDER BY k;
SELECT source, status, scope, donor, pg_temp.rel(pg_temp.m(about)) AS about, lots_held FROM fmtbank.case_list
WHERE source = 'adverse_event';
SELECT pg_temp.m(x.aliquot) AS aliquot, x.recipient, x.site FROM fmtbank.safety_case c,
       fmtbank.case_recipients(c.id) x WHERE c.source = 'adverse_event' ORDER BY 1;
-- held stock cannot be issued
SELECT pg_temp.m(pg_temp.try($$SELECT pg_temp.issue((SELECT lot FROM l WHERE k = 'a2'), 1, 'R-0009')$$)) AS issue_held;

-- A recipient with doses of two donors (R-0004: a1 of D-7001, b1 of D-7002): both donors' cases
SELECT event IS NOT NULL AS recorded, pg_temp.cases(cases) AS cases
FROM fmtbank.recipient_event_add('R-0004', current_date::text, 'fever', 'yes', 'moderate', NULL,
                                 'fever 39.5 C, admitted for two nights');
SELECT k, pg_temp.held(lot) AS held FROM l ORDER BY k;

-- A non-serious event opens nothing; nor does a serious one recorded already graded excluded (by
-- quality) or unlikely
INSERT INTO ev SELECT 'ns', event FROM fmtbank.recipient_event_add('R-0005', current_date::text, 'gi_symptoms', 'no', 'mild', NULL, 'bloating for two days');
SELECT pg_temp.cases(fmtbank.event_cases(e.id)) AS non_serious FROM fmtbank.recipient_event e
WHERE e.event_code = (SELECT event FROM ev WHERE k = 'ns');
SELECT pg_temp.cases(cases) AS excluded, imputability
FROM fmtbank.recipient_event_add('R-0005', current_date::text, 'infection', 'yes', 'severe', 'excluded',
                                 'C. difficile infection; the strain differs from the donor''s');
SELECT pg_temp.cases(cases) AS unlikely, imputability
FROM fmtbank.recipient_event_add('R-0005', current_date::text, 'other', 'yes', 'severe', 'unlikely',
                                 'fracture after a fall');
SELECT pg_temp.held((SELECT lot FROM l WHERE k = 'x1')) AS x1_held;
-- a follow-up makes the non-serious event serious (admitted two days later): the case opens then
SELECT pg_temp.as_reason('admitted with dehydration');
SELECT serious, pg_temp.cases(cases) AS made_serious
FROM fmtbank.recipient_event_update((SELECT event FROM ev WHERE k = 'ns'), NULL, NULL, 'yes');
SELECT pg_temp.held((SELECT lot FROM l WHERE k = 'x1')) AS x1_held;

-- Grading the infection unlikely ends its case's claim (signal withdrawn - lift proposed, naming
-- the grade, who and why); the holds remain until a signed lift, and the case cannot be closed
SELECT pg_temp.as_reason('isolate typed: not the donor strain');
SELECT imputability, pg_temp.cases(cases) AS cases
FROM fmtbank.recipient_event_update((SELECT event FROM ev WHERE k = 'inf'), NULL, 'unlikely', NULL);
SELECT c.status, x.proposal, pg_temp.m(c.withdrawn_reason) AS withdrawn_reason, x.lots_held
FROM fmtbank.safety_case c JOIN fmtbank.case_list x ON x."case" = c.case_code
JOIN fmtbank.recipient_event e ON e.id = c.event_id WHERE e.event_code = (SELECT event FROM ev WHERE k = 'inf');
SELECT k, pg_temp.held(lot) AS held FROM l WHERE k IN ('a1', 'a2') ORDER BY k;
SELECT pg_temp.try(format('SELECT fmtbank.case_close(%L, NULL)', c.case_code)) AS close
FROM fmtbank.safety_case c JOIN fmtbank.recipient_event e ON e.id = c.event_id
WHERE e.event_code = (SELECT event FROM ev WHERE k = 'inf');
-- an outcome follow-up changes no case
SELECT pg_temp.as_reason('discharged');
SELECT outcome, pg_temp.cases(cases) AS cases
FROM fmtbank.recipient_event_update((SELECT event FROM ev WHERE k = 'inf'), 'recovered', NULL, NULL);
-- graded back to probable: a new case (the withdrawn one keeps its history)
SELECT pg_temp.as_reason('second isolate matches the donor strain');
SELECT imputability, pg_temp.cases(cases) AS cases
FROM fmtbank.recipient_event_update((SELECT event FROM ev WHERE k = 'inf'), NULL, 'probable', NULL);
-- the append-only history of grades and outcomes
SELECT h.action, h.imputability, h.outcome, h.serious, h.by_user, h.reason
FROM fmtbank.recipient_event_history h JOIN fmtbank.recipient_event e ON e.id = h.event_id
WHERE e.event_code = (SELECT event FROM ev WHERE k = 'inf') ORDER BY h.id;

-- Input refusals, each naming the field; nothing stored (a death is serious: a non-serious
-- event's outcome cannot be fatal without --serious yes; nothing makes an event not serious)
INSERT INTO ev SELECT 'ns2', event FROM fmtbank.recipient_event_add('R-0003', current_date::text, 'fever', 'no', 'mild', NULL, '38.0 C for a day');
CREATE TEMP TABLE n0 AS SELECT count(*) AS n FROM fmtbank.recipient_event;
SELECT k, pg_temp.rel(pg_temp.m(pg_temp.try(q))) AS refused FROM (VALUES
 ('unknown recipient', $$SELECT fmtbank.recipient_event_add('R-9999', current_date::text, 'fever', 'no', 'mild', NULL, 'x')$$),
 ('a name', $$SELECT fmtbank.recipient_event_add('Jane Doe', current_date::text, 'fever', 'no', 'mild', NULL, 'x')$$),
 ('date', $$SELECT fmtbank.recipient_event_add('R-0001', '30.02.2026', 'fever', 'no', 'mild', NULL, 'x')$$),
 ('future', $$SELECT fmtbank.recipient_event_add('R-0001', (current_date + 1)::text, 'fever', 'no', 'mild', NULL, 'x')$$),
 ('before any dose', $$SELECT fmtbank.recipient_event_add('R-0001', (current_date - 1)::text, 'fever', 'no', 'mild', NULL, 'x')$$),
 ('kind', $$SELECT fmtbank.recipient_event_add('R-0001', current_date::text, 'rash', 'no', 'mild', NULL, 'x')$$),
 ('serious', $$SELECT fmtbank.recipient_event_add('R-0001', current_date::text, 'fever', 'maybe', 'mild', NULL, 'x')$$),
 ('severity', $$SELECT fmtbank.recipient_event_add('R-0001', current_date::text, 'fever', 'no', 'grave', NULL, 'x')$$),
 ('imputability', $$SELECT fmtbank.recipient_event_add('R-0001', current_date::text, 'fever', 'no', 'mild', 'likely', 'x')$$),
 ('death not serious', $$SELECT fmtbank.recipient_event_add('R-0001', current_date::text, 'death', 'no', 'severe', NULL, 'x')$$),
 ('description', $$SELECT fmtbank.recipient_event_add('R-0001', current_date::text, 'fever', 'no', 'mild', NULL, '  ')$$),
 ('event ID', $$SELECT fmtbank.recipient_event_update('E26000001Q', 'recovered', NULL, NULL)$$),
 ('unknown event', $$SELECT fmtbank.recipient_event_update(fmtbank.with_check('E99999999'), 'recovered', NULL, NULL)$$),
 ('outcome', $$SELECT fmtbank.recipient_event_update((SELECT event FROM ev WHERE k = 'inf'), 'cured', NULL, NULL)$$),
 ('serious no', $$SELECT fmtbank.recipient_event_update((SELECT event FROM ev WHERE k = 'inf'), NULL, NULL, 'no')$$),
 ('fatal not serious', $$SELECT fmtbank.recipient_event_update((SELECT event FROM ev WHERE k = 'ns2'), 'fatal', NULL, NULL)$$),
 ('nothing', $$SELECT fmtbank.recipient_event_update((SELECT event FROM ev WHERE k = 'inf'), NULL, NULL, NULL)$$),
 ('no change', $$SELECT fmtbank.recipient_event_update((SELECT event FROM ev WHERE k = 'inf'), 'recovered', 'probable', NULL)$$)
) x(k, q);
SELECT pg_temp.as_reason('');
SELECT pg_temp.m(pg_temp.try($$SELECT fmtbank.recipient_event_update((SELECT event FROM ev WHERE k = 'inf'), 'fatal', NULL, NULL)$$)) AS without_reason;
SELECT (SELECT count(*) FROM fmtbank.recipient_event) = (SELECT n FROM n0) AS nothing_stored;
-- the event as reported and its history are never changed or deleted, by anyone
SELECT pg_temp.m(pg_temp.try($$UPDATE fmtbank.recipient_event SET serious = false WHERE recipient = 'R-0001'$$)) AS rewrite_event,
       pg_temp.m(pg_temp.try($$DELETE FROM fmtbank.recipient_event WHERE recipient = 'R-0005'$$)) AS delete_event,
       pg_temp.try($$UPDATE fmtbank.recipient_event_history SET imputability = 'definite'$$) AS rewrite_history,
       pg_temp.try($$DELETE FROM fmtbank.recipient_event_history$$) AS delete_history;

-- Outcome scores from the catalog (phq9 0-27, gad7 0-21, integers), shown in recipient show
SELECT code, name, min_value, max_value, integral FROM fmtbank.score_instrument ORDER BY code;
SELECT fmtbank.recipient_score_add('R-0001', 'week2', current_date::text, 'phq9', '14') > 0 AS phq9,
       fmtbank.recipient_score_add('R-0001', 'week2', current_date::text, 'GAD7', '9') > 0 AS gad7;
SELECT pg_temp.rel(scores::text) AS scores FROM fmtbank.recipient_show('R-0001');
SELECT k, pg_temp.rel(pg_temp.try(q)) AS refused FROM (VALUES
 ('above max', $$SELECT fmtbank.recipient_score_add('R-0001', 'week8', current_date::text, 'phq9', '28')$$),
 ('below min', $$SELECT fmtbank.recipient_score_add('R-0001', 'week8', current_date::text, 'phq9', '-1')$$),
 ('not integral', $$SELECT fmtbank.recipient_score_add('R-0001', 'week8', current_date::text, 'phq9', '3.5')$$),
 ('not a number', $$SELECT fmtbank.recipient_score_add('R-0001', 'week8', current_date::text, 'phq9', 'high')$$),
 ('unknown item', $$SELECT fmtbank.recipient_score_add('R-0001', 'week8', current_date::text, 'bdi', '3')$$),
 ('visit', $$SELECT fmtbank.recipient_score_add('R-0001', 'week 8', current_date::text, 'phq9', '3')$$),
 ('future', $$SELECT fmtbank.recipient_score_add('R-0001', 'week8', (current_date + 7)::text, 'phq9', '3')$$),
 ('twice', $$SELECT fmtbank.recipient_score_add('R-0001', 'week2', current_date::text, 'phq9', '12')$$),
 ('unknown recipient', $$SELECT fmtbank.recipient_score_add('R-9999', 'week2', current_date::text, 'phq9', '12')$$)
) x(k, q);

-- A score corrected (migration 290): never overwritten, the correction kept with its reason, the
-- value in force the latest correction's; refusals: no reason, no such score, the value in force
-- already, out of range; the auditor corrects nothing; nobody updates a correction
SELECT set_config('fmtbank.reason', '', true) IS NOT NULL AS no_reason;
SELECT pg_temp.try($$SELECT fmtbank.recipient_score_correct('R-0001', 'week2', 'phq9', '12')$$) AS without_reason;
SELECT pg_temp.as_reason('transcription error: the form says 12');
SELECT k, pg_temp.try(q) AS refused FROM (VALUES
 ('no such visit', $$SELECT fmtbank.recipient_score_correct('R-0001', 'week9', 'phq9', '12')$$),
 ('no such item', $$SELECT fmtbank.recipient_score_correct('R-0001', 'week2', 'bdi', '12')$$),
 ('unknown recipient', $$SELECT fmtbank.recipient_score_correct('R-9999', 'week2', 'phq9', '12')$$),
 ('same value', $$SELECT fmtbank.recipient_score_correct('R-0001', 'week2', 'phq9', '14')$$),
 ('above max', $$SELECT fmtbank.recipient_score_correct('R-0001', 'week2', 'phq9', '28')$$),
 ('not integral', $$SELECT fmtbank.recipient_score_correct('R-0001', 'week2', 'phq9', '12.5')$$)
) x(k, q);
SELECT fmtbank.recipient_score_correct('r-0001', ' week2 ', 'PHQ9', '12') > 0 AS corrected;
SELECT fmtbank.recipient_score_correct('R-0001', 'week2', 'phq9', '13') > 0 AS corrected_again;
SELECT pg_temp.try($$SELECT fmtbank.recipient_score_correct('R-0001', 'week2', 'phq9', '13')$$) AS same_again;
SELECT instrument, value, recorded_value, jsonb_path_query_array(corrections, '$[*].value') AS corrections,
       jsonb_path_query_array(corrections, '$[*].reason') ->> 0 AS first_reason
FROM fmtbank.recipient_score_now WHERE recipient = 'R-0001' ORDER BY instrument;
SELECT s #> '{value}' AS shown_value, s #> '{recorded_value}' AS shown_recorded, jsonb_array_length(s -> 'corrections') AS shown_corrections
FROM fmtbank.recipient_show('R-0001') r, jsonb_array_elements(r.scores) s WHERE s ->> 'item' = 'phq9';
SELECT value AS recorded_untouched FROM fmtbank.recipient_score WHERE recipient = 'R-0001' AND instrument = 'phq9';
SELECT pg_temp.try($$SET LOCAL SESSION AUTHORIZATION audrey; SELECT fmtbank.recipient_score_correct('R-0001', 'week2', 'gad7', '8')$$) AS auditor;
SELECT pg_temp.try($$UPDATE fmtbank.recipient_score_correction SET value = 1$$) AS owner_update;
SELECT pg_temp.try($$SET LOCAL SESSION AUTHORIZATION alice; INSERT INTO fmtbank.recipient_score_correction (score, value, reason) SELECT id, 1, 'x' FROM fmtbank.recipient_score LIMIT 1$$) AS technician_insert;
SELECT op, reason FROM fmtbank.audit_log WHERE tbl = 'recipient_score_correction' ORDER BY id;

-- A file of scores (staged as "recipient score import" stages it): every bad line, nothing stored;
-- then a good file stored whole
INSERT INTO fmtbank_stage.score_stage (line, recipient, visit, visit_date, item, value) VALUES
    (2, 'R-0003', 'week2', current_date::text, 'phq9', '5'), (3, 'R-0003', 'week2', current_date::text, 'gad7', '22'),
    (4, 'R-0003', 'week2', current_date::text, 'phq9', '6'), (5, 'R-0001', 'week2', current_date::text, 'phq9', '1');
SELECT line, message, id FROM fmtbank.score_import_begin(), fmtbank.score_import_stage() WHERE false;
SELECT line, message, id FROM fmtbank.score_import_stage();
SELECT count(*) AS r0003_scores FROM fmtbank.recipient_score WHERE recipient = 'R-0003';
INSERT INTO fmtbank_stage.score_stage (line, recipient, visit, visit_date, item, value) VALUES
    (2, 'r-0003', 'week2', current_date::text, 'phq9', '5'), (3, 'R-0003', 'week2', current_date::text, 'gad7', '21');
SELECT line, message, id FROM fmtbank.score_import_stage();
SELECT count(*) AS left_staged FROM fmtbank_stage.score_stage;

-- Roles: technician, quality and admin record; only quality grades (at recording or later); the
-- auditor records nothing and reads everything; no role writes the tables directly
SELECT pg_temp.as_reason('follow-up call');
SELECT r,
       pg_temp.as_role(r, $$SELECT fmtbank.recipient_event_add('R-0002', current_date::text, 'gi_symptoms', 'no', 'mild', NULL, 'cramps')$$) AS record,
       pg_temp.as_role(r, $$SELECT fmtbank.recipient_event_add('R-0002', current_date::text, 'gi_symptoms', 'no', 'mild', 'possible', 'cramps')$$) AS record_graded,
       pg_temp.as_role(r, format($$SELECT fmtbank.recipient_event_update(%L, NULL, 'definite', NULL)$$, (SELECT event FROM ev WHERE k = 'inf'))) AS grade,
       pg_temp.as_role(r, $$SELECT fmtbank.recipient_score_add('R-0002', 'week2', current_date::text, 'phq9', '3')$$) AS score,
       pg_temp.as_role(r, $$SELECT * FROM fmtbank.score_import_stage()$$) AS score_import,
       pg_temp.as_role(r, $$SELECT * FROM fmtbank.recipient_show('R-0001')$$) AS show,
       pg_temp.as_role(r, $$SELECT * FROM fmtbank.donor_recipients('D-7001')$$) AS donor_recipients,
       pg_temp.as_role(r, $$SELECT * FROM fmtbank.report_vigilance_events(NULL, NULL)$$) AS report
FROM unnest(ARRAY['fmtbank_technician', 'fmtbank_quality', 'fmtbank_auditor', 'fmtbank_admin']) r;
SELECT recorded_by, imputability, count(*) FROM fmtbank.recipient_event WHERE recipient = 'R-0002'
GROUP BY 1, 2 ORDER BY 1, 2;
SELECT r,
       pg_temp.as_role(r, $$INSERT INTO fmtbank.recipient_event (event_code, recipient, event_date, kind, serious, severity, description) VALUES ('E26999999X', 'R-0001', current_date, 'fever', false, 'mild', 'x')$$) AS write_event,
       pg_temp.as_role(r, $$UPDATE fmtbank.recipient_event SET imputability = 'excluded'$$) AS grade_directly,
       pg_temp.as_role(r, $$INSERT INTO fmtbank.recipient_score (recipient, visit, visit_date, instrument, value) VALUES ('R-0001', 'w9', current_date, 'phq9', 1)$$) AS write_score,
       pg_temp.as_role(r, $$INSERT INTO fmtbank.score_instrument VALUES ('bdi', 'x', 0, 63, true, 'x')$$) AS write_catalog
FROM unnest(ARRAY['fmtbank_technician', 'fmtbank_quality', 'fmtbank_auditor', 'fmtbank_admin']) r;
SELECT session_user = current_user AS back_to_the_test_session;
