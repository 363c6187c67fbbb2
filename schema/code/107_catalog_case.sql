-- 107_catalog_case: the case source "catalog" (product.md §11.0, §12): when a test becomes required,
-- the released stock collected on or after the day it applies from that no result of the test
-- screened is held until a quality officer decides (unreleased lots need no case: the readiness
-- rules already require the test, 031). Called by the catalog change (in its transaction) or by the
-- daemon when a change with a future effective time takes effect.
--
-- "Screened" (choice, written here): the donor has a result of the test, whatever its outcome,
-- collected in the lot's windows [collection day - pre_window_days, collection day +
-- post_window_days] (an unacceptable one has its own result case), or a result on one of the lot's
-- own tubes ("result add --specimen", its retained sample).

-- Opens the case and holds what it covers; returns it (NULL when nothing in the bank is concerned).
CREATE OR REPLACE FUNCTION fmtbank.case_open_catalog(p_test text, p_from date, p_reason text)
RETURNS fmtbank.safety_case
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t fmtbank.screening_test;
    c fmtbank.safety_case;
    pre integer := fmtbank.rule_value('pre_window_days')::integer;
    post integer := fmtbank.rule_value('post_window_days')::integer;
    lots uuid[];
BEGIN
    SELECT * INTO t FROM fmtbank.screening_test x WHERE x.code = upper(btrim(p_test));
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('test "%s" not found', p_test);
    END IF;
    IF p_from IS NULL OR nullif(btrim(p_reason), '') IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'a catalog case needs the day it applies from and a reason';
    END IF;
    SELECT array_agg(l.id ORDER BY l.id) INTO lots
    FROM fmtbank.lot l
    WHERE l.collected_at::date >= p_from AND l.status = 'released'
      AND NOT EXISTS (SELECT 1 FROM fmtbank.result r
                      WHERE r.donor_id = l.donor_id AND r.test_no = t.test_no AND r.superseded_at IS NULL
                        AND r.collected BETWEEN l.collected_at::date - pre AND l.collected_at::date + post)
      AND NOT EXISTS (SELECT 1 FROM fmtbank.result r JOIN fmtbank.aliquot a ON a.id = r.specimen
                      WHERE a.lot = l.id AND r.test_no = t.test_no AND r.superseded_at IS NULL);
    IF lots IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO fmtbank.safety_case (case_code, source, reason, scope_kind, test_no, scope_from)
    VALUES (fmtbank.year_next_id('case', 'C', clock_timestamp()), 'catalog',
            format('%s: %s is required for %s; these released lots were not tested for it',
                   btrim(p_reason), t.code,
                   CASE WHEN p_from = '-infinity' THEN 'every lot'
                        ELSE format('the lots collected from %s on', p_from) END),
            'test', t.test_no, p_from::timestamptz)
    RETURNING * INTO c;
    PERFORM fmtbank.case_hold_lots(c.id, lots);
    RETURN c;
END $$;

-- ---------------------------------------------------------------- privileges
-- No role calls case_open_catalog directly: the catalog change and the daemon do (as owner).
