-- consent.sql: donor consent (product.md §12; schema/150_consent.sql, code/150_consent.sql). The
-- consent in force at a time (its day) as known at a time (recorded_at): none, signed, withdrawn,
-- signed again; the validations of "donor consent"; the donation rule consent (any scope, as known
-- at entry); the issue rule (the use in the scope in force at the issue), enforced by the trigger
-- on the issue record for every path, the superuser's INSERT too. Roles through psql (a technician
-- inserting an issue record, calling the function): t0340-consent.
CREATE TEMP TABLE k (name text PRIMARY KEY, at timestamptz);
-- consent(code, at[, known]): the consent row in words (status, version, signed, scope, withdrawn,
-- in force), dates relative to today
CREATE FUNCTION pg_temp.consent(p_code text, p_at timestamptz, p_known timestamptz DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.rel(concat_ws(' ', c.status, c.version, c.signed_on, array_to_string(c.scope, ','),
                                 'withdrawn ' || c.withdrawn_on,
                                 'in_force=' || coalesce(array_to_string(c.in_force, ','), '-')))
    FROM fmtbank.consent_at((fmtbank.donor_get(p_code)).id, p_at, p_known) c
$$;
-- judge(code, days ago): the consent rule of a donation collected that day at 08:30, judged now
CREATE FUNCTION pg_temp.judge_consent(p_code text, p_ago integer) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT pg_temp.rel(r ->> 'detail') FROM jsonb_array_elements(j.reasons) r
                     WHERE r ->> 'rule' = 'consent'), 'no consent rule')
    FROM fmtbank.donation_judge((fmtbank.donor_get(p_code)).id, current_date - p_ago + time '08:30',
                                200, 4::smallint, clock_timestamp()) j
$$;
-- sign(code, version, days ago, scope): "donor consent CODE --version V --signed DAY --scope S"
CREATE FUNCTION pg_temp.sign(p_code text, p_version text, p_ago integer, p_scope text) RETURNS text
LANGUAGE sql AS $$
    SELECT consent || ' ' || coalesce(array_to_string(in_force, ','), '-')
    FROM fmtbank.donor_consent_sign(p_code, p_version, (current_date - p_ago)::text, p_scope, NULL)
$$;

-- No consent: nothing in force; a donation is rejected with the rule consent.
SELECT fmtbank.donor_add('D-5001', '1990', 'F');
SELECT pg_temp.consent('D-5001', clock_timestamp()) AS no_consent,
       fmtbank.consent_in_force((fmtbank.donor_get('D-5001')).id, clock_timestamp()) AS in_force;
SELECT pg_temp.judge_consent('D-5001', 1) AS donation_without_consent;

-- Signed 10 days ago for clinical use and research: in force from that day (not the day before);
-- a donation collected before the signing is rejected, one after it is not.
INSERT INTO k VALUES ('before signing', clock_timestamp());
SELECT pg_temp.sign('D-5001', 'v1', 10, 'Research; clinical') AS signed;
SELECT pg_temp.consent('D-5001', clock_timestamp()) AS now,
       pg_temp.consent('D-5001', current_date - 10 + time '00:00', clock_timestamp()) AS on_the_signing_day,
       pg_temp.consent('D-5001', current_date - 11 + time '23:59', clock_timestamp()) AS the_day_before;
SELECT pg_temp.judge_consent('D-5001', 11) AS collected_before_signing,
       pg_temp.judge_consent('D-5001', 10) AS collected_on_the_signing_day;
-- As known at a time: before the consent was recorded nothing was in force, whatever its date;
-- "--as-of" (known = at) likewise.
SELECT pg_temp.consent('D-5001', clock_timestamp(), (SELECT at FROM k WHERE name = 'before signing')) AS known_before_recording,
       fmtbank.consent_in_force((fmtbank.donor_get('D-5001')).id, current_date - 5 + time '12:00') AS as_of_5_days_ago,
       fmtbank.consent_in_force((fmtbank.donor_get('D-5001')).id, current_date - 5 + time '12:00', clock_timestamp()) AS at_5_days_ago_known_now;

-- Validation: every refusal names its field; nothing is recorded.
SELECT count(*) AS events_before FROM fmtbank.donor_consent c JOIN fmtbank.donor d ON d.id = c.donor_id WHERE d.code = 'D-5001';
SELECT pg_temp.rel(pg_temp.try($$SELECT fmtbank.donor_consent_sign('D-5001', 'v1', (current_date + 1)::text, 'clinical', NULL)$$)) AS signed_tomorrow;
SELECT pg_temp.try($$SELECT fmtbank.donor_consent_sign('D-5001', 'v1', '2026-02-30', 'clinical', NULL)$$) AS bad_date;
SELECT pg_temp.try($$SELECT fmtbank.donor_consent_sign('D-5001', 'v1', '2026-01-01', 'clinical,therapy', NULL)$$) AS bad_scope;
SELECT pg_temp.try($$SELECT fmtbank.donor_consent_sign('D-5001', 'v1', '2026-01-01', ' , ', NULL)$$) AS empty_scope;
SELECT pg_temp.try($$SELECT fmtbank.donor_consent_sign('D-5001', ' ', '2026-01-01', 'clinical', NULL)$$) AS empty_version;
SELECT pg_temp.try($$SELECT fmtbank.donor_consent_sign('D-5001', 'v1', '2026-01-01', 'clinical', repeat('a', 63))$$) AS short_hash;
SELECT pg_temp.try($$SELECT fmtbank.donor_consent_sign('D-5001', 'v1', '2026-01-01', 'clinical', repeat('g', 64))$$) AS not_hex;
SELECT pg_temp.rel(pg_temp.try($$SELECT fmtbank.donor_consent_sign('D-5001', 'v1', (current_date - 10)::text, 'clinical,research', NULL)$$)) AS twice;
SELECT pg_temp.try($$SELECT fmtbank.donor_consent_sign('D-9999', 'v1', '2026-01-01', 'clinical', NULL)$$) AS unknown_donor;
SELECT pg_temp.as_reason('');
SELECT pg_temp.try($$SELECT fmtbank.donor_consent_withdraw('D-5001', (current_date - 1)::text)$$) AS withdraw_without_reason;
SELECT pg_temp.as_reason('donor phoned');
SELECT pg_temp.rel(pg_temp.try($$SELECT fmtbank.donor_consent_withdraw('D-5001', (current_date - 11)::text)$$)) AS withdraw_before_signing;
SELECT pg_temp.rel(pg_temp.try($$SELECT fmtbank.donor_consent_withdraw('D-5001', (current_date + 1)::text)$$)) AS withdraw_tomorrow;
SELECT count(*) AS events_after_refusals FROM fmtbank.donor_consent c JOIN fmtbank.donor d ON d.id = c.donor_id WHERE d.code = 'D-5001';
-- the records are append-only for every session, the superuser's too
SELECT pg_temp.try($$UPDATE fmtbank.donor_consent SET scope = '{trial}'$$) AS direct_update,
       pg_temp.try($$DELETE FROM fmtbank.donor_consent$$) AS direct_delete;
SELECT pg_temp.try($$INSERT INTO fmtbank.donor_consent (donor_id, event, effective_on, version, scope)
                     VALUES ((fmtbank.donor_get('D-5001')).id, 'signed', current_date, 'x', '{therapy}')$$) AS bad_scope_insert;

-- Issue: a released lot of D-5001 (collected 5 days ago, after the signing). Clinical and
-- research are in the scope; an issue for research is stored with its use.
SELECT pg_temp.short_q('D-5001', current_date - 5) AS short;
CREATE TEMP TABLE lots AS SELECT pg_temp.lot('D-5001', 5, 4, false) AS lot;
UPDATE fmtbank.lot SET status = 'released' WHERE lot_id = (SELECT lot FROM lots);
UPDATE fmtbank.aliquot a SET status = 'released' FROM fmtbank.lot l
WHERE l.id = a.lot AND l.lot_id = (SELECT lot FROM lots) AND NOT a.retained;
CREATE TEMP TABLE tubes AS
SELECT a.idx, a.aliquot_id FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
WHERE l.lot_id = (SELECT lot FROM lots) AND NOT a.retained;
SELECT pg_temp.try(format('SELECT fmtbank.aliquot_issue(%L, %L, %L, %L)', aliquot_id, 'R-0001', 'City Hospital', 'research')) AS research
FROM tubes WHERE idx = 1;
SELECT pg_temp.try(format('SELECT fmtbank.aliquot_issue(%L, %L, %L)', aliquot_id, 'R-0002', 'City Hospital')) AS clinical_by_default
FROM tubes WHERE idx = 2;
SELECT pg_temp.try(format('SELECT fmtbank.aliquot_issue(%L, %L, %L, %L)', aliquot_id, 'R-0003', 'City Hospital', 'trial')) AS trial_not_by_issue,
       pg_temp.try(format('SELECT fmtbank.aliquot_issue(%L, %L, %L, %L)', aliquot_id, 'R-0003', 'City Hospital', 'therapy')) AS unknown_use
FROM tubes WHERE idx = 3;
SELECT i.recipient, i.use FROM fmtbank.aliquot_issue i JOIN tubes t ON t.aliquot_id = (SELECT aliquot_id FROM fmtbank.aliquot WHERE id = i.aliquot)
ORDER BY t.idx;

-- A narrower consent signed today supersedes: research only. Clinical issue refused (FB003, naming
-- the donor and the use), research still allowed; the superuser's direct INSERT of a clinical issue
-- record is refused by the trigger too.
SELECT pg_temp.as_reason('');
SELECT pg_temp.sign('D-5001', 'v2', 0, 'research') AS research_only;
SELECT pg_temp.as_reason('donor phoned');
SELECT pg_temp.try(format('SELECT fmtbank.aliquot_issue(%L, %L, %L, %L)', aliquot_id, 'R-0003', 'City Hospital', 'clinical')) AS clinical_refused
FROM tubes WHERE idx = 3;
SELECT pg_temp.try(format('INSERT INTO fmtbank.aliquot_issue (aliquot, recipient, site, use) SELECT id, %L, %L, %L FROM fmtbank.aliquot WHERE aliquot_id = %L',
                          'R-0003', 'City Hospital', 'clinical', aliquot_id)) AS superuser_insert_clinical
FROM tubes WHERE idx = 3;
SELECT pg_temp.consent('D-5001', clock_timestamp()) AS now,
       pg_temp.consent('D-5001', current_date - 1 + time '12:00', clock_timestamp()) AS yesterday;
-- a donation of today needs any scope: research only is enough to record the lot
SELECT pg_temp.judge_consent('D-5001', 0) AS donation_research_only;

-- Withdrawal from today: nothing in force, no further issue, nothing already issued changes; a
-- donation of today is rejected, one of yesterday (before the withdrawal) is not.
SELECT consent, withdrawn_on = current_date AS from_today, in_force
FROM fmtbank.donor_consent_withdraw('D-5001', current_date::text);
SELECT pg_temp.try(format('SELECT fmtbank.aliquot_issue(%L, %L, %L, %L)', aliquot_id, 'R-0003', 'City Hospital', 'research')) AS research_after_withdrawal
FROM tubes WHERE idx = 3;
SELECT a.idx, a.status FROM fmtbank.aliquot a JOIN tubes t ON t.aliquot_id = a.aliquot_id ORDER BY a.idx;
SELECT pg_temp.judge_consent('D-5001', 0) AS donation_today, pg_temp.judge_consent('D-5001', 1) AS donation_yesterday;
SELECT pg_temp.try($$SELECT fmtbank.donor_consent_withdraw('D-5001', current_date::text)$$) AS withdraw_again;
-- consent given again after the withdrawal: in force again from its day
SELECT pg_temp.sign('D-5001', 'v3', 0, 'clinical') AS signed_again;
SELECT pg_temp.consent('D-5001', clock_timestamp()) AS now;
SELECT pg_temp.try(format('SELECT fmtbank.aliquot_issue(%L, %L, %L, %L)', aliquot_id, 'R-0003', 'City Hospital', 'clinical')) AS clinical_again
FROM tubes WHERE idx = 3;

-- The audit trail has every consent event (the refusals none).
SELECT op, count(*) FROM fmtbank.audit_log WHERE tbl = 'donor_consent'
  AND key IN (SELECT c.id::text FROM fmtbank.donor_consent c JOIN fmtbank.donor d ON d.id = c.donor_id WHERE d.code = 'D-5001')
GROUP BY op;
SELECT event, pg_temp.rel(effective_on::text) AS day, version, scope, reason FROM fmtbank.consent_list
WHERE donor = 'D-5001' ORDER BY recorded_at;
