-- 107_catalog_case: a case of source "catalog" (product.md §11.0, §12): a new required test holds
-- the stock it never screened. Its scope is the test (scope_kind 'test', test_no) from a day
-- (scope_from): the lots of any donor collected on or after it.
ALTER TABLE fmtbank.safety_case
    DROP CONSTRAINT safety_case_scope_kind_check,
    ADD CONSTRAINT safety_case_scope_kind_check
        CHECK (scope_kind IN ('donor', 'lot', 'aliquot', 'box', 'freezer', 'test')),
    ADD CONSTRAINT safety_case_test CHECK (scope_kind <> 'test'
        OR (test_no IS NOT NULL AND scope_from IS NOT NULL AND donor_id IS NULL));
