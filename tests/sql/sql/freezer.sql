-- freezer.sql: freezer temperature (product.md §11.3). Readings refused or accepted; the
-- excursion rule at every boundary (30 vs 31 min above the limit, 60 vs 61 min gap, the trailing
-- gap, the grace), each excursion recorded once with its case; the storage hold of an excursion
-- (one row per case and lot: exactly the tubes that were in the freezer during the window, also
-- those that left or arrived during it, never one that left before or arrived after; held
-- wherever they move); hard stops on held tubes for every caller; the reading import; todo.
-- Times print as minutes after a base time (m) so that the expected output holds on any day.
-- freezer_judge judges every freezer; each scenario has its own base a day before the last one's,
-- so that a later scenario's judging time is before the earlier freezers' readings (a reading
-- after the cutoff waits) and finds no trailing gap in them.
CREATE TEMP TABLE k AS SELECT date_trunc('hour', now()) - interval '3 days' AS base;
CREATE FUNCTION pg_temp.m(n integer) RETURNS timestamptz LANGUAGE sql AS $$
    SELECT base + make_interval(mins => n) FROM k
$$;
CREATE FUNCTION pg_temp.mm(t timestamptz) RETURNS integer LANGUAGE sql AS $$
    SELECT (extract(epoch FROM t - base) / 60)::integer FROM k
$$;
CREATE FUNCTION pg_temp.fid(p_name text) RETURNS text LANGUAGE sql AS $$
    SELECT freezer_id FROM fmtbank.freezer WHERE name = p_name
$$;
-- readings(freezer name, 'minute:temp ...')
CREATE FUNCTION pg_temp.readings(p_name text, p_list text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(fmtbank.freezer_reading_add(pg_temp.fid(p_name),
                                                  pg_temp.m(split_part(x, ':', 1)::integer)::text,
                                                  split_part(x, ':', 2)), ',')
    FROM unnest(regexp_split_to_array(p_list, '\s+')) x
$$;
-- excursions(freezer name): kind from-to (minutes) max, case opened
CREATE FUNCTION pg_temp.excursions(p_name text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(format('%s %s-%s max %s limit %s%s', e.kind, pg_temp.mm(e.from_at),
                                      pg_temp.mm(e.to_at), coalesce(e.max_temp_c::text, '-'),
                                      e.limit_c, CASE WHEN c.id IS NOT NULL THEN ' case ' || c.source END),
                               '; ' ORDER BY e.from_at, e.kind), '-')
    FROM fmtbank.freezer_excursion e JOIN fmtbank.freezer f ON f.id = e.freezer
    LEFT JOIN fmtbank.safety_case c ON c.id = e.case_id WHERE f.name = p_name
$$;
-- masked(text): freezer IDs as F#, timestamps as TS
CREATE FUNCTION pg_temp.masked(p text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(regexp_replace(p, 'F[0-9]{4}[0-9A-Z*]', 'F#', 'g'),
                          '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(:[0-9]{2})?(\.[0-9]+)?([+-][0-9]{2})?', 'TS', 'g')
$$;
SELECT pg_temp.as_reason('freezers for the excursion tests');
SELECT fmtbank.freezer_add(n, '-80', NULL) IS NOT NULL AS added
FROM unnest(ARRAY['FA', 'FB', 'FC', 'FG', 'FT', 'FU']) n;

-- Tubes: two lots of 4 and 2 doses, numbered 1-6 (the retained samples are never placed); where each tube was (FA is the freezer that warms up, FU another).
SELECT pg_temp.donor('D-3001');
CREATE TEMP TABLE lt AS SELECT pg_temp.lot('D-3001', 10, 4) AS lot_id UNION ALL SELECT pg_temp.lot('D-3001', 9, 2);
CREATE TEMP TABLE t AS
SELECT a.id, (row_number() OVER (ORDER BY l.lot_id, a.idx))::integer AS idx, a.aliquot_id, l.lot_id
FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
WHERE l.lot_id IN (SELECT lot_id FROM lt) AND NOT a.retained;
CREATE TEMP TABLE bx0 AS
SELECT f.name, fmtbank.box_add(f.freezer_id, 'R1', '9', '9') AS box_id
FROM fmtbank.freezer f WHERE f.name IN ('FA', 'FU');
CREATE TEMP TABLE bx AS SELECT bx0.name, fmtbank.box_get(bx0.box_id) AS b FROM bx0;
CREATE FUNCTION pg_temp.place(p_idx integer, p_freezer text, p_at integer, p_kind text DEFAULT 'place')
RETURNS integer LANGUAGE sql AS $$
    INSERT INTO fmtbank.custody_event (aliquot, kind, box, prow, pcol, at)
    SELECT t.id, p_kind, (bx.b).id, 1, p_idx::smallint, pg_temp.m(p_at)
    FROM t, bx WHERE t.idx = p_idx AND bx.name = p_freezer
    RETURNING 1
$$;
SELECT pg_temp.place(1, 'FA', -1440)                                  -- stays in FA: held
     + pg_temp.place(2, 'FA', -1440) + pg_temp.place(2, 'FU', 30, 'move') -- left before: not held
     + pg_temp.place(3, 'FU', -1440) + pg_temp.place(3, 'FA', 75, 'move') -- arrived during: held
     + pg_temp.place(4, 'FA', -1440) + pg_temp.place(4, 'FU', 70, 'move') -- left during: held
     + pg_temp.place(5, 'FU', -1440) + pg_temp.place(5, 'FA', 100, 'move') -- arrived after: not held
     + pg_temp.place(6, 'FA', -1440) + pg_temp.place(6, 'FU', 91, 'move') -- left at the last reading: held
     AS custody_events;

-- Above the limit (-80 + 20 = -60): 30 minutes is not an excursion, 31 is; judged only once the
-- reading that ends it is older than the grace (120 min).
SELECT pg_temp.readings('FA', '0:-80 10:-55 40:-70 50:-80 60:-50 70:-45 80:-58 91:-75') AS fa;
SELECT fmtbank.freezer_judge(pg_temp.m(91 + 120) - interval '1 second') AS within_grace,
       pg_temp.excursions('FA') AS fa;
SELECT fmtbank.freezer_judge(pg_temp.m(91 + 120)) AS after_grace, pg_temp.excursions('FA') AS fa;
SELECT fmtbank.freezer_judge(pg_temp.m(91 + 120)) AS again, fmtbank.freezer_judge(pg_temp.m(91 + 150)) AS later;

-- The case: scope the freezer in the window, one hold row per lot: tubes 1, 3, 4 and 6.
SELECT c.source, c.scope_kind, pg_temp.mm(c.scope_from) AS scope_from, pg_temp.mm(c.scope_to) AS scope_to,
       pg_temp.masked(c.reason) AS reason
FROM fmtbank.safety_case c JOIN fmtbank.freezer_excursion e ON e.case_id = c.id
JOIN fmtbank.freezer f ON f.id = e.freezer WHERE f.name = 'FA';
SELECT (SELECT array_agg(t.idx ORDER BY t.idx) FROM t WHERE t.id = ANY (h.aliquots)) AS tubes
FROM fmtbank.case_hold h JOIN fmtbank.freezer_excursion e ON e.case_id = h.case_id
JOIN fmtbank.freezer f ON f.id = e.freezer JOIN fmtbank.lot l ON l.id = h.lot
WHERE f.name = 'FA' ORDER BY l.lot_id;
SELECT t.idx, fmtbank.holds_of(a.lot, a.id) <> '[]' AS held, v.held AS view_held,
       (SELECT bx.name FROM bx WHERE (bx.b).id = (SELECT e.box FROM fmtbank.custody_event e
                                                  WHERE e.aliquot = t.id ORDER BY e.at DESC LIMIT 1)) AS now_in
FROM t JOIN fmtbank.aliquot a ON a.id = t.id JOIN fmtbank.aliquot_view v ON v.id = t.aliquot_id
ORDER BY t.idx;
-- the lot is held for release (releasing it would release its held tubes)
SELECT pg_temp.lot_rules(l.lot_id) LIKE '%hold%' AS lot_blocked_by_hold
FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id WHERE d.code = 'D-3001' ORDER BY l.lot_id;
SELECT x.lots_held, x.tubes_held FROM fmtbank.case_list x
JOIN fmtbank.safety_case c ON c.case_code = x."case" JOIN fmtbank.freezer_excursion e ON e.case_id = c.id;

-- Hard stops for every caller (a superuser's UPDATE too): a tube held by a storage hold is not
-- issued, discarded or released, wherever it is now (tube 4 moved to FU during the excursion).
SELECT pg_temp.try(format('UPDATE fmtbank.aliquot SET status = %L WHERE id = %L', s, (SELECT id FROM t WHERE idx = 4))) AS tube4
FROM unnest(ARRAY['issued', 'discarded', 'released']) s;
SELECT pg_temp.try(format('SELECT fmtbank.aliquot_discard(%L)', (SELECT aliquot_id FROM t WHERE idx = 4))) AS discard_command;
SELECT pg_temp.try(format('UPDATE fmtbank.aliquot SET status = ''released'' WHERE id = %L', (SELECT id FROM t WHERE idx = 5))) AS tube5_not_held;

-- Still above when found (a day earlier): recorded with the span known then (10 to 41), not again when it ends.
UPDATE k SET base = base - interval '1 day';
SELECT pg_temp.readings('FC', '0:-80 10:-50 41:-50') AS fc;
SELECT fmtbank.freezer_judge(pg_temp.m(41 + 120)) AS found, pg_temp.excursions('FC') AS fc;
SELECT pg_temp.readings('FC', '50:-80') AS fc_back;
SELECT fmtbank.freezer_judge(pg_temp.m(50 + 120)) AS nothing_new, pg_temp.excursions('FC') AS fc;
-- a freezer with no tube in it: the case holds nothing
SELECT x.lots_held, x.tubes_held FROM fmtbank.case_list x
JOIN fmtbank.safety_case c ON c.case_code = x."case" JOIN fmtbank.freezer_excursion e ON e.case_id = c.id
JOIN fmtbank.freezer f ON f.id = e.freezer WHERE f.name = 'FC';

-- Gaps between readings: 60 minutes is not one, 61 is.
UPDATE k SET base = base - interval '1 day';
SELECT pg_temp.readings('FG', '0:-80 60:-80 121:-80') AS fg;
SELECT fmtbank.freezer_judge(pg_temp.m(121 + 120)) AS judged, pg_temp.excursions('FG') AS fg;
-- The trailing gap: no reading for 60 minutes before the cutoff is not one, 61 is; the reading
-- that ends it later is the same gap.
UPDATE k SET base = base - interval '1 day';
SELECT pg_temp.readings('FT', '0:-80') AS ft;
SELECT fmtbank.freezer_judge(pg_temp.m(60 + 120)) AS at_60, pg_temp.excursions('FT') AS ft;
SELECT fmtbank.freezer_judge(pg_temp.m(61 + 120)) AS at_61, pg_temp.excursions('FT') AS ft;
SELECT pg_temp.readings('FT', '100:-80 150:-80 180:-80') AS ft_later;
SELECT fmtbank.freezer_judge(pg_temp.m(180 + 120)) AS same_gap, pg_temp.excursions('FT') AS ft;
-- The boundaries above are the shipped rule parameters:
SELECT name, value FROM fmtbank.rule_params_at()
WHERE name IN ('excursion_margin_c', 'excursion_max_minutes', 'reading_gap_minutes', 'reading_grace_minutes')
ORDER BY name;
-- Freezers without readings are not monitored: never a gap.
SELECT pg_temp.excursions('FU') AS fu;

-- Readings: refused with a clear message (nothing stored), the same reading twice accepted once.
SELECT pg_temp.masked(pg_temp.try(format('SELECT fmtbank.freezer_reading_add(%L, %L, %L)', pg_temp.fid('FB'), x.at, x.temp))) AS refused
FROM (VALUES ((now() + interval '1 hour')::text, '-80'), (pg_temp.m(0)::text, '-250'),
             (pg_temp.m(0)::text, '70'), (pg_temp.m(0)::text, 'cold'), ('yesterday', '-80')) x(at, temp);
SELECT pg_temp.try('SELECT fmtbank.freezer_reading_add(''no such freezer'', ''2026-01-01'', ''-80'')') AS unknown;
SELECT pg_temp.readings('FB', '0:-80') AS first, pg_temp.readings('FB', '0:-80') AS again;
SELECT pg_temp.masked(pg_temp.try(format('SELECT fmtbank.freezer_reading_add(%L, %L, ''-79'')', pg_temp.fid('FB'), pg_temp.m(0)))) AS other_temp;
SELECT count(*) AS fb_readings FROM fmtbank.freezer_reading r JOIN fmtbank.freezer f ON f.id = r.freezer WHERE f.name = 'FB';

-- The inbox format freezer,at,temp_c: every bad line named and nothing stored; then a good file
-- stores its readings once (a line repeating a recorded reading stores nothing).
SELECT fmtbank.reading_import_begin();
INSERT INTO fmtbank_stage.reading_stage (line, freezer, at, temp_c)
VALUES (2, pg_temp.fid('FU'), pg_temp.m(0)::text, '-80'), (3, 'FU', pg_temp.m(10)::text, '-79.5'),
       (4, 'nowhere', pg_temp.m(20)::text, '-80'), (5, pg_temp.fid('FU'), 'soon', '-80'),
       (6, pg_temp.fid('FU'), pg_temp.m(30)::text, '-300'), (7, pg_temp.fid('FU'), pg_temp.m(0)::text, '-80'),
       (8, pg_temp.fid('FB'), pg_temp.m(0)::text, '-70');
SELECT line, pg_temp.masked(message) AS message, id FROM fmtbank.reading_import_stage();
SELECT count(*) AS fu_readings FROM fmtbank.freezer_reading r JOIN fmtbank.freezer f ON f.id = r.freezer WHERE f.name = 'FU';
SELECT fmtbank.reading_import_begin();
INSERT INTO fmtbank_stage.reading_stage (line, freezer, at, temp_c)
VALUES (2, pg_temp.fid('FU'), pg_temp.m(0)::text, '-80'), (3, 'FU', pg_temp.m(10)::text, '-79.5'),
       (4, pg_temp.fid('FB'), pg_temp.m(0)::text, '-80');
SELECT line, message, id IS NOT NULL AS stored FROM fmtbank.reading_import_stage();
SELECT r.source, count(*) FROM fmtbank.freezer_reading r JOIN fmtbank.freezer f ON f.id = r.freezer
WHERE f.name IN ('FU', 'FB') GROUP BY 1 ORDER BY 1;

-- A caller's own temporary table named like the function's working table (a trigger on it could
-- rewrite the checked rows) makes the import fail; nothing is stored.
CREATE TEMP TABLE reading_checked (line bigint, freezer uuid, fid text, at timestamptz,
                                   temp_c numeric, same numeric, problem text);
SELECT fmtbank.reading_import_begin();
INSERT INTO fmtbank_stage.reading_stage (line, freezer, at, temp_c)
VALUES (2, pg_temp.fid('FU'), pg_temp.m(40)::text, '-300');
SELECT pg_temp.try('SELECT * FROM fmtbank.reading_import_stage()') AS shadowed;
DROP TABLE reading_checked;
SELECT count(*) AS fu_readings FROM fmtbank.freezer_reading r JOIN fmtbank.freezer f ON f.id = r.freezer WHERE f.name = 'FU';

-- freezer show: limit, monitored, the window's readings, excursions and cases.
SELECT s.name, s.temp_c, s.limit_c, s.monitored, jsonb_array_length(s.readings) AS readings,
       jsonb_array_length(s.excursions) AS excursions, jsonb_array_length(s.cases) AS cases
FROM fmtbank.freezer f, fmtbank.freezer_show(f.freezer_id, (SELECT base - interval '1 day' FROM k)::text,
                                             (SELECT base + interval '4 days' FROM k)::text) s
WHERE f.name IN ('FA', 'FB', 'FC', 'FG', 'FT', 'FU') ORDER BY 1;
SELECT pg_temp.try(format('SELECT fmtbank.freezer_show(%L, %L, %L)', pg_temp.fid('FA'), pg_temp.m(10), pg_temp.m(0))) AS reversed;

-- todo: a freezer holding released stock without readings; open cases; a withdrawn signal.
SELECT pg_temp.donor('D-3002');
CREATE TEMP TABLE lt2 AS SELECT pg_temp.lot('D-3002', 10, 2) AS lot_id;
CREATE TEMP TABLE t2 AS
SELECT a.id FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
WHERE l.lot_id = (SELECT lot_id FROM lt2) AND a.idx = 1;
SELECT fmtbank.freezer_add('FN', '-80', NULL) IS NOT NULL AS fn_added;
CREATE TEMP TABLE bn AS SELECT fmtbank.box_add(pg_temp.fid('FN'), 'R1', '2', '2') AS box_id;
UPDATE fmtbank.placement p SET aliquot = (SELECT id FROM t2), placed_at = now()
FROM fmtbank.box b WHERE b.box_id = (SELECT box_id FROM bn) AND p.box = b.id AND p.prow = 1 AND p.pcol = 1;
UPDATE fmtbank.aliquot SET status = 'released' WHERE id = (SELECT id FROM t2);
SELECT kind, regexp_replace(regexp_replace(subject, 'F[0-9]{4}[0-9A-Z*]', 'F#'), 'C[0-9]{8}[0-9A-Z*]', 'C#') AS subject,
       regexp_replace(regexp_replace(todo, 'F[0-9]{4}[0-9A-Z*]', 'F#'), 'C[0-9]{8}[0-9A-Z*]', 'C#', 'g') AS todo
FROM fmtbank.todo WHERE kind = 'unmonitored_freezer' OR subject IN (SELECT case_code FROM fmtbank.safety_case c
                                                                     WHERE c.source = 'excursion')
ORDER BY kind, since;
UPDATE fmtbank.safety_case SET withdrawn_at = now(), withdrawn_reason = 'sensor fault confirmed'
WHERE id = (SELECT e.case_id FROM fmtbank.freezer_excursion e JOIN fmtbank.freezer f ON f.id = e.freezer WHERE f.name = 'FG');
SELECT kind, detail FROM fmtbank.todo WHERE kind = 'signal_withdrawn';
-- a reading makes FN monitored: off the list
SELECT pg_temp.readings('FN', '0:-80') AS fn;
SELECT count(*) AS unmonitored FROM fmtbank.todo WHERE kind = 'unmonitored_freezer' AND detail LIKE '"FN"%';
