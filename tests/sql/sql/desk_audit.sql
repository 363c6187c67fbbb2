-- desk_audit.sql: the quality officer's and auditor's desks (issue 14 items 8-10). The release
-- signature's controlled meanings (the default, trimming, a meaning off the list, a retired one,
-- no default, at most one default and never a retired one; the administrator's add, default and
-- retire with their refusals); every refusal before the password
-- (a lot that is not releasable, a meaning off the list, the role) storing no password check;
-- the work queue's boundaries (a lot to sign only when nothing blocks it; re-screening due within
-- 14 days, not 15; an excluded donor never); the audit trail's readable values and changes.

-- ---------------------------------------------------------------- meanings
SELECT fmtbank.release_meaning(NULL) AS default_meaning;
SELECT fmtbank.release_meaning('  Released for research use ') AS trimmed;
SELECT pg_temp.try($$SELECT fmtbank.release_meaning('Released')$$) AS off_the_list;
SELECT pg_temp.try($$SELECT fmtbank.release_meaning('released for research use')$$) AS case_matters;
SELECT fmtbank.release_meaning('  ') = '' AS empty_left_to_the_signer_check;
UPDATE fmtbank.signature_meaning SET retired_at = now() WHERE meaning = 'Released for research use';
SELECT pg_temp.try($$SELECT fmtbank.release_meaning('Released for research use')$$) AS retired;
SELECT meaning, "default" FROM fmtbank.release_meanings;
SELECT pg_temp.try($$UPDATE fmtbank.signature_meaning SET is_default = true
                     WHERE meaning = 'Released for clinical trial use'$$) AS a_second_default;
SELECT pg_temp.try($$UPDATE fmtbank.signature_meaning SET retired_at = now()
                     WHERE meaning = 'Released for clinical use'$$) AS retiring_the_default;
UPDATE fmtbank.signature_meaning SET is_default = false;
SELECT pg_temp.try($$SELECT fmtbank.release_meaning(NULL)$$) AS no_default;
UPDATE fmtbank.signature_meaning SET is_default = true WHERE meaning = 'Released for clinical use';

-- the administrator keeps the list: add (last, or at --order; as the new default), default,
-- retire; with a reason, by the admin role only, never twice, never the default retired
-- (times in messages masked as TIME)
CREATE FUNCTION pg_temp.as_user(p_user text, p_sql text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(pg_temp.try(format('SET LOCAL SESSION AUTHORIZATION %I; %s; RESET SESSION AUTHORIZATION',
                                             p_user, p_sql)),
                          '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}', 'TIME', 'g')
$$;
SELECT set_config('fmtbank.reason', '', true) IS NOT NULL AS no_reason;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_add('Released for export', false, NULL)$$) AS without_reason;
SELECT pg_temp.as_reason('the site exports material');
SELECT pg_temp.as_user('quinn', $$SELECT fmtbank.signature_meaning_add('Released for export', false, NULL)$$) AS quality;
SELECT pg_temp.as_user('alice', $$SELECT fmtbank.signature_meaning_retire('Released for clinical trial use')$$) AS technician;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_add('  Released for export ', false, NULL)$$) AS added_last;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_add('released FOR export', false, NULL)$$) AS twice_case_ignored;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_add('Released for research use', false, NULL)$$) AS a_retired_one_again;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_add(E'Released\tfor x', false, NULL)$$) AS control_character;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_add(' ', false, NULL)$$) AS empty;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_add('Released for y', false, '-1')$$) AS bad_order;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_add('Released for audit samples', true, '0')$$) AS first_and_default;
SELECT meaning, "default" FROM fmtbank.release_meanings;
SELECT fmtbank.release_meaning(NULL) AS new_default;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_retire('Released for audit samples')$$) AS retiring_the_default;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_default('Released for research use')$$) AS a_retired_default;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_default('Released for nothing')$$) AS unknown;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_default('Released for clinical use')$$) AS back_to_clinical;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_default('Released for clinical use')$$) AS already_default;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_retire('Released for audit samples')$$) AS retired_now;
SELECT pg_temp.as_user('adam', $$SELECT fmtbank.signature_meaning_retire('Released for audit samples')$$) AS retired_twice;
SELECT pg_temp.try($$SELECT fmtbank.release_meaning('Released for audit samples')$$) AS not_signable;
SELECT meaning, is_default, ord, retired_at IS NOT NULL AS retired FROM fmtbank.signature_meaning ORDER BY ord, meaning;
SELECT op, key, reason FROM fmtbank.audit_log
WHERE tbl = 'signature_meaning' AND who = 'adam' ORDER BY id;

-- ---------------------------------------------------------------- before the password
SELECT pg_temp.donor('D-2101'), pg_temp.donor('D-2102'), pg_temp.donor('D-2103');
CREATE TEMP TABLE l (k text PRIMARY KEY, lot text);
INSERT INTO l VALUES ('ready', pg_temp.lot('D-2101', 40)), ('no_post', pg_temp.lot('D-2102', 40)),
                     ('held', pg_temp.lot('D-2103', 40));
SELECT count(pg_temp.panel(c, current_date - 50)) + count(pg_temp.panel(c, current_date - 30)) AS panels
FROM unnest(ARRAY['D-2101', 'D-2103']) c;
SELECT count(pg_temp.panel('D-2102', current_date - 50)) AS pre_panel_only;
SELECT pg_temp.as_reason('GP reports an infection');
SELECT fmtbank.hold_add('donor', 'D-2103', NULL, NULL) IS NOT NULL AS held;
SELECT k, pg_temp.lot_rules(lot) AS blocking FROM l ORDER BY k;
-- as quinn (the session user is the signer): the refusals of phase 1 and of the preview
CREATE FUNCTION pg_temp.as_quinn(p_sql text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.try(format('SET LOCAL SESSION AUTHORIZATION quinn; %s; RESET SESSION AUTHORIZATION', p_sql))
$$;
SELECT k, pg_temp.as_quinn(format($q$SELECT * FROM fmtbank.release_sign_preview(%L, NULL)$q$, lot)) AS preview,
       pg_temp.as_quinn(format($q$SELECT fmtbank.sign_attempt(%L, NULL, 'a-typo')$q$, lot)) AS attempt
FROM l WHERE k <> 'ready' ORDER BY k;
SELECT pg_temp.as_quinn(format($q$SELECT * FROM fmtbank.release_sign_preview(%L, 'Released')$q$, lot)) AS off_the_list
FROM l WHERE k = 'ready';
SELECT pg_temp.try(format($q$SET LOCAL SESSION AUTHORIZATION alice; SELECT * FROM fmtbank.release_sign_preview(%L, NULL)$q$, lot)) AS technician
FROM l WHERE k = 'ready';
SELECT count(*) AS password_checks_stored FROM fmtbank.signature_check;
-- the preview of the ready lot (as the superuser: no signer check reaches the password)
SELECT pg_temp.as_quinn(format($q$CREATE TEMP TABLE pv AS SELECT * FROM fmtbank.release_sign_preview(%L, NULL)$q$, lot)) AS preview
FROM l WHERE k = 'ready';
SELECT donor, doses, meaning, rules_passed = rules AS every_rule_passes, refusal FROM pv;

-- ---------------------------------------------------------------- todo
-- lots to sign: only the one nothing blocks
SELECT l.k FROM fmtbank.todo t JOIN l ON l.lot = t.subject WHERE t.kind = 'release_sign';
SELECT role, detail LIKE 'donor D-2101, collected %, 3 doses to release' AS detail_ok
FROM fmtbank.todo t JOIN l ON l.lot = t.subject WHERE t.kind = 'release_sign';
-- re-screening: a full questionnaire and panel 46 days ago run out in 14 days (due), 45 days
-- ago in 15 (not yet); an excluded donor is never due
SELECT pg_temp.donor(c) FROM unnest(ARRAY['D-2111', 'D-2112', 'D-2113']) c;
SELECT count(pg_temp.full_q(c, current_date - a)) + count(pg_temp.panel(c, current_date - a)) AS screened
FROM (VALUES ('D-2111', 46), ('D-2112', 45), ('D-2113', 46)) v(c, a);
SELECT pg_temp.as_reason('positive marker');
SELECT fmtbank.donor_decide('D-2113', 'exclude', NULL) IS NOT NULL AS excluded;
SELECT d.code, e.status, e.next_screening_due - current_date AS days_left,
       EXISTS (SELECT 1 FROM fmtbank.todo t WHERE t.kind = 'rescreening_due' AND t.subject = d.code) AS due
FROM fmtbank.donor d JOIN fmtbank.donor_eligibility_at(clock_timestamp()) e ON e.donor_id = d.id
WHERE d.code IN ('D-2111', 'D-2112', 'D-2113') ORDER BY d.code;
-- how far ahead is a rule parameter (migration 300): 15 days takes in D-2112, 13 leaves out D-2111
SELECT pg_temp.as_reason('the site plans re-screening further ahead');
SELECT fmtbank.rules_set('todo_rescreen_days', '15') IS NOT NULL AS fifteen_days;
SELECT d.code, EXISTS (SELECT 1 FROM fmtbank.todo t WHERE t.kind = 'rescreening_due' AND t.subject = d.code) AS due
FROM fmtbank.donor d WHERE d.code IN ('D-2111', 'D-2112', 'D-2113') ORDER BY d.code;
SELECT fmtbank.rules_set('todo_rescreen_days', '13') IS NOT NULL AS thirteen_days;
SELECT d.code, EXISTS (SELECT 1 FROM fmtbank.todo t WHERE t.kind = 'rescreening_due' AND t.subject = d.code) AS due
FROM fmtbank.donor d WHERE d.code IN ('D-2111', 'D-2112', 'D-2113') ORDER BY d.code;
SELECT pg_temp.try($$SELECT fmtbank.rules_set('todo_expiry_days', '-1')$$) AS negative_refused;
SELECT fmtbank.rules_set('todo_rescreen_days', '14') IS NOT NULL AS back_to_fourteen;

-- ---------------------------------------------------------------- the readable audit trail
SELECT fmtbank.audit_value('donor_id', to_jsonb(d.id)) AS donor_code,
       fmtbank.audit_value('lot', to_jsonb(lt.id)) ~ '^L[0-9]{8}[0-9A-Z*]$' AS lot_id,
       fmtbank.audit_value('test_no', to_jsonb(t.test_no)) AS test_code,
       fmtbank.audit_value('donor_id', to_jsonb(gen_random_uuid())) ~ '^[0-9a-f-]{36}$' AS unknown_uuid_kept,
       fmtbank.audit_value('status', '"released"') AS text_unquoted,
       fmtbank.audit_value('x', 'null') AS null_value,
       fmtbank.audit_value('x', to_jsonb(repeat('a', 70))) AS cut
FROM fmtbank.donor d JOIN fmtbank.lot lt ON lt.donor_id = d.id, fmtbank.screening_test t
WHERE d.code = 'D-2101' AND t.code = 'CRP';
SELECT fmtbank.audit_changes('lot', 'UPDATE', '{"id": 1, "status": "quarantine", "doses": null, "mass_g": 200}',
                             '{"id": 1, "status": "released", "doses": 3, "mass_g": 200}') AS update_changes;
SELECT fmtbank.audit_changes('donor', 'INSERT', NULL,
                             '{"id": "5f0c1b7e-0000-4000-8000-000000000000", "code": "D-9", "sex": "F", "birth_year": null}') AS insert_fields;
SELECT fmtbank.freezer_add('Freezer D', '-80', 'Main lab') IS NOT NULL AS freezer,
       fmtbank.box_add('Freezer D', 'R1', '2', '2') IS NOT NULL AS box;
SELECT regexp_replace(fmtbank.audit_subject('placement', b.box_id || ':A2',
                                            jsonb_build_object('box', b.id, 'prow', 1, 'pcol', 2, 'aliquot', a.id)),
                      'L[0-9]{8}-([0-9]{3})[0-9A-Z*]', 'L#-\1', 'g') = 'aliquot L#-001, box ' || b.box_id || ':A2' AS placement_subject
FROM fmtbank.box b CROSS JOIN fmtbank.aliquot a JOIN l ON l.k = 'ready'
JOIN fmtbank.lot lt ON lt.lot_id = l.lot AND lt.id = a.lot AND a.idx = 1;
-- --donor and --lot across tables: the tables concerning D-2101 and its lot, none of D-2102's
SELECT string_agg(DISTINCT tbl, ' ' ORDER BY tbl) AS donor_tables,
       bool_and(subject NOT LIKE '%D-2102%') AS nothing_of_another_donor
FROM fmtbank.audit_trail(NULL, NULL, NULL, NULL, NULL, 'D-2101', NULL);
SELECT string_agg(DISTINCT a.tbl, ' ' ORDER BY a.tbl) AS lot_tables
FROM l, fmtbank.audit_trail(NULL, NULL, NULL, NULL, NULL, NULL, l.lot) a WHERE l.k = 'ready';
SELECT pg_temp.try($$SELECT * FROM fmtbank.audit_trail(NULL, NULL, NULL, NULL, NULL, 'D-0000', NULL)$$) AS unknown_donor;
SELECT pg_temp.try($$SET LOCAL SESSION AUTHORIZATION alice; SELECT * FROM fmtbank.audit_trail(NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$) AS technician;
