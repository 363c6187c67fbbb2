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

-- ---------------------------------------------------------------- privileges
GRANT SELECT ON fmtbank.release_meanings
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION
    fmtbank.release_sign_preview(text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): release_meaning
