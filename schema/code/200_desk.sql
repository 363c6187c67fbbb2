-- 200_desk: what technicians meet every day (issue 14): picking doses for issue, first expiring
-- first out (FEFO); correcting a result by donor, test and day.

-- "fmtbank aliquot pick --lot L | --donor D [--n N] [--use U]": the first p_n doses to take out
-- of the freezer for an issue, those that "aliquot issue" / "scan --mode issue" would accept now:
-- released (the dose and its lot), not expired, not thawed, not held by an open case, never the
-- retained sample, in a box, and from a donor whose consent in force covers the use. First
-- expiring first, then by lot and dose number. Returns (pick, id, location BOX:POSITION, box,
-- position, expires, lot, donor, freezer, freezer_name, rack, available: how many doses qualify
-- in all). None qualifying is refused (FB003) with the count of doses by what stops them.
-- A read: invoker rights, on what the application roles may read anyway.
CREATE OR REPLACE FUNCTION fmtbank.aliquot_pick(p_lot text, p_donor text, p_n integer,
                                                p_use text DEFAULT 'clinical')
RETURNS TABLE (pick integer, id text, location text, box text, "position" text, expires date,
               lot text, donor text, freezer text, freezer_name text, rack text, available integer)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l uuid;
    d uuid;
    u text := lower(btrim(coalesce(p_use, 'clinical')));
    what text;
    why text;
    t timestamptz := pg_catalog.clock_timestamp();
BEGIN
    IF (p_lot IS NULL) = (p_donor IS NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'give one of --lot and --donor';
    END IF;
    IF p_n IS NULL OR p_n < 1 OR p_n > 10000 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --n "%s" (1 to 10000 doses)', coalesce(p_n::text, ''));
    END IF;
    IF u NOT IN ('clinical', 'research') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --use "%s"', p_use),
            HINT = 'Use clinical or research.';
    END IF;
    IF p_lot IS NOT NULL THEN
        l := (fmtbank.lot_get(p_lot)).id;
        what := format('lot "%s"', (SELECT x.lot_id FROM fmtbank.lot x WHERE x.id = l));
    ELSE
        d := (fmtbank.donor_get(p_donor)).id;
        what := format('donor "%s"', (SELECT x.code FROM fmtbank.donor x WHERE x.id = d));
    END IF;
    RETURN QUERY
    WITH c AS (
        SELECT a.aliquot_id, a.idx, a.expires_at, x.lot_id, o.code, b.box_id,
               fmtbank.position_text(p.prow, p.pcol) AS pos, f.freezer_id, f.name AS fname, b.rack AS brack
        FROM fmtbank.aliquot a
        JOIN fmtbank.lot x ON x.id = a.lot
        JOIN fmtbank.donor o ON o.id = x.donor_id
        JOIN fmtbank.placement p ON p.aliquot = a.id
        JOIN fmtbank.box b ON b.id = p.box
        JOIN fmtbank.freezer f ON f.id = b.freezer
        WHERE (l IS NULL OR a.lot = l) AND (d IS NULL OR x.donor_id = d)
          AND NOT a.retained AND a.status = 'released' AND x.status = 'released'
          AND a.expires_at > t AND a.thawed_at IS NULL
          AND fmtbank.holds_of(a.lot, a.id) = '[]'::jsonb
          AND fmtbank.consent_missing(x.donor_id, t, t, u, 'the issue') IS NULL),
    r AS (
        SELECT c.*, row_number() OVER (ORDER BY c.expires_at, c.lot_id, c.idx)::integer AS n,
               (count(*) OVER ())::integer AS total
        FROM c)
    SELECT r.n, r.aliquot_id, r.box_id || ':' || r.pos, r.box_id, r.pos, r.expires_at::date,
           r.lot_id, r.code, r.freezer_id, r.fname, r.brack, r.total
    FROM r WHERE r.n <= p_n ORDER BY r.n;
    IF FOUND THEN
        RETURN;
    END IF;
    -- nothing to pick: say what stops each dose of the lot or donor
    SELECT string_agg(format('%s %s', s.n, s.why), ', ' ORDER BY s.ord) INTO why
    FROM (SELECT w.why, min(w.ord) AS ord, count(*) AS n
          FROM (SELECT CASE
                         WHEN a.status = 'issued' THEN 'issued'
                         WHEN a.status IN ('discarded', 'recalled') OR x.status = 'recalled'
                           THEN CASE WHEN a.status = 'discarded' THEN 'discarded' ELSE 'recalled' END
                         WHEN a.thawed_at IS NOT NULL THEN 'thawed'
                         WHEN a.expires_at <= t OR a.status = 'expired' THEN 'expired'
                         WHEN a.status <> 'released' OR x.status <> 'released' THEN 'not released'
                         WHEN fmtbank.holds_of(a.lot, a.id) <> '[]'::jsonb THEN 'held'
                         WHEN NOT EXISTS (SELECT 1 FROM fmtbank.placement p WHERE p.aliquot = a.id)
                           THEN 'not in a box'
                         ELSE format('without consent for %s use', u)
                       END AS why,
                       CASE WHEN a.status = 'issued' THEN 1 WHEN a.thawed_at IS NOT NULL THEN 3
                            WHEN a.expires_at <= t THEN 4 WHEN a.status <> 'released' THEN 5
                            ELSE 6 END AS ord
                FROM fmtbank.aliquot a JOIN fmtbank.lot x ON x.id = a.lot
                WHERE (l IS NULL OR a.lot = l) AND (d IS NULL OR x.donor_id = d) AND NOT a.retained) w
          GROUP BY w.why) s;
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = format('no dose of %s can be issued now', what),
        DETAIL = CASE WHEN why IS NULL THEN 'It has no doses.'
                      ELSE format('Its doses: %s.', why) END,
        HINT = 'Picking proposes released, unexpired, unheld doses in a box (never the retained sample).';
END $$;

-- "fmtbank result correct CODE TEST --collected D --result R": the correction of the one result in
-- force (not superseded) of that donor, test and collection day, without copying its UUID. None is
-- not found (FB002); more than one (two labs, two results the same day) is refused (FB003) listing
-- the candidates by ID, to be corrected by "result correct ID". Then as fmtbank.result_correct.
CREATE OR REPLACE FUNCTION fmtbank.result_correct_by(p_code text, p_test text, p_collected text,
                                                     p_result text, p_unit text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.donor;
    tn smallint;
    tc text;
    day date;
    n integer;
    rid uuid;
    candidates text;
BEGIN
    PERFORM fmtbank.require_role('correcting results', 'technician', 'quality', 'admin');
    d := fmtbank.donor_get(p_code);
    SELECT s.test_no, s.code INTO tn, tc FROM fmtbank.screening_test s
    WHERE s.code = upper(btrim(coalesce(p_test, '')));
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('unknown test "%s"', coalesce(p_test, '')),
            HINT = 'The tests are listed by "fmtbank catalog tests".';
    END IF;
    day := fmtbank.parse_date(p_collected, '--collected');
    SELECT count(*), min(r.id::text)::uuid,
           string_agg(format('%s: %s%s%s, recorded %s by %s', r.id, r.result,
                             coalesce(' ' || r.unit, ''), coalesce(', lab ' || r.lab, ''),
                             fmtbank.ts_text(r.recorded_at), r.recorded_by),
                      E'\n' ORDER BY r.recorded_at, r.id)
    INTO n, rid, candidates
    FROM fmtbank.result r
    WHERE r.donor_id = d.id AND r.test_no = tn AND r.collected = day AND r.superseded_at IS NULL;
    IF n = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('no result of %s collected %s for donor "%s"', tc, day, d.code),
            HINT = format('"fmtbank result list %s --test %s" lists the donor''s results.', d.code, tc);
    END IF;
    IF n > 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('%s results of %s collected %s are in force for donor "%s": say which one',
                             n, tc, day, d.code),
            DETAIL = candidates,
            HINT = 'Correct one of them by its ID: "fmtbank result correct ID --result R".';
    END IF;
    RETURN fmtbank.result_correct(rid::text, p_result, p_unit);
END $$;

-- "fmtbank questionnaire record --interactive": the problem with one answer as it is typed, by
-- the rules of a questionnaire file's line (questionnaire_lines_check), or NULL when it is good.
-- p_date NULL: today. Reads only the catalog; the whole questionnaire is checked again when
-- recorded.
CREATE OR REPLACE FUNCTION fmtbank.questionnaire_answer_check(p_kind text, p_date text, p_item text,
                                                              p_answer text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.require_role('recording questionnaires', 'technician', 'quality', 'admin');
    RETURN (SELECT c.message
            FROM fmtbank.questionnaire_lines_check(
                   coalesce(p_kind, 'full'),
                   CASE WHEN p_date IS NULL THEN current_date ELSE fmtbank.parse_date(p_date, '--date') END,
                   jsonb_build_array(jsonb_build_object('line', 1, 'item', p_item, 'answer', p_answer))) c
            WHERE c.line = 1);
END $$;

-- ---------------------------------------------------------------- privileges
GRANT EXECUTE ON FUNCTION
    fmtbank.aliquot_pick(text, text, integer, text),
    fmtbank.result_correct_by(text, text, text, text, text),
    fmtbank.questionnaire_answer_check(text, text, text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
