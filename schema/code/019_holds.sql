-- 019_holds: what a hold says, read by the views of material (021 aliquot_view, 031 lot_state)
-- and so defined before them; the cases themselves are code/100_case.sql (product.md §11.0).

-- What a case is about, in a line. PARALLEL SAFE (it only reads): lot_eval's statement names it,
-- and one parallel-unsafe function keeps the whole statement (8 million results for every lot,
-- the sweep's full pass) from parallel workers.
CREATE OR REPLACE FUNCTION fmtbank.case_summary(c fmtbank.safety_case) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN c.source = 'result'
                THEN format('%s %s collected %s, holds %s', coalesce(t.code, '?'),
                            replace(c.outcome, '_', ' '), c.collected,
                            CASE WHEN c.hold_from = '-infinity' THEN 'every lot of the donor'
                                 ELSE format('the lots collected from %s on', c.hold_from) END)
                ELSE c.reason END
           || CASE WHEN c.withdrawn_at IS NOT NULL
                   THEN ' (signal withdrawn - lift proposed)' ELSE '' END
    FROM (SELECT 1) one
    LEFT JOIN fmtbank.screening_test t ON t.test_no = c.test_no
$$;

-- The holds in force on a lot (p_aliquot NULL) or on an aliquot: [{case, source, reason}], []
-- when none. A hold row is per case and lot (case_hold.aliquots NULL: the lot and every dose of
-- it; else the tubes of that lot it holds, a storage hold). An aliquot is held by the rows of its
-- lot that hold the whole lot or name it. A lot is held by every row of it, also one that holds
-- only some of its tubes: releasing a lot releases all its tubes, so a lot with a held tube is not
-- ready and cannot be signed (its other tubes stay usable where they are already released).
-- (PL/pgSQL, whose plan a session keeps: a scan session calls it once per tube retrieved, and a
-- SQL function with a SET clause is planned again on every call: 145 against ~40 microseconds.)
CREATE OR REPLACE FUNCTION fmtbank.holds_of(p_lot uuid, p_aliquot uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (
    SELECT coalesce(jsonb_agg(jsonb_build_object('case', c.case_code, 'source', c.source,
                                                 'reason', fmtbank.case_summary(c))
                              ORDER BY c.case_code), '[]'::jsonb)
    FROM (SELECT DISTINCT h.case_id FROM fmtbank.case_hold h
          WHERE h.lot = p_lot AND h.ended_at IS NULL
            AND (p_aliquot IS NULL OR h.aliquots IS NULL OR p_aliquot = ANY (h.aliquots))) x
    JOIN fmtbank.safety_case c ON c.id = x.case_id);
END $$;

-- ---------------------------------------------------------------- privileges
GRANT EXECUTE ON FUNCTION
    fmtbank.case_summary(fmtbank.safety_case),
    fmtbank.holds_of(uuid, uuid)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
