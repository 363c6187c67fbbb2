-- 140_catalog_change: "fmtbank catalog test|question add|change|retire" (product.md §12): each a
-- new catalog version (migration 140), audited, with its reason, effective now or from a future
-- --effective time; the daemon's "catalog" sweep step carries out what a change does when it
-- takes effect (a test made required opens the catalog case of 107 for the released stock it
-- concerns); "catalog reinterview ITEM" lists the donors to ask a new item.
--
-- Choices (written here and in README.md): a change or retirement of a code with a change still
-- pending (a later --effective) is refused, so each code's versions take effect in the order they
-- were made; codes are never reused (a retired test stays retired: add a new code); a change
-- cannot turn an item into another kind of item (questionnaire, type, effect: retire it and add a
-- new one), nor a test into another kind or unit (its results are stored in them), but may change
-- a test's limit, validity, phases, specimen, name, source.

-- ---------------------------------------------------------------- validation
-- The specimen of the CLI (nasal_swab) as stored (nasal swab).
CREATE OR REPLACE FUNCTION fmtbank.catalog_specimen(p text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s text := replace(lower(btrim(coalesce(p, ''))), '_', ' ');
BEGIN
    IF s NOT IN ('serum', 'stool', 'nasal swab', 'rectal swab', 'urine') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --specimen "%s"', coalesce(p, '')),
            HINT = 'The specimens are serum, stool, nasal_swab, rectal_swab and urine.';
    END IF;
    RETURN s;
END $$;

-- --phases pre,post | pre | post | none: (required_pre, required_post).
CREATE OR REPLACE FUNCTION fmtbank.catalog_phases(p text, OUT pre boolean, OUT post boolean)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s text := replace(lower(coalesce(p, '')), ' ', '');
BEGIN
    IF s NOT IN ('pre,post', 'post,pre', 'pre', 'post', 'none') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --phases "%s"', coalesce(p, '')),
            HINT = 'Give pre,post (required before and after each donation), pre, post or none.';
    END IF;
    pre := s LIKE '%pre%';
    post := s LIKE '%post%';
END $$;

-- --accept negative | <=N | <N: (op, limit); a limit needs a unit, negative none.
CREATE OR REPLACE FUNCTION fmtbank.catalog_accept(p text, p_unit text, OUT op text, OUT lim numeric)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s text := replace(lower(btrim(coalesce(p, ''))), ' ', '');
    m text[];
BEGIN
    IF s = 'negative' THEN
        op := 'negative';
    ELSE
        m := regexp_match(s, '^(<=|<)([0-9]{1,9}(\.[0-9]{1,6})?)$');
        IF m IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --accept "%s"', coalesce(p, '')),
                HINT = 'Give negative, or a limit such as <=5 or <50 (a number, then --unit).';
        END IF;
        op := m[1];
        lim := m[2]::numeric;
    END IF;
    IF op = 'negative' AND nullif(btrim(p_unit), '') IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('--unit "%s" given for a qualitative test (--accept negative)', p_unit);
    ELSIF op <> 'negative' AND nullif(btrim(p_unit), '') IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('--accept %s needs the unit of the number (--unit)', s);
    ELSIF op <> 'negative' AND (length(btrim(p_unit)) > 20 OR btrim(p_unit) !~ '^[^[:space:][:cntrl:]]+$') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --unit "%s"', p_unit),
            HINT = 'A unit is one word of up to 20 characters, e.g. mg/L.';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.catalog_days(p text, p_field text, p_min integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p IS NULL THEN
        RETURN NULL;
    END IF;
    IF btrim(p) !~ '^[0-9]{1,4}$' OR btrim(p)::integer NOT BETWEEN p_min AND 3650 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid %s "%s"', p_field, p),
            HINT = format('Give a whole number of days from %s to 3650.', p_min);
    END IF;
    RETURN btrim(p)::integer;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.catalog_text(p text, p_field text, p_max integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p IS NULL THEN
        RETURN NULL;
    END IF;
    IF btrim(p) = '' OR length(p) > p_max OR p ~ '[[:cntrl:]]' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid %s "%s"', p_field, p),
            HINT = format('Give one line of 1 to %s characters.', p_max);
    END IF;
    RETURN btrim(p);
END $$;

-- A new catalog version (the caller has validated the change): effective now, or at p_effective
-- (text, ISO 8601; it must be in the future). Locks the catalog: one change at a time.
CREATE OR REPLACE FUNCTION fmtbank.catalog_version_new(p_subject text, p_code text, p_action text,
                                                       p_effective text, p_applies_from date)
RETURNS fmtbank.catalog_version
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    why text := fmtbank.acting_reason(true, 'changing the catalog');
    eff timestamptz;
    pending fmtbank.catalog_version;
    v fmtbank.catalog_version;
BEGIN
    LOCK TABLE fmtbank.catalog_version IN EXCLUSIVE MODE;
    IF p_effective IS NOT NULL THEN
        eff := fmtbank.parse_ts(p_effective, '--effective');
        IF eff <= clock_timestamp() THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('--effective %s is not in the future', p_effective),
                HINT = 'Leave --effective out for a change that takes effect now.';
        END IF;
        IF EXISTS (SELECT 1 FROM fmtbank.catalog_version x WHERE x.effective_from = eff) THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('another catalog change takes effect at %s', fmtbank.ts_text(eff)),
                HINT = 'Give a different --effective time.';
        END IF;
    ELSE
        eff := greatest(clock_timestamp(),
                        (SELECT max(x.effective_from) + interval '1 microsecond' FROM fmtbank.catalog_version x
                         WHERE x.effective_from <= clock_timestamp()));
    END IF;
    SELECT * INTO pending FROM fmtbank.catalog_version x
    WHERE x.subject = p_subject AND x.code = p_code AND x.effective_from > clock_timestamp()
    ORDER BY x.effective_from LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('%s "%s" has a change pending (catalog version %s, %s, effective %s)',
                             p_subject, p_code, pending.version, pending.action,
                             fmtbank.ts_text(pending.effective_from)),
            HINT = 'A code''s changes take effect in the order they were made: change it after that time.';
    END IF;
    INSERT INTO fmtbank.catalog_version (version, effective_from, subject, code, action,
                                         applies_from, reason)
    VALUES ((SELECT max(x.version) + 1 FROM fmtbank.catalog_version x), eff, p_subject, p_code,
            p_action, p_applies_from, why)
    RETURNING * INTO v;
    PERFORM pg_notify('fmtbank_catalog', p_code);
    RETURN v;
END $$;

-- A code added with a future --effective is not in force yet: FB003 saying when it will be.
CREATE OR REPLACE FUNCTION fmtbank.catalog_not_yet(p_subject text, p_code text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE v fmtbank.catalog_version;
BEGIN
    SELECT * INTO v FROM fmtbank.catalog_version x
    WHERE x.subject = p_subject AND x.code = p_code ORDER BY x.effective_from LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('%s "%s" is not in force yet: it takes effect at %s (catalog version %s)',
                             p_subject, p_code, fmtbank.ts_text(v.effective_from), v.version),
            HINT = 'A code''s changes take effect in the order they were made: change it after that time.';
    END IF;
END $$;

-- ---------------------------------------------------------------- tests
-- The catalog version whose definition of p_code is in force now, for p_subject 'test'
-- (screening_test_def) or 'question' (question_item_def): FB002 when unknown, FB003 when retired
-- or not in force yet.
CREATE OR REPLACE FUNCTION fmtbank.catalog_in_force(p_subject text, p_code text) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ver integer;
    gone boolean;
    what text := CASE p_subject WHEN 'test' THEN 'test' ELSE 'questionnaire item' END;
BEGIN
    EXECUTE format('SELECT x.version, x.retired FROM fmtbank.%I x
                    JOIN fmtbank.catalog_version v ON v.version = x.version
                    WHERE x.code = $1 AND v.effective_from <= clock_timestamp()
                    ORDER BY v.effective_from DESC LIMIT 1',
                   CASE p_subject WHEN 'test' THEN 'screening_test_def' ELSE 'question_item_def' END)
    INTO ver, gone USING p_code;
    IF ver IS NULL THEN
        PERFORM fmtbank.catalog_not_yet(p_subject, p_code);
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('%s "%s" not found', what, p_code),
            HINT = format('Run "fmtbank catalog %s" for those in force.',
                          CASE p_subject WHEN 'test' THEN 'tests' ELSE 'questions' END);
    END IF;
    IF gone THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('%s "%s" is retired', what, p_code),
            HINT = 'A retired code is not reused: add it under a new code.';
    END IF;
    RETURN ver;
END $$;

-- Stores one definition (a screening_test_def or question_item_def row) as a new catalog version
-- and, when it is in force at once, carries out what it does; returns the version.
CREATE OR REPLACE FUNCTION fmtbank.catalog_store(d anyelement, p_subject text, p_action text,
                                                 p_effective text, p_applies_from date)
RETURNS fmtbank.catalog_version
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE v fmtbank.catalog_version;
BEGIN
    v := fmtbank.catalog_version_new(p_subject, to_jsonb(d) ->> 'code', p_action, p_effective,
                                     p_applies_from);
    d := jsonb_populate_record(d, jsonb_build_object('version', v.version));
    EXECUTE format('INSERT INTO %s SELECT ($1).*', pg_typeof(d)) USING d;
    IF v.effective_from <= clock_timestamp() THEN
        PERFORM fmtbank.catalog_take_effect(v.version);
        SELECT * INTO v FROM fmtbank.catalog_version x WHERE x.version = v.version;
    END IF;
    RETURN v;
END $$;

-- The definitions in force now of a test and of an item.
CREATE OR REPLACE FUNCTION fmtbank.catalog_test_current(p_code text) RETURNS fmtbank.screening_test_def
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT x.* FROM fmtbank.screening_test_def x
    WHERE x.code = upper(btrim(p_code)) AND x.version = fmtbank.catalog_in_force('test', upper(btrim(p_code)))
$$;

CREATE OR REPLACE FUNCTION fmtbank.catalog_question_current(p_code text) RETURNS fmtbank.question_item_def
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT x.* FROM fmtbank.question_item_def x
    WHERE x.code = lower(btrim(p_code)) AND x.version = fmtbank.catalog_in_force('question', lower(btrim(p_code)))
$$;

-- "fmtbank catalog test add CODE --name N --specimen S --phases P --accept A [--unit U]
-- --validity-days N [--excludes] --source S [--effective TS] [--applies-from DATE]".
CREATE OR REPLACE FUNCTION fmtbank.catalog_test_add(p_code text, p_name text, p_specimen text,
                                                    p_phases text, p_accept text, p_unit text,
                                                    p_validity text, p_excludes boolean,
                                                    p_source text, p_effective text,
                                                    p_applies_from text)
RETURNS TABLE (version integer, code text, action text, effective_from timestamptz,
               case_code text, lots_held integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.screening_test_def;
    c text := upper(btrim(coalesce(p_code, '')));
    ph record;
    ac record;
    v fmtbank.catalog_version;
BEGIN
    PERFORM fmtbank.require_role('changing the catalog', 'admin');
    IF c !~ '^[A-Z][A-Z0-9_]{0,31}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid test code "%s"', coalesce(p_code, '')),
            HINT = 'A test code is a capital letter then up to 31 capitals, digits or _, e.g. MPOX_PCR.';
    END IF;
    IF EXISTS (SELECT 1 FROM fmtbank.screening_test t WHERE t.code = c) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('test "%s" already exists', c),
            HINT = 'Use "fmtbank catalog test change"; a retired code is not reused.';
    END IF;
    ph := fmtbank.catalog_phases(p_phases);
    ac := fmtbank.catalog_accept(p_accept, p_unit);
    d.code := c;
    d.name := fmtbank.catalog_text(coalesce(p_name, ''), '--name', 200);
    d.specimen := fmtbank.catalog_specimen(p_specimen);
    d.kind := CASE WHEN ac.op = 'negative' THEN 'qualitative' ELSE 'numeric' END;
    d.unit := nullif(btrim(p_unit), '');
    d.unit_aliases := '{}';
    d.accept_op := ac.op;
    d.accept_limit := ac.lim;
    d.validity_days := fmtbank.catalog_days(coalesce(p_validity, ''), '--validity-days', 1);
    d.required_pre := ph.pre;
    d.required_post := ph.post;
    d.excludes_permanently := coalesce(p_excludes, false);
    d.source := fmtbank.catalog_text(coalesce(p_source, ''), '--source', 200);
    d.retired := false;
    INSERT INTO fmtbank.screening_test (code, test_no, name, specimen, kind, unit, accept_op,
                                        required_pre, required_post, excludes_permanently, source)
    VALUES (c, (SELECT coalesce(max(t.test_no), -1) + 1 FROM fmtbank.screening_test t), d.name,
            d.specimen, d.kind, d.unit, d.accept_op, d.required_pre, d.required_post,
            d.excludes_permanently, d.source);
    v := fmtbank.catalog_store(d, 'test', 'add', p_effective,
                                    CASE WHEN p_applies_from IS NOT NULL
                                         THEN fmtbank.parse_date(p_applies_from, '--applies-from') END);
    RETURN QUERY SELECT * FROM fmtbank.catalog_change_result(v);
END $$;

-- "fmtbank catalog test change CODE [options]": the options given replace those in force.
CREATE OR REPLACE FUNCTION fmtbank.catalog_test_change(p_code text, p_name text, p_specimen text,
                                                       p_phases text, p_accept text, p_unit text,
                                                       p_validity text, p_excludes boolean,
                                                       p_source text, p_effective text,
                                                       p_applies_from text)
RETURNS TABLE (version integer, code text, action text, effective_from timestamptz,
               case_code text, lots_held integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.screening_test_def;
    was fmtbank.screening_test_def;
    ph record;
    ac record;
    v fmtbank.catalog_version;
BEGIN
    PERFORM fmtbank.require_role('changing the catalog', 'admin');
    was := fmtbank.catalog_test_current(p_code);
    d := was;
    IF p_name IS NOT NULL THEN d.name := fmtbank.catalog_text(p_name, '--name', 200); END IF;
    IF p_specimen IS NOT NULL THEN d.specimen := fmtbank.catalog_specimen(p_specimen); END IF;
    IF p_phases IS NOT NULL THEN
        ph := fmtbank.catalog_phases(p_phases);
        d.required_pre := ph.pre;
        d.required_post := ph.post;
    END IF;
    IF p_accept IS NOT NULL THEN
        ac := fmtbank.catalog_accept(p_accept, coalesce(p_unit, CASE WHEN p_accept <> 'negative' THEN was.unit END));
        d.accept_op := ac.op;
        d.accept_limit := ac.lim;
        d.limit_param := NULL;
        d.kind := CASE WHEN ac.op = 'negative' THEN 'qualitative' ELSE 'numeric' END;
        d.unit := CASE WHEN ac.op = 'negative' THEN NULL ELSE coalesce(nullif(btrim(p_unit), ''), was.unit) END;
        IF d.kind = 'qualitative' THEN d.unit_aliases := '{}'; END IF;
    ELSIF p_unit IS NOT NULL THEN
        PERFORM fmtbank.catalog_accept(CASE WHEN was.accept_op = 'negative' THEN 'negative'
                                            ELSE '<=0' END, p_unit);
        d.unit := btrim(p_unit);
    END IF;
    IF p_validity IS NOT NULL THEN d.validity_days := fmtbank.catalog_days(p_validity, '--validity-days', 1); END IF;
    IF p_excludes IS NOT NULL THEN d.excludes_permanently := p_excludes; END IF;
    IF p_source IS NOT NULL THEN d.source := fmtbank.catalog_text(p_source, '--source', 200); END IF;
    -- results are stored as reported, in the test's unit: a limit may change, not what the stored
    -- values mean (a qualitative result has no value; a value in mg/L is not one in mg/dL)
    IF d.kind <> was.kind OR d.unit IS DISTINCT FROM was.unit THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('test "%s" is %s%s: a change cannot make it %s%s', was.code, was.kind,
                             coalesce(' in ' || was.unit, ''), d.kind, coalesce(' in ' || d.unit, '')),
            DETAIL = 'Its results are stored in its kind and unit; the limit may change, not what they mean.',
            HINT = 'Retire it and add the test under a new code.';
    END IF;
    IF row(d.*) IS NOT DISTINCT FROM row(was.*) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('test "%s": nothing to change', was.code),
            HINT = 'Give at least one option with a value different from the one in force.';
    END IF;
    v := fmtbank.catalog_store(d, 'test', 'change', p_effective,
                                    CASE WHEN p_applies_from IS NOT NULL
                                         THEN fmtbank.parse_date(p_applies_from, '--applies-from') END);
    RETURN QUERY SELECT * FROM fmtbank.catalog_change_result(v);
END $$;

-- "fmtbank catalog test retire CODE [--effective TS]": no longer required nor evaluated from then.
CREATE OR REPLACE FUNCTION fmtbank.catalog_test_retire(p_code text, p_effective text)
RETURNS TABLE (version integer, code text, action text, effective_from timestamptz,
               case_code text, lots_held integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.screening_test_def;
    v fmtbank.catalog_version;
BEGIN
    PERFORM fmtbank.require_role('changing the catalog', 'admin');
    d := fmtbank.catalog_test_current(p_code);
    d.retired := true;
    v := fmtbank.catalog_store(d, 'test', 'retire', p_effective, NULL);
    RETURN QUERY SELECT * FROM fmtbank.catalog_change_result(v);
END $$;

CREATE OR REPLACE FUNCTION fmtbank.catalog_change_result(v fmtbank.catalog_version)
RETURNS TABLE (version integer, code text, action text, effective_from timestamptz,
               case_code text, lots_held integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT v.version, v.code, v.action, v.effective_from, c.case_code,
           (SELECT count(*)::integer FROM fmtbank.case_hold h WHERE h.case_id = c.id)
    FROM (SELECT 1) x LEFT JOIN fmtbank.safety_case c ON c.id = v.case_id
$$;

-- ---------------------------------------------------------------- taking effect
-- Carries out what catalog version p_version does when it takes effect (once: taken_at): a test
-- that becomes required (added as required, or a change that adds a phase) opens the catalog
-- case of 107 for the released stock collected on or after applies_from (default: every lot)
-- that no result of it screened. Returns the case, if one was opened.
CREATE OR REPLACE FUNCTION fmtbank.catalog_take_effect(p_version integer) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v fmtbank.catalog_version;
    now_def fmtbank.screening_test_def;
    before fmtbank.screening_test_def;
    c fmtbank.safety_case;
    was text := current_setting('fmtbank.reason', true);
BEGIN
    SELECT * INTO v FROM fmtbank.catalog_version x WHERE x.version = p_version FOR UPDATE;
    IF v.taken_at IS NOT NULL OR v.effective_from > clock_timestamp() THEN
        RETURN NULL;
    END IF;
    IF v.subject = 'test' AND v.action IN ('add', 'change') THEN
        SELECT * INTO now_def FROM fmtbank.screening_test_def x WHERE x.code = v.code AND x.version = v.version;
        SELECT x.* INTO before
        FROM fmtbank.screening_test_def x JOIN fmtbank.catalog_version y ON y.version = x.version
        WHERE x.code = v.code AND y.effective_from < v.effective_from
        ORDER BY y.effective_from DESC LIMIT 1;
        IF (now_def.required_pre OR now_def.required_post)
           AND NOT coalesce((before.required_pre OR before.required_post) AND NOT before.retired, false) THEN
            PERFORM set_config('fmtbank.reason', v.reason, true);
            c := fmtbank.case_open_catalog(v.code, coalesce(v.applies_from, '-infinity'::date),
                                           format('catalog version %s', v.version));
            PERFORM set_config('fmtbank.reason', coalesce(was, ''), true);
        END IF;
    END IF;
    UPDATE fmtbank.catalog_version x SET taken_at = clock_timestamp(), case_id = c.id
    WHERE x.version = v.version;
    RETURN c.id;
END $$;

-- The daemon's sweep step: every change whose time has come, in the order they take effect.
CREATE OR REPLACE FUNCTION fmtbank.sweep_catalog() RETURNS TABLE (what text, n bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v integer;
    k bigint := 0;
BEGIN
    FOR v IN SELECT x.version FROM fmtbank.catalog_version x
             WHERE x.taken_at IS NULL AND x.effective_from <= clock_timestamp()
             ORDER BY x.effective_from LOOP
        PERFORM fmtbank.catalog_take_effect(v);
        k := k + 1;
    END LOOP;
    RETURN QUERY SELECT 'catalog changes taking effect'::text, k;
END $$;

-- ---------------------------------------------------------------- questionnaire items
-- "fmtbank catalog question add CODE --questionnaire full|short|followup --type boolean|date
-- --effect exclude|defer --text T [--defer-days N] [--lookback-days N] --source S [--effective TS]".
-- (Number items with clear ranges stay those shipped: their ranges are rule parameters.)
CREATE OR REPLACE FUNCTION fmtbank.catalog_question_add(p_code text, p_questionnaire text, p_type text,
                                                        p_effect text, p_text text, p_defer text,
                                                        p_lookback text, p_source text,
                                                        p_effective text)
RETURNS TABLE (version integer, code text, action text, effective_from timestamptz,
               case_code text, lots_held integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.question_item_def;
    c text := lower(btrim(coalesce(p_code, '')));
    v fmtbank.catalog_version;
BEGIN
    PERFORM fmtbank.require_role('changing the catalog', 'admin');
    IF c !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid item code "%s"', coalesce(p_code, '')),
            HINT = 'An item code is a small letter then up to 62 small letters, digits or _, e.g. mpox_contact_last.';
    END IF;
    IF EXISTS (SELECT 1 FROM fmtbank.question_item q WHERE q.code = c) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('questionnaire item "%s" already exists', c),
            HINT = 'Use "fmtbank catalog question change"; a retired code is not reused.';
    END IF;
    d.code := c;
    d.questionnaire := lower(btrim(coalesce(p_questionnaire, '')));
    IF d.questionnaire NOT IN ('full', 'short', 'followup') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid --questionnaire "%s"', coalesce(p_questionnaire, '')),
            HINT = 'The questionnaires are full, short (donation day) and followup.';
    END IF;
    d.type := lower(btrim(coalesce(p_type, '')));
    d.effect := lower(btrim(coalesce(p_effect, '')));
    IF d.type NOT IN ('boolean', 'date') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --type "%s"', coalesce(p_type, '')),
            HINT = 'A new item is a boolean (yes/no) or a date (of the last time).';
    END IF;
    IF d.effect NOT IN ('exclude', 'defer') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --effect "%s"', coalesce(p_effect, '')),
            HINT = 'A yes excludes (exclude) or defers (defer, with --defer-days).';
    END IF;
    IF d.effect = 'exclude' AND (d.type <> 'boolean' OR d.questionnaire <> 'full') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = 'an excluding item is a boolean of the full questionnaire';
    END IF;
    IF d.effect = 'exclude' AND p_defer IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = '--defer-days is for a deferring item (--effect defer)';
    END IF;
    IF d.effect = 'defer' AND p_defer IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'a deferring item needs --defer-days';
    END IF;
    d.text := fmtbank.catalog_text(coalesce(p_text, ''), '--text', 1000);
    d.defer_days := fmtbank.catalog_days(p_defer, '--defer-days', 0);
    d.lookback_days := coalesce(fmtbank.catalog_days(p_lookback, '--lookback-days', 0), 0);
    d.integral := false;
    d.source := fmtbank.catalog_text(coalesce(p_source, ''), '--source', 200);
    d.sort_order := (SELECT coalesce(max(q.sort_order), 0) + 10 FROM fmtbank.question_item q);
    d.retired := false;
    INSERT INTO fmtbank.question_item (code, questionnaire, type, effect, text, lookback_days,
                                       source, sort_order)
    VALUES (c, d.questionnaire, d.type, d.effect, d.text, d.lookback_days, d.source, d.sort_order);
    v := fmtbank.catalog_store(d, 'question', 'add', p_effective, NULL);
    RETURN QUERY SELECT * FROM fmtbank.catalog_change_result(v);
END $$;

-- "fmtbank catalog question change CODE [--text T] [--defer-days N] [--lookback-days N]
-- [--source S] [--effective TS]".
CREATE OR REPLACE FUNCTION fmtbank.catalog_question_change(p_code text, p_text text, p_defer text,
                                                           p_lookback text, p_source text,
                                                           p_effective text)
RETURNS TABLE (version integer, code text, action text, effective_from timestamptz,
               case_code text, lots_held integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.question_item_def;
    was fmtbank.question_item_def;
    v fmtbank.catalog_version;
BEGIN
    PERFORM fmtbank.require_role('changing the catalog', 'admin');
    was := fmtbank.catalog_question_current(p_code);
    d := was;
    IF p_text IS NOT NULL THEN d.text := fmtbank.catalog_text(p_text, '--text', 1000); END IF;
    IF p_defer IS NOT NULL THEN
        IF was.effect <> 'defer' THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('item "%s" does not defer: --defer-days does not apply', was.code);
        END IF;
        d.defer_days := fmtbank.catalog_days(p_defer, '--defer-days', 0);
        d.defer_param := NULL;
    END IF;
    IF p_lookback IS NOT NULL THEN d.lookback_days := fmtbank.catalog_days(p_lookback, '--lookback-days', 0); END IF;
    IF p_source IS NOT NULL THEN d.source := fmtbank.catalog_text(p_source, '--source', 200); END IF;
    IF row(d.*) IS NOT DISTINCT FROM row(was.*) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('questionnaire item "%s": nothing to change', was.code),
            HINT = 'Give at least one option with a value different from the one in force.';
    END IF;
    v := fmtbank.catalog_store(d, 'question', 'change', p_effective, NULL);
    RETURN QUERY SELECT * FROM fmtbank.catalog_change_result(v);
END $$;

CREATE OR REPLACE FUNCTION fmtbank.catalog_question_retire(p_code text, p_effective text)
RETURNS TABLE (version integer, code text, action text, effective_from timestamptz,
               case_code text, lots_held integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d fmtbank.question_item_def;
    v fmtbank.catalog_version;
BEGIN
    PERFORM fmtbank.require_role('changing the catalog', 'admin');
    d := fmtbank.catalog_question_current(p_code);
    IF d.derived IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('item "%s" is derived from the donor record and cannot be retired', d.code);
    END IF;
    d.retired := true;
    v := fmtbank.catalog_store(d, 'question', 'retire', p_effective, NULL);
    RETURN QUERY SELECT * FROM fmtbank.catalog_change_result(v);
END $$;

-- "fmtbank catalog reinterview ITEM": the donors to ask an item added after their last
-- questionnaire of its kind: every donor not excluded whose latest questionnaire of the item's
-- questionnaire (in force) was recorded before the item took effect, or who has none.
CREATE OR REPLACE FUNCTION fmtbank.catalog_reinterview(p_item text)
RETURNS TABLE (donor text, status text, last_questionnaire date, item_from timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i fmtbank.question_item_def;
    since timestamptz;
BEGIN
    PERFORM fmtbank.require_role('listing donors to re-interview', 'technician', 'quality', 'admin');
    i := fmtbank.catalog_question_current(p_item);
    SELECT min(v.effective_from) INTO since
    FROM fmtbank.question_item_def x JOIN fmtbank.catalog_version v ON v.version = x.version
    WHERE x.code = i.code;
    RETURN QUERY
    SELECT d.code, e.status, lq.q_date, since
    FROM fmtbank.donor d
    JOIN fmtbank.donor_eligibility_at(clock_timestamp()) e ON e.donor_id = d.id
    LEFT JOIN LATERAL (
        SELECT q.q_date, q.recorded_at FROM fmtbank.questionnaire q
        WHERE q.donor_id = d.id AND q.kind = i.questionnaire AND q.superseded_at IS NULL
        ORDER BY q.q_date DESC, q.recorded_at DESC LIMIT 1) lq ON true
    WHERE e.status <> 'excluded' AND since > '-infinity'
      AND (lq.q_date IS NULL OR lq.recorded_at < since)
    ORDER BY d.code;
END $$;

-- Every catalog version, newest first.
CREATE OR REPLACE VIEW fmtbank.catalog_history AS
    SELECT v.version, v.effective_from, v.subject, v.code, v.action, v.applies_from,
           v.taken_at, c.case_code, v.created_at, v.created_by, v.reason
    FROM fmtbank.catalog_version v LEFT JOIN fmtbank.safety_case c ON c.id = v.case_id;

-- ---------------------------------------------------------------- privileges
GRANT EXECUTE ON FUNCTION
    fmtbank.catalog_test_add(text, text, text, text, text, text, text, boolean, text, text, text),
    fmtbank.catalog_test_change(text, text, text, text, text, text, text, boolean, text, text, text),
    fmtbank.catalog_test_retire(text, text),
    fmtbank.catalog_question_add(text, text, text, text, text, text, text, text, text),
    fmtbank.catalog_question_change(text, text, text, text, text, text),
    fmtbank.catalog_question_retire(text, text),
    fmtbank.catalog_reinterview(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT SELECT ON fmtbank.catalog_history
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): catalog_not_yet, catalog_specimen, catalog_phases, catalog_accept, catalog_days,
-- catalog_text, catalog_version_new, catalog_in_force, catalog_store, catalog_test_current,
-- catalog_change_result, catalog_take_effect, sweep_catalog (the daemon runs the sweep as
-- owner), catalog_question_current
