-- 022_processing: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 022_processing: registering a donation (a lot), processing it into dose aliquots plus one
-- retained sample, and label prints. Eligibility, the donation-day questionnaire and the rule
-- parameters come from the screening code (fmtbank.donor_status_entry,
-- fmtbank.short_questionnaire_eval, fmtbank.rule_value, fmtbank.rule_set_version_at).
--
-- Material that exists is always recorded: a donation that may not be used, and stool
-- processed too late, become a 'rejected' lot with its reasons. Those functions therefore do not
-- raise; they return the refusal (message, detail, hint) next to what they recorded, and the CLI
-- exits with the refused code. Invalid input raises FB001 and records nothing.

-- A number rendered without trailing zeros, for messages.
-- (SQL-standard bodies: bound when created, inlined by the planner.)
CREATE OR REPLACE FUNCTION fmtbank.num_text(p numeric) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.trim_scale(p)::text;

CREATE OR REPLACE FUNCTION fmtbank.ts_text(p timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.to_char(p, 'YYYY-MM-DD HH24:MI');

-- A timestamp that is not in the future (five minutes of clock skew allowed).
CREATE OR REPLACE FUNCTION fmtbank.parse_past_ts(p text, p_field text) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE t timestamptz := fmtbank.parse_ts(p, p_field);
BEGIN
    IF t > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('%s "%s" is in the future', p_field, p);
    END IF;
    RETURN t;
END $$;

-- The next ID of a kind numbered per year: PREFIX + 2-digit year + 6-digit sequence + check
-- character (lots L..., cases C...). The counter row lock serialises concurrent callers.
CREATE OR REPLACE FUNCTION fmtbank.year_next_id(p_kind text, p_prefix text, p_at timestamptz)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    y integer := extract(year FROM p_at)::integer;
    n integer;
BEGIN
    INSERT INTO fmtbank.id_counter AS c (kind, year, last) VALUES (p_kind, y, 1)
    ON CONFLICT (kind, year) DO UPDATE SET last = c.last + 1
    RETURNING c.last INTO n;
    IF n > 999999 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('no %s numbers left for %s', p_kind, y);
    END IF;
    RETURN fmtbank.with_check(p_prefix || lpad((y % 100)::text, 2, '0') || lpad(n::text, 6, '0'));
END $$;

-- The next lot ID for the year of p_at.
CREATE OR REPLACE FUNCTION fmtbank.lot_next_id(p_at timestamptz) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT fmtbank.year_next_id('lot', 'L', p_at)
$$;

-- The input of "donation add" and "donation check": the collection time (not in the future), the
-- mass in grams and the Bristol form. Mass and form are optional for the check (p_required false):
-- their rules are then not judged. Invalid input raises FB001.
CREATE OR REPLACE FUNCTION fmtbank.donation_input(p_collected text, p_mass text, p_bristol text,
                                                  p_required boolean,
                                                  OUT collected timestamptz, OUT mass numeric,
                                                  OUT bristol smallint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    collected := fmtbank.parse_past_ts(p_collected, '--collected');
    IF (p_mass IS NOT NULL OR p_required)
       AND (p_mass IS NULL OR btrim(p_mass) !~ '^[0-9]{1,6}(\.[0-9])?$' OR btrim(p_mass)::numeric <= 0) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --mass "%s"', coalesce(p_mass, '')),
            HINT = 'Give the mass of the stool in grams, e.g. 180 or 62.5.';
    END IF;
    mass := btrim(p_mass)::numeric;
    IF (p_bristol IS NOT NULL OR p_required) AND (p_bristol IS NULL OR btrim(p_bristol) !~ '^[1-7]$') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --bristol "%s"', coalesce(p_bristol, '')),
            HINT = 'The Bristol stool form scale runs from 1 to 7.';
    END IF;
    bristol := btrim(p_bristol)::smallint;
END $$;

-- The one evaluation of a donation ("donation add" records what it says, "donation check" shows
-- it): the donor judged on the facts valid at the collection time p_at as known at the entry
-- p_known (results by collection date, questionnaires by their date and time, manual decisions,
-- rule set and catalog by their effective time, all as recorded by p_known: product.md §11.2),
-- the donation-day questionnaire of that day taken by the collection time, the Bristol form and
-- mass (when given), an open case of the donor, the donor's consent in force at the collection
-- (any scope, as known at the entry: 150_consent.sql). status: quarantine, or rejected with reasons
-- [{rule, detail}]. late: how long after the collection it is entered; needs_reason: later than
-- max_entry_hours; duplicate_of: the donor's other lots collected within
-- duplicate_donation_minutes of p_at, either side (a lot voided as entered in error does not
-- count), NULL when none. Reads only: no lot, no ID.
CREATE OR REPLACE FUNCTION fmtbank.donation_judge(p_donor_id uuid, p_at timestamptz, p_mass numeric,
                                                  p_bristol smallint, p_known timestamptz)
RETURNS TABLE (status text, reasons jsonb, late interval, max_entry_hours numeric, needs_reason boolean,
               duplicate_of text[], duplicate_minutes numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.donor;
    ds record;
    q record;
    r jsonb := '[]'::jsonb;
    max_h numeric := fmtbank.rule_value('max_entry_hours', p_at);
    dup_m numeric := fmtbank.rule_value('duplicate_donation_minutes', p_at);
    dups text[];
    no_consent text;
BEGIN
    SELECT * INTO d FROM fmtbank.donor WHERE id = p_donor_id;
    SELECT * INTO ds FROM fmtbank.donor_status_entry(d.id, p_at, p_known);
    IF NOT FOUND THEN
        r := r || jsonb_build_array(jsonb_build_object('rule', 'donor_eligible',
            'detail', format('Donor %s was not registered yet at the collection time (%s).', d.code,
                             fmtbank.ts_text(p_at))));
    ELSIF ds.status IS DISTINCT FROM 'eligible' THEN
        r := r || jsonb_build_array(jsonb_build_object('rule', 'donor_eligible',
            'detail', format('Donor %s is %s at the collection time (%s)%s.', d.code,
                             coalesce(ds.status, 'of unknown status'), fmtbank.ts_text(p_at),
                             CASE WHEN ds.deferred_until IS NOT NULL
                                  THEN format(', deferred until %s', ds.deferred_until) ELSE '' END)))
            || CASE WHEN jsonb_typeof(ds.reasons) = 'array' THEN ds.reasons ELSE '[]'::jsonb END;
    END IF;
    -- consent (150_consent.sql): a consent in force at the collection, any scope, as known at entry
    no_consent := fmtbank.consent_missing(d.id, p_at, p_known, NULL, 'the collection');
    IF no_consent IS NOT NULL THEN
        r := r || jsonb_build_array(jsonb_build_object('rule', 'consent', 'detail', no_consent));
    END IF;
    SELECT * INTO q FROM fmtbank.short_questionnaire_eval(d.id, p_at::date, p_at::timestamp, p_known);
    IF NOT coalesce(q.recorded, false) THEN
        r := r || jsonb_build_array(jsonb_build_object('rule', 'donation_questionnaire',
            'detail', CASE WHEN (SELECT x.recorded FROM fmtbank.short_questionnaire_eval(d.id, p_at::date, NULL, p_known) x)
                           THEN format('The donation-day questionnaire of %s on %s was taken after the collection (%s); it does not count for it.',
                                       d.code, p_at::date, fmtbank.ts_text(p_at))
                           ELSE format('No donation-day questionnaire is recorded for %s on %s.', d.code, p_at::date) END));
    ELSIF NOT coalesce(q.clear, false) THEN
        r := r || jsonb_build_array(jsonb_build_object('rule', 'donation_questionnaire',
            'detail', coalesce(nullif(q.detail, ''),
                               format('The donation-day questionnaire of %s is not clear.', p_at::date))));
    END IF;
    IF p_bristol NOT BETWEEN fmtbank.rule_value('bristol_min', p_at) AND fmtbank.rule_value('bristol_max', p_at) THEN
        r := r || jsonb_build_array(jsonb_build_object('rule', 'bristol',
            'detail', format('Bristol stool form %s is outside the accepted range %s to %s.', p_bristol,
                             fmtbank.num_text(fmtbank.rule_value('bristol_min', p_at)),
                             fmtbank.num_text(fmtbank.rule_value('bristol_max', p_at)))));
    END IF;
    IF p_mass < fmtbank.rule_value('dose_mass_g', p_at) THEN
        r := r || jsonb_build_array(jsonb_build_object('rule', 'dose_mass_g',
            'detail', format('Mass %s g is less than one dose (%s g).', fmtbank.num_text(p_mass),
                             fmtbank.num_text(fmtbank.rule_value('dose_mass_g', p_at)))));
    END IF;
    -- while the donor has an open case of any source, the material is recorded but rejected
    IF fmtbank.donor_open_cases(d.id) IS NOT NULL THEN
        r := r || jsonb_build_array(jsonb_build_object('rule', 'open_case',
            'detail', format('Donor %s has open case %s.', d.code, fmtbank.donor_open_cases(d.id))));
    END IF;
    SELECT array_agg(l.lot_id ORDER BY l.collected_at, l.lot_id) INTO dups
    FROM fmtbank.lot l
    WHERE l.donor_id = d.id
      AND l.collected_at BETWEEN p_at - dup_m * interval '1 minute' AND p_at + dup_m * interval '1 minute'
      AND NOT l.reject_reasons @> '[{"rule": "entered_in_error"}]';
    RETURN QUERY SELECT CASE WHEN jsonb_array_length(r) = 0 THEN 'quarantine' ELSE 'rejected' END, r,
                        p_known - p_at, max_h, p_known - p_at > max_h * interval '1 hour', dups, dup_m;
END $$;

-- "fmtbank donation check": what "donation add" would do now, creating nothing (no lot, no ID, no
-- audit row). would: quarantine, rejected (recorded as a rejected lot), duplicate (refused,
-- nothing recorded, unless --not-duplicate --reason) or reason (refused without --reason: entered
-- later than max_entry_hours); the session's --reason counts as given.
CREATE OR REPLACE FUNCTION fmtbank.donation_check(p_code text, p_collected text, p_mass text, p_bristol text)
RETURNS TABLE (donor text, collected_at timestamptz, would text, status text, reasons jsonb,
               entered_late interval, needs_reason boolean, duplicate_of text[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.donor;
    i record;
    j record;
BEGIN
    PERFORM fmtbank.require_role('checking donations', 'technician', 'quality');
    d := fmtbank.donor_get(p_code);
    i := fmtbank.donation_input(p_collected, p_mass, p_bristol, false);
    SELECT * INTO j FROM fmtbank.donation_judge(d.id, i.collected, i.mass, i.bristol, clock_timestamp());
    RETURN QUERY SELECT d.code, i.collected,
        CASE WHEN j.needs_reason AND fmtbank.acting_reason(false, NULL) IS NULL THEN 'reason'
             WHEN j.duplicate_of IS NOT NULL THEN 'duplicate'
             ELSE j.status END,
        j.status, j.reasons, j.late, j.needs_reason, j.duplicate_of;
END $$;

-- "fmtbank donation add": registers the lot; status 'quarantine', or 'rejected' with its reasons
-- (then message/detail/hint say why, and the caller reports the refusal). Refused with nothing
-- recorded: entered more than max_entry_hours after the collection without --reason (FB001), a
-- probable duplicate (FB003) unless p_not_duplicate with --reason. The reason is kept with the
-- lot (entry_reason) when one was required.
CREATE OR REPLACE FUNCTION fmtbank.donation_add(p_code text, p_collected text, p_mass text, p_bristol text,
                                                p_not_duplicate boolean DEFAULT false)
RETURNS TABLE (lot_id text, status text, message text, detail text, hint text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.donor;
    i record;
    j record;
    known timestamptz;
    why text;
    v_id text;
BEGIN
    PERFORM fmtbank.require_role('registering donations', 'technician');
    d := fmtbank.donor_get(p_code);
    IF EXISTS (SELECT 1 FROM fmtbank.trial_placebo_donor pd WHERE pd.donor = d.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot register a donation of "%s": it is a placebo preparation', d.code),
            HINT = 'Register its lots with "fmtbank donation add CODE --placebo --trial T".';
    END IF;
    i := fmtbank.donation_input(p_collected, p_mass, p_bristol, true);
    -- one registration per donor at a time: the duplicate check sees the other's lot
    PERFORM 1 FROM fmtbank.donor WHERE id = d.id FOR UPDATE;
    known := clock_timestamp();
    SELECT * INTO j FROM fmtbank.donation_judge(d.id, i.collected, i.mass, i.bristol, known);
    IF j.needs_reason THEN
        why := fmtbank.acting_reason(true, format(
            'registering a donation entered %s after its collection (more than max_entry_hours, %s h)',
            justify_hours(date_trunc('second', j.late)), fmtbank.num_text(j.max_entry_hours)));
    END IF;
    IF coalesce(p_not_duplicate, false) THEN
        why := fmtbank.acting_reason(true, 'registering a donation with --not-duplicate');
    END IF;
    IF j.duplicate_of IS NOT NULL AND NOT coalesce(p_not_duplicate, false) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot register the donation of donor "%s" collected at %s: probable duplicate of %s',
                             d.code, fmtbank.ts_text(i.collected), array_to_string(j.duplicate_of, ', ')),
            DETAIL = format('Lot %s of the same donor was collected within %s minutes (duplicate_donation_minutes); nothing was recorded.',
                            array_to_string(j.duplicate_of, ', '), fmtbank.num_text(j.duplicate_minutes)),
            HINT = 'If it is a second donation, give --not-duplicate --reason TEXT.';
    END IF;
    v_id := fmtbank.lot_next_id(i.collected);
    INSERT INTO fmtbank.lot (lot_id, donor_id, collected_at, mass_g, bristol, status,
                             reject_reasons, rule_set_version, created_at, entry_reason, not_duplicate)
    VALUES (v_id, d.id, i.collected, i.mass, i.bristol, j.status, j.reasons,
            fmtbank.rule_set_version_at(i.collected), known, why, coalesce(p_not_duplicate, false));
    IF j.status = 'quarantine' THEN
        RETURN QUERY SELECT v_id, j.status, NULL::text, NULL::text, NULL::text;
    ELSE
        RETURN QUERY SELECT v_id, j.status,
            format('cannot accept the donation of donor "%s": lot "%s" is recorded as rejected',
                   d.code, v_id),
            (SELECT string_agg(format('%s: %s', r ->> 'rule', r ->> 'detail'), E'\n')
             FROM jsonb_array_elements(j.reasons) r),
            'Label the material with the lot ID and discard it.'::text;
    END IF;
END $$;

-- "fmtbank donation process": N dose aliquots plus the retained sample (index 000), status
-- 'quarantine', expiry = processed + shelf_life_days. Returns the new aliquots (doses first, the
-- retained sample last); when processed too late the lot becomes 'rejected' and one row with a
-- NULL aliquot_id carries the refusal.
CREATE OR REPLACE FUNCTION fmtbank.donation_process(p_lot text, p_processed text, p_doses text)
RETURNS TABLE (aliquot_id text, retained boolean, message text, detail text, hint text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l fmtbank.lot;
    d fmtbank.donor;
    t timestamptz;
    n integer;
    dose numeric;
    max_h numeric;
    body text;
BEGIN
    PERFORM fmtbank.require_role('processing donations', 'technician');
    l := fmtbank.lot_get(p_lot);
    SELECT * INTO l FROM fmtbank.lot WHERE id = l.id FOR UPDATE;
    SELECT * INTO d FROM fmtbank.donor WHERE id = l.donor_id;
    t := fmtbank.parse_past_ts(p_processed, '--processed');
    IF p_doses IS NULL OR btrim(p_doses) !~ '^[0-9]{1,3}$' OR btrim(p_doses)::int NOT BETWEEN 1 AND 999 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --doses "%s"', coalesce(p_doses, '')),
            HINT = 'Give the number of doses, 1 to 999.';
    END IF;
    n := btrim(p_doses)::int;
    IF l.processed_at IS NOT NULL AND l.status <> 'rejected' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot process lot "%s": it was already processed at %s', l.lot_id,
                             fmtbank.ts_text(l.processed_at));
    END IF;
    IF l.status = 'rejected' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot process lot "%s": it is rejected', l.lot_id),
            DETAIL = (SELECT string_agg(format('%s: %s', r ->> 'rule', r ->> 'detail'), E'\n')
                      FROM jsonb_array_elements(l.reject_reasons) r);
    ELSIF l.status <> 'quarantine' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot process lot "%s": it is %s', l.lot_id, l.status);
    END IF;
    IF t < l.collected_at THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('--processed "%s" is before the collection of lot "%s"', p_processed, l.lot_id),
            DETAIL = format('The lot was collected at %s.', fmtbank.ts_text(l.collected_at));
    END IF;
    dose := fmtbank.rule_value('dose_mass_g', t);
    IF n * dose > l.mass_g THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot process lot "%s" into %s doses: %s g are needed, the lot has %s g',
                             l.lot_id, n, fmtbank.num_text(n * dose), fmtbank.num_text(l.mass_g)),
            DETAIL = format('One dose is %s g (rule dose_mass_g).', fmtbank.num_text(dose)),
            HINT = format('At most %s doses can be made from this lot.', floor(l.mass_g / dose));
    END IF;
    max_h := fmtbank.rule_value('max_processing_hours', t);
    IF t - l.collected_at > max_h * interval '1 hour' THEN
        UPDATE fmtbank.lot SET status = 'rejected', processed_at = t,
               processed_rule_set_version = fmtbank.rule_set_version_at(t),
               reject_reasons = reject_reasons || jsonb_build_array(jsonb_build_object(
                   'rule', 'max_processing_hours',
                   'detail', format('Processed %s after collection (%s to %s); the limit is %s h.',
                                    justify_hours(date_trunc('minute', t - l.collected_at)),
                                    fmtbank.ts_text(l.collected_at), fmtbank.ts_text(t),
                                    fmtbank.num_text(max_h))))
        WHERE id = l.id;
        RETURN QUERY SELECT NULL::text, NULL::boolean,
            format('cannot process lot "%s": processed more than %s h after collection; the lot is recorded as rejected',
                   l.lot_id, fmtbank.num_text(max_h)),
            format('Collected at %s, processed at %s.', fmtbank.ts_text(l.collected_at), fmtbank.ts_text(t)),
            'Discard the material; nothing can be issued from this lot.'::text;
        RETURN;
    END IF;

    body := left(l.lot_id, -1);
    INSERT INTO fmtbank.aliquot (aliquot_id, lot, idx, retained, expires_at, volume_ml, glycerol_percent)
    SELECT fmtbank.with_check(body || '-' || lpad(i::text, 3, '0')), l.id, i, i = 0,
           t + fmtbank.rule_value('shelf_life_days', t) * interval '1 day',
           fmtbank.rule_value('dose_volume_ml', t), fmtbank.rule_value('glycerol_percent', t)
    FROM generate_series(0, n) i;
    UPDATE fmtbank.lot SET processed_at = t, doses = n,
           processed_rule_set_version = fmtbank.rule_set_version_at(t)
    WHERE id = l.id;
    RETURN QUERY SELECT a.aliquot_id, a.retained, NULL::text, NULL::text, NULL::text
                 FROM fmtbank.aliquot a WHERE a.lot = l.id ORDER BY a.retained, a.idx;
END $$;

-- Records a label print (the first for a tube) or reprint for each ID, in order, and returns what
-- the label shows. Refused for discarded tubes and the tubes of a rejected lot; every ID is
-- checked before anything is recorded.
CREATE OR REPLACE FUNCTION fmtbank.label_print(p_ids text[], p_target text)
RETURNS TABLE (aliquot_id text, lot text, donor text, processed date, expires date, status text,
               retained boolean, kind text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ids uuid[] := '{}';
    a fmtbank.aliquot;
    p text;
BEGIN
    PERFORM fmtbank.require_role('printing labels', 'technician', 'quality');
    IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'no aliquot IDs to print';
    END IF;
    FOREACH p IN ARRAY p_ids LOOP
        a := fmtbank.aliquot_get(p);
        IF a.status = 'discarded' THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot print a label for "%s": it is discarded', a.aliquot_id);
        END IF;
        IF EXISTS (SELECT 1 FROM fmtbank.lot l WHERE l.id = a.lot AND l.status = 'rejected') THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot print a label for "%s": its lot is rejected', a.aliquot_id);
        END IF;
        ids := ids || a.id;
    END LOOP;
    RETURN QUERY
    WITH wanted AS (SELECT u.id, u.ord FROM unnest(ids) WITH ORDINALITY AS u(id, ord)),
    ins AS (
        INSERT INTO fmtbank.label_print AS lp (aliquot, kind, target)
        SELECT w.id,
               CASE WHEN EXISTS (SELECT 1 FROM fmtbank.label_print x WHERE x.aliquot = w.id)
                         OR EXISTS (SELECT 1 FROM wanted w2 WHERE w2.id = w.id AND w2.ord < w.ord)
                    THEN 'reprint' ELSE 'print' END,
               coalesce(nullif(btrim(p_target), ''), 'stdout')
        FROM wanted w ORDER BY w.ord
        RETURNING lp.aliquot, lp.kind AS print_kind, lp.id)
    SELECT v.id, v.lot, v.donor, v.processed_at::date, v.expires, v.status, v.retained, ins.print_kind
    FROM ins JOIN fmtbank.aliquot_view v ON v.uuid = ins.aliquot
    ORDER BY ins.id;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.num_text(numeric),
    fmtbank.ts_text(timestamp with time zone),
    fmtbank.parse_past_ts(text, text),
    fmtbank.donation_check(text, text, text, text),
    fmtbank.donation_add(text, text, text, text, boolean),
    fmtbank.donation_process(text, text, text),
    fmtbank.label_print(text[], text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): year_next_id, lot_next_id, donation_input, donation_judge
