-- first_pass.sql: what the daemon's first pass was made cheaper by (issue 17 item 7) still holds.
--  - The release sweep's own status moves (a lot between quarantine and ready, a tube past its
--    shelf life expired) no longer call the transition checks: their triggers' WHEN clauses leave
--    them out (schema/370_transition_when.sql). Every other move is still checked: the refusals
--    below come from the same functions, and the calls are counted (track_functions).
--  - The version rows of lots and tubes are to_jsonb of the row, from the server module's C
--    function (schema/code/160_asof.sql): compared with to_jsonb itself for every version.
SET track_functions = 'pl';
CREATE FUNCTION pg_temp.check_calls() RETURNS text LANGUAGE sql AS $$
    SELECT format('lot %s, aliquot %s',
                  coalesce(pg_stat_get_xact_function_calls('fmtbank.lot_transition_check()'::regprocedure), 0),
                  coalesce(pg_stat_get_xact_function_calls('fmtbank.aliquot_transition_check()'::regprocedure), 0))
$$;
SELECT pg_temp.donor('D-3701');
SELECT pg_temp.panel('D-3701', current_date - 60), pg_temp.panel('D-3701', current_date - 25);
CREATE TEMP TABLE l AS
SELECT pg_temp.lot('D-3701', 40) AS a, pg_temp.lot('D-3701', 35) AS b, pg_temp.lot('D-3701', 38) AS c;
SELECT pg_temp.check_calls() AS before_the_sweep;
-- the sweep makes the lots ready: no call
SELECT what, n FROM fmtbank.sweep() WHERE what ~ '^release: lots' ORDER BY 1;
SELECT pg_temp.check_calls() AS after_making_lots_ready;
SELECT l.status, count(*) FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id
WHERE d.code = 'D-3701' GROUP BY 1;
-- a tube past its shelf life: expired by the sweep, no call
UPDATE fmtbank.aliquot SET expires_at = now() - interval '1 day'
WHERE lot = (fmtbank.lot_get((SELECT a FROM l))).id AND idx = 1;
SELECT what, n FROM fmtbank.sweep() WHERE what ~ '^release: aliquots' ORDER BY 1;
SELECT pg_temp.check_calls() AS after_expiry;
-- the same moves by hand, by the superuser: not checked either (they never were, for anyone);
-- the application roles cannot update the tables at all
UPDATE fmtbank.lot SET status = 'quarantine' WHERE id = (fmtbank.lot_get((SELECT c FROM l))).id;
UPDATE fmtbank.lot SET status = 'ready' WHERE id = (fmtbank.lot_get((SELECT c FROM l))).id;
SELECT pg_temp.check_calls() AS after_moving_by_hand;
SELECT set_config('test.lot_c', c, true) IS NOT NULL AS noted FROM l;
SET LOCAL ROLE fmtbank_technician;
UPDATE fmtbank.lot SET status = 'quarantine' WHERE lot_id = current_setting('test.lot_c');
RESET ROLE;
-- every other move is still checked, and refused where it was: the holds bind the superuser too
-- (a refused statement's calls are rolled back with it: the count shows the recall's)
SELECT pg_temp.as_reason('tube dropped');
SELECT lots, aliquots FROM fmtbank.hold_add('lot', (SELECT b FROM l), NULL, NULL);
SELECT pg_temp.try(format('UPDATE fmtbank.lot SET status = %L WHERE lot_id = %L', 'released',
                          (SELECT b FROM l))) AS release_a_held_lot;
SELECT pg_temp.try(format('UPDATE fmtbank.aliquot SET status = %L WHERE lot = %L AND idx = 2',
                          'discarded', (fmtbank.lot_get((SELECT b FROM l))).id)) AS discard_a_held_tube;
SELECT pg_temp.try(format('UPDATE fmtbank.lot SET status = %L WHERE lot_id = %L', 'recalled',
                          (SELECT a FROM l))) AS recall_a_ready_lot;
SELECT pg_temp.check_calls() AS after_the_checked_moves;
SELECT l.lot_id = (SELECT a FROM l) AS is_a, l.status FROM fmtbank.lot l
WHERE l.lot_id IN (SELECT a FROM l UNION ALL SELECT b FROM l) ORDER BY 1;
-- every version row is to_jsonb of the row as it then stood: the current ones equal the rows,
-- and every one equals an audit row's new row of its lot or tube (statements of one row: the
-- audit trigger's to_jsonb)
SELECT count(*) AS lot_versions, count(*) FILTER (WHERE v.valid_to IS NULL) AS current,
       count(*) FILTER (WHERE v.valid_to IS NULL AND v.row = to_jsonb(x)) AS current_equal_to_jsonb,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM fmtbank.audit_log g WHERE g.tbl = 'lot'
                                      AND g.key = x.lot_id AND g.new_row = v.row)) AS equal_to_an_audit_row
FROM fmtbank.lot_version v JOIN fmtbank.lot x ON x.id = v.lot
JOIN fmtbank.donor d ON d.id = x.donor_id WHERE d.code = 'D-3701';
SELECT count(*) AS aliquot_versions, count(*) FILTER (WHERE v.valid_to IS NULL) AS current,
       count(*) FILTER (WHERE v.valid_to IS NULL AND v.row = to_jsonb(x)) AS current_equal_to_jsonb,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM fmtbank.audit_log g WHERE g.tbl = 'aliquot'
                                      AND g.key = x.aliquot_id AND g.new_row = v.row)) AS equal_to_an_audit_row
FROM fmtbank.aliquot_version v JOIN fmtbank.aliquot x ON x.id = v.aliquot
WHERE x.lot IN (SELECT (fmtbank.lot_get(id)).id FROM (SELECT a FROM l UNION ALL SELECT b FROM l
                                                      UNION ALL SELECT c FROM l) s(id));
-- the module's function is the one the triggers call (the embedded instance preloads it)
SELECT p.proname, pg_get_functiondef(p.oid) LIKE '%fmtbank.row_jsonb_raw(n)%' AS calls_the_module
FROM pg_proc p WHERE p.oid IN ('fmtbank.lot_version_track()'::regprocedure,
                               'fmtbank.aliquot_version_track()'::regprocedure) ORDER BY 1;
-- the triggers that write the audit and version rows of a statement plan without JIT (their
-- statements have no statistics on the transition tables; a 96,800-row UPDATE was estimated at
-- 46 million joined rows and compiled with full optimization)
SELECT p.proname, 'jit=off' = ANY (p.proconfig) AS no_jit
FROM pg_proc p WHERE p.oid IN ('fmtbank.audit_stmt()'::regprocedure,
                               'fmtbank.lot_version_track()'::regprocedure,
                               'fmtbank.aliquot_version_track()'::regprocedure,
                               'fmtbank.placement_version_track()'::regprocedure) ORDER BY 1;
