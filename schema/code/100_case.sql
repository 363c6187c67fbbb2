-- 100_case: cases and holds (product.md §11.0). A case records a safety signal with its source
-- and scope; what it holds is stored in the same transaction (fmtbank.case_hold: one row per
-- case and lot; a storage scope's row carries the lot's held tubes in its aliquots) and ends only by a quality
-- officer's signed decision (case_decide). Held material cannot be released, issued or discarded
-- (the transition triggers of 030 refuse it for every caller), nor thawed but by quality.

-- ---------------------------------------------------------------- reading cases and holds
-- A case by its ID (check character verified), FB001 when malformed, FB002 when unknown.
CREATE OR REPLACE FUNCTION fmtbank.case_get(p text) RETURNS fmtbank.safety_case
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c fmtbank.safety_case;
    v text := upper(btrim(coalesce(p, '')));
BEGIN
    IF v !~ '^C[0-9]{8}[0-9A-Z*]$' OR fmtbank.with_check(left(v, 9)) <> v THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid case ID "%s"', coalesce(p, '')),
            HINT = 'A case ID is C, 8 digits and a check character, as "fmtbank case list" shows.';
    END IF;
    SELECT * INTO c FROM fmtbank.safety_case x WHERE x.case_code = v;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('case "%s" not found', v);
    END IF;
    RETURN c;
END $$;

-- Refuses p_action on held material (FB003, naming the cases). Called by the transition
-- triggers (030) and by the functions that take a tube out of stock.
CREATE OR REPLACE FUNCTION fmtbank.hold_refuse(p_lot uuid, p_aliquot uuid, p_action text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE h jsonb := fmtbank.holds_of(p_lot, p_aliquot);
BEGIN
    IF h <> '[]'::jsonb THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot %s: %s held by case %s', p_action,
                             CASE WHEN p_aliquot IS NULL THEN 'the lot is' ELSE 'it is' END,
                             (SELECT string_agg(x ->> 'case', ', ') FROM jsonb_array_elements(h) x)),
            DETAIL = (SELECT string_agg(format('%s (%s): %s', x ->> 'case', x ->> 'source',
                                               x ->> 'reason'), E'\n')
                      FROM jsonb_array_elements(h) x),
            HINT = 'Only a quality officer''s signed decision ends a hold: "fmtbank case decide CASE --lift|--recall|--discard".';
    END IF;
END $$;

-- ---------------------------------------------------------------- opening cases
-- A new case (its ID drawn from the per-year counter). Callers hold what it covers.
CREATE OR REPLACE FUNCTION fmtbank.case_open(p_source text, p_reason text, p_scope_kind text,
                                             p_donor uuid, p_ref uuid, p_from timestamptz,
                                             p_to timestamptz)
RETURNS fmtbank.safety_case
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO fmtbank.safety_case (case_code, source, reason, scope_kind, donor_id, scope_ref,
                                     scope_from, scope_to)
    VALUES (fmtbank.year_next_id('case', 'C', clock_timestamp()), p_source, p_reason,
            p_scope_kind, p_donor, p_ref, p_from, p_to)
    RETURNING *
$$;

-- Holds the given lots (still in the bank: quarantine, ready, released) for a case; returns how
-- many lots were held.
CREATE OR REPLACE FUNCTION fmtbank.case_hold_lots(p_case bigint, p_lots uuid[]) RETURNS integer
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    WITH ins AS (
        INSERT INTO fmtbank.case_hold (case_id, lot)
        SELECT p_case, l.id FROM fmtbank.lot l
        WHERE l.id = ANY (p_lots) AND l.status IN ('quarantine', 'ready', 'released')
        ORDER BY l.id
        RETURNING 1)
    SELECT count(*)::integer FROM ins
$$;

-- The tubes that were in a box (or any box of a freezer) at some time in [p_from, p_to],
-- from the chain of custody: each place or move starts a stay that the tube's next event ends.
CREATE OR REPLACE FUNCTION fmtbank.tubes_in(p_box uuid, p_freezer uuid, p_from timestamptz,
                                            p_to timestamptz)
RETURNS TABLE (aliquot uuid, lot uuid)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT s.aliquot, a.lot
    FROM (SELECT e.aliquot, e.box, e.at AS start_at,
                 lead(e.at) OVER (PARTITION BY e.aliquot ORDER BY e.at, e.id) AS end_at
          FROM fmtbank.custody_event e
          WHERE e.aliquot IN (SELECT x.aliquot FROM fmtbank.custody_event x
                              JOIN fmtbank.box b ON b.id = x.box
                              WHERE (p_box IS NULL OR x.box = p_box)
                                AND (p_freezer IS NULL OR b.freezer = p_freezer))) s
    JOIN fmtbank.box b ON b.id = s.box
    JOIN fmtbank.aliquot a ON a.id = s.aliquot
    WHERE (p_box IS NULL OR s.box = p_box) AND (p_freezer IS NULL OR b.freezer = p_freezer)
      AND s.start_at <= p_to AND (s.end_at IS NULL OR s.end_at > p_from)
$$;

-- Holds the tubes still in stock that were in a box or freezer during [p_from, p_to] for a case:
-- one case_hold row per lot carrying its tubes (product.md §11.0.1: holding a million tubes is
-- one statement). The hold names the tubes, so it follows each wherever it moves. Returns how
-- many tubes.
CREATE OR REPLACE FUNCTION fmtbank.case_hold_tubes(p_case bigint, p_box uuid, p_freezer uuid,
                                                   p_from timestamptz, p_to timestamptz)
RETURNS integer
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    WITH ins AS (
        INSERT INTO fmtbank.case_hold (case_id, lot, aliquots)
        SELECT p_case, t.lot, array_agg(t.aliquot ORDER BY t.aliquot)
        FROM fmtbank.tubes_in(p_box, p_freezer, p_from, p_to) t
        JOIN fmtbank.aliquot a ON a.id = t.aliquot
        WHERE a.status IN ('quarantine', 'released', 'recalled', 'expired')
        GROUP BY t.lot
        ORDER BY t.lot
        RETURNING cardinality(aliquots) AS n)
    SELECT coalesce(sum(n), 0)::integer FROM ins
$$;

-- A manual case holding every lot of a donor (donor exclude opens one in its transaction).
CREATE OR REPLACE FUNCTION fmtbank.case_open_donor(p_source text, p_donor uuid, p_reason text)
RETURNS fmtbank.safety_case
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE c fmtbank.safety_case;
BEGIN
    c := fmtbank.case_open(p_source, p_reason, 'donor', p_donor, NULL, NULL, NULL);
    PERFORM fmtbank.case_hold_lots(c.id, ARRAY(SELECT l.id FROM fmtbank.lot l
                                               WHERE l.donor_id = p_donor));
    RETURN c;
END $$;

-- A lot recorded while a donor-scope case is open whose window it falls in is held at once
-- (a donor hold without --to, and a result case, cover the lots collected later too).
CREATE OR REPLACE FUNCTION fmtbank.case_hold_new_lots() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO fmtbank.case_hold (case_id, lot)
    SELECT c.id, n.id
    FROM new_rows n
    JOIN fmtbank.safety_case c ON c.donor_id = n.donor_id AND c.status = 'open'
         AND c.scope_kind = 'donor'
         AND (c.scope_from IS NULL OR n.collected_at >= c.scope_from)
         AND (c.scope_to IS NULL OR n.collected_at <= c.scope_to)
         AND (c.source <> 'result' OR n.collected_at::date >= c.hold_from)
    WHERE n.status IN ('quarantine', 'ready', 'released')
    ORDER BY c.id, n.id;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER case_hold_new_lots AFTER INSERT ON fmtbank.lot
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.case_hold_new_lots();

-- "fmtbank hold add (--donor D | --lot L | --aliquot A | --box B | --freezer F) [--from TS]
-- [--to TS] --reason R": a manual case on suspicion. Any role but the auditor. A donor scope
-- holds the donor's lots collected in [from, to] (default: all); a lot or an aliquot itself; a
-- box or freezer the tubes that were there during [from, to] (default: now).
CREATE OR REPLACE FUNCTION fmtbank.hold_add(p_kind text, p_ref text, p_from text, p_to text)
RETURNS TABLE (case_id text, lots integer, aliquots integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    why text;
    t0 timestamptz;
    t1 timestamptz;
    now_t timestamptz := clock_timestamp();
    c fmtbank.safety_case;
    d fmtbank.donor;
    l fmtbank.lot;
    a fmtbank.aliquot;
    ref uuid;
    nl integer := 0;
    na integer := 0;
BEGIN
    PERFORM fmtbank.require_role('adding holds', 'technician', 'quality', 'admin');
    why := fmtbank.acting_reason(true, 'adding a hold');
    t0 := CASE WHEN p_from IS NOT NULL THEN fmtbank.parse_past_ts(p_from, '--from') END;
    t1 := CASE WHEN p_to IS NOT NULL THEN fmtbank.parse_past_ts(p_to, '--to') END;
    IF t0 IS NOT NULL AND t1 IS NOT NULL AND t1 < t0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = '--to is before --from';
    END IF;
    IF p_kind = 'donor' THEN
        d := fmtbank.donor_get(p_ref);
        c := fmtbank.case_open('manual', why, 'donor', d.id, NULL, t0, t1);
        nl := fmtbank.case_hold_lots(c.id, ARRAY(
            SELECT x.id FROM fmtbank.lot x WHERE x.donor_id = d.id
              AND (t0 IS NULL OR x.collected_at >= t0) AND (t1 IS NULL OR x.collected_at <= t1)));
    ELSIF p_kind IN ('lot', 'aliquot') THEN
        IF t0 IS NOT NULL OR t1 IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FB001',
                MESSAGE = format('--from and --to apply to a donor, box or freezer, not to one %s', p_kind);
        END IF;
        IF p_kind = 'lot' THEN
            l := fmtbank.lot_get(p_ref);
            c := fmtbank.case_open('manual', why, 'lot', l.donor_id, l.id, NULL, NULL);
            nl := fmtbank.case_hold_lots(c.id, ARRAY[l.id]);
        ELSE
            a := fmtbank.aliquot_get(p_ref);
            SELECT * INTO l FROM fmtbank.lot x WHERE x.id = a.lot;
            c := fmtbank.case_open('manual', why, 'aliquot', l.donor_id, a.id, NULL, NULL);
            INSERT INTO fmtbank.case_hold (case_id, lot, aliquots)
            SELECT c.id, a.lot, ARRAY[a.id] WHERE a.status NOT IN ('issued', 'discarded');
            GET DIAGNOSTICS na = ROW_COUNT;
        END IF;
    ELSIF p_kind IN ('box', 'freezer') THEN
        ref := CASE p_kind WHEN 'box' THEN (fmtbank.box_get(p_ref)).id
                           ELSE (fmtbank.freezer_get(p_ref)).id END;
        c := fmtbank.case_open('manual', why, p_kind, NULL, ref, coalesce(t0, now_t),
                               coalesce(t1, now_t));
        na := fmtbank.case_hold_tubes(c.id, CASE p_kind WHEN 'box' THEN ref END,
                                      CASE p_kind WHEN 'freezer' THEN ref END,
                                      coalesce(t0, now_t), coalesce(t1, now_t));
    ELSE
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid hold scope "%s"', p_kind),
            HINT = 'Hold a donor, lot, aliquot, box or freezer.';
    END IF;
    RETURN QUERY SELECT c.case_code, nl, na;
END $$;

-- ---------------------------------------------------------------- decisions
-- Phase 1 of a signed decision (like sign_attempt for a release): the signer's checks, then the
-- password check stored and its id returned whatever the verdict; NULL when the signer is
-- locked. Commit it before case_decide.
CREATE OR REPLACE FUNCTION fmtbank.case_sign_attempt(p_case text, p_meaning text, p_password text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c fmtbank.safety_case;
    sc record;
BEGIN
    PERFORM fmtbank.require_role('deciding cases', 'quality');
    c := fmtbank.case_get(p_case);
    sc := fmtbank.sign_signer_check(p_meaning);
    IF (sc.u).locked_at IS NOT NULL THEN
        RETURN NULL;
    END IF;
    RETURN fmtbank.sign_check_store(sc.u, NULL, c.id, sc.m, p_password);
END $$;

-- Phase 2: "fmtbank case decide CASE (--lift | --recall | --discard) [--lot L] --meaning TEXT"
-- (quality). Ends the holds decided (all of the case's, or those of one lot), then recalls or
-- discards what they held that is still in stock (the retained sample is kept for testing);
-- issued doses are listed for notification. The case is decided when no hold of it is left.
CREATE OR REPLACE FUNCTION fmtbank.case_decide(p_case text, p_decision text, p_lot text,
                                               p_meaning text, p_attempt bigint)
RETURNS TABLE (outcome text, lots integer, aliquots integer, message text, detail text, hint text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c fmtbank.safety_case;
    sc record;
    k fmtbank.signature_check;
    l fmtbank.lot;
    t timestamptz := clock_timestamp();
    did bigint;
    nl integer;
    na integer;
    held uuid[];
    tubes uuid[];
    why text;
BEGIN
    PERFORM fmtbank.require_role('deciding cases', 'quality');
    IF p_decision IS NULL OR p_decision NOT IN ('lift', 'recall', 'discard') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid decision "%s"', coalesce(p_decision, '')),
            HINT = 'Decide --lift, --recall or --discard.';
    END IF;
    c := fmtbank.case_get(p_case);
    SELECT * INTO c FROM fmtbank.safety_case x WHERE x.id = c.id FOR UPDATE;
    IF p_lot IS NOT NULL THEN
        l := fmtbank.lot_get(p_lot);
    END IF;
    -- the lots before the signer, in id order, as release_sign locks them (NO KEY UPDATE: a
    -- password check's row references a lot by a foreign key)
    PERFORM 1 FROM fmtbank.lot x
    WHERE x.id IN (SELECT h.lot FROM fmtbank.case_hold h
                   WHERE h.case_id = c.id AND h.ended_at IS NULL AND (l.id IS NULL OR h.lot = l.id))
    ORDER BY x.id FOR NO KEY UPDATE;
    sc := fmtbank.sign_signer_check(p_meaning);
    k := fmtbank.sign_check_take(p_attempt, sc.u, NULL, c.id, sc.m);
    IF NOT k.ok THEN
        RETURN QUERY SELECT 'wrong_password'::text, NULL::integer, NULL::integer, x.message,
                            x.detail, x.hint
                     FROM fmtbank.sign_wrong_password(sc.u, k, format('decide case %s', c.case_code)) x;
        RETURN;
    END IF;
    IF c.status = 'closed' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot decide case %s: it is closed', c.case_code);
    END IF;
    SELECT array_agg(h.lot) FILTER (WHERE h.aliquots IS NULL),
           (SELECT array_agg(x) FROM fmtbank.case_hold h2, unnest(h2.aliquots) x
            WHERE h2.case_id = c.id AND h2.ended_at IS NULL AND (l.id IS NULL OR h2.lot = l.id))
    INTO held, tubes
    FROM fmtbank.case_hold h
    WHERE h.case_id = c.id AND h.ended_at IS NULL AND (l.id IS NULL OR h.lot = l.id);
    IF held IS NULL AND tubes IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('case %s holds nothing undecided%s', c.case_code,
                             coalesce(format(' of lot %s', l.lot_id), '')),
            HINT = format('"fmtbank case show %s" lists its holds and decisions.', c.case_code);
    END IF;
    why := format('case %s: %s (%s)', c.case_code, p_decision, sc.m);
    PERFORM set_config('fmtbank.reason', why, true);
    INSERT INTO fmtbank.case_decision (case_id, lot, decision, meaning, signed_by, printed_name,
                                       signed_at, attempt, lots, aliquots)
    VALUES (c.id, l.id, p_decision, sc.m, (sc.u).name, (sc.u).printed_name, t, k.id,
            coalesce(cardinality(held), 0), coalesce(cardinality(tubes), 0))
    RETURNING id INTO did;
    UPDATE fmtbank.case_hold h SET ended_at = t, decision_id = did
    WHERE h.case_id = c.id AND h.ended_at IS NULL AND (l.id IS NULL OR h.lot = l.id);
    -- lift: how many lots and tubes it freed; recall, discard: how many it changed
    nl := coalesce(cardinality(held), 0); na := coalesce(cardinality(tubes), 0);
    IF p_decision IN ('recall', 'discard') THEN
        -- what the decision did, for the lookback report: lots and tubes recalled, doses issued
        INSERT INTO fmtbank.lookback_hold (case_id, lot, aliquot, action, prior_status, recipient,
                                           site, issued_at, at)
        SELECT c.id, x.id, NULL::uuid, 'recall_lot', x.status, NULL::text, NULL::text,
               NULL::timestamptz, t
        FROM fmtbank.lot x WHERE x.id = ANY (held) AND x.status IN ('quarantine', 'ready', 'released')
        UNION ALL
        SELECT c.id, a.lot, a.id, 'recall_aliquot', a.status, NULL::text, NULL::text,
               NULL::timestamptz, t
        FROM fmtbank.aliquot a
        WHERE (a.lot = ANY (held) OR a.id = ANY (tubes)) AND NOT a.retained
          AND a.status IN ('quarantine', 'released')
        UNION ALL
        SELECT c.id, a.lot, a.id, 'notify', a.status, i.recipient, i.site, i.issued_at, t
        FROM fmtbank.aliquot a JOIN fmtbank.aliquot_issue i ON i.aliquot = a.id
        WHERE a.lot = ANY (held) OR a.id = ANY (tubes);
        UPDATE fmtbank.lot x SET status = 'recalled'
        WHERE x.id = ANY (held) AND x.status IN ('quarantine', 'ready', 'released');
        GET DIAGNOSTICS nl = ROW_COUNT;
        UPDATE fmtbank.aliquot a
        SET status = CASE WHEN p_decision = 'discard' THEN 'discarded' ELSE 'recalled' END,
            status_at = t, status_reason = why
        WHERE (a.lot = ANY (held) OR a.id = ANY (tubes)) AND NOT a.retained
          AND (a.status IN ('quarantine', 'released')
               OR (p_decision = 'discard' AND a.status IN ('recalled', 'expired')));
        GET DIAGNOSTICS na = ROW_COUNT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM fmtbank.case_hold h WHERE h.case_id = c.id AND h.ended_at IS NULL) THEN
        UPDATE fmtbank.safety_case x SET status = 'decided', applied_at = t,
               applied_by = session_user,
               hold_from = CASE WHEN x.source = 'result' THEN coalesce(x.hold_from, '-infinity') END
        WHERE x.id = c.id AND x.status = 'open';
    END IF;
    RETURN QUERY SELECT 'decided'::text, nl, na, NULL::text, NULL::text, NULL::text;
END $$;

-- ---------------------------------------------------------------- notification and closing
-- The recipients of a case: every issued dose of the material it holds or held. A trial dose
-- (270) names its participant and tube to unblinded sessions only (else the donor's case would
-- tell which participants had the active arm): "trial participant (blinded)".
CREATE OR REPLACE FUNCTION fmtbank.case_recipients(p_case bigint)
RETURNS TABLE (recipient text, site text, aliquot text, issued_at timestamptz, notified_at timestamptz,
               notified_by text, by_means text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN i.use = 'trial' AND fmtbank.trial_blind() THEN 'trial participant (blinded)'
                ELSE i.recipient END,
           i.site,
           CASE WHEN i.use = 'trial' AND fmtbank.trial_blind() THEN 'blinded' ELSE a.aliquot_id END,
           i.issued_at, n.told_at, n.recorded_by, n.by_means
    FROM (SELECT DISTINCT h.lot, h.aliquots FROM fmtbank.case_hold h WHERE h.case_id = p_case) h
    JOIN fmtbank.aliquot a ON a.lot = h.lot AND (h.aliquots IS NULL OR a.id = ANY (h.aliquots))
    JOIN fmtbank.aliquot_issue i ON i.aliquot = a.id
    LEFT JOIN LATERAL (SELECT * FROM fmtbank.case_notification x
                       WHERE x.case_id = p_case AND x.recipient = i.recipient
                       ORDER BY x.told_at DESC LIMIT 1) n ON true
    UNION
    -- doses issued from a lot before the hold was recorded (the hold starts at the lot)
    SELECT CASE WHEN i.use = 'trial' AND fmtbank.trial_blind() THEN 'trial participant (blinded)'
                ELSE i.recipient END,
           i.site,
           CASE WHEN i.use = 'trial' AND fmtbank.trial_blind() THEN 'blinded' ELSE a.aliquot_id END,
           i.issued_at, n.told_at, n.recorded_by, n.by_means
    FROM fmtbank.safety_case c
    JOIN fmtbank.lot l ON l.donor_id = c.donor_id AND c.scope_kind = 'donor'
        AND (c.scope_from IS NULL OR l.collected_at >= c.scope_from)
        AND (c.scope_to IS NULL OR l.collected_at <= c.scope_to)
        AND (c.source <> 'result' OR l.collected_at::date >= coalesce(c.hold_from, '-infinity'))
    JOIN fmtbank.aliquot a ON a.lot = l.id
    JOIN fmtbank.aliquot_issue i ON i.aliquot = a.id
    LEFT JOIN LATERAL (SELECT * FROM fmtbank.case_notification x
                       WHERE x.case_id = p_case AND x.recipient = i.recipient
                       ORDER BY x.told_at DESC LIMIT 1) n ON true
    WHERE c.id = p_case
$$;

-- "fmtbank case notify CASE --recipient R --by phone|letter|email|in-person --at TS [--note N]"
-- (quality or admin): who was told, when, how, by whom.
CREATE OR REPLACE FUNCTION fmtbank.case_notify(p_case text, p_recipient text, p_by text,
                                               p_at text, p_note text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c fmtbank.safety_case;
    r text := btrim(coalesce(p_recipient, ''));
    t timestamptz;
    nid bigint;
BEGIN
    PERFORM fmtbank.require_role('recording notifications', 'quality', 'admin');
    c := fmtbank.case_get(p_case);
    IF p_by IS NULL OR p_by NOT IN ('phone', 'letter', 'email', 'in-person') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --by "%s"', coalesce(p_by, '')),
            HINT = 'Say how the recipient was told: phone, letter, email or in-person.';
    END IF;
    t := fmtbank.parse_past_ts(p_at, '--at');
    IF NOT EXISTS (SELECT 1 FROM fmtbank.case_recipients(c.id) x WHERE x.recipient = r) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('recipient "%s" received no dose of case %s', r, c.case_code),
            HINT = format('"fmtbank case show %s" lists its recipients.', c.case_code);
    END IF;
    INSERT INTO fmtbank.case_notification (case_id, recipient, by_means, told_at, note)
    VALUES (c.id, r, p_by, t, nullif(btrim(coalesce(p_note, '')), ''))
    RETURNING id INTO nid;
    RETURN nid;
END $$;

-- "fmtbank case close CASE --reason R [--unnotified-reason TEXT]" (quality): refused while
-- material is held undecided, and while a recipient is un-notified unless the reason says why.
CREATE OR REPLACE FUNCTION fmtbank.case_close(p_case text, p_unnotified_reason text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c fmtbank.safety_case;
    why text;
    nh integer;
    un text;
    unr text := nullif(btrim(coalesce(p_unnotified_reason, '')), '');
BEGIN
    PERFORM fmtbank.require_role('closing cases', 'quality');
    c := fmtbank.case_get(p_case);
    SELECT * INTO c FROM fmtbank.safety_case x WHERE x.id = c.id FOR UPDATE;
    IF c.status = 'closed' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('case %s is already closed', c.case_code),
            DETAIL = format('Closed by %s on %s: %s', c.closed_by, fmtbank.ts_text(c.closed_at),
                            c.close_reason);
    END IF;
    why := fmtbank.acting_reason(true, 'closing a case');
    SELECT count(DISTINCT h.lot) INTO nh FROM fmtbank.case_hold h
    WHERE h.case_id = c.id AND h.ended_at IS NULL;
    IF nh > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot close case %s: it still holds material of %s lot%s undecided',
                             c.case_code, nh, CASE WHEN nh = 1 THEN '' ELSE 's' END),
            HINT = format('A quality officer decides first: "fmtbank case decide %s --lift|--recall|--discard".',
                          c.case_code);
    END IF;
    SELECT string_agg(DISTINCT x.recipient, ', ') INTO un
    FROM fmtbank.case_recipients(c.id) x WHERE x.notified_at IS NULL;
    IF un IS NOT NULL AND unr IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot close case %s: recipients not notified: %s', c.case_code, un),
            HINT = 'Record each with "fmtbank case notify", or say why not with --unnotified-reason.';
    END IF;
    UPDATE fmtbank.safety_case x SET status = 'closed', closed_at = clock_timestamp(),
           closed_by = session_user, close_reason = why,
           unnotified_reason = CASE WHEN un IS NOT NULL THEN unr END
    WHERE x.id = c.id;
    RETURN c.case_code;
END $$;

-- ---------------------------------------------------------------- listing
-- "fmtbank case list": every case, with what it holds now.
CREATE OR REPLACE VIEW fmtbank.case_list AS
    SELECT c.case_code AS "case", c.source, c.status,
           CASE WHEN c.withdrawn_at IS NOT NULL AND c.status = 'open'
                THEN 'signal withdrawn - lift proposed' END AS proposal,
           d.code AS donor, c.scope_kind AS scope, fmtbank.case_summary(c) AS about,
           c.opened_at, c.opened_by,
           (SELECT count(DISTINCT h.lot) FROM fmtbank.case_hold h
            WHERE h.case_id = c.id AND h.ended_at IS NULL) AS lots_held,
           (SELECT coalesce(sum(cardinality(h.aliquots)), 0) FROM fmtbank.case_hold h
            WHERE h.case_id = c.id AND h.ended_at IS NULL) AS tubes_held,
           c.closed_at, c.closed_by, c.close_reason
    FROM fmtbank.safety_case c
    LEFT JOIN fmtbank.donor d ON d.id = c.donor_id;

-- "fmtbank case show CASE": the case, its holds (with box:position), decisions and recipients.
CREATE OR REPLACE FUNCTION fmtbank.case_show(p_case text)
RETURNS TABLE ("case" text, source text, status text, proposal text, donor text, scope text,
               about text, opened_at timestamptz, opened_by text, closed_at timestamptz,
               closed_by text, close_reason text, unnotified_reason text, holds jsonb,
               decisions jsonb, recipients jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE c fmtbank.safety_case;
BEGIN
    PERFORM fmtbank.require_role('reading cases', 'technician', 'quality', 'auditor', 'admin');
    c := fmtbank.case_get(p_case);
    RETURN QUERY
    SELECT x."case", x.source, x.status, x.proposal, x.donor, x.scope, x.about, x.opened_at,
           x.opened_by, x.closed_at, x.closed_by, x.close_reason, c.unnotified_reason,
           (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'lot', l.lot_id, 'aliquot', a.aliquot_id,
                       'location', fmtbank.aliquot_location(a.id),
                       'held_at', fmtbank.ts_utc(h.held_at), 'held_by', h.held_by,
                       'ended_at', fmtbank.ts_utc(h.ended_at),
                       'decision', cd.decision) ORDER BY l.lot_id, a.aliquot_id), '[]'::jsonb)
            FROM fmtbank.case_hold h JOIN fmtbank.lot l ON l.id = h.lot
            LEFT JOIN LATERAL unnest(h.aliquots) hu(aid) ON true
            LEFT JOIN fmtbank.aliquot a ON a.id = hu.aid
            LEFT JOIN fmtbank.case_decision cd ON cd.id = h.decision_id
            WHERE h.case_id = c.id),
           (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'decision', cd.decision, 'lot', l.lot_id, 'meaning', cd.meaning,
                       'signed_by', cd.signed_by, 'printed_name', cd.printed_name,
                       'signed_at', fmtbank.ts_utc(cd.signed_at), 'lots', cd.lots,
                       'aliquots', cd.aliquots) ORDER BY cd.id), '[]'::jsonb)
            FROM fmtbank.case_decision cd LEFT JOIN fmtbank.lot l ON l.id = cd.lot
            WHERE cd.case_id = c.id),
           (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'recipient', r.recipient, 'site', r.site, 'aliquot', r.aliquot,
                       'issued_at', fmtbank.ts_utc(r.issued_at),
                       'notified_at', fmtbank.ts_utc(r.notified_at), 'notified_by', r.notified_by,
                       'by', r.by_means) ORDER BY r.recipient, r.aliquot), '[]'::jsonb)
            FROM fmtbank.case_recipients(c.id) r)
    FROM fmtbank.case_list x WHERE x."case" = c.case_code;
END $$;

-- The cases of the case report: one (p_case) or those opened in [p_since, p_until) (default:
-- the 90 days up to the last change to the database).
CREATE OR REPLACE FUNCTION fmtbank.report_cases(p_case text, p_since timestamptz, p_until timestamptz)
RETURNS SETOF fmtbank.safety_case
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u timestamptz := coalesce(p_until, fmtbank.report_as_of());
    s timestamptz := coalesce(p_since, coalesce(p_until, fmtbank.report_as_of()) - interval '90 days');
BEGIN
    PERFORM fmtbank.require_role('reading cases', 'technician', 'quality', 'auditor', 'admin');
    IF p_case IS NOT NULL THEN
        RETURN QUERY SELECT * FROM fmtbank.safety_case c WHERE c.id = (fmtbank.case_get(p_case)).id;
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM fmtbank.safety_case c WHERE c.opened_at >= s AND c.opened_at < u
                 ORDER BY c.case_code;
END $$;

-- The donor's open cases (donation_add records a new lot as rejected while there is one).
CREATE OR REPLACE FUNCTION fmtbank.donor_open_cases(p_donor uuid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT string_agg(c.case_code, ', ' ORDER BY c.case_code) FROM fmtbank.safety_case c
    WHERE c.donor_id = p_donor AND c.status = 'open'
$$;

-- "fmtbank status": cases by source and status.
CREATE OR REPLACE FUNCTION fmtbank.status_cases() RETURNS TABLE (entity text, state text, n bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'case', c.source || ' ' || c.status, count(*) FROM fmtbank.safety_case c GROUP BY 2;
$$;
SELECT fmtbank.status_register('case', 'fmtbank.status_cases()');

-- ---------------------------------------------------------------- privileges
GRANT EXECUTE ON FUNCTION
    fmtbank.hold_add(text, text, text, text),
    fmtbank.case_sign_attempt(text, text, text),
    fmtbank.case_decide(text, text, text, text, bigint),
    fmtbank.case_notify(text, text, text, text, text),
    fmtbank.case_close(text, text),
    fmtbank.case_show(text),
    fmtbank.report_cases(text, timestamp with time zone, timestamp with time zone),
    fmtbank.case_recipients(bigint)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT SELECT ON fmtbank.case_list
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- not granted (owner only): case_get, hold_refuse, case_open, case_hold_lots, tubes_in,
-- case_hold_tubes, case_open_donor, case_hold_new_lots, donor_open_cases,
-- status_cases
