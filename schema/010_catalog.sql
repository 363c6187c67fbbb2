-- 010_catalog: the versioned rule set (every number a rule uses, each with its source), the
-- catalog of screening tests and the questionnaire items, all as data (domain.md).
--
-- Rule set: rule_param names the parameters; rule_set lists the versions, each effective from a
-- moment (version 1, the shipped defaults, from -infinity); rule_param_value holds the value a
-- version gave a parameter (only the changed ones). The value in force at p_at is the row of the
-- newest version effective at p_at. "fmtbank rules set" adds a version effective from now, so a
-- decision made at any moment can be re-derived with the rules then in force.

-- ---------------------------------------------------------------- rule set
CREATE TABLE fmtbank.rule_param (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)?$'),
    unit        text NOT NULL,
    min_value   numeric NOT NULL,
    max_value   numeric NOT NULL,
    integral    boolean NOT NULL DEFAULT true,
    description text NOT NULL,
    source      text NOT NULL,
    sort_order  integer NOT NULL UNIQUE,
    CHECK (min_value <= max_value)
);
SELECT fmtbank.audit_enable('fmtbank.rule_param', 'name');

CREATE TABLE fmtbank.rule_set (
    version        integer PRIMARY KEY CHECK (version >= 1),
    effective_from timestamptz NOT NULL UNIQUE,
    changed        text REFERENCES fmtbank.rule_param,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by     text NOT NULL DEFAULT session_user,
    reason         text NOT NULL CHECK (btrim(reason) <> '')
);
SELECT fmtbank.audit_enable('fmtbank.rule_set', 'version');

CREATE TABLE fmtbank.rule_param_value (
    name    text NOT NULL REFERENCES fmtbank.rule_param,
    version integer NOT NULL REFERENCES fmtbank.rule_set,
    value   numeric NOT NULL,
    PRIMARY KEY (name, version)
);
SELECT fmtbank.audit_enable('fmtbank.rule_param_value', 'name');

INSERT INTO fmtbank.rule_set (version, effective_from, reason)
VALUES (1, '-infinity', 'defaults shipped with fmtbank (domain.md)');

INSERT INTO fmtbank.rule_param (name, unit, min_value, max_value, integral, description, source, sort_order)
VALUES
 ('screen_validity_days', 'days', 1, 3650, true,
  'a screening result (and the full questionnaire) supports eligibility for this many days after collection',
  'OpenBiome 60-day screening cycle [OB]', 10),
 ('pre_window_days', 'days', 0, 3650, true,
  'a lot needs a complete acceptable panel collected within this many days before its collection',
  'OpenBiome [OB]', 20),
 ('post_window_days', 'days', 0, 3650, true,
  'a lot needs a complete acceptable panel collected within this many days after its collection',
  'OpenBiome [OB]; Microbiome 2015 [MB15]', 30),
 ('lookback_min_days', 'days', 0, 3650, true,
  'an unacceptable result holds lots collected since the last acceptable result of that test, and at least this far back',
  'FDA SARS-CoV-2 protections for FMT, 2020 [FDA20b]', 40),
 ('max_processing_hours', 'hours', 0, 72, false,
  'longest time from collection to frozen', 'UEG stool banking model, Table 3 [UEG21-T3]', 50),
 ('dose_mass_g', 'g', 1, 1000, false,
  'stool per dose (50 g to 200 mL; 25-30 g to 100 mL)', 'UEG stool banking model, Table 3 [UEG21-T3]', 60),
 ('dose_volume_ml', 'mL', 1, 5000, false,
  'volume of one dose', 'UEG stool banking model, Table 3 [UEG21-T3]', 70),
 ('glycerol_percent', '%', 0, 100, false,
  'glycerol in the 0.9% saline cryoprotectant', 'UEG stool banking model, Table 3 [UEG21-T3]', 80),
 ('bristol_min', 'Bristol type', 1, 7, true,
  'lowest acceptable Bristol stool form', 'site choice (unverified)', 90),
 ('bristol_max', 'Bristol type', 1, 7, true,
  'highest acceptable Bristol stool form', 'site choice (unverified)', 100),
 ('shelf_life_days', 'days', 1, 36500, true,
  'shelf life at -80 C in 10% glycerol', 'UEG stool banking model, Table 3 [UEG21-T3]', 110),
 ('thawed_use_hours', 'hours', 0, 72, false,
  'thawed material is used within this time and never refrozen', 'European consensus 2017 [EC17] (unverified)', 120),
 ('record_retention_years', 'years', 30, 1000, true,
  'records are kept at least this long after clinical use or expiry; nothing is deleted',
  'EU 2004/23/EC Art 8, 2006/86/EC Art 9', 130),
 ('min_age', 'years', 0, 130, true,
  'youngest donor age (age reached in the calendar year, from the birth year)',
  'UK BSG/HIS summary [S14b] (stricter: 18-40/45)', 200),
 ('max_age', 'years', 0, 130, true,
  'oldest donor age (age reached in the calendar year, from the birth year)',
  'UK BSG/HIS summary [S14b] (stricter: 18-40/45)', 210),
 ('bmi_min', 'kg/m2', 10, 80, false, 'lowest clear body-mass index',
  'FMT Workgroup 2013 [S27]; Gut Bugs trial [S30]', 220),
 ('bmi_max', 'kg/m2', 10, 80, false, 'highest clear body-mass index (25 in EC17-T2)',
  'FMT Workgroup 2013 [S27]; Gut Bugs trial [S30]', 230),
 ('phq9_max', 'score', 0, 27, true,
  'highest clear PHQ-9 score (clear below 10; 10 or more = moderate depression)',
  'site choice: the instrument''s own cut-off, Kroenke et al. 2001 [PHQ9]', 240),
 ('gad7_max', 'score', 0, 21, true,
  'highest clear GAD-7 score (clear below 10; 10 or more = moderate anxiety)',
  'site choice: the instrument''s own cut-off, Spitzer et al. 2006 [GAD7]', 250),
 ('limit.CRP', 'mg/L', 0, 1000, false, 'CRP is acceptable at or below this value',
  'J Clin Microbiol 2022 Table 2 [JCM22-T2]', 300),
 ('limit.CALPRO', 'µg/g', 0, 10000, false, 'faecal calprotectin is acceptable below this value',
  'BMJ Paediatr Open 2020 Table 2 [S12]', 310),
 ('defer_days.antibiotics_last', 'days', 0, 3650, true, 'deferral after the last antibiotics',
  'most sources (6 weeks UK summary; 180 Israel)', 400),
 ('defer_days.antiviral_antifungal_last', 'days', 0, 3650, true,
  'deferral after the last antiviral or antifungal treatment', 'Pouchitis FMT trial protocol [S26]', 410),
 ('defer_days.immunosuppressant_last', 'days', 0, 3650, true,
  'deferral after the last immunosuppressant', 'European consensus 2017, Table 2 [EC17-T2]', 420),
 ('defer_days.tattoo_piercing_acupuncture_last', 'days', 0, 3650, true,
  'deferral after a tattoo, piercing or acupuncture', 'EC17-T2; Israel MoH 2022 [S24]; He et al. 2021 [S25]', 430),
 ('defer_days.needlestick_last', 'days', 0, 3650, true, 'deferral after a needlestick injury',
  'EC17-T2 (365 in S25)', 440),
 ('defer_days.blood_products_last', 'days', 0, 3650, true,
  'deferral after receiving blood products', 'EC17-T2; He et al. 2021 [S25]', 450),
 ('defer_days.hiv_hepatitis_exposure_last', 'days', 0, 3650, true,
  'deferral after a known exposure to HIV or hepatitis', 'He et al. 2021 [S25]; Bakken et al. 2011 [UTD]', 460),
 ('defer_days.high_risk_sex_last', 'days', 0, 3650, true,
  'deferral after high-risk sexual behaviour', 'He et al. 2021 [S25]', 470),
 ('defer_days.tropical_travel_last', 'days', 0, 3650, true,
  'deferral after travel to tropical or high-risk regions', 'EC17-T2; S24; S25', 480),
 ('defer_days.live_vaccine_last', 'days', 0, 3650, true, 'deferral after a live attenuated vaccine',
  'EC17-T2 (90 Israel, 56 China)', 490),
 ('defer_days.hospitalisation_last', 'days', 0, 3650, true,
  'deferral after a hospitalisation or discharge from long-term care',
  'site choice: FDA 2019 [FDA19] names the group, not the period', 500),
 ('defer_days.medical_tourism_last', 'days', 0, 3650, true,
  'deferral after medical treatment abroad', 'site choice: FDA 2019 [FDA19]', 510),
 ('defer_days.gi_infection_last', 'days', 0, 3650, true,
  'deferral after a gastrointestinal infection (diarrhoea, fever, vomiting)', 'He et al. 2021 [S25]', 520),
 ('defer_days.covid_last', 'days', 0, 3650, true,
  'deferral after COVID-19 infection, symptoms or exposure', 'FDA 2020 [FDA20b]', 530),
 ('defer_days.mpox_exposure_last', 'days', 0, 3650, true,
  'deferral after an mpox exposure', 'site choice: FDA 2022 [FDA22] requires the question', 540),
 ('defer_days.new_gi_symptoms', 'days', 0, 3650, true,
  'deferral after a yes on the donation day: new gastrointestinal symptoms', 'domain.md donation-day questionnaire', 600),
 ('defer_days.fever_or_illness', 'days', 0, 3650, true,
  'deferral after a yes on the donation day: fever or illness', 'domain.md donation-day questionnaire', 610),
 ('defer_days.antibiotics_since_last', 'days', 0, 3650, true,
  'deferral after a yes on the donation day: antibiotics since the last donation', 'domain.md donation-day questionnaire', 620),
 ('defer_days.travel_since_last', 'days', 0, 3650, true,
  'deferral after a yes on the donation day: travel since the last donation', 'domain.md donation-day questionnaire', 630),
 ('defer_days.sick_contacts', 'days', 0, 3650, true,
  'deferral after a yes on the donation day: sick contacts', 'domain.md donation-day questionnaire', 640),
 ('defer_days.new_medication', 'days', 0, 3650, true,
  'deferral after a yes on the donation day: new medication',
  'site choice (domain.md donation-day questionnaire)', 650);

INSERT INTO fmtbank.rule_param_value (name, version, value)
SELECT v.name, 1, v.value
FROM (VALUES ('screen_validity_days', 60), ('pre_window_days', 60), ('post_window_days', 60),
             ('lookback_min_days', 28), ('max_processing_hours', 6), ('dose_mass_g', 50),
             ('dose_volume_ml', 200), ('glycerol_percent', 10), ('bristol_min', 3),
             ('bristol_max', 5), ('shelf_life_days', 730), ('thawed_use_hours', 6),
             ('record_retention_years', 30), ('min_age', 18), ('max_age', 60),
             ('bmi_min', 18.5), ('bmi_max', 30), ('phq9_max', 9), ('gad7_max', 9),
             ('limit.CRP', 5), ('limit.CALPRO', 50),
             ('defer_days.antibiotics_last', 90), ('defer_days.antiviral_antifungal_last', 90),
             ('defer_days.immunosuppressant_last', 90),
             ('defer_days.tattoo_piercing_acupuncture_last', 180),
             ('defer_days.needlestick_last', 180), ('defer_days.blood_products_last', 365),
             ('defer_days.hiv_hepatitis_exposure_last', 365), ('defer_days.high_risk_sex_last', 365),
             ('defer_days.tropical_travel_last', 180), ('defer_days.live_vaccine_last', 180),
             ('defer_days.hospitalisation_last', 180), ('defer_days.medical_tourism_last', 180),
             ('defer_days.gi_infection_last', 28), ('defer_days.covid_last', 28),
             ('defer_days.mpox_exposure_last', 21),
             ('defer_days.new_gi_symptoms', 28), ('defer_days.fever_or_illness', 28),
             ('defer_days.antibiotics_since_last', 90), ('defer_days.travel_since_last', 180),
             ('defer_days.sick_contacts', 28), ('defer_days.new_medication', 28))
     AS v(name, value);

-- Pairs of parameters where the first must not exceed the second.
CREATE TABLE fmtbank.rule_param_order (
    low  text NOT NULL REFERENCES fmtbank.rule_param,
    high text NOT NULL REFERENCES fmtbank.rule_param,
    PRIMARY KEY (low, high)
);
INSERT INTO fmtbank.rule_param_order VALUES
    ('min_age', 'max_age'), ('bmi_min', 'bmi_max'), ('bristol_min', 'bristol_max');

CREATE FUNCTION fmtbank.rule_set_version_at(p_at timestamptz) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT max(version) FROM fmtbank.rule_set WHERE effective_from <= p_at
$$;

-- Every parameter with the value in force at p_at and the version that set it.
CREATE FUNCTION fmtbank.rule_params_at(p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (name text, value numeric, unit text, set_in_version integer, set_from timestamptz,
               description text, source text, sort_order integer, rule_set_version integer)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT DISTINCT ON (v.name) v.name, v.value, p.unit, v.version, s.effective_from,
           p.description, p.source, p.sort_order, fmtbank.rule_set_version_at(p_at)
    FROM fmtbank.rule_param_value v
    JOIN fmtbank.rule_param p ON p.name = v.name
    JOIN fmtbank.rule_set s ON s.version = v.version
    WHERE v.version <= fmtbank.rule_set_version_at(p_at)
    ORDER BY v.name, v.version DESC
$$;

-- The value of one parameter in force at p_at (FB002 for an unknown name).
CREATE FUNCTION fmtbank.rule_value(p_name text, p_at timestamptz DEFAULT clock_timestamp())
RETURNS numeric LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
DECLARE v numeric;
BEGIN
    SELECT x.value INTO v FROM fmtbank.rule_param_value x
    WHERE x.name = p_name AND x.version <= fmtbank.rule_set_version_at(p_at)
    ORDER BY x.version DESC LIMIT 1;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT 1 FROM fmtbank.rule_param WHERE name = p_name) THEN
            RAISE EXCEPTION USING ERRCODE = 'FB002',
                MESSAGE = format('rule parameter "%s" not found', p_name),
                HINT = 'Run "fmtbank catalog rules" for the list.';
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('rule parameter "%s" had no value at %s', p_name, p_at);
    END IF;
    RETURN v;
END $$;

-- For later migrations that need a new parameter: defines it with its default as part of the
-- shipped rule set (version 1). Not for changing a value: that is rules_set.
CREATE FUNCTION fmtbank.rule_param_define(p_name text, p_value numeric, p_unit text,
                                          p_min numeric, p_max numeric, p_integral boolean,
                                          p_description text, p_source text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog AS $$
    INSERT INTO fmtbank.rule_param (name, unit, min_value, max_value, integral, description,
                                    source, sort_order)
    VALUES (p_name, p_unit, p_min, p_max, p_integral, p_description, p_source,
            (SELECT coalesce(max(sort_order), 0) + 10 FROM fmtbank.rule_param));
    INSERT INTO fmtbank.rule_param_value (name, version, value) VALUES (p_name, 1, p_value);
$$;

-- "fmtbank rules set": a new rule-set version, effective from now, changing one parameter.
CREATE FUNCTION fmtbank.rules_set(p_name text, p_value text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    p fmtbank.rule_param;
    v numeric;
    cur numeric;
    why text;
    o record;
    ver integer;
    eff timestamptz;
BEGIN
    PERFORM fmtbank.require_role('changing rule parameters', 'admin');
    SELECT * INTO p FROM fmtbank.rule_param WHERE name = btrim(p_name);
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('rule parameter "%s" not found', p_name),
            HINT = 'Run "fmtbank catalog rules" for the list.';
    END IF;
    IF p_value IS NULL OR btrim(p_value) !~ '^[0-9]{1,9}(\.[0-9]{1,6})?$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid value "%s" for rule parameter "%s"', coalesce(p_value, ''), p.name),
            HINT = 'Give a non-negative decimal number, e.g. 90 or 18.5.';
    END IF;
    v := btrim(p_value)::numeric;
    IF p.integral AND v <> trunc(v) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid value "%s" for rule parameter "%s": it must be a whole number',
                             p_value, p.name);
    END IF;
    IF v < p.min_value OR v > p.max_value THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid value "%s" for rule parameter "%s"', p_value, p.name),
            DETAIL = format('Allowed values are %s to %s %s.', p.min_value, p.max_value, p.unit);
    END IF;
    why := fmtbank.acting_reason(true, 'changing a rule parameter');
    LOCK TABLE fmtbank.rule_set IN EXCLUSIVE MODE;
    cur := fmtbank.rule_value(p.name);
    IF cur = v THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('rule parameter "%s" is already %s', p.name, cur);
    END IF;
    FOR o IN SELECT x.low, x.high FROM fmtbank.rule_param_order x
             WHERE x.low = p.name OR x.high = p.name LOOP
        IF (o.low = p.name AND v > fmtbank.rule_value(o.high))
           OR (o.high = p.name AND v < fmtbank.rule_value(o.low)) THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot set "%s" to %s: "%s" (%s) must not exceed "%s" (%s)',
                                 p.name, v, o.low,
                                 CASE WHEN o.low = p.name THEN v ELSE fmtbank.rule_value(o.low) END,
                                 o.high,
                                 CASE WHEN o.high = p.name THEN v ELSE fmtbank.rule_value(o.high) END);
        END IF;
    END LOOP;
    SELECT max(version) + 1, greatest(clock_timestamp(), max(effective_from) + interval '1 microsecond')
    INTO ver, eff FROM fmtbank.rule_set;
    INSERT INTO fmtbank.rule_set (version, effective_from, changed, reason)
    VALUES (ver, eff, p.name, why);
    INSERT INTO fmtbank.rule_param_value (name, version, value) VALUES (p.name, ver, v);
    PERFORM pg_notify('fmtbank_rules', p.name);
    RETURN ver;
END $$;

-- Every change of the rule set, newest first.
CREATE VIEW fmtbank.rule_history AS
    SELECT s.version, s.effective_from, v.name, v.value,
           (SELECT w.value FROM fmtbank.rule_param_value w
            WHERE w.name = v.name AND w.version < v.version
            ORDER BY w.version DESC LIMIT 1) AS previous, s.created_by, s.reason
    FROM fmtbank.rule_set s
    JOIN fmtbank.rule_param_value v ON v.version = s.version;

-- ---------------------------------------------------------------- screening tests
-- test_no (0-62) is a compact key: results store it, and eligibility uses it as a bit position
-- to evaluate whole panels with bitmask aggregates (see 013_eligibility).
CREATE TABLE fmtbank.screening_test (
    code                 text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9_]*$'),
    test_no              smallint NOT NULL UNIQUE CHECK (test_no BETWEEN 0 AND 62),
    name                 text NOT NULL,
    specimen             text NOT NULL CHECK (specimen IN ('serum', 'stool', 'nasal swab')),
    kind                 text NOT NULL CHECK (kind IN ('qualitative', 'numeric')),
    unit                 text,
    unit_aliases         text[] NOT NULL DEFAULT '{}',
    accept_op            text NOT NULL CHECK (accept_op IN ('negative', '<=', '<')),
    limit_param          text REFERENCES fmtbank.rule_param,
    required_pre         boolean NOT NULL DEFAULT true,
    required_post        boolean NOT NULL DEFAULT true,
    excludes_permanently boolean NOT NULL DEFAULT false,
    source               text NOT NULL,
    CHECK ((kind = 'qualitative') = (accept_op = 'negative')),
    CHECK ((kind = 'numeric') = (unit IS NOT NULL AND limit_param IS NOT NULL))
);
SELECT fmtbank.audit_enable('fmtbank.screening_test', 'code');

INSERT INTO fmtbank.screening_test (code, test_no, name, specimen, kind, unit, unit_aliases,
                                    accept_op, limit_param, excludes_permanently, source)
VALUES
 ('HIV', 0, 'HIV-1/2 antigen/antibody', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, true, 'JCM22-T2, S12, S14b'),
 ('HAV_IGM', 1, 'hepatitis A IgM', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, false, 'JCM22-T2, S12, S14b'),
 ('HBSAG', 2, 'hepatitis B surface antigen', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, true, 'JCM22-T2, S12, S14b'),
 ('ANTI_HBC', 3, 'hepatitis B core antibody', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, true, 'EU tissue minimum'),
 ('HCV_AB', 4, 'hepatitis C antibody', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, true, 'JCM22-T2, S12, S14b'),
 ('HEV_IGM', 5, 'hepatitis E IgM', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, false, 'JCM22-T2, S12, S14b'),
 ('HTLV', 6, 'HTLV-1/2 antibody', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, true, 'EU tissue minimum'),
 ('SYPHILIS', 7, 'syphilis (Treponema pallidum) serology', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, true, 'JCM22-T2, S12, S14b'),
 ('CMV_IGM', 8, 'cytomegalovirus IgM', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, false, 'JCM22-T2, S12, S14b'),
 ('EBV_IGM', 9, 'Epstein-Barr virus IgM', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, false, 'JCM22-T2, S12, S14b'),
 ('STRONGY', 10, 'Strongyloides serology', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, false, 'JCM22-T2, S12, S14b'),
 ('EHIST_SER', 11, 'Entamoeba histolytica serology', 'serum', 'qualitative', NULL, '{}', 'negative', NULL, false, 'JCM22-T2, S12, S14b'),
 ('CRP', 12, 'C-reactive protein', 'serum', 'numeric', 'mg/L', '{}', '<=', 'limit.CRP', false, 'JCM22-T2, S12, S14b'),
 ('CDIFF', 13, 'Clostridioides difficile toxin-gene PCR', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12, FDA19'),
 ('SALM', 14, 'Salmonella', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('SHIG', 15, 'Shigella', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('CAMPY', 16, 'Campylobacter', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('YERS', 17, 'Yersinia', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('STEC', 18, 'Shiga toxin-producing E. coli PCR', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'FDA20a'),
 ('EPEC', 19, 'enteropathogenic E. coli PCR', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'FDA20a'),
 ('NORO', 20, 'norovirus', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('ROTA', 21, 'rotavirus', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('ADENO', 22, 'adenovirus', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('ASTRO', 23, 'astrovirus', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('SAPO', 24, 'sapovirus', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('SARS2', 25, 'SARS-CoV-2', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'FDA20b'),
 ('GIARDIA', 26, 'Giardia lamblia', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('CRYPTO', 27, 'Cryptosporidium', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('CYCLO', 28, 'Cyclospora', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('ISOSP', 29, 'Cystoisospora (Isospora)', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('MICROSP', 30, 'Microsporidia', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('EHIST_AG', 31, 'Entamoeba histolytica antigen', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('DFRAG', 32, 'Dientamoeba fragilis', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('HELMINTH', 33, 'ova and parasites (helminths)', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('HPYLORI', 34, 'Helicobacter pylori antigen', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'S12'),
 ('ESBL', 35, 'extended-spectrum beta-lactamase-producing Enterobacterales', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'FDA19'),
 ('CRE', 36, 'carbapenem-resistant Enterobacterales', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'FDA19'),
 ('VRE', 37, 'vancomycin-resistant enterococci', 'stool', 'qualitative', NULL, '{}', 'negative', NULL, false, 'FDA19'),
 ('CALPRO', 38, 'faecal calprotectin', 'stool', 'numeric', 'µg/g', '{ug/g,mcg/g}', '<', 'limit.CALPRO', false, 'S12'),
 ('MRSA', 39, 'methicillin-resistant Staphylococcus aureus (nasal swab)', 'nasal swab', 'qualitative', NULL, '{}', 'negative', NULL, false, 'FDA19, S36');

-- The catalog with the values in force at p_at: accept (negative or a limit such as <=5), the
-- validity in days (screen_validity_days, the same for every test), the required phases.
CREATE FUNCTION fmtbank.screening_test_at(p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (code text, test_no smallint, name text, specimen text, kind text, required text[],
               required_pre boolean, required_post boolean, validity_days integer, accept text,
               accept_op text, accept_limit numeric, unit text, unit_aliases text[],
               excludes_permanently boolean, source text, rule_set_version integer)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT t.code, t.test_no, t.name, t.specimen, t.kind,
           array_remove(ARRAY[CASE WHEN t.required_pre THEN 'pre' END,
                              CASE WHEN t.required_post THEN 'post' END], NULL),
           t.required_pre, t.required_post, val.value::integer,
           CASE WHEN t.accept_op = 'negative' THEN 'negative' ELSE t.accept_op || lim.value END,
           t.accept_op, lim.value, t.unit, t.unit_aliases, t.excludes_permanently, t.source,
           fmtbank.rule_set_version_at(p_at)
    FROM fmtbank.screening_test t
    JOIN fmtbank.rule_params_at(p_at) val ON val.name = 'screen_validity_days'
    LEFT JOIN fmtbank.rule_params_at(p_at) lim ON lim.name = t.limit_param
$$;

-- Whether a result is acceptable under an accept rule. No SET clause so that the planner inlines
-- it into the set-based queries; it uses nothing but built-in operators.
CREATE FUNCTION fmtbank.result_acceptable(p_result text, p_value numeric, p_op text, p_limit numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_value IS NULL THEN p_result = 'negative'
                WHEN p_op = '<=' THEN p_value <= p_limit
                WHEN p_op = '<' THEN p_value < p_limit
                ELSE false END
$$;

CREATE VIEW fmtbank.test_catalog AS
    SELECT * FROM fmtbank.screening_test_at(clock_timestamp());

-- ---------------------------------------------------------------- questionnaire items
-- effect: exclude (a boolean "yes" excludes permanently), defer (a date item defers until the
-- date plus its period; a donation-day "yes" defers from the questionnaire date), range (a number
-- is clear inside [min, max]). answer_min/answer_max: the possible answers (input validation).
-- derived: not answered in the file but computed (age from the birth year).
CREATE TABLE fmtbank.question_item (
    code          text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    questionnaire text NOT NULL CHECK (questionnaire IN ('full', 'short')),
    type          text NOT NULL CHECK (type IN ('boolean', 'date', 'number')),
    effect        text NOT NULL CHECK (effect IN ('exclude', 'defer', 'range')),
    text          text NOT NULL,
    defer_param   text REFERENCES fmtbank.rule_param,
    min_param     text REFERENCES fmtbank.rule_param,
    max_param     text REFERENCES fmtbank.rule_param,
    answer_min    numeric,
    answer_max    numeric,
    integral      boolean NOT NULL DEFAULT false,
    derived       text CHECK (derived IN ('birth_year')),
    source        text NOT NULL,
    sort_order    integer NOT NULL UNIQUE,
    CHECK ((effect = 'defer') = (defer_param IS NOT NULL)),
    CHECK ((effect = 'range') = (type = 'number')),
    CHECK (effect <> 'exclude' OR (type = 'boolean' AND questionnaire = 'full')),
    CHECK (type <> 'number' OR (answer_min IS NOT NULL AND answer_max IS NOT NULL))
);
SELECT fmtbank.audit_enable('fmtbank.question_item', 'code');

INSERT INTO fmtbank.question_item (code, questionnaire, type, effect, text, defer_param, min_param,
                                   max_param, answer_min, answer_max, integral, derived, source,
                                   sort_order)
VALUES
 ('infection_history', 'full', 'boolean', 'exclude',
  'Have you ever had HIV, hepatitis B or C, HTLV, syphilis, tuberculosis, malaria or trypanosomiasis?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 10),
 ('transplant_recipient', 'full', 'boolean', 'exclude',
  'Have you ever received an organ, tissue or stem-cell transplant?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 20),
 ('prion_risk', 'full', 'boolean', 'exclude',
  'Are you at risk of a prion disease (Creutzfeldt-Jakob disease in the family, human pituitary hormone, dura mater graft)?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 30),
 ('chronic_gi_disease', 'full', 'boolean', 'exclude',
  'Do you have a chronic gastrointestinal disease (IBD, IBS, chronic constipation or diarrhoea, coeliac disease)?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 40),
 ('gi_cancer_polyposis', 'full', 'boolean', 'exclude',
  'Have you had gastrointestinal cancer or polyposis?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 50),
 ('autoimmune_atopic', 'full', 'boolean', 'exclude',
  'Do you have an autoimmune or atopic disease?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 60),
 ('neurological_disease', 'full', 'boolean', 'exclude',
  'Do you have a neurological or neurodevelopmental disease?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 70),
 ('psychiatric_condition', 'full', 'boolean', 'exclude',
  'Do you have a psychiatric condition (depression, anxiety, an eating disorder, mental-health instability)?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, MFMT', 80),
 ('metabolic_syndrome', 'full', 'boolean', 'exclude',
  'Do you have metabolic syndrome?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 90),
 ('chronic_pain_syndrome', 'full', 'boolean', 'exclude',
  'Do you have a chronic pain syndrome (fibromyalgia, chronic fatigue syndrome)?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 100),
 ('malignancy', 'full', 'boolean', 'exclude',
  'Have you ever had a malignancy?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 110),
 ('chronic_ppi', 'full', 'boolean', 'exclude',
  'Do you take proton-pump inhibitors long-term?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 120),
 ('illicit_drug_injection', 'full', 'boolean', 'exclude',
  'Have you ever injected illicit drugs?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, UTD, S25', 130),
 ('healthcare_worker', 'full', 'boolean', 'exclude',
  'Are you a healthcare worker (an MDRO risk group)?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'FDA19', 140),
 ('regular_outpatient_care', 'full', 'boolean', 'exclude',
  'Do you attend outpatient medical care regularly (an MDRO risk group, e.g. dialysis, wound care)?',
  NULL, NULL, NULL, NULL, NULL, false, NULL, 'FDA19', 150),
 ('antibiotics_last', 'full', 'date', 'defer', 'When did you last take antibiotics?',
  'defer_days.antibiotics_last', NULL, NULL, NULL, NULL, false, NULL, 'most sources', 200),
 ('antiviral_antifungal_last', 'full', 'date', 'defer',
  'When did you last take antiviral or antifungal medication?',
  'defer_days.antiviral_antifungal_last', NULL, NULL, NULL, NULL, false, NULL, 'S26', 210),
 ('immunosuppressant_last', 'full', 'date', 'defer', 'When did you last take immunosuppressants?',
  'defer_days.immunosuppressant_last', NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2', 220),
 ('tattoo_piercing_acupuncture_last', 'full', 'date', 'defer',
  'When did you last have a tattoo, piercing or acupuncture?',
  'defer_days.tattoo_piercing_acupuncture_last', NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, S24, S25', 230),
 ('needlestick_last', 'full', 'date', 'defer', 'When did you last have a needlestick injury?',
  'defer_days.needlestick_last', NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2', 240),
 ('blood_products_last', 'full', 'date', 'defer', 'When did you last receive blood products?',
  'defer_days.blood_products_last', NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, S25', 250),
 ('hiv_hepatitis_exposure_last', 'full', 'date', 'defer',
  'When were you last exposed to HIV or viral hepatitis?',
  'defer_days.hiv_hepatitis_exposure_last', NULL, NULL, NULL, NULL, false, NULL, 'S25, UTD', 260),
 ('high_risk_sex_last', 'full', 'date', 'defer', 'When did you last have high-risk sexual contact?',
  'defer_days.high_risk_sex_last', NULL, NULL, NULL, NULL, false, NULL, 'S25', 270),
 ('tropical_travel_last', 'full', 'date', 'defer',
  'When did you last return from travel to the tropics or a high-risk region?',
  'defer_days.tropical_travel_last', NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2, S24, S25', 280),
 ('live_vaccine_last', 'full', 'date', 'defer', 'When did you last receive a live attenuated vaccine?',
  'defer_days.live_vaccine_last', NULL, NULL, NULL, NULL, false, NULL, 'EC17-T2', 290),
 ('hospitalisation_last', 'full', 'date', 'defer',
  'When were you last discharged from hospital or long-term care?',
  'defer_days.hospitalisation_last', NULL, NULL, NULL, NULL, false, NULL, 'FDA19 (period: site choice)', 300),
 ('medical_tourism_last', 'full', 'date', 'defer', 'When did you last receive medical treatment abroad?',
  'defer_days.medical_tourism_last', NULL, NULL, NULL, NULL, false, NULL, 'FDA19 (period: site choice)', 310),
 ('gi_infection_last', 'full', 'date', 'defer',
  'When did you last have a gastrointestinal infection (diarrhoea, fever, vomiting)?',
  'defer_days.gi_infection_last', NULL, NULL, NULL, NULL, false, NULL, 'S25', 320),
 ('covid_last', 'full', 'date', 'defer',
  'When did you last have COVID-19 (infection, symptoms or exposure)?',
  'defer_days.covid_last', NULL, NULL, NULL, NULL, false, NULL, 'FDA20b', 330),
 ('mpox_exposure_last', 'full', 'date', 'defer', 'When were you last exposed to mpox?',
  'defer_days.mpox_exposure_last', NULL, NULL, NULL, NULL, false, NULL, 'FDA22 (period: site choice)', 340),
 ('age', 'full', 'number', 'range', 'Age at donation (the age reached in that calendar year)',
  NULL, 'min_age', 'max_age', 0, 150, true, 'birth_year', 'S14b', 400),
 ('bmi', 'full', 'number', 'range', 'Body-mass index (kg/m2)',
  NULL, 'bmi_min', 'bmi_max', 10, 80, false, NULL, 'S27, S30', 410),
 ('phq9', 'full', 'number', 'range', 'PHQ-9 depression score (0-27)',
  NULL, NULL, 'phq9_max', 0, 27, true, NULL, 'PHQ9 (cut-off: site choice)', 420),
 ('gad7', 'full', 'number', 'range', 'GAD-7 anxiety score (0-21)',
  NULL, NULL, 'gad7_max', 0, 21, true, NULL, 'GAD7 (cut-off: site choice)', 430),
 ('new_gi_symptoms', 'short', 'boolean', 'defer',
  'Since your last donation, have you had new gastrointestinal symptoms?',
  'defer_days.new_gi_symptoms', NULL, NULL, NULL, NULL, false, NULL, 'domain.md', 500),
 ('fever_or_illness', 'short', 'boolean', 'defer', 'Have you had a fever or felt ill?',
  'defer_days.fever_or_illness', NULL, NULL, NULL, NULL, false, NULL, 'domain.md', 510),
 ('antibiotics_since_last', 'short', 'boolean', 'defer',
  'Have you taken antibiotics since your last donation?',
  'defer_days.antibiotics_since_last', NULL, NULL, NULL, NULL, false, NULL, 'domain.md', 520),
 ('travel_since_last', 'short', 'boolean', 'defer', 'Have you travelled abroad since your last donation?',
  'defer_days.travel_since_last', NULL, NULL, NULL, NULL, false, NULL, 'domain.md', 530),
 ('sick_contacts', 'short', 'boolean', 'defer', 'Has anyone close to you been ill?',
  'defer_days.sick_contacts', NULL, NULL, NULL, NULL, false, NULL, 'domain.md', 540),
 ('new_medication', 'short', 'boolean', 'defer', 'Have you started a new medication?',
  'defer_days.new_medication', NULL, NULL, NULL, NULL, false, NULL, 'domain.md (period: site choice)', 550);

-- The items with the periods and ranges in force at p_at.
CREATE FUNCTION fmtbank.question_item_at(p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (code text, questionnaire text, type text, effect text, text text,
               defer_days integer, clear_min numeric, clear_max numeric, answer_min numeric,
               answer_max numeric, integral boolean, derived text, source text,
               sort_order integer, rule_set_version integer)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
    WITH p AS (SELECT * FROM fmtbank.rule_params_at(p_at))
    SELECT q.code, q.questionnaire, q.type, q.effect, q.text,
           (SELECT p.value::integer FROM p WHERE p.name = q.defer_param),
           (SELECT p.value FROM p WHERE p.name = q.min_param),
           (SELECT p.value FROM p WHERE p.name = q.max_param),
           q.answer_min, q.answer_max, q.integral, q.derived, q.source, q.sort_order,
           fmtbank.rule_set_version_at(p_at)
    FROM fmtbank.question_item q
$$;

REVOKE ALL ON fmtbank.rule_param, fmtbank.rule_set, fmtbank.rule_param_value,
    fmtbank.rule_param_order, fmtbank.rule_history, fmtbank.screening_test, fmtbank.test_catalog,
    fmtbank.question_item FROM PUBLIC;
GRANT SELECT ON fmtbank.rule_param, fmtbank.rule_set, fmtbank.rule_param_value,
    fmtbank.rule_param_order, fmtbank.rule_history, fmtbank.screening_test, fmtbank.test_catalog,
    fmtbank.question_item
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.rule_set_version_at(timestamptz),
    fmtbank.rule_params_at(timestamptz), fmtbank.rule_value(text, timestamptz),
    fmtbank.screening_test_at(timestamptz), fmtbank.result_acceptable(text, numeric, text, numeric),
    fmtbank.question_item_at(timestamptz)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.rules_set(text, text) TO fmtbank_admin;
