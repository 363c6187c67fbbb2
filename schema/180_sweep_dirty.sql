-- 180_sweep_dirty: the daemon's sweeps evaluate what changed, not everything (issue 17 item 7,
-- product.md §16). Statement-level triggers (set-based, over the transition tables) record in
-- fmtbank.sweep_dirty which donors and lots a change may concern; each sweep step takes its rows
-- (DELETE ... RETURNING, in its own transaction, so a failed step leaves them for the next pass)
-- and judges only those, plus what a day boundary can change, computed from the stored "valid
-- until" dates (donor_state.next_screening_due and deferred_until). A change of the rule set or
-- the catalog in force, a row with neither donor nor lot (fmtbank.sweep_full()), or a step never
-- run before makes the step judge everything. The trigger functions are in the code set
-- (schema/code/180_sweep_dirty.sql, which replaces the placeholders below).
--
-- Both tables are operational state of the daemon, like daemon_heartbeat: not business records,
-- so not audited, and sweep_dirty's rows are deleted once judged (what the sweep changed is
-- audited on donor_state, lot and aliquot).

-- What changed since the last pass, per step: a donor (step donors: that donor; step release:
-- that donor's lots in quarantine or ready), a lot (step release), or neither (everything). The
-- donor step hands each donor it takes on to the release step (a record of a donor concerns
-- both), so a result import writes one row per donor and collection day, not two.
-- not_before: a record dated in the future (a result's collection day, a questionnaire's date)
-- counts from that day on, so its row waits for it. No unique key and no index: concurrent
-- writers append without waiting for each other (no lock, no deadlock, nothing to maintain);
-- the sweep empties the table every pass and takes the distinct ids.
CREATE TABLE fmtbank.sweep_dirty (
    step       text NOT NULL CHECK (step IN ('donors', 'release')),
    donor_id   uuid,
    lot        uuid,
    not_before date,
    marked_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (donor_id IS NULL OR lot IS NULL)
);
REVOKE ALL ON fmtbank.sweep_dirty FROM PUBLIC;
GRANT SELECT ON fmtbank.sweep_dirty TO fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- Per step: the day of its last pass and the rule set and catalog in force then (sweep_rules_key).
CREATE TABLE fmtbank.sweep_state (
    step   text PRIMARY KEY CHECK (step IN ('donors', 'release')),
    day    date NOT NULL,
    rules  text NOT NULL,
    at     timestamptz NOT NULL
);
REVOKE ALL ON fmtbank.sweep_state FROM PUBLIC;
GRANT SELECT ON fmtbank.sweep_state TO fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- The donors whose stored state a day boundary can change: found by these dates, not by
-- judging every donor.
CREATE INDEX donor_state_due ON fmtbank.donor_state (next_screening_due);
CREATE INDEX donor_state_deferred ON fmtbank.donor_state (deferred_until)
    WHERE deferred_until IS NOT NULL;

-- Placeholders (the code set replaces them) so that the triggers can be created here.
CREATE FUNCTION fmtbank.sweep_mark_result() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION fmtbank.sweep_mark_questionnaire() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION fmtbank.sweep_mark_answer() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION fmtbank.sweep_mark_donor() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION fmtbank.sweep_mark_lot() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION fmtbank.sweep_mark_lot_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION fmtbank.sweep_mark_all() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;

-- results (new, corrected, superseded): the donor (then its lots), from the collection day
CREATE TRIGGER sweep_dirty_ins AFTER INSERT ON fmtbank.result REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_result();
CREATE TRIGGER sweep_dirty_upd AFTER UPDATE ON fmtbank.result REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_result();
-- questionnaires and their answers: the donor (from the questionnaire's date) and the donor's lots
CREATE TRIGGER sweep_dirty_ins AFTER INSERT ON fmtbank.questionnaire REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_questionnaire();
CREATE TRIGGER sweep_dirty_upd AFTER UPDATE ON fmtbank.questionnaire REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_questionnaire();
CREATE TRIGGER sweep_dirty_ins AFTER INSERT ON fmtbank.questionnaire_answer REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_answer();
CREATE TRIGGER sweep_dirty_upd AFTER UPDATE ON fmtbank.questionnaire_answer REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_answer();
-- manual decisions and the donor's own record (birth year): the donor (then its lots)
CREATE TRIGGER sweep_dirty_ins AFTER INSERT ON fmtbank.donor_decision REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_donor('donor_id');
CREATE TRIGGER sweep_dirty_upd AFTER UPDATE ON fmtbank.donor_decision REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_donor('donor_id');
CREATE TRIGGER sweep_dirty_ins AFTER INSERT ON fmtbank.donor REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_donor('id');
CREATE TRIGGER sweep_dirty_upd AFTER UPDATE ON fmtbank.donor REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_donor('id');
-- lots: new ones, a change of what readiness reads of the lot itself, and holds on them. A change
-- of status needs no mark: a lot enters quarantine only when it is made, and ready only from
-- quarantine (the sweep itself, or a signature that found it releasable); every other status
-- leaves the lots the sweep judges. So the sweep's own UPDATE of 98,800 lots (SET status) fires
-- nothing here (a row trigger on the columns read, which processing updates one lot at a time).
CREATE TRIGGER sweep_dirty_ins AFTER INSERT ON fmtbank.lot REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_lot('id');
CREATE TRIGGER sweep_dirty_upd AFTER UPDATE OF donor_id, collected_at, processed_at, created_at
    ON fmtbank.lot FOR EACH ROW
    WHEN ((old.donor_id, old.collected_at, old.processed_at, old.created_at)
          IS DISTINCT FROM (new.donor_id, new.collected_at, new.processed_at, new.created_at))
    EXECUTE FUNCTION fmtbank.sweep_mark_lot_row();
CREATE TRIGGER sweep_dirty_ins AFTER INSERT ON fmtbank.case_hold REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_lot('lot');
CREATE TRIGGER sweep_dirty_upd AFTER UPDATE ON fmtbank.case_hold REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_lot('lot');
-- the rule set and the catalog: everything
CREATE TRIGGER sweep_dirty AFTER INSERT OR UPDATE OR DELETE ON fmtbank.rule_set
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_all();
CREATE TRIGGER sweep_dirty AFTER INSERT OR UPDATE OR DELETE ON fmtbank.rule_param_value
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_all();
CREATE TRIGGER sweep_dirty AFTER INSERT OR UPDATE OR DELETE ON fmtbank.catalog_version
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_all();
CREATE TRIGGER sweep_dirty AFTER INSERT OR UPDATE OR DELETE ON fmtbank.screening_test_def
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_all();
CREATE TRIGGER sweep_dirty AFTER INSERT OR UPDATE OR DELETE ON fmtbank.question_item_def
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_all();
CREATE TRIGGER sweep_dirty AFTER INSERT OR UPDATE OR DELETE ON fmtbank.screening_test
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_all();
CREATE TRIGGER sweep_dirty AFTER INSERT OR UPDATE OR DELETE ON fmtbank.question_item
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.sweep_mark_all();
