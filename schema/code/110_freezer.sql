-- 110_freezer: freezer temperature (product.md §11.3) and "fmtbank todo". Readings come from
-- "fmtbank freezer reading" and from inbox files "freezer,at,temp_c"; a freezer with at least
-- one reading is monitored. fmtbank.freezer_judge(now), run by the daemon's sweep, records each
-- excursion once and opens its `excursion` case holding every tube that was in the freezer
-- during it (case_hold_tubes, 100: one row per case and lot).
--
-- The rule, judged by reading timestamps, on the readings taken at or before
-- now - reading_grace_minutes (the cutoff; later readings wait for the next pass), per freezer,
-- in time order; limit = freezer.temp_c + excursion_margin_c:
--   above: a run of consecutive readings above the limit, from its first reading to the first
--          reading back at or below the limit (or, while none is judged yet, to the run's last
--          reading), is an excursion when that span is longer than excursion_max_minutes
--          (30 min: not one; 31 min: one). An excursion still running when found is recorded
--          with the span known then and not extended later (its start identifies it).
--   gap:   two consecutive readings further apart than reading_gap_minutes (60 min: not one;
--          61 min: one), and the last reading when the cutoff is further than that after it
--          (recorded from that reading to the cutoff; the reading that ends it later is the same
--          gap, not a second one).
-- An excursion is identified by (freezer, kind, start): a second pass records nothing new.

-- ---------------------------------------------------------------- readings
-- A timestamp as parse_ts reads it, or NULL (set-based validation of a file's lines).
CREATE OR REPLACE FUNCTION fmtbank.try_ts(p text) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN fmtbank.parse_ts(btrim(p), 'at');
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END $$;

-- A temperature in degrees Celsius as given (-80, -79.5, +4), or NULL when it is not a number.
CREATE OR REPLACE FUNCTION fmtbank.temp_parse(p text) RETURNS numeric
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN btrim(p) ~ '^[+-]?[0-9]{1,3}(\.[0-9]{1,3})?$' THEN round(btrim(p)::numeric, 1) END
$$;

-- What is wrong with a reading (NULL when nothing): the checks shared by the command and the
-- inbox file. p_same: the temperature already recorded for that freezer and time, if any.
CREATE OR REPLACE FUNCTION fmtbank.reading_problem(p_freezer_given text, f fmtbank.freezer,
                                                   p_at_given text, p_at timestamptz,
                                                   p_temp_given text, p_temp numeric,
                                                   p_same numeric)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN f.id IS NULL THEN format('freezer "%s" not found', coalesce(p_freezer_given, ''))
        WHEN p_at IS NULL
            THEN format('invalid reading time "%s" (use ISO 8601, e.g. 2026-11-27 08:30)',
                        coalesce(p_at_given, ''))
        WHEN p_at > clock_timestamp() + interval '5 minutes'
            THEN format('reading time "%s" is in the future', p_at_given)
        WHEN p_temp IS NULL
            THEN format('invalid temperature "%s" (degrees Celsius, e.g. -79.5)',
                        coalesce(p_temp_given, ''))
        WHEN p_temp NOT BETWEEN -200 AND 60
            THEN format('impossible temperature %s °C for freezer "%s" (a reading is between -200 and 60 °C)',
                        p_temp, f.freezer_id)
        WHEN p_same IS NOT NULL AND p_same <> p_temp
            THEN format('freezer "%s" already has a reading at %s: %s °C, not %s °C', f.freezer_id,
                        fmtbank.ts_text(p_at), p_same, p_temp)
    END
$$;

-- "fmtbank freezer reading F --at TS --temp C" (any role but the auditor): 'recorded', or
-- 'unchanged' when the same freezer, time and temperature are recorded already (an idempotent
-- repeat); the same freezer and time with another temperature is refused (FB003).
CREATE OR REPLACE FUNCTION fmtbank.freezer_reading_add(p_freezer text, p_at text, p_temp text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    f fmtbank.freezer;
    t timestamptz;
    c numeric := fmtbank.temp_parse(p_temp);
    same numeric;
    why text;
BEGIN
    PERFORM fmtbank.require_role('recording freezer readings', 'technician', 'quality', 'admin');
    f := fmtbank.freezer_get(p_freezer);
    t := fmtbank.parse_ts(p_at, '--at');
    SELECT r.temp_c INTO same FROM fmtbank.freezer_reading r WHERE r.freezer = f.id AND r.at = t;
    why := fmtbank.reading_problem(p_freezer, f, p_at, t, p_temp, c, same);
    IF why IS NOT NULL AND same IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = why,
            HINT = 'A reading is never changed; the same reading again is accepted and changes nothing.';
    ELSIF why IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = why;
    END IF;
    IF same IS NOT NULL THEN
        RETURN 'unchanged';
    END IF;
    INSERT INTO fmtbank.freezer_reading (freezer, at, temp_c) VALUES (f.id, t, c);
    RETURN 'recorded';
END $$;

-- The inbox format freezer,at,temp_c, step 1: forget whatever this backend staged before.
CREATE OR REPLACE FUNCTION fmtbank.reading_import_begin() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.require_role('importing freezer readings', 'technician', 'quality', 'admin');
    DELETE FROM fmtbank_stage.reading_stage s WHERE s.pid = pg_catalog.pg_backend_pid();
END $$;

-- Step 3 (after COPY fmtbank_stage.reading_stage (line, freezer, at, temp_c)): every bad line
-- (line, message, NULL), and nothing stored; else every reading stored (line, NULL, freezer ID).
-- A line repeating a reading already recorded (same freezer, time and temperature) is accepted
-- and stores nothing (an export sent twice, or overlapping exports); two lines of the file for
-- the same freezer and time are refused.
CREATE OR REPLACE FUNCTION fmtbank.reading_import_stage()
RETURNS TABLE (line bigint, message text, id text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE me integer := pg_catalog.pg_backend_pid();
BEGIN
    PERFORM fmtbank.require_role('importing freezer readings', 'technician', 'quality', 'admin');
    -- created here, never reused: a caller's own temporary relation of that name (which could
    -- carry a trigger rewriting the checked rows) makes this fail instead of being written to
    CREATE TEMPORARY TABLE reading_checked (line bigint, freezer uuid, fid text,
        at timestamptz, temp_c numeric, same numeric, problem text) ON COMMIT DROP;
    INSERT INTO reading_checked
    WITH s AS (
        SELECT s.line, s.freezer AS fg, s.at AS ag, s.temp_c AS tg,
               fmtbank.try_ts(s.at) AS at, fmtbank.temp_parse(s.temp_c) AS temp
        FROM fmtbank_stage.reading_stage s WHERE s.pid = me),
    j AS (
        SELECT s.*, f AS frow,
               (SELECT r.temp_c FROM fmtbank.freezer_reading r WHERE r.freezer = f.id AND r.at = s.at) AS same,
               min(s.line) OVER (PARTITION BY f.id, s.at) AS first_line
        FROM s LEFT JOIN fmtbank.freezer f
            ON f.freezer_id = upper(btrim(coalesce(s.fg, ''))) OR f.name = btrim(coalesce(s.fg, '')))
    SELECT j.line, (j.frow).id, (j.frow).freezer_id, j.at, j.temp, j.same,
           coalesce(fmtbank.reading_problem(j.fg, j.frow, j.ag, j.at, j.tg, j.temp, j.same),
                    CASE WHEN (j.frow).id IS NOT NULL AND j.at IS NOT NULL AND j.first_line < j.line
                         THEN format('freezer "%s" at %s appears on line %s already',
                                     (j.frow).freezer_id, fmtbank.ts_text(j.at), j.first_line) END)
    FROM j;
    RETURN QUERY SELECT c.line, c.problem, NULL::text FROM reading_checked c
                 WHERE c.problem IS NOT NULL ORDER BY c.line;
    IF NOT FOUND THEN
        INSERT INTO fmtbank.freezer_reading (freezer, at, temp_c, source)
        SELECT c.freezer, c.at, c.temp_c, 'import' FROM reading_checked c
        WHERE c.same IS NULL ORDER BY c.line;
        RETURN QUERY SELECT c.line, NULL::text, c.fid FROM reading_checked c
                     WHERE c.same IS NULL ORDER BY c.line;
    END IF;
    DELETE FROM fmtbank_stage.reading_stage s WHERE s.pid = me;
    DROP TABLE reading_checked;
END $$;

-- ---------------------------------------------------------------- judging
-- The excursions the readings show at p_now (see the rule at the top), every freezer at once.
CREATE OR REPLACE FUNCTION fmtbank.freezer_excursions_at(p_now timestamptz)
RETURNS TABLE (freezer uuid, kind text, from_at timestamptz, to_at timestamptz,
               max_temp_c numeric, limit_c numeric)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH p AS (
        SELECT fmtbank.rule_value('excursion_margin_c', p_now) AS margin,
               make_interval(mins => fmtbank.rule_value('excursion_max_minutes', p_now)::integer) AS max_above,
               make_interval(mins => fmtbank.rule_value('reading_gap_minutes', p_now)::integer) AS max_gap,
               p_now - make_interval(mins => fmtbank.rule_value('reading_grace_minutes', p_now)::integer) AS cutoff),
    r AS (
        SELECT r.freezer, r.at, r.temp_c, f.temp_c + p.margin AS lim,
               r.temp_c > f.temp_c + p.margin AS above,
               lag(r.at) OVER w AS prev_at,
               lag(r.temp_c > f.temp_c + p.margin) OVER w AS prev_above
        FROM fmtbank.freezer_reading r JOIN fmtbank.freezer f ON f.id = r.freezer CROSS JOIN p
        WHERE r.at <= p.cutoff
        WINDOW w AS (PARTITION BY r.freezer ORDER BY r.at)),
    runs AS (
        SELECT r.*, sum(CASE WHEN r.above AND NOT coalesce(r.prev_above, false) THEN 1 ELSE 0 END)
                        OVER (PARTITION BY r.freezer ORDER BY r.at) AS run
        FROM r),
    above AS (
        SELECT x.freezer, min(x.at) FILTER (WHERE x.above) AS from_at,
               coalesce(min(x.at) FILTER (WHERE NOT x.above), max(x.at) FILTER (WHERE x.above)) AS to_at,
               max(x.temp_c) FILTER (WHERE x.above) AS max_temp_c, min(x.lim) AS limit_c
        FROM runs x WHERE x.run > 0 GROUP BY x.freezer, x.run)
    SELECT a.freezer, 'above', a.from_at, a.to_at, a.max_temp_c, a.limit_c
    FROM above a CROSS JOIN p WHERE a.to_at - a.from_at > p.max_above
    UNION ALL
    SELECT r.freezer, 'gap', r.prev_at, r.at, NULL, r.lim
    FROM r CROSS JOIN p WHERE r.at - r.prev_at > p.max_gap
    UNION ALL
    SELECT l.freezer, 'gap', l.at, p.cutoff, NULL, l.lim
    FROM (SELECT DISTINCT ON (r.freezer) r.freezer, r.at, r.lim FROM r ORDER BY r.freezer, r.at DESC) l
    CROSS JOIN p WHERE p.cutoff - l.at > p.max_gap
$$;

-- Records the excursions not recorded yet and opens the case of each (source excursion, scope
-- the freezer in the excursion's window) holding every tube that was in the freezer during it.
-- Returns how many excursions it recorded. The daemon calls it with the time of its pass.
CREATE OR REPLACE FUNCTION fmtbank.freezer_judge(p_now timestamptz) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e fmtbank.freezer_excursion;
    f fmtbank.freezer;
    c fmtbank.safety_case;
    n integer := 0;
    was text := current_setting('fmtbank.reason', true);
BEGIN
    PERFORM set_config('fmtbank.reason', 'freezer excursion found in the readings', true);
    FOR e IN
        INSERT INTO fmtbank.freezer_excursion AS x (freezer, kind, from_at, to_at, max_temp_c, limit_c)
        SELECT j.freezer, j.kind, j.from_at, j.to_at, j.max_temp_c, j.limit_c
        FROM fmtbank.freezer_excursions_at(p_now) j
        ORDER BY j.freezer, j.from_at, j.kind
        ON CONFLICT (freezer, kind, from_at) DO NOTHING
        RETURNING x.*
    LOOP
        SELECT * INTO f FROM fmtbank.freezer x WHERE x.id = e.freezer;
        c := fmtbank.case_open('excursion',
                 CASE e.kind
                     WHEN 'above' THEN format('freezer %s "%s" above its limit of %s °C from %s to %s (%s min, up to %s °C)',
                                              f.freezer_id, f.name, e.limit_c, fmtbank.ts_text(e.from_at),
                                              fmtbank.ts_text(e.to_at),
                                              round(extract(epoch FROM e.to_at - e.from_at) / 60),
                                              e.max_temp_c)
                     ELSE format('freezer %s "%s" without a reading from %s to %s (%s min)',
                                 f.freezer_id, f.name, fmtbank.ts_text(e.from_at),
                                 fmtbank.ts_text(e.to_at),
                                 round(extract(epoch FROM e.to_at - e.from_at) / 60)) END,
                 'freezer', NULL, f.id, e.from_at, e.to_at);
        PERFORM fmtbank.case_hold_tubes(c.id, NULL, f.id, e.from_at, e.to_at);
        UPDATE fmtbank.freezer_excursion x SET case_id = c.id WHERE x.id = e.id;
        n := n + 1;
    END LOOP;
    PERFORM set_config('fmtbank.reason', coalesce(was, ''), true);
    RETURN n;
END $$;

-- The daemon's pass (registered in 110 as sweep step "freezer").
CREATE OR REPLACE FUNCTION fmtbank.sweep_freezer() RETURNS TABLE (what text, n bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT 'excursions recorded, each opening a case'::text,
                        fmtbank.freezer_judge(clock_timestamp())::bigint;
END $$;

-- ---------------------------------------------------------------- reading
-- "fmtbank freezer show F [--from TS] [--to TS]": the freezer, its limit, whether monitored,
-- the readings in the window (default the last 24 hours), its excursions and their cases.
CREATE OR REPLACE FUNCTION fmtbank.freezer_show(p_freezer text, p_from text, p_to text)
RETURNS TABLE (freezer text, name text, site text, temp_c numeric, limit_c numeric,
               monitored boolean, last_reading timestamptz, window_from timestamptz,
               window_to timestamptz, readings jsonb, excursions jsonb, cases jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    f fmtbank.freezer;
    t1 timestamptz;
    t0 timestamptz;
BEGIN
    PERFORM fmtbank.require_role('reading freezers', 'technician', 'quality', 'auditor', 'admin');
    f := fmtbank.freezer_get(p_freezer);
    t1 := CASE WHEN p_to IS NOT NULL THEN fmtbank.parse_ts(p_to, '--to') ELSE clock_timestamp() END;
    t0 := CASE WHEN p_from IS NOT NULL THEN fmtbank.parse_ts(p_from, '--from') ELSE t1 - interval '24 hours' END;
    IF t1 < t0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = '--to is before --from';
    END IF;
    RETURN QUERY
    SELECT f.freezer_id, f.name, f.site, f.temp_c, f.temp_c + fmtbank.rule_value('excursion_margin_c'),
           EXISTS (SELECT 1 FROM fmtbank.freezer_reading r WHERE r.freezer = f.id),
           (SELECT max(r.at) FROM fmtbank.freezer_reading r WHERE r.freezer = f.id), t0, t1,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('at', fmtbank.ts_utc(r.at), 'temp_c', r.temp_c,
                                                         'above', r.temp_c > f.temp_c + fmtbank.rule_value('excursion_margin_c'),
                                                         'source', r.source)
                                      ORDER BY r.at), '[]'::jsonb)
            FROM fmtbank.freezer_reading r WHERE r.freezer = f.id AND r.at BETWEEN t0 AND t1),
           (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', e.kind, 'from', fmtbank.ts_utc(e.from_at),
                                                         'to', fmtbank.ts_utc(e.to_at),
                                                         'max_temp_c', e.max_temp_c, 'limit_c', e.limit_c,
                                                         'case', c.case_code,
                                                         'detected_at', fmtbank.ts_utc(e.detected_at))
                                      ORDER BY e.from_at, e.kind), '[]'::jsonb)
            FROM fmtbank.freezer_excursion e LEFT JOIN fmtbank.safety_case c ON c.id = e.case_id
            WHERE e.freezer = f.id),
           (SELECT coalesce(jsonb_agg(jsonb_build_object('case', x."case", 'source', x.source,
                                                         'status', coalesce(x.proposal, x.status),
                                                         'about', x.about, 'lots_held', x.lots_held,
                                                         'tubes_held', x.tubes_held)
                                      ORDER BY x."case"), '[]'::jsonb)
            FROM fmtbank.safety_case c JOIN fmtbank.case_list x ON x."case" = c.case_code
            WHERE c.scope_kind = 'freezer' AND c.scope_ref = f.id);
END $$;

-- ---------------------------------------------------------------- todo
-- "fmtbank todo": what needs a person now, one row per item: kind, subject, what to do, since
-- when, and a detail. One view, so that other kinds are added here (a UNION ALL branch each).
--   unmonitored_freezer  a freezer holding released stock without any reading (§11.3)
--   signal_withdrawn     an open case whose signal was withdrawn: lift proposed (§11.0.2)
--   case_decision        an open case waiting for a quality officer's decision
--   event_grading        a serious adverse event in a recipient not graded yet (§13,
--                        schema/code/170_vigilance.sql): quality assesses its imputability
-- and, by the quality officer's and technician's desks (issue 14 item 9):
--   release_sign         a lot nothing blocks now: ready for a quality officer's signature
--   recipient_notification  a recipient of an issued dose of a case not closed, not notified
--   inbox_rejected       an inbox file the daemon rejected, no file of that name imported since:
--                        results (or readings) awaiting a corrected file
--   rescreening_due      a donor not excluded whose screening runs out within todo_rescreen_days
--                        (rule parameter, 14 by default; migration 300) or has run out
--   expiring_stock       a lot with tubes in stock (quarantine or released, placed) expiring
--                        within todo_expiry_days (30 by default, the expiring report's) or already
--                        expired
--   excursion            a freezer excursion whose case is not decided yet (or not opened)
-- role: who acts on it (quality or technician); "fmtbank todo" shows the acting user's kinds
-- (admins and auditors, and --all: every kind).
CREATE OR REPLACE VIEW fmtbank.todo AS
    SELECT 'unmonitored_freezer'::text AS kind, f.freezer_id AS subject,
           format('record its temperature: "fmtbank freezer reading %s --at TS --temp C" or an inbox file freezer,at,temp_c',
                  f.freezer_id) AS todo,
           f.created_at AS since,
           format('"%s" holds %s released tube%s and has no temperature reading', f.name, x.n,
                  CASE WHEN x.n = 1 THEN '' ELSE 's' END) AS detail,
           'technician'::text AS role
    FROM fmtbank.freezer f
    JOIN (SELECT b.freezer, count(*) AS n
          FROM fmtbank.placement p JOIN fmtbank.box b ON b.id = p.box
          JOIN fmtbank.aliquot a ON a.id = p.aliquot
          WHERE a.status = 'released' GROUP BY b.freezer) x ON x.freezer = f.id
    WHERE NOT EXISTS (SELECT 1 FROM fmtbank.freezer_reading r WHERE r.freezer = f.id)
    UNION ALL
    SELECT 'signal_withdrawn', c.case_code,
           format('signal withdrawn - lift proposed: "fmtbank case decide %s --lift"', c.case_code),
           c.withdrawn_at, c.withdrawn_reason, 'quality'
    FROM fmtbank.safety_case c WHERE c.status = 'open' AND c.withdrawn_at IS NOT NULL
    UNION ALL
    SELECT 'case_decision', c.case_code,
           format('decide: "fmtbank case decide %s --lift|--recall|--discard"', c.case_code),
           c.opened_at, fmtbank.case_summary(c), 'quality'
    FROM fmtbank.safety_case c WHERE c.status = 'open' AND c.withdrawn_at IS NULL
    UNION ALL
    SELECT 'event_grading', e.event_code,
           format('grade its imputability (quality): "fmtbank recipient event update %s --imputability excluded|unlikely|possible|probable|definite --reason R"',
                  e.event_code),
           e.recorded_at,
           format('serious %s in recipient %s on %s, not assessable yet', replace(e.kind, '_', ' '),
                  e.recipient, e.event_date), 'quality'
    FROM fmtbank.recipient_event e WHERE e.serious AND e.imputability = 'not_assessable'
    UNION ALL
    SELECT 'release_sign', l.lot_id,
           format('check and sign: "fmtbank release sign %s"', l.lot_id),
           coalesce(l.processed_at, l.created_at),
           format('donor %s, collected %s, %s dose%s to release', d.code, fmtbank.ts_text(l.collected_at),
                  n.n, CASE WHEN n.n = 1 THEN '' ELSE 's' END),
           'quality'
    FROM fmtbank.lot_blocking_at(clock_timestamp(), NULL, ARRAY['quarantine', 'ready']) b
    JOIN fmtbank.lot l ON l.id = b.lot
    JOIN fmtbank.donor d ON d.id = l.donor_id
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM fmtbank.aliquot a
                        WHERE a.lot = l.id AND NOT a.retained AND a.status = 'quarantine'
                          AND a.expires_at > clock_timestamp()) n
    WHERE b.blocking = '[]'::jsonb
    UNION ALL
    SELECT 'recipient_notification', c.case_code,
           format('tell recipient %s: "fmtbank case notify %s --recipient %s --by phone|letter|email|in-person --at TS"',
                  r.recipient, c.case_code, r.recipient),
           c.opened_at,
           format('recipient %s (%s) received %s on %s; case %s', r.recipient, r.site,
                  string_agg(r.aliquot, ', ' ORDER BY r.aliquot), min(r.issued_at)::date, c.status),
           'quality'
    FROM fmtbank.safety_case c
    CROSS JOIN LATERAL fmtbank.case_recipients(c.id) r
    WHERE c.status <> 'closed' AND r.notified_at IS NULL
    GROUP BY c.id, c.case_code, c.opened_at, c.status, r.recipient, r.site
    UNION ALL
    SELECT 'inbox_rejected', f.name,
           format('correct the file and drop it into the inbox again (%s rejected it)', f.imported_by),
           f.imported_at, coalesce(left(f.error_report, 200), 'rejected'),
           'technician'
    FROM fmtbank.inbox_file f
    WHERE f.status = 'rejected'
      AND NOT EXISTS (SELECT 1 FROM fmtbank.inbox_file g
                      WHERE g.name = f.name AND g.status = 'imported' AND g.imported_at > f.imported_at)
      AND NOT EXISTS (SELECT 1 FROM fmtbank.inbox_file g
                      WHERE g.name = f.name AND g.status = 'rejected' AND g.id > f.id)
    UNION ALL
    SELECT 'rescreening_due', e.code,
           format('screen again: full questionnaire and panel by %s ("fmtbank donor show %s")',
                  e.next_screening_due, e.code),
           e.next_screening_due::timestamptz,
           format('%s; screening %s on %s', e.status,
                  CASE WHEN e.next_screening_due < current_date THEN 'ran out' ELSE 'runs out' END,
                  e.next_screening_due),
           'technician'
    FROM fmtbank.donor_eligibility_at(clock_timestamp()) e
    WHERE e.status <> 'excluded'
      AND e.next_screening_due <= current_date + fmtbank.rule_value('todo_rescreen_days')::integer
    UNION ALL
    SELECT 'expiring_stock', l.lot_id,
           CASE WHEN min(a.expires_at) <= clock_timestamp()
                THEN format('discard the expired tubes ("fmtbank report run expiring")')
                ELSE format('use first or plan their discard ("fmtbank report run expiring")') END,
           min(a.expires_at),
           format('%s tube%s in stock expiring %s to %s%s', count(*), CASE WHEN count(*) = 1 THEN '' ELSE 's' END,
                  min(a.expires_at)::date, max(a.expires_at)::date,
                  CASE WHEN min(a.expires_at) <= clock_timestamp() THEN ' (some expired)' ELSE '' END),
           'technician'
    FROM fmtbank.aliquot a
    JOIN fmtbank.lot l ON l.id = a.lot
    WHERE a.status IN ('quarantine', 'released') AND NOT a.retained
      AND a.expires_at <= clock_timestamp() + make_interval(days => fmtbank.rule_value('todo_expiry_days')::integer)
      AND EXISTS (SELECT 1 FROM fmtbank.placement p WHERE p.aliquot = a.id)
    GROUP BY l.id, l.lot_id
    UNION ALL
    SELECT 'excursion', f.freezer_id,
           format('check the freezer and its tubes ("fmtbank freezer show %s")', f.freezer_id),
           x.from_at,
           format('%s from %s to %s%s (limit %s °C); %s',
                  CASE x.kind WHEN 'above' THEN 'above its limit' ELSE 'no reading' END,
                  fmtbank.ts_text(x.from_at), fmtbank.ts_text(x.to_at),
                  CASE WHEN x.max_temp_c IS NOT NULL THEN format(', up to %s °C', x.max_temp_c) ELSE '' END,
                  x.limit_c, CASE WHEN c.id IS NULL THEN 'no case yet'
                                   ELSE format('case %s %s', c.case_code, c.status) END),
           'quality'
    FROM fmtbank.freezer_excursion x
    JOIN fmtbank.freezer f ON f.id = x.freezer
    LEFT JOIN fmtbank.safety_case c ON c.id = x.case_id
    WHERE c.id IS NULL OR c.status = 'open';

-- ---------------------------------------------------------------- privileges
GRANT EXECUTE ON FUNCTION
    fmtbank.freezer_reading_add(text, text, text),
    fmtbank.reading_import_begin(),
    fmtbank.reading_import_stage(),
    fmtbank.freezer_show(text, text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT SELECT ON fmtbank.todo
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- not granted (owner only): try_ts, temp_parse, reading_problem, freezer_excursions_at,
-- freezer_judge, sweep_freezer (the daemon runs it through fmtbank.sweep())
