-- audit_verify.sql: "audit verify" has a fast path (the server module's C loop,
-- fmtbank.audit_chain_raw, 190) and the plain SQL definition (fmtbank.audit_verify_sql); both must
-- give the same record on an intact chain, on awkward but legitimate rows (escapes, unicode,
-- numbers, nested JSON, NULL columns, far timestamps) and on every kind of tampering, for the
-- whole trail and for id ranges (each range chains from the stored hash before it). Row ids vary
-- with the demo data, so they are printed relative to the row changed.
SELECT to_regprocedure('fmtbank.audit_chain_raw(bigint,bigint)') IS NOT NULL AS fast_path_loaded;

-- Appends one row to the trail, chained as the audit trigger (audit_stmt) does.
CREATE FUNCTION pg_temp.append(p_at timestamptz, p_who text, p_op text, p_key text, p_old jsonb,
                               p_new jsonb, p_reason text) RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO fmtbank.audit_log (id, at, who, tbl, op, key, old_row, new_row, reason, hash)
    SELECT n.id, p_at, p_who, 'sqltest', p_op, p_key, p_old, p_new, p_reason,
           sha256(coalesce((SELECT hash FROM fmtbank.audit_log ORDER BY id DESC LIMIT 1), '\x')
                  || convert_to(fmtbank.audit_content(n.id, p_at, p_who, 'sqltest', p_op, p_key,
                                                      p_old, p_new, p_reason), 'UTF8'))
    FROM (SELECT nextval('fmtbank.audit_log_id_seq') AS id) n
    RETURNING id
$$;

-- Both answers for a range, side by side; first_broken relative to p_mark.
CREATE FUNCTION pg_temp.both(p_case text, p_mark bigint, p_after bigint DEFAULT NULL,
                             p_upto bigint DEFAULT NULL)
RETURNS TABLE (case_ text, sql_ok boolean, fast_ok boolean, sql_broken text, fast_broken text,
               agree boolean) LANGUAGE sql AS $$
    SELECT p_case, s.ok, f.ok,
           coalesce('row ' || to_char(s.first_broken - p_mark, 'SG9999FM'), '-'),
           coalesce('row ' || to_char(f.first_broken - p_mark, 'SG9999FM'), '-'),
           (s.ok, s.rows_checked, s.first_broken, s.last_id)
               IS NOT DISTINCT FROM (f.ok, f.rows_checked, f.first_broken, f.last_id)
    FROM fmtbank.audit_verify_sql(p_after, p_upto) s, fmtbank.audit_chain_raw(p_after, p_upto) f
$$;

-- Legitimate rows that exercise every part of the content text.
-- m.before: the first appended row (their ids follow each other; the sequence may be ahead of
-- the trail, past ids of rolled-back transactions).
CREATE TEMP TABLE m AS SELECT min(x.id) AS before, count(*) AS appended FROM (
    SELECT pg_temp.append('2026-11-27 08:30:00.000001+00', 'alice', 'INSERT', 'K-1', NULL,
                          '{"s": "quote \" backslash \\ tab \t nl \n ctl \u0001 é ß 漢 😀", "n": 1.50,
                            "neg": -0, "big": 1e30, "small": 0.000000000000000001, "t": true,
                            "f": false, "z": null, "a": [1, [2, {"x": []}], {}], "": "",
                            "end": "tail\n", "only": "\\", "both": "\"x\"", "ctl": "\u001e\u001f"}', NULL)
    UNION ALL
    SELECT pg_temp.append('2026-11-27 08:30:00+00', 'bob', 'UPDATE', NULL, '{"a": 1}', '{"a": 2}',
                          'reason with é and ' || chr(31) || ' the separator')
    UNION ALL SELECT pg_temp.append('0099-01-02 03:04:05.5+00', 'carol', 'DELETE', '', '[]', NULL, '')
    UNION ALL SELECT pg_temp.append('12000-06-01 00:00:00+00', 'dave', 'INSERT', 'k', NULL, '"str"', NULL)
    UNION ALL SELECT pg_temp.append('0044-03-15 12:00:00+00 BC', 'eve', 'INSERT', 'k', NULL, '3', NULL)
    UNION ALL SELECT pg_temp.append('infinity', 'fay', 'INSERT', 'k', NULL, '[null]', NULL)
    UNION ALL SELECT pg_temp.append('-infinity', 'gil', 'INSERT', 'k', NULL, '{}', NULL)
    UNION ALL SELECT pg_temp.append(clock_timestamp(), 'hal', 'INSERT', 'k', NULL, '{"last": 1}', NULL)
    UNION ALL SELECT pg_temp.append(clock_timestamp(), 'ida', 'UPDATE', 'k\"ey',
                                    '{"k\"ey": {"a": [true, false, null, {"b": "\b\f\r\u001f\u007f \\\" /"}]}, "e": "", "x": [[]], "y": [{}, {"z": {"w": [1, [2, [3]]]}}]}',
                                    '"\u001fraw string"', NULL)
    UNION ALL SELECT pg_temp.append(clock_timestamp(), 'jo', 'INSERT', 'k', 'true', 'null', NULL)
    UNION ALL SELECT pg_temp.append(clock_timestamp(), 'kim', 'INSERT', 'k', '-1.5e-3', '[]', NULL)
    UNION ALL SELECT pg_temp.append(clock_timestamp(), 'lou', 'INSERT', 'k', '{}', '12345678901234567890.000100', NULL)
) x(id);
SELECT appended FROM m;
SELECT * FROM pg_temp.both('intact, whole trail', (SELECT before FROM m));
SELECT * FROM pg_temp.both('intact, appended rows only', (SELECT before FROM m), (SELECT before - 1 FROM m));
SELECT * FROM pg_temp.both('intact, one row', (SELECT before FROM m), (SELECT before + 2 FROM m), (SELECT before + 3 FROM m));
SELECT * FROM pg_temp.both('empty range', (SELECT before FROM m), (SELECT before + 100 FROM m), (SELECT before + 200 FROM m));
SELECT (SELECT row(ok, rows_checked, first_broken, last_id)::text FROM fmtbank.audit_verify())
       = (SELECT row(ok, rows_checked, first_broken, last_id)::text FROM fmtbank.audit_verify_sql(NULL, NULL))
       AS audit_verify_is_the_sql_answer;

-- Tampering (as a superuser who turned the append-only trigger off), one change at a time.
ALTER TABLE fmtbank.audit_log DISABLE TRIGGER append_only;
ALTER TABLE fmtbank.audit_log ALTER COLUMN hash DROP NOT NULL;
-- Makes one change (p_change, %s = the id of appended row p_row; NULL: the last row before
-- them), takes the verdicts of both
-- paths on the whole trail and on the ranges before and from the changed row, and undoes it.
CREATE FUNCTION pg_temp.try(p_case text, p_change text, p_row integer)
RETURNS TABLE (case_ text, sql_ok boolean, fast_ok boolean, sql_broken text, fast_broken text,
               agree boolean, range_before_ok boolean, range_from_agree boolean)
LANGUAGE plpgsql AS $$
DECLARE r bigint := coalesce((SELECT before FROM m) + p_row,
                             (SELECT max(id) FROM fmtbank.audit_log WHERE id < (SELECT before FROM m)));
BEGIN
    BEGIN
        EXECUTE format(p_change, r);
        SELECT b.case_, b.sql_ok, b.fast_ok, b.sql_broken, b.fast_broken, b.agree
        INTO case_, sql_ok, fast_ok, sql_broken, fast_broken, agree
        FROM pg_temp.both(p_case, r) b;
        SELECT s.ok AND f.ok INTO range_before_ok
        FROM fmtbank.audit_verify_sql(NULL, r - 1) s, fmtbank.audit_chain_raw(NULL, r - 1) f;
        SELECT c.agree INTO range_from_agree FROM pg_temp.both('', r, r - 1, NULL) c;
        RAISE EXCEPTION USING ERRCODE = 'P0004', MESSAGE = 'undo';
    EXCEPTION WHEN assert_failure THEN
        NULL;  -- the change is rolled back; the verdicts stay in the variables
    END;
    RETURN NEXT;
END $$;
SELECT * FROM pg_temp.try('JSON value', 'UPDATE fmtbank.audit_log SET new_row = jsonb_set(new_row, ''{n}'', ''1.5'') WHERE id = %s', 0);
SELECT * FROM pg_temp.try('JSON string, one character', 'UPDATE fmtbank.audit_log SET new_row = jsonb_set(new_row, ''{s}'', to_jsonb(replace(new_row ->> ''s'', ''é'', ''e''))) WHERE id = %s', 0);
SELECT * FROM pg_temp.try('JSON key added', 'UPDATE fmtbank.audit_log SET old_row = old_row || ''{"b": 1}'' WHERE id = %s', 1);
SELECT * FROM pg_temp.try('old row removed', 'UPDATE fmtbank.audit_log SET old_row = NULL WHERE id = %s', 1);
SELECT * FROM pg_temp.try('time, one microsecond', 'UPDATE fmtbank.audit_log SET at = at + interval ''1 microsecond'' WHERE id = %s', 0);
SELECT * FROM pg_temp.try('time, far year', 'UPDATE fmtbank.audit_log SET at = at + interval ''1 year'' WHERE id = %s', 3);
SELECT * FROM pg_temp.try('time, BC year', 'UPDATE fmtbank.audit_log SET at = at - interval ''1 day'' WHERE id = %s', 4);
SELECT * FROM pg_temp.try('time, infinity to a date', 'UPDATE fmtbank.audit_log SET at = ''2026-01-01'' WHERE id = %s', 5);
SELECT * FROM pg_temp.try('time, infinity to -infinity (both give no text: not a change)', 'UPDATE fmtbank.audit_log SET at = ''-infinity'' WHERE id = %s', 5);
SELECT * FROM pg_temp.try('who', 'UPDATE fmtbank.audit_log SET who = ''mallory'' WHERE id = %s', 2);
SELECT * FROM pg_temp.try('table', 'UPDATE fmtbank.audit_log SET tbl = ''donor'' WHERE id = %s', 2);
SELECT * FROM pg_temp.try('operation', 'UPDATE fmtbank.audit_log SET op = ''UPDATE'' WHERE id = %s', 2);
SELECT * FROM pg_temp.try('key', 'UPDATE fmtbank.audit_log SET key = ''K-2'' WHERE id = %s', 0);
SELECT * FROM pg_temp.try('reason', 'UPDATE fmtbank.audit_log SET reason = ''other'' WHERE id = %s', 1);
SELECT * FROM pg_temp.try('reason NULL for empty (the same text: not a change)', 'UPDATE fmtbank.audit_log SET reason = NULL WHERE id = %s', 2);
SELECT * FROM pg_temp.try('row removed', 'DELETE FROM fmtbank.audit_log WHERE id = %s', 3);
SELECT * FROM pg_temp.try('row copied to the end', 'INSERT INTO fmtbank.audit_log (id, at, who, tbl, op, key, new_row, hash) SELECT id + 1000, at, who, tbl, op, key, new_row, hash FROM fmtbank.audit_log WHERE id = %s', 3);
SELECT * FROM pg_temp.try('hash replaced', 'UPDATE fmtbank.audit_log SET hash = sha256(hash) WHERE id = %s', 2);
SELECT * FROM pg_temp.try('hash shortened', 'UPDATE fmtbank.audit_log SET hash = ''\x01'' WHERE id = %s', 2);
SELECT * FROM pg_temp.try('hash NULL', 'UPDATE fmtbank.audit_log SET hash = NULL WHERE id = %s', 2);
SELECT * FROM pg_temp.try('a later row', 'UPDATE fmtbank.audit_log SET new_row = ''{"last": 2}'' WHERE id = %s', 7);
SELECT * FROM pg_temp.try('nested JSON, one escaped character', 'UPDATE fmtbank.audit_log SET old_row = jsonb_set(old_row, ARRAY[''k"ey'', ''a'', ''3'', ''b''], to_jsonb(replace(old_row #>> ARRAY[''k"ey'', ''a'', ''3'', ''b''], chr(31), chr(30)))) WHERE id = %s', 8);
SELECT * FROM pg_temp.try('raw JSON scalar', 'UPDATE fmtbank.audit_log SET new_row = ''"raw string"'' WHERE id = %s', 8);
SELECT * FROM pg_temp.try('JSON number, same value', 'UPDATE fmtbank.audit_log SET new_row = ''12345678901234567890.0001'' WHERE id = %s', 11);
SELECT * FROM pg_temp.try('a demo row before the appended ones', 'UPDATE fmtbank.audit_log SET who = who || ''x'' WHERE id = %s', NULL);

-- The chain aggregate's C step gives the PL/pgSQL step's value, NULLs included.
SELECT fmtbank.hash_chain_step_raw(NULL, '\x01', 'é') = fmtbank.hash_chain_step(NULL, '\x01', 'é') AS seed,
       fmtbank.hash_chain_step_raw('\x02', '\x01', 'a' || chr(31)) = fmtbank.hash_chain_step('\x02', '\x01', 'a' || chr(31)) AS state,
       fmtbank.hash_chain_step_raw('\x02', NULL, '') = fmtbank.hash_chain_step('\x02', NULL, '') AS empty,
       fmtbank.hash_chain_step_raw(NULL, NULL, 'a') IS NULL AND fmtbank.hash_chain_step(NULL, NULL, 'a') IS NULL AS no_left,
       fmtbank.hash_chain_step_raw('\x02', '\x01', NULL) IS NULL AND fmtbank.hash_chain_step('\x02', '\x01', NULL) IS NULL AS no_content;
SELECT p.proname AS hash_chain_step_in_use FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggtransfn
WHERE a.aggfnoid = 'fmtbank.hash_chain(bytea, text)'::regprocedure;
-- The audit trigger chains with fmtbank.audit_chain, whose C step (340) builds the content text
-- itself: the SQL step's value (hash_chain_step of audit_content) on every awkward row above, from
-- a state and from a seed, and with the NULLs concat_ws leaves out (id, at, who, tbl, op; an
-- infinite at), and NULL without state and seed.
SELECT bool_and(fmtbank.audit_chain_step_raw('\x02', NULL, a.id, a.at, a.who, a.tbl, a.op, a.key,
                                             a.old_row, a.new_row, a.reason)
                = fmtbank.audit_chain_step('\x02', NULL, a.id, a.at, a.who, a.tbl, a.op, a.key,
                                           a.old_row, a.new_row, a.reason)) AS from_state,
       bool_and(fmtbank.audit_chain_step_raw(NULL, '\x01', a.id, a.at, a.who, a.tbl, a.op, a.key,
                                             a.old_row, a.new_row, a.reason)
                = fmtbank.audit_chain_step(NULL, '\x01', a.id, a.at, a.who, a.tbl, a.op, a.key,
                                           a.old_row, a.new_row, a.reason)) AS from_seed,
       bool_and(fmtbank.audit_chain_step_raw(NULL, '\x01', NULL, a.at, NULL, a.tbl, NULL, NULL,
                                             NULL, NULL, NULL)
                = fmtbank.audit_chain_step(NULL, '\x01', NULL, a.at, NULL, a.tbl, NULL, NULL,
                                           NULL, NULL, NULL)) AS nulls_left_out,
       count(*) AS rows_compared
FROM fmtbank.audit_log a WHERE a.id >= (SELECT before FROM m);
SELECT fmtbank.audit_chain_step_raw(NULL, NULL, 1, now(), 'a', 'b', 'c', 'd', NULL, NULL, 'e') IS NULL
       AND fmtbank.audit_chain_step(NULL, NULL, 1, now(), 'a', 'b', 'c', 'd', NULL, NULL, 'e') IS NULL
       AS no_left,
       fmtbank.audit_chain_step_raw('\x02', NULL, NULL, 'infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL)
       = fmtbank.audit_chain_step('\x02', NULL, NULL, 'infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL)
       AS nothing_but_the_empty_columns;
SELECT p.proname AS audit_chain_step_in_use FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggtransfn
WHERE a.aggfnoid = 'fmtbank.audit_chain(bytea, bigint, timestamptz, text, text, text, text, jsonb, jsonb, text)'::regprocedure;
-- The rows' JSON in the audit trail is fmtbank.row_jsonb_raw's (340): to_jsonb's value, the same
-- bytes of text, on rows of every table of the schema and on awkward values; only a row.
SELECT prosrc ~ 'to_regproc\(.fmtbank\.row_jsonb_raw.\)' AS audit_stmt_uses_row_jsonb_raw
FROM pg_proc WHERE oid = 'fmtbank.audit_stmt()'::regprocedure;
CREATE TEMP TABLE js_diff (tbl text, compared bigint, differ bigint);
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS t FROM pg_class c
             WHERE c.relnamespace = 'fmtbank'::regnamespace AND c.relkind = 'r' ORDER BY c.relname LOOP
        EXECUTE format('INSERT INTO js_diff SELECT %L, count(*), count(*) FILTER (WHERE '
                       'fmtbank.row_jsonb_raw(x)::text IS DISTINCT FROM to_jsonb(x)::text '
                       'OR fmtbank.row_jsonb_raw(x) IS DISTINCT FROM to_jsonb(x)) '
                       'FROM (SELECT * FROM %s LIMIT 2000) x', r.t, r.t);
    END LOOP;
END $$;
SELECT count(*) > 40 AS tables, sum(compared) > 100 AS rows_compared, sum(differ) AS differ FROM js_diff;
CREATE DOMAIN pg_temp.pos AS numeric CHECK (VALUE > 0);
CREATE TYPE pg_temp.pair AS (a integer, b text);
SELECT fmtbank.row_jsonb_raw(x)::text = to_jsonb(x)::text AND fmtbank.row_jsonb_raw(x) = to_jsonb(x) AS same,
       fmtbank.row_jsonb_raw(x)::text
FROM (SELECT 'NaN'::numeric a, '-Infinity'::float8 b, 1.50::numeric c, 32767::int2 d, true e,
             NULL::text f, 'infinity'::timestamptz g, '2020-01-01'::date h, ARRAY[1, 2] i,
             '{"x": [1, {"y": null}]}'::jsonb j, '"s"'::jsonb k, '{"a": 1, "a": 2}'::json l,
             ROW(1, 'x')::pg_temp.pair m, E'\u00e9"\\ \t' n, 1e30::float4 o, '10:00'::time p,
             '1 day'::interval q, '\x01'::bytea r, 'a'::varchar(3) s,
             '2020-01-01 10:00'::timestamp t, 12345678901234567890.000100::numeric u,
             2.5::pg_temp.pos v, '0.1'::float8 w, 'Infinity'::numeric xx, -0.0::numeric y,
             ARRAY['{"a": [1]}'::jsonb] z, 9223372036854775807::int8 aa, 'D'::"char" ab,
             'b'::name ac, 12345::oid ad) x;
SELECT fmtbank.row_jsonb_raw(NULL::fmtbank.donor) IS NULL AS null_row;
SELECT fmtbank.row_jsonb_raw(1);
-- An UPDATE of several rows: one audit row per row, its old and new values paired by key, the
-- ids in key order (audit_stmt sorts the pairs once), chained like any other.
SELECT pg_temp.donor('D-4713'), pg_temp.donor('D-4711'), pg_temp.donor('D-4712');
CREATE TEMP TABLE m2 AS SELECT max(id) AS before FROM fmtbank.audit_log;
UPDATE fmtbank.donor SET birth_year = birth_year - (right(code, 1)::integer)
WHERE code IN ('D-4712', 'D-4713', 'D-4711');
SELECT string_agg(key, ',' ORDER BY id) AS keys_in_order,
       bool_and(old_row ->> 'code' = key AND new_row ->> 'code' = key) AS paired,
       bool_and((old_row ->> 'birth_year')::integer - (new_row ->> 'birth_year')::integer
                = right(key, 1)::integer) AS old_and_new_of_the_same_row
FROM fmtbank.audit_log WHERE id > (SELECT before FROM m2) AND tbl = 'donor';
SELECT ok, first_broken FROM fmtbank.audit_verify_sql((SELECT before FROM m2), NULL);
-- Both paths of the audit trigger write the same rows: statements of more than 1,000 rows (one
-- INSERT straight from the transition tables) and of up to 1,000 (audit_write's static
-- statements, plans kept). The same 1,001 rows inserted into big_a by one statement and into big_b
-- by two, then updated the same way: the same keys and JSON, audit_write called for big_b's
-- statements only, the big UPDATE's ids in key order with old and new values paired, every link
-- holding.
SET track_functions = 'pl';
CREATE SCHEMA scratch;
CREATE TABLE scratch.big_a (k text PRIMARY KEY, v integer NOT NULL, note text);
CREATE TABLE scratch.big_b (LIKE scratch.big_a INCLUDING ALL);
SELECT fmtbank.audit_enable('scratch.big_a', 'k'), fmtbank.audit_enable('scratch.big_b', 'k');
CREATE TEMP TABLE m3 AS SELECT max(id) AS before FROM fmtbank.audit_log;
CREATE FUNCTION pg_temp.writer_calls() RETURNS bigint LANGUAGE sql AS $$
    SELECT coalesce(sum(calls), 0) FROM pg_stat_get_xact_function_calls('fmtbank.audit_write(text,text,text,boolean,jsonb[],jsonb[])'::regprocedure) calls
$$;
CREATE TEMP TABLE calls AS SELECT 'start' AS at, pg_temp.writer_calls() AS n;
INSERT INTO scratch.big_a SELECT 'k' || lpad(i::text, 5, '0'), i, 'x' || i FROM generate_series(1001, 1, -1) i;
INSERT INTO calls SELECT 'big insert', pg_temp.writer_calls();
INSERT INTO scratch.big_b SELECT 'k' || lpad(i::text, 5, '0'), i, 'x' || i FROM generate_series(1001, 2, -1) i;
INSERT INTO scratch.big_b VALUES ('k00001', 1, 'x1');
INSERT INTO calls SELECT 'two small inserts', pg_temp.writer_calls();
UPDATE scratch.big_a SET v = v + 1, note = NULL;
INSERT INTO calls SELECT 'big update', pg_temp.writer_calls();
UPDATE scratch.big_b SET v = v + 1, note = NULL WHERE k <= 'k01000';
UPDATE scratch.big_b SET v = v + 1, note = NULL WHERE k > 'k01000';
INSERT INTO calls SELECT 'two small updates', pg_temp.writer_calls();
SELECT at, n - lag(n) OVER (ORDER BY ctid) AS audit_write_calls FROM calls ORDER BY ctid OFFSET 1;
CREATE TEMP TABLE big AS
SELECT tbl, op, key, old_row, new_row, id FROM fmtbank.audit_log
WHERE id > (SELECT before FROM m3) AND tbl IN ('big_a', 'big_b');
SELECT op, count(*) FILTER (WHERE tbl = 'big_a') AS big_a, count(*) FILTER (WHERE tbl = 'big_b') AS big_b,
       (SELECT count(*) FROM (SELECT key, old_row, new_row FROM big x WHERE x.tbl = 'big_a' AND x.op = b.op
                              EXCEPT SELECT key, old_row, new_row FROM big x WHERE x.tbl = 'big_b' AND x.op = b.op) d)
       + (SELECT count(*) FROM (SELECT key, old_row, new_row FROM big x WHERE x.tbl = 'big_b' AND x.op = b.op
                                EXCEPT SELECT key, old_row, new_row FROM big x WHERE x.tbl = 'big_a' AND x.op = b.op) d)
           AS rows_differing
FROM big b GROUP BY op ORDER BY op;
SELECT bool_and(key > prev) AS big_update_in_key_order,
       bool_and(old_row ->> 'k' = key AND new_row ->> 'k' = key
                AND (new_row ->> 'v')::integer = (old_row ->> 'v')::integer + 1) AS paired
FROM (SELECT key, old_row, new_row, lag(key) OVER (ORDER BY id) AS prev FROM big
      WHERE tbl = 'big_a' AND op = 'UPDATE') x WHERE prev IS NOT NULL;
SELECT string_agg(key, ',' ORDER BY id) FILTER (WHERE rn <= 3) AS big_insert_first_keys
FROM (SELECT key, id, row_number() OVER (ORDER BY id) AS rn FROM big WHERE tbl = 'big_a' AND op = 'INSERT') x;
SELECT ok, first_broken FROM fmtbank.audit_verify_sql((SELECT before FROM m3), NULL);
-- Writes chained by the C step verify by the SQL definition, and writes chained by the SQL step
-- (audit_content, hash_chain_step) verify by the C loop.
SELECT pg_temp.donor('D-4701');
SELECT ok, first_broken, rows_checked > 0 AS rows_checked FROM fmtbank.audit_verify_sql((SELECT before + 11 FROM m), NULL);
CREATE OR REPLACE AGGREGATE fmtbank.audit_chain(bytea, bigint, timestamptz, text, text, text, text, jsonb, jsonb, text)
    (SFUNC = fmtbank.audit_chain_step, STYPE = bytea);
SELECT pg_temp.donor('D-4702');
SELECT ok, first_broken, rows_checked > 0 AS rows_checked FROM fmtbank.audit_chain_raw((SELECT before + 11 FROM m), NULL);
-- An instance without the module: audit_verify() gives the SQL definition's answer.
DROP FUNCTION fmtbank.audit_chain_raw(bigint, bigint);
SELECT ok, first_broken FROM fmtbank.audit_verify();
SELECT (SELECT row(ok, rows_checked, first_broken, last_id)::text FROM fmtbank.audit_verify())
       = (SELECT row(ok, rows_checked, first_broken, last_id)::text FROM fmtbank.audit_verify_sql(NULL, NULL))
       AS without_module_same_answer;
UPDATE fmtbank.audit_log SET who = who || 'x' WHERE id = (SELECT max(id) FROM fmtbank.audit_log);
SELECT ok, first_broken = (SELECT max(id) FROM fmtbank.audit_log) AS at_the_changed_row FROM fmtbank.audit_verify();
