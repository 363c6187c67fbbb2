-- 012_result: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

CREATE OR REPLACE FUNCTION fmtbank.result_refs_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE bad record;
BEGIN
    SELECT n.id, n.donor_id, n.test_no, n.supersedes INTO bad FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM fmtbank.donor d WHERE d.id = n.donor_id)
       OR NOT EXISTS (SELECT 1 FROM fmtbank.screening_test t WHERE t.test_no = n.test_no)
       OR (n.supersedes IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM fmtbank.result r WHERE r.id = n.supersedes))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '23503',
            MESSAGE = format('result "%s" refers to a donor, test or result that does not exist',
                             bad.id),
            DETAIL = format('donor_id %s, test_no %s, supersedes %s', bad.donor_id, bad.test_no,
                            coalesce(bad.supersedes::text, 'none'));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.refuse_rekey() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = format('cannot change the key of a row of "%s": results refer to it', TG_TABLE_NAME);
END $$;

CREATE OR REPLACE FUNCTION fmtbank.result_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_notify('fmtbank_result', d.code)
    FROM (SELECT DISTINCT n.donor_id FROM new_rows n) n
    JOIN fmtbank.donor d ON d.id = n.donor_id;
    RETURN NULL;
END $$;

-- Validates the session's rows of fmtbank_stage.result_stage (text as read from the file) as a
-- set into fmtbank_stage.result_checked: the normalised row, a new result ID (time-ordered, in
-- line order: fmtbank.uuid_v7), and its problem (NULL when good). p_check_existing: refuse a
-- row identical to a result already in force (a file imported twice); corrections skip it. Writers of results are serialised by an advisory lock
-- held to commit, so that check also holds between two imports running at the same moment.
-- Not SECURITY DEFINER: it runs as the owner when called by one (application roles cannot call
-- it, nor read either table). JIT off: at 100,000 rows the planner's cost passes the JIT
-- threshold and compiling the expressions took 1.5 s of a 3 s validation.
CREATE OR REPLACE FUNCTION fmtbank.result_stage_validate(p_check_existing boolean) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    me integer := pg_catalog.pg_backend_pid();
    id_prefix text;
BEGIN
    PERFORM fmtbank.lock_wait(70640012, 'the results lock');
    id_prefix := fmtbank.uuid_v7_prefix(pg_catalog.clock_timestamp());
    DELETE FROM fmtbank_stage.result_checked c WHERE c.pid = me;
    INSERT INTO fmtbank_stage.result_checked (pid, line, id, donor_id, dcode, test_no, test_code,
                                              collected, result, value, unit, lab, reported, problem)
    WITH s AS (
        SELECT s.line, coalesce(s.donor, '') AS raw_donor,
               upper(btrim(coalesce(s.donor, ''))) AS dcode,
               coalesce(s.test, '') AS raw_test, upper(btrim(coalesce(s.test, ''))) AS tcode,
               btrim(coalesce(s.collected, '')) AS coll_raw, btrim(coalesce(s.result, '')) AS res_raw,
               nullif(btrim(coalesce(s.unit, '')), '') AS unit_raw,
               nullif(btrim(coalesce(s.lab, '')), '') AS lab
        FROM fmtbank_stage.result_stage s WHERE s.pid = me),
    -- a number as written: an optional censoring sign (<3, >100) and the number
    n AS (
        SELECT s.*, d.id AS donor_id, t.test_no, t.code AS test_code, t.kind, t.unit AS cat_unit,
               t.unit_aliases, fmtbank.iso_date(s.coll_raw) AS coll,
               substring(s.res_raw FROM '^([<>]) ?[0-9]') AS censor,
               CASE WHEN t.kind = 'numeric' AND s.res_raw ~ '^([<>] ?)?[0-9]{1,12}(\.[0-9]{1,12})?$'
                    THEN ltrim(s.res_raw, '<> ')::numeric END AS num,
               -- the factor into the test's unit: 1 for its unit or an alias, else an equivalence
               -- (none looked up for a qualitative test or a missing unit: they are not used)
               CASE WHEN t.kind IS DISTINCT FROM 'numeric' OR s.unit_raw IS NULL THEN NULL
                    WHEN lower(s.unit_raw) = lower(t.unit) OR lower(s.unit_raw) = ANY (t.unit_aliases)
                    THEN 1
                    ELSE (SELECT e.factor FROM fmtbank.unit_equivalence e
                          WHERE e.from_unit = lower(s.unit_raw) AND e.to_unit = lower(t.unit)) END
                   AS factor,
               -- a qualitative result: the word itself, or the test's wording, or a general one
               CASE WHEN t.kind IS DISTINCT FROM 'qualitative' THEN NULL
                    WHEN lower(s.res_raw) IN ('negative', 'positive', 'indeterminate') THEN lower(s.res_raw)
                    ELSE (SELECT w.result FROM fmtbank.result_wording w
                          WHERE w.wording = lower(s.res_raw) AND (w.test = t.code OR w.test IS NULL)
                          ORDER BY w.test NULLS LAST LIMIT 1) END AS word
        FROM s
        LEFT JOIN fmtbank.donor d ON d.code = s.dcode
        -- the test's definition in force now (140), or, for a test retired or not yet in force,
        -- its first one: a lab may still report it, and the result is kept
        LEFT JOIN (SELECT x.code, x.test_no, coalesce(f.kind, x.kind) AS kind,
                          coalesce(f.unit, x.unit) AS unit,
                          coalesce(f.unit_aliases, x.unit_aliases) AS unit_aliases
                   FROM fmtbank.screening_test x
                   LEFT JOIN fmtbank.screening_test_at(clock_timestamp()) f ON f.code = x.code) t
               ON t.code = s.tcode),
    j AS (
        SELECT n.*, trim_scale(n.num * n.factor) AS val,
               CASE WHEN n.kind = 'qualitative' THEN coalesce(n.word, lower(n.res_raw))
                    WHEN n.num IS NOT NULL AND (n.censor IS NOT NULL OR n.factor <> 1)
                      THEN coalesce(n.censor, '') || trim_scale(n.num * n.factor)::text
                    ELSE n.res_raw END AS res
        FROM n),
    -- the donors' collection days of the file that already have results: only their lines are
    -- looked up one by one below (a new day's 65 lines cost one probe, not 65). Probed in
    -- fmtbank.result_day, which has a row for every day with a result (kept by the triggers in
    -- the results' own transaction, ENABLE ALWAYS; this runs under the results lock, after every
    -- earlier writer committed): its small primary key, not the donor's whole range of
    -- result_donor_test (donor, test, day), whose pages a 100,000-line file read from disk
    -- (0.34 s of 1.2 s).
    seen AS (
        SELECT d.donor_id, d.coll
        FROM (SELECT DISTINCT n.donor_id, n.coll FROM n WHERE p_check_existing) d
        WHERE EXISTS (SELECT 1 FROM fmtbank.result_day r
                      WHERE r.donor_id = d.donor_id AND r.collected = d.coll)),
    k AS (
        SELECT j.*, o.donor_id IS NOT NULL AS seen_day,
               min(j.line) OVER (PARTITION BY j.donor_id, j.test_no, j.coll, j.res, j.lab) AS first_line
        FROM j LEFT JOIN seen o ON o.donor_id = j.donor_id AND o.coll = j.coll)
    SELECT me, k.line, fmtbank.uuid_v7(id_prefix, k.line), k.donor_id, k.dcode, k.test_no, k.test_code,
           k.coll, k.res, k.val, CASE WHEN k.kind = 'numeric' THEN k.cat_unit END, k.lab,
           CASE WHEN k.res IS DISTINCT FROM k.res_raw
                  OR (k.kind = 'numeric' AND k.unit_raw IS DISTINCT FROM k.cat_unit)
                THEN concat_ws(' ', k.res_raw, k.unit_raw) END,
           CASE
             WHEN k.donor_id IS NULL
                  AND k.dcode !~ (SELECT value FROM fmtbank.site_setting WHERE name = 'donor_code_pattern')
               THEN format('invalid donor code "%s"', k.raw_donor)
             WHEN k.donor_id IS NULL THEN format('donor "%s" not found', k.dcode)
             WHEN k.test_no IS NULL THEN format('unknown test "%s"', k.raw_test)
             WHEN k.coll IS NULL
               THEN format('invalid collected date "%s" (use YYYY-MM-DD)', k.coll_raw)
             WHEN k.coll > current_date THEN format('collected date %s is in the future', k.coll)
             WHEN k.kind = 'qualitative' AND k.res NOT IN ('negative', 'positive', 'indeterminate')
               THEN format('result "%s" for test "%s" must be negative, positive or indeterminate (or a wording of "fmtbank catalog wordings")',
                           k.res_raw, k.test_code)
             WHEN k.kind = 'qualitative' AND k.unit_raw IS NOT NULL
               THEN format('test "%s" is qualitative: its unit must be empty, not "%s"',
                           k.test_code, k.unit_raw)
             WHEN k.kind = 'numeric' AND k.num IS NULL
               THEN format('result "%s" for test "%s" is not a number (in %s; a bound such as <3 or >100 is one)',
                           k.res_raw, k.test_code, k.cat_unit)
             WHEN k.kind = 'numeric' AND k.unit_raw IS NULL
               THEN format('unit missing for test "%s" (expected %s)', k.test_code, k.cat_unit)
             WHEN k.kind = 'numeric' AND k.factor IS NULL
               THEN format('wrong unit "%s" for test "%s" (expected %s or a unit of "fmtbank catalog wordings")',
                           k.unit_raw, k.test_code, k.cat_unit)
             WHEN length(k.lab) > 200 THEN 'lab name is longer than 200 characters'
             WHEN k.first_line < k.line THEN format('same result as line %s', k.first_line)
             WHEN k.seen_day AND EXISTS (
                    SELECT 1 FROM fmtbank.result r
                    WHERE r.donor_id = k.donor_id AND r.test_no = k.test_no
                      AND r.collected = k.coll AND r.result = k.res
                      AND r.lab IS NOT DISTINCT FROM k.lab AND r.superseded_at IS NULL)
               THEN format('already recorded: %s %s collected %s for donor "%s"', k.test_code,
                           k.res, k.coll, k.dcode)
           END
    FROM k;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.result_import_stage() RETURNS TABLE (line bigint, message text, id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t timestamptz;
    me integer := pg_catalog.pg_backend_pid();
BEGIN
    PERFORM fmtbank.require_role('importing results', 'technician', 'quality', 'admin');
    -- The planner's row count of this backend's staged rows: without it the stage looks empty
    -- (its statistics are from some other moment) and the validation joins the catalog once per
    -- row in a nested loop (100,000 rows: 5.9 s instead of 2.4 s of CPU). One column, under the
    -- results lock (so two imports never analyze at once), inside this transaction.
    PERFORM fmtbank.lock_wait(70640012, 'the results lock');
    ANALYZE fmtbank_stage.result_stage (pid);
    PERFORM fmtbank.result_stage_validate(true);
    RETURN QUERY SELECT c.line, c.problem, NULL::uuid FROM fmtbank_stage.result_checked c
                 WHERE c.pid = me AND c.problem IS NOT NULL ORDER BY c.line;
    IF NOT FOUND THEN
        t := pg_catalog.clock_timestamp();
        INSERT INTO fmtbank.result (id, donor_id, test_no, collected, result, value, unit, lab,
                                    reported, recorded_at)
        SELECT c.id, c.donor_id, c.test_no, c.collected, c.result, c.value, c.unit, c.lab, c.reported, t
        FROM fmtbank_stage.result_checked c WHERE c.pid = me ORDER BY c.line;
        RETURN QUERY SELECT c.line, NULL::text, c.id FROM fmtbank_stage.result_checked c
                     WHERE c.pid = me ORDER BY c.line;
    END IF;
    DELETE FROM fmtbank_stage.result_stage s WHERE s.pid = me;
    DELETE FROM fmtbank_stage.result_checked c WHERE c.pid = me;
END $$;

-- Stages one row as an import of one line would, validates it, and raises its problem. Clears
-- the backend's stage first (a result add is not part of an import).
CREATE OR REPLACE FUNCTION fmtbank.result_validate_one(p_code text, p_test text, p_collected text,
                                                       p_result text, p_unit text, p_lab text,
                                                       p_check_existing boolean,
                                                       OUT id uuid, OUT donor_id uuid,
                                                       OUT test_no smallint, OUT collected date,
                                                       OUT result text, OUT value numeric,
                                                       OUT unit text, OUT lab text,
                                                       OUT reported text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    problem text;
    me integer := pg_catalog.pg_backend_pid();
BEGIN
    DELETE FROM fmtbank_stage.result_stage s WHERE s.pid = me;
    INSERT INTO fmtbank_stage.result_stage (pid, line, donor, test, collected, result, unit, lab)
    VALUES (me, 1, p_code, p_test, p_collected, p_result, p_unit, p_lab);
    PERFORM fmtbank.result_stage_validate(p_check_existing);
    SELECT c.problem, c.id, c.donor_id, c.test_no, c.collected, c.result, c.value, c.unit, c.lab,
           c.reported
    INTO problem, id, donor_id, test_no, collected, result, value, unit, lab, reported
    FROM fmtbank_stage.result_checked c WHERE c.pid = me;
    DELETE FROM fmtbank_stage.result_stage s WHERE s.pid = me;
    DELETE FROM fmtbank_stage.result_checked c WHERE c.pid = me;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = CASE WHEN problem LIKE 'already recorded%' THEN 'FB003'
                                             ELSE 'FB001' END,
            MESSAGE = problem;
    END IF;
END $$;

-- "fmtbank result add": one result; returns its id.
-- p_specimen: the aliquot tested (NULL: none named); the donor's, collected on its lot's day.
CREATE OR REPLACE FUNCTION fmtbank.result_add(p_code text, p_test text, p_collected text, p_result text,
                                   p_unit text, p_lab text, p_specimen text DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
    a fmtbank.aliquot;
    l fmtbank.lot;
    d fmtbank.donor;
BEGIN
    PERFORM fmtbank.require_role('recording results', 'technician', 'quality', 'admin');
    d := fmtbank.donor_get(p_code);
    v := fmtbank.result_validate_one(p_code, p_test, p_collected, p_result, p_unit, p_lab, true);
    IF p_specimen IS NOT NULL THEN
        a := fmtbank.aliquot_get(p_specimen);
        SELECT * INTO l FROM fmtbank.lot x WHERE x.id = a.lot;
        IF l.donor_id <> d.id THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('specimen %s is not donor %s''s (lot %s)', a.aliquot_id, d.code, l.lot_id);
        END IF;
        IF l.collected_at::date <> v.collected THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('specimen %s was collected on %s with lot %s, not on %s', a.aliquot_id,
                                 l.collected_at::date, l.lot_id, v.collected),
                HINT = 'Give --collected as the day the specimen was collected.';
        END IF;
    END IF;
    INSERT INTO fmtbank.result (id, donor_id, test_no, collected, result, value, unit, lab, reported,
                                specimen)
    VALUES (v.id, v.donor_id, v.test_no, v.collected, v.result, v.value, v.unit, v.lab, v.reported, a.id);
    RETURN v.id;
END $$;

-- "fmtbank result correct": a new version of a result (same donor, test, collection date and
-- lab) that supersedes it, with the reason; returns the new id.
CREATE OR REPLACE FUNCTION fmtbank.result_correct(p_id text, p_result text, p_unit text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rid uuid;
    r fmtbank.result;
    nxt uuid;
    why text;
    v record;
    t timestamptz;
BEGIN
    PERFORM fmtbank.require_role('correcting results', 'technician', 'quality', 'admin');
    IF p_id IS NULL OR btrim(p_id) !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid result ID "%s"', coalesce(p_id, '')),
            HINT = 'Result IDs are UUIDs, as "fmtbank result list CODE" shows them.';
    END IF;
    rid := btrim(p_id)::uuid;
    SELECT * INTO r FROM fmtbank.result WHERE id = rid FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('result "%s" not found', p_id);
    END IF;
    IF r.superseded_at IS NOT NULL THEN
        SELECT x.id INTO nxt FROM fmtbank.result x WHERE x.supersedes = rid;
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('result "%s" was already corrected', rid),
            HINT = format('Correct its newest version, "%s".', nxt);
    END IF;
    why := fmtbank.acting_reason(true, 'correcting a result');
    v := fmtbank.result_validate_one((SELECT code FROM fmtbank.donor WHERE donor.id = r.donor_id),
                                     (SELECT code FROM fmtbank.screening_test s WHERE s.test_no = r.test_no),
                                     r.collected::text, p_result, coalesce(p_unit, r.unit), r.lab,
                                     false);
    IF v.result = r.result AND v.unit IS NOT DISTINCT FROM r.unit
       AND v.value IS NOT DISTINCT FROM r.value THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('the correction does not change result "%s"', rid),
            DETAIL = format('It is already %s.', concat_ws(' ', r.result, r.unit));
    END IF;
    t := clock_timestamp();
    UPDATE fmtbank.result SET superseded_at = t WHERE id = rid;
    INSERT INTO fmtbank.result (id, donor_id, test_no, collected, result, value, unit, lab,
                                reported, recorded_at, supersedes, reason)
    VALUES (v.id, r.donor_id, r.test_no, r.collected, v.result, v.value, v.unit, r.lab, v.reported,
            t, rid, why);
    RETURN v.id;
END $$;

-- Results in force at p_at (recorded by then, not superseded by a correction recorded by then),
-- judged by the rule set in force then; one donor or, with p_donor_id NULL, all.
CREATE OR REPLACE FUNCTION fmtbank.result_effective_at(p_at timestamptz, p_donor_id uuid DEFAULT NULL)
RETURNS TABLE (id uuid, donor_id uuid, donor text, test text, test_no smallint, collected date,
               result text, value numeric, unit text, lab text, recorded_at timestamptz,
               recorded_by text, supersedes uuid, acceptable boolean, outcome text,
               excludes_permanently boolean)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.id, r.donor_id, d.code, t.code, r.test_no, r.collected, r.result, r.value, r.unit,
           r.lab, r.recorded_at, r.recorded_by, r.supersedes, a.ok,
           CASE WHEN a.ok THEN 'acceptable' WHEN r.result = 'indeterminate' THEN 'indeterminate'
                WHEN r.value IS NOT NULL THEN 'out_of_limit' ELSE 'positive' END,
           NOT a.ok AND r.result <> 'indeterminate' AND t.excludes_permanently
    FROM fmtbank.result r
    JOIN fmtbank.donor d ON d.id = r.donor_id
    JOIN fmtbank.screening_test_at(p_at) t ON t.test_no = r.test_no
    CROSS JOIN LATERAL (SELECT fmtbank.result_acceptable(r.result, r.value, t.accept_op,
                                                         t.accept_limit) AS ok) a
    WHERE r.recorded_at <= p_at AND (r.superseded_at IS NULL OR r.superseded_at > p_at)
      AND (p_donor_id IS NULL OR r.donor_id = p_donor_id)
$$;

-- The results in force now, judged by the rules in force now (a view, so filters on donor_id or
-- test push down to the indexes). outcome: acceptable, positive, indeterminate or out_of_limit;
-- excludes_permanently: this result excludes the donor for good.
CREATE OR REPLACE VIEW fmtbank.result_effective AS
    SELECT r.id, r.donor_id, d.code AS donor, t.code AS test, r.test_no, r.collected, r.result,
           r.value, r.unit, r.lab, r.recorded_at, r.recorded_by, r.supersedes, a.ok AS acceptable,
           CASE WHEN a.ok THEN 'acceptable' WHEN r.result = 'indeterminate' THEN 'indeterminate'
                WHEN r.value IS NOT NULL THEN 'out_of_limit' ELSE 'positive' END AS outcome,
           NOT a.ok AND r.result <> 'indeterminate' AND t.excludes_permanently
               AS excludes_permanently
    FROM fmtbank.result r
    JOIN fmtbank.donor d ON d.id = r.donor_id
    JOIN fmtbank.test_catalog t ON t.test_no = r.test_no
    CROSS JOIN LATERAL (SELECT fmtbank.result_acceptable(r.result, r.value, t.accept_op,
                                                         t.accept_limit) AS ok) a
    WHERE r.superseded_at IS NULL;

-- Every version of every result, for "fmtbank result list".
CREATE OR REPLACE VIEW fmtbank.result_list AS
    SELECT r.id, d.code AS donor, t.code AS test, r.collected, r.result, r.unit, r.lab,
           r.recorded_at, r.recorded_by, r.superseded_at IS NOT NULL AS superseded,
           (SELECT c.id FROM fmtbank.result c WHERE c.supersedes = r.id) AS superseded_by,
           r.supersedes, r.reason,
           fmtbank.result_acceptable(r.result, r.value, t.accept_op, t.accept_limit) AS acceptable,
           r.donor_id, r.test_no
    FROM fmtbank.result r
    JOIN fmtbank.donor d ON d.id = r.donor_id
    JOIN fmtbank.test_catalog t ON t.test_no = r.test_no;

-- The results of each donor and collection day in one row (schema/240_result_day.sql), for the
-- eligibility engine (013): result_day_of computes the rows of the given (donor, day) keys from
-- fmtbank.result; result_day_refresh stores them (every day when p_donor is NULL). Concurrent
-- writers of the same day: each creates or locks the day's row first (in key order; a second
-- writer waits for the first one's row) and only then computes the day, in a statement whose
-- snapshot follows the lock, so the last writer to commit has counted every row committed
-- before it. Not granted: they run from the trigger below
-- (SECURITY DEFINER) and from the code set.
-- What one result adds to its day's row: its bit when it is a current "negative" without a
-- value (NULL otherwise: bit_or skips it), and its time (recorded or superseded; 'infinity' for
-- a "negative" with a value). Shared by result_day_of and the new days of result_day_mark.
CREATE OR REPLACE FUNCTION fmtbank.result_day_bit(p_zero varbit, p_test_no smallint, p_result text,
                                                  p_value numeric, p_superseded_at timestamptz)
RETURNS varbit LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p_superseded_at IS NULL AND p_result = 'negative' AND p_value IS NULL
            THEN pg_catalog.set_bit(p_zero, p_test_no, 1) END;

CREATE OR REPLACE FUNCTION fmtbank.result_day_stamp(p_result text, p_value numeric,
                                                    p_recorded_at timestamptz,
                                                    p_superseded_at timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p_result = 'negative' AND p_value IS NOT NULL THEN 'infinity'::timestamptz
            ELSE greatest(p_recorded_at, p_superseded_at) END;

-- A day's row: every test_no's bit, from a zero as long as the catalog's highest test_no + 1.
-- One row, in FROM (a call in a select list would be made once per result).
CREATE OR REPLACE FUNCTION fmtbank.result_day_zero() RETURNS TABLE (zero varbit) LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT repeat('0', max(t.test_no) + 1)::varbit FROM fmtbank.screening_test t;
END;

CREATE OR REPLACE FUNCTION fmtbank.result_day_of(p_donor uuid[], p_day date[])
RETURNS SETOF fmtbank.result_day LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT r.donor_id, r.collected,
           coalesce(bit_or(fmtbank.result_day_bit(z.zero, r.test_no, r.result, r.value,
                                                  r.superseded_at)), B''),
           max(fmtbank.result_day_stamp(r.result, r.value, r.recorded_at, r.superseded_at))
    FROM fmtbank.result r
    CROSS JOIN fmtbank.result_day_zero() z
    WHERE (r.donor_id, r.collected) IN (SELECT k.d, k.c FROM unnest(p_donor, p_day) k(d, c))
    GROUP BY r.donor_id, r.collected, z.zero;
END;

-- (The keys are created or locked first, without reading the results, then each day is computed
-- once; EXECUTE: planned for each call with the keys at hand, a few days or every day.)
CREATE OR REPLACE FUNCTION fmtbank.result_day_refresh(p_donor uuid[], p_day date[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
    IF p_donor IS NULL THEN
        SELECT array_agg(k.donor_id), array_agg(k.collected) INTO p_donor, p_day
        FROM (SELECT DISTINCT r.donor_id, r.collected FROM fmtbank.result r) k;
    END IF;
    INSERT INTO fmtbank.result_day (donor_id, collected, negative, changed_at)
    SELECT k.d, k.c, B'', '-infinity' FROM unnest(p_donor, p_day) k(d, c) ORDER BY k.d, k.c
    ON CONFLICT (donor_id, collected) DO NOTHING;
    PERFORM 1 FROM fmtbank.result_day x JOIN unnest(p_donor, p_day) k(d, c)
        ON x.donor_id = k.d AND x.collected = k.c
    ORDER BY x.donor_id, x.collected FOR UPDATE OF x;
    EXECUTE $q$
        UPDATE fmtbank.result_day x SET negative = n.negative, changed_at = n.changed_at
        FROM fmtbank.result_day_of($1, $2) n
        WHERE x.donor_id = n.donor_id AND x.collected = n.collected
    $q$ USING p_donor, p_day;
END $$;

-- the days of the inserted or updated results (and, for an update, of the rows as they were)
CREATE OR REPLACE FUNCTION fmtbank.result_day_mark() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE d uuid[]; c date[];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(k.donor_id), array_agg(k.collected) INTO d, c
        FROM (SELECT n.donor_id, n.collected FROM new_rows n
              UNION SELECT o.donor_id, o.collected FROM old_rows o) k;
    ELSE
        -- A day without a row has no committed results but these (its row is made in the
        -- transaction of its first results; a concurrent first writer makes this INSERT wait
        -- and then conflict): its row is computed from the inserted rows, not read back from
        -- fmtbank.result. Days that have a row are refreshed as before.
        WITH fresh AS (
            INSERT INTO fmtbank.result_day (donor_id, collected, negative, changed_at)
            SELECT n.donor_id, n.collected,
                   coalesce(bit_or(fmtbank.result_day_bit(z.zero, n.test_no, n.result, n.value,
                                                          n.superseded_at)), B''),
                   max(fmtbank.result_day_stamp(n.result, n.value, n.recorded_at, n.superseded_at))
            FROM new_rows n CROSS JOIN fmtbank.result_day_zero() z
            GROUP BY n.donor_id, n.collected, z.zero ORDER BY n.donor_id, n.collected
            ON CONFLICT (donor_id, collected) DO NOTHING
            RETURNING donor_id, collected)
        SELECT array_agg(k.donor_id), array_agg(k.collected) INTO d, c
        FROM (SELECT DISTINCT n.donor_id, n.collected FROM new_rows n) k
        WHERE NOT EXISTS (SELECT 1 FROM fresh f
                          WHERE f.donor_id = k.donor_id AND f.collected = k.collected);
    END IF;
    IF d IS NOT NULL THEN
        PERFORM fmtbank.result_day_refresh(d, c);
    END IF;
    RETURN NULL;
END $$;

-- Filled here when empty while results exist: the first code set after migration 240.
SELECT fmtbank.result_day_refresh(NULL, NULL)
WHERE NOT EXISTS (SELECT 1 FROM fmtbank.result_day) AND EXISTS (SELECT 1 FROM fmtbank.result);

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

-- not granted (owner only): result_refs_check, refuse_rekey, result_notify, result_stage_validate, result_validate_one,
-- result_day_bit, result_day_stamp, result_day_zero, result_day_of, result_day_refresh, result_day_mark

GRANT EXECUTE ON FUNCTION
    fmtbank.result_import_stage(),
    fmtbank.result_add(text, text, text, text, text, text, text),
    fmtbank.result_correct(text, text, text),
    fmtbank.result_effective_at(timestamp with time zone, uuid)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT SELECT ON fmtbank.result_effective, fmtbank.result_list
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
