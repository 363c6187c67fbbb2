-- 012_result: screening results. One row per result as reported (collection date, result, unit,
-- lab); a correction is a new row that supersedes the original (which stays, marked with the
-- moment it was superseded), so "as of" any moment sees exactly what had been recorded then.
-- Single results and imported files go through the same set-based validation; every insert
-- notifies "fmtbank_result" with the donor code (the daemon listens).

-- donor_id, test_no and supersedes are checked by a statement-level trigger (result_refs_check) rather than
-- FOREIGN KEY clauses: PostgreSQL checks a foreign key with one query per inserted row, which
-- cost 1.5 s of a 100,000-row import; the trigger checks the whole statement with one anti-join.
-- The referenced rows can be neither deleted (audit_enable refuses DELETE and TRUNCATE) nor
-- re-keyed (triggers below), so the references stay valid as foreign keys would keep them.
CREATE TABLE fmtbank.result (
    id            uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    donor_id      uuid NOT NULL,
    test_no       smallint NOT NULL,
    collected     date NOT NULL,
    result        text NOT NULL,
    value         numeric,
    unit          text,
    lab           text,
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by   text NOT NULL DEFAULT session_user,
    supersedes    uuid,
    superseded_at timestamptz,
    reason        text,
    CHECK (result IN ('negative', 'positive', 'indeterminate') OR value IS NOT NULL),
    CHECK ((supersedes IS NULL) = (reason IS NULL))
);
-- Every lookup of a donor's results (eligibility probes, explain, result list, lookback).
CREATE INDEX result_donor_test ON fmtbank.result (donor_id, test_no, collected);
CREATE UNIQUE INDEX result_supersedes ON fmtbank.result (supersedes) WHERE supersedes IS NOT NULL;
-- Every result that may be unacceptable (positive, indeterminate, or a number): never "negative".
-- Eligibility reads the unacceptable ones of all donors from it without a pass over the table.
CREATE INDEX result_not_negative ON fmtbank.result (donor_id, test_no, collected)
    INCLUDE (result, value, recorded_at, superseded_at) WHERE result <> 'negative';
SELECT fmtbank.audit_enable('fmtbank.result', 'id');

CREATE FUNCTION fmtbank.result_refs_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE bad record;
BEGIN
    SELECT n.id, n.donor_id, n.test_no, n.supersedes INTO bad FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM fmtbank.donor d WHERE d.id = n.donor_id)
       OR NOT EXISTS (SELECT 1 FROM fmtbank.screening_test t WHERE t.test_no = n.test_no)
       OR (n.supersedes IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM fmtbank.result r WHERE r.id = n.supersedes))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '23503',
            MESSAGE = format('result "%s" refers to a donor, test or result that does not exist',
                             bad.id),
            DETAIL = format('donor_id %s, test_no %s, supersedes %s', bad.donor_id, bad.test_no,
                            coalesce(bad.supersedes::text, 'none'));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER result_refs_ins AFTER INSERT ON fmtbank.result REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.result_refs_check();
CREATE TRIGGER result_refs_upd AFTER UPDATE ON fmtbank.result REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.result_refs_check();

CREATE FUNCTION fmtbank.refuse_rekey() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = format('cannot change the key of a row of "%s": results refer to it', TG_TABLE_NAME);
END $$;
CREATE TRIGGER donor_no_rekey BEFORE UPDATE OF id ON fmtbank.donor
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION fmtbank.refuse_rekey();
CREATE TRIGGER screening_test_no_rekey BEFORE UPDATE OF test_no ON fmtbank.screening_test
    FOR EACH ROW WHEN (OLD.test_no IS DISTINCT FROM NEW.test_no) EXECUTE FUNCTION fmtbank.refuse_rekey();
CREATE TRIGGER result_no_rekey BEFORE UPDATE OF id ON fmtbank.result
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION fmtbank.refuse_rekey();

CREATE FUNCTION fmtbank.result_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM pg_notify('fmtbank_result', d.code)
    FROM (SELECT DISTINCT n.donor_id FROM new_rows n) n
    JOIN fmtbank.donor d ON d.id = n.donor_id;
    RETURN NULL;
END $$;
CREATE TRIGGER result_notify AFTER INSERT ON fmtbank.result REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.result_notify();

-- Validates pg_temp.result_stage (line, id, donor, test, collected, result, unit, lab: text as
-- read from the file) as a set into pg_temp.result_checked: the normalised row and its problem
-- (NULL when good). p_check_existing: refuse a row identical to a result already in force (a file
-- imported twice); corrections skip it. Writers of results are serialised by an advisory lock
-- held to commit, so that check also holds between two imports running at the same moment.
CREATE FUNCTION fmtbank.result_stage_validate(p_check_existing boolean) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(70640012);
    DROP TABLE IF EXISTS pg_temp.result_checked;
    CREATE TEMP TABLE result_checked ON COMMIT DROP AS
    WITH s AS (
        SELECT s.line, s.id, coalesce(s.donor, '') AS raw_donor,
               upper(btrim(coalesce(s.donor, ''))) AS dcode,
               coalesce(s.test, '') AS raw_test, upper(btrim(coalesce(s.test, ''))) AS tcode,
               btrim(coalesce(s.collected, '')) AS coll_raw, btrim(coalesce(s.result, '')) AS res_raw,
               nullif(btrim(coalesce(s.unit, '')), '') AS unit_raw,
               nullif(btrim(coalesce(s.lab, '')), '') AS lab
        FROM pg_temp.result_stage s),
    j AS (
        SELECT s.*, d.id AS donor_id, t.test_no, t.code AS test_code, t.kind, t.unit AS cat_unit,
               t.unit_aliases, fmtbank.iso_date(s.coll_raw) AS coll,
               CASE WHEN t.kind = 'numeric' AND s.res_raw ~ '^[0-9]{1,12}(\.[0-9]{1,12})?$'
                    THEN s.res_raw::numeric END AS val,
               CASE WHEN t.kind = 'qualitative' THEN lower(s.res_raw) ELSE s.res_raw END AS res
        FROM s
        LEFT JOIN fmtbank.donor d ON d.code = s.dcode
        LEFT JOIN fmtbank.screening_test t ON t.code = s.tcode),
    k AS (
        SELECT j.*,
               min(j.line) OVER (PARTITION BY j.donor_id, j.test_no, j.coll, j.res, j.lab) AS first_line
        FROM j)
    SELECT k.line, k.id, k.donor_id, k.dcode, k.test_no, k.test_code, k.coll AS collected,
           k.res AS result, k.val AS value, CASE WHEN k.kind = 'numeric' THEN k.cat_unit END AS unit,
           k.lab,
           CASE
             WHEN k.donor_id IS NULL
                  AND k.dcode !~ (SELECT value FROM fmtbank.site_setting WHERE name = 'donor_code_pattern')
               THEN format('invalid donor code "%s"', k.raw_donor)
             WHEN k.donor_id IS NULL THEN format('donor "%s" not found', k.dcode)
             WHEN k.test_no IS NULL THEN format('unknown test "%s"', k.raw_test)
             WHEN k.coll IS NULL
               THEN format('invalid collected date "%s" (use YYYY-MM-DD)', k.coll_raw)
             WHEN k.coll > current_date THEN format('collected date %s is in the future', k.coll)
             WHEN k.kind = 'qualitative' AND k.res NOT IN ('negative', 'positive', 'indeterminate')
               THEN format('result "%s" for test "%s" must be negative, positive or indeterminate',
                           k.res_raw, k.test_code)
             WHEN k.kind = 'qualitative' AND k.unit_raw IS NOT NULL
               THEN format('test "%s" is qualitative: its unit must be empty, not "%s"',
                           k.test_code, k.unit_raw)
             WHEN k.kind = 'numeric' AND k.val IS NULL
               THEN format('result "%s" for test "%s" is not a number (in %s)', k.res_raw,
                           k.test_code, k.cat_unit)
             WHEN k.kind = 'numeric' AND k.unit_raw IS NULL
               THEN format('unit missing for test "%s" (expected %s)', k.test_code, k.cat_unit)
             WHEN k.kind = 'numeric' AND lower(k.unit_raw) <> lower(k.cat_unit)
                  AND lower(k.unit_raw) <> ALL (k.unit_aliases)
               THEN format('wrong unit "%s" for test "%s" (expected %s)', k.unit_raw, k.test_code,
                           k.cat_unit)
             WHEN length(k.lab) > 200 THEN 'lab name is longer than 200 characters'
             WHEN k.first_line < k.line THEN format('same result as line %s', k.first_line + 1)
             WHEN p_check_existing AND EXISTS (
                    SELECT 1 FROM fmtbank.result r
                    WHERE r.donor_id = k.donor_id AND r.test_no = k.test_no
                      AND r.collected = k.coll AND r.result = k.res
                      AND r.lab IS NOT DISTINCT FROM k.lab AND r.superseded_at IS NULL)
               THEN format('already recorded: %s %s collected %s for donor "%s"', k.test_code,
                           k.res, k.coll, k.dcode)
           END AS problem
    FROM k;
END $$;

-- "fmtbank result import": validates pg_temp.result_stage; returns every bad line (line numbers
-- of the file, header = 1) and stores all rows only when there is none.
CREATE FUNCTION fmtbank.result_import_stage() RETURNS TABLE (line bigint, message text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE t timestamptz;
BEGIN
    PERFORM fmtbank.require_role('importing results', 'technician', 'quality', 'admin');
    PERFORM fmtbank.result_stage_validate(true);
    RETURN QUERY SELECT c.line + 1, c.problem FROM pg_temp.result_checked c
                 WHERE c.problem IS NOT NULL ORDER BY c.line;
    IF NOT FOUND THEN
        t := clock_timestamp();
        INSERT INTO fmtbank.result (id, donor_id, test_no, collected, result, value, unit, lab,
                                    recorded_at)
        SELECT c.id, c.donor_id, c.test_no, c.collected, c.result, c.value, c.unit, c.lab, t
        FROM pg_temp.result_checked c ORDER BY c.line;
    END IF;
    DROP TABLE pg_temp.result_checked;
END $$;

-- Stages one row as an import of one line would, validates it, and raises its problem.
CREATE FUNCTION fmtbank.result_validate_one(p_code text, p_test text, p_collected text,
                                            p_result text, p_unit text, p_lab text,
                                            p_check_existing boolean,
                                            OUT id uuid, OUT donor_id uuid, OUT test_no smallint,
                                            OUT collected date, OUT result text, OUT value numeric,
                                            OUT unit text, OUT lab text)
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE problem text;
BEGIN
    IF to_regclass('pg_temp.result_stage') IS NOT NULL THEN
        RAISE EXCEPTION 'a result import is in progress in this transaction';
    END IF;
    CREATE TEMP TABLE result_stage (line bigint GENERATED ALWAYS AS IDENTITY,
                                    id uuid NOT NULL DEFAULT gen_random_uuid(), donor text,
                                    test text, collected text, result text, unit text, lab text)
        ON COMMIT DROP;
    INSERT INTO pg_temp.result_stage (donor, test, collected, result, unit, lab)
    VALUES (p_code, p_test, p_collected, p_result, p_unit, p_lab);
    PERFORM fmtbank.result_stage_validate(p_check_existing);
    SELECT c.problem, c.id, c.donor_id, c.test_no, c.collected, c.result, c.value, c.unit, c.lab
    INTO problem, id, donor_id, test_no, collected, result, value, unit, lab
    FROM pg_temp.result_checked c;
    DROP TABLE pg_temp.result_stage, pg_temp.result_checked;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = CASE WHEN problem LIKE 'already recorded%' THEN 'FB003'
                                             ELSE 'FB001' END,
            MESSAGE = problem;
    END IF;
END $$;

-- "fmtbank result add": one result; returns its id.
CREATE FUNCTION fmtbank.result_add(p_code text, p_test text, p_collected text, p_result text,
                                   p_unit text, p_lab text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE v record;
BEGIN
    PERFORM fmtbank.require_role('recording results', 'technician', 'quality', 'admin');
    PERFORM fmtbank.donor_get(p_code);
    v := fmtbank.result_validate_one(p_code, p_test, p_collected, p_result, p_unit, p_lab, true);
    INSERT INTO fmtbank.result (id, donor_id, test_no, collected, result, value, unit, lab)
    VALUES (v.id, v.donor_id, v.test_no, v.collected, v.result, v.value, v.unit, v.lab);
    RETURN v.id;
END $$;

-- "fmtbank result correct": a new version of a result (same donor, test, collection date and
-- lab) that supersedes it, with the reason; returns the new id.
CREATE FUNCTION fmtbank.result_correct(p_id text, p_result text, p_unit text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    rid uuid;
    r fmtbank.result;
    nxt uuid;
    why text;
    v record;
    t timestamptz;
BEGIN
    PERFORM fmtbank.require_role('correcting results', 'technician', 'quality', 'admin');
    IF p_id IS NULL OR btrim(p_id) !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid result ID "%s"', coalesce(p_id, '')),
            HINT = 'Result IDs are UUIDs, as "fmtbank result list CODE" shows them.';
    END IF;
    rid := btrim(p_id)::uuid;
    SELECT * INTO r FROM fmtbank.result WHERE id = rid FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('result "%s" not found', p_id);
    END IF;
    IF r.superseded_at IS NOT NULL THEN
        SELECT x.id INTO nxt FROM fmtbank.result x WHERE x.supersedes = rid;
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('result "%s" was already corrected', rid),
            HINT = format('Correct its newest version, "%s".', nxt);
    END IF;
    why := fmtbank.acting_reason(true, 'correcting a result');
    v := fmtbank.result_validate_one((SELECT code FROM fmtbank.donor WHERE donor.id = r.donor_id),
                                     (SELECT code FROM fmtbank.screening_test s WHERE s.test_no = r.test_no),
                                     r.collected::text, p_result, coalesce(p_unit, r.unit), r.lab,
                                     false);
    IF v.result = r.result AND v.unit IS NOT DISTINCT FROM r.unit
       AND v.value IS NOT DISTINCT FROM r.value THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('the correction does not change result "%s"', rid),
            DETAIL = format('It is already %s.', concat_ws(' ', r.result, r.unit));
    END IF;
    t := clock_timestamp();
    UPDATE fmtbank.result SET superseded_at = t WHERE id = rid;
    INSERT INTO fmtbank.result (id, donor_id, test_no, collected, result, value, unit, lab,
                                recorded_at, supersedes, reason)
    VALUES (v.id, r.donor_id, r.test_no, r.collected, v.result, v.value, v.unit, r.lab, t, rid, why);
    RETURN v.id;
END $$;

-- Results in force at p_at (recorded by then, not superseded by a correction recorded by then),
-- judged by the rule set in force then; one donor or, with p_donor_id NULL, all.
CREATE FUNCTION fmtbank.result_effective_at(p_at timestamptz, p_donor_id uuid DEFAULT NULL)
RETURNS TABLE (id uuid, donor_id uuid, donor text, test text, test_no smallint, collected date,
               result text, value numeric, unit text, lab text, recorded_at timestamptz,
               recorded_by text, supersedes uuid, acceptable boolean, outcome text,
               excludes_permanently boolean)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT r.id, r.donor_id, d.code, t.code, r.test_no, r.collected, r.result, r.value, r.unit,
           r.lab, r.recorded_at, r.recorded_by, r.supersedes, a.ok,
           CASE WHEN a.ok THEN 'acceptable' WHEN r.result = 'indeterminate' THEN 'indeterminate'
                WHEN r.value IS NOT NULL THEN 'out_of_limit' ELSE 'positive' END,
           NOT a.ok AND r.result <> 'indeterminate' AND t.excludes_permanently
    FROM fmtbank.result r
    JOIN fmtbank.donor d ON d.id = r.donor_id
    JOIN fmtbank.screening_test_at(p_at) t ON t.test_no = r.test_no
    CROSS JOIN LATERAL (SELECT fmtbank.result_acceptable(r.result, r.value, t.accept_op,
                                                         t.accept_limit) AS ok) a
    WHERE r.recorded_at <= p_at AND (r.superseded_at IS NULL OR r.superseded_at > p_at)
      AND (p_donor_id IS NULL OR r.donor_id = p_donor_id)
$$;

-- The results in force now, judged by the rules in force now (a view, so filters on donor_id or
-- test push down to the indexes). outcome: acceptable, positive, indeterminate or out_of_limit;
-- excludes_permanently: this result excludes the donor for good.
CREATE VIEW fmtbank.result_effective AS
    SELECT r.id, r.donor_id, d.code AS donor, t.code AS test, r.test_no, r.collected, r.result,
           r.value, r.unit, r.lab, r.recorded_at, r.recorded_by, r.supersedes, a.ok AS acceptable,
           CASE WHEN a.ok THEN 'acceptable' WHEN r.result = 'indeterminate' THEN 'indeterminate'
                WHEN r.value IS NOT NULL THEN 'out_of_limit' ELSE 'positive' END AS outcome,
           NOT a.ok AND r.result <> 'indeterminate' AND t.excludes_permanently
               AS excludes_permanently
    FROM fmtbank.result r
    JOIN fmtbank.donor d ON d.id = r.donor_id
    JOIN fmtbank.test_catalog t ON t.test_no = r.test_no
    CROSS JOIN LATERAL (SELECT fmtbank.result_acceptable(r.result, r.value, t.accept_op,
                                                         t.accept_limit) AS ok) a
    WHERE r.superseded_at IS NULL;

-- Every version of every result, for "fmtbank result list".
CREATE VIEW fmtbank.result_list AS
    SELECT r.id, d.code AS donor, t.code AS test, r.collected, r.result, r.unit, r.lab,
           r.recorded_at, r.recorded_by, r.superseded_at IS NOT NULL AS superseded,
           (SELECT c.id FROM fmtbank.result c WHERE c.supersedes = r.id) AS superseded_by,
           r.supersedes, r.reason,
           fmtbank.result_acceptable(r.result, r.value, t.accept_op, t.accept_limit) AS acceptable,
           r.donor_id, r.test_no
    FROM fmtbank.result r
    JOIN fmtbank.donor d ON d.id = r.donor_id
    JOIN fmtbank.test_catalog t ON t.test_no = r.test_no;

REVOKE ALL ON fmtbank.result, fmtbank.result_effective, fmtbank.result_list FROM PUBLIC;
GRANT SELECT ON fmtbank.result, fmtbank.result_effective, fmtbank.result_list
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.result_import_stage(),
    fmtbank.result_add(text, text, text, text, text, text),
    fmtbank.result_correct(text, text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.result_effective_at(timestamptz, uuid)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
