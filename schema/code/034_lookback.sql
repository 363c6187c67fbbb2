-- 034_lookback: functions and views (code: re-applied as a set by "fmtbank init", see schema/code/README).

-- 034_lookback: lookback and recall (product.md §2 step 10, domain.md Timing).
--
-- Every unacceptable result - positive, out of limit or indeterminate, judged by the rules in
-- force when it is recorded - opens a lookback case, whatever path recorded it (result add,
-- result import, result correct, the daemon's inbox): a trigger on fmtbank.result. A correction
-- that supersedes an unacceptable result closes its case automatically while the case is still
-- open (not yet applied); an applied case stays, for a quality officer to close with a reason.
--
-- What a case holds (lookback_case_at, 031): the donor's lots collected on or after
-- hold_from = LEAST(the last acceptable result of the same test collected before the unacceptable
-- one, its collection day - lookback_min_days), every lot of the donor when there is no earlier
-- acceptable result. Lots collected before hold_from are bracketed by acceptable results and are
-- not held. Applying a case (lookback --apply by a quality officer, or the daemon's sweep, 035):
-- quarantine/ready/released lots become recalled, their doses still in stock (quarantine or
-- released) recalled, issued doses listed with recipient and site for notification; the retained
-- sample is kept as it is, for testing. All of it is recorded in lookback_hold and, like every
-- change, in the audit trail. Until a case is applied, the lots it holds cannot be released
-- (031) or issued (033).

-- ---------------------------------------------------------------- opening and withdrawing cases
CREATE OR REPLACE FUNCTION fmtbank.lookback_open_cases() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO fmtbank.lookback_case (donor_id, result_id, test_no, collected, outcome)
    SELECT n.donor_id, n.id, n.test_no, n.collected,
           CASE WHEN n.result = 'indeterminate' THEN 'indeterminate'
                WHEN n.value IS NOT NULL THEN 'out_of_limit' ELSE 'positive' END
    FROM new_rows n
    JOIN fmtbank.screening_test_at(clock_timestamp()) t ON t.test_no = n.test_no
    WHERE n.result <> 'negative' AND n.superseded_at IS NULL
      AND NOT fmtbank.result_acceptable(n.result, n.value, t.accept_op, t.accept_limit)
    ORDER BY n.donor_id, n.test_no, n.collected;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.lookback_withdraw_cases() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE fmtbank.lookback_case c
    SET status = 'closed', closed_at = clock_timestamp(), closed_by = session_user,
        close_reason = 'withdrawn automatically: the result was corrected'
                       || coalesce(' (' || nullif(btrim(current_setting('fmtbank.reason', true)), '')
                                   || ')', '')
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE c.result_id = o.id AND c.status = 'open'
      AND o.superseded_at IS NULL AND n.superseded_at IS NOT NULL;
    RETURN NULL;
END $$;

-- One row per lot a case holds (kind 'lot') and per aliquot of it (kind 'aliquot'), with what
-- applying the case does (action): recall, notify recipient (issued doses), keep (the retained
-- sample), already recalled, or none. Cases of one donor (or all with p_donor NULL), one test
-- (or all), in the given states.
CREATE OR REPLACE FUNCTION fmtbank.lookback_items_at(p_at timestamptz, p_donor uuid, p_test text,
                                          p_case_statuses text[])
RETURNS SETOF fmtbank.lookback_item
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH c AS (
        SELECT * FROM fmtbank.lookback_case_at(p_at) c
        WHERE (p_donor IS NULL OR c.donor_id = p_donor) AND (p_test IS NULL OR c.test = p_test)
          AND c.status = ANY (p_case_statuses)),
    hl AS (
        SELECT c.*, l.id AS lot_uuid, l.lot_id, l.collected_at, l.status AS lstatus
        FROM c JOIN fmtbank.lot l ON l.donor_id = c.donor_id AND l.collected_at::date >= c.hold_from)
    SELECT hl.case_id, hl.status, hl.test, hl.outcome, hl.collected, hl.hold_from, 'lot'::text,
           hl.lot_uuid, hl.lot_id, hl.collected_at, hl.lstatus, NULL::uuid, NULL::text, NULL::text,
           hl.lstatus,
           CASE WHEN hl.lstatus IN ('quarantine', 'ready', 'released') THEN 'recall'
                WHEN hl.lstatus = 'recalled' THEN 'already recalled'
                ELSE 'none (' || hl.lstatus || ')' END,
           NULL::text, NULL::text, NULL::timestamptz
    FROM hl
    UNION ALL
    SELECT hl.case_id, hl.status, hl.test, hl.outcome, hl.collected, hl.hold_from, 'aliquot',
           hl.lot_uuid, hl.lot_id, hl.collected_at, hl.lstatus, a.id, a.aliquot_id,
           fmtbank.aliquot_status_now(a.status, a.expires_at), a.status,
           CASE WHEN a.retained THEN 'keep (retained sample, for testing)'
                WHEN a.status IN ('quarantine', 'released') THEN 'recall'
                WHEN a.status = 'issued' THEN 'notify recipient'
                WHEN a.status = 'recalled' THEN 'already recalled'
                ELSE 'none (' || a.status || ')' END,
           i.recipient, i.site, i.issued_at
    FROM hl
    JOIN fmtbank.aliquot a ON a.lot = hl.lot_uuid
    LEFT JOIN fmtbank.aliquot_issue i ON i.aliquot = a.id
$$;

-- Applies open cases (p_cases) at p_at: recalls what they hold, records it, marks them applied,
-- and returns the items acted on. The cases are locked first, then the lots they hold (in id
-- order: the order release_sign and aliquot_issue lock them), and only then is what they hold
-- read, so a concurrent apply finds the cases applied and a concurrent issue or signature
-- finishes before (or waits for) the recall. Callers check the role.
CREATE OR REPLACE FUNCTION fmtbank.lookback_apply_cases(p_cases bigint[], p_at timestamptz)
RETURNS SETOF fmtbank.lookback_item
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE why text := 'lookback recall';
BEGIN
    PERFORM 1 FROM fmtbank.lookback_case c WHERE c.id = ANY (p_cases) AND c.status = 'open'
    ORDER BY c.id FOR UPDATE;
    PERFORM 1 FROM fmtbank.lot l
    WHERE l.id IN (SELECT i.lot FROM fmtbank.lookback_items_at(p_at, NULL, NULL, ARRAY['open']) i
                   WHERE i.case_id = ANY (p_cases) AND i.kind = 'lot')
    ORDER BY l.id FOR UPDATE;
    RETURN QUERY
    WITH it AS MATERIALIZED (
        SELECT i.* FROM fmtbank.lookback_items_at(p_at, NULL, NULL, ARRAY['open']) i
        WHERE i.case_id = ANY (p_cases)),
    ul AS (
        UPDATE fmtbank.lot l SET status = 'recalled'
        WHERE l.id IN (SELECT it.lot FROM it WHERE it.kind = 'lot' AND it.action = 'recall')
          AND l.status IN ('quarantine', 'ready', 'released')
        RETURNING l.id),
    ua AS (
        UPDATE fmtbank.aliquot a SET status = 'recalled', status_at = p_at,
               status_reason = format('%s (case %s)', why,
                                      (SELECT min(it.case_id) FROM it WHERE it.aliquot = a.id))
        WHERE a.id IN (SELECT it.aliquot FROM it WHERE it.kind = 'aliquot' AND it.action = 'recall')
          AND a.status IN ('quarantine', 'released')
        RETURNING a.id),
    ins AS (
        INSERT INTO fmtbank.lookback_hold (case_id, lot, aliquot, action, prior_status, recipient,
                                           site, issued_at, at)
        SELECT it.case_id, it.lot, it.aliquot,
               CASE WHEN it.kind = 'lot' THEN 'recall_lot'
                    WHEN it.action = 'recall' THEN 'recall_aliquot' ELSE 'notify' END,
               it.stored_status, it.recipient, it.site, it.issued_at, p_at
        FROM it WHERE it.action IN ('recall', 'notify recipient')
        ORDER BY it.case_id, it.lot_id, it.aliquot_id NULLS FIRST
        RETURNING 1),
    uc AS (
        UPDATE fmtbank.lookback_case c SET status = 'applied', applied_at = p_at,
               applied_by = session_user, hold_from = x.hold_from
        FROM fmtbank.lookback_case_at(p_at) x
        WHERE x.case_id = c.id AND c.id = ANY (p_cases) AND c.status = 'open'
        RETURNING 1)
    SELECT it.* FROM it
    ORDER BY it.case_id, it.lot_id, it.kind DESC, it.aliquot_id;
END $$;

-- ---------------------------------------------------------------- the commands
-- A test code of the catalog (FB001 when unknown), or NULL for none.
CREATE OR REPLACE FUNCTION fmtbank.test_code_check(p text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE c text := upper(btrim(p));
BEGIN
    IF p IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM fmtbank.screening_test t WHERE t.code = c) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('unknown test "%s"', p),
            HINT = 'Run "fmtbank catalog tests" for the list.';
    END IF;
    RETURN c;
END $$;

-- "fmtbank lookback CODE [--test T]": what the donor's open cases would hold and the applied
-- ones hold, now.
CREATE OR REPLACE FUNCTION fmtbank.lookback_show(p_code text, p_test text)
RETURNS SETOF fmtbank.lookback_item
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.donor := fmtbank.donor_get(p_code);
    tc text := fmtbank.test_code_check(p_test);
BEGIN
    RETURN QUERY SELECT * FROM fmtbank.lookback_items_at(clock_timestamp(), d.id, tc,
                                                         ARRAY['open', 'applied']) i
                 ORDER BY i.case_id, i.lot_id, i.kind DESC, i.aliquot_id;
END $$;

-- "fmtbank lookback CODE [--test T] --apply" (quality): applies the donor's open cases.
CREATE OR REPLACE FUNCTION fmtbank.lookback_apply(p_code text, p_test text)
RETURNS SETOF fmtbank.lookback_item
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.donor;
    tc text;
    cases bigint[];
BEGIN
    PERFORM fmtbank.require_role('applying lookback', 'quality');
    d := fmtbank.donor_get(p_code);
    tc := fmtbank.test_code_check(p_test);
    SELECT array_agg(c.id ORDER BY c.id) INTO cases
    FROM fmtbank.lookback_case c JOIN fmtbank.screening_test t ON t.test_no = c.test_no
    WHERE c.donor_id = d.id AND c.status = 'open' AND (tc IS NULL OR t.code = tc);
    IF cases IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('donor "%s" has no open lookback case%s', d.code,
                             coalesce(format(' for test "%s"', tc), '')),
            HINT = '"fmtbank lookback list" shows every case.';
    END IF;
    PERFORM set_config('fmtbank.reason',
                       coalesce(fmtbank.acting_reason(false, 'applying lookback'),
                                format('lookback of donor %s applied', d.code)), true);
    RETURN QUERY SELECT * FROM fmtbank.lookback_apply_cases(cases, clock_timestamp());
END $$;

-- "fmtbank lookback close CASE --reason R" (quality).
CREATE OR REPLACE FUNCTION fmtbank.lookback_close(p_case text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c fmtbank.lookback_case;
    why text;
BEGIN
    PERFORM fmtbank.require_role('closing lookback cases', 'quality');
    IF p_case IS NULL OR btrim(p_case) !~ '^[0-9]{1,18}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid lookback case "%s"', coalesce(p_case, '')),
            HINT = 'Cases are numbers, as "fmtbank lookback list" shows them.';
    END IF;
    SELECT * INTO c FROM fmtbank.lookback_case x WHERE x.id = btrim(p_case)::bigint FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('lookback case %s not found', p_case);
    END IF;
    IF c.status = 'closed' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('lookback case %s is already closed', c.id),
            DETAIL = format('Closed by %s on %s: %s', c.closed_by, fmtbank.ts_text(c.closed_at),
                            c.close_reason);
    END IF;
    why := fmtbank.acting_reason(true, 'closing a lookback case');
    UPDATE fmtbank.lookback_case x SET status = 'closed', closed_at = clock_timestamp(),
           closed_by = session_user, close_reason = why
    WHERE x.id = c.id;
    RETURN c.id;
END $$;

-- "fmtbank lookback list": every case, with what it holds now (open) or held (applied).
CREATE OR REPLACE VIEW fmtbank.lookback_list AS
    SELECT c.case_id AS "case", d.code AS donor, c.test, c.outcome, c.collected, c.status,
           c.opened_at, CASE WHEN c.hold_from = '-infinity' THEN NULL ELSE c.hold_from END AS hold_from,
           c.hold_from = '-infinity' AS holds_all,
           (SELECT count(*) FROM fmtbank.lot l
            WHERE l.donor_id = c.donor_id AND l.collected_at::date >= c.hold_from) AS lots,
           (SELECT count(*) FROM fmtbank.lot l JOIN fmtbank.aliquot a ON a.lot = l.id
            WHERE l.donor_id = c.donor_id AND l.collected_at::date >= c.hold_from
              AND a.status = 'issued') AS issued,
           x.applied_at, x.applied_by, x.closed_at, x.closed_by, x.close_reason,
           c.result_id AS result
    FROM fmtbank.lookback_case_at(clock_timestamp()) c
    JOIN fmtbank.lookback_case x ON x.id = c.case_id
    JOIN fmtbank.donor d ON d.id = c.donor_id;

-- "fmtbank status": lookback cases by status.
CREATE OR REPLACE FUNCTION fmtbank.status_lookback_cases() RETURNS TABLE (entity text, state text, n bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'lookback_case', c.status, count(*) FROM fmtbank.lookback_case c GROUP BY c.status;
$$;
SELECT fmtbank.status_register('lookback_case', 'fmtbank.status_lookback_cases()');

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

-- not granted (owner only): lookback_open_cases, lookback_withdraw_cases, lookback_apply_cases

GRANT EXECUTE ON FUNCTION
    fmtbank.lookback_items_at(timestamp with time zone, uuid, text, text[]),
    fmtbank.test_code_check(text),
    fmtbank.lookback_show(text, text),
    fmtbank.lookback_apply(text, text),
    fmtbank.lookback_close(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT SELECT ON fmtbank.lookback_list
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- not granted (owner only): status_lookback_cases
