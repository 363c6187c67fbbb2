-- holds.sql: cases and holds (product.md §11.0): what each source holds, exactly, at its window
-- edges; the hard stops for every caller (the transition triggers); an exclusion's case; a new
-- donation while a case is open; a correction that withdraws the signal; closing refused while
-- held. Signed decisions need a committed password check first, so they are tested by the CLI
-- (t0320-cases). Case IDs print as C#.
CREATE FUNCTION pg_temp.held(p_lot text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(coalesce(string_agg(h ->> 'case' || ' ' || (h ->> 'source'), ', '), '-'),
                          'C[0-9]{8}[0-9A-Z*]', 'C#', 'g')
    FROM fmtbank.lot l, jsonb_array_elements(fmtbank.holds_of(l.id, NULL)) h WHERE l.lot_id = p_lot
$$;
CREATE TEMP TABLE l (k text PRIMARY KEY, lot text);

-- A result case holds the donor's lots from hold_from on (the last acceptable result of the test
-- before the positive, or its day - lookback_min_days when later): a lot collected the day before
-- hold_from is not held, one on hold_from is, and so is one collected after the positive.
SELECT pg_temp.donor('D-2001');
SELECT pg_temp.result('D-2001', 'NORO', current_date - 70, 'negative');
INSERT INTO l VALUES ('before', pg_temp.lot('D-2001', 71)), ('edge', pg_temp.lot('D-2001', 70)),
                     ('inside', pg_temp.lot('D-2001', 40));
SELECT pg_temp.result('D-2001', 'NORO', current_date - 30, 'positive');
INSERT INTO l VALUES ('later', pg_temp.lot('D-2001', 5));
SELECT k, pg_temp.held(lot) AS held, pg_temp.lot_rules(lot) LIKE '%hold%' AS blocks FROM l ORDER BY lot;
SELECT source, status, pg_temp.rel(fmtbank.case_summary(c)) AS about FROM fmtbank.safety_case c
JOIN fmtbank.donor d ON d.id = c.donor_id WHERE d.code = 'D-2001';

-- A correction withdrawing the signal marks the case; the holds stay.
SELECT pg_temp.as_reason('lab re-read the plate');
SELECT fmtbank.result_correct(r.id::text, 'negative', NULL) IS NOT NULL AS corrected
FROM fmtbank.result r JOIN fmtbank.donor d ON d.id = r.donor_id
WHERE d.code = 'D-2001' AND r.result = 'positive';
SELECT c.status, x.proposal, pg_temp.held((SELECT lot FROM l WHERE k = 'inside')) AS still_held
FROM fmtbank.safety_case c JOIN fmtbank.case_list x ON x."case" = c.case_code
JOIN fmtbank.donor d ON d.id = c.donor_id WHERE d.code = 'D-2001';
-- and the case cannot be closed while it holds material undecided
SELECT pg_temp.as_reason('withdrawn');
SELECT pg_temp.try(format('SELECT fmtbank.case_close(%L, NULL)', c.case_code)) AS close
FROM fmtbank.safety_case c JOIN fmtbank.donor d ON d.id = c.donor_id WHERE d.code = 'D-2001';

-- Manual holds: a donor with a window (edges inclusive), a lot, an aliquot.
SELECT pg_temp.donor('D-2002');
INSERT INTO l VALUES ('w1', pg_temp.lot('D-2002', 50)), ('w2', pg_temp.lot('D-2002', 40)),
                     ('w3', pg_temp.lot('D-2002', 30)), ('w4', pg_temp.lot('D-2002', 20));
SELECT pg_temp.as_reason('GP letter: travel to an endemic area');
SELECT lots, aliquots FROM fmtbank.hold_add('donor', 'D-2002',
    (current_date - 40 + time '08:30')::text, (current_date - 30 + time '08:30')::text);
SELECT k, pg_temp.held(lot) AS held FROM l WHERE k LIKE 'w%' ORDER BY k;
SELECT pg_temp.as_reason('');
SELECT pg_temp.try('SELECT fmtbank.hold_add(''donor'', ''D-2002'', NULL, NULL)') AS without_reason;
SELECT pg_temp.as_reason('tube dropped');
SELECT lots, aliquots FROM fmtbank.hold_add('lot', (SELECT lot FROM l WHERE k = 'w4'), NULL, NULL);
SELECT pg_temp.held((SELECT lot FROM l WHERE k = 'w4')) AS w4_held;
-- One tube held holds its lot's release (a release would release the tube), not its sister tubes.
SELECT h.lots, h.aliquots
FROM fmtbank.aliquot a JOIN fmtbank.lot x ON x.id = a.lot,
     LATERAL fmtbank.hold_add('aliquot', a.aliquot_id, NULL, NULL) h
WHERE x.lot_id = (SELECT lot FROM l WHERE k = 'w1') AND a.idx = 1;
SELECT pg_temp.held((SELECT lot FROM l WHERE k = 'w1')) AS w1_lot_held, a.idx,
       regexp_replace(fmtbank.holds_of(a.lot, a.id)::text, 'C[0-9]{8}[0-9A-Z*]', 'C#', 'g') AS holds
FROM fmtbank.aliquot a JOIN fmtbank.lot x ON x.id = a.lot
WHERE x.lot_id = (SELECT lot FROM l WHERE k = 'w1') AND a.idx IN (1, 2) ORDER BY a.idx;
SELECT pg_temp.try('SELECT fmtbank.hold_add(''lot'', ''L99999999X'', ''2026-01-01'', NULL)') AS lot_window;
SELECT pg_temp.try('SELECT fmtbank.hold_add(''room'', ''x'', NULL, NULL)') AS bad_scope;

-- Hard stops, whoever calls (a superuser's UPDATE too): a held lot is not released, a held tube
-- not issued or discarded.
SELECT pg_temp.try(format('UPDATE fmtbank.lot SET status = ''released'' WHERE lot_id = %L',
                          (SELECT lot FROM l WHERE k = 'w2'))) AS release_held_lot;
SELECT pg_temp.try(format('UPDATE fmtbank.aliquot a SET status = ''discarded'' FROM fmtbank.lot x
                           WHERE x.id = a.lot AND x.lot_id = %L AND a.idx = 2',
                          (SELECT lot FROM l WHERE k = 'w2'))) AS discard_held_tube;
SELECT pg_temp.try(format('SELECT fmtbank.aliquot_discard(%L)',
    (SELECT a.aliquot_id FROM fmtbank.aliquot a JOIN fmtbank.lot x ON x.id = a.lot
     WHERE x.lot_id = (SELECT lot FROM l WHERE k = 'w2') AND a.idx = 1))) AS discard_command;

-- An exclusion holds every lot of the donor at once; a new donation is then rejected.
SELECT pg_temp.donor('D-2003');
INSERT INTO l VALUES ('x1', pg_temp.lot('D-2003', 30));
SELECT pg_temp.as_reason('disclosed a hepatitis B exposure');
SELECT fmtbank.donor_decide('D-2003', 'exclude', NULL);
SELECT pg_temp.held((SELECT lot FROM l WHERE k = 'x1')) AS x1_held;
SELECT pg_temp.short_q('D-2003', current_date);
CREATE TEMP TABLE don AS
SELECT * FROM fmtbank.donation_add('D-2003', (current_date + time '00:00')::text, '200', '4');
SELECT x.status, regexp_replace(e ->> 'detail', 'C[0-9]{8}[0-9A-Z*]', 'C#', 'g') AS why
FROM don x JOIN fmtbank.lot y ON y.lot_id = x.lot_id, jsonb_array_elements(y.reject_reasons) e
WHERE e ->> 'rule' = 'open_case';

-- Cases list by source; status counts include them.
SELECT source, status, count(*) FROM fmtbank.safety_case GROUP BY 1, 2 ORDER BY 1, 2;
SELECT state, n FROM fmtbank.status_counts WHERE entity = 'case' ORDER BY 1;
