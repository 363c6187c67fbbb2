-- 051_sweep_donors: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- One set-based pass: derive every donor's status now, store what changed, and count the
-- changes by kind.
CREATE OR REPLACE FUNCTION fmtbank.sweep_donors() RETURNS TABLE (what text, n bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY
    WITH e AS (
        SELECT * FROM fmtbank.donor_eligibility_at(clock_timestamp())
    ), d AS (
        SELECT e.donor_id, e.status, e.deferred_until, e.next_screening_due,
               s.status AS old_status
        FROM e LEFT JOIN fmtbank.donor_state s ON s.donor_id = e.donor_id
        WHERE s.donor_id IS NULL
           OR (s.status, s.deferred_until, s.next_screening_due)
              IS DISTINCT FROM (e.status, e.deferred_until, e.next_screening_due)
    ), up AS (
        INSERT INTO fmtbank.donor_state AS s (donor_id, status, deferred_until, next_screening_due, since)
        SELECT d.donor_id, d.status, d.deferred_until, d.next_screening_due, clock_timestamp()
        FROM d
        ON CONFLICT (donor_id) DO UPDATE
            SET status = excluded.status, deferred_until = excluded.deferred_until,
                next_screening_due = excluded.next_screening_due,
                since = CASE WHEN s.status = excluded.status THEN s.since ELSE excluded.since END
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
