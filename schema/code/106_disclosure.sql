-- 106_disclosure: cases opened by a questionnaire answer recorded after a donation (product.md
-- §11.0 sources disclosure and followup, domain.md "lookback_days").
--
-- Which lots an answer concerns (days in the session's time zone, as everywhere):
--   date item with date D (full questionnaire)  the lots collected in [D - lookback_days, D + defer_days)
--   yes to a "since ..." item (donation-day or  the lots collected from S - lookback_days through the
--   follow-up questionnaire)                    questionnaire's date, S = the date of the previous
--                                               questionnaire of that kind, else of the previous donation
--                                               (collected before that date), else the date itself
--   yes to an exclusion item                    every lot of the donor (issued doses listed for notification)
-- A case opens only when that window holds a lot of the donor that is not rejected (an answer about a
-- time before any donation concerns no material): it holds the lots still in the bank, lists the
-- issued doses, and, as a donor scope, holds the lots recorded later in its window too (100). The
-- same answer recorded again (the same donor, item and window, case still open) opens nothing new; a
-- questionnaire recorded again without the answer marks its cases "signal withdrawn - lift proposed"
-- and the holds stay until a quality officer decides, as for a corrected result (034).

-- The windows the flagged answers of some questionnaires concern, one row per questionnaire and item
-- (lo: first day, hi: first day after; NULL: unbounded).
CREATE OR REPLACE FUNCTION fmtbank.disclosure_windows(p_qids uuid[])
RETURNS TABLE (qid uuid, donor_id uuid, kind text, q_date date, item text, effect text, lo date,
               hi date, reason text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH q AS (
        SELECT x.id, x.donor_id, x.kind, x.q_date FROM fmtbank.questionnaire x WHERE x.id = ANY (p_qids)),
    a AS (
        SELECT q.id AS qid, q.donor_id, q.kind, q.q_date, i.code AS item, i.effect, i.type,
               i.lookback_days AS lb, an.date_value, i.defer_days
        FROM q
        JOIN fmtbank.questionnaire_answer an ON an.questionnaire_id = q.id
        JOIN fmtbank.question_item_at(clock_timestamp()) i ON i.code = an.item
        WHERE (an.yes AND i.effect IN ('exclude', 'defer'))
           OR (an.date_value IS NOT NULL AND i.effect = 'defer')),
    w AS (
        SELECT a.*,
               CASE WHEN a.effect = 'exclude' THEN NULL
                    WHEN a.type = 'date' THEN a.date_value - a.lb
                    ELSE coalesce(
                           (SELECT max(p.q_date) FROM fmtbank.questionnaire p
                            WHERE p.donor_id = a.donor_id AND p.kind = a.kind AND p.q_date < a.q_date
                              AND p.superseded_at IS NULL),
                           (SELECT max(l.collected_at)::date FROM fmtbank.lot l
                            WHERE l.donor_id = a.donor_id AND l.collected_at::date < a.q_date),
                           a.q_date) - a.lb END AS lo,
               CASE WHEN a.effect = 'exclude' THEN NULL
                    WHEN a.type = 'date' THEN a.date_value + a.defer_days
                    ELSE a.q_date + 1 END AS hi
        FROM a)
    SELECT w.qid, w.donor_id, w.kind, w.q_date, w.item, w.effect, w.lo, w.hi,
           format('%s on the %s questionnaire of %s: %s',
                  CASE WHEN w.type = 'date' THEN format('%s %s', w.item, w.date_value)
                       ELSE format('yes to %s', w.item) END,
                  fmtbank.questionnaire_kind_name(w.kind), w.q_date,
                  CASE WHEN w.lo IS NULL AND w.hi IS NULL THEN 'every lot of the donor'
                       ELSE format('the lots collected from %s to %s', w.lo, w.hi - 1) END)
    FROM w
$$;

-- Opens the cases of the given questionnaires' answers and holds what they concern; withdraws
-- the cases of the questionnaires they supersede whose answer is gone. Returns the cases opened.
CREATE OR REPLACE FUNCTION fmtbank.disclosure_open(p_qids uuid[]) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t timestamptz := clock_timestamp();
    ids bigint[];
BEGIN
    WITH w AS (
        SELECT w.*, CASE WHEN w.lo IS NOT NULL THEN w.lo::timestamptz END AS t0,
               CASE WHEN w.hi IS NOT NULL THEN w.hi::timestamptz - interval '1 microsecond' END AS t1
        FROM fmtbank.disclosure_windows(p_qids) w),
    keep AS (
        -- the same signal already open (the answer recorded again): nothing new
        SELECT w.qid, w.item, c.id AS case_id FROM w
        JOIN fmtbank.safety_case c ON c.donor_id = w.donor_id AND c.item = w.item
             AND c.status = 'open' AND c.withdrawn_at IS NULL
             AND c.scope_from IS NOT DISTINCT FROM w.t0 AND c.scope_to IS NOT DISTINCT FROM w.t1),
    nc AS (
        INSERT INTO fmtbank.safety_case (case_code, source, reason, scope_kind, donor_id,
                                         scope_from, scope_to, questionnaire_id, item)
        SELECT fmtbank.year_next_id('case', 'C', t),
               CASE WHEN w.kind = 'followup' THEN 'followup' ELSE 'disclosure' END, w.reason,
               'donor', w.donor_id, w.t0, w.t1, w.qid, w.item
        FROM (SELECT w.* FROM w
              WHERE NOT EXISTS (SELECT 1 FROM keep k WHERE k.qid = w.qid AND k.item = w.item)
                AND EXISTS (SELECT 1 FROM fmtbank.lot l
                            WHERE l.donor_id = w.donor_id AND l.status <> 'rejected'
                              AND (w.lo IS NULL OR l.collected_at::date >= w.lo)
                              AND (w.hi IS NULL OR l.collected_at::date < w.hi))
              ORDER BY w.donor_id, w.item) w
        RETURNING id)
    SELECT array_agg(nc.id) INTO ids FROM nc;

    -- the cases of superseded questionnaires whose signal the new one no longer gives
    UPDATE fmtbank.safety_case c
    SET withdrawn_at = t,
        withdrawn_reason = format('the questionnaire was recorded again without this answer%s',
                                  coalesce(' (' || nullif(btrim(current_setting('fmtbank.reason', true)), '')
                                           || ')', ''))
    FROM fmtbank.questionnaire nq
    WHERE nq.id = ANY (p_qids) AND c.questionnaire_id = nq.supersedes
      AND c.status = 'open' AND c.withdrawn_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM fmtbank.disclosure_windows(ARRAY[nq.id]) w
                      WHERE w.item = c.item
                        AND (CASE WHEN w.lo IS NOT NULL THEN w.lo::timestamptz END)
                            IS NOT DISTINCT FROM c.scope_from
                        AND (CASE WHEN w.hi IS NOT NULL
                                  THEN w.hi::timestamptz - interval '1 microsecond' END)
                            IS NOT DISTINCT FROM c.scope_to);

    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO fmtbank.case_hold (case_id, lot)
    SELECT c.id, l.id FROM fmtbank.safety_case c
    JOIN fmtbank.lot l ON l.donor_id = c.donor_id
         AND (c.scope_from IS NULL OR l.collected_at >= c.scope_from)
         AND (c.scope_to IS NULL OR l.collected_at <= c.scope_to)
    WHERE c.id = ANY (ids) AND l.status IN ('quarantine', 'ready', 'released')
    ORDER BY c.id, l.id;
    RETURN cardinality(ids);
END $$;

-- Whatever path records the answers (questionnaire record, or a superuser's INSERT): the cases
-- open in the same transaction.
CREATE OR REPLACE FUNCTION fmtbank.disclosure_after_answers() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.disclosure_open(ARRAY(SELECT DISTINCT n.questionnaire_id FROM new_rows n));
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER disclosure_open AFTER INSERT ON fmtbank.questionnaire_answer
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.disclosure_after_answers();

-- ---------------------------------------------------------------- privileges
-- disclosure_windows, disclosure_open and the trigger function run inside questionnaire_record
-- (owner) or a superuser's statement: no role calls them directly.
