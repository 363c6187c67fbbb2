-- 031_readiness: release readiness of lots (the "sandwich", domain.md Timing), computed, never
-- typed, in one set-based statement for one lot or all of them.
--
-- A lot is releasable at p_at when every rule below passes, judged with the results,
-- questionnaires and decisions in force at p_at (recorded by then, not superseded by then) and the
-- rule set in force at p_at (so a rule change reaches banked stock at once). Days are the
-- collection day cd = collected_at::date in the session's time zone, as eligibility (013) does.
--   status                 stored status quarantine or ready (not rejected, recalled, released)
--   processing             processed, within max_processing_hours of collection
--   donation_questionnaire the donation-day questionnaire of cd is recorded and every answer no
--   pre_panel              every test required pre-donation has an acceptable result collected in
--                          [cd - pre_window_days, cd]
--   post_panel             every test required post-donation has an acceptable result collected
--                          in (cd, cd + post_window_days]
--   unacceptable_result    no unacceptable result (positive, out of limit, indeterminate) "in
--                          between": for a test T, an unacceptable T collected in the windows
--                          blocks unless an acceptable T collected after it and on or before cd
--                          (a retest before the donation) precedes it in the pre window, or it
--                          comes after the first acceptable T of the post window; same day as an
--                          acceptable result = in between (it cannot be told which came first)
--   lookback               no open lookback case holds the lot (034: the donor's lots collected on
--                          or after the case's hold_from), so nothing is released between a
--                          positive result and the recall it starts
--   donor_excluded         the donor is not manually excluded (donor exclude)
-- lot_check_at gives every rule's verdict (with its detail when asked; the signed snapshot keeps
-- them all); lot_blocking_at gives the failing ones as [{rule, detail}], empty = releasable.
--
-- The displayed status is never stale: a stored quarantine lot that nothing blocks shows as
-- ready, a stored ready lot that something blocks shows as quarantine (lot_status_shown); the
-- daemon's sweep (035) stores the change.

-- "1 h 45 min", for details.
CREATE FUNCTION fmtbank.duration_text(p interval) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN extract(epoch FROM p) >= 3600
            THEN format('%s h %s min', floor(extract(epoch FROM p) / 3600),
                        floor(mod(extract(epoch FROM p), 3600) / 60))
            ELSE format('%s min', floor(extract(epoch FROM p) / 60)) END;

-- Every lookback case opened by p_at with the first collection day it holds: an applied case as
-- applied; otherwise LEAST(the last acceptable result of the same test collected before the
-- unacceptable one, its collection day - lookback_min_days), or -infinity (every lot) when there is
-- no earlier acceptable result; results in force and rules at p_at.
CREATE FUNCTION fmtbank.lookback_case_at(p_at timestamptz)
RETURNS TABLE (case_id bigint, donor_id uuid, result_id uuid, test_no smallint, test text,
               collected date, outcome text, status text, opened_at timestamptz,
               last_acceptable date, hold_from date)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT c.id, c.donor_id, c.result_id, c.test_no, t.code, c.collected, c.outcome, c.status,
           c.opened_at, la.d,
           CASE WHEN c.hold_from IS NOT NULL THEN c.hold_from
                WHEN la.d IS NULL THEN '-infinity'::date
                ELSE LEAST(la.d, c.collected - mn.days) END
    FROM fmtbank.lookback_case c
    JOIN fmtbank.screening_test_at(p_at) t ON t.test_no = c.test_no
    CROSS JOIN (SELECT fmtbank.rule_value('lookback_min_days', p_at)::integer AS days) mn
    LEFT JOIN LATERAL (
        SELECT max(r.collected) AS d FROM fmtbank.result r
        WHERE r.donor_id = c.donor_id AND r.test_no = c.test_no AND r.collected < c.collected
          AND r.recorded_at <= p_at AND (r.superseded_at IS NULL OR r.superseded_at > p_at)
          AND fmtbank.result_acceptable(r.result, r.value, t.accept_op, t.accept_limit)) la ON true
    WHERE c.opened_at <= p_at
$$;

-- Every rule for the lots selected (p_lot, or all; p_statuses: only lots stored in one of these
-- states, NULL for any): (lot, rule, ord, ok, detail). Details are written for failing rules, and
-- for passing ones too when p_details (the snapshot, lot show). Rows of one lot in rule order
-- when sorted by ord, then detail.
CREATE FUNCTION fmtbank.lot_check_at(p_at timestamptz, p_lot uuid DEFAULT NULL,
                                     p_statuses text[] DEFAULT NULL, p_details boolean DEFAULT true)
RETURNS TABLE (lot uuid, rule text, ord integer, ok boolean, detail text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog SET jit = off AS $fn$
DECLARE
    p record;
    masks record;
BEGIN
    IF p_at IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing time for the release evaluation';
    END IF;
    p := fmtbank.eligibility_params(p_at);
    SELECT coalesce(bit_or(1::bigint << t.test_no) FILTER (WHERE t.required_pre), 0) AS req_pre,
           coalesce(bit_or(1::bigint << t.test_no) FILTER (WHERE t.required_post), 0) AS req_post,
           count(*) FILTER (WHERE t.required_pre)::integer AS n_pre,
           count(*) FILTER (WHERE t.required_post)::integer AS n_post
    INTO masks FROM fmtbank.screening_test_at(p_at) t;
    -- $1 p_at, $2 p_lot, $3 p_statuses, $4 p_details, $5 the day of p_at, $6 pre_window_days,
    -- $7 post_window_days, $8 max_processing_hours, $9/$10 masks of tests required pre/post,
    -- $11/$12 accept ops and limits by test_no + 1 (013's eligibility_params), $13/$14 counts
    RETURN QUERY EXECUTE $q$
    WITH
    tcat AS MATERIALIZED (SELECT t.test_no, t.code FROM fmtbank.screening_test_at($1) t),
    lots AS MATERIALIZED (
        SELECT l.id, l.lot_id, l.donor_id, l.status, l.collected_at, l.collected_at::date AS cd,
               l.processed_at, l.reject_reasons
        FROM fmtbank.lot l
        WHERE ($2::uuid IS NULL OR l.id = $2::uuid)
          AND ($3::text[] IS NULL OR l.status = ANY ($3::text[]))
          AND l.created_at <= $1),
    -- acceptable results of the two windows as bitmasks over test_no, per lot
    m AS MATERIALIZED (
        SELECT lo.id AS lot,
               bit_or(1::bigint << r.test_no) FILTER (WHERE r.collected <= lo.cd) AS pre_ok,
               bit_or(1::bigint << r.test_no) FILTER (WHERE r.collected > lo.cd) AS post_ok
        FROM lots lo
        JOIN fmtbank.result r ON r.donor_id = lo.donor_id
        WHERE r.collected >= lo.cd - $6 AND r.collected <= lo.cd + $7 AND r.collected <= $5
          AND r.recorded_at <= $1 AND (r.superseded_at IS NULL OR r.superseded_at > $1)
          AND (r.result = 'negative'
               OR (r.value IS NOT NULL AND CASE $11[r.test_no + 1]
                                             WHEN 1 THEN r.value <= $12[r.test_no + 1]
                                             WHEN 2 THEN r.value < $12[r.test_no + 1]
                                             ELSE false END))
        GROUP BY lo.id),
    mm AS MATERIALIZED (
        SELECT lo.id AS lot, lo.cd, $9 & ~coalesce(m.pre_ok, 0) AS miss_pre,
               $10 & ~coalesce(m.post_ok, 0) AS miss_post
        FROM lots lo LEFT JOIN m ON m.lot = lo.id),
    -- names of the missing tests, once per distinct set of them
    mnames AS MATERIALIZED (
        SELECT x.mask, string_agg(t.code, ', ' ORDER BY t.test_no) AS names
        FROM (SELECT mm.miss_pre AS mask FROM mm WHERE mm.miss_pre <> 0
              UNION SELECT mm.miss_post FROM mm WHERE mm.miss_post <> 0) x
        JOIN tcat t ON (x.mask >> t.test_no) & 1 = 1
        GROUP BY x.mask),
    -- unacceptable results in the windows (rare: the partial index of non-negative results)
    bad AS MATERIALIZED (
        SELECT lo.id AS lot, lo.cd, lo.donor_id, r.test_no, r.collected, r.result, r.unit
        FROM lots lo
        JOIN fmtbank.result r ON r.donor_id = lo.donor_id AND r.result <> 'negative'
        WHERE r.collected >= lo.cd - $6 AND r.collected <= lo.cd + $7 AND r.collected <= $5
          AND r.recorded_at <= $1 AND (r.superseded_at IS NULL OR r.superseded_at > $1)
          AND NOT (r.value IS NOT NULL AND CASE $11[r.test_no + 1]
                                             WHEN 1 THEN r.value <= $12[r.test_no + 1]
                                             WHEN 2 THEN r.value < $12[r.test_no + 1]
                                             ELSE false END)),
    -- ... kept when no acceptable retest of the same test separates them from the donation
    span AS (
        SELECT b.lot, t.code, b.collected, b.result, b.unit, lo_.d AS lo, hi_.d AS hi, b.cd
        FROM bad b
        JOIN tcat t ON t.test_no = b.test_no
        LEFT JOIN LATERAL (
            SELECT max(r.collected) AS d FROM fmtbank.result r
            WHERE r.donor_id = b.donor_id AND r.test_no = b.test_no
              AND r.collected >= b.cd - $6 AND r.collected <= b.cd
              AND r.recorded_at <= $1 AND (r.superseded_at IS NULL OR r.superseded_at > $1)
              AND (r.result = 'negative'
                   OR (r.value IS NOT NULL AND CASE $11[r.test_no + 1]
                                                 WHEN 1 THEN r.value <= $12[r.test_no + 1]
                                                 WHEN 2 THEN r.value < $12[r.test_no + 1]
                                                 ELSE false END))) lo_ ON true
        LEFT JOIN LATERAL (
            SELECT min(r.collected) AS d FROM fmtbank.result r
            WHERE r.donor_id = b.donor_id AND r.test_no = b.test_no
              AND r.collected > b.cd AND r.collected <= b.cd + $7 AND r.collected <= $5
              AND r.recorded_at <= $1 AND (r.superseded_at IS NULL OR r.superseded_at > $1)
              AND (r.result = 'negative'
                   OR (r.value IS NOT NULL AND CASE $11[r.test_no + 1]
                                                 WHEN 1 THEN r.value <= $12[r.test_no + 1]
                                                 WHEN 2 THEN r.value < $12[r.test_no + 1]
                                                 ELSE false END))) hi_ ON true
        WHERE (lo_.d IS NULL OR b.collected >= lo_.d) AND (hi_.d IS NULL OR b.collected <= hi_.d)),
    -- the donation-day questionnaire in force
    sq AS (
        SELECT lo.id AS lot, q.id AS qid,
               (SELECT string_agg(a.item, ', ' ORDER BY i.sort_order)
                FROM fmtbank.questionnaire_answer a
                JOIN fmtbank.question_item i ON i.code = a.item
                WHERE a.questionnaire_id = q.id AND a.yes) AS yes_items
        FROM lots lo
        JOIN fmtbank.questionnaire q
          ON q.donor_id = lo.donor_id AND q.kind = 'short' AND q.q_date = lo.cd
         AND q.recorded_at <= $1 AND (q.superseded_at IS NULL OR q.superseded_at > $1)),
    -- open lookback cases and the lots they hold
    oc AS MATERIALIZED (
        SELECT c.* FROM fmtbank.lookback_case_at($1) c
        WHERE c.status = 'open' AND c.donor_id IN (SELECT lots.donor_id FROM lots)),
    lb AS (
        SELECT lo.id AS lot, oc.case_id, oc.test, oc.outcome, oc.collected, oc.hold_from
        FROM lots lo JOIN oc ON oc.donor_id = lo.donor_id AND lo.cd >= oc.hold_from),
    -- the manual decision in force per donor
    md AS (
        SELECT DISTINCT ON (x.donor_id) x.donor_id, x.decision, x.reason, x.decided_by,
               x.recorded_at
        FROM fmtbank.donor_decision x
        WHERE x.recorded_at <= $1 AND x.donor_id IN (SELECT lots.donor_id FROM lots)
        ORDER BY x.donor_id, x.recorded_at DESC)
    SELECT lo.id, 'status'::text, 10, lo.status IN ('quarantine', 'ready'),
           CASE WHEN lo.status IN ('quarantine', 'ready') THEN
                  CASE WHEN $4 THEN format('not released, rejected or recalled (stored: %s)', lo.status) END
                WHEN lo.status = 'released' THEN
                  format('released on %s by %s', fmtbank.ts_text(s.signed_at), s.printed_name)
                WHEN lo.status = 'rejected' THEN
                  format('rejected: %s', (SELECT string_agg(x ->> 'rule', ', ')
                                          FROM jsonb_array_elements(lo.reject_reasons) x))
                ELSE 'recalled' || coalesce(format(' by lookback case %s',
                    (SELECT max(h.case_id) FROM fmtbank.lookback_hold h
                     WHERE h.lot = lo.id AND h.action = 'recall_lot')), '') END
    FROM lots lo LEFT JOIN fmtbank.release_signature s ON s.lot = lo.id AND lo.status = 'released'
    UNION ALL
    SELECT lo.id, 'processing', 20, v.ok,
           CASE WHEN lo.processed_at IS NULL THEN 'not processed yet'
                WHEN NOT v.ok OR $4 THEN
                  format('processed %s after collection (%s to %s); the limit is %s h',
                         fmtbank.duration_text(lo.processed_at - lo.collected_at),
                         fmtbank.ts_text(lo.collected_at), fmtbank.ts_text(lo.processed_at),
                         fmtbank.num_text($8)) END
    FROM lots lo
    CROSS JOIN LATERAL (SELECT coalesce(lo.processed_at - lo.collected_at <= $8 * interval '1 hour',
                                        false) AS ok) v
    UNION ALL
    SELECT lo.id, 'donation_questionnaire', 30, sq.qid IS NOT NULL AND sq.yes_items IS NULL,
           CASE WHEN sq.qid IS NULL THEN format('no donation-day questionnaire recorded for %s', lo.cd)
                WHEN sq.yes_items IS NOT NULL
                  THEN format('donation-day questionnaire of %s: yes to %s', lo.cd, sq.yes_items)
                WHEN $4 THEN format('donation-day questionnaire of %s: every answer no', lo.cd) END
    FROM lots lo LEFT JOIN sq ON sq.lot = lo.id
    UNION ALL
    SELECT mm.lot, 'pre_panel', 40, mm.miss_pre = 0,
           CASE WHEN mm.miss_pre = 0 THEN
                  CASE WHEN $4 THEN format('acceptable results of all %s required tests collected from %s to %s',
                                           $13, mm.cd - $6, mm.cd) END
                WHEN mm.miss_pre = $9 THEN
                  format('no acceptable result of the %s required tests collected from %s to %s',
                         $13, mm.cd - $6, mm.cd)
                ELSE format('no acceptable %s result collected from %s to %s', n.names,
                            mm.cd - $6, mm.cd) END
    FROM mm LEFT JOIN mnames n ON n.mask = mm.miss_pre
    UNION ALL
    SELECT mm.lot, 'post_panel', 50, mm.miss_post = 0,
           CASE WHEN mm.miss_post = 0 THEN
                  CASE WHEN $4 THEN format('acceptable results of all %s required tests collected from %s to %s',
                                           $14, mm.cd + 1, mm.cd + $7) END
                ELSE format('%s collected from %s to %s (%s)',
                            CASE WHEN mm.miss_post = $10
                                 THEN format('no acceptable result of the %s required tests', $14)
                                 ELSE format('no acceptable %s result', n.names) END,
                            mm.cd + 1, mm.cd + $7,
                            CASE WHEN $5 <= mm.cd THEN format('the window opens on %s', mm.cd + 1)
                                 WHEN $5 < mm.cd + $7 THEN format('the window is open until %s', mm.cd + $7)
                                 ELSE format('the window closed on %s', mm.cd + $7) END) END
    FROM mm LEFT JOIN mnames n ON n.mask = mm.miss_post
    UNION ALL
    SELECT sp.lot, 'unacceptable_result', 60, false,
           format('%s %s collected %s, between the pre- and post-donation results (%s to %s)',
                  sp.code, concat_ws(' ', sp.result, sp.unit), sp.collected,
                  coalesce(sp.lo, sp.cd - $6), coalesce(sp.hi, sp.cd + $7))
    FROM span sp
    UNION ALL
    SELECT lo.id, 'unacceptable_result', 60, true,
           'no unacceptable result between the pre- and post-donation results'
    FROM lots lo WHERE $4 AND NOT EXISTS (SELECT 1 FROM span sp WHERE sp.lot = lo.id)
    UNION ALL
    SELECT lb.lot, 'lookback', 70, false,
           format('held by open lookback case %s: %s %s collected %s holds %s', lb.case_id, lb.test,
                  lb.outcome, lb.collected,
                  CASE WHEN lb.hold_from = '-infinity' THEN 'every lot of the donor'
                       ELSE format('the lots collected from %s on', lb.hold_from) END)
    FROM lb
    UNION ALL
    SELECT lo.id, 'lookback', 70, true, 'no open lookback case holds the lot'
    FROM lots lo WHERE $4 AND NOT EXISTS (SELECT 1 FROM lb WHERE lb.lot = lo.id)
    UNION ALL
    SELECT lo.id, 'donor_excluded', 80, md.decision IS DISTINCT FROM 'exclude',
           CASE WHEN md.decision = 'exclude'
                  THEN format('donor excluded by %s on %s: %s', md.decided_by, md.recorded_at::date,
                              md.reason)
                WHEN $4 THEN 'no manual exclusion of the donor in force' END
    FROM lots lo LEFT JOIN md ON md.donor_id = lo.donor_id
    $q$
    USING p_at, p_lot, p_statuses, p_details, p_at::date,
          fmtbank.rule_value('pre_window_days', p_at)::integer,
          fmtbank.rule_value('post_window_days', p_at)::integer,
          fmtbank.rule_value('max_processing_hours', p_at), masks.req_pre, masks.req_post, p.ops,
          p.limits, masks.n_pre, masks.n_post;
END $fn$;

-- The failing rules per lot, [{rule, detail}] in rule order; [] = releasable at p_at.
CREATE FUNCTION fmtbank.lot_blocking_at(p_at timestamptz, p_lot uuid DEFAULT NULL,
                                        p_statuses text[] DEFAULT NULL)
RETURNS TABLE (lot uuid, blocking jsonb)
LANGUAGE sql STABLE AS $$
    SELECT c.lot,
           coalesce(jsonb_agg(jsonb_build_object('rule', c.rule, 'detail', c.detail)
                              ORDER BY c.ord, c.detail) FILTER (WHERE NOT c.ok), '[]'::jsonb)
    FROM fmtbank.lot_check_at(p_at, p_lot, p_statuses, false) c
    GROUP BY c.lot
$$;

-- What a lot is shown as: a quarantined or ready lot as ready exactly when nothing blocks it.
CREATE FUNCTION fmtbank.lot_status_shown(p_status text, p_blocking jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p_status IN ('quarantine', 'ready')
            THEN CASE WHEN p_blocking = '[]'::jsonb THEN 'ready' ELSE 'quarantine' END
            ELSE p_status END;

-- Every lot with its displayed status and what blocks its release now (product.md §5: lot,
-- donor, status, blocking, aliquots).
CREATE VIEW fmtbank.lot_state AS
    SELECT l.lot_id AS lot, d.code AS donor, fmtbank.lot_status_shown(l.status, b.blocking) AS status,
           b.blocking, (SELECT count(*) FROM fmtbank.aliquot a WHERE a.lot = l.id) AS aliquots,
           l.doses, l.status AS stored_status, l.collected_at, l.processed_at,
           s.signed_at AS released_at, s.printed_name AS released_by, l.id AS uuid,
           l.donor_id
    FROM fmtbank.lot l
    JOIN fmtbank.donor d ON d.id = l.donor_id
    JOIN fmtbank.lot_blocking_at(clock_timestamp()) b ON b.lot = l.id
    LEFT JOIN fmtbank.release_signature s ON s.lot = l.id;

-- "fmtbank lot show" and "fmtbank release check": one lot, evaluated now.
CREATE FUNCTION fmtbank.lot_show(p_lot text) RETURNS SETOF fmtbank.lot_state
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE l fmtbank.lot := fmtbank.lot_get(p_lot);
BEGIN
    RETURN QUERY
    SELECT l.lot_id, d.code, fmtbank.lot_status_shown(l.status, b.blocking), b.blocking,
           (SELECT count(*) FROM fmtbank.aliquot a WHERE a.lot = l.id), l.doses, l.status,
           l.collected_at, l.processed_at, s.signed_at, s.printed_name, l.id, l.donor_id
    FROM fmtbank.donor d
    JOIN fmtbank.lot_blocking_at(clock_timestamp(), l.id) b ON b.lot = l.id
    LEFT JOIN fmtbank.release_signature s ON s.lot = l.id
    WHERE d.id = l.donor_id;
END $$;

-- "fmtbank lot list": every lot, or those shown in state p_status.
CREATE FUNCTION fmtbank.lot_list(p_status text) RETURNS SETOF fmtbank.lot_state
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE st text;
BEGIN
    IF p_status IS NOT NULL THEN
        st := fmtbank.check_choice(p_status, '--status', ARRAY['quarantine', 'ready', 'released',
                                                               'rejected', 'recalled']);
    END IF;
    RETURN QUERY SELECT * FROM fmtbank.lot_state s WHERE st IS NULL OR s.status = st
                 ORDER BY s.lot;
END $$;

REVOKE ALL ON fmtbank.lot_state FROM PUBLIC;
GRANT SELECT ON fmtbank.lot_state
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.duration_text(interval), fmtbank.lookback_case_at(timestamptz),
    fmtbank.lot_check_at(timestamptz, uuid, text[], boolean),
    fmtbank.lot_blocking_at(timestamptz, uuid, text[]), fmtbank.lot_status_shown(text, jsonb),
    fmtbank.lot_show(text), fmtbank.lot_list(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA fmtbank FROM PUBLIC;
