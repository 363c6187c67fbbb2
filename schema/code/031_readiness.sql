-- 031_readiness: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 031_readiness: release readiness of lots (the "sandwich", domain.md Timing), computed, never
-- typed, in one set-based statement for one lot or all of them.
--
-- A lot is releasable at p_at when every rule below passes, judged with the results,
-- questionnaires and decisions in force at p_at (recorded by then, not superseded by then) and the
-- rule set in force at p_at (so a rule change reaches banked stock at once). Days are the
-- collection day cd = collected_at::date in the session's time zone, as eligibility (013) does.
--   status                 stored status quarantine or ready (not rejected, recalled, released);
--                          at a past p_at the status stored then (the lot's version, 160_asof)
--   processing             processed, within max_processing_hours of collection
--   donation_questionnaire the donation-day questionnaire of cd is recorded and every answer no
--   pre_panel              every test required pre-donation has an acceptable result collected in
--                          [cd - pre_window_days, cd]
--   post_panel             every test required post-donation has an acceptable result collected
--                          in (cd, cd + post_window_days]
--   post_donation_check    a clear follow-up or full questionnaire dated in [cd + followup_min_days,
--                          cd + post_window_days]: no yes, and no date answer whose disclosure
--                          window [D - lookback_days, D + defer_days) holds cd (106). A flagged one
--                          opens its case (106), whose hold blocks until decided; the check itself
--                          is passed only by a clear questionnaire in the window
--   unacceptable_result    no unacceptable result (positive, out of limit, indeterminate) "in
--                          between": for a test T, an unacceptable T collected in the windows
--                          blocks unless an acceptable T collected after it and on or before cd
--                          (a retest before the donation) precedes it in the pre window, or it
--                          comes after the first acceptable T of the post window; same day as an
--                          acceptable result = in between (it cannot be told which came first)
--   hold                   no case holds the lot (100: holds by scope, stored with the signal; the
--                          result cases of 034 hold the donor's lots collected on
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
CREATE OR REPLACE FUNCTION fmtbank.duration_text(p interval) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN extract(epoch FROM p) >= 3600
            THEN format('%s h %s min', floor(extract(epoch FROM p) / 3600),
                        floor(mod(extract(epoch FROM p), 3600) / 60))
            ELSE format('%s min', floor(extract(epoch FROM p) / 60)) END;

-- Every lookback case opened by p_at with the first collection day it holds: an applied case as
-- applied; otherwise LEAST(the last acceptable result of the same test collected before the
-- unacceptable one, its collection day - lookback_min_days), or -infinity (every lot) when there is
-- no earlier acceptable result; results in force and rules at p_at.
CREATE OR REPLACE FUNCTION fmtbank.lookback_case_at(p_at timestamptz)
RETURNS TABLE (case_id bigint, donor_id uuid, result_id uuid, test_no smallint, test text,
               collected date, outcome text, status text, opened_at timestamptz,
               last_acceptable date, hold_from date)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.id, c.donor_id, c.result_id, c.test_no, t.code, c.collected, c.outcome,
           CASE c.status WHEN 'decided' THEN 'applied' ELSE c.status END, c.opened_at, la.d,
           CASE WHEN c.hold_from IS NOT NULL THEN c.hold_from
                WHEN la.d IS NULL THEN '-infinity'::date
                ELSE LEAST(la.d, c.collected - mn.days) END
    FROM fmtbank.safety_case c
    JOIN fmtbank.screening_test_at(p_at) t ON t.test_no = c.test_no
    CROSS JOIN (SELECT fmtbank.rule_value('lookback_min_days', p_at)::integer AS days) mn
    LEFT JOIN LATERAL (
        SELECT max(r.collected) AS d FROM fmtbank.result r
        WHERE r.donor_id = c.donor_id AND r.test_no = c.test_no AND r.collected < c.collected
          AND r.recorded_at <= p_at AND (r.superseded_at IS NULL OR r.superseded_at > p_at)
          AND fmtbank.result_acceptable(r.result, r.value, t.accept_op, t.accept_limit)) la ON true
    WHERE c.opened_at <= p_at AND c.source = 'result'
$$;

-- The parameters of one evaluation (lot_eval): one value of this type, the single parameter of
-- its statement, whose fields it names (($1).day, ($1).cat.required_pre); EXECUTE ... USING
-- plans the statement with the value as a constant, so every field is a constant to the planner.
-- at, lots, statuses, details: lot_eval's arguments; day: the date of at; pre_days, post_days,
-- max_hours: the windows and processing limit in force at "at"; donors: the lots' donors (NULL:
-- most of them, no filter); first_day: the first day of their windows; review: the stored status
-- is set aside; cat: the catalog (010 catalog_vectors_at); fu_days: followup_min_days. A type of the code set, like
-- catalog_vectors (010).
DROP TYPE IF EXISTS fmtbank.lot_eval_param CASCADE;
CREATE TYPE fmtbank.lot_eval_param AS (at timestamptz, lots uuid[], statuses text[],
                                       details boolean, day date, pre_days integer,
                                       post_days integer, max_hours numeric, donors uuid[],
                                       first_day date, review boolean,
                                       cat fmtbank.catalog_vectors, fu_days integer);

-- The evaluation, one statement for some lots or all of them. p_lots: the lots, or NULL for all;
-- p_statuses: only lots stored in one of these states (NULL: any). p_mode 'rules': every rule of
-- every lot, (lot, rule, ord, ok, detail), details written for failing rules and, when p_details,
-- for passing ones too (the snapshot, lot show); rows of a lot in rule order by ord, then detail.
-- p_mode 'ready': one row per lot, rule 'releasable', ok = no rule fails (the sweep); 'review':
-- the same, the lot's stored status aside (released stock under the current rules). All read
-- the same per-lot facts (CTE f), so a verdict and its explanation cannot disagree.
--
-- Cost: the rule set is read once into constants; the results of the lots' donors are read in
-- one pass (the donors are a constant array, so the planner probes the index for a few and scans
-- with a hashed filter for many) into one bitmask over test_no per donor and collection day, and
-- the unacceptable ones (rare) from the partial index of non-negative results.
-- Hash joins only (enable_mergejoin off): every CTE below joins the lots to per-donor facts,
-- and merge joins sorted the 200,000 lots again for each of them (the first pass after generate:
-- 3.0-3.3 s of backend CPU against 2.5 s; 50 lots: the same 0.02-0.03 s).
CREATE OR REPLACE FUNCTION fmtbank.lot_eval(p_at timestamptz, p_lots uuid[], p_statuses text[],
                                 p_details boolean, p_mode text)
RETURNS TABLE (lot uuid, rule text, ord integer, ok boolean, detail text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off SET enable_mergejoin = off
    SET parallel_setup_cost = 10 SET parallel_tuple_cost = 0.001 AS $fn$
DECLARE
    p fmtbank.lot_eval_param;
    q text;
    past boolean;
BEGIN
    IF p_at IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing time for the release evaluation';
    END IF;
    p.at := p_at;
    p.lots := p_lots;
    p.statuses := p_statuses;
    p.details := p_details;
    p.day := p_at::date;
    p.pre_days := fmtbank.rule_value('pre_window_days', p_at)::integer;
    p.post_days := fmtbank.rule_value('post_window_days', p_at)::integer;
    p.max_hours := fmtbank.rule_value('max_processing_hours', p_at);
    p.fu_days := fmtbank.rule_value('followup_min_days', p_at)::integer;
    p.review := p_mode = 'review';
    p.cat := fmtbank.catalog_vectors_at(p_at);
    -- a past moment (a lot row changed after it): the lots as recorded then (their versions,
    -- 160 lot_at), so that no state stored later leaks into the answer; else the table itself
    -- (the present-time path: one index probe decides)
    IF p_lots IS NULL THEN
        past := EXISTS (SELECT 1 FROM fmtbank.lot_version v WHERE v.valid_from > p_at);
    ELSE
        past := EXISTS (SELECT 1 FROM fmtbank.lot_version v
                        WHERE v.lot = ANY (p_lots) AND v.valid_from > p_at);
    END IF;
    SELECT coalesce(array_agg(DISTINCT l.donor_id), '{}'), min(l.collected_at)::date - p.pre_days - 1
    INTO p.donors, p.first_day
    FROM (SELECT x.id, x.donor_id, x.status, x.collected_at, x.created_at FROM fmtbank.lot x
          WHERE NOT past
          UNION ALL
          SELECT x.id, x.donor_id, x.status, x.collected_at, x.created_at
          FROM fmtbank.lot_at(p_at, p_lots) x WHERE past) l
    WHERE (p_lots IS NULL OR l.id = ANY (p_lots)) AND (p_statuses IS NULL OR l.status = ANY (p_statuses))
      AND l.created_at <= p_at;
    -- most donors: a plain pass over the results is cheaper than looking each row's donor up
    IF cardinality(p.donors) > 0.5 * (SELECT pc.reltuples FROM pg_class pc
                                      WHERE pc.oid = 'fmtbank.donor'::regclass) THEN
        p.donors := NULL;
    END IF;

    -- one parameter, $1: p (lot_eval_param, above), whose fields the text names
    q := $q$
    WITH
    lots AS MATERIALIZED (
        SELECT l.id, l.lot_id, l.donor_id, l.status, l.collected_at, l.collected_at::date AS cd,
               l.processed_at, l.reject_reasons,
               pl.preparation AS placebo_preparation -- a placebo preparation (270): no donor rules
        FROM fmtbank.lot l /* the lots */
        LEFT JOIN fmtbank.trial_placebo_lot pl ON pl.lot = l.id
        WHERE (($1).lots IS NULL OR l.id = ANY (($1).lots))
          AND (($1).statuses IS NULL OR l.status = ANY (($1).statuses))
          AND l.created_at <= ($1).at),
    -- every result that is not "negative" in the windows (few: values, positives; the partial
    -- index result_not_negative), judged under the accept rule
    nn AS MATERIALIZED (
        SELECT r.donor_id, r.test_no, r.collected, r.result,
               fmtbank.result_acceptable(r.result, r.value, ($1).cat.ops[r.test_no + 1],
                                         ($1).cat.limits[r.test_no + 1]) AS ok
        FROM fmtbank.result r
        WHERE (($1).donors IS NULL OR r.donor_id = ANY (($1).donors)) AND r.result <> 'negative'
          AND r.collected >= ($1).first_day AND r.collected <= ($1).day
          AND r.recorded_at <= ($1).at AND (r.superseded_at IS NULL OR r.superseded_at > ($1).at)),
    -- acceptable results per donor and collection day as a bitmask over test_no (a panel is
    -- one row): the negatives per day (result_ok_days), the other acceptable ones from nn
    dm AS MATERIALIZED (
        SELECT x.donor_id, x.collected, bit_or(x.okmask) AS okmask
        FROM (SELECT o.donor_id, o.collected, o.okmask
              FROM fmtbank.result_ok_days(($1).at, ($1).first_day, ($1).day, ($1).donors, ($1).cat) o
              UNION ALL
              SELECT n.donor_id, n.collected, set_bit(($1).cat.zero, n.test_no, 1) FROM nn n
              WHERE n.ok) x
        GROUP BY x.donor_id, x.collected
        HAVING bit_or(x.okmask) <> ($1).cat.zero),
    -- unacceptable results (the unit of a numeric result is its test's)
    bd AS MATERIALIZED (
        SELECT n.donor_id, n.test_no, n.collected, n.result FROM nn n WHERE NOT n.ok),
    -- acceptable results on a lot's own tubes ("result add --specimen": its retained sample,
    -- tested for a test added later): they count in both of that lot's windows (131)
    sp AS MATERIALIZED (
        SELECT a.lot, bit_or(set_bit(($1).cat.zero, r.test_no, 1)) AS okmask
        FROM fmtbank.result r JOIN fmtbank.aliquot a ON a.id = r.specimen
        WHERE r.specimen IS NOT NULL AND (($1).donors IS NULL OR r.donor_id = ANY (($1).donors))
          AND r.recorded_at <= ($1).at AND (r.superseded_at IS NULL OR r.superseded_at > ($1).at)
          AND fmtbank.result_acceptable(r.result, r.value, ($1).cat.ops[r.test_no + 1],
                                        ($1).cat.limits[r.test_no + 1])
        GROUP BY a.lot),
    -- per lot: the tests with an acceptable result in each window
    m AS (
        SELECT lo.id AS lot,
               bit_or(dm.okmask) FILTER (WHERE dm.collected <= lo.cd) AS pre_ok,
               bit_or(dm.okmask) FILTER (WHERE dm.collected > lo.cd) AS post_ok
        FROM lots lo
        JOIN dm ON dm.donor_id = lo.donor_id AND dm.collected >= lo.cd - ($1).pre_days
               AND dm.collected <= lo.cd + ($1).post_days
        GROUP BY lo.id),
    -- an unacceptable result in a lot's windows, unless an acceptable result of the same test
    -- lies between it and the donation, or it comes after the first acceptable one of the post
    -- window (a result the same day as an acceptable one is between)
    span AS (
        SELECT lo.id AS lot, ($1).cat.codes[b.test_no + 1] AS code, b.collected, b.result,
               CASE WHEN b.result NOT IN ('positive', 'indeterminate')
                    THEN ($1).cat.units[b.test_no + 1] END
                   AS unit, lo.cd,
               max(dm.collected) FILTER (WHERE dm.collected <= lo.cd) AS lo,
               min(dm.collected) FILTER (WHERE dm.collected > lo.cd) AS hi
        FROM lots lo
        JOIN bd b ON b.donor_id = lo.donor_id AND b.collected >= lo.cd - ($1).pre_days
                 AND b.collected <= lo.cd + ($1).post_days
        LEFT JOIN dm ON dm.donor_id = lo.donor_id AND dm.collected >= lo.cd - ($1).pre_days
                    AND dm.collected <= lo.cd + ($1).post_days AND get_bit(dm.okmask, b.test_no) = 1
        GROUP BY lo.id, b.test_no, b.collected, b.result, lo.cd
        HAVING (max(dm.collected) FILTER (WHERE dm.collected <= lo.cd) IS NULL
                OR b.collected >= max(dm.collected) FILTER (WHERE dm.collected <= lo.cd))
           AND (min(dm.collected) FILTER (WHERE dm.collected > lo.cd) IS NULL
                OR b.collected <= min(dm.collected) FILTER (WHERE dm.collected > lo.cd))),
    -- donation-day questionnaires in force and their yes answers
    sq AS MATERIALIZED (
        SELECT x.id, x.donor_id, x.q_date FROM fmtbank.questionnaire x
        WHERE (($1).donors IS NULL OR x.donor_id = ANY (($1).donors)) AND x.kind = 'short'
          AND x.q_date > ($1).first_day
          AND x.recorded_at <= ($1).at AND (x.superseded_at IS NULL OR x.superseded_at > ($1).at)),
    -- (every yes to a donation-day item: few, from the partial index of flagged answers)
    ya AS MATERIALIZED (
        SELECT a.questionnaire_id, a.item, i.sort_order
        FROM fmtbank.questionnaire_answer a JOIN fmtbank.question_item i ON i.code = a.item
        WHERE a.yes AND i.questionnaire = 'short'),
    sy AS (
        SELECT ya.questionnaire_id AS qid, string_agg(ya.item, ', ' ORDER BY ya.sort_order) AS items
        FROM ya JOIN sq ON sq.id = ya.questionnaire_id
        GROUP BY ya.questionnaire_id),
    -- follow-up and full questionnaires in force, and per lot those in its post-donation check
    -- window with whether each is clear (106: the answers that would concern the lot)
    pq AS MATERIALIZED (
        SELECT x.id, x.donor_id, x.q_date FROM fmtbank.questionnaire x
        WHERE (($1).donors IS NULL OR x.donor_id = ANY (($1).donors)) AND x.kind IN ('followup', 'full')
          AND x.q_date > ($1).first_day
          AND x.recorded_at <= ($1).at AND (x.superseded_at IS NULL OR x.superseded_at > ($1).at)),
    pi AS MATERIALIZED (
        SELECT i.code, i.defer_days, i.lookback_days FROM fmtbank.question_item_at(($1).at) i),
    -- (their yes or dated answers to the items in force, joined once rather than looked up per
    -- lot and questionnaire: 0.2 s of the 200,000 lots of the first pass)
    pa AS MATERIALIZED (
        SELECT a.questionnaire_id, a.item, a.yes, a.date_value, pi.lookback_days, pi.defer_days
        FROM pq JOIN fmtbank.questionnaire_answer a ON a.questionnaire_id = pq.id
        JOIN pi ON pi.code = a.item
        WHERE a.yes OR a.date_value IS NOT NULL),
    pc AS (
        SELECT lo.id AS lot, min(pq.q_date) FILTER (WHERE fl.item IS NULL) AS clear_on,
               min(pq.q_date) FILTER (WHERE fl.item IS NOT NULL) AS flagged_on,
               min(fl.item) AS flagged_item
        FROM lots lo
        JOIN pq ON pq.donor_id = lo.donor_id AND pq.q_date >= lo.cd + ($1).fu_days
               AND pq.q_date <= lo.cd + ($1).post_days
        LEFT JOIN pa fl ON fl.questionnaire_id = pq.id
             AND (fl.yes OR (fl.date_value IS NOT NULL AND lo.cd >= fl.date_value - fl.lookback_days
                             AND lo.cd < fl.date_value + coalesce(fl.defer_days, 0)))
        GROUP BY lo.id),
    -- the holds in force at ($1).at on the lots (case_hold, 100: one row per case and lot; one
    -- that holds some of a lot's tubes holds the lot's release too, 019 holds_of)
    lb AS (
        SELECT lo.id AS lot, c.case_code, c.source, fmtbank.case_summary(fmtbank.case_at(c, ($1).at)) AS about
        FROM lots lo
        JOIN fmtbank.case_hold h ON h.lot = lo.id AND h.held_at <= ($1).at
             AND (h.ended_at IS NULL OR h.ended_at > ($1).at)
        JOIN fmtbank.safety_case c ON c.id = h.case_id),
    -- the manual decision in force per donor
    md AS (
        SELECT DISTINCT ON (x.donor_id) x.donor_id, x.decision, x.reason, x.decided_by,
               x.recorded_at
        FROM fmtbank.donor_decision x
        WHERE x.recorded_at <= ($1).at AND (($1).donors IS NULL OR x.donor_id = ANY (($1).donors))
        ORDER BY x.donor_id, x.recorded_at DESC),
    spl AS (SELECT DISTINCT span.lot FROM span),
    lbl AS (SELECT DISTINCT lb.lot FROM lb),
    -- the facts of every lot, one row each: what every verdict is made of
    f AS MATERIALIZED (
        SELECT lo.id, lo.lot_id, lo.status, lo.cd, lo.collected_at, lo.processed_at,
               lo.reject_reasons, sq.id AS qid, sy.items AS yes_items,
               CASE WHEN lo.placebo_preparation IS NOT NULL THEN ($1).cat.zero
                    ELSE ($1).cat.required_pre & ~coalesce(m.pre_ok, ($1).cat.zero)
                         & ~coalesce(sp.okmask, ($1).cat.zero) END AS miss_pre,
               CASE WHEN lo.placebo_preparation IS NOT NULL THEN ($1).cat.zero
                    ELSE ($1).cat.required_post & ~coalesce(m.post_ok, ($1).cat.zero)
                         & ~coalesce(sp.okmask, ($1).cat.zero) END AS miss_post,
               lo.placebo_preparation,
               md.decision, md.reason, md.decided_by, md.recorded_at AS decided_at,
               lo.status IN ('quarantine', 'ready') AS ok_status,
               coalesce(lo.processed_at - lo.collected_at <= ($1).max_hours * interval '1 hour', false)
                   AS ok_processing,
               lo.placebo_preparation IS NOT NULL OR (sq.id IS NOT NULL AND sy.items IS NULL)
                   AS ok_questionnaire,
               lo.placebo_preparation IS NOT NULL OR spl.lot IS NULL AS ok_results,
               lbl.lot IS NULL AS ok_lookback,
               lo.placebo_preparation IS NOT NULL OR md.decision IS DISTINCT FROM 'exclude' AS ok_donor,
               lo.placebo_preparation IS NOT NULL OR pc.clear_on IS NOT NULL AS ok_check,
               pc.clear_on, pc.flagged_on, pc.flagged_item
        FROM lots lo
        LEFT JOIN m ON m.lot = lo.id
        LEFT JOIN sp ON sp.lot = lo.id
        LEFT JOIN pc ON pc.lot = lo.id
        LEFT JOIN sq ON sq.donor_id = lo.donor_id AND sq.q_date = lo.cd
        LEFT JOIN sy ON sy.qid = sq.id
        LEFT JOIN md ON md.donor_id = lo.donor_id
        LEFT JOIN spl ON spl.lot = lo.id
        LEFT JOIN lbl ON lbl.lot = lo.id)
    $q$;
    IF past THEN
        q := replace(q, 'FROM fmtbank.lot l /* the lots */', 'FROM fmtbank.lot_at(($1).at, ($1).lots) l');
    END IF;

    IF p_mode IN ('ready', 'review') THEN
        RETURN QUERY EXECUTE q || $q$
        SELECT f.id, 'releasable'::text, 0,
               (f.ok_status OR ($1).review) AND f.ok_processing AND f.ok_questionnaire AND f.miss_pre = ($1).cat.zero
                   AND f.miss_post = ($1).cat.zero AND f.ok_check AND f.ok_results AND f.ok_lookback AND f.ok_donor,
               NULL::text
        FROM f
        $q$
        USING p;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE q || $q$
    ,
    -- names of the missing tests, once per distinct set of them
    mnames AS (
        SELECT x.mask, string_agg(($1).cat.codes[n + 1], ', ' ORDER BY n) AS names
        FROM (SELECT f.miss_pre AS mask FROM f WHERE f.miss_pre <> ($1).cat.zero
              UNION SELECT f.miss_post FROM f WHERE f.miss_post <> ($1).cat.zero) x
        CROSS JOIN generate_series(0, length(($1).cat.zero) - 1) n
        WHERE get_bit(x.mask, n) = 1
        GROUP BY x.mask)
    SELECT f.id, 'status'::text, 10, f.ok_status,
           CASE WHEN f.ok_status THEN
                  CASE WHEN ($1).details THEN format('not released, rejected or recalled (stored: %s)', f.status) END
                WHEN f.status = 'released' THEN
                  'released' || coalesce((SELECT format(' on %s by %s', fmtbank.ts_text(s.signed_at),
                                                        s.printed_name)
                                          FROM fmtbank.release_signature s WHERE s.lot = f.id), '')
                WHEN f.status = 'rejected' THEN
                  format('rejected: %s', (SELECT string_agg(x ->> 'rule', ', ')
                                          FROM jsonb_array_elements(f.reject_reasons) x))
                ELSE 'recalled' || coalesce(format(' by case %s',
                    (SELECT max(c.case_code) FROM fmtbank.lookback_hold h
                     JOIN fmtbank.safety_case c ON c.id = h.case_id
                     WHERE h.lot = f.id AND h.action = 'recall_lot')), '') END
    FROM f
    UNION ALL
    SELECT f.id, 'preparation', 15, true, format('placebo preparation: %s', f.placebo_preparation)
    FROM f WHERE f.placebo_preparation IS NOT NULL AND ($1).details
    UNION ALL
    SELECT f.id, 'processing', 20, f.ok_processing,
           CASE WHEN f.processed_at IS NULL THEN 'not processed yet'
                WHEN NOT f.ok_processing OR ($1).details THEN
                  format('processed %s after collection (%s to %s); the limit is %s h',
                         fmtbank.duration_text(f.processed_at - f.collected_at),
                         fmtbank.ts_text(f.collected_at), fmtbank.ts_text(f.processed_at),
                         fmtbank.num_text(($1).max_hours)) END
    FROM f
    UNION ALL
    SELECT f.id, 'donation_questionnaire', 30, f.ok_questionnaire,
           CASE WHEN f.qid IS NULL THEN format('no donation-day questionnaire recorded for %s', f.cd)
                WHEN f.yes_items IS NOT NULL
                  THEN format('donation-day questionnaire of %s: yes to %s', f.cd, f.yes_items)
                WHEN ($1).details THEN format('donation-day questionnaire of %s: every answer no', f.cd) END
    FROM f
    UNION ALL
    SELECT f.id, 'pre_panel', 40, f.miss_pre = ($1).cat.zero,
           CASE WHEN f.miss_pre = ($1).cat.zero THEN
                  CASE WHEN ($1).details THEN format('acceptable results of all %s required tests collected from %s to %s',
                                           ($1).cat.n_pre, f.cd - ($1).pre_days, f.cd) END
                WHEN f.miss_pre = ($1).cat.required_pre THEN
                  format('no acceptable result of the %s required tests collected from %s to %s',
                         ($1).cat.n_pre, f.cd - ($1).pre_days, f.cd)
                ELSE format('no acceptable %s result collected from %s to %s', n.names,
                            f.cd - ($1).pre_days, f.cd) END
    FROM f LEFT JOIN mnames n ON n.mask = f.miss_pre
    UNION ALL
    SELECT f.id, 'post_panel', 50, f.miss_post = ($1).cat.zero,
           CASE WHEN f.miss_post = ($1).cat.zero THEN
                  CASE WHEN ($1).details THEN format('acceptable results of all %s required tests collected from %s to %s',
                                           ($1).cat.n_post, f.cd + 1, f.cd + ($1).post_days) END
                ELSE format('%s collected from %s to %s (%s)',
                            CASE WHEN f.miss_post = ($1).cat.required_post
                                 THEN format('no acceptable result of the %s required tests', ($1).cat.n_post)
                                 ELSE format('no acceptable %s result', n.names) END,
                            f.cd + 1, f.cd + ($1).post_days,
                            CASE WHEN ($1).day <= f.cd THEN format('the window opens on %s', f.cd + 1)
                                 WHEN ($1).day < f.cd + ($1).post_days
                                   THEN format('the window is open until %s', f.cd + ($1).post_days)
                                 ELSE format('the window closed on %s', f.cd + ($1).post_days) END) END
    FROM f LEFT JOIN mnames n ON n.mask = f.miss_post
    UNION ALL
    SELECT f.id, 'post_donation_check', 55, f.ok_check,
           CASE WHEN f.ok_check THEN
                  CASE WHEN ($1).details THEN format('clear questionnaire of %s, %s days after collection',
                                                     f.clear_on, f.clear_on - f.cd) END
                WHEN f.flagged_on IS NOT NULL
                  THEN format('the questionnaire of %s is not clear (%s); a clear follow-up is needed from %s to %s',
                              f.flagged_on, f.flagged_item, f.cd + ($1).fu_days, f.cd + ($1).post_days)
                ELSE format('no clear follow-up or full questionnaire dated from %s to %s (%s)',
                            f.cd + ($1).fu_days, f.cd + ($1).post_days,
                            CASE WHEN ($1).day < f.cd + ($1).fu_days
                                   THEN format('the window opens on %s', f.cd + ($1).fu_days)
                                 WHEN ($1).day <= f.cd + ($1).post_days
                                   THEN format('the window is open until %s', f.cd + ($1).post_days)
                                 ELSE format('the window closed on %s', f.cd + ($1).post_days) END) END
    FROM f
    UNION ALL
    SELECT sp.lot, 'unacceptable_result', 60, false,
           format('%s %s collected %s, between the pre- and post-donation results (%s to %s)',
                  sp.code, concat_ws(' ', sp.result, sp.unit), sp.collected,
                  coalesce(sp.lo, sp.cd - ($1).pre_days), coalesce(sp.hi, sp.cd + ($1).post_days))
    FROM span sp
    UNION ALL
    SELECT f.id, 'unacceptable_result', 60, true,
           'no unacceptable result between the pre- and post-donation results'
    FROM f WHERE ($1).details AND f.ok_results
    UNION ALL
    SELECT lb.lot, 'hold', 70, false,
           format('held by case %s (%s): %s', lb.case_code, lb.source, lb.about)
    FROM lb
    UNION ALL
    SELECT f.id, 'hold', 70, true, 'no case holds the lot'
    FROM f WHERE ($1).details AND f.ok_lookback
    UNION ALL
    SELECT f.id, 'donor_excluded', 80, f.ok_donor,
           CASE WHEN NOT f.ok_donor
                  THEN format('donor excluded by %s on %s: %s', f.decided_by, f.decided_at::date,
                              f.reason)
                WHEN ($1).details THEN 'no manual exclusion of the donor in force' END
    FROM f
    $q$
    USING p;
END $fn$;

-- Every rule for the lots selected, with its verdict (lot_eval 'rules').
CREATE OR REPLACE FUNCTION fmtbank.lot_check_at(p_at timestamptz, p_lot uuid DEFAULT NULL,
                                     p_statuses text[] DEFAULT NULL, p_details boolean DEFAULT true)
RETURNS TABLE (lot uuid, rule text, ord integer, ok boolean, detail text)
LANGUAGE sql STABLE AS $$
    SELECT * FROM fmtbank.lot_eval(p_at, CASE WHEN p_lot IS NOT NULL THEN ARRAY[p_lot] END,
                                   p_statuses, p_details, 'rules')
$$;

-- Whether each lot selected is releasable at p_at (lot_eval 'ready').
CREATE OR REPLACE FUNCTION fmtbank.lot_ready_at(p_at timestamptz, p_lot uuid DEFAULT NULL,
                                     p_statuses text[] DEFAULT NULL)
RETURNS TABLE (lot uuid, releasable boolean)
LANGUAGE sql STABLE AS $$
    SELECT e.lot, e.ok
    FROM fmtbank.lot_eval(p_at, CASE WHEN p_lot IS NOT NULL THEN ARRAY[p_lot] END, p_statuses,
                          false, 'ready') e
$$;

-- The failing rules per lot, [{rule, detail}] in rule order; [] = releasable at p_at.
CREATE OR REPLACE FUNCTION fmtbank.lot_blocking_at(p_at timestamptz, p_lot uuid DEFAULT NULL,
                                        p_statuses text[] DEFAULT NULL)
RETURNS TABLE (lot uuid, blocking jsonb)
LANGUAGE sql STABLE AS $$
    SELECT c.lot,
           coalesce(jsonb_agg(jsonb_build_object('rule', c.rule, 'detail', c.detail)
                              ORDER BY c.ord, c.detail) FILTER (WHERE NOT c.ok), '[]'::jsonb)
    FROM fmtbank.lot_eval(p_at, CASE WHEN p_lot IS NOT NULL THEN ARRAY[p_lot] END, p_statuses,
                          false, 'rules') c
    GROUP BY c.lot
$$;

-- What a lot is shown as: a quarantined or ready lot as ready exactly when nothing blocks it.
CREATE OR REPLACE FUNCTION fmtbank.lot_status_shown(p_status text, p_blocking jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p_status IN ('quarantine', 'ready')
            THEN CASE WHEN p_blocking = '[]'::jsonb THEN 'ready' ELSE 'quarantine' END
            ELSE p_status END;

-- Every lot with its displayed status and what blocks its release now (product.md §5: lot,
-- donor, status, blocking, aliquots), when it was entered and how long after its collection
-- (product.md §11.2), the reason required then, and why it was rejected.
CREATE OR REPLACE VIEW fmtbank.lot_state AS
    SELECT l.lot_id AS lot, d.code AS donor, fmtbank.lot_status_shown(l.status, b.blocking) AS status,
           b.blocking, (SELECT count(*) FROM fmtbank.aliquot a WHERE a.lot = l.id) AS aliquots,
           l.doses, l.status AS stored_status, l.collected_at, l.processed_at,
           s.signed_at AS released_at, s.printed_name AS released_by, l.id AS uuid,
           l.donor_id, h.holds <> '[]'::jsonb AS held, h.holds, l.created_at AS entered_at,
           l.created_at - l.collected_at AS entered_late, l.entry_reason, l.reject_reasons
    FROM fmtbank.lot l
    CROSS JOIN LATERAL (SELECT fmtbank.holds_of(l.id, NULL) AS holds) h
    JOIN fmtbank.donor d ON d.id = l.donor_id
    JOIN fmtbank.lot_blocking_at(clock_timestamp()) b ON b.lot = l.id
    LEFT JOIN fmtbank.release_signature s ON s.lot = l.id;

-- "fmtbank lot show" and "fmtbank release check": one lot, evaluated now.
CREATE OR REPLACE FUNCTION fmtbank.lot_show(p_lot text) RETURNS SETOF fmtbank.lot_state
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE l fmtbank.lot := fmtbank.lot_get(p_lot);
BEGIN
    RETURN QUERY
    SELECT l.lot_id, d.code, fmtbank.lot_status_shown(l.status, b.blocking), b.blocking,
           (SELECT count(*) FROM fmtbank.aliquot a WHERE a.lot = l.id), l.doses, l.status,
           l.collected_at, l.processed_at, s.signed_at, s.printed_name, l.id, l.donor_id,
           h.holds <> '[]'::jsonb, h.holds, l.created_at, l.created_at - l.collected_at,
           l.entry_reason, l.reject_reasons
    FROM fmtbank.donor d
    CROSS JOIN (SELECT fmtbank.holds_of(l.id, NULL) AS holds) h
    JOIN fmtbank.lot_blocking_at(clock_timestamp(), l.id) b ON b.lot = l.id
    LEFT JOIN fmtbank.release_signature s ON s.lot = l.id
    WHERE d.id = l.donor_id;
END $$;

-- "fmtbank lot list": every lot, or those shown in state p_status.
CREATE OR REPLACE FUNCTION fmtbank.lot_list(p_status text) RETURNS SETOF fmtbank.lot_state
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE st text;
BEGIN
    IF p_status IS NOT NULL THEN
        st := fmtbank.check_choice(p_status, '--status', ARRAY['quarantine', 'ready', 'released',
                                                               'rejected', 'recalled']);
    END IF;
    RETURN QUERY SELECT * FROM fmtbank.lot_state s WHERE st IS NULL OR s.status = st
                 ORDER BY s.lot;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.duration_text(interval),
    fmtbank.lookback_case_at(timestamp with time zone),
    fmtbank.lot_eval(timestamp with time zone, uuid[], text[], boolean, text),
    fmtbank.lot_check_at(timestamp with time zone, uuid, text[], boolean),
    fmtbank.lot_ready_at(timestamp with time zone, uuid, text[]),
    fmtbank.lot_blocking_at(timestamp with time zone, uuid, text[]),
    fmtbank.lot_status_shown(text, jsonb),
    fmtbank.lot_show(text),
    fmtbank.lot_list(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT SELECT ON fmtbank.lot_state
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
