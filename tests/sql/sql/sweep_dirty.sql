-- sweep_dirty.sql: the daemon's sweeps evaluate what changed (180_sweep_dirty). After every step
-- of a series of changes (results, a lookback, a manual deferral, a donor, a lot processed, a
-- hold, a future-dated result, a day boundary, a rule change) an incremental pass must leave the
-- stored state equal to a full re-evaluation (pg_temp.stale(): expected 0 each time); an idle
-- pass judges nothing; the sweep's own quarantine <-> ready changes mark nothing; and a pass is
-- incremental indeed: a stored state nobody marked stays until a full pass (sweep_full).

-- stale(): stored donor states and lot states that differ from a full evaluation now, and
-- donors whose eligibility now (donor_eligibility_at: the stored evaluations, 330, where they
-- hold) differs from it in any field.
CREATE FUNCTION pg_temp.stale() RETURNS bigint LANGUAGE sql AS $$
    WITH e AS MATERIALIZED (SELECT * FROM fmtbank.eligibility_summary_of(clock_timestamp(), NULL))
    SELECT (SELECT count(*)
            FROM e
            LEFT JOIN fmtbank.donor_state s ON s.donor_id = e.donor_id
            WHERE (s.status, s.deferred_until, s.next_screening_due)
                  IS DISTINCT FROM (e.status, e.deferred_until, e.next_screening_due))
         + (SELECT count(*)
            FROM e FULL JOIN fmtbank.donor_eligibility_at(clock_timestamp()) n
              ON n.donor_id = e.donor_id
            WHERE row(n.*)::text IS DISTINCT FROM row(e.*)::text)
         + (SELECT count(*)
            FROM fmtbank.lot_ready_at(clock_timestamp(), NULL, ARRAY['quarantine', 'ready']) b
            JOIN fmtbank.lot l ON l.id = b.lot
            WHERE l.status <> CASE WHEN b.releasable THEN 'ready' ELSE 'quarantine' END)
$$;
-- sweep(): one pass of the donor and release steps, what each stored (counts of the other
-- steps are not this file's)
CREATE FUNCTION pg_temp.sweep() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(what || ' ' || n, '; ' ORDER BY what), 'nothing')
    FROM fmtbank.sweep() WHERE what ~ '^(donors|release): '
$$;
-- pending(): the dirty rows left, by step and kind
CREATE FUNCTION pg_temp.pending() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(format('%s x%s', x, n), ', ' ORDER BY x), 'none')
    FROM (SELECT step || ' ' || CASE WHEN donor_id IS NOT NULL THEN 'donor'
                                     WHEN lot IS NOT NULL THEN 'lot' ELSE 'everything' END
                 || CASE WHEN not_before > current_date
                         THEN ' from ' || pg_temp.rel(not_before::text) ELSE '' END AS x,
                 count(*) AS n
          FROM fmtbank.sweep_dirty GROUP BY 1) p
$$;
CREATE FUNCTION pg_temp.donor_state(p_code text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.rel(concat_ws(' ', s.status, 'until ' || s.deferred_until, 'due ' || s.next_screening_due))
    FROM fmtbank.donor_state s JOIN fmtbank.donor d ON d.id = s.donor_id WHERE d.code = p_code
$$;
CREATE FUNCTION pg_temp.lot_stored(p_code text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(l.status, ',' ORDER BY l.collected_at)
    FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id WHERE d.code = p_code
$$;

-- The first pass of each step judges everything (no state yet); the second judges nothing.
SELECT pg_temp.sweep() <> 'nothing' AS first_pass_stored, pg_temp.stale() AS stale;
SELECT step, day = current_date AS today FROM fmtbank.sweep_state ORDER BY step;
SELECT pg_temp.sweep() AS idle_pass, pg_temp.pending() AS pending;

-- New donors, panels, questionnaires and a complete sandwich (collected 30 days ago).
SELECT pg_temp.donor('D-3001'), pg_temp.donor('D-3002'), pg_temp.donor('D-3003');
SELECT pg_temp.panel('D-3001', current_date - 40), pg_temp.panel('D-3001', current_date - 15),
       pg_temp.full_q('D-3001', current_date - 40), pg_temp.panel('D-3003', current_date - 5),
       pg_temp.full_q('D-3003', current_date - 5);
SELECT pg_temp.lot('D-3001', 30) IS NOT NULL AS lot, pg_temp.lot('D-3001', 10, 0) IS NOT NULL AS unprocessed;
SELECT pg_temp.pending() AS pending;
SELECT pg_temp.sweep() AS pass, pg_temp.stale() AS stale, pg_temp.pending() AS pending;
SELECT pg_temp.donor_state('D-3001') AS d3001, pg_temp.donor_state('D-3002') AS d3002,
       pg_temp.donor_state('D-3003') AS d3003, pg_temp.lot_stored('D-3001') AS d3001_lots;
-- the sweep's own quarantine -> ready marked nothing: idle again
SELECT pg_temp.sweep() AS idle_pass, pg_temp.pending() AS pending;

-- The unprocessed lot is processed (its processing time changed): judged again.
SELECT count(*) FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id,
       fmtbank.donation_process(l.lot_id, (l.collected_at + interval '90 minutes')::text, '3')
WHERE d.code = 'D-3001' AND l.processed_at IS NULL;
SELECT pg_temp.pending() AS pending;
SELECT pg_temp.sweep() AS pass, pg_temp.stale() AS stale, pg_temp.lot_stored('D-3001') AS d3001_lots;

-- A positive in the post-donation window: the donor is deferred, the lookback holds the lots,
-- the ready lot goes back to quarantine (one result: its donor, both steps).
SELECT pg_temp.result('D-3001', 'NORO', current_date - 20, 'positive');
SELECT pg_temp.pending() AS pending;
SELECT pg_temp.sweep() AS pass, pg_temp.stale() AS stale;
SELECT pg_temp.donor_state('D-3001') AS d3001, pg_temp.lot_stored('D-3001') AS d3001_lots;

-- A manual deferral (a decision: its donor) and a hold on another donor's lot (the lot).
SELECT pg_temp.as_reason('travel to an outbreak area');
SELECT fmtbank.donor_decide('D-3003', 'defer', (current_date + 30)::text);
SELECT pg_temp.sweep() AS pass, pg_temp.stale() AS stale, pg_temp.donor_state('D-3003') AS d3003;
SELECT pg_temp.lot('D-3003', 2) IS NOT NULL AS lot;
SELECT pg_temp.sweep() AS pass, pg_temp.stale() AS stale;
SELECT lots FROM fmtbank.hold_add('donor', 'D-3003', NULL, NULL);
SELECT pg_temp.pending() AS pending;
SELECT pg_temp.sweep() AS pass, pg_temp.stale() AS stale;

-- A result collected tomorrow counts from tomorrow: its rows wait for that day.
INSERT INTO fmtbank.result (donor_id, test_no, collected, result, lab)
SELECT d.id, t.test_no, current_date + 1, 'positive', 'Lab A'
FROM fmtbank.donor d, fmtbank.screening_test t WHERE d.code = 'D-3002' AND t.code = 'NORO';
SELECT pg_temp.sweep() AS pass, pg_temp.stale() AS stale, pg_temp.pending() AS pending;

-- A pass is incremental: a stored state nobody marked (here faked behind the sweep's back) stays
-- wrong through incremental passes, and a full pass (sweep_full) puts it right.
UPDATE fmtbank.donor_state SET status = 'excluded', next_screening_due = NULL
WHERE donor_id = (SELECT id FROM fmtbank.donor WHERE code = 'D-3002');
SELECT pg_temp.sweep() AS pass, pg_temp.stale() AS stale_unmarked;
-- Eligibility now reads the stored evaluations (330) of donors no change concerns: one faked
-- behind the sweep's back is what donor_eligibility_at answers (one more stale), until a pass
-- judges that donor; a donor marked by a change is evaluated at once.
UPDATE fmtbank.donor_eligibility SET status = 'excluded', reasons = '[{"rule": "faked"}]'
WHERE donor_id = (SELECT id FROM fmtbank.donor WHERE code = 'D-3001');
SELECT e.status, e.reasons FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-3001';
SELECT pg_temp.stale() AS stale_unmarked;
SELECT fmtbank.eligibility_stale(clock_timestamp()) = '{}' AS nothing_marked;
SELECT pg_temp.result('D-3001', 'CRP', current_date - 1, '1.0', 'mg/L');
SELECT cardinality(fmtbank.eligibility_stale(clock_timestamp())) AS marked,
       fmtbank.eligibility_stale(clock_timestamp(), d.id) = ARRAY[d.id] AS this_one_marked,
       fmtbank.eligibility_stale(clock_timestamp(), o.id) = '{}' AS other_unmarked
FROM fmtbank.donor d, fmtbank.donor o WHERE d.code = 'D-3001' AND o.code = 'D-3003';
SELECT e.status FROM fmtbank.donor_eligibility_at() e WHERE e.code = 'D-3001';
SELECT pg_temp.stale() AS stale_unmarked;
SELECT fmtbank.sweep_full();
SELECT pg_temp.pending() AS pending;
SELECT pg_temp.sweep() AS full_pass, pg_temp.stale() AS stale, pg_temp.donor_state('D-3002') AS d3002;
-- A technician and an auditor read the same answer from the stored rows (their grants suffice).
CREATE TEMP TABLE elig_su AS SELECT row(e.*)::text AS r FROM fmtbank.donor_eligibility_at() e;
GRANT SELECT ON elig_su TO PUBLIC;
SET LOCAL SESSION AUTHORIZATION alice;
SELECT fmtbank.eligibility_stale(clock_timestamp()) = '{}' AS technician_store,
       (SELECT count(*) FROM fmtbank.donor_eligibility_at() e
        WHERE row(e.*)::text NOT IN (SELECT r FROM elig_su)) AS technician_differs;
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION audrey;
SELECT (SELECT count(*) FROM fmtbank.donor_eligibility_at() e
        WHERE row(e.*)::text NOT IN (SELECT r FROM elig_su)) AS auditor_differs,
       (SELECT count(*) FROM fmtbank.donor_eligibility_at()) = (SELECT count(*) FROM elig_su) AS same_count;
RESET SESSION AUTHORIZATION;

-- A day boundary: the donors whose stored dates ran out are judged again, found by those dates
-- (faked: the last pass was yesterday, when D-3003's deferral still held and D-3001's screening was
-- still valid); a donor whose dates did not run out is not.
UPDATE fmtbank.sweep_state SET day = day - 1;
UPDATE fmtbank.donor_state SET status = 'deferred', deferred_until = current_date
WHERE donor_id = (SELECT id FROM fmtbank.donor WHERE code = 'D-3002');
UPDATE fmtbank.donor_state SET status = 'eligible', next_screening_due = current_date - 1
WHERE donor_id = (SELECT id FROM fmtbank.donor WHERE code = 'D-3001');
-- the stored reasons of donors not eligible name the day (a missing test's "collected from ...
-- to <today>"): all are judged again on a new day (faked: yesterday's words)
UPDATE fmtbank.donor_eligibility SET reasons = '[{"rule": "yesterday"}]' WHERE status <> 'eligible';
SELECT count(*) > 0 AS not_eligible FROM fmtbank.donor_eligibility WHERE status <> 'eligible';
-- the stored rows are not used on another day than the sweep's
SELECT fmtbank.eligibility_stale(clock_timestamp()) IS NULL AS store_unused,
       count(*) FILTER (WHERE e.reasons = '[{"rule": "yesterday"}]') AS yesterdays
FROM fmtbank.donor_eligibility_at() e;
SELECT pg_temp.stale() AS stale_before;
SELECT pg_temp.sweep() AS day_pass, pg_temp.stale() AS stale;
SELECT pg_temp.donor_state('D-3001') AS d3001, pg_temp.donor_state('D-3002') AS d3002;

-- A rule change: everything (both steps), then idle.
SELECT pg_temp.as_reason('shorter validity');
SELECT fmtbank.rules_set('screen_validity_days', '20') > 0 AS new_version;
SELECT pg_temp.pending() AS pending;
SELECT pg_temp.sweep() <> 'nothing' AS rule_pass, pg_temp.stale() AS stale;
SELECT pg_temp.donor_state('D-3003') AS d3003;
SELECT pg_temp.sweep() AS idle_pass;

-- A rolled-back change leaves no row.
SAVEPOINT a;
SELECT pg_temp.result('D-3003', 'CRP', current_date, '1.0', 'mg/L');
ROLLBACK TO SAVEPOINT a;
SELECT pg_temp.pending() AS pending;

-- Who may ask for a full pass: quality, admin, the daemon (here the superuser; the CLI contract
-- is t0705).
SELECT has_function_privilege('fmtbank_technician', 'fmtbank.sweep_full()', 'EXECUTE') AS technician,
       has_function_privilege('fmtbank_quality', 'fmtbank.sweep_full()', 'EXECUTE') AS quality,
       has_function_privilege('fmtbank_daemon', 'fmtbank.sweep_full()', 'EXECUTE') AS daemon,
       has_table_privilege('fmtbank_technician', 'fmtbank.sweep_dirty', 'INSERT') AS technician_marks;

-- The evaluations a full pass runs (eligibility of every donor, lot_eval of every lot) read
-- millions of results: one parallel-unsafe function named in their statements keeps the whole
-- statement from parallel workers (lot_eval of every lot took twice as long). Every function they
-- name is PARALLEL SAFE (expected: none listed; lot_at only serves a past time).
SELECT p.proname AS parallel_unsafe
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'fmtbank' AND p.proparallel <> 's' AND p.proname NOT IN ('lot_eval', 'lot_at')
  AND (fmtbank.eligibility_sql() || fmtbank.eligibility_summary_sql()
       || pg_get_functiondef('fmtbank.lot_eval(timestamptz, uuid[], text[], boolean, text)'::regprocedure))
      LIKE '%fmtbank.' || p.proname || '(%'
ORDER BY 1;
