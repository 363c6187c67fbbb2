-- 011_questionnaire: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 011_questionnaire: the full donor-history questionnaire and the donation-day (short) one.
-- A questionnaire is recorded whole (every answered item of its kind, each line validated) or not
-- at all. Recording one again for the same donor, kind and date supersedes the earlier one (with
-- a reason); nothing is overwritten. Answers are kept as given plus typed (yes, date_value,
-- num_value) for the set-based eligibility in 013.

-- A valid ISO 8601 calendar date (YYYY-MM-DD), or NULL: a check that never raises, so set-based
-- validation can report a bad date per line. A SQL-standard body (RETURN: bound when created, no
-- SET clause from the ownership policy) so that the planner inlines it: a SET clause had made it
-- a function call per row (result import of 100,000 rows: 0.5 s of CPU).
CREATE OR REPLACE FUNCTION fmtbank.iso_date(p text) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN p ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
                 AND substr(p, 1, 4) <> '0000' THEN
         CASE WHEN substr(p, 9, 2) <= '28'
                   OR substr(p, 9, 2)::int <=
                      extract(day FROM make_date(substr(p, 1, 4)::int, substr(p, 6, 2)::int, 1)
                                       + interval '1 month' - interval '1 day')::int
              THEN p::date END END;

-- Validates the lines of a questionnaire file (p_lines: a JSON array of {line, item, answer} and,
-- for lines the CSV reader could not split, {line, item, error}). Returns every line normalised
-- with its problem (NULL when good), then one row per missing item (line NULL); ord sorts them.
-- A questionnaire kind in words.
CREATE OR REPLACE FUNCTION fmtbank.questionnaire_kind_name(p_kind text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_kind WHEN 'short' THEN 'donation-day' WHEN 'followup' THEN 'follow-up'
                       ELSE coalesce(p_kind, 'full') END
$$;

-- A time of day HH:MM (00:00 when NULL); FB001 naming the option otherwise.
CREATE OR REPLACE FUNCTION fmtbank.parse_hhmm(p text, p_what text) RETURNS time
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p IS NULL THEN
        RETURN '00:00'::time;
    END IF;
    IF btrim(p) !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid %s "%s"', p_what, p),
            HINT = 'Give the time of day as HH:MM, e.g. 08:30.';
    END IF;
    RETURN btrim(p)::time;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.questionnaire_lines_check(p_kind text, p_date date, p_lines jsonb)
RETURNS TABLE (line integer, item text, answer text, yes boolean, date_value date,
               num_value numeric, message text, ord integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH l AS (
        SELECT (e ->> 'line')::integer AS line, coalesce(e ->> 'item', '') AS raw_item,
               lower(btrim(coalesce(e ->> 'item', ''))) AS item,
               btrim(coalesce(e ->> 'answer', '')) AS ans, e ->> 'error' AS err
        FROM jsonb_array_elements(p_lines) e),
    -- "never" is an answer to a date item: the same as leaving it empty
    n AS (
        SELECT l.line, l.raw_item, l.item, l.err,
               CASE WHEN q.type = 'date' AND lower(l.ans) = 'never' THEN '' ELSE l.ans END AS ans
        FROM l LEFT JOIN fmtbank.question_item_at(clock_timestamp()) q ON q.code = l.item),
    c AS (
        SELECT l.*, q.code IS NOT NULL AS known, qi.code IS NOT NULL AS ever, q.questionnaire, q.type, q.derived,
               q.answer_min, q.answer_max, q.integral,
               row_number() OVER (PARTITION BY l.item ORDER BY l.line) AS nth,
               min(l.line) OVER (PARTITION BY l.item) AS first_line,
               CASE WHEN q.type = 'date' THEN fmtbank.iso_date(l.ans) END AS dv,
               CASE WHEN q.type = 'number' AND l.ans ~ '^-?[0-9]{1,12}(\.[0-9]{1,12})?$'
                    THEN l.ans::numeric END AS nv
        FROM n l LEFT JOIN fmtbank.question_item_at(clock_timestamp()) q ON q.code = l.item
        LEFT JOIN fmtbank.question_item qi ON qi.code = l.item)
    SELECT c.line, c.item,
           CASE WHEN c.type = 'boolean' THEN lower(c.ans) ELSE c.ans END,
           CASE WHEN c.type = 'boolean' THEN lower(c.ans) = 'yes' END, c.dv, c.nv,
           CASE
             WHEN c.err IS NOT NULL THEN c.err
             WHEN c.item = '' THEN 'missing item name'
             WHEN NOT c.known AND c.ever
               THEN format('item "%s" is not in the catalog in force (retired, or not yet in force)', c.item)
             WHEN NOT c.known THEN format('unknown item "%s"', c.raw_item)
             WHEN c.questionnaire <> p_kind THEN
               format('item "%s" belongs to the %s questionnaire', c.item,
                      CASE c.questionnaire WHEN 'full' THEN 'full' WHEN 'short' THEN 'donation-day (--short)'
                                           ELSE 'follow-up (--followup)' END)
             WHEN c.derived IS NOT NULL THEN
               format('item "%s" is not answered: it comes from the donor''s birth year', c.item)
             WHEN c.nth > 1 THEN
               format('item "%s" appears more than once (first on line %s)', c.item, c.first_line)
             WHEN c.type = 'boolean' AND lower(c.ans) NOT IN ('yes', 'no') THEN
               format('answer "%s" to "%s" must be yes or no', c.ans, c.item)
             WHEN c.type = 'date' AND c.ans <> '' AND c.dv IS NULL THEN
               format('answer "%s" to "%s" is not a valid date (use YYYY-MM-DD, or never)',
                      c.ans, c.item)
             WHEN c.type = 'date' AND c.dv > p_date THEN
               format('answer %s to "%s" is after the questionnaire date %s', c.dv, c.item, p_date)
             WHEN c.type = 'number' AND c.ans = '' THEN
               format('answer to "%s" is missing: a number is required', c.item)
             WHEN c.type = 'number' AND c.nv IS NULL THEN
               format('answer "%s" to "%s" is not a number', c.ans, c.item)
             WHEN c.type = 'number' AND (c.nv < c.answer_min OR c.nv > c.answer_max) THEN
               format('answer %s to "%s" is outside its possible range %s to %s', c.ans, c.item,
                      c.answer_min, c.answer_max)
             WHEN c.type = 'number' AND c.integral AND c.nv <> trunc(c.nv) THEN
               format('answer %s to "%s" must be a whole number', c.ans, c.item)
           END,
           c.line
    FROM c
    UNION ALL
    SELECT NULL, q.code, NULL, NULL, NULL, NULL, format('missing item "%s"', q.code),
           1000000000 + q.sort_order
    FROM fmtbank.question_item_at(clock_timestamp()) q
    WHERE q.questionnaire = p_kind AND q.derived IS NULL
      AND NOT EXISTS (SELECT 1 FROM l WHERE l.item = q.code)
$$;

-- "fmtbank questionnaire record": returns every problem as (line, message) and stores nothing,
-- or stores the questionnaire and returns one row with its id. p_date NULL: today. p_kind: full, short (donation
-- day) or followup (after a donation); p_time: HH:MM it was answered (NULL: 00:00).
CREATE OR REPLACE FUNCTION fmtbank.questionnaire_record(p_code text, p_date text, p_kind text,
                                             p_time text, p_lines jsonb)
RETURNS TABLE (line integer, message text, questionnaire_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.donor;
    qd date;
    k text := coalesce(p_kind, 'full');
    kname text := fmtbank.questionnaire_kind_name(p_kind);
    qt time;
    prev uuid;
    why text;
    qid uuid;
    t timestamptz;
BEGIN
    PERFORM fmtbank.require_role('recording questionnaires', 'technician', 'quality', 'admin');
    d := fmtbank.donor_get(p_code);
    qd := CASE WHEN p_date IS NULL THEN current_date ELSE fmtbank.parse_date(p_date, '--date') END;
    IF k NOT IN ('full', 'short', 'followup') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid questionnaire kind "%s"', k),
            HINT = 'The kinds are full, short (donation day) and followup (after a donation).';
    END IF;
    qt := fmtbank.parse_hhmm(p_time, '--time');
    IF qd > current_date OR qd + qt > localtimestamp THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('questionnaire date %s%s is in the future', qd,
                             CASE WHEN p_time IS NULL THEN '' ELSE ' ' || to_char(qt, 'HH24:MI') END);
    END IF;
    IF p_lines IS NULL OR jsonb_typeof(p_lines) <> 'array' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'questionnaire lines must be a JSON array';
    END IF;
    RETURN QUERY SELECT c.line, c.message, NULL::uuid
                 FROM fmtbank.questionnaire_lines_check(k, qd, p_lines) c
                 WHERE c.message IS NOT NULL ORDER BY c.ord;
    IF FOUND THEN
        RETURN;
    END IF;
    SELECT q.id INTO prev FROM fmtbank.questionnaire q
    WHERE q.donor_id = d.id AND q.kind = k AND q.q_date = qd AND q.superseded_at IS NULL
    FOR UPDATE;
    IF prev IS NOT NULL THEN
        why := fmtbank.acting_reason(true, format('recording the %s questionnaire of %s for donor "%s" again',
                                                  kname, qd, d.code));
    ELSE
        why := fmtbank.acting_reason(false, 'recording a questionnaire');
    END IF;
    t := clock_timestamp();
    UPDATE fmtbank.questionnaire SET superseded_at = t WHERE id = prev;
    INSERT INTO fmtbank.questionnaire (donor_id, kind, q_date, q_time, recorded_at, supersedes, reason)
    VALUES (d.id, k, qd, qt, t, prev, why) RETURNING id INTO qid;
    INSERT INTO fmtbank.questionnaire_answer (questionnaire_id, item, line, answer, yes, date_value,
                                              num_value)
    SELECT qid, c.item, c.line, c.answer, c.yes, c.date_value, c.num_value
    FROM fmtbank.questionnaire_lines_check(k, qd, p_lines) c WHERE c.line IS NOT NULL
    ORDER BY c.line;
    PERFORM pg_notify('fmtbank_donor', d.code);
    RETURN QUERY SELECT NULL::integer, NULL::text, qid;
END $$;

-- The questionnaire with this ID (FB001 for a malformed ID, FB002 when there is none).
CREATE OR REPLACE FUNCTION fmtbank.questionnaire_get(p_id text) RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE qid uuid;
BEGIN
    IF p_id IS NULL OR btrim(p_id) !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid questionnaire ID "%s"', coalesce(p_id, '')),
            HINT = 'Questionnaire IDs are UUIDs, as "fmtbank questionnaire list CODE" shows them.';
    END IF;
    SELECT q.id INTO qid FROM fmtbank.questionnaire q WHERE q.id = btrim(p_id)::uuid;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('questionnaire "%s" not found', p_id);
    END IF;
    RETURN qid;
END $$;

-- The donation-day questionnaire of a donor for a date, as recorded by p_known: whether there is
-- one, whether every answer is no, and what it says. p_until: only a questionnaire whose date and
-- time (q_date + q_time) is at or before it counts (a donation's evaluation: not one taken after
-- the collection); NULL: any of that date.
CREATE OR REPLACE FUNCTION fmtbank.short_questionnaire_eval(p_donor_id uuid, p_date date, p_until timestamp,
                                                            p_known timestamptz)
RETURNS TABLE (recorded boolean, clear boolean, detail text)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH q AS (
        SELECT x.id FROM fmtbank.questionnaire x
        WHERE x.donor_id = p_donor_id AND x.kind = 'short' AND x.q_date = p_date
          AND (p_until IS NULL OR x.q_date + x.q_time <= p_until)
          AND x.recorded_at <= p_known AND (x.superseded_at IS NULL OR x.superseded_at > p_known)),
    y AS (
        SELECT string_agg(a.item, ', ' ORDER BY i.sort_order) AS items
        FROM q JOIN fmtbank.questionnaire_answer a ON a.questionnaire_id = q.id
        JOIN fmtbank.question_item i ON i.code = a.item
        WHERE a.yes)
    SELECT EXISTS (SELECT 1 FROM q), EXISTS (SELECT 1 FROM q) AND y.items IS NULL,
           CASE WHEN NOT EXISTS (SELECT 1 FROM q)
                  THEN format('no donation-day questionnaire recorded for %s', p_date)
                WHEN y.items IS NULL
                  THEN format('donation-day questionnaire of %s: every answer no', p_date)
                ELSE format('donation-day questionnaire of %s: yes to %s', p_date, y.items) END
    FROM y
$$;

-- ... as recorded by p_at, any time of that date.
CREATE OR REPLACE FUNCTION fmtbank.short_questionnaire_asof(p_donor_id uuid, p_date date, p_at timestamptz)
RETURNS TABLE (recorded boolean, clear boolean, detail text)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM fmtbank.short_questionnaire_eval(p_donor_id, p_date, NULL, p_at)
$$;

CREATE OR REPLACE FUNCTION fmtbank.short_questionnaire_at(p_donor_id uuid, p_date date)
RETURNS TABLE (recorded boolean, clear boolean, detail text)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM fmtbank.short_questionnaire_asof(p_donor_id, p_date, clock_timestamp())
$$;

CREATE OR REPLACE VIEW fmtbank.questionnaire_list AS
    SELECT q.id, d.code AS donor, q.kind, q.q_date AS date, q.recorded_at, q.recorded_by,
           q.superseded_at IS NOT NULL AS superseded, q.supersedes, q.reason,
           (SELECT coalesce(array_agg(a.item ORDER BY i.sort_order), '{}')
            FROM fmtbank.questionnaire_answer a JOIN fmtbank.question_item i ON i.code = a.item
            WHERE a.questionnaire_id = q.id AND a.yes) AS yes_to,
           (SELECT coalesce(jsonb_object_agg(a.item, a.date_value), '{}')
            FROM fmtbank.questionnaire_answer a
            WHERE a.questionnaire_id = q.id AND a.date_value IS NOT NULL) AS dates,
           (SELECT coalesce(jsonb_object_agg(a.item, a.num_value), '{}')
            FROM fmtbank.questionnaire_answer a
            WHERE a.questionnaire_id = q.id AND a.num_value IS NOT NULL) AS numbers,
           to_char(q.q_time, 'HH24:MI') AS time
    FROM fmtbank.questionnaire q JOIN fmtbank.donor d ON d.id = q.donor_id;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.iso_date(text),
    fmtbank.questionnaire_kind_name(text),
    fmtbank.questionnaire_record(text, text, text, text, jsonb),
    fmtbank.questionnaire_get(text),
    fmtbank.short_questionnaire_eval(uuid, date, timestamp without time zone, timestamp with time zone),
    fmtbank.short_questionnaire_asof(uuid, date, timestamp with time zone),
    fmtbank.short_questionnaire_at(uuid, date)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): questionnaire_lines_check

GRANT SELECT ON fmtbank.questionnaire_list
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
