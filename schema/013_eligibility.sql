-- 013_eligibility: manual decisions and the derived donor status.
--
-- Eligibility is computed, never stored: fmtbank.eligibility_rules(p_at, donor, all) is ONE
-- set-based statement that yields, per donor, a row for every rule that fails at p_at (and, for
-- "donor explain", every rule that passes), using only what had been recorded by p_at (rows
-- recorded later and corrections recorded later are invisible) and the rule-set version in force
-- at p_at. Everything else (donor_eligibility_at for all donors, donor_status_at for one,
-- donor_explain_at, the donor list, the status counts) is that statement, filtered or summarised.
--
-- Semantics (domain.md; the day of p_at in the session's time zone is "today"):
--  * a result supports eligibility from its collection day through collected + validity_days;
--    next_screening_due is the last day on which every required test and the full questionnaire
--    still support it (today when something is missing already);
--  * an unacceptable result (positive, a number outside its limit, indeterminate) defers the
--    donor until a later acceptable result of the same test (a retest; same day is not later);
--    positive/out-of-limit on a test marked excludes_permanently excludes; indeterminate never
--    excludes (it is retested);
--  * a full questionnaire is valid for screen_validity_days like a result; a "yes" to an
--    exclusion item on any full questionnaire in force excludes; a date item defers until the
--    latest date given plus its period; a number on the latest full questionnaire outside its
--    clear range defers until a new questionnaire is clear; a donation-day "yes" defers from that
--    day by the item's period;
--  * "deferred until D" means the deferral no longer applies on D;
--  * age is the age reached in the calendar year (from the birth year): below min_age defers
--    until 1 January of the year the donor reaches it, above max_age excludes;
--  * the newest manual decision recorded by p_at applies: exclude, defer until a date, or
--    reinstate (which lifts a manual decision only, never a derived one).

CREATE TABLE fmtbank.donor_decision (
    id          uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    donor_id    uuid NOT NULL REFERENCES fmtbank.donor,
    decision    text NOT NULL CHECK (decision IN ('defer', 'exclude', 'reinstate')),
    until       date,
    reason      text NOT NULL CHECK (btrim(reason) <> ''),
    decided_by  text NOT NULL DEFAULT session_user,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((decision = 'defer') = (until IS NOT NULL))
);
CREATE INDEX donor_decision_donor ON fmtbank.donor_decision (donor_id, recorded_at);
SELECT fmtbank.audit_enable('fmtbank.donor_decision', 'id');

-- The manual decision in force for a donor at p_at (NULL fields when there is none).
CREATE FUNCTION fmtbank.donor_manual_at(p_donor_id uuid, p_at timestamptz)
RETURNS fmtbank.donor_decision LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT * FROM fmtbank.donor_decision
    WHERE donor_id = p_donor_id AND recorded_at <= p_at
    ORDER BY recorded_at DESC LIMIT 1
$$;

-- Records a manual decision after checking the one in force (one round trip per command).
CREATE FUNCTION fmtbank.donor_decide(p_code text, p_decision text, p_until text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    d fmtbank.donor;
    cur fmtbank.donor_decision;
    u date;
    why text;
BEGIN
    PERFORM fmtbank.require_role(CASE p_decision WHEN 'defer' THEN 'deferring donors'
                                                 WHEN 'exclude' THEN 'excluding donors'
                                                 ELSE 'reinstating donors' END, 'quality');
    d := fmtbank.donor_get(p_code);
    IF p_decision = 'defer' THEN
        u := fmtbank.parse_date(p_until, '--until');
        IF u <= current_date THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('deferral date %s is not in the future', u),
                HINT = 'A deferral ends on its --until date: give a later date.';
        END IF;
    END IF;
    why := fmtbank.acting_reason(true, CASE p_decision WHEN 'defer' THEN 'deferring a donor'
                                                       WHEN 'exclude' THEN 'excluding a donor'
                                                       ELSE 'reinstating a donor' END);
    PERFORM 1 FROM fmtbank.donor WHERE id = d.id FOR UPDATE;
    cur := fmtbank.donor_manual_at(d.id, clock_timestamp());
    IF cur.decision = 'exclude' AND p_decision <> 'reinstate' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('donor "%s" is already excluded', d.code),
            DETAIL = format('Excluded by %s on %s: %s', cur.decided_by, cur.recorded_at::date, cur.reason),
            HINT = CASE WHEN p_decision = 'defer'
                        THEN 'Reinstate the donor first ("fmtbank donor reinstate").' END;
    END IF;
    IF p_decision = 'defer' AND cur.decision = 'defer' AND cur.until = u THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('donor "%s" is already deferred until %s', d.code, u);
    END IF;
    IF p_decision = 'reinstate' AND NOT coalesce(cur.decision = 'exclude'
                                                 OR (cur.decision = 'defer' AND cur.until > current_date), false) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('donor "%s" has no manual deferral or exclusion in force', d.code),
            DETAIL = 'Deferrals and exclusions derived from results and questionnaires end by '
                     'themselves, by a retest or by correcting the record; "fmtbank donor explain" '
                     'shows them.';
    END IF;
    INSERT INTO fmtbank.donor_decision (donor_id, decision, until, reason)
    VALUES (d.id, p_decision, u, why);
    PERFORM pg_notify('fmtbank_donor', d.code);
    RETURN d.code;
END $$;

-- The rules. Returns (donor_id, rule, verdict, until, detail, ord): verdict is pass, screening,
-- deferred (until a date, or NULL: until a retest / a clear questionnaire) or excluded; one row
-- "next_screening" (verdict info) per donor carries in until the last day everything in force
-- still supports eligibility. p_donor_id NULL: every donor registered by p_at. p_all: also the
-- rules that pass (explain); without it only failing rules are computed, so the common case (an
-- eligible donor) costs one pass over the results and nothing per test.
--
-- How results are evaluated for 100,000 donors in one pass: every result row in force is
-- grouped by (donor, last day it supports eligibility) into bitmasks over test_no (okmask:
-- required tests with an acceptable result valid today; badmask / exclmask: tests with an
-- unacceptable / permanently excluding result). A cumulative OR over those groups, newest first,
-- gives the set of satisfied tests and the last day on which all are satisfied. The rare tests
-- with an unacceptable result are then looked at one by one through the (donor_id, test_no,
-- collected) index (latest unacceptable, latest acceptable after it).
CREATE FUNCTION fmtbank.eligibility_rules(p_at timestamptz, p_donor_id uuid, p_all boolean)
RETURNS TABLE (donor_id uuid, rule text, verdict text, until date, detail text, ord integer)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog SET jit = off AS $fn$
DECLARE
    v_day date := p_at::date;
    v_valid integer[];
    v_op text[];
    v_lim numeric[];
    v_excl boolean[];
    v_req bigint;
    v_qvalid integer := fmtbank.rule_value('screen_validity_days', p_at)::integer;
    v_min_age integer := fmtbank.rule_value('min_age', p_at)::integer;
    v_max_age integer := fmtbank.rule_value('max_age', p_at)::integer;
BEGIN
    IF p_at IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing time for the eligibility evaluation';
    END IF;
    -- Per-test parameters as arrays indexed by test_no + 1, passed to the statement as constants.
    SELECT array_agg(t.validity_days ORDER BY n), array_agg(t.accept_op ORDER BY n),
           array_agg(t.accept_limit ORDER BY n),
           array_agg(coalesce(t.excludes_permanently, false) ORDER BY n),
           coalesce(bit_or(1::bigint << t.test_no) FILTER (WHERE t.required_pre), 0)
    INTO v_valid, v_op, v_lim, v_excl, v_req
    FROM generate_series(0, 62) n LEFT JOIN fmtbank.screening_test_at(p_at) t ON t.test_no = n;

    RETURN QUERY EXECUTE $q$
    WITH
    tcat AS MATERIALIZED (SELECT * FROM fmtbank.screening_test_at($1)),
    iq AS MATERIALIZED (SELECT * FROM fmtbank.question_item_at($1)),
    dn AS MATERIALIZED (
        SELECT d.id, d.code, d.birth_year FROM fmtbank.donor d
        WHERE d.created_at <= $1 AND ($3::uuid IS NULL OR d.id = $3)),
    -- results: the one pass
    g AS MATERIALIZED (
        SELECT r.donor_id, x.expires,
               coalesce(bit_or(x.bit) FILTER (WHERE x.ok), 0) AS okmask,
               coalesce(bit_or(x.bit) FILTER (WHERE NOT x.ok), 0) AS badmask,
               coalesce(bit_or(x.bit) FILTER (WHERE NOT x.ok AND r.result <> 'indeterminate'
                                              AND $8[r.test_no + 1]), 0) AS exclmask
        FROM fmtbank.result r
        CROSS JOIN LATERAL (
            SELECT 1::bigint << r.test_no AS bit, r.collected + $5[r.test_no + 1] AS expires,
                   fmtbank.result_acceptable(r.result, r.value, $6[r.test_no + 1],
                                             $7[r.test_no + 1]) AS ok) x
        WHERE r.recorded_at <= $1 AND (r.superseded_at IS NULL OR r.superseded_at > $1)
          AND r.collected <= $2 AND ($3::uuid IS NULL OR r.donor_id = $3)
          AND (NOT x.ok OR (x.expires >= $2 AND ($9 & x.bit) <> 0))
        GROUP BY r.donor_id, x.expires),
    gd AS MATERIALIZED (
        SELECT g.donor_id, bit_or(g.badmask) AS badtests, bit_or(g.exclmask) AS excltests
        FROM g GROUP BY g.donor_id),
    -- tests with no unacceptable result: satisfied set and the last day all are satisfied
    cm AS (
        SELECT g.donor_id, g.expires, $9 & ~gd.badtests AS target,
               bit_or(g.okmask & ~gd.badtests)
                   OVER (PARTITION BY g.donor_id ORDER BY g.expires DESC) AS cum
        FROM g JOIN gd ON gd.donor_id = g.donor_id
        WHERE g.okmask & ~gd.badtests <> 0),
    ts AS MATERIALIZED (
        SELECT cm.donor_id, bit_or(cm.cum) AS satmask,
               max(cm.expires) FILTER (WHERE cm.cum & cm.target = cm.target) AS all_until
        FROM cm GROUP BY cm.donor_id),
    -- tests with an unacceptable result, one by one
    bp AS MATERIALIZED (
        SELECT gd.donor_id, t.code, t.test_no, t.required_pre, t.validity_days, t.accept_op,
               t.accept_limit, t.unit AS tunit, lb.collected AS last_bad,
               lb.result AS bad_result, ex.collected AS excl_date, ex.result AS excl_result,
               ok.collected AS ok_after, ok.collected + t.validity_days AS ok_expires
        FROM gd
        JOIN tcat t ON (gd.badtests >> t.test_no) & 1 = 1
        CROSS JOIN LATERAL (
            SELECT r.collected, r.result FROM fmtbank.result r
            WHERE r.donor_id = gd.donor_id AND r.test_no = t.test_no AND r.collected <= $2
              AND r.recorded_at <= $1 AND (r.superseded_at IS NULL OR r.superseded_at > $1)
              AND NOT fmtbank.result_acceptable(r.result, r.value, t.accept_op, t.accept_limit)
            ORDER BY r.collected DESC, r.recorded_at DESC LIMIT 1) lb
        LEFT JOIN LATERAL (
            SELECT r.collected, r.result FROM fmtbank.result r
            WHERE t.excludes_permanently AND (gd.excltests >> t.test_no) & 1 = 1
              AND r.donor_id = gd.donor_id AND r.test_no = t.test_no AND r.collected <= $2
              AND r.recorded_at <= $1 AND (r.superseded_at IS NULL OR r.superseded_at > $1)
              AND r.result <> 'indeterminate'
              AND NOT fmtbank.result_acceptable(r.result, r.value, t.accept_op, t.accept_limit)
            ORDER BY r.collected, r.recorded_at LIMIT 1) ex ON true
        LEFT JOIN LATERAL (
            SELECT r.collected FROM fmtbank.result r
            WHERE r.donor_id = gd.donor_id AND r.test_no = t.test_no AND r.collected <= $2
              AND r.collected > lb.collected
              AND r.recorded_at <= $1 AND (r.superseded_at IS NULL OR r.superseded_at > $1)
              AND fmtbank.result_acceptable(r.result, r.value, t.accept_op, t.accept_limit)
            ORDER BY r.collected DESC LIMIT 1) ok ON true
        WHERE gd.badtests <> 0),
    bpd AS (
        SELECT bp.donor_id,
               bool_or(bp.required_pre AND (bp.ok_expires IS NULL OR bp.ok_expires < $2)) AS missing,
               min(bp.ok_expires) FILTER (WHERE bp.required_pre) AS until
        FROM bp GROUP BY bp.donor_id),
    -- questionnaires in force
    qf AS MATERIALIZED (
        SELECT q.id, q.donor_id, q.kind, q.q_date FROM fmtbank.questionnaire q
        WHERE q.recorded_at <= $1 AND (q.superseded_at IS NULL OR q.superseded_at > $1)
          AND q.q_date <= $2 AND ($3::uuid IS NULL OR q.donor_id = $3)),
    ql AS MATERIALIZED (
        SELECT DISTINCT ON (qf.donor_id) qf.donor_id, qf.id, qf.q_date
        FROM qf WHERE qf.kind = 'full' ORDER BY qf.donor_id, qf.q_date DESC),
    qa AS MATERIALIZED (
        SELECT qf.donor_id, qf.id AS qid, qf.kind, qf.q_date, a.item, a.yes, a.date_value,
               a.num_value
        FROM qf JOIN fmtbank.questionnaire_answer a ON a.questionnaire_id = qf.id
        WHERE a.yes OR a.date_value IS NOT NULL OR a.num_value IS NOT NULL),
    -- failing questionnaire items
    irows AS MATERIALIZED (
        SELECT qa.donor_id, 'item:' || qa.item AS rule, 'excluded' AS verdict, NULL::date AS until,
               format('answered yes on %s', min(qa.q_date)) AS detail, 100 + i.sort_order AS ord
        FROM qa JOIN iq i ON i.code = qa.item
        WHERE qa.kind = 'full' AND qa.yes AND i.effect = 'exclude'
        GROUP BY qa.donor_id, qa.item, i.sort_order
        UNION ALL
        SELECT x.donor_id, 'item:' || x.item, 'deferred', x.last + x.days,
               format('last on %s; deferred %s days, until %s', x.last, x.days, x.last + x.days),
               100 + x.sort_order
        FROM (SELECT qa.donor_id, qa.item, i.sort_order, i.defer_days AS days,
                     max(qa.date_value) AS last
              FROM qa JOIN iq i ON i.code = qa.item
              WHERE qa.kind = 'full' AND qa.date_value IS NOT NULL AND i.effect = 'defer'
              GROUP BY qa.donor_id, qa.item, i.sort_order, i.defer_days) x
        WHERE x.last + x.days > $2
        UNION ALL
        SELECT x.donor_id, 'item:' || x.item, 'deferred', x.last + x.days,
               format('yes on the donation-day questionnaire of %s; deferred %s days, until %s',
                      x.last, x.days, x.last + x.days),
               100 + x.sort_order
        FROM (SELECT qa.donor_id, qa.item, i.sort_order, i.defer_days AS days,
                     max(qa.q_date) AS last
              FROM qa JOIN iq i ON i.code = qa.item
              WHERE qa.kind = 'short' AND qa.yes AND i.effect = 'defer'
              GROUP BY qa.donor_id, qa.item, i.sort_order, i.defer_days) x
        WHERE x.last + x.days > $2
        UNION ALL
        SELECT qa.donor_id, 'item:' || qa.item, 'deferred', NULL,
               format('%s on %s is outside the clear range %s', qa.num_value, qa.q_date,
                      concat_ws(' to ', coalesce(i.clear_min, i.answer_min), coalesce(i.clear_max, i.answer_max))),
               100 + i.sort_order
        FROM qa JOIN ql ON ql.id = qa.qid JOIN iq i ON i.code = qa.item
        WHERE qa.num_value IS NOT NULL AND i.effect = 'range'
          AND (qa.num_value < i.clear_min OR qa.num_value > i.clear_max)),
    md AS (
        SELECT DISTINCT ON (m.donor_id) m.* FROM fmtbank.donor_decision m
        WHERE m.recorded_at <= $1 AND ($3::uuid IS NULL OR m.donor_id = $3)
        ORDER BY m.donor_id, m.recorded_at DESC)
    -- manual decision
    SELECT dn.id, 'manual',
           CASE WHEN md.decision = 'exclude' THEN 'excluded'
                WHEN md.decision = 'defer' AND md.until > $2 THEN 'deferred' ELSE 'pass' END,
           CASE WHEN md.decision = 'defer' AND md.until > $2 THEN md.until END,
           CASE WHEN md.decision = 'exclude'
                  THEN format('excluded by %s on %s: %s', md.decided_by, md.recorded_at::date, md.reason)
                WHEN md.decision = 'defer' AND md.until > $2
                  THEN format('deferred by %s on %s until %s: %s', md.decided_by,
                              md.recorded_at::date, md.until, md.reason)
                WHEN md.decision = 'defer'
                  THEN format('the deferral by %s until %s has ended', md.decided_by, md.until)
                WHEN md.decision = 'reinstate'
                  THEN format('reinstated by %s on %s: %s', md.decided_by, md.recorded_at::date, md.reason)
                ELSE 'no manual deferral or exclusion' END,
           10
    FROM dn LEFT JOIN md ON md.donor_id = dn.id
    WHERE $4 OR md.decision = 'exclude' OR (md.decision = 'defer' AND md.until > $2)
    UNION ALL
    -- age from the birth year
    SELECT dn.id, 'age',
           CASE WHEN dn.birth_year IS NULL THEN 'screening' WHEN y.age < $11 THEN 'deferred'
                WHEN y.age > $12 THEN 'excluded' ELSE 'pass' END,
           CASE WHEN y.age < $11 THEN make_date(dn.birth_year + $11, 1, 1) END,
           CASE WHEN dn.birth_year IS NULL THEN 'birth year not recorded'
                WHEN y.age < $11 THEN format('%s in %s, below the minimum %s; deferred until %s', y.age,
                                             extract(year FROM $2), $11, make_date(dn.birth_year + $11, 1, 1))
                WHEN y.age > $12 THEN format('%s in %s, above the maximum %s', y.age,
                                             extract(year FROM $2), $12)
                ELSE format('%s in %s (clear %s to %s)', y.age, extract(year FROM $2), $11, $12) END,
           20
    FROM dn CROSS JOIN LATERAL (SELECT extract(year FROM $2)::integer - dn.birth_year AS age) y
    WHERE $4 OR dn.birth_year IS NULL OR y.age < $11 OR y.age > $12
    UNION ALL
    -- the full questionnaire is in date
    SELECT dn.id, 'questionnaire',
           CASE WHEN ql.id IS NULL OR ql.q_date + $10 < $2 THEN 'screening' ELSE 'pass' END, NULL,
           CASE WHEN ql.id IS NULL THEN 'no full questionnaire recorded'
                WHEN ql.q_date + $10 < $2
                  THEN format('the last full questionnaire, of %s, was valid through %s', ql.q_date,
                              ql.q_date + $10)
                ELSE format('full questionnaire of %s, valid through %s', ql.q_date, ql.q_date + $10) END,
           30
    FROM dn LEFT JOIN ql ON ql.donor_id = dn.id
    WHERE $4 OR ql.id IS NULL OR ql.q_date + $10 < $2
    UNION ALL
    SELECT irows.donor_id, irows.rule, irows.verdict, irows.until, irows.detail, irows.ord
    FROM irows JOIN dn ON dn.id = irows.donor_id
    UNION ALL
    -- questionnaire items that pass (explain only)
    SELECT dn.id, 'item:' || i.code, 'pass', NULL,
           CASE WHEN i.effect = 'exclude' THEN format('%s on the questionnaire of %s', a.answer, ql.q_date)
                WHEN i.questionnaire = 'short'
                  THEN format('no yes on a donation-day questionnaire within %s days', i.defer_days)
                WHEN i.type = 'date' AND dl.last IS NULL THEN 'never'
                WHEN i.type = 'date'
                  THEN format('last on %s; the %s-day deferral ended %s', dl.last, i.defer_days,
                              dl.last + i.defer_days)
                ELSE format('%s on %s (clear %s)', a.answer, ql.q_date,
                            concat_ws(' to ', coalesce(i.clear_min, i.answer_min), coalesce(i.clear_max, i.answer_max)))
           END,
           100 + i.sort_order
    FROM dn JOIN ql ON ql.donor_id = dn.id
    CROSS JOIN iq i
    LEFT JOIN fmtbank.questionnaire_answer a ON a.questionnaire_id = ql.id AND a.item = i.code
    LEFT JOIN LATERAL (SELECT max(qa.date_value) AS last FROM qa
                       WHERE qa.donor_id = dn.id AND qa.item = i.code AND qa.kind = 'full') dl ON true
    WHERE $4 AND i.derived IS NULL
      AND NOT EXISTS (SELECT 1 FROM irows x WHERE x.donor_id = dn.id AND x.rule = 'item:' || i.code)
    UNION ALL
    -- required tests without an unacceptable result and without a valid acceptable one
    SELECT dn.id, 'test:' || t.code, 'screening', NULL,
           format('no acceptable result collected from %s to %s', $2 - t.validity_days, $2),
           1000 + t.test_no
    FROM dn
    LEFT JOIN gd ON gd.donor_id = dn.id
    LEFT JOIN ts ON ts.donor_id = dn.id
    CROSS JOIN LATERAL (SELECT $9 & ~coalesce(gd.badtests, 0) & ~coalesce(ts.satmask, 0) AS m) mm
    JOIN tcat t ON (mm.m >> t.test_no) & 1 = 1
    WHERE mm.m <> 0
    UNION ALL
    -- tests with an unacceptable result
    SELECT bp.donor_id, 'test:' || bp.code, v.verdict, NULL,
           CASE v.verdict
             WHEN 'excluded' THEN format('%s collected %s: %s excludes permanently',
                                         concat_ws(' ', bp.excl_result, bp.tunit), bp.excl_date, bp.code)
             WHEN 'deferred' THEN format('%s collected %s (accept %s): deferred until an acceptable retest',
                                         concat_ws(' ', bp.bad_result, bp.tunit), bp.last_bad,
                                         concat_ws(' ', CASE WHEN bp.accept_op = 'negative' THEN 'negative'
                                                             ELSE bp.accept_op || bp.accept_limit END, bp.tunit))
             WHEN 'screening' THEN format('no acceptable result collected from %s to %s (retest of %s collected %s: acceptable, collected %s)',
                                          $2 - bp.validity_days, $2, concat_ws(' ', bp.bad_result, bp.tunit),
                                          bp.last_bad, bp.ok_after)
             ELSE format('acceptable retest collected %s, valid through %s (after %s collected %s)',
                         bp.ok_after, bp.ok_expires, concat_ws(' ', bp.bad_result, bp.tunit), bp.last_bad)
           END,
           1000 + bp.test_no
    FROM bp JOIN dn ON dn.id = bp.donor_id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN bp.excl_date IS NOT NULL THEN 'excluded'
                    WHEN bp.ok_after IS NULL THEN 'deferred'
                    WHEN bp.required_pre AND bp.ok_expires < $2 THEN 'screening'
                    ELSE 'pass' END AS verdict) v
    WHERE $4 OR v.verdict <> 'pass'
    UNION ALL
    -- required tests that pass (explain only): the result that supports eligibility
    SELECT dn.id, 'test:' || t.code, 'pass', NULL,
           format('%s collected %s, valid through %s', concat_ws(' ', lp.result, lp.unit),
                  lp.collected, lp.collected + t.validity_days),
           1000 + t.test_no
    FROM dn JOIN ts ON ts.donor_id = dn.id
    JOIN tcat t ON (ts.satmask >> t.test_no) & 1 = 1
    CROSS JOIN LATERAL (
        SELECT r.collected, r.result, r.unit FROM fmtbank.result r
        WHERE r.donor_id = dn.id AND r.test_no = t.test_no AND r.collected <= $2
          AND r.recorded_at <= $1 AND (r.superseded_at IS NULL OR r.superseded_at > $1)
          AND fmtbank.result_acceptable(r.result, r.value, t.accept_op, t.accept_limit)
        ORDER BY r.collected DESC, r.recorded_at DESC LIMIT 1) lp
    WHERE $4
    UNION ALL
    -- when everything in force stops supporting eligibility
    SELECT dn.id, 'next_screening', 'info',
           least(CASE WHEN ($9 & ~coalesce(gd.badtests, 0) & ~coalesce(ts.satmask, 0)) <> 0 THEN $2
                      ELSE ts.all_until END,
                 CASE WHEN bpd.missing THEN $2 ELSE bpd.until END,
                 CASE WHEN ql.id IS NULL OR ql.q_date + $10 < $2 THEN $2 ELSE ql.q_date + $10 END),
           'the last day on which every required result and the full questionnaire are valid',
           9999
    FROM dn
    LEFT JOIN gd ON gd.donor_id = dn.id
    LEFT JOIN ts ON ts.donor_id = dn.id
    LEFT JOIN bpd ON bpd.donor_id = dn.id
    LEFT JOIN ql ON ql.donor_id = dn.id
    $q$
    USING p_at, v_day, p_donor_id, p_all, v_valid, v_op, v_lim, v_excl, v_req, v_qvalid,
          v_min_age, v_max_age;
END $fn$;

-- Per donor: status, deferred_until (NULL when a deferral is open-ended), reasons (one object
-- {rule, detail} per failing rule), next_screening_due (NULL when excluded), rule-set version.
CREATE FUNCTION fmtbank.eligibility_summary(p_at timestamptz, p_donor_id uuid)
RETURNS TABLE (donor_id uuid, code text, status text, deferred_until date, reasons jsonb,
               next_screening_due date, rule_set_version integer)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    WITH r AS MATERIALIZED (SELECT * FROM fmtbank.eligibility_rules(p_at, p_donor_id, false)),
    s AS (
        SELECT r.donor_id,
               CASE WHEN bool_or(r.verdict = 'excluded') THEN 'excluded'
                    WHEN bool_or(r.verdict = 'deferred') THEN 'deferred'
                    WHEN bool_or(r.verdict = 'screening') THEN 'screening'
                    ELSE 'eligible' END AS status,
               bool_or(r.verdict = 'deferred' AND r.until IS NULL) AS open_ended,
               max(r.until) FILTER (WHERE r.verdict = 'deferred') AS until,
               min(r.until) FILTER (WHERE r.rule = 'next_screening') AS due
        FROM r GROUP BY r.donor_id),
    rs AS (
        SELECT r.donor_id,
               jsonb_agg(jsonb_build_object('rule', r.rule, 'detail', r.detail)
                         ORDER BY r.ord, r.rule) AS reasons
        FROM r WHERE r.verdict IN ('screening', 'deferred', 'excluded')
        GROUP BY r.donor_id)
    SELECT d.id, d.code, s.status,
           CASE WHEN s.status = 'deferred' AND NOT s.open_ended THEN s.until END,
           coalesce(rs.reasons, '[]'::jsonb),
           CASE WHEN s.status = 'excluded' THEN NULL
                WHEN s.status = 'deferred' AND NOT s.open_ended THEN greatest(s.due, s.until)
                ELSE s.due END,
           fmtbank.rule_set_version_at(p_at)
    FROM s JOIN fmtbank.donor d ON d.id = s.donor_id
    LEFT JOIN rs ON rs.donor_id = s.donor_id
$$;

-- Every donor registered by p_at, in one statement.
CREATE FUNCTION fmtbank.donor_eligibility_at(p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (donor_id uuid, code text, status text, deferred_until date, reasons jsonb,
               next_screening_due date, rule_set_version integer)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT * FROM fmtbank.eligibility_summary(p_at, NULL)
$$;

-- One donor: the same statement, filtered (no row when the donor was not registered by p_at).
CREATE FUNCTION fmtbank.donor_status_at(p_donor_id uuid, p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (donor_id uuid, code text, status text, deferred_until date, reasons jsonb,
               next_screening_due date, rule_set_version integer)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT * FROM fmtbank.eligibility_summary(p_at, p_donor_id) WHERE p_donor_id IS NOT NULL
$$;

-- Every rule for one donor with its verdict (pass included), in display order.
CREATE FUNCTION fmtbank.donor_explain_at(p_donor_id uuid, p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (rule text, verdict text, until date, detail text, ord integer)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT r.rule, r.verdict, r.until, r.detail, r.ord
    FROM fmtbank.eligibility_rules(p_at, p_donor_id, true) r
    WHERE p_donor_id IS NOT NULL
    ORDER BY r.ord, r.rule
$$;

-- "--as-of": a date alone means the end of that day (everything recorded that day counts).
CREATE FUNCTION fmtbank.parse_as_of(p text) RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT CASE WHEN p IS NULL THEN clock_timestamp()
                WHEN btrim(p) ~ '^\d{4}-\d{2}-\d{2}$'
                  THEN fmtbank.parse_ts(btrim(p), '--as-of') + interval '1 day' - interval '1 microsecond'
                ELSE fmtbank.parse_ts(btrim(p), '--as-of') END
$$;

CREATE OR REPLACE VIEW fmtbank.donor_list AS
    SELECT d.code, d.birth_year, d.sex, d.created_at, e.status, e.deferred_until,
           e.next_screening_due, e.reasons
    FROM fmtbank.donor d
    LEFT JOIN fmtbank.donor_eligibility_at(clock_timestamp()) e ON e.donor_id = d.id;

CREATE OR REPLACE VIEW fmtbank.status_counts AS
    SELECT 'user'::text AS entity, CASE WHEN disabled_at IS NULL THEN 'active' ELSE 'disabled' END AS state,
           count(*) AS n
    FROM fmtbank.app_user GROUP BY 2
    UNION ALL
    SELECT 'donor', 'registered', count(*) FROM fmtbank.donor
    UNION ALL
    SELECT 'donor', e.status, count(*) FROM fmtbank.donor_eligibility_at(clock_timestamp()) e
    GROUP BY e.status;

REVOKE ALL ON fmtbank.donor_decision FROM PUBLIC;
GRANT SELECT ON fmtbank.donor_decision
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.donor_decide(text, text, text) TO fmtbank_quality;
GRANT EXECUTE ON FUNCTION fmtbank.donor_manual_at(uuid, timestamptz),
    fmtbank.eligibility_rules(timestamptz, uuid, boolean),
    fmtbank.eligibility_summary(timestamptz, uuid), fmtbank.donor_eligibility_at(timestamptz),
    fmtbank.donor_status_at(uuid, timestamptz), fmtbank.donor_explain_at(uuid, timestamptz),
    fmtbank.parse_as_of(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
