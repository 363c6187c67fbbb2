-- entry.sql: donation entry (product.md §11.2). A donation is judged on the facts valid at the
-- collection as known at the entry (donor_status_entry, donation_judge): results by collection
-- date, questionnaires by their date and time, all as recorded by the entry; "--as-of" answers
-- (donor_status_at) stay by recorded time. Lateness at max_entry_hours (24 h exactly vs 24 h + 1 s),
-- a probable duplicate at duplicate_donation_minutes (59 / 60 / 60 min 1 s / 61 minutes, either
-- side), a voided lot not counted; lot void and the transition trigger's refusals for every
-- session (the superuser's too). Roles are checked through psql in t0206-donation-entry.
CREATE TEMP TABLE k (name text PRIMARY KEY, at timestamptz);
-- short_at(code, date, time): a clear donation-day questionnaire taken at that time
CREATE FUNCTION pg_temp.short_at(p_code text, p_date date, p_time text) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FILTER (WHERE r.message IS NOT NULL)
    FROM fmtbank.questionnaire_record(p_code, p_date::text, 'short', p_time,
        (SELECT jsonb_agg(jsonb_build_object('line', n, 'item', i, 'answer', 'no'))
         FROM unnest(ARRAY['new_gi_symptoms', 'fever_or_illness', 'antibiotics_since_last',
                           'travel_since_last', 'sick_contacts', 'new_medication'])
              WITH ORDINALITY x(i, n))) r
$$;
-- entry(code, collected, known): the donor's status for a donation, and the failing rules (their
-- number when more than three)
CREATE FUNCTION pg_temp.entry(p_code text, p_at timestamptz, p_known timestamptz) RETURNS text
LANGUAGE sql AS $$
    SELECT coalesce(max(e.status || ' ' || CASE WHEN jsonb_array_length(e.reasons) > 3
                                                THEN jsonb_array_length(e.reasons) || ' rules'
                                                ELSE coalesce((SELECT string_agg(r ->> 'rule', ',')
                                                               FROM jsonb_array_elements(e.reasons) r), '-') END),
                    'no row')
    FROM fmtbank.donor_status_entry((fmtbank.donor_get(p_code)).id, p_at, p_known) e
$$;
-- judge(code, collected, known): what donation add would record, with the failing rules
CREATE FUNCTION pg_temp.judge(p_code text, p_at timestamptz, p_known timestamptz) RETURNS text
LANGUAGE sql AS $$
    SELECT j.status || ' ' || coalesce((SELECT string_agg(r ->> 'rule', ',')
                                        FROM jsonb_array_elements(j.reasons) r), '-')
    FROM fmtbank.donation_judge((fmtbank.donor_get(p_code)).id, p_at, 200, 4::smallint, p_known) j
$$;

-- Evening paperwork for a morning collection: the donor registered, screened and the
-- donation-day questionnaire recorded now, for a collection yesterday at 08:30.
SELECT pg_temp.donor('D-3001');
INSERT INTO k VALUES ('before screening', clock_timestamp());
SELECT pg_temp.panel('D-3001', current_date - 10), pg_temp.full_q('D-3001', current_date - 10),
       pg_temp.short_q('D-3001', current_date - 1);
SELECT pg_temp.entry('D-3001', current_date - 1 + time '08:30', clock_timestamp()) AS as_known_now,
       pg_temp.judge('D-3001', current_date - 1 + time '08:30', clock_timestamp()) AS donation,
       pg_temp.entry('D-3001', current_date - 1 + time '08:30', (SELECT at FROM k WHERE name = 'before screening'))
           AS as_known_before_the_screening;
-- "--as-of" stays by recorded time: at the collection nothing had been recorded
SELECT count(*) AS as_of_rows FROM fmtbank.donor_status_at((fmtbank.donor_get('D-3001')).id,
                                                          current_date - 1 + time '08:30');
SELECT status AS as_of_now FROM fmtbank.donor_status_at((fmtbank.donor_get('D-3001')).id);

-- Lateness: max_entry_hours (24) after the collection exactly needs no reason; one second more does.
INSERT INTO k VALUES ('t0', clock_timestamp() - interval '24 hours');
SELECT j.status, j.needs_reason AS at_24h_needs_reason, j.late
FROM k, fmtbank.donation_judge((fmtbank.donor_get('D-3001')).id, k.at, 200, 4::smallint,
                               k.at + interval '24 hours') j WHERE k.name = 't0';
SELECT j.status, j.needs_reason AS at_24h_1s_needs_reason, j.late
FROM k, fmtbank.donation_judge((fmtbank.donor_get('D-3001')).id, k.at, 200, 4::smallint,
                               k.at + interval '24 hours 1 second') j WHERE k.name = 't0';

-- Questionnaires by their date and time: the donation-day questionnaire of 09:30 does not count for
-- a collection at 09:29, and counts at 09:30; a full questionnaire of 14:00 (the only one) not
-- before 14:00. "--as-of" by date (any time of the day) is unchanged.
SELECT pg_temp.donor('D-3002');
SELECT pg_temp.panel('D-3002', current_date - 10), pg_temp.full_q('D-3002', current_date - 10),
       pg_temp.short_at('D-3002', current_date - 1, '09:30') AS refused_lines;
SELECT pg_temp.judge('D-3002', current_date - 1 + time '09:29', clock_timestamp()) AS at_0929,
       pg_temp.judge('D-3002', current_date - 1 + time '09:30', clock_timestamp()) AS at_0930;
SELECT pg_temp.rel(r ->> 'detail') AS detail
FROM fmtbank.donation_judge((fmtbank.donor_get('D-3002')).id, current_date - 1 + time '09:29', 200,
                            4::smallint, clock_timestamp()) j, jsonb_array_elements(j.reasons) r;
SELECT pg_temp.donor('D-3003');
SELECT pg_temp.panel('D-3003', current_date - 10), pg_temp.short_q('D-3003', current_date - 1);
-- (the full questionnaire of yesterday, timed 14:00: recorded as by "questionnaire record --time")
SELECT pg_temp.full_q('D-3003', current_date - 1);
UPDATE fmtbank.questionnaire q SET q_time = '14:00' FROM fmtbank.donor d
WHERE d.id = q.donor_id AND d.code = 'D-3003' AND q.kind = 'full';
SELECT pg_temp.entry('D-3003', current_date - 1 + time '13:59', clock_timestamp()) AS at_1359,
       pg_temp.entry('D-3003', current_date - 1 + time '14:00', clock_timestamp()) AS at_1400;
SELECT status AS as_of_now_by_date FROM fmtbank.donor_status_at((fmtbank.donor_get('D-3003')).id);

-- Knowledge time: a correction recorded after the entry does not change what the entry knew.
SELECT pg_temp.as_reason('lab re-read the plate');
INSERT INTO k VALUES ('before correction', clock_timestamp());
SELECT fmtbank.result_correct(r.id::text, 'positive', NULL) IS NOT NULL AS corrected
FROM fmtbank.result r JOIN fmtbank.donor d ON d.id = r.donor_id JOIN fmtbank.screening_test t ON t.test_no = r.test_no
WHERE d.code = 'D-3002' AND t.code = 'NORO';
SELECT pg_temp.entry('D-3002', current_date - 1 + time '10:00', (SELECT at FROM k WHERE name = 'before correction'))
           AS known_before_the_correction,
       pg_temp.entry('D-3002', current_date - 1 + time '10:00', clock_timestamp()) AS known_now;
SELECT pg_temp.as_reason('');

-- A probable duplicate: another lot of the donor collected within duplicate_donation_minutes (60),
-- either side, at the second; a lot voided as entered in error does not count.
SELECT pg_temp.donor('D-3005');
INSERT INTO k SELECT 'lot 3005', current_date - 2 + time '08:30';
INSERT INTO fmtbank.lot (lot_id, donor_id, collected_at, mass_g, bristol, rule_set_version)
SELECT fmtbank.lot_next_id(now()), d.id, current_date - 2 + time '08:30', 200, 4, 1
FROM fmtbank.donor d WHERE d.code = 'D-3005';
SELECT x.offs, coalesce(array_length(j.duplicate_of, 1), 0) AS duplicates, j.duplicate_minutes
FROM (VALUES ('+59 min', interval '59 minutes'), ('+60 min', interval '60 minutes'),
             ('+60 min 1 s', interval '60 minutes 1 second'), ('+61 min', interval '61 minutes'),
             ('-59 min', interval '-59 minutes'), ('-60 min', interval '-60 minutes'),
             ('-61 min', interval '-61 minutes')) x(offs, d)
CROSS JOIN LATERAL fmtbank.donation_judge((fmtbank.donor_get('D-3005')).id,
                                          current_date - 2 + time '08:30' + x.d, 200, 4::smallint,
                                          clock_timestamp()) j
ORDER BY x.d;
SELECT pg_temp.as_reason('registered twice');
SELECT fmtbank.lot_void(l.lot_id) AS recalled FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id
WHERE d.code = 'D-3005';
SELECT coalesce(array_length(j.duplicate_of, 1), 0) AS duplicates_after_the_void
FROM fmtbank.donation_judge((fmtbank.donor_get('D-3005')).id, current_date - 2 + time '08:40', 200,
                            4::smallint, clock_timestamp()) j;

-- Lot void: refused without a reason, for held material (the lot or one of its aliquots), for a
-- lot with an issued dose and for a lot already rejected; the transition trigger refuses the same
-- for a direct UPDATE, the superuser's too. A void keeps the lot, rejected, its stock recalled.
SELECT pg_temp.donor('D-3006');
CREATE TEMP TABLE v (k text PRIMARY KEY, lot text);
INSERT INTO v VALUES ('held', pg_temp.lot('D-3006', 20, 2)), ('tube held', pg_temp.lot('D-3006', 15, 2)),
                     ('issued', pg_temp.lot('D-3006', 10, 2)), ('ok', pg_temp.lot('D-3006', 5, 2));
SELECT pg_temp.as_reason('');
SELECT pg_temp.try(format('SELECT fmtbank.lot_void(%L)', lot)) AS without_reason FROM v WHERE k = 'ok';
SELECT pg_temp.as_reason('suspicion');
SELECT lots FROM fmtbank.hold_add('lot', (SELECT lot FROM v WHERE k = 'held'), NULL, NULL);
SELECT aliquots FROM fmtbank.hold_add('aliquot', (SELECT a.aliquot_id FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
                                                 WHERE l.lot_id = (SELECT lot FROM v WHERE k = 'tube held') AND a.idx = 1), NULL, NULL);
UPDATE fmtbank.lot SET status = 'released' WHERE lot_id = (SELECT lot FROM v WHERE k = 'issued');
UPDATE fmtbank.aliquot a SET status = 'issued' FROM fmtbank.lot l
WHERE l.id = a.lot AND l.lot_id = (SELECT lot FROM v WHERE k = 'issued') AND a.idx = 2;
SELECT pg_temp.as_reason('entered under the wrong donor');
SELECT k, pg_temp.try(format('SELECT fmtbank.lot_void(%L)', lot)) AS void FROM v ORDER BY k;
SELECT k, pg_temp.try(format('UPDATE fmtbank.lot SET status = %L, reject_reasons = %L WHERE lot_id = %L',
                             'rejected', '[{"rule": "x", "detail": "direct"}]', lot)) AS direct_update
FROM v WHERE k <> 'ok' ORDER BY k;
SELECT v.k, l.status, l.reject_reasons ->> -1 AS last_reason,
       (SELECT string_agg(a.idx || ':' || a.status, ',' ORDER BY a.idx) FROM fmtbank.aliquot a WHERE a.lot = l.id) AS aliquots
FROM v JOIN fmtbank.lot l ON l.lot_id = v.lot ORDER BY v.k;
SELECT pg_temp.try(format('SELECT fmtbank.label_print(ARRAY[%L], NULL)', a.aliquot_id)) AS label
FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
WHERE l.lot_id = (SELECT lot FROM v WHERE k = 'ok') AND a.idx = 1;
SELECT pg_temp.try(format('SELECT fmtbank.lot_void(%L)', lot)) AS void_again FROM v WHERE k = 'ok';
