-- audit.sql: the queries of the audit report. $1 = since, $2 = until (timestamptz, null when not
-- given): the period is [since, until), by default the 30 days up to now. All queries run in one
-- snapshot, so now() is the same in each.

-- @query meta
WITH p AS (SELECT coalesce($1, coalesce($2, now()) - interval '30 days') AS since,
                  coalesce($2, now()) AS until)
SELECT (SELECT max(a.at) FROM fmtbank.audit_log a WHERE a.at < p.until) AS created,
       format('Period %s to %s (excluded)', to_char(p.since, 'YYYY-MM-DD HH24:MI:SS TZH:TZM'),
              to_char(p.until, 'YYYY-MM-DD HH24:MI:SS TZH:TZM')) AS subtitle
FROM p;

-- @query integrity
WITH p AS (SELECT coalesce($1, coalesce($2, now()) - interval '30 days') AS since,
                  coalesce($2, now()) AS until),
     v AS (SELECT * FROM fmtbank.audit_verify())
SELECT p.since AS period_start, p.until AS period_end,
       (SELECT count(*) FROM fmtbank.audit_log a
        WHERE a.at >= p.since AND a.at < p.until) AS rows_in_period,
       CASE WHEN v.ok THEN 'intact'
            ELSE format('BROKEN at row %s: it, or a row before it, was changed or removed',
                        v.first_broken) END AS verdict,
       v.rows_checked, v.first_broken, v.last_id, fmtbank.report_as_of() AS state_as_of
FROM p, v;

-- @query trail
WITH p AS (SELECT coalesce($1, coalesce($2, now()) - interval '30 days') AS since,
                  coalesce($2, now()) AS until)
SELECT a.id, a.at, a.who, a.tbl, a.op,
       fmtbank.audit_subject(a.tbl, a.key, coalesce(a.new_row, a.old_row)) AS subject,
       fmtbank.audit_changes(a.tbl, a.op, a.old_row, a.new_row) AS changes, a.reason
FROM fmtbank.audit_log a, p
WHERE a.at >= p.since AND a.at < p.until
ORDER BY a.id;

-- @query rows
WITH p AS (SELECT coalesce($1, coalesce($2, now()) - interval '30 days') AS since,
                  coalesce($2, now()) AS until)
SELECT a.id, a.tbl, a.key, a.old_row::text AS old_row, a.new_row::text AS new_row
FROM fmtbank.audit_log a, p
WHERE a.at >= p.since AND a.at < p.until
ORDER BY a.id;
