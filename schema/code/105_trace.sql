-- 105_trace: "fmtbank trace ID" (product.md §11.4): everything about a donor, lot, aliquot, case or
-- recipient as one timeline, from the donor's screening to the recipients and back: donor,
-- questionnaires, results, donations, processing, custody, holds and cases, signatures, issues,
-- notifications. From a recipient it reaches the donors of the doses and every other recipient of
-- those donors' lots. As of p_at: only what had been recorded by then (results and questionnaires
-- as they stood then).

-- What an ID names: the donors, lots and tubes a trace covers. A lot or tube covers itself (and
-- its donor's screening); a donor, a case or a recipient covers every lot of the donors involved.
CREATE OR REPLACE FUNCTION fmtbank.trace_scope(p_id text, OUT donors uuid[], OUT lots uuid[],
                                               OUT tubes uuid[])
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v text := btrim(coalesce(p_id, ''));
    l fmtbank.lot;
    a fmtbank.aliquot;
    c fmtbank.safety_case;
BEGIN
    IF fmtbank.id_kind(v) = 'lot' THEN
        l := fmtbank.lot_get(v);
        lots := ARRAY[l.id];
        donors := ARRAY[l.donor_id];
        RETURN;
    ELSIF fmtbank.id_kind(v) = 'aliquot' THEN
        a := fmtbank.aliquot_get(v);
        SELECT * INTO l FROM fmtbank.lot x WHERE x.id = a.lot;
        tubes := ARRAY[a.id];
        lots := ARRAY[l.id];
        donors := ARRAY[l.donor_id];
        RETURN;
    ELSIF upper(v) ~ '^C[0-9]{8}[0-9A-Z*]$' THEN
        c := fmtbank.case_get(v);
        SELECT array_agg(DISTINCT x.donor_id) INTO donors
        FROM (SELECT c.donor_id WHERE c.donor_id IS NOT NULL
              UNION SELECT l2.donor_id FROM fmtbank.case_hold h JOIN fmtbank.lot l2 ON l2.id = h.lot
              WHERE h.case_id = c.id) x;
    ELSIF EXISTS (SELECT 1 FROM fmtbank.donor d WHERE d.code = upper(v)) THEN
        donors := ARRAY[(fmtbank.donor_get(v)).id];
    ELSIF EXISTS (SELECT 1 FROM fmtbank.aliquot_issue i WHERE i.recipient = v) THEN
        -- a trial participant's doses lead to their donors for the unblinded only (270)
        SELECT coalesce(array_agg(DISTINCT l2.donor_id), '{}') INTO donors
        FROM fmtbank.aliquot_issue i JOIN fmtbank.aliquot a2 ON a2.id = i.aliquot
        JOIN fmtbank.lot l2 ON l2.id = a2.lot WHERE i.recipient = v
          AND (i.use <> 'trial' OR NOT fmtbank.trial_blind());
    ELSE
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('nothing is known by "%s"', v),
            HINT = 'Trace a donor code, a lot, aliquot or case ID, or a recipient code.';
    END IF;
    SELECT array_agg(x.id) INTO lots FROM fmtbank.lot x WHERE x.donor_id = ANY (donors);
END $$;

CREATE OR REPLACE FUNCTION fmtbank.trace(p_id text, p_at timestamptz)
RETURNS TABLE (at timestamptz, event text, donor text, lot text, aliquot text, detail text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s record;
    t timestamptz := coalesce(p_at, clock_timestamp());
BEGIN
    PERFORM fmtbank.require_role('tracing', 'technician', 'quality', 'auditor', 'admin');
    s := fmtbank.trace_scope(p_id);
    RETURN QUERY
    -- the lots as recorded at t (their versions, 160_asof, when p_at is given: the status and
    -- processing of then), their tubes made by t
    WITH tl AS (SELECT x.* FROM fmtbank.lot x
                WHERE p_at IS NULL AND x.id = ANY (s.lots) AND x.created_at <= t
                UNION ALL
                SELECT x.* FROM fmtbank.lot_at(t, s.lots) x WHERE p_at IS NOT NULL),
    ta AS (SELECT x.* FROM fmtbank.aliquot x JOIN tl ON tl.id = x.lot
           WHERE (s.tubes IS NULL OR x.id = ANY (s.tubes)) AND x.created_at <= t),
    tc AS (SELECT c.* FROM fmtbank.safety_case c
           WHERE c.opened_at <= t
             AND (c.donor_id = ANY (s.donors)
                  OR EXISTS (SELECT 1 FROM fmtbank.case_hold h WHERE h.case_id = c.id
                             AND h.lot IN (SELECT tl.id FROM tl))))
    SELECT d.created_at, 'donor registered', d.code, NULL::text, NULL::text,
           format('born %s, %s', coalesce(d.birth_year::text, '?'), coalesce(d.sex, '?'))
    FROM fmtbank.donor d WHERE d.id = ANY (s.donors) AND d.created_at <= t
    UNION ALL
    SELECT q.recorded_at, 'questionnaire ' || q.kind, d.code, NULL, NULL,
           format('of %s, recorded by %s', q.q_date, q.recorded_by)
    FROM fmtbank.questionnaire q JOIN fmtbank.donor d ON d.id = q.donor_id
    WHERE q.donor_id = ANY (s.donors) AND q.recorded_at <= t
      AND (q.superseded_at IS NULL OR q.superseded_at > t)
    UNION ALL
    SELECT r.recorded_at, 'result', d.code, NULL, NULL,
           format('%s %s collected %s (%s)', st.code, concat_ws(' ', r.result, r.unit), r.collected,
                  coalesce(r.lab, 'lab not given'))
    FROM fmtbank.result r JOIN fmtbank.donor d ON d.id = r.donor_id
    JOIN fmtbank.screening_test st ON st.test_no = r.test_no
    WHERE r.donor_id = ANY (s.donors) AND r.recorded_at <= t
      AND (r.superseded_at IS NULL OR r.superseded_at > t)
    UNION ALL
    SELECT tl.created_at, 'donation', d.code, tl.lot_id, NULL,
           format('collected %s, %s g, Bristol %s; %s', fmtbank.ts_text(tl.collected_at), tl.mass_g,
                  tl.bristol, tl.status)
    FROM tl JOIN fmtbank.donor d ON d.id = tl.donor_id
    UNION ALL
    SELECT tl.processed_at, 'processed', d.code, tl.lot_id, NULL, format('%s doses', tl.doses)
    FROM tl JOIN fmtbank.donor d ON d.id = tl.donor_id
    WHERE tl.processed_at IS NOT NULL AND tl.processed_at <= t
    UNION ALL
    SELECT e.at, 'custody ' || e.kind, d.code, tl.lot_id, ta.aliquot_id,
           concat_ws(' ', CASE WHEN e.from_box IS NOT NULL
                               THEN 'from ' || (SELECT b.box_id FROM fmtbank.box b WHERE b.id = e.from_box)
                                    || ':' || fmtbank.position_text(e.from_prow, e.from_pcol) END,
                     CASE WHEN e.box IS NOT NULL
                          THEN 'to ' || (SELECT b.box_id FROM fmtbank.box b WHERE b.id = e.box)
                               || ':' || fmtbank.position_text(e.prow, e.pcol) END,
                     'by ' || e.who, nullif(e.detail, ''))
    FROM fmtbank.custody_event e JOIN ta ON ta.id = e.aliquot JOIN tl ON tl.id = ta.lot
    JOIN fmtbank.donor d ON d.id = tl.donor_id WHERE e.at <= t
    UNION ALL
    SELECT sg.signed_at, 'release signed', d.code, tl.lot_id, NULL,
           format('%s (%s): "%s"', sg.printed_name, sg.signer, sg.meaning)
    FROM fmtbank.release_signature sg JOIN tl ON tl.id = sg.lot JOIN fmtbank.donor d ON d.id = tl.donor_id
    WHERE sg.signed_at <= t
    UNION ALL
    SELECT i.issued_at, 'issued', d.code, tl.lot_id, ta.aliquot_id,
           format('to recipient %s at %s, by %s', i.recipient, i.site, i.issued_by)
    FROM fmtbank.aliquot_issue i JOIN ta ON ta.id = i.aliquot JOIN tl ON tl.id = ta.lot
    JOIN fmtbank.donor d ON d.id = tl.donor_id WHERE i.issued_at <= t
      AND (i.use <> 'trial' OR NOT fmtbank.trial_blind())
    UNION ALL
    SELECT c.opened_at, 'case opened', d.code, NULL, NULL,
           format('%s (%s): %s', c.case_code, c.source, fmtbank.case_summary(fmtbank.case_at(c, t)))
    FROM tc c LEFT JOIN fmtbank.donor d ON d.id = c.donor_id
    UNION ALL
    SELECT h.held_at, 'held', d.code, tl.lot_id, a.aliquot_id, format('by case %s', c.case_code)
    FROM fmtbank.case_hold h JOIN tc c ON c.id = h.case_id JOIN tl ON tl.id = h.lot
    JOIN fmtbank.donor d ON d.id = tl.donor_id
    LEFT JOIN LATERAL unnest(h.aliquots) hu(aid) ON true LEFT JOIN fmtbank.aliquot a ON a.id = hu.aid
    WHERE h.held_at <= t
    UNION ALL
    SELECT cd.signed_at, 'case decision', d.code, l2.lot_id, NULL,
           format('%s: %s, signed by %s: "%s"', c.case_code, cd.decision, cd.printed_name, cd.meaning)
    FROM fmtbank.case_decision cd JOIN tc c ON c.id = cd.case_id
    LEFT JOIN fmtbank.donor d ON d.id = c.donor_id LEFT JOIN fmtbank.lot l2 ON l2.id = cd.lot
    WHERE cd.signed_at <= t
    UNION ALL
    SELECT n.recorded_at, 'recipient notified', d.code, NULL, NULL,
           format('%s: %s told by %s on %s (%s)', c.case_code, n.recipient, n.by_means,
                  fmtbank.ts_text(n.told_at), n.recorded_by)
    FROM fmtbank.case_notification n JOIN tc c ON c.id = n.case_id
    LEFT JOIN fmtbank.donor d ON d.id = c.donor_id WHERE n.recorded_at <= t
    UNION ALL
    SELECT c.closed_at, 'case closed', d.code, NULL, NULL,
           format('%s by %s: %s', c.case_code, c.closed_by, c.close_reason)
    FROM tc c LEFT JOIN fmtbank.donor d ON d.id = c.donor_id
    WHERE c.closed_at IS NOT NULL AND c.closed_at <= t
    ORDER BY 1, 2, 4, 5, 6;   -- detail last: the same answer in the same order every time
END $$;

-- ---------------------------------------------------------------- privileges
GRANT EXECUTE ON FUNCTION fmtbank.trace(text, timestamp with time zone)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- not granted (owner only): trace_scope
