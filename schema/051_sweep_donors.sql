-- 051_sweep_donors: the donor sweep of the daemon: deferrals that ran out, results that expired
-- (donor back to screening, re-screen due), and every other change of a donor's derived status.
-- Eligibility itself is always derived at read time (never stale); this table keeps the status
-- the last sweep saw, so each transition is logged once and audited (its history is the audit
-- trail of fmtbank.donor_state).

CREATE TABLE fmtbank.donor_state (
    donor_id            uuid PRIMARY KEY REFERENCES fmtbank.donor,
    status              text NOT NULL CHECK (status IN ('screening', 'eligible', 'deferred', 'excluded')),
    deferred_until      date,
    next_screening_due  date,
    since               timestamptz NOT NULL
);
SELECT fmtbank.audit_enable('fmtbank.donor_state', 'donor_id');
REVOKE ALL ON fmtbank.donor_state FROM PUBLIC;
GRANT SELECT ON fmtbank.donor_state
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin, fmtbank_daemon;

-- One set-based pass: derive every donor's status now, store what changed, and count the
-- changes by kind.
CREATE FUNCTION fmtbank.sweep_donors() RETURNS TABLE (what text, n bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
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
REVOKE EXECUTE ON FUNCTION fmtbank.sweep_donors() FROM PUBLIC;

SELECT fmtbank.sweep_register('donors', 'fmtbank.sweep_donors()', 10,
                              'deferrals that ran out, results that expired, status changes');
