-- readiness.sql: release readiness (the sandwich, domain.md Timing) as "lot show" gives it: the
-- pre- and post-donation windows at their edges (day 60 in, day 61 out; the collection day
-- belongs to the pre window, the day after to the post window), partial panels, unacceptable
-- results between the panels (a retest that resolves one, one after the post panel that does not
-- count, one within lookback_min_days that the lookback holds: the rule "hold"), processing, the donation-day
-- questionnaire and a manual exclusion. One donor per scenario; every scenario's blocking rules
-- and details are listed, then those that differ from what is written here (expected: none).
CREATE TEMP TABLE scen (name text, code text, ago integer, pre integer, post integer,
                        post_omit text[], extra text, lot_opts text, rules text, detail text,
                        lot text);
INSERT INTO scen (name, code, ago, pre, post, post_omit, extra, lot_opts, rules, detail) VALUES
('complete sandwich', 'D-1001', 30, -40, -15, '{}', '', '', '', ''),
('pre panel on cd-60 (the window''s first day) counts', 'D-1002', 40, -100, -25, '{}', '', '', '', ''),
('pre panel on cd-61 does not', 'D-1003', 40, -101, -25, '{}', '', '', 'pre_panel',
 'no acceptable result of the 40 required tests collected from d-100 to d-40'),
('pre panel on the collection day counts', 'D-1004', 40, -40, -25, '{}', '', '', '', ''),
('a panel on the collection day is not a post-donation panel', 'D-1005', 40, -50, -40, '{}', '', '',
 'post_panel', 'no acceptable result of the 40 required tests collected from d-39 to d+20 (the window is open until d+20)'),
('post panel on cd+1 counts', 'D-1006', 40, -50, -39, '{}', '', '', '', ''),
('post panel on cd+60 (the window''s last day) counts', 'D-1007', 70, -80, -10, '{}', '', '', '', ''),
('post panel on cd+61 does not', 'D-1008', 70, -80, -9, '{}', '', '', 'post_panel', '(the window closed on d-10)'),
('a partial post panel names the missing tests', 'D-1009', 40, -50, -30, '{CRP,MRSA}', '', '', 'post_panel',
 'no acceptable CRP, MRSA result collected from d-39 to d+20 (the window is open until d+20)'),
('a positive 10 days before the donation, not retested, blocks', 'D-1010', 40, -70, -30, '{}',
 'NORO:positive:d-50', '', 'unacceptable_result,hold',
 'NORO positive collected d-50, between the pre- and post-donation results (d-70 to d-30)'),
('a retest before the donation resolves it; the open lookback case still holds the lot', 'D-1011',
 40, -70, -30, '{}', 'NORO:positive:d-50 NORO:negative:d-45', '', 'hold', ''),
('a positive 40 days after the donation, after the post panel, holds nothing', 'D-1012', 60, -80, -55,
 '{}', 'NORO:positive:d-20', '', '', ''),
('a positive 20 days after the donation is held by the lookback', 'D-1013', 30, -40, -25, '{}',
 'NORO:positive:d-10', '', 'hold', 'held by case # (result): NORO positive collected d-10, holds the lots collected from d-38 on'),
('a positive on the same day as the negative blocks', 'D-1014', 40, -45, -30, '{}',
 'CDIFF:positive:d-45', '', 'unacceptable_result,hold', ''),
('a calprotectin over its limit blocks', 'D-1020', 40, -50, -30, '{}', 'CALPRO:75:d-35:µg/g', '',
 'unacceptable_result,hold', 'CALPRO 75 µg/g collected d-35'),
('an unprocessed lot is not releasable', 'D-1015', 40, -50, -30, '{}', '', 'unprocessed', 'processing',
 'not processed yet'),
('a lot without donation-day questionnaire', 'D-1016', 40, -50, -30, '{}', '', 'no-questionnaire',
 'donation_questionnaire', 'no donation-day questionnaire recorded for d-40'),
('a yes on the donation-day questionnaire', 'D-1017', 40, -50, -30, '{}', '', 'fever_or_illness',
 'donation_questionnaire', 'donation-day questionnaire of d-40: yes to fever_or_illness');

SELECT count(pg_temp.donor(code)) AS donors FROM scen;
UPDATE scen SET lot = pg_temp.lot(code, ago,
                                  CASE lot_opts WHEN 'unprocessed' THEN 0 ELSE 3 END,
                                  lot_opts <> 'no-questionnaire',
                                  CASE WHEN lot_opts LIKE '%\_%' THEN lot_opts ELSE '' END);
SELECT count(pg_temp.panel(code, current_date + pre)) AS pre_panels,
       count(pg_temp.panel(code, current_date + post, post_omit)) AS post_panels
FROM scen;
SELECT count(pg_temp.result(s.code, split_part(x, ':', 1), pg_temp.resolve(split_part(x, ':', 3))::date,
                            split_part(x, ':', 2), nullif(split_part(x, ':', 4), ''))) AS extra_results
FROM scen s, regexp_split_to_table(nullif(s.extra, ''), '\s+') x;

-- Every scenario's blocking rules and their details.
SELECT name, pg_temp.lot_details(lot) AS blocking FROM scen ORDER BY code;

-- Scenarios whose blocking rules are not the ones written above (expected: none).
SELECT name, pg_temp.lot_rules(lot) AS rules, rules AS expected
FROM scen
WHERE pg_temp.lot_rules(lot) <> rules
   OR strpos(pg_temp.lot_details(lot), detail) = 0;

-- The displayed status is never stale: ready at once, though the stored one is still quarantine.
SELECT s.status AS shown, l.status AS stored
FROM scen, fmtbank.lot_show(lot) s, fmtbank.lot l
WHERE code = 'D-1001' AND l.lot_id = scen.lot;

-- The donor retested negative before the donation: the case still holds the lot, and it cannot
-- be closed while its hold is undecided (only a signed decision ends a hold: t0304).
SELECT pg_temp.as_reason('retest negative before the donation');
SELECT pg_temp.try(format('SELECT fmtbank.case_close(%L, NULL)', c.case_code)) AS close
FROM fmtbank.safety_case c JOIN fmtbank.donor d ON d.id = c.donor_id WHERE d.code = 'D-1011';
SELECT name, pg_temp.lot_rules(lot) AS rules FROM scen WHERE code = 'D-1011';

-- A manual exclusion blocks the donor's stock, naming who and why.
SELECT pg_temp.lot_rules(lot) AS before_exclusion FROM scen WHERE code = 'D-1001';
SELECT pg_temp.as_reason('new information from the donor''s GP');
SELECT fmtbank.donor_decide('D-1001', 'exclude', NULL);
SELECT pg_temp.lot_details(lot) AS after_exclusion FROM scen WHERE code = 'D-1001';
