-- trial.sql: blinded trial dispensing (product.md §14, schema/code/270_trial.sql): permuted blocks
-- balanced within each block and stratum and reproducible from the sealed seed; allocation
-- concealment (site and other blinded roles see no arm, lot, donor or placebo status of a trial
-- dose through any table, view, function or audit row); placebo readiness and the rule that
-- placebo doses stay in their trial; held and expired kits never dispensed; the same-donor rule;
-- unblinding rights and their record; list import validation. IDs print masked (K#, L#).
CREATE FUNCTION pg_temp.m(p text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(p, 'K[0-9]{7}[0-9A-Z*]', 'K#', 'g'), 'P-[0-9]{3}', 'P-#', 'g'),
                          'C[0-9]{8}[0-9A-Z*]', 'C#', 'g'), 'L[0-9]{8}(-[0-9]{3})?[0-9A-Z*]', 'L#\1', 'g')
$$;
CREATE FUNCTION pg_temp.as_role(p_role text, p_sql text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.m(pg_temp.try(format('SET LOCAL SESSION AUTHORIZATION %I; %s; RESET SESSION AUTHORIZATION',
                                        p_role, p_sql)))
$$;
-- val(role, sql): the first column of the first row, read in a session of that role (or the
-- refusal), so that what a role sees is printed
CREATE FUNCTION pg_temp.val(p_role text, p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format('SET LOCAL SESSION AUTHORIZATION %I', p_role);
    EXECUTE p_sql INTO r;
    RESET SESSION AUTHORIZATION;
    RETURN pg_temp.m(r);
EXCEPTION WHEN OTHERS THEN
    RETURN pg_temp.m(SQLERRM);
END $$;
-- detail(role, sql): the refusal's message and detail, in a session of that role
CREATE FUNCTION pg_temp.detail(p_role text, p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text; det text;
BEGIN
    EXECUTE format('SET LOCAL SESSION AUTHORIZATION %I', p_role);
    EXECUTE p_sql;
    RESET SESSION AUTHORIZATION;
    RETURN 'done';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN msg || E'\n' || det;
END $$;
CREATE FUNCTION pg_temp.released(p_lot text) RETURNS text LANGUAGE sql AS $$
    UPDATE fmtbank.lot SET status = 'released' WHERE lot_id = p_lot;
    UPDATE fmtbank.aliquot a SET status = 'released' FROM fmtbank.lot l
    WHERE l.id = a.lot AND l.lot_id = p_lot AND NOT a.retained;
    SELECT p_lot
$$;
CREATE FUNCTION pg_temp.doses(p_lot text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(a.aliquot_id, ',' ORDER BY a.idx) FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
    WHERE l.lot_id = p_lot AND NOT a.retained
$$;
-- arm(trial, participant): the allocated arm, as the superuser reads it
CREATE FUNCTION pg_temp.arm(p_trial text, p_code text) RETURNS text LANGUAGE sql AS $$
    SELECT al.arm FROM fmtbank.trial t JOIN fmtbank.trial_participant p ON p.trial = t.id
    JOIN fmtbank.trial_allocation al ON al.trial = p.trial AND al.stratum = p.stratum AND al.seq = p.seq
    WHERE t.code = p_trial AND p.code = p_code
$$;
-- kit_arm / kit_donor(kit): what the unblinded know of a kit
CREATE FUNCTION pg_temp.kit_donor(p_kit text) RETURNS text LANGUAGE sql AS $$
    SELECT d.code FROM fmtbank.trial_kit k JOIN fmtbank.trial_kit_content c ON c.kit = k.id
    JOIN fmtbank.aliquot a ON a.id = c.aliquot JOIN fmtbank.lot l ON l.id = a.lot
    JOIN fmtbank.donor d ON d.id = l.donor_id WHERE k.kit_no = p_kit
$$;
GRANT EXECUTE ON FUNCTION pg_temp.m(text), pg_temp.doses(text) TO PUBLIC;
CREATE TEMP TABLE l (k text PRIMARY KEY, lot text);
CREATE TEMP TABLE kit (k text, kit text);
GRANT ALL ON l, kit TO PUBLIC;
-- a pharmacist: quality with the unblinded role in addition
CREATE ROLE trial_pharmacist IN ROLE fmtbank_quality, fmtbank_unblinded;

-- ---------------------------------------------------------------- trial add: rights, input
SELECT pg_temp.as_role('fmtbank_quality', $$SELECT fmtbank.trial_add('MOOD-1', 'FMT:2,PLACEBO:1', '3,6', 'site,sex', '4', NULL, true, NULL)$$) AS quality_alone;
SELECT pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_add('MOOD-1', 'FMT:2,PLACEBO:1', '3,6', 'site,sex', '4', NULL, true, NULL)$$) AS site;
SELECT pg_temp.as_role('trial_pharmacist', $$SELECT fmtbank.trial_add('MOOD-1', 'FMT:2,PLACEBO:1', '3,4', 'site,sex', '4', NULL, true, NULL)$$) AS bad_block,
       pg_temp.as_role('trial_pharmacist', $$SELECT fmtbank.trial_add('MOOD-1', 'FMT:2', '3,6', 'site,sex', '4', NULL, true, NULL)$$) AS one_arm,
       pg_temp.as_role('trial_pharmacist', $$SELECT fmtbank.trial_add('MOOD-1', 'FMT:2,PLACEBO:1', '3,6', 'site,sex', '0', NULL, true, NULL)$$) AS no_doses,
       pg_temp.as_role('trial_pharmacist', $$SELECT fmtbank.trial_add('MOOD-1', 'FMT:2,PLACEBO:1', '3,6', 'site,sex', '4', 'D-9999', true, NULL)$$) AS unknown_pool_donor;
SELECT pg_temp.as_role('trial_pharmacist', $$SELECT fmtbank.trial_add('mood-1', 'FMT:2,PLACEBO:1', '3,6', 'site,sex', '4', NULL, true, NULL)$$) AS pharmacist;
SELECT code, block_sizes, strata, doses, same_donor, list_source,
       (SELECT string_agg(arm || ':' || ratio || CASE WHEN placebo THEN ' placebo' ELSE '' END, ', ' ORDER BY ord)
        FROM fmtbank.trial_arm a WHERE a.trial = t.id) AS arms,
       (SELECT length(seed) FROM fmtbank.trial_seed s WHERE s.trial = t.id) AS seed_bytes
FROM fmtbank.trial t;

-- ---------------------------------------------------------------- enrol: balance per block and stratum
SELECT pg_temp.as_role('fmtbank_technician', $$SELECT fmtbank.trial_enrol('MOOD-1', 'P-001', 'site=A,sex=F')$$) AS technician_enrols,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_enrol('MOOD-1', 'P-001', 'site=A')$$) AS missing_factor,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_enrol('MOOD-1', 'P-001', 'site=A,sex=F,age=9')$$) AS unknown_factor,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_enrol('MOOD-1', 'John Smith', 'site=A,sex=F')$$) AS a_name;
-- 80 participants over four strata, enrolled by site staff
SELECT count(*) AS enrolled FROM generate_series(1, 80) i
WHERE pg_temp.as_role('fmtbank_site', format($$SELECT fmtbank.trial_enrol('MOOD-1', 'P-%s', 'sex=%s, site=%s')$$,
                                             lpad(i::text, 3, '0'), (ARRAY['F', 'M'])[1 + i % 2],
                                             (ARRAY['A', 'B'])[1 + (i / 2) % 2])) = 'done';
SELECT pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_enrol('MOOD-1', 'P-001', 'site=A,sex=F')$$) AS twice;
SELECT stratum, count(*) AS participants FROM fmtbank.trial_participant GROUP BY 1 ORDER BY 1;
-- every complete block holds the arms 2:1; a block's size is 3 or 6
SELECT count(*) > 10 AS many_blocks, count(*) = count(*) FILTER (WHERE fmt * 1 = placebo * 2) AS all_balanced,
       string_agg(DISTINCT size::text, ',') AS sizes
FROM (SELECT al.stratum, al.block_no, max(al.block_size) AS size, count(*) AS n,
             count(*) FILTER (WHERE al.arm = 'FMT') AS fmt, count(*) FILTER (WHERE al.arm = 'PLACEBO') AS placebo
      FROM fmtbank.trial_allocation al GROUP BY 1, 2) b WHERE n = size;
-- within each stratum, the enrolled never stray from 2:1 by more than a block allows
SELECT p.stratum, abs(count(*) FILTER (WHERE al.arm = 'FMT') - 2 * count(*) FILTER (WHERE al.arm = 'PLACEBO')) <= 6 AS within_a_block
FROM fmtbank.trial_participant p JOIN fmtbank.trial_allocation al
  ON al.trial = p.trial AND al.stratum = p.stratum AND al.seq = p.seq GROUP BY 1 ORDER BY 1;
-- reproducible from the sealed seed: regenerating every block gives the stored list
SELECT count(*) >= 80 AS positions, count(*) = count(*) FILTER (WHERE g.arm = al.arm AND g.block_size = al.block_size) AS all_reproduced
FROM fmtbank.trial_allocation al JOIN fmtbank.trial t ON t.id = al.trial
JOIN fmtbank.trial_seed s ON s.trial = t.id
CROSS JOIN LATERAL (SELECT b.* FROM fmtbank.trial_block(t, s.seed, al.stratum, al.block_no) b
                    WHERE b.pos = al.seq - (SELECT coalesce(max(x.seq), 0) FROM fmtbank.trial_allocation x
                                            WHERE x.trial = al.trial AND x.stratum = al.stratum
                                              AND x.block_no < al.block_no)) g;

-- ---------------------------------------------------------------- placebo preparations
SELECT pg_temp.donor('D-8001'), pg_temp.donor('D-8002');
SELECT pg_temp.as_role('fmtbank_technician', $$SELECT fmtbank.placebo_lot_add('D-8001', 'MOOD-1', (current_date - 40)::text, '200', 'saline')$$) AS donor_as_placebo,
       pg_temp.as_role('fmtbank_technician', $$SELECT fmtbank.placebo_lot_add('PB-1', 'MOOD-1', (current_date - 40)::text, '200', 'saline')$$) AS not_donor_format,
       pg_temp.as_role('fmtbank_technician', $$SELECT fmtbank.placebo_lot_add('D-9909', 'MOOD-1', (current_date - 40)::text, '200', '')$$) AS no_preparation,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.placebo_lot_add('PB-1', 'MOOD-1', (current_date - 40)::text, '200', 'saline')$$) AS site_registers;
SET LOCAL SESSION AUTHORIZATION fmtbank_technician;
INSERT INTO l VALUES ('p1', fmtbank.placebo_lot_add('D-9901', 'MOOD-1', (current_date - 40)::text || ' 08:30', '400',
                                                   'saline 0.9% + glycerol 10% + food colouring, batch PB-17'));
RESET SESSION AUTHORIZATION;
-- its readiness: processing and the preparation record, no donor panel
SELECT pg_temp.lot_rules(lot) AS before_processing FROM l WHERE k = 'p1';
SELECT count(*) AS doses FROM l, fmtbank.donation_process(l.lot, ((current_date - 40)::text || ' 09:30'), '6') WHERE k = 'p1';
SELECT pg_temp.lot_rules(lot) AS after_processing, (SELECT status FROM fmtbank.lot_show(lot)) AS status FROM l WHERE k = 'p1';
SELECT e.rule, e.ok, e.detail FROM l, fmtbank.lot l2, fmtbank.lot_check_at(clock_timestamp(), l2.id) e
WHERE k = 'p1' AND l2.lot_id = l.lot AND e.rule IN ('preparation', 'pre_donation_panel') ORDER BY e.ord;
-- stock: D-8001 two lots, D-8002 one lot; all released
INSERT INTO l VALUES ('a1', pg_temp.released(pg_temp.lot('D-8001', 40, 4))), ('a2', pg_temp.released(pg_temp.lot('D-8001', 35, 4))),
                     ('b1', pg_temp.released(pg_temp.lot('D-8002', 40, 4)));
UPDATE l SET lot = pg_temp.released(lot) WHERE k = 'p1';
-- never issued outside the trial: not by "aliquot issue", not by a superuser's INSERT
SELECT pg_temp.m(pg_temp.try($$SELECT fmtbank.aliquot_issue(split_part(pg_temp.doses((SELECT lot FROM l WHERE k = 'p1')), ',', 1), 'R-0001', 'Hospital A')$$)) AS placebo_issue,
       pg_temp.m(pg_temp.try($$INSERT INTO fmtbank.aliquot_issue (aliquot, recipient, site, use)
           SELECT a.id, 'R-0001', 'Hospital A', 'research' FROM fmtbank.aliquot a WHERE a.aliquot_id = split_part(pg_temp.doses((SELECT lot FROM l WHERE k = 'p1')), ',', 2)$$)) AS superuser_insert,
       pg_temp.m(pg_temp.try($$INSERT INTO fmtbank.aliquot_issue (aliquot, recipient, site, use)
           SELECT a.id, 'R-0001', 'Hospital A', 'trial' FROM fmtbank.aliquot a WHERE a.aliquot_id = split_part(pg_temp.doses((SELECT lot FROM l WHERE k = 'a1')), ',', 1)$$)) AS trial_use_without_kit;

-- ---------------------------------------------------------------- kits
SELECT pg_temp.as_role('fmtbank_quality', $$SELECT * FROM fmtbank.trial_kits_make('MOOD-1', 'FMT', pg_temp.doses((SELECT lot FROM l WHERE k = 'a1')))$$) AS quality_alone,
       pg_temp.as_role('trial_pharmacist', $$SELECT * FROM fmtbank.trial_kits_make('MOOD-1', 'FMT', pg_temp.doses((SELECT lot FROM l WHERE k = 'p1')))$$) AS placebo_as_fmt,
       pg_temp.as_role('trial_pharmacist', $$SELECT * FROM fmtbank.trial_kits_make('MOOD-1', 'PLACEBO', pg_temp.doses((SELECT lot FROM l WHERE k = 'a1')))$$) AS fmt_as_placebo,
       pg_temp.as_role('trial_pharmacist', $$SELECT * FROM fmtbank.trial_kits_make('MOOD-1', 'FMT', (SELECT a.aliquot_id FROM fmtbank.aliquot a JOIN fmtbank.lot x ON x.id = a.lot WHERE x.lot_id = (SELECT lot FROM l WHERE k = 'a1') AND a.retained))$$) AS retained_sample;
SET LOCAL SESSION AUTHORIZATION trial_pharmacist;
INSERT INTO kit SELECT l.k, x.kit FROM l, fmtbank.trial_kits_make('MOOD-1', CASE WHEN l.k = 'p1' THEN 'PLACEBO' ELSE 'FMT' END,
                                                                 pg_temp.doses(l.lot)) x ORDER BY l.k;
RESET SESSION AUTHORIZATION;
SELECT k, count(*) AS kits, bool_and(kit ~ '^K[0-9]{7}[0-9A-Z*]$' AND fmtbank.with_check(left(kit, 8)) = kit) AS check_char_ok
FROM kit GROUP BY k ORDER BY k;
SELECT pg_temp.as_role('trial_pharmacist', $$SELECT * FROM fmtbank.trial_kits_make('MOOD-1', 'FMT', split_part(pg_temp.doses((SELECT lot FROM l WHERE k = 'a1')), ',', 1))$$) AS twice;
-- the kit numbers are random, not in the order of the doses
SELECT count(DISTINCT kit) AS distinct_kits, count(*) FILTER (WHERE kit < lead_kit) = count(*) - 1 AS sorted_like_doses
FROM (SELECT kit, lead(kit) OVER (ORDER BY k, ctid) AS lead_kit FROM kit) x;

-- ---------------------------------------------------------------- concealment
-- site staff: no table of stock, allocation or kit contents; the trial functions show no arm
SELECT pg_temp.val('fmtbank_site', 'SELECT count(*)::text FROM fmtbank.trial_allocation') AS site_allocation,
       pg_temp.val('fmtbank_site', 'SELECT count(*)::text FROM fmtbank.trial_kit_content') AS site_kit_content,
       pg_temp.val('fmtbank_site', 'SELECT count(*)::text FROM fmtbank.trial_seed') AS site_seed,
       pg_temp.val('fmtbank_site', 'SELECT count(*)::text FROM fmtbank.aliquot_issue') AS site_issues,
       pg_temp.val('fmtbank_site', 'SELECT count(*)::text FROM fmtbank.lot') AS site_lots,
       pg_temp.val('fmtbank_site', 'SELECT count(*)::text FROM fmtbank.trial_placebo_lot') AS site_placebo,
       pg_temp.val('fmtbank_site', 'SELECT count(*)::text FROM fmtbank.audit_log') AS site_audit;
SELECT pg_temp.val('fmtbank_site', $$SELECT format('%s blocks=%s allocation=%s', arms, block_sizes, coalesce(allocation::text, 'none')) FROM fmtbank.trial_show('MOOD-1')$$) AS site_show,
       pg_temp.val('trial_pharmacist', $$SELECT format('%s blocks=%s allocated=%s', arms, block_sizes,
                                                     (SELECT sum(v::int) FROM jsonb_each_text(allocation) x(k, v))) FROM fmtbank.trial_show('MOOD-1')$$) AS pharmacist_show;
SELECT pg_temp.val('fmtbank_site', $$SELECT string_agg(DISTINCT status, ',') FROM fmtbank.report_trial_kits('MOOD-1')$$) AS site_kit_report,
       pg_temp.val('fmtbank_site', $$SELECT count(*)::text FROM fmtbank.report_trial_allocation('MOOD-1')$$) AS site_allocation_report,
       pg_temp.val('trial_pharmacist', $$SELECT count(*)::text FROM fmtbank.report_trial_allocation('MOOD-1')$$) AS pharmacist_allocation_report;
-- every column a site user can read in the fmtbank schema: none names an arm, a lot or a donor
SELECT string_agg(DISTINCT c.table_name, ', ' ORDER BY c.table_name) AS site_readable_tables
FROM information_schema.column_privileges c
WHERE c.grantee IN ('fmtbank_site', 'PUBLIC') AND c.table_schema = 'fmtbank' AND c.privilege_type = 'SELECT';
SELECT coalesce(string_agg(c.table_name || '.' || c.column_name, ', '), 'none') AS site_columns_naming_arm_lot_donor
FROM information_schema.column_privileges c
WHERE c.grantee IN ('fmtbank_site', 'PUBLIC') AND c.table_schema = 'fmtbank' AND c.privilege_type = 'SELECT'
  AND c.column_name ~ '(arm|lot|donor|placebo|aliquot|seed)' AND c.table_name <> 'trial_arm';
-- nor the block sizes or the donor pool in the trial table (the other columns are)
SELECT pg_temp.val('fmtbank_site', 'SELECT block_sizes::text FROM fmtbank.trial') AS site_block_sizes,
       pg_temp.val('fmtbank_auditor', 'SELECT donor_pool::text FROM fmtbank.trial') AS auditor_donor_pool,
       pg_temp.val('fmtbank_site', 'SELECT code || '' '' || doses FROM fmtbank.trial') AS site_trial,
       pg_temp.val('trial_pharmacist', 'SELECT block_sizes::text FROM fmtbank.trial') AS pharmacist_block_sizes,
       pg_temp.val('fmtbank_auditor', $$SELECT count(*)::text FROM fmtbank.audit_log WHERE tbl = 'trial'$$) AS auditor_trial_audit_rows;
-- bank roles: the allocation, the seed and the kit contents are not theirs either
SELECT pg_temp.val('fmtbank_technician', 'SELECT count(*)::text FROM fmtbank.trial_allocation') AS technician_allocation,
       pg_temp.val('fmtbank_quality', 'SELECT count(*)::text FROM fmtbank.trial_kit_content') AS quality_kit_content,
       pg_temp.val('fmtbank_auditor', 'SELECT count(*)::text FROM fmtbank.trial_seed') AS auditor_seed,
       pg_temp.val('trial_pharmacist', 'SELECT count(*)::text FROM fmtbank.trial_kit_content') AS pharmacist_kit_content;
-- and row-level security stands behind the grants: a blinded role granted SELECT by mistake
-- still sees no row
GRANT SELECT ON fmtbank.trial_allocation, fmtbank.trial_kit_content TO fmtbank_auditor;
SELECT pg_temp.val('fmtbank_auditor', 'SELECT count(*)::text FROM fmtbank.trial_allocation') AS auditor_granted_allocation,
       pg_temp.val('fmtbank_auditor', 'SELECT count(*)::text FROM fmtbank.trial_kit_content') AS auditor_granted_kit_content;
REVOKE SELECT ON fmtbank.trial_allocation, fmtbank.trial_kit_content FROM fmtbank_auditor;
-- the audit trail: rows of the secret tables only for readers holding the unblinded role
SELECT pg_temp.val('fmtbank_auditor', $$SELECT count(*)::text FROM fmtbank.audit_log WHERE tbl IN ('trial_allocation', 'trial_kit_content', 'trial_seed')$$) AS auditor_secret_audit_rows,
       pg_temp.val('trial_pharmacist', $$SELECT (count(*) > 0)::text FROM fmtbank.audit_log WHERE tbl IN ('trial_allocation', 'trial_kit_content', 'trial_seed')$$) AS pharmacist_sees_them,
       pg_temp.val('fmtbank_auditor', $$SELECT (count(*) > 0)::text FROM fmtbank.audit_log WHERE tbl IN ('trial_kit', 'trial_participant')$$) AS auditor_sees_kits_and_participants;
-- no audit row a blinded auditor reads names an arm
SELECT pg_temp.val('fmtbank_auditor', $$SELECT count(*)::text FROM fmtbank.audit_log
    WHERE tbl LIKE 'trial%' AND tbl <> 'trial_arm' AND (coalesce(new_row, old_row) ? 'arm')$$) AS auditor_rows_with_arm;

-- ---------------------------------------------------------------- dispense
-- one FMT and one placebo participant of stratum site=A,sex=F, and an FMT one of site=B,sex=M
CREATE TEMP TABLE pp AS
SELECT 'fmt' AS k, min(p.code) AS code FROM fmtbank.trial_participant p WHERE pg_temp.arm('MOOD-1', p.code) = 'FMT' AND p.stratum = 'site=A,sex=F'
UNION ALL SELECT 'placebo', min(p.code) FROM fmtbank.trial_participant p WHERE pg_temp.arm('MOOD-1', p.code) = 'PLACEBO' AND p.stratum = 'site=A,sex=F'
UNION ALL SELECT 'fmt2', min(p.code) FROM fmtbank.trial_participant p WHERE pg_temp.arm('MOOD-1', p.code) = 'FMT' AND p.stratum = 'site=B,sex=M'
UNION ALL SELECT 'fmt3', min(p.code) FROM fmtbank.trial_participant p WHERE pg_temp.arm('MOOD-1', p.code) = 'FMT' AND p.stratum = 'site=B,sex=F';
GRANT SELECT ON pp TO PUBLIC;
SELECT pg_temp.as_role('fmtbank_technician', $$SELECT fmtbank.trial_dispense('MOOD-1', (SELECT code FROM pp WHERE k = 'fmt'), '1', NULL)$$) AS technician_dispenses,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_dispense('MOOD-1', (SELECT code FROM pp WHERE k = 'fmt'), '5', NULL)$$) AS visit_5_of_4,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_dispense('MOOD-1', 'P-999', '1', NULL)$$) AS not_enrolled;
-- held: every lot of D-8002 held by a manual case; expired: D-8001's second lot
SELECT pg_temp.as_reason('suspected contamination');
SELECT lots FROM fmtbank.hold_add('donor', 'D-8002', NULL, NULL);
SELECT pg_temp.as_reason('');
UPDATE fmtbank.aliquot a SET expires_at = now() - interval '1 day' FROM fmtbank.lot x
WHERE x.id = a.lot AND x.lot_id = (SELECT lot FROM l WHERE k = 'a2');
-- the FMT participant gets D-8001's first lot (the only released, unheld, unexpired FMT stock),
-- four visits, then nothing is left for another FMT participant; the placebo one gets placebo
CREATE TEMP TABLE got (who text, visit int, kit text);
GRANT SELECT, INSERT ON got TO PUBLIC;
SET LOCAL SESSION AUTHORIZATION fmtbank_site;
INSERT INTO got SELECT 'fmt', v, fmtbank.trial_dispense('MOOD-1', (SELECT code FROM pp WHERE k = 'fmt'), v::text, NULL)
FROM generate_series(1, 4) v;
INSERT INTO got SELECT 'placebo', 1, fmtbank.trial_dispense('MOOD-1', (SELECT code FROM pp WHERE k = 'placebo'), '1', NULL);
RESET SESSION AUTHORIZATION;
SELECT g.who, g.visit, (SELECT kk.k FROM kit kk WHERE kk.kit = g.kit) AS from_lot, pg_temp.kit_donor(g.kit) AS donor
FROM got g ORDER BY g.who, g.visit;
SELECT pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_dispense('MOOD-1', (SELECT code FROM pp WHERE k = 'fmt2'), '1', NULL)$$) AS held_or_expired_only,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_dispense('MOOD-1', (SELECT code FROM pp WHERE k = 'fmt'), '1', NULL)$$) AS visit_twice;
-- the issue records: use trial, to the participant, at the stratum's site; tubes issued; kits dispensed
SELECT i.use, i.recipient = (SELECT code FROM pp WHERE k = 'fmt') AS to_participant, i.site, a.status, a.status_reason, count(*)
FROM fmtbank.aliquot_issue i JOIN fmtbank.aliquot a ON a.id = i.aliquot
WHERE i.use = 'trial' GROUP BY 1, 2, 3, 4, 5 ORDER BY 2 DESC;
SELECT status, count(*) FROM fmtbank.trial_kit GROUP BY 1 ORDER BY 1;
-- same donor: new stock of D-8003 (2 doses, expiring before D-8001's second lot) and D-8001's
-- second lot back in date; the second FMT participant's first two doses come from D-8003 (first
-- to expire), and then D-8001's doses, though released, do not serve them
SELECT pg_temp.donor('D-8003');
INSERT INTO l VALUES ('c1', pg_temp.released(pg_temp.lot('D-8003', 38, 2)));
UPDATE fmtbank.aliquot a SET expires_at = (SELECT max(c.expires_at) + interval '1 day' FROM fmtbank.aliquot c
                                           JOIN fmtbank.lot y ON y.id = c.lot WHERE y.lot_id = (SELECT lot FROM l WHERE k = 'c1'))
FROM fmtbank.lot x WHERE x.id = a.lot AND x.lot_id = (SELECT lot FROM l WHERE k = 'a2');
SET LOCAL SESSION AUTHORIZATION trial_pharmacist;
INSERT INTO kit SELECT 'c1', x.kit FROM fmtbank.trial_kits_make('MOOD-1', 'FMT', pg_temp.doses((SELECT lot FROM l WHERE k = 'c1'))) x;
SET LOCAL SESSION AUTHORIZATION fmtbank_site;
INSERT INTO got SELECT 'fmt2', v, fmtbank.trial_dispense('MOOD-1', (SELECT code FROM pp WHERE k = 'fmt2'), v::text, NULL)
FROM generate_series(1, 2) v;
RESET SESSION AUTHORIZATION;
SELECT pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_dispense('MOOD-1', (SELECT code FROM pp WHERE k = 'fmt2'), '3', NULL)$$) AS other_donor_refused;
SELECT g.who, string_agg(DISTINCT pg_temp.kit_donor(g.kit), ',') AS donors, count(*) AS doses FROM got g GROUP BY 1 ORDER BY 1;
-- a participant of the trial without same-donor constraint yet is served from D-8001's second lot
SELECT pg_temp.val('fmtbank_site', $$SELECT pg_temp.m(fmtbank.trial_dispense('MOOD-1', (SELECT code FROM pp WHERE k = 'fmt3'), '1', NULL))$$) AS new_fmt_participant;

-- what bank roles read about a participant and a donor: no lot, no donor for trial doses
SELECT pg_temp.val('fmtbank_technician', $$SELECT format('%s doses=%s donors=%s', recipient, (SELECT string_agg(DISTINCT d ->> 'lot', ',') FROM jsonb_array_elements(doses) d), donors)
    FROM fmtbank.recipient_show((SELECT code FROM pp WHERE k = 'placebo'))$$) AS technician_recipient_show,
       pg_temp.val('trial_pharmacist', $$SELECT format('%s lots=%s donors=%s', recipient, (SELECT count(DISTINCT d ->> 'lot') FROM jsonb_array_elements(doses) d), donors)
    FROM fmtbank.recipient_show((SELECT code FROM pp WHERE k = 'placebo'))$$) AS pharmacist_recipient_show;
SELECT pg_temp.val('fmtbank_technician', $$SELECT count(*)::text FROM fmtbank.donor_recipients('D-9901')$$) AS technician_placebo_recipients,
       pg_temp.val('trial_pharmacist', $$SELECT count(*)::text FROM fmtbank.donor_recipients('D-9901')$$) AS pharmacist_placebo_recipients,
       pg_temp.val('fmtbank_auditor', $$SELECT count(*)::text FROM fmtbank.trace((SELECT code FROM pp WHERE k = 'placebo'), NULL) WHERE donor IS NOT NULL$$) AS auditor_trace_participant,
       pg_temp.val('fmtbank_auditor', $$SELECT count(*)::text FROM fmtbank.trace('D-9901', NULL) WHERE event = 'issued'$$) AS auditor_trace_placebo_issued,
       pg_temp.val('trial_pharmacist', $$SELECT count(*)::text FROM fmtbank.trace('D-9901', NULL) WHERE event = 'issued'$$) AS pharmacist_trace_placebo_issued,
       pg_temp.val('fmtbank_technician', $$SELECT count(*)::text FROM fmtbank.aliquot_issue WHERE use = 'trial'$$) AS technician_trial_issue_rows,
       pg_temp.val('fmtbank_auditor', $$SELECT count(*)::text FROM fmtbank.audit_log WHERE tbl = 'aliquot_issue' AND new_row ->> 'use' = 'trial'$$) AS auditor_trial_issue_audit;
-- the site's dispensing log: participant, visit, kit only
SELECT pg_temp.val('fmtbank_site', $$SELECT string_agg(format('%s/%s', visit, pg_temp.m(kit)), ' ' ORDER BY visit)
    FROM fmtbank.report_trial_dispensing('MOOD-1') WHERE participant = (SELECT code FROM pp WHERE k = 'fmt')$$) AS site_dispensing_log;

-- ---------------------------------------------------------------- kits returned, destroyed
SELECT pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_kit_set((SELECT kit FROM got WHERE who = 'fmt' AND visit = 4), 'returned')$$) AS without_reason;
SELECT pg_temp.as_reason('participant withdrew before the visit');
SELECT pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_kit_set((SELECT kit FROM got WHERE who = 'fmt' AND visit = 4), 'returned')$$) AS site_returns,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_kit_set((SELECT kit FROM got WHERE who = 'fmt' AND visit = 3), 'destroyed')$$) AS destroy_dispensed,
       pg_temp.as_role('trial_pharmacist', $$SELECT fmtbank.trial_kit_set((SELECT min(kit) FROM kit WHERE k = 'p1' AND kit NOT IN (SELECT kit FROM got)), 'destroyed')$$) AS pharmacist_destroys,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_kit_set('K00000001', 'destroyed')$$) AS bad_check_char;
SELECT status, count(*) FROM fmtbank.trial_kit GROUP BY 1 ORDER BY 1;
SELECT count(*) AS discarded_placebo_tubes FROM fmtbank.aliquot a JOIN fmtbank.trial_placebo_lot pl ON pl.lot = a.lot WHERE a.status = 'discarded';

-- ---------------------------------------------------------------- unblinding
SELECT pg_temp.as_role('fmtbank_site', $$SELECT arm FROM fmtbank.trial_unblind('MOOD-1', (SELECT code FROM pp WHERE k = 'placebo'), false)$$) AS site_routine,
       pg_temp.as_role('fmtbank_technician', $$SELECT arm FROM fmtbank.trial_unblind('MOOD-1', (SELECT code FROM pp WHERE k = 'placebo'), true)$$) AS technician_emergency;
SELECT pg_temp.as_reason('');
SELECT pg_temp.as_role('fmtbank_site', $$SELECT arm FROM fmtbank.trial_unblind('MOOD-1', (SELECT code FROM pp WHERE k = 'placebo'), true)$$) AS without_reason;
SELECT pg_temp.as_reason('severe colitis, treating physician needs the arm');
SELECT pg_temp.val('fmtbank_site', $$SELECT arm FROM fmtbank.trial_unblind('MOOD-1', (SELECT code FROM pp WHERE k = 'placebo'), true)$$) AS site_emergency,
       pg_temp.val('trial_pharmacist', $$SELECT arm FROM fmtbank.trial_unblind('MOOD-1', (SELECT code FROM pp WHERE k = 'fmt'), false)$$) AS pharmacist_routine;
SELECT p.code = (SELECT code FROM pp WHERE k = 'placebo') AS placebo_participant, u.emergency, u.reason, u.unblinded_by
FROM fmtbank.trial_unblinding u JOIN fmtbank.trial_participant p ON p.id = u.participant ORDER BY u.id;
SELECT pg_temp.val('fmtbank_auditor', $$SELECT string_agg(DISTINCT (new_row ->> 'emergency') || ' by ' || who, ', ') FROM fmtbank.audit_log WHERE tbl = 'trial_unblinding'$$) AS audited,
       pg_temp.val('fmtbank_auditor', $$SELECT (count(*) FILTER (WHERE new_row ? 'arm'))::text FROM fmtbank.audit_log WHERE tbl = 'trial_unblinding'$$) AS audit_rows_with_arm,
       pg_temp.val('fmtbank_site', $$SELECT format('%s unblindings, %s emergency', unblindings, emergency_unblindings) FROM fmtbank.trial_show('MOOD-1')$$) AS counted;

-- ---------------------------------------------------------------- an imported list
SELECT pg_temp.detail('trial_pharmacist', $$SELECT fmtbank.trial_add('LIST-1', 'FMT:1,PLACEBO:1', NULL, 'site', '2', NULL, false,
    '[{"line":2,"stratum":"site=A","block":"1","arm":"FMT"},
      {"line":3,"stratum":"site=A","block":"1","arm":"PLACEBO"},
      {"line":4,"stratum":"site=A","block":"x","arm":"FMT"},
      {"line":5,"stratum":"sex=F","block":"2","arm":"FMT"},
      {"line":6,"stratum":"site=B","block":"1","arm":"ACTIVE"},
      {"line":7,"stratum":"site=B","block":"2","arm":"FMT"},
      {"line":8,"stratum":"site=B","block":"2","arm":"FMT"},
      {"line":9,"stratum":"site=A","block":"1","arm":"FMT"},
      {"line":10,"stratum":"site=A","block":"2","arm":"PLACEBO"}]')$$) AS bad_list;
SELECT pg_temp.as_role('trial_pharmacist', $$SELECT fmtbank.trial_add('LIST-1', 'FMT:1,PLACEBO:1', NULL, 'site', '2', NULL, false, '{"line": 1}')$$) AS not_an_array,
       pg_temp.as_role('trial_pharmacist', $$SELECT fmtbank.trial_add('LIST-1', 'FMT:1,PLACEBO:1', NULL, 'site', '2', NULL, false, '[{"line": "x"}]')$$) AS bad_line_number;
SELECT count(*) AS nothing_stored FROM fmtbank.trial WHERE code = 'LIST-1';
SELECT pg_temp.as_role('trial_pharmacist', $$SELECT fmtbank.trial_add('LIST-1', 'FMT:1,PLACEBO:1', NULL, 'site', '2', NULL, false,
    '[{"line":2,"stratum":"site=A","block":"1","arm":"PLACEBO"},
      {"line":3,"stratum":"Site = a","block":"1","arm":"fmt"}]')$$) AS good_list;
SELECT pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_enrol('LIST-1', 'Q-1', 'site=A')$$) AS first,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_enrol('LIST-1', 'Q-2', 'site=A')$$) AS second,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_enrol('LIST-1', 'Q-3', 'site=A')$$) AS list_used_up,
       pg_temp.as_role('fmtbank_site', $$SELECT fmtbank.trial_enrol('LIST-1', 'Q-4', 'site=B')$$) AS stratum_not_in_list;
SELECT pg_temp.arm('LIST-1', 'Q-1') AS q1, pg_temp.arm('LIST-1', 'Q-2') AS q2,
       (SELECT block_sizes FROM fmtbank.trial WHERE code = 'LIST-1') AS block_sizes,
       (SELECT count(*) FROM fmtbank.trial_seed s JOIN fmtbank.trial t ON t.id = s.trial WHERE t.code = 'LIST-1') AS seeds;

-- ---------------------------------------------------------------- users: site role, unblinded role
SELECT pg_temp.as_reason('trial pharmacist of MOOD-1');
SELECT pg_temp.as_role('fmtbank_admin', $$SELECT fmtbank.user_add('nurse_a', 'site', 'Nurse A', NULL)$$) AS site_user,
       pg_temp.as_role('fmtbank_admin', $$SELECT fmtbank.user_add('pharm_b', 'quality', 'Pharm B', NULL)$$) AS quality_user;
SELECT pg_temp.as_role('fmtbank_admin', $$SELECT fmtbank.user_unblinded('nurse_a', 'yes')$$) AS site_unblinded,
       pg_temp.as_role('fmtbank_quality', $$SELECT fmtbank.user_unblinded('pharm_b', 'yes')$$) AS quality_grants,
       pg_temp.as_role('fmtbank_admin', $$SELECT fmtbank.user_unblinded('pharm_b', 'yes')$$) AS admin_grants,
       pg_temp.as_role('fmtbank_admin', $$SELECT fmtbank.user_unblinded('pharm_b', 'yes')$$) AS twice;
SELECT name, role, unblinded, pg_has_role(name, 'fmtbank_unblinded', 'MEMBER') AS member FROM fmtbank.user_list
WHERE name IN ('nurse_a', 'pharm_b') ORDER BY name;

-- ---------------------------------------------------------------- vigilance of participants
-- the site records a serious event of the FMT participant: the case opens on the donor (D-8001)
-- but a blinded reader learns neither the donor nor the lots nor the other recipients
SELECT pg_temp.val('fmtbank_site', $$SELECT format('%s cases=%s', serious, cases) FROM fmtbank.recipient_event_add((SELECT code FROM pp WHERE k = 'fmt'),
    current_date::text, 'infection', 'yes', 'severe', NULL, 'bacteraemia after the second enema')$$) AS site_records,
       pg_temp.val('fmtbank_site', $$SELECT event FROM fmtbank.recipient_event_add('R-0001', current_date::text, 'fever', 'no', 'mild', NULL, 'x')$$) AS site_not_a_participant;
SELECT d.code AS case_donor, c.source, c.status, pg_temp.m(c.reason) ~ 'in a trial participant on' AS reason_names_no_participant
FROM fmtbank.safety_case c JOIN fmtbank.donor d ON d.id = c.donor_id WHERE c.source = 'adverse_event';
SELECT pg_temp.val('fmtbank_technician', $$SELECT string_agg(DISTINCT (r ->> 'recipient') || ' ' || (r ->> 'aliquot'), ', ') FROM fmtbank.safety_case c,
    fmtbank.case_show(c.case_code) x, jsonb_array_elements(x.recipients) r WHERE c.source = 'adverse_event'$$) AS technician_case_show,
       pg_temp.val('fmtbank_technician', $$SELECT count(*)::text FROM fmtbank.safety_case c,
    fmtbank.case_recipients(c.id) x WHERE c.source = 'adverse_event'$$) AS technician_case_recipients_psql,
       pg_temp.val('trial_pharmacist', $$SELECT (count(DISTINCT x.recipient) FILTER (WHERE x.recipient = (SELECT code FROM pp WHERE k = 'fmt')))::text
    FROM fmtbank.safety_case c, fmtbank.case_recipients(c.id) x WHERE c.source = 'adverse_event'$$) AS pharmacist_sees_participant,
       pg_temp.val('fmtbank_quality', $$SELECT string_agg(e ->> 'cases', '') FROM fmtbank.recipient_show((SELECT code FROM pp WHERE k = 'fmt')) s,
    jsonb_array_elements(s.events) e$$) AS quality_event_cases,
       pg_temp.val('trial_pharmacist', $$SELECT string_agg(c ->> 'donor', ',') FROM fmtbank.recipient_show((SELECT code FROM pp WHERE k = 'fmt')) s,
    jsonb_array_elements(s.events) e, jsonb_array_elements(e -> 'cases') c$$) AS pharmacist_event_donors;
