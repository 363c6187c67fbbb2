-- 180_sweep_dirty: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- The sweeps evaluate what changed, not everything (schema/180_sweep_dirty.sql, README "The
-- daemon"). The triggers below append to fmtbank.sweep_dirty, set-based, one INSERT per statement
-- over its transition table; the donor sweep (051) and the release sweep (035) take their rows
-- with fmtbank.sweep_take() and judge those donors and lots, those a day boundary can change,
-- or everything (sweep_full(), a rule set or catalog change, a step's first pass). Correctness
-- first: what a step stores after any sequence of changes equals what a full pass stores (the
-- regression tests/sql/sql/sweep_dirty.sql compares them).
--
-- The trigger functions are SECURITY DEFINER: whoever writes the record (a technician through a
-- checked function, the superuser in psql), its row is appended; they read only the transition
-- table and trust nothing of the caller's (no temp objects, qualified names).

-- results: the donor, from the collection day (a result counts from the day it was collected:
-- one dated in the future waits for that day); the donor step hands it on to the release step.
-- A result on a lot's own tube (131) counts for the lot at once.
CREATE OR REPLACE FUNCTION fmtbank.sweep_mark_result() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO fmtbank.sweep_dirty (step, donor_id, not_before)
    SELECT DISTINCT 'donors', r.donor_id, r.collected FROM new_rows r
    UNION ALL
    SELECT DISTINCT 'release', r.donor_id, NULL::date FROM new_rows r WHERE r.specimen IS NOT NULL;
    RETURN NULL;
END $$;

-- questionnaires: eligibility counts one from its date, readiness (the donation-day and
-- post-donation checks) at once: a row for each step.
CREATE OR REPLACE FUNCTION fmtbank.sweep_mark_questionnaire() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO fmtbank.sweep_dirty (step, donor_id, not_before)
    SELECT DISTINCT s.step, q.donor_id, CASE WHEN s.step = 'donors' THEN q.q_date END
    FROM new_rows q CROSS JOIN (VALUES ('donors'), ('release')) s(step);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.sweep_mark_answer() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO fmtbank.sweep_dirty (step, donor_id, not_before)
    SELECT DISTINCT s.step, q.donor_id, CASE WHEN s.step = 'donors' THEN q.q_date END
    FROM (SELECT DISTINCT a.questionnaire_id FROM new_rows a) a
    JOIN fmtbank.questionnaire q ON q.id = a.questionnaire_id
    CROSS JOIN (VALUES ('donors'), ('release')) s(step);
    RETURN NULL;
END $$;

-- a donor's record or manual decision: the donor, at once (then its lots)
CREATE OR REPLACE FUNCTION fmtbank.sweep_mark_donor() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_TABLE_NAME = 'donor' THEN
        INSERT INTO fmtbank.sweep_dirty (step, donor_id)
        SELECT DISTINCT 'donors', n.id FROM new_rows n;
    ELSE
        INSERT INTO fmtbank.sweep_dirty (step, donor_id)
        SELECT DISTINCT 'donors', n.donor_id FROM new_rows n;
    END IF;
    RETURN NULL;
END $$;

-- a new lot, or a hold put on or ended: the lot
CREATE OR REPLACE FUNCTION fmtbank.sweep_mark_lot() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_TABLE_NAME = 'lot' THEN
        INSERT INTO fmtbank.sweep_dirty (step, lot) SELECT 'release', n.id FROM new_rows n;
    ELSE
        INSERT INTO fmtbank.sweep_dirty (step, lot)
        SELECT DISTINCT 'release', n.lot FROM new_rows n;
    END IF;
    RETURN NULL;
END $$;

-- a lot whose collection, processing, donor or creation changed (the trigger's WHEN: one row)
CREATE OR REPLACE FUNCTION fmtbank.sweep_mark_lot_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO fmtbank.sweep_dirty (step, lot) VALUES ('release', NEW.id);
    RETURN NULL;
END $$;

-- the rule set or the catalog: everything, for both steps
CREATE OR REPLACE FUNCTION fmtbank.sweep_mark_all() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO fmtbank.sweep_dirty (step) VALUES ('donors'), ('release');
    RETURN NULL;
END $$;

-- The next pass of both steps judges every donor and lot (after a repair, or to check).
CREATE OR REPLACE FUNCTION fmtbank.sweep_full() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.require_role('asking for a full sweep', 'quality', 'admin', 'daemon');
    INSERT INTO fmtbank.sweep_dirty (step) VALUES ('donors'), ('release');
END $$;

-- What the evaluation at p_at reads besides the records: the rule set and the catalog in force
-- (versions are only added, so their count and latest start name the set in force). A scheduled
-- change taking effect changes it, and the step then judges everything.
CREATE OR REPLACE FUNCTION fmtbank.sweep_rules_key(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('rules %s/%s; catalog %s/%s', r.n, r.v, c.n, c.v)
    FROM (SELECT count(*) AS n, max(version) AS v FROM fmtbank.rule_set
          WHERE effective_from <= p_at) r,
         (SELECT count(*) AS n, max(version) AS v FROM fmtbank.catalog_version
          WHERE effective_from <= p_at) c
$$;

-- Takes a step's dirty rows due by p_day (deleting them in the caller's transaction: a failed
-- step rolls back and leaves them) and returns what to judge: every = true (judge everything:
-- a row with neither donor nor lot, a first pass, the rules or catalog in force changed, a new
-- year for the age rule), or the donors and lots named. The donors taken are handed on to
-- p_forward's step (the donor step's to the release step: a donor's records concern its lots).
-- The caller reads the clock after this, so every record whose row was taken was committed
-- before its evaluation time.
CREATE OR REPLACE FUNCTION fmtbank.sweep_take(p_step text, p_day date, p_forward text,
                                              OUT every boolean, OUT donors uuid[], OUT lots uuid[])
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    WITH d AS (
        DELETE FROM fmtbank.sweep_dirty x
        WHERE x.step = p_step AND (x.not_before IS NULL OR x.not_before <= p_day)
        RETURNING x.donor_id, x.lot)
    SELECT coalesce(bool_or(d.donor_id IS NULL AND d.lot IS NULL), false),
           coalesce(array_agg(DISTINCT d.donor_id) FILTER (WHERE d.donor_id IS NOT NULL), '{}'),
           coalesce(array_agg(DISTINCT d.lot) FILTER (WHERE d.lot IS NOT NULL), '{}')
    INTO every, donors, lots
    FROM d;
    IF p_forward IS NOT NULL AND cardinality(donors) > 0 THEN
        INSERT INTO fmtbank.sweep_dirty (step, donor_id) SELECT p_forward, unnest(donors);
    END IF;
END $$;

-- Reads and locks a step's state (one sweep of a step at a time; a second waits) and says
-- whether the step must judge everything at p_at: never run, or the rules or catalog in force
-- changed since.
CREATE OR REPLACE FUNCTION fmtbank.sweep_state_changed(p_step text, p_at timestamptz,
                                                       OUT changed boolean, OUT last_day date)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s fmtbank.sweep_state;
BEGIN
    SELECT * INTO s FROM fmtbank.sweep_state WHERE step = p_step FOR UPDATE;
    changed := s.step IS NULL OR s.rules IS DISTINCT FROM fmtbank.sweep_rules_key(p_at);
    last_day := s.day;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.sweep_state_store(p_step text, p_at timestamptz) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO fmtbank.sweep_state AS s (step, day, rules, at)
    VALUES (p_step, p_at::date, fmtbank.sweep_rules_key(p_at), p_at)
    ON CONFLICT (step) DO UPDATE SET day = excluded.day, rules = excluded.rules, at = excluded.at
$$;

-- Eligibility of a set of donors (NULL: all) at p_at: eligibility_summary's statement (013) for
-- the donors of the sweep's dirty set.
CREATE OR REPLACE FUNCTION fmtbank.eligibility_summary_of(p_at timestamptz, p_donors uuid[])
RETURNS TABLE (donor_id uuid, code text, status text, deferred_until date, reasons jsonb,
               next_screening_due date, rule_set_version integer)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp SET jit = off
    SET parallel_setup_cost = 10 SET parallel_tuple_cost = 0.001 AS $fn$
DECLARE p fmtbank.eligibility_param;
BEGIN
    IF p_at IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing time for the eligibility evaluation';
    END IF;
    p := fmtbank.eligibility_params(p_at, NULL, false);
    p.donors := p_donors;
    RETURN QUERY EXECUTE fmtbank.eligibility_sql() || fmtbank.eligibility_summary_sql() USING p;
END $fn$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.sweep_full()
    TO fmtbank_quality, fmtbank_admin, fmtbank_daemon;
-- not granted (owner only): sweep_mark_result, sweep_mark_questionnaire, sweep_mark_answer,
-- sweep_mark_donor, sweep_mark_lot, sweep_mark_lot_row, sweep_mark_all, sweep_rules_key,
-- sweep_take, sweep_state_changed, sweep_state_store, eligibility_summary_of
