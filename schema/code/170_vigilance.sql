-- 170_vigilance: recipients and vigilance (product.md Part II §13; tables in schema/170_vigilance.sql).
--
-- A recipient is the pseudonymous code a dose was issued to ("aliquot issue --recipient"); it is
-- known by its doses and never by anything else. An adverse event reported about a recipient is
-- recorded by any role but the auditor; only quality grades its imputability (not_assessable by
-- default). The rule, in the event's transaction: a serious event (death, life threat,
-- hospitalisation, disability or a transmitted infection, as the reporter says) whose imputability
-- is not excluded or unlikely opens an adverse_event case on EVERY donor of the doses issued to
-- that recipient on or before the event day, holding every lot of the donor still in the bank (a
-- donor scope: lots recorded later are held too, and new donations are rejected while it is open)
-- and listing every other recipient of those donors to notify (fmtbank.case_recipients). An event
-- recorded already graded excluded or unlikely opens nothing. Grading it excluded or unlikely later
-- ends the cases' claim: each not yet withdrawn is marked "signal withdrawn - lift proposed"
-- (withdrawn_at, withdrawn_reason: the grade, who graded it and why), and its holds stay until a
-- quality officer's signed "case decide --lift". Graded back to not_assessable, possible, probable
-- or definite (or made serious by a follow-up while so graded), the event opens a NEW case on each
-- donor whose every case of this event was withdrawn (the withdrawn one keeps its history); a donor
-- whose case of this event was never withdrawn (open, decided or closed) gets none.

-- ---------------------------------------------------------------- reading
-- A recipient code (normalised, as issued), FB001 when malformed, FB002 when no dose was issued
-- to it.
CREATE OR REPLACE FUNCTION fmtbank.recipient_get(p text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE r text := fmtbank.recipient_code_check(p);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM fmtbank.aliquot_issue i WHERE i.recipient = r) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('recipient "%s" not found', r),
            HINT = 'A recipient is known by the doses issued to it ("fmtbank aliquot issue --recipient").';
    END IF;
    RETURN r;
END $$;

-- An adverse event by its ID (check character verified), FB001 when malformed, FB002 when unknown.
CREATE OR REPLACE FUNCTION fmtbank.recipient_event_get(p text) RETURNS fmtbank.recipient_event
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e fmtbank.recipient_event;
    v text := upper(btrim(coalesce(p, '')));
BEGIN
    IF v !~ '^E[0-9]{8}[0-9A-Z*]$' OR fmtbank.with_check(left(v, 9)) <> v THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid event ID "%s"', coalesce(p, '')),
            HINT = 'An event ID is E, 8 digits and a check character, as "fmtbank recipient show" lists it.';
    END IF;
    SELECT * INTO e FROM fmtbank.recipient_event x WHERE x.event_code = v;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('event "%s" not found', v);
    END IF;
    RETURN e;
END $$;

-- The doses issued to a recipient, with lot, donor, site and use (oldest first).
CREATE OR REPLACE FUNCTION fmtbank.recipient_doses(p_recipient text)
RETURNS TABLE (aliquot text, lot text, donor text, site text, issued_at timestamptz,
               issued_by text, thawed_at timestamptz, use text, donor_id uuid)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.aliquot_id, l.lot_id, d.code, i.site, i.issued_at, i.issued_by, a.thawed_at, i.use,
           d.id
    FROM fmtbank.aliquot_issue i
    JOIN fmtbank.aliquot a ON a.id = i.aliquot
    JOIN fmtbank.lot l ON l.id = a.lot
    JOIN fmtbank.donor d ON d.id = l.donor_id
    WHERE i.recipient = p_recipient
    ORDER BY i.issued_at, a.aliquot_id
$$;

-- The cases an event opened: [{case, donor, status, withdrawn, lots_held, recipients: the other
-- recipients of the case's material, with notification}].
CREATE OR REPLACE FUNCTION fmtbank.event_cases(p_event bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'case', c.case_code, 'donor', d.code, 'status', c.status,
               'withdrawn', c.withdrawn_at IS NOT NULL, 'withdrawn_reason', c.withdrawn_reason,
               'lots_held', (SELECT count(DISTINCT h.lot) FROM fmtbank.case_hold h
                             WHERE h.case_id = c.id AND h.ended_at IS NULL),
               'recipients', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                  'recipient', r.recipient, 'site', r.site, 'aliquot', r.aliquot,
                                  'issued_at', fmtbank.ts_utc(r.issued_at),
                                  'notified_at', fmtbank.ts_utc(r.notified_at))
                                  ORDER BY r.recipient, r.aliquot), '[]'::jsonb)
                              FROM fmtbank.case_recipients(c.id) r
                              WHERE r.recipient <> e.recipient))
               ORDER BY c.case_code), '[]'::jsonb)
    FROM fmtbank.recipient_event e
    JOIN fmtbank.safety_case c ON c.event_id = e.id
    JOIN fmtbank.donor d ON d.id = c.donor_id
    WHERE e.id = p_event
$$;

-- "fmtbank recipient show R": doses (lot, donor, site, issue date), adverse events with their
-- cases, and outcome scores.
CREATE OR REPLACE FUNCTION fmtbank.recipient_show(p_recipient text)
RETURNS TABLE (recipient text, donors text, sites text, first_issued timestamptz,
               last_issued timestamptz, doses jsonb, events jsonb, scores jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r text;
BEGIN
    PERFORM fmtbank.require_role('reading recipients', 'technician', 'quality', 'auditor', 'admin');
    r := fmtbank.recipient_get(p_recipient);
    RETURN QUERY
    SELECT r,
           (SELECT string_agg(DISTINCT x.donor, ', ') FROM fmtbank.recipient_doses(r) x),
           (SELECT string_agg(DISTINCT x.site, ', ') FROM fmtbank.recipient_doses(r) x),
           (SELECT min(x.issued_at) FROM fmtbank.recipient_doses(r) x),
           (SELECT max(x.issued_at) FROM fmtbank.recipient_doses(r) x),
           (SELECT jsonb_agg(jsonb_build_object(
                       'aliquot', x.aliquot, 'lot', x.lot, 'donor', x.donor, 'site', x.site,
                       'issued_at', fmtbank.ts_utc(x.issued_at), 'issued_by', x.issued_by,
                       'use', x.use, 'thawed_at', fmtbank.ts_utc(x.thawed_at))
                   ORDER BY x.issued_at, x.aliquot)
            FROM fmtbank.recipient_doses(r) x),
           (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'event', e.event_code, 'date', e.event_date, 'kind', e.kind,
                       'serious', e.serious, 'severity', e.severity,
                       'imputability', e.imputability, 'outcome', e.outcome,
                       'description', e.description,
                       'recorded_at', fmtbank.ts_utc(e.recorded_at), 'recorded_by', e.recorded_by,
                       'cases', fmtbank.event_cases(e.id))
                   ORDER BY e.event_date, e.event_code), '[]'::jsonb)
            FROM fmtbank.recipient_event e WHERE e.recipient = r),
           (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'visit', s.visit, 'date', s.visit_date, 'item', s.instrument,
                       'value', s.value, 'recorded_by', s.recorded_by,
                       'recorded_value', s.recorded_value, 'corrections', s.corrections)
                   ORDER BY s.visit_date, s.visit, s.instrument), '[]'::jsonb)
            FROM fmtbank.recipient_score_now s WHERE s.recipient = r);
END $$;

-- "fmtbank donor recipients CODE": every dose of the donor issued, with recipient, site, lot,
-- issue date, use and how many adverse events that recipient has.
CREATE OR REPLACE FUNCTION fmtbank.donor_recipients(p_code text)
RETURNS TABLE (recipient text, site text, aliquot text, lot text, issued_at timestamptz,
               use text, thawed_at timestamptz, events bigint, serious_events bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE d fmtbank.donor;
BEGIN
    PERFORM fmtbank.require_role('reading recipients', 'technician', 'quality', 'auditor', 'admin');
    d := fmtbank.donor_get(p_code);
    RETURN QUERY
    SELECT i.recipient, i.site, a.aliquot_id, l.lot_id, i.issued_at, i.use, a.thawed_at,
           (SELECT count(*) FROM fmtbank.recipient_event e WHERE e.recipient = i.recipient),
           (SELECT count(*) FROM fmtbank.recipient_event e
            WHERE e.recipient = i.recipient AND e.serious)
    FROM fmtbank.lot l
    JOIN fmtbank.aliquot a ON a.lot = l.id
    JOIN fmtbank.aliquot_issue i ON i.aliquot = a.id
    WHERE l.donor_id = d.id
    ORDER BY i.recipient, i.issued_at, a.aliquot_id;
END $$;

-- ---------------------------------------------------------------- the rule
-- Opens the adverse_event cases an event calls for (see the head of this file); returns how many.
CREATE OR REPLACE FUNCTION fmtbank.vigilance_open(p_event bigint) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e fmtbank.recipient_event;
    t timestamptz := clock_timestamp();
    d record;
    cid bigint;
    n integer := 0;
BEGIN
    SELECT * INTO e FROM fmtbank.recipient_event x WHERE x.id = p_event;
    IF NOT e.serious OR e.imputability IN ('excluded', 'unlikely') THEN
        RETURN 0;
    END IF;
    FOR d IN
        SELECT DISTINCT x.donor_id, x.donor FROM fmtbank.recipient_doses(e.recipient) x
        WHERE x.issued_at < (e.event_date + 1)::timestamptz
          AND NOT EXISTS (SELECT 1 FROM fmtbank.safety_case c
                          WHERE c.event_id = e.id AND c.donor_id = x.donor_id
                            AND c.withdrawn_at IS NULL)
        ORDER BY x.donor
    LOOP
        INSERT INTO fmtbank.safety_case (case_code, source, reason, scope_kind, donor_id, event_id)
        VALUES (fmtbank.year_next_id('case', 'C', t), 'adverse_event',
                format('adverse event %s in recipient %s on %s: %s, %s, serious; imputability %s',
                       e.event_code, e.recipient, e.event_date, replace(e.kind, '_', ' '),
                       e.severity, replace(e.imputability, '_', ' ')),
                'donor', d.donor_id, e.id)
        RETURNING id INTO cid;
        PERFORM fmtbank.case_hold_lots(cid, ARRAY(SELECT l.id FROM fmtbank.lot l
                                                  WHERE l.donor_id = d.donor_id));
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- What an event's command returns: the event, its grade and outcome, and its cases.
CREATE OR REPLACE FUNCTION fmtbank.event_result(p_event bigint)
RETURNS TABLE (event text, recipient text, serious boolean, imputability text, outcome text,
               cases jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.event_code, e.recipient, e.serious, e.imputability, e.outcome,
           fmtbank.event_cases(e.id)
    FROM fmtbank.recipient_event e WHERE e.id = p_event
$$;

-- Input checks of events: FB001 naming the option.
CREATE OR REPLACE FUNCTION fmtbank.event_choice(p text, p_field text, p_choices text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p IS NULL OR NOT (p = ANY (p_choices)) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid %s "%s"', p_field, coalesce(p, '')),
            HINT = format('Give one of %s.', array_to_string(p_choices, ', '));
    END IF;
    RETURN p;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.imputabilities() RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
RETURN ARRAY['not_assessable', 'excluded', 'unlikely', 'possible', 'probable', 'definite'];

CREATE OR REPLACE FUNCTION fmtbank.event_outcomes() RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
RETURN ARRAY['recovering', 'recovered', 'recovered_with_sequelae', 'not_recovered', 'fatal',
             'unknown'];

-- A past or present day (FB001 naming the option otherwise).
CREATE OR REPLACE FUNCTION fmtbank.past_date(p text, p_field text) RETURNS date
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE d date := fmtbank.parse_date(p, p_field);
BEGIN
    IF d > current_date THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid date "%s" for %s: it is in the future', p, p_field);
    END IF;
    RETURN d;
END $$;

-- "fmtbank recipient event add R --date D --kind K --serious yes|no --severity S
-- [--imputability I] --description T": any role but the auditor; an imputability other than
-- not_assessable only by quality. Opens the cases of the rule in the same transaction.
CREATE OR REPLACE FUNCTION fmtbank.recipient_event_add(p_recipient text, p_date text, p_kind text,
                                                       p_serious text, p_severity text,
                                                       p_imputability text, p_description text)
RETURNS TABLE (event text, recipient text, serious boolean, imputability text, outcome text,
               cases jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r text;
    d date;
    imp text := coalesce(p_imputability, 'not_assessable');
    descr text := btrim(coalesce(p_description, ''));
    t timestamptz := clock_timestamp();
    eid bigint;
    code text;
BEGIN
    PERFORM fmtbank.require_role('recording adverse events', 'technician', 'quality', 'admin');
    PERFORM fmtbank.event_choice(imp, '--imputability', fmtbank.imputabilities());
    IF imp <> 'not_assessable' THEN
        PERFORM fmtbank.require_role('grading imputability', 'quality');
    END IF;
    r := fmtbank.recipient_get(p_recipient);
    d := fmtbank.past_date(p_date, '--date');
    PERFORM fmtbank.event_choice(p_kind, '--kind',
                                 ARRAY['infection', 'gi_symptoms', 'fever', 'allergic', 'death', 'other']);
    PERFORM fmtbank.event_choice(p_serious, '--serious', ARRAY['yes', 'no']);
    PERFORM fmtbank.event_choice(p_severity, '--severity', ARRAY['mild', 'moderate', 'severe']);
    IF p_kind = 'death' AND p_serious = 'no' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'invalid --serious "no" for a death',
            HINT = 'A death is serious: --serious yes.';
    END IF;
    IF descr = '' OR length(descr) > 4000 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'invalid --description',
            HINT = 'Describe the event in 1 to 4000 characters (no names: the recipient is a code).';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM fmtbank.recipient_doses(r) x
                   WHERE x.issued_at < (d + 1)::timestamptz) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot record an event of %s for recipient %s: no dose was issued to it on or before that day',
                             d, r),
            DETAIL = format('Its first dose was issued on %s.',
                            (SELECT fmtbank.ts_text(min(x.issued_at)) FROM fmtbank.recipient_doses(r) x));
    END IF;
    code := fmtbank.year_next_id('event', 'E', t);
    INSERT INTO fmtbank.recipient_event (event_code, recipient, event_date, kind, serious, severity,
                                         description, imputability, recorded_at)
    VALUES (code, r, d, p_kind, p_serious = 'yes', p_severity, descr, imp, t)
    RETURNING id INTO eid;
    INSERT INTO fmtbank.recipient_event_history (event_id, action, imputability, outcome, serious,
                                                 at, reason)
    VALUES (eid, 'recorded', imp, NULL, p_serious = 'yes', t,
            fmtbank.acting_reason(false, 'recording an adverse event'));
    PERFORM fmtbank.vigilance_open(eid);
    RETURN QUERY SELECT * FROM fmtbank.event_result(eid);
END $$;

-- "fmtbank recipient event update EVENT [--outcome O] [--imputability I] [--serious yes] --reason R":
-- a follow-up (any role but the auditor; the imputability only by quality). --serious yes makes a
-- non-serious event serious (hospitalised later; never back to no); a fatal outcome needs a serious
-- event. Graded excluded or unlikely, the event's cases are marked withdrawn (lift proposed;
-- holds stay); graded back, or made serious while plausible, it opens the cases of the rule.
CREATE OR REPLACE FUNCTION fmtbank.recipient_event_update(p_event text, p_outcome text,
                                                          p_imputability text, p_serious text)
RETURNS TABLE (event text, recipient text, serious boolean, imputability text, outcome text,
               cases jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e fmtbank.recipient_event;
    why text;
    imp text;
    oc text;
    ser boolean;
    t timestamptz := clock_timestamp();
BEGIN
    PERFORM fmtbank.require_role('updating adverse events', 'technician', 'quality', 'admin');
    IF p_imputability IS NOT NULL THEN
        PERFORM fmtbank.require_role('grading imputability', 'quality');
    END IF;
    e := fmtbank.recipient_event_get(p_event);
    IF p_outcome IS NULL AND p_imputability IS NULL AND p_serious IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'nothing to update',
            HINT = 'Give --outcome, --imputability, --serious yes, or several.';
    END IF;
    imp := e.imputability;
    IF p_imputability IS NOT NULL THEN
        imp := fmtbank.event_choice(p_imputability, '--imputability', fmtbank.imputabilities());
    END IF;
    oc := e.outcome;
    IF p_outcome IS NOT NULL THEN
        oc := fmtbank.event_choice(p_outcome, '--outcome', fmtbank.event_outcomes());
    END IF;
    ser := e.serious;
    IF p_serious IS NOT NULL THEN
        PERFORM fmtbank.event_choice(p_serious, '--serious', ARRAY['yes']);
        ser := true;
    END IF;
    IF oc = 'fatal' AND NOT ser THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --outcome "fatal" for event %s: it is not serious', e.event_code),
            HINT = 'A death is serious: give --serious yes with it.';
    END IF;
    why := fmtbank.acting_reason(true, 'updating an adverse event');
    SELECT * INTO e FROM fmtbank.recipient_event x WHERE x.id = e.id FOR UPDATE;
    IF imp = e.imputability AND oc IS NOT DISTINCT FROM e.outcome AND ser = e.serious THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('event %s already has imputability %s and outcome %s%s: nothing changes',
                             e.event_code, e.imputability, coalesce(e.outcome, 'none'),
                             CASE WHEN e.serious THEN ' and is serious' ELSE '' END);
    END IF;
    UPDATE fmtbank.recipient_event x SET imputability = imp, outcome = oc, serious = ser
    WHERE x.id = e.id;
    INSERT INTO fmtbank.recipient_event_history (event_id, action, imputability, outcome, serious,
                                                 at, reason)
    VALUES (e.id, 'updated', imp, oc, ser, t, why);
    IF imp IN ('excluded', 'unlikely') AND e.imputability NOT IN ('excluded', 'unlikely') THEN
        UPDATE fmtbank.safety_case c
        SET withdrawn_at = t,
            withdrawn_reason = format('event %s graded %s by %s: %s', e.event_code, imp,
                                      session_user, why)
        WHERE c.event_id = e.id AND c.withdrawn_at IS NULL;
    END IF;
    PERFORM fmtbank.vigilance_open(e.id);
    RETURN QUERY SELECT * FROM fmtbank.event_result(e.id);
END $$;

-- ---------------------------------------------------------------- outcome scores
-- A score's value checked against its instrument (FB001 naming --value): in range, an integer
-- when the instrument is integral.
CREATE OR REPLACE FUNCTION fmtbank.score_value(s fmtbank.score_instrument, p_value text) RETURNS numeric
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE v numeric;
BEGIN
    BEGIN
        v := btrim(coalesce(p_value, ''))::numeric;
    EXCEPTION WHEN invalid_text_representation THEN
        v := NULL;
    END;
    IF v IS NULL OR v = 'NaN'::numeric OR v < s.min_value OR v > s.max_value
       OR (s.integral AND v <> trunc(v)) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --value "%s" for %s', coalesce(p_value, ''), s.code),
            HINT = format('%s is %s from %s to %s.', s.name,
                          CASE WHEN s.integral THEN 'an integer' ELSE 'a number' END,
                          s.min_value, s.max_value);
    END IF;
    RETURN v;
END $$;

-- The scores in force: each recorded score with its value now (the latest correction's, else the
-- value recorded), the value first recorded, and its corrections in order (migration 290).
CREATE OR REPLACE VIEW fmtbank.recipient_score_now AS
    SELECT s.id, s.recipient, s.visit, s.visit_date, s.instrument,
           coalesce(c.last_value, s.value) AS value, s.value AS recorded_value,
           s.recorded_at, s.recorded_by, coalesce(c.corrections, '[]'::jsonb) AS corrections
    FROM fmtbank.recipient_score s
    LEFT JOIN LATERAL (
        SELECT (array_agg(x.value ORDER BY x.id DESC))[1] AS last_value,
               jsonb_agg(jsonb_build_object('value', x.value, 'reason', x.reason,
                                            'corrected_at', fmtbank.ts_utc(x.corrected_at),
                                            'corrected_by', x.corrected_by) ORDER BY x.id) AS corrections
        FROM fmtbank.recipient_score_correction x WHERE x.score = s.id) c ON true;

-- "fmtbank recipient score correct R --visit LABEL --item CODE --value N --reason TEXT": a new
-- value for a recorded score (any role but the auditor; a reason required). Refused when the
-- recipient has no such score (FB002) or the value is the one in force already (FB003).
CREATE OR REPLACE FUNCTION fmtbank.recipient_score_correct(p_recipient text, p_visit text,
                                                           p_item text, p_value text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r text;
    s fmtbank.score_instrument;
    cur fmtbank.recipient_score_now;
    v numeric;
    why text;
    cid bigint;
BEGIN
    PERFORM fmtbank.require_role('correcting outcome scores', 'technician', 'quality', 'admin');
    r := fmtbank.recipient_get(p_recipient);
    SELECT * INTO s FROM fmtbank.score_instrument x WHERE x.code = lower(btrim(coalesce(p_item, '')));
    SELECT * INTO cur FROM fmtbank.recipient_score_now n
    WHERE n.recipient = r AND n.visit = btrim(coalesce(p_visit, '')) AND n.instrument = s.code;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('recipient %s has no %s score at visit "%s"', r,
                             coalesce(s.code, lower(btrim(coalesce(p_item, '')))), btrim(coalesce(p_visit, ''))),
            HINT = format('Its scores: %s.',
                          coalesce((SELECT string_agg(n.instrument || ' at ' || n.visit, ', '
                                                      ORDER BY n.visit_date, n.visit, n.instrument)
                                    FROM fmtbank.recipient_score n WHERE n.recipient = r), 'none'));
    END IF;
    v := fmtbank.score_value(s, p_value);
    IF v = cur.value THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('the %s score of recipient %s at visit %s is %s already', s.code, r,
                             cur.visit, cur.value);
    END IF;
    why := fmtbank.acting_reason(true, 'correcting an outcome score');
    INSERT INTO fmtbank.recipient_score_correction (score, value, reason)
    VALUES (cur.id, v, why) RETURNING id INTO cid;
    RETURN cid;
END $$;
-- A follow-up score checked (FB001 naming the field, FB002 for an unknown recipient, FB003 when
-- the recipient already has that item at that visit): an instrument of the catalog
-- (fmtbank.score_instrument), the value in its range, an integer when it is integral.
CREATE OR REPLACE FUNCTION fmtbank.score_check(p_recipient text, p_visit text, p_date text,
                                               p_item text, p_value text,
                                               OUT recipient text, OUT visit text,
                                               OUT visit_date date, OUT instrument text,
                                               OUT value numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s fmtbank.score_instrument;
BEGIN
    recipient := fmtbank.recipient_get(p_recipient);
    visit := btrim(coalesce(p_visit, ''));
    IF visit !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --visit "%s"', coalesce(p_visit, '')),
            HINT = 'A visit label is 1 to 32 letters, digits, ".", "_" or "-", e.g. week2.';
    END IF;
    visit_date := fmtbank.past_date(p_date, '--date');
    SELECT * INTO s FROM fmtbank.score_instrument x WHERE x.code = lower(btrim(coalesce(p_item, '')));
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('unknown score item "%s"', coalesce(p_item, '')),
            HINT = format('The score instruments are: %s.',
                          (SELECT string_agg(x.code, ', ' ORDER BY x.code) FROM fmtbank.score_instrument x));
    END IF;
    instrument := s.code;
    value := fmtbank.score_value(s, p_value);
    IF EXISTS (SELECT 1 FROM fmtbank.recipient_score x
               WHERE x.recipient = score_check.recipient AND x.visit = score_check.visit
                 AND x.instrument = s.code) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('recipient %s already has a %s score for visit %s', recipient, s.code,
                             visit),
            HINT = 'Scores are append-only: one per recipient, visit and item.';
    END IF;
END $$;

-- "fmtbank recipient score R --visit LABEL --date D --item CODE --value N": one follow-up score.
-- Any role but the auditor.
CREATE OR REPLACE FUNCTION fmtbank.recipient_score_add(p_recipient text, p_visit text, p_date text,
                                                       p_item text, p_value text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
    sid bigint;
BEGIN
    PERFORM fmtbank.require_role('recording outcome scores', 'technician', 'quality', 'admin');
    v := fmtbank.score_check(p_recipient, p_visit, p_date, p_item, p_value);
    INSERT INTO fmtbank.recipient_score (recipient, visit, visit_date, instrument, value)
    VALUES (v.recipient, v.visit, v.visit_date, v.instrument, v.value)
    RETURNING id INTO sid;
    RETURN sid;
END $$;

-- "fmtbank recipient score import FILE.csv" (recipient,visit,date,item,value), staged in
-- fmtbank_stage.score_stage: step 1 clears this backend's stage.
CREATE OR REPLACE FUNCTION fmtbank.score_import_begin() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.require_role('recording outcome scores', 'technician', 'quality', 'admin');
    DELETE FROM fmtbank_stage.score_stage s WHERE s.pid = pg_catalog.pg_backend_pid();
END $$;

-- Step 3 (after COPY fmtbank_stage.score_stage (line, recipient, visit, visit_date, item, value)):
-- every bad line (line, message, NULL), each checked as "recipient score" checks one (and a line
-- repeating an earlier line's recipient, visit and item is bad), and nothing stored; else every
-- score stored (line, NULL, recipient).
CREATE OR REPLACE FUNCTION fmtbank.score_import_stage()
RETURNS TABLE (line bigint, message text, id text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    me integer := pg_catalog.pg_backend_pid();
    r record;
    v record;
    bad boolean := false;
BEGIN
    PERFORM fmtbank.require_role('recording outcome scores', 'technician', 'quality', 'admin');
    FOR r IN
        SELECT s.*, min(s.line) OVER (PARTITION BY upper(btrim(coalesce(s.recipient, ''))),
                                                   btrim(coalesce(s.visit, '')),
                                                   lower(btrim(coalesce(s.item, '')))) AS first_line
        FROM fmtbank_stage.score_stage s WHERE s.pid = me ORDER BY s.line
    LOOP
        BEGIN
            v := fmtbank.score_check(r.recipient, r.visit, r.visit_date, r.item, r.value);
            IF r.first_line < r.line THEN
                RAISE EXCEPTION USING ERRCODE = 'FB001',
                    MESSAGE = format('recipient %s, visit %s, item %s appears on line %s already',
                                     v.recipient, v.visit, v.instrument, r.first_line);
            END IF;
        EXCEPTION WHEN SQLSTATE 'FB001' OR SQLSTATE 'FB002' OR SQLSTATE 'FB003' THEN
            bad := true;
            line := r.line; message := SQLERRM; id := NULL;
            RETURN NEXT;
        END;
    END LOOP;
    IF NOT bad THEN
        FOR r IN SELECT s.* FROM fmtbank_stage.score_stage s WHERE s.pid = me ORDER BY s.line LOOP
            v := fmtbank.score_check(r.recipient, r.visit, r.visit_date, r.item, r.value);
            INSERT INTO fmtbank.recipient_score (recipient, visit, visit_date, instrument, value)
            VALUES (v.recipient, v.visit, v.visit_date, v.instrument, v.value);
            line := r.line; message := NULL; id := v.recipient;
            RETURN NEXT;
        END LOOP;
    END IF;
    DELETE FROM fmtbank_stage.score_stage s WHERE s.pid = me;
END $$;

-- ---------------------------------------------------------------- the vigilance report
-- The events of the vigilance report: those of [since, until] (event days, both included;
-- default the 365 days up to the last change to the database). Quality, auditor, admin.
CREATE OR REPLACE FUNCTION fmtbank.report_vigilance_events(p_since date, p_until date)
RETURNS SETOF fmtbank.recipient_event
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u date := coalesce(p_until, fmtbank.report_as_of()::date, current_date);
    s date := coalesce(p_since, coalesce(p_until, fmtbank.report_as_of()::date, current_date) - 364);
BEGIN
    PERFORM fmtbank.require_role('reading the vigilance report', 'quality', 'auditor', 'admin');
    RETURN QUERY SELECT * FROM fmtbank.recipient_event e
                 WHERE e.event_date >= s AND e.event_date <= u ORDER BY e.event_date, e.event_code;
END $$;

-- ---------------------------------------------------------------- privileges
GRANT EXECUTE ON FUNCTION
    fmtbank.recipient_show(text),
    fmtbank.donor_recipients(text),
    fmtbank.recipient_event_add(text, text, text, text, text, text, text),
    fmtbank.recipient_event_update(text, text, text, text),
    fmtbank.recipient_score_add(text, text, text, text, text),
    fmtbank.recipient_score_correct(text, text, text, text),
    fmtbank.score_import_begin(),
    fmtbank.score_import_stage(),
    fmtbank.report_vigilance_events(date, date)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- not granted (owner only): recipient_get, recipient_event_get, recipient_doses, event_cases,
-- vigilance_open, event_result, event_choice, imputabilities, event_outcomes, past_date,
-- score_check, score_value
GRANT SELECT ON fmtbank.recipient_score_now
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
