-- disclosure.sql: the cases an answer recorded after a donation opens (product.md §11.0, sources
-- disclosure and followup; 106) and the post-donation health check (§11.1, rule
-- post_donation_check). Every window at its edges: held exactly the lots it should, never more.
-- Case IDs print as C#; days relative to today as d-N.
CREATE FUNCTION pg_temp.held(p_lot text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(h ->> 'source', ', '), '-')
    FROM fmtbank.lot l, jsonb_array_elements(fmtbank.holds_of(l.id, NULL)) h WHERE l.lot_id = p_lot
$$;
CREATE FUNCTION pg_temp.cases(p_code text) RETURNS TABLE (source text, item text, about text, withdrawn boolean)
LANGUAGE sql AS $$
    SELECT c.source, c.item, pg_temp.rel(fmtbank.case_summary(c)), c.withdrawn_at IS NOT NULL
    FROM fmtbank.safety_case c JOIN fmtbank.donor d ON d.id = c.donor_id
    WHERE d.code = p_code ORDER BY c.id
$$;
CREATE TEMP TABLE l (k text PRIMARY KEY, lot text);

-- A date item: covid_last D (lookback 28, deferral 28) concerns the lots collected in
-- [D - 28, D + 28). With D = d-60: d-89 is outside, d-88 and d-33 inside, d-32 outside.
SELECT pg_temp.donor('D-3001');
INSERT INTO l VALUES ('d-89', pg_temp.lot('D-3001', 89, 3, true, '', false)),
                     ('d-88', pg_temp.lot('D-3001', 88, 3, true, '', false)),
                     ('d-33', pg_temp.lot('D-3001', 33, 3, true, '', false)),
                     ('d-32', pg_temp.lot('D-3001', 32, 3, true, '', false));
SELECT pg_temp.full_q('D-3001', current_date, 'covid_last=d-60');
SELECT k, pg_temp.held(lot) AS held, pg_temp.lot_rules(lot) LIKE '%hold%' AS blocks
FROM l WHERE k LIKE 'd-%' ORDER BY lot;
SELECT * FROM pg_temp.cases('D-3001');
-- the same answer on the next questionnaire opens nothing new
SELECT pg_temp.full_q('D-3001', current_date - 1, 'covid_last=d-60');
SELECT count(*) AS cases FROM pg_temp.cases('D-3001');
-- the questionnaire recorded again without the answer withdraws the signal; the holds stay
SELECT pg_temp.as_reason('the donor misread the question');
SELECT pg_temp.full_q('D-3001', current_date, '');
SELECT pg_temp.full_q('D-3001', current_date - 1, '');
SELECT * FROM pg_temp.cases('D-3001');
SELECT k, pg_temp.held(lot) AS still_held FROM l WHERE k IN ('d-88', 'd-33') ORDER BY lot;

-- A date item without lookback: tattoo_piercing_acupuncture_last D (deferral 180) concerns
-- [D, D + 180): the lot of the day before is not held, the lot of D is.
SELECT pg_temp.donor('D-3002');
INSERT INTO l VALUES ('t-before', pg_temp.lot('D-3002', 41, 3, true, '', false)),
                     ('t-day', pg_temp.lot('D-3002', 40, 3, true, '', false));
SELECT pg_temp.full_q('D-3002', current_date, 'tattoo_piercing_acupuncture_last=d-40');
SELECT k, pg_temp.held(lot) AS held FROM l WHERE k LIKE 't-%' ORDER BY lot;
SELECT * FROM pg_temp.cases('D-3002');

-- An answer about a time before any donation concerns no material: no case.
SELECT pg_temp.donor('D-3003');
SELECT pg_temp.lot('D-3003', 20, 3, true, '', false) IS NOT NULL AS lot;
SELECT pg_temp.full_q('D-3003', current_date, 'antibiotics_last=d-200');
SELECT count(*) AS cases FROM pg_temp.cases('D-3003');

-- A yes to a "since" item of the donation-day questionnaire: from the previous donation-day
-- questionnaire (lookback 0) through the answer's day. The lot of d-40 (before the previous
-- questionnaire of d-35) is not held; d-35 and d-30 are.
SELECT pg_temp.donor('D-3004');
INSERT INTO l VALUES ('s-40', pg_temp.lot('D-3004', 40, 3, true, '', false)),
                     ('s-35', pg_temp.lot('D-3004', 35, 3, true, '', false)),
                     ('s-30', pg_temp.lot('D-3004', 30, 3, false, '', false));
SELECT pg_temp.short_q('D-3004', current_date - 30, 'antibiotics_since_last');
SELECT k, pg_temp.held(lot) AS held FROM l WHERE k LIKE 's-%' ORDER BY lot;
SELECT * FROM pg_temp.cases('D-3004');

-- A yes on the follow-up questionnaire (source followup): no previous follow-up, so from the
-- previous donation (d-20) - lookback 28 for COVID-19 = d-48 through the answer's day. d-49 is not
-- held, d-48 and d-20 are; the donor is deferred by the item's period.
SELECT pg_temp.donor('D-3005');
INSERT INTO l VALUES ('f-49', pg_temp.lot('D-3005', 49, 3, true, '', false)),
                     ('f-48', pg_temp.lot('D-3005', 48, 3, true, '', false)),
                     ('f-20', pg_temp.lot('D-3005', 20, 3, true, '', false));
SELECT pg_temp.followup_q('D-3005', current_date - 2, 'followup_covid_symptoms_or_contact');
SELECT k, pg_temp.held(lot) AS held FROM l WHERE k LIKE 'f-%' ORDER BY lot;
SELECT * FROM pg_temp.cases('D-3005');
SELECT r.rule, r.verdict, pg_temp.rel(r.detail) AS detail
FROM fmtbank.donor_explain_at((fmtbank.donor_get('D-3005')).id, clock_timestamp()) r WHERE r.rule = 'item:followup_covid_symptoms_or_contact';
-- while the case is open a new donation is recorded rejected (the open case named)
SELECT pg_temp.short_q('D-3005', current_date);
CREATE TEMP TABLE don AS
SELECT * FROM fmtbank.donation_add('D-3005', (current_date + time '00:00')::text, '200', '4');
SELECT l.status, l.reject_reasons @> '[{"rule": "open_case"}]' AS open_case
FROM don x JOIN fmtbank.lot l ON l.lot_id = x.lot_id;

-- An exclusion item: every lot of the donor, whenever collected.
SELECT pg_temp.donor('D-3006');
INSERT INTO l VALUES ('x-300', pg_temp.lot('D-3006', 300, 3, true, '', false)),
                     ('x-10', pg_temp.lot('D-3006', 10, 3, true, '', false));
SELECT pg_temp.full_q('D-3006', current_date, 'infection_history=yes');
SELECT k, pg_temp.held(lot) AS held FROM l WHERE k LIKE 'x-%' ORDER BY lot;
SELECT * FROM pg_temp.cases('D-3006');

-- The post-donation health check: a clear follow-up or full questionnaire dated in
-- [cd + 28, cd + 60]. Lots of d-70: a follow-up on cd+27 does not count, one on cd+28 does; one
-- on cd+60 counts, cd+61 does not; a clear full questionnaire on cd+30 counts.
SELECT pg_temp.donor(c) FROM unnest(ARRAY['D-3011', 'D-3012', 'D-3013', 'D-3014', 'D-3015']) c;
INSERT INTO l SELECT 'pc-' || c, pg_temp.lot(c, 70, 3, true, '', false)
FROM unnest(ARRAY['D-3011', 'D-3012', 'D-3013', 'D-3014', 'D-3015']) c;
SELECT pg_temp.followup_q('D-3011', current_date - 43);
SELECT pg_temp.followup_q('D-3012', current_date - 42);
SELECT pg_temp.followup_q('D-3013', current_date - 10);
SELECT pg_temp.followup_q('D-3014', current_date - 9);
SELECT pg_temp.full_q('D-3015', current_date - 40);
SELECT k, x.ok, pg_temp.rel(x.detail) AS detail
FROM l, fmtbank.lot_check_at(clock_timestamp(), (SELECT id FROM fmtbank.lot WHERE lot_id = l.lot), NULL, true) x
WHERE k LIKE 'pc-%' AND x.rule = 'post_donation_check' ORDER BY k;
-- a follow-up with a yes in the window is not clear: it opens its case and the check waits for a
-- clear one
SELECT pg_temp.donor('D-3016');
INSERT INTO l VALUES ('pc-yes', pg_temp.lot('D-3016', 40, 3, true, '', false));
SELECT pg_temp.followup_q('D-3016', current_date - 10, 'followup_fever');
SELECT pg_temp.lot_details(lot) AS blocking FROM l WHERE k = 'pc-yes';

-- A catalog case (source catalog): a test that becomes required holds the released stock
-- collected on or after the day it applies from that no result of the test screened; a lot
-- screened for it, collected before that day, or not released (the readiness rules require the
-- test of it) is not held. (The lots are marked released here as the superuser would, without a
-- signature: the scenario is the case, not the release.)
SELECT pg_temp.donor(c) FROM unnest(ARRAY['D-3021', 'D-3022']) c;
INSERT INTO l VALUES ('cat-before', pg_temp.lot('D-3021', 50, 3, true, '', false)),
                     ('cat-untested', pg_temp.lot('D-3021', 30, 3, true, '', false)),
                     ('cat-tested', pg_temp.lot('D-3022', 30, 3, true, '', false)),
                     ('cat-unreleased', pg_temp.lot('D-3022', 29, 3, true, '', false));
UPDATE fmtbank.lot SET status = 'released'
WHERE lot_id IN (SELECT lot FROM l WHERE k IN ('cat-before', 'cat-untested', 'cat-tested'));
SELECT pg_temp.result('D-3022', 'MRSA', current_date - 35, 'negative');
SELECT c.source, pg_temp.rel(fmtbank.case_summary(c)) AS about
FROM fmtbank.case_open_catalog('MRSA', current_date - 40, 'FDA alert') c;
SELECT k, pg_temp.held(lot) AS held FROM l WHERE k LIKE 'cat-%' ORDER BY k;
SELECT fmtbank.case_open_catalog('MRSA', current_date, 'nothing concerned') IS NULL AS no_case;
SELECT pg_temp.try($$SELECT fmtbank.case_open_catalog('NOPE', current_date, 'x')$$) AS unknown_test;
-- a result on the lot's retained sample (--specimen) screens that lot: the next catalog case of
-- the test does not hold it
SELECT fmtbank.result_add('D-3021', 'VRE', (current_date - 30)::text, 'negative', NULL, 'Lab S',
                          (SELECT a.aliquot_id FROM fmtbank.aliquot a JOIN fmtbank.lot x ON x.id = a.lot
                           WHERE x.lot_id = (SELECT lot FROM l WHERE k = 'cat-untested') AND a.idx = 0)) IS NOT NULL AS recorded;
SELECT c.source FROM fmtbank.case_open_catalog('VRE', current_date - 40, 'retained samples tested') c;
SELECT k FROM l JOIN fmtbank.lot x ON x.lot_id = l.lot
WHERE x.id IN (SELECT h.lot FROM fmtbank.case_hold h JOIN fmtbank.safety_case c ON c.id = h.case_id
               WHERE c.source = 'catalog' AND c.reason LIKE 'retained samples tested%')
  AND k LIKE 'cat-%'
ORDER BY k;
-- the specimen must be the donor's, and collected on its lot's day
SELECT pg_temp.try(format('SELECT fmtbank.result_add(%L, %L, %L, %L, NULL, NULL, %L)', 'D-3022', 'VRE',
                          (current_date - 30)::text, 'negative', a.aliquot_id)) AS other_donor,
       pg_temp.rel(pg_temp.try(format('SELECT fmtbank.result_add(%L, %L, %L, %L, NULL, NULL, %L)', 'D-3021', 'VRE',
                          (current_date - 29)::text, 'negative', a.aliquot_id))) AS other_day
FROM fmtbank.aliquot a JOIN fmtbank.lot x ON x.id = a.lot
WHERE x.lot_id = (SELECT lot FROM l WHERE k = 'cat-untested') AND a.idx = 0;
