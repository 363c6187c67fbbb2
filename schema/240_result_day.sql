-- 240_result_day: the screening results of each donor and collection day in one row, kept by
-- triggers, so that eligibility reads ~110,000 day rows instead of ~6,800,000 results (issue 17
-- item 7, product.md §16: eligibility of 100,000 donors <= 1 s). A derived table, not a record:
-- not audited; every row is recomputed from fmtbank.result whenever a result of that donor and
-- day is inserted or updated (schema/code/012_result.sql, fmtbank.result_day_refresh), and the
-- code set fills it when it is empty while results exist (this migration on an existing
-- database). Per day:
--   negative    the tests with a current (not superseded) "negative" without a value: bit n is
--               test_no n (acceptable under every accept rule; as long as that day's highest such
--               test_no + 1, the engine pads it to the catalog's length);
--   changed_at  the latest recorded_at or superseded_at of any result of that day: an evaluation
--               as of an earlier time reads that day's results from fmtbank.result instead
--               ('infinity' for a day with a "negative" that has a value: always read there).
-- Results other than "negative" (values, positives) are few; the engine reads them through the
-- partial index result_not_negative and judges them under the accept rule in force.
-- The triggers fire in every session_replication_role (ENABLE ALWAYS), so the benchmark
-- generators, which insert with the others off, keep it too.
CREATE TABLE fmtbank.result_day (
    donor_id    uuid NOT NULL,
    collected   date NOT NULL,
    negative    varbit NOT NULL,
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (donor_id, collected)
);
REVOKE ALL ON fmtbank.result_day FROM PUBLIC;
GRANT SELECT ON fmtbank.result_day
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- Placeholder (the code set replaces it) so that the triggers can be created here.
CREATE FUNCTION fmtbank.result_day_mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER result_day_ins AFTER INSERT ON fmtbank.result REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.result_day_mark();
CREATE TRIGGER result_day_upd AFTER UPDATE ON fmtbank.result
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.result_day_mark();
ALTER TABLE fmtbank.result ENABLE ALWAYS TRIGGER result_day_ins;
ALTER TABLE fmtbank.result ENABLE ALWAYS TRIGGER result_day_upd;
