-- prelude.sql: helpers for the SQL regression files (tests/sql/run.sh includes it at the top of
-- each file's transaction, so everything here is rolled back with the file). Expected output must
-- hold on any day: dates are printed relative to today ("d-10", "d+0") and years relative to this
-- year ("Y-17"), by rel(); expectations are written the same way and resolved by resolve().
SET client_min_messages = warning;

-- resolve('until d+1, born Y-17'): relative markers to absolute dates and years.
CREATE FUNCTION pg_temp.resolve(p text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text[]; r text := p;
BEGIN
    FOR m IN SELECT regexp_matches(p, '\md([+-][0-9]+)\M', 'g') LOOP
        r := replace(r, 'd' || m[1], (current_date + m[1]::integer)::text);
    END LOOP;
    FOR m IN SELECT regexp_matches(r, '\mY([+-][0-9]+)', 'g') LOOP
        r := replace(r, 'Y' || m[1],
                     (extract(year FROM current_date)::integer + m[1]::integer)::text);
    END LOOP;
    RETURN r;
END $$;

-- rel('deferred until 2026-12-05, 61 in 2026'): the inverse, for printing.
CREATE FUNCTION pg_temp.rel(p text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text[]; r text := p;
BEGIN
    FOR m IN SELECT regexp_matches(p, '\m([0-9]{4}-[0-9]{2}-[0-9]{2})\M', 'g') LOOP
        r := replace(r, m[1], 'd' || to_char(m[1]::date - current_date, 'SG9999FM'));
    END LOOP;
    RETURN pg_temp.rel_years(r);
END $$;

-- rel_years('deferred until 2027-01-01, 17 in 2026'): years only, for what is fixed to the
-- calendar year (the age rule's "until 1 January"), which no day offset can print stably.
CREATE FUNCTION pg_temp.rel_years(p text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text[]; r text := p; y integer := extract(year FROM current_date)::integer;
BEGIN
    FOR m IN SELECT DISTINCT regexp_matches(p, '\m((19|20)[0-9]{2})(?=\M|-)', 'g') LOOP
        r := regexp_replace(r, '\m' || m[1] || '(?=\M|-)', 'Y' || to_char(m[1]::integer - y, 'SG99FM'), 'g');
    END LOOP;
    RETURN r;
END $$;

-- The default catalog's tests, written from domain.md (not read from the schema, so that the
-- regression also checks the shipped defaults): the qualitative ones, then the numeric ones with
-- an acceptable value and the unit the lab reports.
CREATE FUNCTION pg_temp.qualitative_tests() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['HIV', 'HAV_IGM', 'HBSAG', 'ANTI_HBC', 'HCV_AB', 'HEV_IGM', 'HTLV', 'SYPHILIS',
                 'CMV_IGM', 'EBV_IGM', 'STRONGY', 'EHIST_SER', 'CDIFF', 'SALM', 'SHIG', 'CAMPY',
                 'YERS', 'STEC', 'EPEC', 'NORO', 'ROTA', 'ADENO', 'ASTRO', 'SAPO', 'SARS2',
                 'GIARDIA', 'CRYPTO', 'CYCLO', 'ISOSP', 'MICROSP', 'EHIST_AG', 'DFRAG', 'HELMINTH',
                 'HPYLORI', 'ESBL', 'CRE', 'VRE', 'MRSA']
$$;
CREATE FUNCTION pg_temp.blood_excluding_tests() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['HIV', 'HBSAG', 'ANTI_HBC', 'HCV_AB', 'HTLV', 'SYPHILIS']
$$;

-- result(code, test, collected, result[, unit]): one result through the same function as
-- "fmtbank result add"; returns 1 (the helpers below too, for counting), raises its refusal.
CREATE FUNCTION pg_temp.result(p_code text, p_test text, p_day date, p_result text,
                               p_unit text DEFAULT NULL, p_lab text DEFAULT 'Lab B')
RETURNS integer LANGUAGE sql AS $$
    SELECT 1 FROM fmtbank.result_add(p_code, p_test, p_day::text, p_result, p_unit, p_lab)
$$;

-- panel(code, collected, omitted tests): an acceptable full panel, set-based (what a result
-- import stores), every test but the omitted ones.
CREATE FUNCTION pg_temp.panel(p_code text, p_day date, p_omit text[] DEFAULT '{}')
RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fmtbank.result (donor_id, test_no, collected, result, value, unit, lab)
    SELECT d.id, t.test_no, p_day, v.res, v.val, CASE WHEN t.kind = 'numeric' THEN t.unit END,
           'Lab A'
    FROM fmtbank.donor d
    CROSS JOIN (SELECT q, 'negative', NULL::numeric FROM unnest(pg_temp.qualitative_tests()) q
                UNION ALL VALUES ('CRP', '1.5', 1.5), ('CALPRO', '20', 20)) v(code, res, val)
    JOIN fmtbank.screening_test t ON t.code = v.code
    WHERE d.code = p_code AND v.code <> ALL (p_omit);
    RETURN 1;
END $$;

-- full_q(code, date, 'item=value ...'): a clear full questionnaire (every yes/no item no, no
-- dates, BMI 23, PHQ-9 3, GAD-7 2) with the given answers changed (values may be relative dates),
-- through the same function as "fmtbank questionnaire record".
CREATE FUNCTION pg_temp.full_q(p_code text, p_date date, p_changes text DEFAULT '')
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE a jsonb := '{"bmi": "23", "phq9": "3", "gad7": "2"}'; kv text;
BEGIN
    SELECT a || jsonb_object_agg(i, 'no') INTO a
    FROM unnest(ARRAY['infection_history', 'transplant_recipient', 'prion_risk',
                      'chronic_gi_disease', 'gi_cancer_polyposis', 'autoimmune_atopic',
                      'neurological_disease', 'psychiatric_condition', 'metabolic_syndrome',
                      'chronic_pain_syndrome', 'malignancy', 'chronic_ppi',
                      'illicit_drug_injection', 'healthcare_worker', 'regular_outpatient_care']) i;
    SELECT a || jsonb_object_agg(i, '') INTO a
    FROM unnest(ARRAY['antibiotics_last', 'antiviral_antifungal_last', 'immunosuppressant_last',
                      'tattoo_piercing_acupuncture_last', 'needlestick_last',
                      'blood_products_last', 'hiv_hepatitis_exposure_last', 'high_risk_sex_last',
                      'tropical_travel_last', 'live_vaccine_last', 'hospitalisation_last',
                      'medical_tourism_last', 'gi_infection_last', 'covid_last',
                      'mpox_exposure_last']) i;
    FOREACH kv IN ARRAY coalesce(regexp_split_to_array(nullif(btrim(p_changes), ''), '\s+'), '{}') LOOP
        a := a || jsonb_build_object(split_part(kv, '=', 1), pg_temp.resolve(split_part(kv, '=', 2)));
    END LOOP;
    RETURN pg_temp.questionnaire(p_code, p_date, 'full', a);
END $$;

-- short_q(code, date, 'item ...'): a donation-day questionnaire, the given items yes, others no.
CREATE FUNCTION pg_temp.short_q(p_code text, p_date date, p_yes text DEFAULT '')
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE a jsonb;
BEGIN
    SELECT jsonb_object_agg(i, CASE WHEN i = ANY (regexp_split_to_array(p_yes, '\s+'))
                                    THEN 'yes' ELSE 'no' END) INTO a
    FROM unnest(ARRAY['new_gi_symptoms', 'fever_or_illness', 'antibiotics_since_last',
                      'travel_since_last', 'sick_contacts', 'new_medication']) i;
    RETURN pg_temp.questionnaire(p_code, p_date, 'short', a);
END $$;

-- followup_q(code, date, 'item item'): the follow-up questionnaire after a donation, every answer
-- no but the items named.
CREATE FUNCTION pg_temp.followup_q(p_code text, p_date date, p_yes text DEFAULT '')
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE a jsonb;
BEGIN
    SELECT jsonb_object_agg(i.code, CASE WHEN i.code = ANY (regexp_split_to_array(p_yes, '\s+'))
                                         THEN 'yes' ELSE 'no' END) INTO a
    FROM fmtbank.question_item i WHERE i.questionnaire = 'followup';
    RETURN pg_temp.questionnaire(p_code, p_date, 'followup', a);
END $$;

CREATE FUNCTION pg_temp.questionnaire(p_code text, p_date date, p_kind text, p_answers jsonb)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE bad text;
BEGIN
    SELECT string_agg(format('line %s: %s', r.line, r.message), '; ') INTO bad
    FROM fmtbank.questionnaire_record(
             p_code, p_date::text, p_kind, NULL,
             (SELECT jsonb_agg(jsonb_build_object('line', n + 1, 'item', e.key, 'answer', e.value)
                               ORDER BY e.key)
              FROM jsonb_each_text(p_answers) WITH ORDINALITY e(key, value, n))) r
    WHERE r.message IS NOT NULL;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'questionnaire of % refused: %', p_code, bad;
    END IF;
    RETURN 1;
END $$;

-- donor(code): a donor born in 1990, as "fmtbank donor add".
CREATE FUNCTION pg_temp.donor(p_code text) RETURNS integer LANGUAGE sql AS $$
    SELECT 1 FROM fmtbank.donor_add(p_code, '1990', 'F');
    -- a signed consent for every use, long before any donation of the files (150_consent.sql)
    SELECT 1 FROM fmtbank.donor_consent_sign(p_code, 'test-1', '2020-01-02', 'clinical,research,trial', NULL);
$$;

-- lot(code, days ago[, doses, donation-day questionnaire, its yes items]): a donation collected
-- at 08:30 that day (a superuser INSERT: "donation add" judges eligibility with what had been
-- recorded at the collection time, and the test database did not exist then), with its
-- donation-day questionnaire, processed 90 minutes later into DOSES doses (0: not processed).
-- A clear follow-up questionnaire 28 days after collection once that day has come (unless
-- p_followup is false). Returns the lot ID.
CREATE FUNCTION pg_temp.lot(p_code text, p_ago integer, p_doses integer DEFAULT 3,
                            p_short boolean DEFAULT true, p_yes text DEFAULT '',
                            p_followup boolean DEFAULT true)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE id text; day date := current_date - p_ago;
BEGIN
    IF p_short THEN
        PERFORM pg_temp.short_q(p_code, day, p_yes);
    END IF;
    INSERT INTO fmtbank.lot (lot_id, donor_id, collected_at, mass_g, bristol, rule_set_version)
    SELECT fmtbank.lot_next_id(now()), d.id, day + time '08:30', 200, 4, 1
    FROM fmtbank.donor d WHERE d.code = p_code
    RETURNING lot_id INTO id;
    IF p_doses > 0 THEN
        PERFORM * FROM fmtbank.donation_process(id, (day + time '10:00')::text, p_doses::text);
    END IF;
    -- the post-donation health check, followup_min_days after collection, once that day has come
    IF p_followup AND p_ago >= 28 AND NOT EXISTS (SELECT 1 FROM fmtbank.questionnaire q JOIN fmtbank.donor d ON d.id = q.donor_id
                                   WHERE d.code = p_code AND q.kind = 'followup' AND q.q_date = day + 28) THEN
        PERFORM pg_temp.followup_q(p_code, day + 28);
    END IF;
    RETURN id;
END $$;

-- lot_rules(lot): the blocking rules "lot show" gives, comma-separated in display order.
CREATE FUNCTION pg_temp.lot_rules(p_lot text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(e ->> 'rule', ',' ORDER BY o), '')
    FROM fmtbank.lot_show(p_lot) s, jsonb_array_elements(s.blocking) WITH ORDINALITY x(e, o)
$$;

-- lot_details(lot): every blocking rule with its detail (relative dates, case numbers as #),
-- one per line.
CREATE FUNCTION pg_temp.lot_details(p_lot text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg((e ->> 'rule') || ': '
                               || regexp_replace(pg_temp.rel(e ->> 'detail'), 'case (C[0-9]{8}[0-9A-Z*]|[0-9]+)', 'case #', 'g'),
                               E'\n' ORDER BY o), '')
    FROM fmtbank.lot_show(p_lot) s, jsonb_array_elements(s.blocking) WITH ORDINALITY x(e, o)
$$;

-- as_reason(text): the --reason of the following calls in this transaction.
CREATE FUNCTION pg_temp.as_reason(p text) RETURNS integer LANGUAGE sql AS $$
    SELECT 1 FROM set_config('fmtbank.reason', p, true)
$$;

-- try(sql): runs a statement; 'done', or its error message with case, lot and aliquot IDs masked
-- (C#, L#, L#-001) so that the expected output holds in any year.
CREATE FUNCTION pg_temp.try(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE p_sql;
    RETURN 'done';
EXCEPTION WHEN OTHERS THEN
    RETURN regexp_replace(regexp_replace(SQLERRM, 'C[0-9]{8}[0-9A-Z*]', 'C#', 'g'),
                          'L[0-9]{8}(-[0-9]{3})?[0-9A-Z*]', 'L#\1', 'g');
END $$;

-- plan(sql): the plan of a statement as text (EXPLAIN, costs off), to check its shape.
CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r record; t text := '';
BEGIN
    FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP t := t || r."QUERY PLAN" || E'\n'; END LOOP;
    RETURN t;
END $$;
