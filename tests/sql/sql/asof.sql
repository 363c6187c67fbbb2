-- asof.sql: readiness at a past moment with only what had been recorded by then (product.md §12
-- "As-of everywhere", schema/160_asof.sql and code/160_asof.sql): the stored status of then, not
-- today's (a lot stored ready by the sweep, later voided), the holds in force then; the answer
-- given at a moment equals the answer asked later about that moment; the version tables are
-- written by the triggers only (a hostile caller cannot rewrite history).
CREATE TEMP TABLE m (k text PRIMARY KEY, at timestamptz, blocking jsonb);
CREATE FUNCTION pg_temp.mark(p_k text, p_lot text) RETURNS integer LANGUAGE sql AS $$
    INSERT INTO m SELECT p_k, clock_timestamp(), s.blocking FROM fmtbank.lot_show(p_lot) s;
    SELECT 1
$$;
CREATE FUNCTION pg_temp.at(p_k text) RETURNS timestamptz LANGUAGE sql AS $$
    SELECT at FROM m WHERE k = p_k
$$;
CREATE TEMP TABLE l (k text PRIMARY KEY, lot text);

-- A lot collected 40 days ago, processed, without results: quarantine, the panels block.
SELECT pg_temp.donor('D-3501');
INSERT INTO l VALUES ('a', pg_temp.lot('D-3501', 40));
SELECT pg_temp.mark('1 processed', (SELECT lot FROM l));
-- The results arrive: nothing blocks; the sweep stores ready.
SELECT pg_temp.panel('D-3501', current_date - 60), pg_temp.panel('D-3501', current_date - 25);
SELECT * FROM fmtbank.sweep_release() WHERE n > 0;
SELECT pg_temp.mark('2 ready', (SELECT lot FROM l));
-- A case holds it.
SELECT pg_temp.as_reason('donor reported fever');
SELECT lots FROM fmtbank.hold_add('lot', (SELECT lot FROM l), NULL, NULL);
SELECT pg_temp.mark('3 held', (SELECT lot FROM l));
-- A second lot of the donor, ready; quality voids it: stored rejected from then on.
INSERT INTO l VALUES ('b', pg_temp.lot('D-3501', 35));
SELECT pg_temp.mark('4 second lot', (SELECT lot FROM l WHERE k = 'b'));
SELECT pg_temp.as_reason('entered twice');
SELECT fmtbank.lot_void((SELECT lot FROM l WHERE k = 'b')) AS voided_aliquots;
SELECT pg_temp.mark('5 voided', (SELECT lot FROM l WHERE k = 'b'));

-- Each moment asked now: the stored status of then, the status shown then, the blocking rules of
-- then, the same as the answer given at that moment.
SELECT m.k, s.stored_status, s.status, s.held,
       (SELECT string_agg(e ->> 'rule', ',') FROM jsonb_array_elements(s.blocking) e) AS blocking,
       s.blocking = m.blocking AS same_as_then
FROM m
JOIN l ON l.k = CASE WHEN m.k < '4' THEN 'a' ELSE 'b' END
JOIN fmtbank.lot_get(l.lot) g ON true
CROSS JOIN LATERAL fmtbank.lot_state_at(m.at, g.id) s
ORDER BY m.k;
-- The status rule's verdict at each moment for the voided lot: passed before, failed after.
SELECT m.k, c.ok, pg_temp.rel(c.detail) AS detail
FROM m CROSS JOIN LATERAL fmtbank.lot_check_at(m.at, (fmtbank.lot_get((SELECT lot FROM l WHERE k = 'b'))).id) c
WHERE m.k >= '4' AND c.rule = 'status' ORDER BY m.k;
-- Listing (all lots) at a moment before the second lot: only the first.
SELECT count(*) AS lots_at_2 FROM fmtbank.lot_state_at(pg_temp.at('2 ready'));
-- The versions of the first lot: entered, processed, ready (the sweep), the current one open.
SELECT v.row ->> 'status' AS status, v.row ->> 'doses' AS doses, v.valid_to IS NULL AS current
FROM fmtbank.lot_version v JOIN fmtbank.lot x ON x.id = v.lot
WHERE x.lot_id = (SELECT lot FROM l WHERE k = 'a') ORDER BY v.valid_from;

-- The version tables are written by the triggers only, and never deleted from.
SELECT r.rolname, t.tbl,
       has_table_privilege(r.rolname, t.tbl, 'SELECT') AS can_read,
       has_table_privilege(r.rolname, t.tbl, 'INSERT, UPDATE, DELETE, TRUNCATE') AS can_write
FROM pg_roles r
CROSS JOIN unnest(ARRAY['fmtbank.lot_version', 'fmtbank.aliquot_version',
                        'fmtbank.placement_version']) t(tbl)
WHERE r.rolname IN ('fmtbank_technician', 'fmtbank_quality', 'fmtbank_auditor', 'fmtbank_admin')
ORDER BY 1, 2;
SELECT pg_temp.try('DELETE FROM fmtbank.aliquot_version') AS owner_delete;
SELECT pg_temp.try('TRUNCATE fmtbank.lot_version') AS owner_truncate;

-- A version starts no later than the audit row of its change: as of the last audit row's time
-- (what reports are made as of), the void is there.
SELECT s.stored_status FROM fmtbank.lot_state_at((SELECT a.at FROM fmtbank.audit_log a
                                                  WHERE a.tbl = 'lot' ORDER BY a.id DESC LIMIT 1),
                                                 (fmtbank.lot_get((SELECT lot FROM l WHERE k = 'b'))).id) s;

-- The helpers that read the versions are inlined into the query that calls them (SQL-standard
-- bodies: the ownership policy gives them no SET clause). Called as a function, each call stored
-- its whole result and a key given per row was no index condition: "report inventory --as-of"
-- over 1,000,000 tubes did not finish in 5 minutes (37 s inlined).
SELECT p.oid::regprocedure AS helper, p.proconfig IS NULL AS no_set, p.prosqlbody IS NOT NULL AS sql_body
FROM pg_proc p
WHERE p.pronamespace = 'fmtbank'::regnamespace
  AND p.proname IN ('lot_at', 'aliquot_at', 'aliquot_one_at', 'placement_at', 'positions_at')
ORDER BY 1::text;
SELECT q.name, pg_temp.plan(q.sql) !~ 'Function Scan on (lot_at|aliquot_at|aliquot_one_at|placement_at|positions_at)' AS inlined,
       pg_temp.plan(q.sql) ~ 'aliquot_version' AS reads_the_versions
FROM (VALUES
    ('aliquot per placement', 'SELECT a.aliquot_id FROM fmtbank.placement p CROSS JOIN LATERAL fmtbank.aliquot_one_at(now(), p.aliquot) a'),
    ('every aliquot', 'SELECT count(*) FROM fmtbank.aliquot_at(now())'),
    ('positions', 'SELECT count(*) FROM fmtbank.positions_at(now()) p LEFT JOIN fmtbank.aliquot_at(now()) a ON a.id = p.aliquot'),
    ('lots', 'SELECT count(*) FROM fmtbank.lot_at(now()) l JOIN fmtbank.aliquot_at(now()) a ON a.lot = l.id')) q(name, sql)
ORDER BY 1;
-- aliquot_one_at gives what aliquot_at gives for that tube, at every moment marked above
SELECT count(*) AS checked,
       count(*) FILTER (WHERE (SELECT array_agg(to_jsonb(x)) FROM fmtbank.aliquot_one_at(m.at, a.id) x)
                              IS NOT DISTINCT FROM
                              (SELECT array_agg(to_jsonb(x)) FROM fmtbank.aliquot_at(m.at, ARRAY[a.id]) x)) AS equal,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM fmtbank.aliquot_one_at(m.at, a.id))) AS present
FROM m CROSS JOIN fmtbank.aliquot a;
