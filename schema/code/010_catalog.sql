-- 010_catalog: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

CREATE OR REPLACE FUNCTION fmtbank.rule_set_version_at(p_at timestamptz) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT max(version) FROM fmtbank.rule_set WHERE effective_from <= p_at
$$;

-- Every parameter with the value in force at p_at and the version that set it.
CREATE OR REPLACE FUNCTION fmtbank.rule_params_at(p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (name text, value numeric, unit text, set_in_version integer, set_from timestamptz,
               description text, source text, sort_order integer, rule_set_version integer)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT ON (v.name) v.name, v.value, p.unit, v.version, s.effective_from,
           p.description, p.source, p.sort_order, fmtbank.rule_set_version_at(p_at)
    FROM fmtbank.rule_param_value v
    JOIN fmtbank.rule_param p ON p.name = v.name
    JOIN fmtbank.rule_set s ON s.version = v.version
    WHERE v.version <= fmtbank.rule_set_version_at(p_at)
    ORDER BY v.name, v.version DESC
$$;

-- The value of one parameter in force at p_at (FB002 for an unknown name).
CREATE OR REPLACE FUNCTION fmtbank.rule_value(p_name text, p_at timestamptz DEFAULT clock_timestamp())
RETURNS numeric LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE v numeric;
BEGIN
    SELECT x.value INTO v FROM fmtbank.rule_param_value x
    WHERE x.name = p_name AND x.version <= fmtbank.rule_set_version_at(p_at)
    ORDER BY x.version DESC LIMIT 1;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT 1 FROM fmtbank.rule_param WHERE name = p_name) THEN
            RAISE EXCEPTION USING ERRCODE = 'FB002',
                MESSAGE = format('rule parameter "%s" not found', p_name),
                HINT = 'Run "fmtbank catalog rules" for the list.';
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('rule parameter "%s" had no value at %s', p_name, p_at);
    END IF;
    RETURN v;
END $$;

-- For later migrations that need a new parameter: defines it with its default as part of the
-- shipped rule set (version 1). Not for changing a value: that is rules_set.
CREATE OR REPLACE FUNCTION fmtbank.rule_param_define(p_name text, p_value numeric, p_unit text,
                                          p_min numeric, p_max numeric, p_integral boolean,
                                          p_description text, p_source text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO fmtbank.rule_param (name, unit, min_value, max_value, integral, description,
                                    source, sort_order)
    VALUES (p_name, p_unit, p_min, p_max, p_integral, p_description, p_source,
            (SELECT coalesce(max(sort_order), 0) + 10 FROM fmtbank.rule_param));
    INSERT INTO fmtbank.rule_param_value (name, version, value) VALUES (p_name, 1, p_value);
$$;

-- "fmtbank rules set": a new rule-set version, effective from now, changing one parameter.
CREATE OR REPLACE FUNCTION fmtbank.rules_set(p_name text, p_value text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p fmtbank.rule_param;
    v numeric;
    cur numeric;
    why text;
    o record;
    ver integer;
    eff timestamptz;
BEGIN
    PERFORM fmtbank.require_role('changing rule parameters', 'admin');
    SELECT * INTO p FROM fmtbank.rule_param WHERE name = btrim(p_name);
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('rule parameter "%s" not found', p_name),
            HINT = 'Run "fmtbank catalog rules" for the list.';
    END IF;
    IF p_value IS NULL OR btrim(p_value) !~ '^[0-9]{1,9}(\.[0-9]{1,6})?$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid value "%s" for rule parameter "%s"', coalesce(p_value, ''), p.name),
            HINT = 'Give a non-negative decimal number, e.g. 90 or 18.5.';
    END IF;
    v := btrim(p_value)::numeric;
    IF p.integral AND v <> trunc(v) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid value "%s" for rule parameter "%s": it must be a whole number',
                             p_value, p.name);
    END IF;
    IF v < p.min_value OR v > p.max_value THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid value "%s" for rule parameter "%s"', p_value, p.name),
            DETAIL = format('Allowed values are %s to %s %s.', p.min_value, p.max_value, p.unit);
    END IF;
    why := fmtbank.acting_reason(true, 'changing a rule parameter');
    LOCK TABLE fmtbank.rule_set IN EXCLUSIVE MODE;
    cur := fmtbank.rule_value(p.name);
    IF cur = v THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('rule parameter "%s" is already %s', p.name, cur);
    END IF;
    FOR o IN SELECT x.low, x.high FROM fmtbank.rule_param_order x
             WHERE x.low = p.name OR x.high = p.name LOOP
        IF (o.low = p.name AND v > fmtbank.rule_value(o.high))
           OR (o.high = p.name AND v < fmtbank.rule_value(o.low)) THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot set "%s" to %s: "%s" (%s) must not exceed "%s" (%s)',
                                 p.name, v, o.low,
                                 CASE WHEN o.low = p.name THEN v ELSE fmtbank.rule_value(o.low) END,
                                 o.high,
                                 CASE WHEN o.high = p.name THEN v ELSE fmtbank.rule_value(o.high) END);
        END IF;
    END LOOP;
    SELECT max(version) + 1, greatest(clock_timestamp(), max(effective_from) + interval '1 microsecond')
    INTO ver, eff FROM fmtbank.rule_set;
    INSERT INTO fmtbank.rule_set (version, effective_from, changed, reason)
    VALUES (ver, eff, p.name, why);
    INSERT INTO fmtbank.rule_param_value (name, version, value) VALUES (p.name, ver, v);
    PERFORM pg_notify('fmtbank_rules', p.name);
    RETURN ver;
END $$;

-- Every change of the rule set, newest first.
CREATE OR REPLACE VIEW fmtbank.rule_history AS
    SELECT s.version, s.effective_from, v.name, v.value,
           (SELECT w.value FROM fmtbank.rule_param_value w
            WHERE w.name = v.name AND w.version < v.version
            ORDER BY w.version DESC LIMIT 1) AS previous, s.created_by, s.reason
    FROM fmtbank.rule_set s
    JOIN fmtbank.rule_param_value v ON v.version = s.version;

-- The catalog version in force at p_at (140: the newest version, in creation order, of those
-- effective by then).
CREATE OR REPLACE FUNCTION fmtbank.catalog_version_at(p_at timestamptz) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT max(version) FROM fmtbank.catalog_version WHERE effective_from <= p_at
$$;

-- The screening tests in force at p_at with the values in force then: per test, the definition of
-- the catalog version effective last by p_at (140), unless that one retired it; accept (negative or
-- a limit such as <=5: the test's own, or its rule parameter's), the validity in days (the test's
-- own, or screen_validity_days), the required phases.
DROP FUNCTION IF EXISTS fmtbank.screening_test_at(timestamp with time zone) CASCADE;
CREATE FUNCTION fmtbank.screening_test_at(p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (code text, test_no integer, name text, specimen text, kind text, required text[],
               required_pre boolean, required_post boolean, validity_days integer, accept text,
               accept_op text, accept_limit numeric, unit text, unit_aliases text[],
               excludes_permanently boolean, source text, rule_set_version integer,
               catalog_version integer, defined_in integer)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH d AS (
        SELECT DISTINCT ON (x.code) x.*
        FROM fmtbank.screening_test_def x JOIN fmtbank.catalog_version v ON v.version = x.version
        WHERE v.effective_from <= p_at
        ORDER BY x.code, v.effective_from DESC),
    p AS (SELECT * FROM fmtbank.rule_params_at(p_at))
    SELECT d.code, t.test_no::integer, d.name, d.specimen, d.kind,
           array_remove(ARRAY[CASE WHEN d.required_pre THEN 'pre' END,
                              CASE WHEN d.required_post THEN 'post' END], NULL),
           d.required_pre, d.required_post,
           coalesce(d.validity_days, (SELECT p.value FROM p WHERE p.name = 'screen_validity_days'))::integer,
           CASE WHEN d.accept_op = 'negative' THEN 'negative'
                ELSE d.accept_op || coalesce(d.accept_limit, lim.value) END,
           d.accept_op, coalesce(d.accept_limit, lim.value), d.unit, d.unit_aliases,
           d.excludes_permanently, d.source, fmtbank.rule_set_version_at(p_at),
           fmtbank.catalog_version_at(p_at), d.version
    FROM d
    JOIN fmtbank.screening_test t ON t.code = d.code
    LEFT JOIN p lim ON lim.name = d.limit_param
    WHERE NOT d.retired
$$;

-- Whether a result is acceptable under an accept rule: the one definition (the views, the
-- lookback trigger and the set-based engines of 013 and 031 all call it). "negative" without a
-- value is acceptable; a value is acceptable when within a limit (op <= or <; equal to the limit
-- is within <= and outside <), never under a negative-only rule (op 'negative'); positive,
-- indeterminate or any other word is not. A censored number (130_wording) keeps its sign in the
-- result: "<3" (value 3, some number below 3) is within either limit L when 3 <= L; ">100" is
-- never acceptable (the number could be anything above). NULL only for a value under a NULL limit. A SQL-standard
-- body: bound when created, it gets no SET clause from the ownership policy (src/db/migrate.c),
-- so the planner inlines it into the statements that call it. Written as an OR whose first arm is
-- result = 'negative' so that the planner estimates it from the column's statistics (most results
-- are negative): an opaque CASE is estimated at a default selectivity, and the 100,000-donor
-- eligibility then loses its parallel partial aggregation.
CREATE OR REPLACE FUNCTION fmtbank.result_acceptable(p_result text, p_value numeric, p_op text, p_limit numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN p_result = 'negative' AND p_value IS NULL
       OR p_value IS NOT NULL AND left(p_result, 1) <> '>'
          AND CASE p_op WHEN '<=' THEN p_value <= p_limit
                        WHEN '<' THEN CASE WHEN left(p_result, 1) = '<' THEN p_value <= p_limit
                                           ELSE p_value < p_limit END
                        ELSE false END;

-- The catalog at p_at as vectors, the one encoding the set-based engines (eligibility 013,
-- readiness 031) read per result row without a join: arrays indexed by test_no + 1 (accept op
-- and limit for result_acceptable, code, unit, validity in days; NULL where no test in force has
-- that number) and bit strings over test_no (required pre- and post-donation, excluding
-- permanently), each as long as the highest test number + 1, so any number of tests fits
-- (set_bit(zero, test_no, 1) is one test's bit; bit n is get_bit(mask, n)), with the number of
-- tests required in each phase and the longest validity (the engines' lower bound on a
-- collection date). A type of the code set (dropped and created again whenever the set is
-- applied, with what depends on it: the functions that return it, below and in 013 and 031, and
-- the parameter types that contain it).
DROP TYPE IF EXISTS fmtbank.catalog_vectors CASCADE;
CREATE TYPE fmtbank.catalog_vectors AS (required_pre varbit, required_post varbit, n_pre integer,
                                        n_post integer, excluding varbit, ops text[],
                                        limits numeric[], codes text[], units text[],
                                        validity integer[], max_validity integer, zero varbit);

CREATE OR REPLACE FUNCTION fmtbank.catalog_vectors_at(p_at timestamptz) RETURNS fmtbank.catalog_vectors
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH w AS (SELECT repeat('0', coalesce(max(x.test_no) + 1, 1))::varbit AS zero
               FROM fmtbank.screening_test x)
    SELECT coalesce(bit_or(set_bit(w.zero, n, 1)) FILTER (WHERE t.required_pre), w.zero),
           coalesce(bit_or(set_bit(w.zero, n, 1)) FILTER (WHERE t.required_post), w.zero),
           count(*) FILTER (WHERE t.required_pre)::integer,
           count(*) FILTER (WHERE t.required_post)::integer,
           coalesce(bit_or(set_bit(w.zero, n, 1)) FILTER (WHERE t.excludes_permanently), w.zero),
           array_agg(t.accept_op ORDER BY n), array_agg(t.accept_limit ORDER BY n),
           array_agg(t.code ORDER BY n), array_agg(t.unit ORDER BY n),
           array_agg(t.validity_days ORDER BY n),
           coalesce(max(t.validity_days), fmtbank.rule_value('screen_validity_days', p_at)::integer),
           w.zero
    FROM w CROSS JOIN generate_series(0, length(w.zero) - 1) n
    LEFT JOIN fmtbank.screening_test_at(p_at) t ON t.test_no = n
    GROUP BY w.zero
$$;

-- The acceptable results per donor and collection day in [p_from, p_to] as known at p_at, as masks
-- over test_no as long as p_cat's: read from the day rows (fmtbank.result_day, 240) for the days
-- unchanged since p_at, from the results themselves for the days changed since (an evaluation
-- as of an earlier time). The day rows hold the negatives only: a caller adds the acceptable
-- results that are not "negative" (values), which it reads through the partial index
-- result_not_negative beside the unacceptable ones (013 eligibility, 031 readiness). A
-- SQL-standard body: inlined into the calling statement. p_donors NULL: every donor.
CREATE OR REPLACE FUNCTION fmtbank.result_ok_days(p_at timestamptz, p_from date, p_to date,
                                                  p_donors uuid[], p_cat fmtbank.catalog_vectors)
RETURNS TABLE (donor_id uuid, collected date, okmask varbit) LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT p.donor_id, p.collected,
           substring(p.negative || (p_cat).zero FROM 1 FOR length((p_cat).zero))
    FROM fmtbank.result_day p
    WHERE p.changed_at <= p_at AND p.collected >= p_from AND p.collected <= p_to
      AND (p_donors IS NULL OR p.donor_id = ANY (p_donors))
    UNION ALL
    SELECT r.donor_id, r.collected, set_bit((p_cat).zero, r.test_no, 1)
    FROM fmtbank.result_day p
    JOIN fmtbank.result r ON r.donor_id = p.donor_id AND r.collected = p.collected
    WHERE p.changed_at > p_at AND p.collected >= p_from AND p.collected <= p_to
      AND (p_donors IS NULL OR p.donor_id = ANY (p_donors))
      AND r.recorded_at <= p_at AND (r.superseded_at IS NULL OR r.superseded_at > p_at)
      AND fmtbank.result_acceptable(r.result, r.value, (p_cat).ops[r.test_no + 1],
                                    (p_cat).limits[r.test_no + 1]);
END;

CREATE OR REPLACE VIEW fmtbank.test_catalog AS
    SELECT * FROM fmtbank.screening_test_at(clock_timestamp());

-- The questionnaire items in force at p_at with the periods and ranges in force then: per item,
-- the definition of the catalog version effective last by p_at (140), unless that one retired
-- it; the deferral period is the item's own or its rule parameter's.
DROP FUNCTION IF EXISTS fmtbank.question_item_at(timestamp with time zone) CASCADE;
CREATE FUNCTION fmtbank.question_item_at(p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (code text, questionnaire text, type text, effect text, text text,
               defer_days integer, clear_min numeric, clear_max numeric, answer_min numeric,
               answer_max numeric, integral boolean, derived text, source text,
               sort_order integer, rule_set_version integer, lookback_days integer,
               catalog_version integer, defined_in integer)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH p AS (SELECT * FROM fmtbank.rule_params_at(p_at)),
    q AS (
        SELECT DISTINCT ON (x.code) x.*
        FROM fmtbank.question_item_def x JOIN fmtbank.catalog_version v ON v.version = x.version
        WHERE v.effective_from <= p_at
        ORDER BY x.code, v.effective_from DESC)
    SELECT q.code, q.questionnaire, q.type, q.effect, q.text,
           coalesce(q.defer_days, (SELECT p.value::integer FROM p WHERE p.name = q.defer_param)),
           (SELECT p.value FROM p WHERE p.name = q.min_param),
           (SELECT p.value FROM p WHERE p.name = q.max_param),
           q.answer_min, q.answer_max, q.integral, q.derived, q.source, q.sort_order,
           fmtbank.rule_set_version_at(p_at), q.lookback_days, fmtbank.catalog_version_at(p_at),
           q.version
    FROM q
    WHERE NOT q.retired
$$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.rule_set_version_at(timestamp with time zone),
    fmtbank.catalog_version_at(timestamp with time zone),
    fmtbank.rule_params_at(timestamp with time zone),
    fmtbank.rule_value(text, timestamp with time zone),
    fmtbank.rules_set(text, text),
    fmtbank.screening_test_at(timestamp with time zone),
    fmtbank.result_acceptable(text, numeric, text, numeric),
    fmtbank.catalog_vectors_at(timestamp with time zone),
    fmtbank.result_ok_days(timestamp with time zone, date, date, uuid[], fmtbank.catalog_vectors),
    fmtbank.question_item_at(timestamp with time zone)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): rule_param_define

GRANT SELECT ON fmtbank.rule_history, fmtbank.test_catalog
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
