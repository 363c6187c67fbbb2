-- 210_desk_audit: functions and views (code: re-applied as a set by "fmtbank init", see README.md
-- "SQL as code"): the release signature's controlled meanings and what is signed, shown before
-- the password is asked (issue 14 item 8).

-- The meaning a release is signed with: p_meaning trimmed, which must be on the list
-- fmtbank.signature_meaning and not retired; NULL: the list's default. An empty meaning is
-- returned as is (sign_signer_check says it needs one).
CREATE OR REPLACE FUNCTION fmtbank.release_meaning(p_meaning text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m text := btrim(p_meaning);
    r text;
BEGIN
    IF p_meaning IS NULL THEN
        SELECT s.meaning INTO r FROM fmtbank.signature_meaning s
        WHERE s.is_default AND s.retired_at IS NULL;
        IF r IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = 'the signature needs its meaning: the site has no default meaning',
                HINT = 'Give one with --meaning; "fmtbank release meanings" lists them.';
        END IF;
        RETURN r;
    END IF;
    IF m = '' THEN
        RETURN m;
    END IF;
    SELECT s.meaning INTO r FROM fmtbank.signature_meaning s
    WHERE s.meaning = m AND s.retired_at IS NULL;
    IF r IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('meaning "%s" is not one of the site''s release signature meanings', m),
            DETAIL = (SELECT 'The meanings: ' || string_agg(format('"%s"', s.meaning), ', '
                                                           ORDER BY s.ord, s.meaning)
                      FROM fmtbank.signature_meaning s WHERE s.retired_at IS NULL),
            HINT = '"fmtbank release meanings" lists them.';
    END IF;
    RETURN r;
END $$;

-- The meanings a release may be signed with, the default first marked.
CREATE OR REPLACE VIEW fmtbank.release_meanings AS
    SELECT s.meaning, s.is_default AS "default", s.added_at
    FROM fmtbank.signature_meaning s
    WHERE s.retired_at IS NULL
    ORDER BY s.ord, s.meaning;

-- What "release sign" shows before it asks the password: every refusal of phase 1 that does not
-- depend on the password (role, lot, meaning, signer disabled, without a password or locked, the
-- lot released, held or not releasable) comes here, so a mistyped password on a lot that cannot
-- be signed is never asked for, let alone counted. Then the lot, its donor and collection day,
-- the doses the signature releases, the meaning and the verdict (every release rule passed).
-- A locked signer is a row with only the refusal (message, detail, hint) set.
CREATE OR REPLACE FUNCTION fmtbank.release_sign_preview(p_lot text, p_meaning text)
RETURNS TABLE (lot text, donor text, collected text, doses integer, meaning text,
               rules_passed integer, rules integer, refusal text, refusal_detail text,
               refusal_hint text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    pc record;
    t timestamptz := clock_timestamp();
BEGIN
    pc := fmtbank.sign_precheck(p_lot, p_meaning, false);
    IF (pc.u).locked_at IS NOT NULL THEN
        -- returned, not raised: the settle that found the lock stays committed (as sign_attempt)
        BEGIN
            PERFORM fmtbank.sign_locked_error(pc.u);
        EXCEPTION WHEN SQLSTATE 'FB003' THEN
            GET STACKED DIAGNOSTICS refusal = MESSAGE_TEXT, refusal_detail = PG_EXCEPTION_DETAIL,
                                    refusal_hint = PG_EXCEPTION_HINT;
        END;
        RETURN NEXT;
        RETURN;
    END IF;
    PERFORM fmtbank.sign_lot_refusal(pc.l);
    RETURN QUERY
    SELECT (pc.l).lot_id, d.code, fmtbank.ts_text((pc.l).collected_at),
           (SELECT count(*)::integer FROM fmtbank.aliquot x
            WHERE x.lot = (pc.l).id AND NOT x.retained AND x.status = 'quarantine'
              AND x.expires_at > t),
           pc.m,
           (SELECT count(*) FILTER (WHERE e.ok)::integer
            FROM fmtbank.lot_eval(t, ARRAY[(pc.l).id], NULL, false, 'rules') e),
           (SELECT count(*)::integer
            FROM fmtbank.lot_eval(t, ARRAY[(pc.l).id], NULL, false, 'rules') e),
           NULL::text, NULL::text, NULL::text
    FROM fmtbank.donor d WHERE d.id = (pc.l).donor_id;
END $$;

-- ---------------------------------------------------------------- the readable audit trail
-- (issue 14 item 10) "audit log" reads fmtbank.audit_trail: each change with the codes people know
-- instead of UUIDs and internal numbers, the changed fields old -> new, and filters by the acting
-- user and by the donor or lot a change concerns, across every audited table. These functions
-- are SECURITY INVOKER: they read the audit trail and the rows it names with the caller's own
-- rights, so the row-level policy of audit_log (donor identity for quality and admin only) holds.

-- One audited value as people read it: the UUID or internal number of a row known by a code
-- (donor, lot, aliquot, box, freezer, case, test, questionnaire) resolved to that code, by the
-- column's name; text unquoted; an array of plain values as "a, b"; long values cut at 60
-- characters; null as "(none)".
CREATE OR REPLACE FUNCTION fmtbank.audit_value(p_col text, p_val jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v text;
    r text;
    is_uuid boolean;
BEGIN
    IF p_val IS NULL OR jsonb_typeof(p_val) = 'null' THEN
        RETURN '(none)';
    END IF;
    -- an array of plain values (phases, scopes, unit aliases) as a list, not JSON
    v := CASE WHEN jsonb_typeof(p_val) = 'string' THEN p_val #>> '{}'
              WHEN jsonb_typeof(p_val) = 'array'
                   AND NOT jsonb_path_exists(p_val, '$[*] ? (@.type() == "object" || @.type() == "array")')
              THEN coalesce((SELECT string_agg(e #>> '{}', ', ' ORDER BY o)
                               FROM jsonb_array_elements(p_val) WITH ORDINALITY AS x(e, o)), '(none)')
              ELSE p_val::text END;
    is_uuid := v ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
    IF is_uuid THEN
        CASE p_col
        WHEN 'donor_id' THEN SELECT d.code INTO r FROM fmtbank.donor d WHERE d.id = v::uuid;
        WHEN 'lot' THEN SELECT l.lot_id INTO r FROM fmtbank.lot l WHERE l.id = v::uuid;
        WHEN 'aliquot', 'specimen' THEN
            SELECT a.aliquot_id INTO r FROM fmtbank.aliquot a WHERE a.id = v::uuid;
        WHEN 'box', 'from_box' THEN SELECT b.box_id INTO r FROM fmtbank.box b WHERE b.id = v::uuid;
        WHEN 'freezer' THEN SELECT f.freezer_id INTO r FROM fmtbank.freezer f WHERE f.id = v::uuid;
        WHEN 'questionnaire_id' THEN
            SELECT format('%s questionnaire of %s on %s', q.kind, d.code, q.q_date) INTO r
            FROM fmtbank.questionnaire q JOIN fmtbank.donor d ON d.id = q.donor_id
            WHERE q.id = v::uuid;
        WHEN 'result_id', 'supersedes' THEN
            -- supersedes: a result's or a questionnaire's earlier version
            SELECT format('%s result of %s collected %s, recorded %s', t.code, d.code, x.collected,
                          fmtbank.ts_text(x.recorded_at)) INTO r
            FROM fmtbank.result x JOIN fmtbank.donor d ON d.id = x.donor_id
            JOIN fmtbank.screening_test t ON t.test_no = x.test_no WHERE x.id = v::uuid;
            IF r IS NULL THEN
                SELECT format('%s questionnaire of %s on %s, recorded %s', q.kind, d.code, q.q_date,
                              fmtbank.ts_text(q.recorded_at)) INTO r
                FROM fmtbank.questionnaire q JOIN fmtbank.donor d ON d.id = q.donor_id
                WHERE q.id = v::uuid;
            END IF;
        ELSE NULL;
        END CASE;
    ELSIF v ~ '^\d{1,18}$' THEN
        CASE p_col
        WHEN 'case_id' THEN SELECT c.case_code INTO r FROM fmtbank.safety_case c WHERE c.id = v::bigint;
        WHEN 'test_no' THEN SELECT t.code INTO r FROM fmtbank.screening_test t WHERE t.test_no = v::integer;
        ELSE NULL;
        END CASE;
    END IF;
    v := coalesce(r, v);
    IF length(v) > 60 THEN
        v := left(v, 57) || '...';
    END IF;
    RETURN v;
END $$;

-- What a change is about, by codes: the row's own code when its key is one (not a UUID or a
-- serial number), then the donor, lot, aliquot, box (with the position), freezer, case and test
-- it names; the key itself when it names none of them.
CREATE OR REPLACE FUNCTION fmtbank.audit_subject(p_tbl text, p_key text, p_row jsonb) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(nullif(concat_ws(', ',
        CASE WHEN p_key !~ '^[0-9a-f]{8}-[0-9a-f]{4}-' AND p_key !~ '^\d+$'
                  AND p_tbl <> 'placement' -- its key is BOX:POSITION, shown with the box
             THEN p_key END,
        CASE WHEN p_tbl <> 'donor' AND p_row ? 'donor_id'
             THEN 'donor ' || fmtbank.audit_value('donor_id', p_row -> 'donor_id') END,
        CASE WHEN p_tbl = 'questionnaire_answer'
             THEN fmtbank.audit_value('questionnaire_id', to_jsonb(p_key)) END,
        CASE WHEN p_row ? 'lot' AND jsonb_typeof(p_row -> 'lot') = 'string'
             THEN 'lot ' || fmtbank.audit_value('lot', p_row -> 'lot') END,
        CASE WHEN p_row ? 'aliquot' AND jsonb_typeof(p_row -> 'aliquot') = 'string'
             THEN 'aliquot ' || fmtbank.audit_value('aliquot', p_row -> 'aliquot') END,
        CASE WHEN p_row ? 'specimen' AND jsonb_typeof(p_row -> 'specimen') = 'string'
             THEN 'tube ' || fmtbank.audit_value('specimen', p_row -> 'specimen') END,
        CASE WHEN p_row ? 'box' AND jsonb_typeof(p_row -> 'box') = 'string'
             THEN 'box ' || fmtbank.audit_value('box', p_row -> 'box')
                  || CASE WHEN p_row ? 'prow' AND jsonb_typeof(p_row -> 'prow') = 'number'
                          THEN ':' || fmtbank.position_text((p_row ->> 'prow')::integer,
                                                            (p_row ->> 'pcol')::integer) ELSE '' END
        END,
        CASE WHEN p_row ? 'freezer' AND jsonb_typeof(p_row -> 'freezer') = 'string'
             THEN 'freezer ' || fmtbank.audit_value('freezer', p_row -> 'freezer') END,
        CASE WHEN p_tbl <> 'safety_case' AND p_row ? 'case_id' AND jsonb_typeof(p_row -> 'case_id') = 'number'
             THEN 'case ' || fmtbank.audit_value('case_id', p_row -> 'case_id') END,
        CASE WHEN p_tbl = 'safety_case' THEN 'case ' || (p_row ->> 'case_code') END,
        CASE WHEN p_row ? 'test_no' AND jsonb_typeof(p_row -> 'test_no') = 'number'
             THEN 'test ' || fmtbank.audit_value('test_no', p_row -> 'test_no') END), ''),
        p_key)
$$;

-- The fields of a change: for an update those that changed, "field: old -> new"; for an insert
-- (or a delete) the fields with a value, "field: value"; in the table's column order. Values as
-- fmtbank.audit_value; a row's own internal id (UUID or serial) is left out: the subject names it.
CREATE OR REPLACE FUNCTION fmtbank.audit_changes(p_tbl text, p_op text, p_old jsonb, p_new jsonb)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT string_agg(CASE WHEN p_op = 'UPDATE'
                           THEN format('%s: %s → %s', k.k, fmtbank.audit_value(k.k, p_old -> k.k),
                                       fmtbank.audit_value(k.k, p_new -> k.k))
                           ELSE format('%s: %s', k.k, fmtbank.audit_value(k.k, coalesce(p_new, p_old) -> k.k))
                      END, '; ' ORDER BY a.attnum NULLS LAST, k.k)
    FROM (SELECT jsonb_object_keys(coalesce(p_new, '{}'::jsonb) || coalesce(p_old, '{}'::jsonb)) AS k) k
    LEFT JOIN pg_attribute a ON a.attrelid = to_regclass('fmtbank.' || quote_ident(p_tbl))
                            AND a.attname = k.k AND NOT a.attisdropped
    WHERE CASE WHEN p_op = 'UPDATE' THEN (p_old -> k.k) IS DISTINCT FROM (p_new -> k.k)
               ELSE jsonb_typeof(coalesce(p_new, p_old) -> k.k) <> 'null'
                    AND k.k <> 'id'
          END
$$;

-- The audit trail as "audit log" shows it. p_since / p_until: a date or timestamp (a date alone
-- for p_until: through that day); p_table, p_key: the table and row key as stored; p_who: the
-- acting user; p_donor: every change concerning that donor (the donor, its identity, decisions,
-- consents, questionnaires and answers, results, lots, their doses and whatever names them:
-- placements, custody, labels, issues, signatures, holds; its cases and their decisions and
-- notifications); p_lot: every change
-- concerning the lot (the lot, its doses and what names them; results on its tubes).
-- Quality, auditor and admin read the trail; anyone else is told which role it takes.
CREATE OR REPLACE FUNCTION fmtbank.audit_trail(p_since text, p_until text, p_table text,
                                               p_key text, p_who text, p_donor text, p_lot text)
RETURNS TABLE (id bigint, at timestamptz, who text, tbl text, op text, key text, subject text,
               changes text, reason text, old_row jsonb, new_row jsonb)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dn fmtbank.donor;
    lt fmtbank.lot;
    d_lots text[];
    d_als text[];
    d_qs text[];
    d_cases text[];
    l_als text[];
    t_since timestamptz;
    t_until timestamptz;
BEGIN
    PERFORM fmtbank.require_role('reading the audit trail', 'auditor', 'quality', 'admin');
    IF p_since IS NOT NULL THEN
        t_since := fmtbank.parse_ts(p_since, '--since');
    END IF;
    IF p_until IS NOT NULL THEN
        t_until := CASE WHEN p_until ~ '^\d{4}-\d{2}-\d{2}$'
                        THEN fmtbank.parse_ts(p_until, '--until') + interval '1 day'
                        ELSE fmtbank.parse_ts(p_until, '--until') END;
    END IF;
    IF p_who IS NOT NULL AND NOT EXISTS (SELECT 1 FROM fmtbank.audit_log a WHERE a.who = p_who)
       AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = p_who) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('user "%s" not found', p_who),
            HINT = '"fmtbank user list" lists the users.';
    END IF;
    IF p_donor IS NOT NULL THEN
        dn := fmtbank.donor_get(p_donor);
        d_lots := ARRAY(SELECT l.id::text FROM fmtbank.lot l WHERE l.donor_id = dn.id);
        d_als := ARRAY(SELECT a.id::text FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
                       WHERE l.donor_id = dn.id);
        d_qs := ARRAY(SELECT q.id::text FROM fmtbank.questionnaire q WHERE q.donor_id = dn.id);
        d_cases := ARRAY(SELECT c.id::text FROM fmtbank.safety_case c WHERE c.donor_id = dn.id);
    END IF;
    IF p_lot IS NOT NULL THEN
        lt := fmtbank.lot_get(p_lot);
        l_als := ARRAY(SELECT a.id::text FROM fmtbank.aliquot a WHERE a.lot = lt.id);
    END IF;
    RETURN QUERY
    SELECT a.id, a.at, a.who, a.tbl, a.op, a.key,
           fmtbank.audit_subject(a.tbl, a.key, x.r),
           fmtbank.audit_changes(a.tbl, a.op, a.old_row, a.new_row),
           a.reason, a.old_row, a.new_row
    FROM fmtbank.audit_log a
    CROSS JOIN LATERAL (SELECT coalesce(a.new_row, a.old_row) AS r) x
    WHERE (t_since IS NULL OR a.at >= t_since)
      AND (t_until IS NULL OR a.at < t_until)
      AND (p_table IS NULL OR a.tbl = p_table)
      AND (p_key IS NULL OR a.key = p_key)
      AND (p_who IS NULL OR a.who = p_who)
      AND (p_donor IS NULL
           OR (a.tbl = 'donor' AND a.key = dn.code)
           OR x.r ->> 'donor_id' = dn.id::text
           OR x.r ->> 'lot' = ANY (d_lots)
           OR x.r ->> 'aliquot' = ANY (d_als)
           OR x.r ->> 'specimen' = ANY (d_als)
           OR x.r ->> 'case_id' = ANY (d_cases)
           OR (a.tbl = 'questionnaire_answer' AND a.key = ANY (d_qs)))
      AND (p_lot IS NULL
           OR (a.tbl = 'lot' AND a.key = lt.lot_id)
           OR x.r ->> 'lot' = lt.id::text
           OR x.r ->> 'aliquot' = ANY (l_als)
           OR x.r ->> 'specimen' = ANY (l_als))
    ORDER BY a.id;
END $$;

-- The administrator keeps the controlled list (with a reason, audited): add a meaning (optionally
-- as the new default, at a place in the list), make one the default, retire one. A meaning is
-- never deleted, renamed or added twice (a retired meaning stays retired: every past signature
-- keeps its meaning's history); the default cannot be retired until another meaning is the
-- default, so "release sign" without --meaning always has one.
CREATE OR REPLACE FUNCTION fmtbank.signature_meaning_add(p_meaning text, p_default boolean,
                                                         p_order text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m text := btrim(p_meaning);
    o integer;
    old fmtbank.signature_meaning;
BEGIN
    PERFORM fmtbank.require_role('adding a release signature meaning', 'admin');
    IF m IS NULL OR m = '' OR length(m) > 500 OR m ~ '[[:cntrl:]]' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = 'meaning: give the text of the meaning (1 to 500 characters, no control characters)';
    END IF;
    IF p_order IS NOT NULL THEN
        IF p_order !~ '^[0-9]{1,6}$' THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('--order: "%s" is not a whole number from 0 to 999999', p_order);
        END IF;
        o := p_order::integer;
    END IF;
    SELECT * INTO old FROM fmtbank.signature_meaning s WHERE lower(s.meaning) = lower(m);
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('meaning "%s" is already on the list%s', old.meaning,
                             CASE WHEN old.retired_at IS NOT NULL
                                  THEN format(' (retired %s)', fmtbank.ts_text(old.retired_at)) ELSE '' END),
            HINT = 'A meaning is never added twice; a retired one stays retired.';
    END IF;
    PERFORM fmtbank.acting_reason(true, 'adding a release signature meaning');
    IF p_default THEN
        UPDATE fmtbank.signature_meaning SET is_default = false WHERE is_default;
    END IF;
    INSERT INTO fmtbank.signature_meaning (meaning, is_default, ord)
    VALUES (m, coalesce(p_default, false),
            coalesce(o, (SELECT coalesce(max(s.ord), 0) + 1 FROM fmtbank.signature_meaning s)));
    RETURN m;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.signature_meaning_current(p_meaning text, p_doing text)
RETURNS fmtbank.signature_meaning
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE r fmtbank.signature_meaning;
BEGIN
    SELECT * INTO r FROM fmtbank.signature_meaning s WHERE s.meaning = btrim(p_meaning);
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('meaning "%s" is not on the list', p_meaning),
            HINT = '"fmtbank release meanings" lists them.';
    END IF;
    IF r.retired_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('meaning "%s" was retired %s%s', r.meaning, fmtbank.ts_text(r.retired_at), p_doing);
    END IF;
    RETURN r;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.signature_meaning_default(p_meaning text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r fmtbank.signature_meaning;
BEGIN
    PERFORM fmtbank.require_role('choosing the default release signature meaning', 'admin');
    r := fmtbank.signature_meaning_current(p_meaning, ' and cannot become the default');
    IF r.is_default THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('meaning "%s" is already the default', r.meaning);
    END IF;
    PERFORM fmtbank.acting_reason(true, 'choosing the default release signature meaning');
    UPDATE fmtbank.signature_meaning SET is_default = false WHERE is_default;
    UPDATE fmtbank.signature_meaning SET is_default = true WHERE meaning = r.meaning;
    RETURN r.meaning;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.signature_meaning_retire(p_meaning text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r fmtbank.signature_meaning;
BEGIN
    PERFORM fmtbank.require_role('retiring a release signature meaning', 'admin');
    r := fmtbank.signature_meaning_current(p_meaning, ' already');
    IF r.is_default THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('meaning "%s" is the default and cannot be retired', r.meaning),
            HINT = 'Make another meaning the default first: "fmtbank release meaning default TEXT".';
    END IF;
    PERFORM fmtbank.acting_reason(true, 'retiring a release signature meaning');
    UPDATE fmtbank.signature_meaning SET retired_at = clock_timestamp() WHERE meaning = r.meaning;
    RETURN r.meaning;
END $$;

-- ---------------------------------------------------------------- privileges
GRANT SELECT ON fmtbank.release_meanings
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION
    fmtbank.release_sign_preview(text, text),
    fmtbank.audit_trail(text, text, text, text, text, text, text),
    fmtbank.audit_value(text, jsonb),
    fmtbank.audit_subject(text, text, jsonb),
    fmtbank.audit_changes(text, text, jsonb, jsonb)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT EXECUTE ON FUNCTION
    fmtbank.signature_meaning_add(text, boolean, text),
    fmtbank.signature_meaning_default(text),
    fmtbank.signature_meaning_retire(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): release_meaning, signature_meaning_current
