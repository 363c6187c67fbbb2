-- 023_scan: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 023_scan: storing, retrieving, moving and discarding tubes, and the barcode scan session.
-- One scan is one call of fmtbank.scan(), which decides and writes in one round trip. The client
-- keeps the session state (mode, current box, fixed next position, tubes seen in audit mode) and
-- passes it with every scan; the function returns the answer lines and the new state.
--
-- Concurrency: every write that puts a tube into a box first locks that box row (FOR NO KEY
-- UPDATE), then the aliquot row (FOR UPDATE) - always in this order, so two writers never
-- deadlock. "Next free position" is therefore chosen by one writer at a time per box, and a
-- position is only ever filled by "UPDATE fmtbank.placement ... WHERE aliquot IS NULL" of its
-- own row (one row per position, UNIQUE aliquot), so a double booking is impossible even for a
-- writer that did not lock.

-- Free positions of a box as row ranges: "A4-A12, B1-B12, C3".
CREATE OR REPLACE FUNCTION fmtbank.box_free_text(b fmtbank.box) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT string_agg(CASE WHEN lo = hi THEN chr(64 + r) || lo
                           ELSE chr(64 + r) || lo || '-' || chr(64 + r) || hi END, ', '
                      ORDER BY r, lo)
    FROM (SELECT r, min(c) AS lo, max(c) AS hi
          FROM (SELECT p.prow AS r, p.pcol AS c,
                       p.pcol - row_number() OVER (PARTITION BY p.prow ORDER BY p.pcol) AS grp
                FROM fmtbank.placement p WHERE p.box = b.id AND p.aliquot IS NULL) f
          GROUP BY r, grp) g
$$;

CREATE OR REPLACE FUNCTION fmtbank.box_occupied(b fmtbank.box) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(p.aliquot)::integer FROM fmtbank.placement p WHERE p.box = b.id
$$;

-- The box with this ID, locked for placing tubes into it.
CREATE OR REPLACE FUNCTION fmtbank.box_lock(p text) RETURNS fmtbank.box
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE b fmtbank.box;
BEGIN
    SELECT * INTO b FROM fmtbank.box WHERE box_id = upper(btrim(p)) FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        b := fmtbank.box_get(p);   -- raises: malformed, bad check character or unknown
    END IF;
    RETURN b;
END $$;

-- "BOX:POS" of where a tube is now, or NULL.
CREATE OR REPLACE FUNCTION fmtbank.aliquot_location(p_aliquot uuid) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (SELECT p.slot FROM fmtbank.placement p WHERE p.aliquot = p_aliquot);
END $$;

-- Stores tube a in box b (locked by the caller) at (prow, pcol), or at the next free position
-- (row-major) when prow is NULL. Returns the position text. Refusals raise FB001/FB003.
CREATE OR REPLACE FUNCTION fmtbank.tube_store(p_aliquot uuid, b fmtbank.box, p_prow smallint, p_pcol smallint)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a fmtbank.aliquot;
    st text;
    here text;
    other text;
    r smallint := p_prow;
    c smallint := p_pcol;
BEGIN
    SELECT * INTO a FROM fmtbank.aliquot WHERE id = p_aliquot FOR UPDATE;
    st := fmtbank.aliquot_status_now(a.status, a.expires_at);
    IF st = 'expired' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot store "%s": it is expired', a.aliquot_id),
            DETAIL = format('It expired on %s.', a.expires_at::date),
            HINT = 'Discard it with "fmtbank aliquot discard".';
    ELSIF st IN ('discarded', 'issued') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot store "%s": it is %s', a.aliquot_id, st);
    END IF;
    -- the tubes of a rejected lot (a lot voided as entered in error: its labels are invalid)
    IF EXISTS (SELECT 1 FROM fmtbank.lot l WHERE l.id = a.lot AND l.status = 'rejected') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot store "%s": its lot is rejected', a.aliquot_id),
            DETAIL = (SELECT string_agg(format('%s: %s', j.e ->> 'rule', j.e ->> 'detail'), E'\n')
                      FROM fmtbank.lot l, jsonb_array_elements(l.reject_reasons) j(e) WHERE l.id = a.lot),
            HINT = 'Its label is not valid: set the tube aside for discard ("fmtbank aliquot discard").';
    END IF;
    IF a.thawed_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot store "%s": it was thawed at %s', a.aliquot_id,
                             fmtbank.ts_text(a.thawed_at)),
            DETAIL = 'Thawed material is never refrozen.';
    END IF;
    here := fmtbank.aliquot_location(a.id);
    IF here IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot store "%s": it is already stored in "%s"', a.aliquot_id, here),
            HINT = CASE WHEN split_part(here, ':', 1) = b.box_id
                        THEN 'It was scanned into this box before; nothing was changed.'
                        ELSE 'Retrieve it first, or move it with "fmtbank aliquot move".' END;
    END IF;
    IF r IS NOT NULL THEN
        SELECT x.aliquot_id INTO other FROM fmtbank.placement p JOIN fmtbank.aliquot x ON x.id = p.aliquot
        WHERE p.box = b.id AND p.prow = r AND p.pcol = c;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot store "%s" in "%s:%s": position is occupied by "%s"',
                                 a.aliquot_id, b.box_id, fmtbank.position_text(r, c), other);
        END IF;
    ELSE
        SELECT p.prow, p.pcol INTO r, c FROM fmtbank.placement p
        WHERE p.box = b.id AND p.aliquot IS NULL ORDER BY p.prow, p.pcol LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot store "%s": box "%s" is full', a.aliquot_id, b.box_id),
                HINT = 'Scan another box.';
        END IF;
    END IF;
    UPDATE fmtbank.placement SET aliquot = a.id, placed_at = clock_timestamp(), placed_by = session_user
    WHERE box = b.id AND prow = r AND pcol = c AND aliquot IS NULL;
    IF NOT FOUND THEN   -- only a writer that did not lock the box can get here
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot store "%s" in "%s:%s": position was just filled', a.aliquot_id,
                             b.box_id, fmtbank.position_text(r, c)),
            HINT = 'Scan the tube again.';
    END IF;
    INSERT INTO fmtbank.custody_event (aliquot, kind, box, prow, pcol) VALUES (a.id, 'place', b.id, r, c);
    RETURN fmtbank.position_text(r, c);
END $$;

-- Takes tube p_aliquot out of its position (kind 'remove', 'discard', 'issue' or 'thaw'),
-- recording the custody event; returns where it was ("BOX:POS"), or NULL when it was not stored
-- (then only events other than 'remove' are recorded). The caller has locked the aliquot row.
CREATE OR REPLACE FUNCTION fmtbank.tube_unplace(p_aliquot uuid, p_kind text, p_detail text DEFAULT NULL)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p fmtbank.placement;
BEGIN
    UPDATE fmtbank.placement x SET aliquot = NULL, placed_at = clock_timestamp(), placed_by = session_user
    WHERE x.aliquot = p_aliquot
    RETURNING x.* INTO p;
    IF p.box IS NOT NULL OR p_kind <> 'remove' THEN
        INSERT INTO fmtbank.custody_event (aliquot, kind, from_box, from_prow, from_pcol, detail)
        VALUES (p_aliquot, p_kind, p.box, p.prow, p.pcol, p_detail);
    END IF;
    RETURN p.slot;
END $$;

-- ---------------------------------------------------------------- aliquot move, discard
CREATE OR REPLACE FUNCTION fmtbank.aliquot_move(p_id text, p_to text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a fmtbank.aliquot;
    loc record;
    target fmtbank.box;
    b fmtbank.box;
    p fmtbank.placement;
    other text;
BEGIN
    PERFORM fmtbank.require_role('moving aliquots', 'technician');
    a := fmtbank.aliquot_get(p_id);
    SELECT x.prow, x.pcol INTO loc FROM fmtbank.location_parse(p_to, '--to') x;
    SELECT (x.box).* INTO target FROM fmtbank.location_parse(p_to, '--to') x;
    b := fmtbank.box_lock(target.box_id);
    SELECT * INTO a FROM fmtbank.aliquot WHERE id = a.id FOR UPDATE;
    SELECT * INTO p FROM fmtbank.placement x WHERE x.aliquot = a.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot move "%s": it is not stored in any box', a.aliquot_id),
            HINT = 'Store it by scanning it into a box with "fmtbank scan".';
    END IF;
    IF p.box = b.id AND p.prow = loc.prow AND p.pcol = loc.pcol THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot move "%s": it is already in "%s:%s"', a.aliquot_id, b.box_id,
                             fmtbank.position_text(loc.prow, loc.pcol));
    END IF;
    SELECT x.aliquot_id INTO other FROM fmtbank.placement q JOIN fmtbank.aliquot x ON x.id = q.aliquot
    WHERE q.box = b.id AND q.prow = loc.prow AND q.pcol = loc.pcol;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot move "%s" to "%s:%s": position is occupied by "%s"', a.aliquot_id,
                             b.box_id, fmtbank.position_text(loc.prow, loc.pcol), other);
    END IF;
    UPDATE fmtbank.placement x SET aliquot = NULL, placed_at = clock_timestamp(), placed_by = session_user
    WHERE x.aliquot = a.id;
    UPDATE fmtbank.placement x SET aliquot = a.id, placed_at = clock_timestamp(), placed_by = session_user
    WHERE x.box = b.id AND x.prow = loc.prow AND x.pcol = loc.pcol AND x.aliquot IS NULL;
    INSERT INTO fmtbank.custody_event (aliquot, kind, box, prow, pcol, from_box, from_prow, from_pcol)
    VALUES (a.id, 'move', b.id, loc.prow, loc.pcol, p.box, p.prow, p.pcol);
    RETURN b.box_id || ':' || fmtbank.position_text(loc.prow, loc.pcol);
END $$;

CREATE OR REPLACE FUNCTION fmtbank.aliquot_discard(p_id text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a fmtbank.aliquot;
    why text;
BEGIN
    PERFORM fmtbank.require_role('discarding aliquots', 'technician', 'quality');
    a := fmtbank.aliquot_get(p_id);
    why := fmtbank.acting_reason(true, 'discarding an aliquot');
    SELECT * INTO a FROM fmtbank.aliquot WHERE id = a.id FOR UPDATE;
    IF a.status IN ('discarded', 'issued') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot discard "%s": it is %s', a.aliquot_id, a.status);
    END IF;
    PERFORM fmtbank.tube_unplace(a.id, 'discard');
    UPDATE fmtbank.aliquot SET status = 'discarded', status_at = clock_timestamp(), status_reason = why
    WHERE id = a.id;
    RETURN a.aliquot_id;
END $$;

-- ---------------------------------------------------------------- audit mode
-- Compares the tubes scanned in box p_box (p_seen) with what the database has there, records the
-- box audit and returns the report lines: one OK/ERR line, then one indented line per
-- discrepancy.
CREATE OR REPLACE FUNCTION fmtbank.box_audit_close(p_box text, p_seen text[], OUT lines text[], OUT problems integer)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b fmtbank.box := fmtbank.box_get(p_box);
    n_expected integer;
    n_seen integer;
    v_missing jsonb;
    v_unexpected jsonb;
BEGIN
    WITH seen AS (SELECT DISTINCT upper(btrim(s)) AS id FROM unnest(coalesce(p_seen, '{}')) s),
    expected AS (SELECT a.aliquot_id AS id, fmtbank.position_text(p.prow, p.pcol) AS pos
                 FROM fmtbank.placement p JOIN fmtbank.aliquot a ON a.id = p.aliquot
                 WHERE p.box = b.id)
    SELECT (SELECT count(*) FROM expected), (SELECT count(*) FROM seen),
           coalesce((SELECT jsonb_agg(jsonb_build_object('aliquot', e.id, 'position', e.pos)
                                      ORDER BY left(e.pos, 1), substr(e.pos, 2)::int)
                     FROM expected e WHERE e.id NOT IN (SELECT id FROM seen)), '[]'),
           coalesce((SELECT jsonb_agg(jsonb_build_object('aliquot', s.id,
                                      'stored', fmtbank.aliquot_location(a.id)) ORDER BY s.id)
                     FROM seen s LEFT JOIN fmtbank.aliquot a ON a.aliquot_id = s.id
                     WHERE s.id NOT IN (SELECT id FROM expected)), '[]')
    INTO n_expected, n_seen, v_missing, v_unexpected;
    INSERT INTO fmtbank.box_audit (box, expected, seen, missing, unexpected)
    VALUES (b.id, n_expected, n_seen, v_missing, v_unexpected);
    problems := jsonb_array_length(v_missing) + jsonb_array_length(v_unexpected);
    lines := ARRAY[CASE WHEN problems = 0
        THEN format('OK audit of box %s: all %s expected tubes scanned', b.box_id, n_expected)
        ELSE format('ERR audit of box %s: %s expected, %s scanned, %s missing, %s unexpected',
                    b.box_id, n_expected, n_seen, jsonb_array_length(v_missing),
                    jsonb_array_length(v_unexpected)) END]
        || coalesce((SELECT array_agg(format('  missing %s (expected at %s:%s)', m ->> 'aliquot',
                                             b.box_id, m ->> 'position') ORDER BY o)
                     FROM jsonb_array_elements(v_missing) WITH ORDINALITY AS x(m, o)), '{}')
        || coalesce((SELECT array_agg(format('  unexpected %s (%s)', u ->> 'aliquot',
                                             CASE WHEN u ->> 'stored' IS NULL
                                                  THEN 'recorded as not stored in any box'
                                                  ELSE 'recorded in ' || (u ->> 'stored') END) ORDER BY o)
                     FROM jsonb_array_elements(v_unexpected) WITH ORDINALITY AS x(u, o)), '{}');
END $$;

-- ---------------------------------------------------------------- the scan session
-- Checks at the start of a session that the acting user may scan.
CREATE OR REPLACE FUNCTION fmtbank.scan_begin() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM fmtbank.require_role('scanning', 'technician');
END $$;

-- One scan. p_mode: store, retrieve, audit or issue; p_box: the current box ID or NULL; p_pos: the
-- position fixed for the next tube (store mode) or NULL; p_line: what was scanned; p_seen: the
-- tubes scanned in the current box in audit mode; p_recipient, p_site: whom the tubes scanned in
-- issue mode go to (the session's --recipient and --site; issue mode needs both). Returns the
-- answer lines, newline-separated (each begins with OK or ERR, or is an indented continuation),
-- what happened (event: mode, end, box, box_again, position, stored, retrieved, seen, issued),
-- the new state, and the number of audit discrepancies reported.
-- A refused scan raises (FB001 invalid, FB002 unknown, FB003 refused) and changes nothing.
-- Issue mode: each tube is one call of fmtbank.aliquot_issue (033) - its rules and the holds of
-- the transition triggers (030) decide; a refusal is raised again as "<aliquot>: <why>". Boxes,
-- lots, freezers and positions are refused: tubes are issued one by one.
-- p_use (issue mode): what the doses are issued for, as "aliquot issue --use" (NULL: clinical).
-- The seven-argument form before it took p_use is dropped, so that only this one exists.
DROP FUNCTION IF EXISTS fmtbank.scan(text, text, text, text, text[], text, text);
CREATE OR REPLACE FUNCTION fmtbank.scan(p_mode text, p_box text, p_pos text, p_line text,
                             p_seen text[] DEFAULT NULL, p_recipient text DEFAULT NULL,
                             p_site text DEFAULT NULL, p_use text DEFAULT NULL)
RETURNS TABLE (answer text, event text, mode text, box text, pos text, problems integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_mode text := lower(coalesce(nullif(btrim(p_mode), ''), 'store'));
    v_line text := upper(btrim(coalesce(p_line, '')));
    v_kind text;
    v_new text;
    v_lines text[] := '{}';
    v_problems integer := 0;
    v_where text;
    v_state text;
    v_msg text;
    v_detail text;
    v_hint text;
    b fmtbank.box;
    a fmtbank.aliquot;
    pp record;
    r smallint;
    c smallint;
    n integer;
BEGIN
    -- Who may scan: EXECUTE is granted to technicians only, and fmtbank.scan_begin() gives the
    -- CLI its message once per session; require_role() per scan would cost more than the scan.
    IF v_mode NOT IN ('store', 'retrieve', 'audit', 'issue') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid scan mode "%s"', p_mode),
            HINT = 'Use store, retrieve, audit or issue.';
    END IF;
    IF v_mode = 'issue' AND (p_recipient IS NULL OR p_site IS NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'issue mode needs a recipient and a site',
            HINT = 'Start the session with "fmtbank scan --mode issue --recipient R --site S".';
    END IF;

    IF v_line ~ '^MODE( |$)' OR v_line = 'END' THEN
        v_new := CASE WHEN v_line = 'END' THEN v_mode ELSE lower(btrim(substr(v_line, 5))) END;
        IF v_new NOT IN ('store', 'retrieve', 'audit', 'issue') THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid scan mode "%s"', v_new),
                HINT = 'Scan MODE store, MODE retrieve or MODE audit.';
        END IF;
        IF v_new = 'issue' AND (p_recipient IS NULL OR p_site IS NULL) THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'issue mode needs a recipient and a site',
                HINT = 'Start the session with "fmtbank scan --mode issue --recipient R --site S".';
        END IF;
        IF v_mode = 'audit' AND p_box IS NOT NULL THEN
            SELECT * INTO v_lines, v_problems FROM fmtbank.box_audit_close(p_box, p_seen);
        END IF;
        IF v_line = 'END' THEN
            RETURN QUERY SELECT array_to_string(v_lines || 'OK end of session'::text, E'\n'), 'end'::text, v_mode, NULL::text,
                                NULL::text, v_problems;
        ELSE
            -- An audit starts with the scan of a box: entering audit mode deselects the box, as
            -- does issue mode (tubes are issued wherever they are).
            RETURN QUERY SELECT array_to_string(v_lines || CASE
                                    WHEN v_new = 'audit' THEN 'OK mode audit: scan a box to audit it'
                                    WHEN v_new = 'issue' THEN format('OK mode issue: each tube scanned is issued to %s at %s',
                                                                     p_recipient, p_site)
                                    ELSE format('OK mode %s', v_new) END, E'\n'),
                                'mode'::text, v_new, CASE WHEN v_new IN ('audit', 'issue') THEN NULL ELSE p_box END,
                                NULL::text, v_problems;
        END IF;
        RETURN;
    END IF;

    v_kind := fmtbank.id_kind(v_line);
    IF v_kind = 'box' THEN
        b := fmtbank.box_get(v_line);
        IF v_mode = 'issue' THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('%s: a box is not issued in issue mode', b.box_id),
                HINT = 'Issue tubes one by one: scan the label of each tube.';
        END IF;
        IF v_mode = 'audit' AND p_box = b.box_id THEN
            -- the box being audited, scanned again: go on with its audit
            RETURN QUERY SELECT format('OK box %s: still auditing, %s tube%s scanned so far', b.box_id,
                                       coalesce(cardinality(p_seen), 0),
                                       CASE WHEN coalesce(cardinality(p_seen), 0) = 1 THEN '' ELSE 's' END),
                                'box_again'::text, v_mode, b.box_id, NULL::text, 0;
            RETURN;
        END IF;
        IF v_mode = 'audit' AND p_box IS NOT NULL THEN
            SELECT * INTO v_lines, v_problems FROM fmtbank.box_audit_close(p_box, p_seen);
        END IF;
        n := fmtbank.box_occupied(b);
        RETURN QUERY SELECT array_to_string(v_lines || CASE v_mode
            WHEN 'store' THEN format('OK box %s (%s x %s): %s', b.box_id, b.nrows, b.ncols,
                CASE WHEN n = 0 THEN format('all %s positions free', b.nrows * b.ncols)
                     WHEN n = b.nrows * b.ncols THEN 'full, no position free'
                     ELSE format('%s free: %s', b.nrows * b.ncols - n, fmtbank.box_free_text(b)) END)
            WHEN 'retrieve' THEN format('OK box %s: %s tube%s stored', b.box_id, n,
                                        CASE WHEN n = 1 THEN '' ELSE 's' END)
            ELSE format('OK box %s: auditing, %s tube%s expected; scan every tube, then the next box or END',
                        b.box_id, n, CASE WHEN n = 1 THEN '' ELSE 's' END) END, E'\n'),
            'box'::text, v_mode, b.box_id, NULL::text, v_problems;
        RETURN;
    END IF;

    IF v_line ~ '^[A-Z][0-9]{1,2}$' THEN
        IF v_mode = 'issue' THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('cannot use position "%s" in issue mode', v_line),
                HINT = 'Issue tubes one by one: scan the label of each tube.';
        END IF;
        IF p_box IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot use position "%s": no box selected', v_line),
                HINT = 'Scan the box first.';
        END IF;
        IF v_mode <> 'store' THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('cannot use position "%s" in %s mode', v_line, v_mode),
                HINT = 'Positions choose where the next tube is stored (MODE store).';
        END IF;
        b := fmtbank.box_get(p_box);
        SELECT * INTO pp FROM fmtbank.position_parse(v_line, b);
        SELECT x.aliquot_id INTO v_where FROM fmtbank.placement p JOIN fmtbank.aliquot x ON x.id = p.aliquot
        WHERE p.box = b.id AND p.prow = pp.prow AND p.pcol = pp.pcol;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('position "%s:%s" is occupied by "%s"', b.box_id, v_line, v_where),
                HINT = 'Scan a free position, or scan the tube to use the next free one.';
        END IF;
        RETURN QUERY SELECT array_to_string(v_lines || format('OK next tube goes to %s:%s', b.box_id, v_line), E'\n'),
                            'position'::text, v_mode, b.box_id, v_line, 0;
        RETURN;
    END IF;

    IF v_kind = 'aliquot' THEN
        a := fmtbank.aliquot_get(v_line);
        IF v_mode = 'issue' THEN
            BEGIN
                PERFORM fmtbank.aliquot_issue(a.aliquot_id, p_recipient, p_site, coalesce(p_use, 'clinical'));
            EXCEPTION WHEN SQLSTATE 'FB003' THEN
                -- the issue rules' refusal, as "<aliquot>: <why>"
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
                RAISE EXCEPTION USING ERRCODE = v_state,
                    MESSAGE = format('%s: %s', a.aliquot_id,
                                     regexp_replace(v_msg, '^cannot issue "[^"]*": (it (is|was) )?', '')),
                    DETAIL = coalesce(v_detail, ''), HINT = coalesce(v_hint, '');
            END;
            RETURN QUERY SELECT format('OK %s issued to %s', a.aliquot_id, upper(btrim(p_recipient))),
                                'issued'::text, v_mode, NULL::text, NULL::text, 0;
            RETURN;
        END IF;
        IF p_box IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB003',
                MESSAGE = format('cannot %s "%s": no box selected', v_mode, a.aliquot_id),
                HINT = 'Scan the box first.';
        END IF;
        IF v_mode = 'store' THEN
            b := fmtbank.box_lock(p_box);
            IF p_pos IS NOT NULL THEN
                SELECT x.prow, x.pcol INTO r, c FROM fmtbank.position_parse(p_pos, b) x;
            END IF;
            v_where := fmtbank.tube_store(a.id, b, r, c);
            RETURN QUERY SELECT array_to_string(v_lines || format('OK stored %s in %s:%s', a.aliquot_id, b.box_id, v_where), E'\n'),
                                'stored'::text, v_mode, b.box_id, NULL::text, 0;
        ELSIF v_mode = 'retrieve' THEN
            b := fmtbank.box_get(p_box);
            SELECT * INTO a FROM fmtbank.aliquot WHERE id = a.id FOR UPDATE;
            v_where := fmtbank.aliquot_location(a.id);
            IF v_where IS NULL THEN
                RAISE EXCEPTION USING ERRCODE = 'FB003',
                    MESSAGE = format('cannot retrieve "%s": it is not stored in any box', a.aliquot_id);
            END IF;
            IF split_part(v_where, ':', 1) <> b.box_id THEN
                RAISE EXCEPTION USING ERRCODE = 'FB003',
                    MESSAGE = format('cannot retrieve "%s" from box "%s": it is stored in "%s"',
                                     a.aliquot_id, b.box_id, v_where),
                    HINT = 'Scan that box first.';
            END IF;
            PERFORM fmtbank.tube_unplace(a.id, 'remove');
            -- a held tube may be taken out (for testing, for the decision), and the scanner says so
            RETURN QUERY SELECT array_to_string(v_lines || (format('OK retrieved %s from %s', a.aliquot_id, v_where)
                                    || coalesce(' WARN held: ' || (SELECT string_agg(format('%s (%s): %s',
                                           h ->> 'case', h ->> 'source', h ->> 'reason'), '; ')
                                       FROM jsonb_array_elements(fmtbank.holds_of(a.lot, a.id)) h), '')
                                    || coalesce((SELECT ' WARN lot rejected: ' || string_agg(j.e ->> 'detail', '; ')
                                                 FROM fmtbank.lot l, jsonb_array_elements(l.reject_reasons) j(e)
                                                 WHERE l.id = a.lot AND l.status = 'rejected'), '')), E'\n'),
                                'retrieved'::text, v_mode, b.box_id, NULL::text, 0;
        ELSE
            b := fmtbank.box_get(p_box);
            v_where := fmtbank.aliquot_location(a.id);
            RETURN QUERY SELECT array_to_string(v_lines || format('OK seen %s%s', a.aliquot_id,
                CASE WHEN a.aliquot_id = ANY (coalesce(p_seen, '{}')) THEN ' again'
                     WHEN split_part(v_where, ':', 1) = b.box_id
                         THEN format(' (%s)', split_part(v_where, ':', 2))
                     WHEN v_where IS NULL THEN ' (not expected here: recorded as not stored in any box)'
                     ELSE format(' (not expected here: recorded in %s)', v_where) END), E'\n'),
                'seen'::text, v_mode, b.box_id, NULL::text, 0;
        END IF;
        RETURN;
    END IF;

    IF v_kind IN ('lot', 'freezer') THEN
        PERFORM fmtbank.check_id(v_line, v_kind, fmtbank.id_pattern(v_kind));
        IF v_mode = 'issue' THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('%s: a %s is not issued in issue mode', v_line, v_kind),
                HINT = 'Issue tubes one by one: scan the label of each tube.';
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('"%s" is a %s ID, not a box, position or tube', v_line, v_kind),
            HINT = 'Scan a box, a position (e.g. C4) or the label of a tube.';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'FB001',
        MESSAGE = format('unrecognised scan "%s"', left(v_line, 40)),
        HINT = 'Scan a box, a position (e.g. C4), a tube, MODE store|retrieve|audit, or END.';
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.box_free_text(fmtbank.box),
    fmtbank.box_occupied(fmtbank.box),
    fmtbank.aliquot_location(uuid),
    fmtbank.aliquot_move(text, text),
    fmtbank.aliquot_discard(text),
    fmtbank.scan_begin()
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): box_lock, tube_store, tube_unplace, box_audit_close

GRANT EXECUTE ON FUNCTION
    fmtbank.scan(text, text, text, text, text[], text, text, text)
    TO fmtbank_technician;
