-- todo.sql: the queries of the todo report (no parameters): the view fmtbank.todo
-- (schema/code/110_freezer.sql), every role's items, by role, kind and since. Unlike the other
-- reports its contents depend on the time it runs (what is ready, due or expiring now), so the
-- subtitle gives that time; the document's creation time is still the database's last change.

-- @query meta
SELECT fmtbank.report_as_of() AS created,
       format('As of %s: %s item%s', to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI TZH:TZM'), n,
              CASE WHEN n = 1 THEN '' ELSE 's' END) AS subtitle
FROM (SELECT count(*) AS n FROM fmtbank.todo) c;

-- @query todo
SELECT t.role, t.kind, t.subject, t.todo, t.since, t.detail
FROM fmtbank.todo t
ORDER BY t.role, t.kind, t.since, t.subject;
