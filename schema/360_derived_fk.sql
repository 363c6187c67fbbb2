-- 360_derived_fk: no foreign keys on the tables the owner's triggers and sweeps derive from other
-- rows (issue 17 item 7, product.md §16: the daemon's first pass after generate <= 10 s).
--   lot_version, aliquot_version, placement_version (160): written only by the statement triggers
--     on lot, aliquot and placement, from the rows those statements wrote;
--   donor_state (051) and donor_eligibility (330): written only by the donor sweep, for the
--     donors it judged.
-- Every id they hold was read from a row of the table it names, in the same statement, and rows
-- are never deleted (refuse_delete on lot, aliquot, box and donor), so the check could never
-- fail; no application role may write these tables (SELECT only), so it guards nothing a psql
-- user can reach. Each check costs a lookup and a row lock per written row: 4-11 us, 0.7 s of
-- the donor step of the first pass (200,000 rows) and 0.3-0.5 s of the release step (96,800 lot
-- versions, 10,000 expired tubes' versions with two checks each). The columns keep their NOT
-- NULL and their indexes; tests/sql/sql/derived_fk.sql checks that every id in them exists.
ALTER TABLE fmtbank.lot_version DROP CONSTRAINT lot_version_lot_fkey;
ALTER TABLE fmtbank.aliquot_version DROP CONSTRAINT aliquot_version_aliquot_fkey;
ALTER TABLE fmtbank.aliquot_version DROP CONSTRAINT aliquot_version_lot_fkey;
ALTER TABLE fmtbank.placement_version DROP CONSTRAINT placement_version_aliquot_fkey;
ALTER TABLE fmtbank.placement_version DROP CONSTRAINT placement_version_box_fkey;
ALTER TABLE fmtbank.donor_state DROP CONSTRAINT donor_state_donor_id_fkey;
ALTER TABLE fmtbank.donor_eligibility DROP CONSTRAINT donor_eligibility_donor_id_fkey;
COMMENT ON COLUMN fmtbank.lot_version.lot IS 'fmtbank.lot(id); no foreign key: written only by the lot trigger (360)';
COMMENT ON COLUMN fmtbank.aliquot_version.aliquot IS 'fmtbank.aliquot(id); no foreign key: written only by the aliquot trigger (360)';
COMMENT ON COLUMN fmtbank.aliquot_version.lot IS 'fmtbank.lot(id); no foreign key: written only by the aliquot trigger (360)';
COMMENT ON COLUMN fmtbank.placement_version.aliquot IS 'fmtbank.aliquot(id); no foreign key: written only by the placement trigger (360)';
COMMENT ON COLUMN fmtbank.placement_version.box IS 'fmtbank.box(id); no foreign key: written only by the placement trigger (360)';
COMMENT ON COLUMN fmtbank.donor_state.donor_id IS 'fmtbank.donor(id); no foreign key: written only by the donor sweep (360)';
COMMENT ON COLUMN fmtbank.donor_eligibility.donor_id IS 'fmtbank.donor(id); no foreign key: written only by the donor sweep (360)';
