-- 120_entry: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- A lot entered in error (product.md §11.2), voided by quality: "fmtbank lot void LOT --reason R".
-- The lot is kept and becomes rejected with the reason {rule: entered_in_error, detail: "entered in
-- error: R"}; its aliquots still in stock (quarantine, released) become recalled with the same
-- reason, so their labels no longer scan or print as usable (023 tube_store, label_print refuse
-- the tubes of a rejected lot). Refused for a lot already rejected or recalled, for held material
-- (a hold of the lot or of any of its aliquots) and for a lot with issued doses; the last two are
-- also enforced by the lot's transition trigger (030) for every session. Audited by the table
-- triggers, with the reason. Returns how many aliquots were recalled.
CREATE OR REPLACE FUNCTION fmtbank.lot_void(p_lot text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l fmtbank.lot;
    why text;
    n integer;
BEGIN
    PERFORM fmtbank.require_role('voiding lots', 'quality');
    l := fmtbank.lot_get(p_lot);
    why := fmtbank.acting_reason(true, 'voiding a lot');
    SELECT * INTO l FROM fmtbank.lot WHERE id = l.id FOR UPDATE;
    IF l.status IN ('rejected', 'recalled') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot void lot "%s": it is already %s', l.lot_id, l.status),
            DETAIL = CASE WHEN l.status = 'rejected'
                          THEN (SELECT string_agg(format('%s: %s', r ->> 'rule', r ->> 'detail'), E'\n')
                                FROM jsonb_array_elements(l.reject_reasons) r) END;
    END IF;
    -- the same refusals as the transition trigger, with the lot's words, before anything changes
    PERFORM fmtbank.hold_refuse(l.id, NULL, format('void lot "%s"', l.lot_id));
    PERFORM 1 FROM fmtbank.aliquot a WHERE a.lot = l.id ORDER BY a.idx FOR UPDATE;
    PERFORM fmtbank.hold_refuse(l.id, a.id, format('void lot "%s": aliquot "%s"', l.lot_id, a.aliquot_id))
    FROM fmtbank.aliquot a WHERE a.lot = l.id ORDER BY a.idx;
    IF EXISTS (SELECT 1 FROM fmtbank.aliquot a WHERE a.lot = l.id AND a.status = 'issued') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot void lot "%s": doses of it were issued (%s)', l.lot_id,
                             (SELECT string_agg(a.aliquot_id, ', ' ORDER BY a.idx) FROM fmtbank.aliquot a
                              WHERE a.lot = l.id AND a.status = 'issued')),
            DETAIL = 'Issued material has reached recipients; a void would hide that.',
            HINT = 'Open a case for the lot ("fmtbank hold add --lot LOT") and decide it (recall, notify the recipients).';
    END IF;
    UPDATE fmtbank.aliquot SET status = 'recalled', status_at = clock_timestamp(),
           status_reason = format('entered in error: %s', why)
    WHERE lot = l.id AND status IN ('quarantine', 'released');
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE fmtbank.lot SET status = 'rejected',
           reject_reasons = reject_reasons || jsonb_build_array(jsonb_build_object(
               'rule', 'entered_in_error', 'detail', format('entered in error: %s', why)))
    WHERE id = l.id;
    RETURN n;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.lot_void(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
