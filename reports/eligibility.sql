-- eligibility.sql: the queries of the eligibility report. $1 = as_of (date, null when not given):
-- the evaluation time is the end of that day (the last microsecond before the next midnight, as
-- "donor list --as-of DATE"), else now. Every query evaluates with fmtbank.donor_eligibility_at.
--
-- A test is missing (or expired) when its reason says there is no acceptable result collected
-- in the validity window ("no acceptable result collected from ... to ..."): never collected,
-- too old, or an unacceptable result whose retest is too old. Tests with a pending retest or an
-- excluding result are reasons of their own, not missing tests.

-- @query meta
WITH p AS (SELECT coalesce(($1 + 1)::timestamptz - interval '1 microsecond', now()) AS at)
SELECT format('Eligibility on %s%s (rule set version %s)', p.at::date,
              CASE WHEN $1 IS NULL THEN '' ELSE ', with what had been recorded by the end of that day' END,
              fmtbank.rule_set_version_at(p.at)) AS subtitle
FROM p;

-- @query summary
-- Every status, also those without a donor; screening due within 7 / 30 days of the day.
WITH p AS (SELECT coalesce(($1 + 1)::timestamptz - interval '1 microsecond', now()) AS at),
s(ord, status) AS (VALUES (1, 'eligible'), (2, 'screening'), (3, 'deferred'), (4, 'excluded')),
e AS (SELECT e.status, e.next_screening_due, p.at::date AS day
      FROM p, fmtbank.donor_eligibility_at(p.at) e)
SELECT s.status, count(e.status) AS donors,
       count(*) FILTER (WHERE e.next_screening_due < e.day + 7) AS due_7,
       count(*) FILTER (WHERE e.next_screening_due < e.day + 30) AS due_30
FROM s
LEFT JOIN e ON e.status = s.status
GROUP BY s.ord, s.status
ORDER BY s.ord;

-- @query donors
WITH p AS (SELECT coalesce(($1 + 1)::timestamptz - interval '1 microsecond', now()) AS at)
SELECT e.code AS donor, e.status, e.deferred_until, e.next_screening_due AS next_due,
       coalesce(r.missing, 0) AS missing, r.missing_tests, r.reasons,
       (SELECT max(l.collected_at) FROM fmtbank.lot l
        WHERE l.donor_id = e.donor_id AND l.created_at <= p.at) AS last_donation,
       d.created_at::date AS registered, e.rule_set_version AS rule_set
FROM p
CROSS JOIN fmtbank.donor_eligibility_at(p.at) e
JOIN fmtbank.donor d ON d.id = e.donor_id
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x.missing) AS missing,
           string_agg(substr(x.rule, 6), ', ' ORDER BY x.n) FILTER (WHERE x.missing) AS missing_tests,
           string_agg(x.rule || ': ' || x.detail, '; ' ORDER BY x.n) FILTER (WHERE NOT x.missing)
               AS reasons
    FROM (SELECT r.n, r.v ->> 'rule' AS rule, r.v ->> 'detail' AS detail,
                 r.v ->> 'rule' LIKE 'test:%'
                 AND r.v ->> 'detail' LIKE 'no acceptable result collected %' AS missing
          FROM jsonb_array_elements(e.reasons) WITH ORDINALITY AS r(v, n)) x) r
ORDER BY e.code;

-- @query reasons
WITH p AS (SELECT coalesce(($1 + 1)::timestamptz - interval '1 microsecond', now()) AS at)
SELECT e.code AS donor, e.status, r.n, r.v ->> 'rule' AS rule, r.v ->> 'detail' AS detail
FROM p
CROSS JOIN fmtbank.donor_eligibility_at(p.at) e
CROSS JOIN LATERAL jsonb_array_elements(e.reasons) WITH ORDINALITY AS r(v, n)
ORDER BY e.code, r.n;
