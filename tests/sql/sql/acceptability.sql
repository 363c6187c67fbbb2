-- acceptability.sql: the one acceptability predicate, fmtbank.result_acceptable(result, value, op,
-- limit), at its edges, and every engine that judges a result agreeing with it at those edges:
-- the result view (012), eligibility (013), readiness (031) and the lookback trigger (034).

-- It is inlined where it is called (a SQL-standard body, no SET clause): the plan shows its CASE,
-- not a call.
SELECT p.prosqlbody IS NOT NULL AS sql_standard_body, p.proconfig IS NULL AS no_set_clause,
       p.provolatile = 'i' AS immutable
FROM pg_proc p WHERE p.oid = 'fmtbank.result_acceptable(text, numeric, text, numeric)'::regprocedure;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT fmtbank.result_acceptable(x.r, x.v, x.o, x.l)
FROM (VALUES ('5', 5::numeric, '<=', 5::numeric), ('negative', NULL, 'negative', NULL)) x(r, v, o, l);

-- The edges: a value equal to the limit under <= and <, just inside and outside, the words of a
-- negative-only test, a word (no value) under a limit, a value under a negative-only rule, and
-- censored numbers (130_wording): "<L" is within a limit L under either op, a bound above it is
-- not, and ">N" never is.
CREATE TEMP TABLE edge (n serial, result text, value numeric, op text, lim numeric,
                        expected boolean);
INSERT INTO edge (result, value, op, lim, expected) VALUES
('5', 5, '<=', 5, true),
('4.99', 4.99, '<=', 5, true),
('5.01', 5.01, '<=', 5, false),
('0', 0, '<=', 5, true),
('50', 50, '<', 50, false),
('49.9', 49.9, '<', 50, true),
('50.1', 50.1, '<', 50, false),
('negative', NULL, 'negative', NULL, true),
('positive', NULL, 'negative', NULL, false),
('indeterminate', NULL, 'negative', NULL, false),
('indeterminate', NULL, '<=', 5, false),
('positive', NULL, '<', 50, false),
('<5', 5, '<=', 5, true),
('<5.01', 5.01, '<=', 5, false),
('<50', 50, '<', 50, true),
('<50.1', 50.1, '<', 50, false),
('>1', 1, '<=', 5, false),
('>0', 0, '<', 50, false),
('negative', NULL, '<=', 5, true),
('3', 3, 'negative', NULL, false);
SELECT e.result, e.value, e.op, e.lim,
       fmtbank.result_acceptable(e.result, e.value, e.op, e.lim) AS acceptable
FROM edge e ORDER BY e.n;
-- Edges whose verdict is not the one written above (expected: none).
SELECT e.* FROM edge e
WHERE fmtbank.result_acceptable(e.result, e.value, e.op, e.lim) IS DISTINCT FROM e.expected;

-- Every engine at the edges of the default catalog (CRP accept <=5 mg/L, CALPRO <50 µg/g, NORO
-- negative). One donor per edge: a lot collected 20 days ago with its pre-donation panel (d-30)
-- and a post-donation panel (d-10) without the test, whose result is the edge, collected d-10.
CREATE TEMP TABLE eng (code text, test text, result text, unit text, expected boolean, lot text);
INSERT INTO eng (code, test, result, unit, expected) VALUES
('D-2001', 'CRP', '5', 'mg/L', true),
('D-2002', 'CRP', '5.1', 'mg/L', false),
('D-2003', 'CRP', '0', 'mg/L', true),
('D-2004', 'CALPRO', '50', 'µg/g', false),
('D-2005', 'CALPRO', '49.9', 'µg/g', true),
('D-2006', 'NORO', 'negative', NULL, true),
('D-2007', 'NORO', 'positive', NULL, false),
('D-2008', 'NORO', 'indeterminate', NULL, false);
SELECT count(pg_temp.donor(code)) AS donors FROM eng;
UPDATE eng SET lot = pg_temp.lot(code, 40);
SELECT count(pg_temp.panel(code, current_date - 50)) AS pre_panels,
       count(pg_temp.panel(code, current_date - 30, ARRAY[test])) AS post_panels,
       count(pg_temp.full_q(code, current_date - 30)) AS questionnaires,
       count(pg_temp.result(code, test, current_date - 30, result, unit)) AS edge_results
FROM eng;

CREATE TEMP TABLE verdict AS
SELECT g.code, g.test, g.result, g.expected,
       (SELECT r.acceptable FROM fmtbank.result_effective r
        WHERE r.donor = g.code AND r.test = g.test AND r.collected = current_date - 30) AS result_view,
       (SELECT x.verdict = 'pass' FROM fmtbank.donor_explain_at(d.id) x
        WHERE x.rule = 'test:' || g.test) AS eligibility,
       (SELECT count(*) = 0 FROM fmtbank.lookback_case c WHERE c.donor_id = d.id) AS no_lookback,
       pg_temp.lot_rules(g.lot) AS lot_blocking,
       pg_temp.lot_rules(g.lot) = '' AS releasable
FROM eng g JOIN fmtbank.donor d ON d.code = g.code;
SELECT code, test, result, expected, result_view, eligibility, no_lookback, lot_blocking
FROM verdict ORDER BY code;
-- Engines that disagree with the predicate (expected: none).
SELECT * FROM verdict
WHERE result_view IS DISTINCT FROM expected OR eligibility IS DISTINCT FROM expected
   OR no_lookback IS DISTINCT FROM expected OR releasable IS DISTINCT FROM expected;
