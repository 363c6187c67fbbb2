-- 330_eligibility_store: the donor sweep keeps each donor's whole evaluation (issue 17 item 7,
-- product.md §16: eligibility of 100,000 donors <= 1 s). fmtbank.sweep_donors (051 code) stores,
-- beside the audited transitions of donor_state, the row eligibility_summary gave for each donor
-- it judged: status, deferred_until, reasons, next_screening_due, rule-set version. Eligibility
-- "now" (eligibility_summary, 013 code) then reads these rows for the donors no change concerns
-- and evaluates only the rest (the sweep's dirty set, 180) in the same statement as always; any
-- other time, a rule or catalog change not yet swept, or a sweep not yet run today means the
-- full evaluation. Why the stored rows are exact: they are the evaluation at the sweep's time t;
-- everything that can change a donor's row since t marks the donor dirty (180's triggers), the
-- rules and catalog in force are compared by sweep_rules_key, and the day is the sweep's day
-- (the only part of an eligible donor's row that depends on the day is a date the sweep looks
-- at on a new day; every other donor is judged again each new day, as its reasons name the day).
-- tests/sql/sql/eligibility_store.sql compares the stored answer with the full evaluation.
--
-- A derived store like sweep_dirty and sweep_state, not a record: not audited (the transitions
-- are, on donor_state); rows are replaced when the evaluation changes, never deleted.
CREATE TABLE fmtbank.donor_eligibility (
    donor_id            uuid PRIMARY KEY REFERENCES fmtbank.donor,
    status              text NOT NULL CHECK (status IN ('screening', 'eligible', 'deferred', 'excluded')),
    deferred_until      date,
    reasons             jsonb NOT NULL,
    next_screening_due  date,
    rule_set_version    integer,
    judged_at           timestamptz NOT NULL
);
REVOKE ALL ON fmtbank.donor_eligibility FROM PUBLIC;
GRANT SELECT ON fmtbank.donor_eligibility
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin, fmtbank_daemon;

-- The next donor pass judges every donor, so that the store is filled.
INSERT INTO fmtbank.sweep_dirty (step) VALUES ('donors');
