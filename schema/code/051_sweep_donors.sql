-- 051_sweep_donors: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- One set-based pass over the donors whose stored state may have changed (180_sweep_dirty): those
-- a change since the last pass concerns (the dirty set), and on a new day those whose stored
-- "valid until" dates ran out (next screening due before today, a deferral ending by today); or
-- every donor on the first pass, after a change of the rules or catalog in force, on a new year
-- (the age rule) or when asked (sweep_full). Stores what changed and counts the changes by kind.
-- Why the stored dates suffice: next_screening_due is the last day every result and the full
-- questionnaire support the status and deferred_until the end of the latest dated deferral, and
-- nothing else in a donor's evaluation depends on the day but records dated in the future
-- (their dirty rows wait for their day) and the year (a full pass).
CREATE OR REPLACE FUNCTION fmtbank.sweep_donors() RETURNS TABLE (what text, n bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    today date := clock_timestamp()::date;
    t timestamptz;
    every boolean;
    ids uuid[];
    no_lots uuid[];
    changed boolean;
    last_day date;
BEGIN
    SELECT * INTO every, ids, no_lots FROM fmtbank.sweep_take('donors', today, 'release');
    t := clock_timestamp();
    SELECT * INTO changed, last_day FROM fmtbank.sweep_state_changed('donors', t);
    IF changed OR extract(year FROM last_day) <> extract(year FROM t::date) THEN
        every := true;
    END IF;
    IF NOT every AND last_day < t::date THEN
        -- (and the donors not eligible: their stored reasons name the day, 330)
        ids := ids || ARRAY(SELECT x.donor_id FROM fmtbank.donor_state x
                            WHERE x.next_screening_due < t::date
                            UNION
                            SELECT x.donor_id FROM fmtbank.donor_state x
                            WHERE x.deferred_until <= t::date
                            UNION
                            SELECT x.donor_id FROM fmtbank.donor_eligibility x
                            WHERE x.status <> 'eligible');
    END IF;
    PERFORM fmtbank.sweep_state_store('donors', t);
    IF NOT every AND cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    IF fmtbank.most_donors(cardinality(ids)) THEN
        every := true;
    END IF;
    RETURN QUERY
    WITH e AS MATERIALIZED (
        SELECT * FROM fmtbank.eligibility_summary_of(t, CASE WHEN NOT every THEN ids END)
    ), kept AS (
        -- the whole evaluation, read by eligibility_summary today (330)
        INSERT INTO fmtbank.donor_eligibility AS s (donor_id, status, deferred_until, reasons,
                                                    next_screening_due, rule_set_version, judged_at)
        SELECT e.donor_id, e.status, e.deferred_until, e.reasons, e.next_screening_due,
               e.rule_set_version, t
        FROM e
        ON CONFLICT (donor_id) DO UPDATE
            SET status = excluded.status, deferred_until = excluded.deferred_until,
                reasons = excluded.reasons, next_screening_due = excluded.next_screening_due,
                rule_set_version = excluded.rule_set_version, judged_at = excluded.judged_at
            WHERE (s.status, s.deferred_until, s.reasons, s.next_screening_due, s.rule_set_version)
                  IS DISTINCT FROM (excluded.status, excluded.deferred_until, excluded.reasons,
                                    excluded.next_screening_due, excluded.rule_set_version)
        RETURNING 1
    ), d AS (
        SELECT e.donor_id, e.status, e.deferred_until, e.next_screening_due,
               s.status AS old_status, s.since AS old_since
        FROM e LEFT JOIN fmtbank.donor_state s ON s.donor_id = e.donor_id
        WHERE s.donor_id IS NULL
           OR (s.status, s.deferred_until, s.next_screening_due)
              IS DISTINCT FROM (e.status, e.deferred_until, e.next_screening_due)
    ), up_new AS (
        -- donor_state: a plain INSERT of the donors first seen and an UPDATE of the others, as d
        -- already tells which is which (INSERT ... ON CONFLICT's speculative insertion cost
        -- 0.2 s per 100,000 rows of the first pass); this step's sweep is the table's only
        -- writer and runs one at a time (sweep_take's lock). Not so for donor_eligibility
        -- above: telling its new rows from the others by a join while inserting them let the
        -- planner rescan the growing table once per donor (minutes, on an empty table).
        INSERT INTO fmtbank.donor_state (donor_id, status, deferred_until, next_screening_due, since)
        SELECT d.donor_id, d.status, d.deferred_until, d.next_screening_due, clock_timestamp()
        FROM d WHERE d.old_status IS NULL
        RETURNING 1
    ), up_changed AS (
        UPDATE fmtbank.donor_state s
        SET status = d.status, deferred_until = d.deferred_until,
            next_screening_due = d.next_screening_due,
            since = CASE WHEN d.old_status = d.status THEN d.old_since ELSE clock_timestamp() END
        FROM d
        WHERE s.donor_id = d.donor_id AND d.old_status IS NOT NULL
        RETURNING 1
    )
    SELECT CASE
             WHEN d.old_status IS NULL THEN 'donors first seen'
             WHEN d.old_status = 'deferred' AND d.status <> 'deferred'
               THEN 'deferrals that ran out'
             WHEN d.old_status = 'eligible' AND d.status = 'screening'
               THEN 'donors whose results expired (re-screen due)'
             WHEN d.old_status = d.status THEN format('%s donors with new dates', d.status)
             ELSE format('donors now %s', d.status)
           END, count(*)
    FROM d GROUP BY 1 ORDER BY 1;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

-- not granted (owner only): sweep_donors
