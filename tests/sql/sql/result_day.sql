-- result_day.sql: the day rows of schema/240_result_day.sql (one row per donor and collection
-- day, kept by triggers) and the engines that read them (eligibility 013, readiness 031 through
-- fmtbank.result_ok_days). After every step of a series of changes (panels, values, a positive,
-- a correction, a "negative" with a value, rows written with the other triggers off) the day rows
-- equal a recomputation from the results (stale_days(): expected 0), and every evaluation, now
-- and at each earlier moment marked, equals the one that reads every result instead of the day
-- rows (paths_differ(): expected 0); a day row changes when its day does, and an evaluation as
-- of a moment before a correction still sees the result it corrected.

-- stale_days(): day rows that differ from a recomputation from the results, or are missing
CREATE FUNCTION pg_temp.stale_days() RETURNS bigint LANGUAGE sql AS $$
    WITH k AS (SELECT array_agg(x.donor_id) AS d, array_agg(x.collected) AS c
               FROM (SELECT DISTINCT donor_id, collected FROM fmtbank.result) x),
    f AS (SELECT n.* FROM k CROSS JOIN LATERAL fmtbank.result_day_of(k.d, k.c) n)
    SELECT count(*)
    FROM ((TABLE fmtbank.result_day EXCEPT ALL TABLE f) UNION ALL
          (TABLE f EXCEPT ALL TABLE fmtbank.result_day)) x
$$;
-- paths_differ(at): eligibility rows (every rule, passes included) and readiness rules at p_at
-- through the day rows, against the same with every day row marked changed (the path that reads
-- the results themselves), undone afterwards
CREATE FUNCTION pg_temp.paths_differ(p_at timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    CREATE TEMP TABLE e1 AS SELECT * FROM fmtbank.eligibility_rules(p_at, NULL);
    CREATE TEMP TABLE r1 AS SELECT * FROM fmtbank.lot_check_at(p_at);
    BEGIN
        UPDATE fmtbank.result_day SET changed_at = 'infinity';
        CREATE TEMP TABLE e2 AS SELECT * FROM fmtbank.eligibility_rules(p_at, NULL);
        CREATE TEMP TABLE r2 AS SELECT * FROM fmtbank.lot_check_at(p_at);
        SELECT (SELECT count(*) FROM ((TABLE e1 EXCEPT ALL TABLE e2) UNION ALL
                                      (TABLE e2 EXCEPT ALL TABLE e1)) x)
             + (SELECT count(*) FROM ((TABLE r1 EXCEPT ALL TABLE r2) UNION ALL
                                      (TABLE r2 EXCEPT ALL TABLE r1)) x)
        INTO n;
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'undo';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    DROP TABLE e1, r1;
    RETURN n;
END $$;
-- status(code, at): the donor's eligibility at that moment
CREATE FUNCTION pg_temp.status(p_code text, p_at timestamptz DEFAULT clock_timestamp()) RETURNS text
LANGUAGE sql AS $$
    SELECT e.status FROM fmtbank.donor_eligibility_at(p_at) e WHERE e.code = p_code
$$;
-- day(code, collected): the day row, as "tests negative / changed"
CREATE FUNCTION pg_temp.day(p_code text, p_day date) RETURNS text LANGUAGE sql AS $$
    SELECT format('%s negative, changed %s', length(replace(x.negative::text, '0', '')),
                  CASE WHEN x.changed_at = 'infinity' THEN 'never read here'
                       WHEN x.changed_at > clock_timestamp() - interval '1 hour' THEN 'now'
                       ELSE 'before' END)
    FROM fmtbank.result_day x JOIN fmtbank.donor d ON d.id = x.donor_id
    WHERE d.code = p_code AND x.collected = p_day
$$;
CREATE TEMP TABLE m (k text PRIMARY KEY, at timestamptz);
CREATE FUNCTION pg_temp.mark(p_k text) RETURNS integer LANGUAGE sql AS $$
    INSERT INTO m VALUES (p_k, clock_timestamp());
    SELECT 1
$$;

-- Two donors with panels (38 negatives and two values each) and a lot each.
SELECT pg_temp.donor('D-2401'), pg_temp.donor('D-2402');
SELECT pg_temp.full_q('D-2401', current_date - 5), pg_temp.full_q('D-2402', current_date - 5);
SELECT pg_temp.panel('D-2401', current_date - 40), pg_temp.panel('D-2401', current_date - 10),
       pg_temp.panel('D-2402', current_date - 10, ARRAY['CRP']);
SELECT count(*) AS lots FROM (SELECT pg_temp.lot('D-2401', 30), pg_temp.lot('D-2402', 30)) x;
SELECT pg_temp.day('D-2401', current_date - 10) AS panel_day, pg_temp.stale_days() AS stale;
SELECT pg_temp.status('D-2401') AS d2401, pg_temp.status('D-2402') AS d2402_no_crp;
SELECT pg_temp.mark('1 panels');

-- A value outside its limit, then a positive, through "result add": the day row keeps its
-- negatives, the engines read the others through result_not_negative.
SELECT pg_temp.result('D-2402', 'CRP', current_date - 9, '12', 'mg/L');
SELECT pg_temp.result('D-2401', 'NORO', current_date - 8, 'positive');
SELECT pg_temp.day('D-2401', current_date - 8) AS positive_day, pg_temp.stale_days() AS stale;
SELECT pg_temp.status('D-2401') AS d2401, pg_temp.status('D-2402') AS d2402_crp_high;
SELECT pg_temp.mark('2 values');

-- A correction: the negative HIV of the recent panel becomes positive. The day row loses that
-- test and is marked changed now; as of before, the negative still counts.
SELECT pg_temp.as_reason('lab corrected the report');
SELECT fmtbank.result_correct(r.id::text, 'positive', NULL) IS NOT NULL AS corrected
FROM fmtbank.result r JOIN fmtbank.donor d ON d.id = r.donor_id
JOIN fmtbank.screening_test t ON t.test_no = r.test_no
WHERE d.code = 'D-2402' AND t.code = 'HIV' AND r.collected = current_date - 10;
SELECT pg_temp.day('D-2402', current_date - 10) AS corrected_day, pg_temp.stale_days() AS stale;
SELECT pg_temp.status('D-2402') AS now, pg_temp.status('D-2402', (SELECT at FROM m WHERE k = '2 values')) AS before;
SELECT pg_temp.mark('3 corrected');

-- A "negative" with a value (a superuser's row: the functions never write one) makes its day
-- one the engines always read from the results; rows written with the other triggers off
-- (session_replication_role = replica, as the benchmark generators do) still reach the day rows.
INSERT INTO fmtbank.result (donor_id, test_no, collected, result, value, unit, lab)
SELECT d.id, t.test_no, current_date - 3, 'negative', 2, 'mg/L', 'Lab A'
FROM fmtbank.donor d, fmtbank.screening_test t WHERE d.code = 'D-2402' AND t.code = 'CRP';
SELECT pg_temp.day('D-2402', current_date - 3) AS odd_day;
SET LOCAL session_replication_role = replica;
SELECT pg_temp.panel('D-2402', current_date - 2);
RESET session_replication_role;
SELECT pg_temp.day('D-2402', current_date - 2) AS replica_day, pg_temp.stale_days() AS stale;
SELECT pg_temp.mark('4 odd rows');

-- Both paths agree now and at every moment marked.
SELECT 'now' AS k, pg_temp.paths_differ(clock_timestamp()) AS differ
UNION ALL
SELECT k, pg_temp.paths_differ(at) FROM m ORDER BY k;
