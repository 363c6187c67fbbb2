-- 034_lookback: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 034_lookback: lookback and recall (product.md §2 step 10, §11.0, domain.md Timing): the
-- cases of source "result".
--
-- Every unacceptable result - positive, out of limit or indeterminate, judged by the rules in
-- force when it is recorded - opens a case, whatever path recorded it (result add, result
-- import, result correct, the daemon's inbox): a trigger on fmtbank.result. In the same
-- transaction the case holds (case_hold, 100) the donor's lots still in the bank collected on or
-- after hold_from = LEAST(the last acceptable result of the same test collected before the
-- unacceptable one, its collection day - lookback_min_days), every lot of the donor when there is
-- no earlier acceptable result. Lots collected before hold_from are bracketed by acceptable
-- results and are not held. Nothing but a quality officer's signed decision ends the holds
-- ("lookback CODE --apply" is "case decide --recall" for each open result case of the donor): a
-- correction that supersedes the unacceptable result marks the case "signal withdrawn - lift
-- proposed" and the holds stay until an officer lifts them. fmtbank.lookback_case is the view of
-- the result cases in the shape of the earlier lookback case (status "applied" = decided).

-- The result cases as the earlier lookback case table showed them.
CREATE OR REPLACE VIEW fmtbank.lookback_case AS
    SELECT c.id, c.donor_id, c.result_id, c.test_no, c.collected, c.outcome, c.opened_at,
           c.opened_by, CASE c.status WHEN 'decided' THEN 'applied' ELSE c.status END AS status,
           c.hold_from, c.applied_at, c.applied_by, c.closed_at, c.closed_by, c.close_reason,
           c.case_code, c.withdrawn_at, c.withdrawn_reason
    FROM fmtbank.safety_case c WHERE c.source = 'result';

-- ---------------------------------------------------------------- opening and withdrawing cases
CREATE OR REPLACE FUNCTION fmtbank.lookback_open_cases() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t timestamptz := clock_timestamp();
    ids bigint[];
BEGIN
    WITH nc AS (
        INSERT INTO fmtbank.safety_case (case_code, source, donor_id, result_id, test_no,
                                         collected, outcome)
        SELECT fmtbank.year_next_id('case', 'C', t), 'result', n.donor_id, n.id, n.test_no,
               n.collected,
               CASE WHEN n.result = 'indeterminate' THEN 'indeterminate'
                    WHEN n.value IS NOT NULL THEN 'out_of_limit' ELSE 'positive' END
        FROM (SELECT n.* FROM new_rows n
              JOIN fmtbank.screening_test_at(t) st ON st.test_no = n.test_no
              WHERE n.result <> 'negative' AND n.superseded_at IS NULL
                AND NOT fmtbank.result_acceptable(n.result, n.value, st.accept_op, st.accept_limit)
              ORDER BY n.donor_id, n.test_no, n.collected) n
        RETURNING id)
    SELECT array_agg(nc.id) INTO ids FROM nc;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    -- the window, fixed now, and what it holds
    UPDATE fmtbank.safety_case c SET hold_from = x.hold_from
    FROM fmtbank.lookback_case_at(clock_timestamp()) x WHERE x.case_id = c.id AND c.id = ANY (ids);
    INSERT INTO fmtbank.case_hold (case_id, lot)
    SELECT c.id, l.id FROM fmtbank.safety_case c
    JOIN fmtbank.lot l ON l.donor_id = c.donor_id AND l.collected_at::date >= c.hold_from
    WHERE c.id = ANY (ids) AND l.status IN ('quarantine', 'ready', 'released')
    ORDER BY c.id, l.id;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER lookback_open AFTER INSERT ON fmtbank.result REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.lookback_open_cases();

-- A correction that withdraws the signal: the case is marked, its holds stay.
CREATE OR REPLACE FUNCTION fmtbank.lookback_withdraw_cases() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE fmtbank.safety_case c
    SET withdrawn_at = clock_timestamp(),
        withdrawn_reason = 'the result was corrected'
                           || coalesce(' (' || nullif(btrim(current_setting('fmtbank.reason', true)), '')
                                       || ')', '')
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE c.result_id = o.id AND c.status = 'open' AND c.withdrawn_at IS NULL
      AND o.superseded_at IS NULL AND n.superseded_at IS NOT NULL;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER lookback_withdraw AFTER UPDATE ON fmtbank.result
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.lookback_withdraw_cases();

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

-- "fmtbank lookback CODE [--test T] --apply" (quality): the donor's open result cases, each then
-- decided "recall" with the officer's signature (case_sign_attempt, case_decide).
CREATE OR REPLACE FUNCTION fmtbank.lookback_open_cases_of(p_code text, p_test text)
RETURNS SETOF text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.donor;
    tc text;
    cases text[];
BEGIN
    PERFORM fmtbank.require_role('applying lookback', 'quality');
    d := fmtbank.donor_get(p_code);
    tc := fmtbank.test_code_check(p_test);
    SELECT array_agg(c.case_code ORDER BY c.id) INTO cases
    FROM fmtbank.safety_case c JOIN fmtbank.screening_test t ON t.test_no = c.test_no
    WHERE c.donor_id = d.id AND c.source = 'result' AND c.status = 'open'
      AND (tc IS NULL OR t.code = tc);
    IF cases IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('donor "%s" has no open lookback case%s', d.code,
                             coalesce(format(' for test "%s"', tc), '')),
            HINT = '"fmtbank lookback list" shows every case.';
    END IF;
    RETURN QUERY SELECT unnest(cases);
END $$;

-- "fmtbank lookback close CASE --reason R" (quality).
CREATE OR REPLACE FUNCTION fmtbank.lookback_close(p_case text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.require_role('closing lookback cases', 'quality');
    RETURN fmtbank.case_close(p_case, NULL);
END $$;

-- "fmtbank lookback list": every case, with what it holds now (open) or held (applied).
CREATE OR REPLACE VIEW fmtbank.lookback_list AS
    SELECT x.case_code AS "case", d.code AS donor, c.test, c.outcome, c.collected, c.status,
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

-- not granted (owner only): lookback_open_cases, lookback_withdraw_cases

GRANT EXECUTE ON FUNCTION
    fmtbank.lookback_items_at(timestamp with time zone, uuid, text, text[]),
    fmtbank.test_code_check(text),
    fmtbank.lookback_show(text, text),
    fmtbank.lookback_open_cases_of(text, text),
    fmtbank.lookback_close(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT SELECT ON fmtbank.lookback_list, fmtbank.lookback_case
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- not granted (owner only): status_lookback_cases
