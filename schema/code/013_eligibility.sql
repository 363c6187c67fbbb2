-- 013_eligibility: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- The manual decision in force for a donor at p_at (NULL fields when there is none).
CREATE OR REPLACE FUNCTION fmtbank.donor_manual_at(p_donor_id uuid, p_at timestamptz)
RETURNS fmtbank.donor_decision LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM fmtbank.donor_decision
    WHERE donor_id = p_donor_id AND recorded_at <= p_at
    ORDER BY recorded_at DESC LIMIT 1
$$;

-- Records a manual decision after checking the one in force (one round trip per command).
CREATE OR REPLACE FUNCTION fmtbank.donor_decide(p_code text, p_decision text, p_until text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
    IF cur.decision = 'exclude' AND p_decision = 'defer' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('donor "%s" is already excluded', d.code),
            DETAIL = format('Excluded by %s on %s: %s', cur.decided_by, cur.recorded_at::date, cur.reason),
            HINT = 'Reinstate the donor first ("fmtbank donor reinstate").';
    ELSIF cur.decision = 'exclude' AND p_decision = 'exclude' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('donor "%s" is already excluded', d.code),
            DETAIL = format('Excluded by %s on %s: %s', cur.decided_by, cur.recorded_at::date, cur.reason);
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
    -- an exclusion holds every lot of the donor at once (product.md §11.0: a manual case)
    IF p_decision = 'exclude' THEN
        PERFORM fmtbank.case_open_donor('manual', d.id, format('donor %s excluded: %s', d.code, why));
    END IF;
    PERFORM pg_notify('fmtbank_donor', d.code);
    RETURN d.code;
END $$;

-- The parameters of one evaluation: one value of this type, the single parameter of the
-- statement, whose fields it names (($1).day, ($1).cat.required_pre). EXECUTE ... USING plans the
-- statement once with the value as a constant, so the planner folds every field to a constant
-- (index bounds, the branches for one donor or all). at: the time of the evaluation; day: its
-- date; donor: one donor or NULL for all; explain: also the rules that pass; validity:
-- screen_validity_days; year: the year of day; cat: the catalog (010 catalog_vectors_at).
-- Valid time and knowledge time: at is the valid time (results collected, questionnaires dated,
-- manual decisions, rule set and catalog in force by then); known is the knowledge time (only the
-- records recorded, and not yet superseded, by then count). "--as-of" answers have known = at
-- (what had been recorded by then, eligibility_params); a donation is judged on the facts valid
-- at collection as known at entry (eligibility_params_entry: known = the entry time, and
-- q_until = the collection time, by which a questionnaire's date and time must be; NULL: by
-- its date alone, the whole day of at counts). donors: the donors judged (NULL: all; the one
-- donor when donor is set; the sweep's dirty set, 180_sweep_dirty).
-- A type of the code set, like catalog_vectors (010).
DROP TYPE IF EXISTS fmtbank.eligibility_param CASCADE;
CREATE TYPE fmtbank.eligibility_param AS (at timestamptz, day date, donor uuid, explain boolean,
                                          validity integer, min_age integer, max_age integer,
                                          rule_set_version integer, year integer,
                                          cat fmtbank.catalog_vectors, known timestamptz,
                                          q_until timestamp, donors uuid[]);
-- (the record-returning version of schema versions up to 90)
DROP FUNCTION IF EXISTS fmtbank.eligibility_params(timestamp with time zone);

CREATE OR REPLACE FUNCTION fmtbank.eligibility_params(p_at timestamptz, p_donor_id uuid, p_explain boolean)
RETURNS fmtbank.eligibility_param
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT p_at, p_at::date, p_donor_id, p_explain,
           fmtbank.rule_value('screen_validity_days', p_at)::integer,
           fmtbank.rule_value('min_age', p_at)::integer, fmtbank.rule_value('max_age', p_at)::integer,
           fmtbank.rule_set_version_at(p_at), extract(year FROM p_at::date)::integer,
           fmtbank.catalog_vectors_at(p_at), p_at, NULL::timestamp,
           CASE WHEN p_donor_id IS NOT NULL THEN ARRAY[p_donor_id] END
$$;

-- The parameters of a donation's evaluation: valid at the collection time p_collected, as known at
-- p_known (the entry), questionnaires by their date and time (q_date + q_time <= collection).
CREATE OR REPLACE FUNCTION fmtbank.eligibility_params_entry(p_collected timestamptz, p_known timestamptz,
                                                            p_donor_id uuid)
RETURNS fmtbank.eligibility_param
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT (p).at, (p).day, (p).donor, (p).explain, (p).validity, (p).min_age, (p).max_age,
           (p).rule_set_version, (p).year, (p).cat, p_known, p_collected::timestamp, (p).donors
    FROM (SELECT fmtbank.eligibility_params(p_collected, p_donor_id, false) AS p) x
$$;

-- The common part of the evaluation statement (a WITH clause): eligibility_summary and
-- eligibility_rules append their final SELECT to this same text, so a verdict and its explanation
-- cannot come from different code. One parameter, $1: an eligibility_param (above), whose fields
-- the text names.
--
-- Results for 100,000 donors in one pass: every acceptable result of a required test valid
-- today is grouped by (donor, last day it supports eligibility) into a bitmask over test_no, the
-- negatives read one row per donor and day (fmtbank.result_day, 240, through result_ok_days), the
-- other results once through the partial index result_not_negative (nn, which the unacceptable
-- ones below share). A
-- cumulative OR over a donor's groups, newest first, gives the satisfied tests and the last day on
-- which all are satisfied. Unacceptable results (never "negative": a partial index holds every
-- row that is not) are grouped per donor and test and looked at one by one (the latest
-- acceptable result after them, through the (donor_id, test_no, collected) index). Reasons for
-- missing tests are built once per distinct set of missing tests, not once per donor.
CREATE OR REPLACE FUNCTION fmtbank.eligibility_sql() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT $q$
    WITH
    tcat AS MATERIALIZED (
        SELECT t.*, format('no acceptable result collected from %s to %s',
                           ($1).day - t.validity_days, ($1).day)
                    AS miss_detail
        FROM fmtbank.screening_test_at(($1).at) t),
    iq AS MATERIALIZED (SELECT * FROM fmtbank.question_item_at(($1).at)),
    dn AS MATERIALIZED (
        SELECT d.id, d.code, d.birth_year FROM fmtbank.donor d
        WHERE d.created_at <= ($1).known AND (($1).donors IS NULL OR d.id = ANY (($1).donors))),
    -- the tests required before donation, by validity in days
    vc AS MATERIALIZED (
        SELECT t.validity_days AS days, bit_or(set_bit(($1).cat.zero, t.test_no, 1)) AS mask
        FROM tcat t WHERE t.required_pre GROUP BY t.validity_days),
    -- every result that is not "negative" (few: values, positives; the partial index
    -- result_not_negative), current at the time evaluated, judged under the accept rule
    nn AS MATERIALIZED (
        SELECT r.donor_id, r.test_no, r.collected, r.recorded_at, r.result,
               fmtbank.result_acceptable(r.result, r.value, ($1).cat.ops[r.test_no + 1],
                                         ($1).cat.limits[r.test_no + 1]) AS ok
        FROM fmtbank.result r
        WHERE r.result <> 'negative'
          AND r.recorded_at <= ($1).known AND (r.superseded_at IS NULL OR r.superseded_at > ($1).known)
          AND r.collected <= ($1).day AND (($1).donors IS NULL OR r.donor_id = ANY (($1).donors))),
    -- Acceptable results valid at the day, grouped by (donor, last day they support eligibility)
    -- into a mask of the required tests they satisfy: the negatives per day (result_ok_days), the
    -- other acceptable results from nn.
    g AS MATERIALIZED (
        SELECT x.donor_id, x.expires, bit_or(x.okmask) AS okmask
        FROM (
            SELECT o.donor_id, o.collected + vc.days AS expires, o.okmask & vc.mask AS okmask
            FROM fmtbank.result_ok_days(($1).known, ($1).day - ($1).cat.max_validity, ($1).day,
                                        ($1).donors, ($1).cat) o
            JOIN vc ON o.collected >= ($1).day - vc.days
            UNION ALL
            SELECT n.donor_id, n.collected + ($1).cat.validity[n.test_no + 1],
                   set_bit(($1).cat.zero, n.test_no, 1) & ($1).cat.required_pre
            FROM nn n
            WHERE n.ok AND n.collected >= ($1).day - ($1).cat.validity[n.test_no + 1]) x
        WHERE x.okmask <> ($1).cat.zero
        GROUP BY x.donor_id, x.expires),
    -- unacceptable results (any age) per donor and test
    bad AS MATERIALIZED (
        SELECT r.donor_id, r.test_no, max(r.collected) AS last_bad,
               (array_agg(r.result ORDER BY r.collected DESC, r.recorded_at DESC))[1] AS bad_result,
               min(r.collected) FILTER (WHERE r.result <> 'indeterminate'
                                        AND get_bit(($1).cat.excluding, r.test_no) = 1) AS excl_date,
               (array_agg(r.result ORDER BY r.collected, r.recorded_at)
                    FILTER (WHERE r.result <> 'indeterminate'
                                  AND get_bit(($1).cat.excluding, r.test_no) = 1))[1]
                   AS excl_result
        FROM nn r
        WHERE NOT r.ok
        GROUP BY r.donor_id, r.test_no),
    bd AS MATERIALIZED (
        SELECT bad.donor_id, bit_or(set_bit(($1).cat.zero, bad.test_no, 1)) AS badtests FROM bad GROUP BY bad.donor_id),
    -- required tests with no unacceptable result: which are satisfied, and until when all are
    cm AS (
        SELECT g.donor_id, g.expires, ($1).cat.required_pre & ~coalesce(bd.badtests, ($1).cat.zero) AS target,
               bit_or(g.okmask & ~coalesce(bd.badtests, ($1).cat.zero))
                   OVER (PARTITION BY g.donor_id ORDER BY g.expires DESC) AS cum
        FROM g LEFT JOIN bd ON bd.donor_id = g.donor_id
        WHERE g.okmask & ~coalesce(bd.badtests, ($1).cat.zero) <> ($1).cat.zero),
    ts AS MATERIALIZED (
        SELECT cm.donor_id, bit_or(cm.cum) AS satmask,
               max(cm.expires) FILTER (WHERE cm.cum & cm.target = cm.target) AS all_until
        FROM cm GROUP BY cm.donor_id),
    -- tests with an unacceptable result, one by one, with the latest acceptable result after it
    bp AS MATERIALIZED (
        SELECT bad.donor_id, bad.test_no, bad.last_bad, bad.bad_result, bad.excl_date,
               bad.excl_result, t.code, t.required_pre, t.accept, t.unit AS tunit, t.validity_days,
               ok.collected AS ok_after, ok.collected + t.validity_days AS ok_expires,
               CASE WHEN bad.excl_date IS NOT NULL THEN 'excluded'
                    WHEN ok.collected IS NULL THEN 'deferred'
                    WHEN t.required_pre AND ok.collected + t.validity_days < ($1).day THEN 'screening'
                    ELSE 'pass' END AS verdict
        FROM bad
        JOIN tcat t ON t.test_no = bad.test_no
        LEFT JOIN LATERAL (
            SELECT r.collected FROM fmtbank.result r
            WHERE r.donor_id = bad.donor_id AND r.test_no = bad.test_no AND r.collected <= ($1).day
              AND r.collected > bad.last_bad
              AND r.recorded_at <= ($1).known AND (r.superseded_at IS NULL OR r.superseded_at > ($1).known)
              AND fmtbank.result_acceptable(r.result, r.value, t.accept_op, t.accept_limit)
            ORDER BY r.collected DESC LIMIT 1) ok ON true),
    bpd AS (
        SELECT bp.donor_id, bool_or(bp.verdict = 'excluded') AS t_excl,
               bool_or(bp.verdict = 'deferred') AS t_defer, bool_or(bp.verdict = 'screening') AS t_screen,
               bool_or(bp.required_pre AND (bp.ok_expires IS NULL OR bp.ok_expires < ($1).day)) AS missing,
               min(bp.ok_expires) FILTER (WHERE bp.required_pre) AS until
        FROM bp GROUP BY bp.donor_id),
    -- questionnaires in force
    qf AS MATERIALIZED (
        SELECT q.id, q.donor_id, q.kind, q.q_date FROM fmtbank.questionnaire q
        WHERE q.recorded_at <= ($1).known AND (q.superseded_at IS NULL OR q.superseded_at > ($1).known)
          AND q.q_date <= ($1).day AND (($1).q_until IS NULL OR q.q_date + q.q_time <= ($1).q_until)
          AND (($1).donors IS NULL OR q.donor_id = ANY (($1).donors))),
    ql AS MATERIALIZED (
        SELECT q.donor_id, q.id, q.q_date
        FROM (SELECT qf.donor_id, max(qf.q_date) AS q_date FROM qf WHERE qf.kind = 'full'
              GROUP BY qf.donor_id) m
        JOIN qf q ON q.donor_id = m.donor_id AND q.q_date = m.q_date AND q.kind = 'full'),
    qa AS MATERIALIZED (
        SELECT qf.donor_id, qf.id AS qid, qf.kind, qf.q_date, a.item, a.yes, a.date_value
        FROM fmtbank.questionnaire_answer a JOIN qf ON qf.id = a.questionnaire_id
        WHERE a.yes OR a.date_value IS NOT NULL),
    -- numbers outside their clear range, found by value (index), kept when on the latest one
    qn AS MATERIALIZED (
        SELECT x.questionnaire_id, x.item, x.num_value, i.sort_order,
               concat_ws(' to ', coalesce(i.clear_min, i.answer_min),
                         coalesce(i.clear_max, i.answer_max)) AS clear
        FROM iq i CROSS JOIN LATERAL (
            SELECT a.questionnaire_id, a.item, a.num_value FROM fmtbank.questionnaire_answer a
            WHERE ($1).donors IS NULL AND a.item = i.code AND a.num_value < i.clear_min
            UNION ALL
            SELECT a.questionnaire_id, a.item, a.num_value FROM fmtbank.questionnaire_answer a
            WHERE ($1).donors IS NULL AND a.item = i.code AND a.num_value > i.clear_max
            UNION ALL
            SELECT a.questionnaire_id, a.item, a.num_value
            FROM ql JOIN fmtbank.questionnaire_answer a ON a.questionnaire_id = ql.id
            WHERE ($1).donors IS NOT NULL AND a.item = i.code
              AND (a.num_value < i.clear_min OR a.num_value > i.clear_max)) x
        WHERE i.effect = 'range'),
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
        WHERE x.last + x.days > ($1).day
        UNION ALL
        SELECT x.donor_id, 'item:' || x.item, 'deferred', x.last + x.days,
               format('yes on the %s questionnaire of %s; deferred %s days, until %s',
                      fmtbank.questionnaire_kind_name(x.kind), x.last, x.days, x.last + x.days),
               100 + x.sort_order
        FROM (SELECT qa.donor_id, qa.item, i.sort_order, i.defer_days AS days,
                     max(qa.q_date) AS last, min(qa.kind) AS kind
              FROM qa JOIN iq i ON i.code = qa.item
              WHERE qa.kind IN ('short', 'followup') AND qa.yes AND i.effect = 'defer'
              GROUP BY qa.donor_id, qa.item, i.sort_order, i.defer_days) x
        WHERE x.last + x.days > ($1).day
        UNION ALL
        SELECT ql.donor_id, 'item:' || qn.item, 'deferred', NULL,
               format('%s on %s is outside the clear range %s', qn.num_value, ql.q_date, qn.clear),
               100 + qn.sort_order
        FROM qn JOIN ql ON ql.id = qn.questionnaire_id),
    md AS (
        SELECT DISTINCT ON (m.donor_id) m.* FROM fmtbank.donor_decision m
        WHERE m.recorded_at <= ($1).at AND (($1).donors IS NULL OR m.donor_id = ANY (($1).donors))
        ORDER BY m.donor_id, m.recorded_at DESC),
    -- one row per donor with everything the per-donor rules need
    dd AS MATERIALIZED (
        SELECT dn.id, dn.code, dn.birth_year, coalesce(bd.badtests, ($1).cat.zero) AS badtests,
               coalesce(ts.satmask, ($1).cat.zero) AS satmask,
               ($1).cat.required_pre & ~coalesce(bd.badtests, ($1).cat.zero) & ~coalesce(ts.satmask, ($1).cat.zero) AS missmask,
               coalesce(bpd.t_excl, false) AS t_excl, coalesce(bpd.t_defer, false) AS t_defer,
               coalesce(bpd.t_screen, false) AS t_screen, ql.id AS ql_id, ql.q_date AS ql_date,
               least(CASE WHEN (($1).cat.required_pre & ~coalesce(bd.badtests, ($1).cat.zero)
                                & ~coalesce(ts.satmask, ($1).cat.zero)) <> ($1).cat.zero
                          THEN ($1).day ELSE ts.all_until END,
                     CASE WHEN bpd.missing THEN ($1).day ELSE bpd.until END,
                     CASE WHEN ql.id IS NULL OR ql.q_date + ($1).validity < ($1).day THEN ($1).day
                          ELSE ql.q_date + ($1).validity END)
                   AS due
        FROM dn
        LEFT JOIN bd ON bd.donor_id = dn.id
        LEFT JOIN ts ON ts.donor_id = dn.id
        LEFT JOIN bpd ON bpd.donor_id = dn.id
        LEFT JOIN ql ON ql.donor_id = dn.id),
    -- the rules other than tests: manual decision, age, questionnaire, items
    orows AS (
        SELECT dd.id AS donor_id, 'manual' AS rule,
               CASE WHEN md.decision = 'exclude' THEN 'excluded'
                    WHEN md.decision = 'defer' AND md.until > ($1).day THEN 'deferred' ELSE 'pass' END
                   AS verdict,
               CASE WHEN md.decision = 'defer' AND md.until > ($1).day THEN md.until END AS until,
               CASE WHEN md.decision = 'exclude'
                      THEN format('excluded by %s on %s: %s', md.decided_by, md.recorded_at::date,
                                  md.reason)
                    WHEN md.decision = 'defer' AND md.until > ($1).day
                      THEN format('deferred by %s on %s until %s: %s', md.decided_by,
                                  md.recorded_at::date, md.until, md.reason)
                    WHEN md.decision = 'defer'
                      THEN format('the deferral by %s until %s has ended', md.decided_by, md.until)
                    WHEN md.decision = 'reinstate'
                      THEN format('reinstated by %s on %s: %s', md.decided_by, md.recorded_at::date,
                                  md.reason)
                    ELSE 'no manual deferral or exclusion' END AS detail,
               10 AS ord
        FROM dd LEFT JOIN md ON md.donor_id = dd.id
        WHERE ($1).explain OR md.decision = 'exclude' OR (md.decision = 'defer' AND md.until > ($1).day)
        UNION ALL
        SELECT dd.id, 'age',
               CASE WHEN dd.birth_year IS NULL THEN 'screening' WHEN y.age < ($1).min_age THEN 'deferred'
                    WHEN y.age > ($1).max_age THEN 'excluded' ELSE 'pass' END,
               CASE WHEN y.age < ($1).min_age THEN make_date(dd.birth_year + ($1).min_age, 1, 1) END,
               CASE WHEN dd.birth_year IS NULL THEN 'birth year not recorded'
                    WHEN y.age < ($1).min_age
                      THEN format('%s in %s, below the minimum %s; deferred until %s', y.age,
                                  ($1).year, ($1).min_age, make_date(dd.birth_year + ($1).min_age, 1, 1))
                    WHEN y.age > ($1).max_age
                      THEN format('%s in %s, above the maximum %s', y.age, ($1).year, ($1).max_age)
                    ELSE format('%s in %s (clear %s to %s)', y.age, ($1).year, ($1).min_age,
                                ($1).max_age) END,
               20
        FROM dd CROSS JOIN LATERAL (SELECT ($1).year - dd.birth_year AS age) y
        WHERE ($1).explain OR dd.birth_year IS NULL OR y.age < ($1).min_age OR y.age > ($1).max_age
        UNION ALL
        SELECT dd.id, 'questionnaire',
               CASE WHEN dd.ql_id IS NULL OR dd.ql_date + ($1).validity < ($1).day THEN 'screening'
                    ELSE 'pass' END,
               NULL,
               CASE WHEN dd.ql_id IS NULL THEN 'no full questionnaire recorded'
                    WHEN dd.ql_date + ($1).validity < ($1).day
                      THEN format('the last full questionnaire, of %s, was valid through %s',
                                  dd.ql_date, dd.ql_date + ($1).validity)
                    ELSE format('full questionnaire of %s, valid through %s', dd.ql_date,
                                dd.ql_date + ($1).validity) END,
               30
        FROM dd
        WHERE ($1).explain OR dd.ql_id IS NULL OR dd.ql_date + ($1).validity < ($1).day
        UNION ALL
        SELECT irows.donor_id, irows.rule, irows.verdict, irows.until, irows.detail, irows.ord
        FROM irows JOIN dd ON dd.id = irows.donor_id
        UNION ALL
        -- questionnaire items that pass (explain only)
        SELECT dd.id, 'item:' || i.code, 'pass', NULL,
               CASE WHEN i.effect = 'exclude'
                      THEN format('%s on the questionnaire of %s', a.answer, dd.ql_date)
                    WHEN i.questionnaire IN ('short', 'followup')
                      THEN format('no yes on a %s questionnaire within %s days',
                                  fmtbank.questionnaire_kind_name(i.questionnaire), i.defer_days)
                    WHEN i.type = 'date' AND dl.last IS NULL THEN 'never'
                    WHEN i.type = 'date'
                      THEN format('last on %s; the %s-day deferral ended %s', dl.last, i.defer_days,
                                  dl.last + i.defer_days)
                    ELSE format('%s on %s (clear %s)', a.answer, dd.ql_date,
                                concat_ws(' to ', coalesce(i.clear_min, i.answer_min),
                                          coalesce(i.clear_max, i.answer_max)))
               END,
               100 + i.sort_order
        FROM dd CROSS JOIN iq i
        LEFT JOIN fmtbank.questionnaire_answer a ON a.questionnaire_id = dd.ql_id AND a.item = i.code
        LEFT JOIN LATERAL (SELECT max(qa.date_value) AS last FROM qa
                           WHERE qa.donor_id = dd.id AND qa.item = i.code AND qa.kind = 'full') dl
             ON true
        WHERE ($1).explain AND dd.ql_id IS NOT NULL AND i.derived IS NULL
          AND NOT EXISTS (SELECT 1 FROM irows x WHERE x.donor_id = dd.id AND x.rule = 'item:' || i.code)),
    -- test rules one per row: missing tests (only for donors with an unacceptable result, or
    -- when explaining) and tests with an unacceptable result
    tf AS (
        SELECT dd.id AS donor_id, t.test_no, 'test:' || t.code AS rule, 'screening' AS verdict,
               t.miss_detail AS detail
        FROM dd CROSS JOIN LATERAL (SELECT * FROM tcat WHERE get_bit(dd.missmask, tcat.test_no) = 1
                                    OFFSET 0) t
        WHERE dd.missmask <> ($1).cat.zero AND (dd.badtests <> ($1).cat.zero OR ($1).explain)
        UNION ALL
        SELECT bp.donor_id, bp.test_no, 'test:' || bp.code, bp.verdict,
               CASE bp.verdict
                 WHEN 'excluded' THEN format('%s collected %s: %s excludes permanently',
                                             concat_ws(' ', bp.excl_result, bp.tunit), bp.excl_date,
                                             bp.code)
                 WHEN 'deferred' THEN format('%s collected %s (accept %s): deferred until an acceptable retest',
                                             concat_ws(' ', bp.bad_result, bp.tunit), bp.last_bad,
                                             concat_ws(' ', bp.accept, bp.tunit))
                 WHEN 'screening' THEN format('no acceptable result collected from %s to %s (the retest of %s collected %s was collected %s)',
                                              ($1).day - bp.validity_days, ($1).day,
                                              concat_ws(' ', bp.bad_result, bp.tunit), bp.last_bad,
                                              bp.ok_after)
                 ELSE format('acceptable retest collected %s, valid through %s (after %s collected %s)',
                             bp.ok_after, bp.ok_expires, concat_ws(' ', bp.bad_result, bp.tunit),
                             bp.last_bad)
               END
        FROM bp JOIN dd ON dd.id = bp.donor_id
        WHERE ($1).explain OR bp.verdict <> 'pass')
    $q$
$fn$;

-- The final part of the summary statement (appended to eligibility_sql): one row per donor.
CREATE OR REPLACE FUNCTION fmtbank.eligibility_summary_sql() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT $q$
    ,
    -- the failing rules other than tests, per donor (input sorted so the array is in rule order)
    oagg AS (
        SELECT o.donor_id, bool_or(o.verdict = 'excluded') AS excl,
               bool_or(o.verdict = 'deferred') AS defer, bool_or(o.verdict = 'screening') AS screen,
               bool_or(o.verdict = 'deferred' AND o.until IS NULL) AS open_ended,
               max(o.until) FILTER (WHERE o.verdict = 'deferred') AS until,
               jsonb_agg(jsonb_build_object('rule', o.rule, 'detail', o.detail)) AS reasons
        FROM (SELECT * FROM orows WHERE orows.verdict <> 'pass'
              ORDER BY orows.donor_id, orows.ord, orows.rule) o
        GROUP BY o.donor_id),
    -- failing tests of donors with an unacceptable result
    tarr AS (
        SELECT f.donor_id, jsonb_agg(jsonb_build_object('rule', f.rule, 'detail', f.detail)) AS reasons
        FROM (SELECT * FROM tf WHERE tf.verdict <> 'pass' ORDER BY tf.donor_id, tf.test_no) f
        GROUP BY f.donor_id),
    -- missing tests of the other donors: one array per distinct set of missing tests
    mcache AS (
        SELECT m.m, jsonb_agg(jsonb_build_object('rule', 'test:' || t.code, 'detail', t.miss_detail)
                              ORDER BY t.test_no) AS reasons
        FROM (SELECT DISTINCT dd.missmask AS m FROM dd WHERE dd.missmask <> ($1).cat.zero AND dd.badtests = ($1).cat.zero) m
        JOIN tcat t ON get_bit(m.m, t.test_no) = 1
        GROUP BY m.m)
    SELECT dd.id, dd.code, st.status,
           CASE WHEN st.status = 'deferred' AND NOT st.open_ended THEN oa.until END,
           coalesce(oa.reasons, '[]'::jsonb) || coalesce(ta.reasons, mc.reasons, '[]'::jsonb),
           CASE WHEN st.status = 'excluded' THEN NULL
                WHEN st.status = 'deferred' AND NOT st.open_ended THEN greatest(dd.due, oa.until)
                ELSE dd.due END,
           ($1).rule_set_version
    FROM dd
    LEFT JOIN oagg oa ON oa.donor_id = dd.id
    LEFT JOIN tarr ta ON ta.donor_id = dd.id
    LEFT JOIN mcache mc ON mc.m = dd.missmask AND dd.badtests = ($1).cat.zero
    CROSS JOIN LATERAL (
        SELECT CASE WHEN oa.excl OR dd.t_excl THEN 'excluded'
                    WHEN oa.defer OR dd.t_defer THEN 'deferred'
                    WHEN oa.screen OR dd.missmask <> ($1).cat.zero OR dd.t_screen THEN 'screening'
                    ELSE 'eligible' END AS status,
               coalesce(oa.open_ended, false) OR dd.t_defer AS open_ended) st
    $q$
$fn$;

-- Whether n donors are most of them (by the planner's estimate, when there is one): then one pass
-- over every donor is cheaper than looking each one up (the sweep's donor step, eligibility now).
CREATE OR REPLACE FUNCTION fmtbank.most_donors(p_n integer) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(p_n > 0.5 * (SELECT pc.reltuples FROM pg_catalog.pg_class pc
                                 WHERE pc.oid = 'fmtbank.donor'::regclass AND pc.reltuples > 0),
                    false)
$$;

-- The donors whose row the donor sweep stored (330, fmtbank.donor_eligibility) may not be the
-- evaluation at p_at: those a change concerns since the sweep (its dirty set, 180, due by p_at's
-- day) and those without a stored row; of donor p_donor only, when given. NULL: no stored row
-- may be used at p_at (the sweep has not run on p_at's day, ran after p_at, or the rule set or
-- catalog in force differ, or a change of them is not yet swept). Security definer: it reads the
-- sweep's tables, which most roles may not; it returns donor ids only, and trusts nothing of the
-- caller's.
DROP FUNCTION IF EXISTS fmtbank.eligibility_stale(timestamptz);
CREATE OR REPLACE FUNCTION fmtbank.eligibility_stale(p_at timestamptz, p_donor uuid DEFAULT NULL)
RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE s fmtbank.sweep_state;
BEGIN
    SELECT * INTO s FROM fmtbank.sweep_state x WHERE x.step = 'donors';
    IF p_at IS NULL OR s.step IS NULL OR s.day <> p_at::date OR s.at > p_at
       OR s.rules IS DISTINCT FROM fmtbank.sweep_rules_key(p_at)
       OR EXISTS (SELECT 1 FROM fmtbank.sweep_dirty x
                  WHERE x.step = 'donors' AND x.donor_id IS NULL AND x.lot IS NULL) THEN
        RETURN NULL;
    END IF;
    IF p_donor IS NOT NULL THEN
        RETURN ARRAY(SELECT p_donor
                     WHERE EXISTS (SELECT 1 FROM fmtbank.sweep_dirty x
                                   WHERE x.step = 'donors' AND x.donor_id = p_donor
                                     AND (x.not_before IS NULL OR x.not_before <= p_at::date))
                        OR NOT EXISTS (SELECT 1 FROM fmtbank.donor_eligibility c
                                       WHERE c.donor_id = p_donor));
    END IF;
    RETURN ARRAY(SELECT x.donor_id FROM fmtbank.sweep_dirty x
                 WHERE x.step = 'donors' AND x.donor_id IS NOT NULL
                   AND (x.not_before IS NULL OR x.not_before <= p_at::date)
                 UNION
                 SELECT d.id FROM fmtbank.donor d
                 WHERE NOT EXISTS (SELECT 1 FROM fmtbank.donor_eligibility c WHERE c.donor_id = d.id));
END $$;

-- (The evaluation functions are PARALLEL RESTRICTED: they run in the leader, whose statement
-- inside uses parallel workers; in a worker they would run once per participant.)
-- Per donor: status, deferred_until (NULL when a deferral is open-ended), reasons (one object
-- {rule, detail} per failing rule, in the order of "donor explain"), next_screening_due (NULL
-- when excluded), rule-set version. p_donor_id NULL: every donor registered by p_at.
-- When the donor sweep's stored rows hold at p_at (eligibility_stale), they answer for the
-- donors no change concerns and the statement judges the others; unless most are stale, when
-- one pass over everything is cheaper. Either way the same statement made every row.
CREATE OR REPLACE FUNCTION fmtbank.eligibility_summary(p_at timestamptz, p_donor_id uuid)
RETURNS TABLE (donor_id uuid, code text, status text, deferred_until date, reasons jsonb,
               next_screening_due date, rule_set_version integer)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp SET jit = off
    SET parallel_setup_cost = 10 SET parallel_tuple_cost = 0.001 AS $fn$
DECLARE
    p fmtbank.eligibility_param;
    stale uuid[];
BEGIN
    IF p_at IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing time for the eligibility evaluation';
    END IF;
    p := fmtbank.eligibility_params(p_at, p_donor_id, false);
    stale := fmtbank.eligibility_stale(p_at, p_donor_id);
    IF fmtbank.most_donors(cardinality(stale)) THEN
        stale := NULL;
    END IF;
    IF stale IS NULL THEN
        RETURN QUERY EXECUTE fmtbank.eligibility_sql() || fmtbank.eligibility_summary_sql() USING p;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT c.donor_id, d.code, c.status, c.deferred_until, c.reasons, c.next_screening_due,
           c.rule_set_version
    FROM fmtbank.donor_eligibility c
    JOIN fmtbank.donor d ON d.id = c.donor_id
    LEFT JOIN unnest(stale) x(id) ON x.id = c.donor_id
    WHERE x.id IS NULL AND d.created_at <= p_at AND (p_donor_id IS NULL OR c.donor_id = p_donor_id);
    IF cardinality(stale) > 0 THEN
        p.donors := stale;
        RETURN QUERY EXECUTE fmtbank.eligibility_sql() || fmtbank.eligibility_summary_sql() USING p;
    END IF;
END $fn$;

-- One donor judged for a donation collected at p_collected, entered at p_known: the facts valid
-- at the collection (results by collection date, questionnaires by their date and time, manual
-- decisions, rule set and catalog in force) as recorded by the entry; the statement of
-- eligibility_summary. (--as-of answers stay by recorded time: donor_status_at.)
CREATE OR REPLACE FUNCTION fmtbank.donor_status_entry(p_donor_id uuid, p_collected timestamptz,
                                                      p_known timestamptz)
RETURNS TABLE (donor_id uuid, code text, status text, deferred_until date, reasons jsonb,
               next_screening_due date, rule_set_version integer)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp SET jit = off AS $fn$
BEGIN
    IF p_donor_id IS NULL OR p_collected IS NULL OR p_known IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing donor or time for the eligibility evaluation';
    END IF;
    RETURN QUERY EXECUTE fmtbank.eligibility_sql() || fmtbank.eligibility_summary_sql()
    USING fmtbank.eligibility_params_entry(p_collected, p_known, p_donor_id);
END $fn$;

-- Every rule for one donor (or all with p_donor_id NULL) with its verdict, the passing ones
-- included: (donor_id, rule, verdict, until, detail, ord). verdict is pass, screening, deferred
-- (until a date, or NULL: until a retest / a clear questionnaire), excluded, or info for the last
-- row, "next_screening", whose until is the last day everything in force supports eligibility.
CREATE OR REPLACE FUNCTION fmtbank.eligibility_rules(p_at timestamptz, p_donor_id uuid)
RETURNS TABLE (donor_id uuid, rule text, verdict text, until date, detail text, ord integer)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp SET jit = off
    SET parallel_setup_cost = 10 SET parallel_tuple_cost = 0.001 AS $fn$
BEGIN
    IF p_at IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'missing time for the eligibility evaluation';
    END IF;
    RETURN QUERY EXECUTE fmtbank.eligibility_sql() || $q$
    SELECT o.donor_id, o.rule, o.verdict, o.until, o.detail, o.ord FROM orows o
    UNION ALL
    SELECT tf.donor_id, tf.rule, tf.verdict, NULL, tf.detail, 1000 + tf.test_no FROM tf
    UNION ALL
    -- required tests that pass: the result that supports eligibility
    SELECT dd.id, 'test:' || t.code, 'pass', NULL,
           format('%s collected %s, valid through %s', concat_ws(' ', lp.result, lp.unit),
                  lp.collected, lp.collected + t.validity_days),
           1000 + t.test_no
    FROM dd CROSS JOIN LATERAL (SELECT * FROM tcat WHERE get_bit(dd.satmask, tcat.test_no) = 1
                                OFFSET 0) t
    CROSS JOIN LATERAL (
        SELECT r.collected, r.result, r.unit FROM fmtbank.result r
        WHERE r.donor_id = dd.id AND r.test_no = t.test_no AND r.collected <= ($1).day
          AND r.recorded_at <= ($1).known AND (r.superseded_at IS NULL OR r.superseded_at > ($1).known)
          AND fmtbank.result_acceptable(r.result, r.value, t.accept_op, t.accept_limit)
        ORDER BY r.collected DESC, r.recorded_at DESC LIMIT 1) lp
    UNION ALL
    SELECT dd.id, 'next_screening', 'info', dd.due,
           'the last day on which every required result and the full questionnaire are valid',
           9999
    FROM dd
    $q$
    USING fmtbank.eligibility_params(p_at, p_donor_id, true);
END $fn$;

-- Every donor registered by p_at, in one statement. (This wrapper and the next are SQL-standard
-- bodies, which the ownership policy leaves without a SET clause, so that the planner inlines
-- them when their arguments are not volatile: the caller then reads eligibility_summary's rows
-- directly, not a copy stored by the wrapper. As "$$" bodies they had been given a SET clause.)
CREATE OR REPLACE FUNCTION fmtbank.donor_eligibility_at(p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (donor_id uuid, code text, status text, deferred_until date, reasons jsonb,
               next_screening_due date, rule_set_version integer)
LANGUAGE sql STABLE PARALLEL RESTRICTED
BEGIN ATOMIC
    SELECT * FROM fmtbank.eligibility_summary(p_at, NULL);
END;

-- One donor: the same statement, filtered (no row when the donor was not registered by p_at).
CREATE OR REPLACE FUNCTION fmtbank.donor_status_at(p_donor_id uuid, p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (donor_id uuid, code text, status text, deferred_until date, reasons jsonb,
               next_screening_due date, rule_set_version integer)
LANGUAGE sql STABLE PARALLEL RESTRICTED
BEGIN ATOMIC
    SELECT * FROM fmtbank.eligibility_summary(p_at, p_donor_id) WHERE p_donor_id IS NOT NULL;
END;

-- Every rule for one donor with its verdict (pass included), in display order.
CREATE OR REPLACE FUNCTION fmtbank.donor_explain_at(p_donor_id uuid, p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (rule text, verdict text, until date, detail text, ord integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.rule, r.verdict, r.until, r.detail, r.ord
    FROM fmtbank.eligibility_rules(p_at, p_donor_id) r
    WHERE p_donor_id IS NOT NULL
    ORDER BY r.ord, r.rule
$$;

-- "--as-of": a date alone means the end of that day (everything recorded that day counts).
CREATE OR REPLACE FUNCTION fmtbank.parse_as_of(p text) RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN p IS NULL THEN clock_timestamp()
                WHEN btrim(p) ~ '^\d{4}-\d{2}-\d{2}$'
                  THEN fmtbank.parse_ts(btrim(p), '--as-of') + interval '1 day' - interval '1 microsecond'
                ELSE fmtbank.parse_ts(btrim(p), '--as-of') END
$$;

-- "fmtbank status": donors registered, and by eligibility now.
CREATE OR REPLACE FUNCTION fmtbank.status_donors() RETURNS TABLE (entity text, state text, n bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'donor', 'registered', count(*) FROM fmtbank.donor
    UNION ALL
    SELECT 'donor', e.status, count(*) FROM fmtbank.donor_eligibility_at(clock_timestamp()) e
    GROUP BY e.status;
$$;
SELECT fmtbank.status_register('donor', 'fmtbank.status_donors()');

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.donor_manual_at(uuid, timestamp with time zone),
    fmtbank.donor_decide(text, text, text),
    fmtbank.eligibility_params(timestamp with time zone, uuid, boolean),
    fmtbank.eligibility_params_entry(timestamp with time zone, timestamp with time zone, uuid),
    fmtbank.eligibility_sql(),
    fmtbank.eligibility_summary_sql(),
    fmtbank.eligibility_summary(timestamp with time zone, uuid),
    fmtbank.eligibility_stale(timestamp with time zone, uuid),
    fmtbank.most_donors(integer),
    fmtbank.donor_status_entry(uuid, timestamp with time zone, timestamp with time zone),
    fmtbank.eligibility_rules(timestamp with time zone, uuid),
    fmtbank.donor_eligibility_at(timestamp with time zone),
    fmtbank.donor_status_at(uuid, timestamp with time zone),
    fmtbank.donor_explain_at(uuid, timestamp with time zone),
    fmtbank.parse_as_of(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- not granted (owner only): status_donors
