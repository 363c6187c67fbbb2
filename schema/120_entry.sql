-- 120_entry: donation entry (product.md §11.2). A lot keeps why it was entered late or as a second
-- donation close to another (the --reason of "donation add" when max_entry_hours or
-- duplicate_donation_minutes required one); its entry time is created_at (shown as entered_at,
-- with the lateness entered_at - collected_at). "donation add" gains --not-duplicate: the old
-- signature goes (the code set creates the new one, code/022_processing.sql).

ALTER TABLE fmtbank.lot
    ADD COLUMN entry_reason text CHECK (entry_reason IS NULL OR btrim(entry_reason) <> ''),
    ADD COLUMN not_duplicate boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT lot_not_duplicate_reason CHECK (NOT not_duplicate OR entry_reason IS NOT NULL);

-- a second donation of a donor close to another is looked up by (donor_id, collected_at): the
-- index lot_donor of 021 serves it.

DROP FUNCTION fmtbank.donation_add(text, text, text, text);
