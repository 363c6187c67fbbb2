-- 033_issue: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 033_issue: issuing a released dose to a recipient, and thawing.
--
-- Issue: only a released dose of a released lot, unexpired (expires_at in the future, whether or
-- not a sweep has stored 'expired'), not recalled, not the retained sample, never thawed, and not
-- held by an open lookback case (a recall is on its way). The recipient is a pseudonymous code
-- (site_setting recipient_code_pattern: no spaces, so no names) with the receiving site. The tube
-- leaves its box (custody event 'issue'); the issue record is the donor -> recipient link that
-- lookback follows.
-- Thaw: records when a tube was thawed; it leaves its box (custody event 'thaw') and can never be
-- stored again (023's tube_store refuses a thawed tube) nor issued. Thawing an issued tube is
-- the normal end at the recipient's site; thawing one in stock is for testing (the retained
-- sample above all).
-- Locks: the lot row (FOR SHARE) before the aliquot row, the order release_sign and the lookback
-- follow, so an issue and a recall of the same lot never deadlock and never interleave.
CREATE OR REPLACE FUNCTION fmtbank.recipient_code_check(p_code text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c text := upper(btrim(coalesce(p_code, '')));
    pat text := (SELECT value FROM fmtbank.site_setting WHERE name = 'recipient_code_pattern');
BEGIN
    IF c !~ pat THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid recipient code "%s"', coalesce(p_code, '')),
            DETAIL = format('Recipient codes must match %s.', pat),
            HINT = 'Use the pseudonymous recipient or trial-subject code, e.g. R-0042; never a name.';
    END IF;
    RETURN c;
END $$;

-- The receiving site of an issue, trimmed (FB001 when empty or longer than 200 characters).
CREATE OR REPLACE FUNCTION fmtbank.issue_site_check(p_site text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s text := btrim(coalesce(p_site, ''));
BEGIN
    IF s = '' OR length(s) > 200 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid site "%s"', coalesce(p_site, '')),
            HINT = 'Give the receiving site (1 to 200 characters).';
    END IF;
    RETURN s;
END $$;

-- Use (migration 150): clinical (the default) or research; the donor's consent in force at the
-- issue must cover it (the trigger consent_check of 150_consent.sql refuses the issue record
-- otherwise, for every path). trial is recorded only by trial dispensing (product.md §14).
CREATE OR REPLACE FUNCTION fmtbank.aliquot_issue(p_id text, p_recipient text, p_site text,
                                                 p_use text DEFAULT 'clinical') RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a fmtbank.aliquot;
    l fmtbank.lot;
    rc text;
    s text;
    u text := lower(btrim(coalesce(p_use, 'clinical')));
    prev fmtbank.aliquot_issue;
    t timestamptz;
BEGIN
    PERFORM fmtbank.require_role('issuing aliquots', 'technician', 'quality');
    a := fmtbank.aliquot_get(p_id);
    rc := fmtbank.recipient_code_check(p_recipient);
    s := fmtbank.issue_site_check(p_site);
    IF u NOT IN ('clinical', 'research') THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid use "%s"', coalesce(p_use, '')),
            HINT = CASE WHEN u = 'trial' THEN 'Trial doses are dispensed by the trial commands, not issued.'
                        ELSE 'Use clinical or research.' END;
    END IF;
    SELECT * INTO l FROM fmtbank.lot WHERE id = a.lot FOR SHARE;
    SELECT * INTO a FROM fmtbank.aliquot WHERE id = a.id FOR UPDATE;
    t := clock_timestamp();
    IF a.retained THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot issue "%s": it is the retained sample of lot "%s"', a.aliquot_id,
                             l.lot_id),
            DETAIL = 'The retained sample is kept for later testing and never issued.';
    END IF;
    IF a.status = 'issued' THEN
        SELECT * INTO prev FROM fmtbank.aliquot_issue i WHERE i.aliquot = a.id;
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot issue "%s": it was already issued', a.aliquot_id),
            DETAIL = format('Issued to %s at %s on %s by %s.', prev.recipient, prev.site,
                            fmtbank.ts_text(prev.issued_at), prev.issued_by);
    END IF;
    IF a.status = 'recalled' OR l.status = 'recalled' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot issue "%s": it is recalled', a.aliquot_id),
            DETAIL = format('Lot "%s" is %s%s.', l.lot_id, l.status,
                            coalesce(format(' (case %s)',
                                            (SELECT max(c.case_code) FROM fmtbank.lookback_hold h
                                             JOIN fmtbank.safety_case c ON c.id = h.case_id
                                             WHERE h.lot = l.id)), ''));
    END IF;
    IF a.status IN ('discarded', 'expired') OR a.expires_at <= t THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot issue "%s": it is %s', a.aliquot_id,
                             CASE WHEN a.status = 'discarded' THEN 'discarded' ELSE 'expired' END),
            DETAIL = CASE WHEN a.status = 'discarded' THEN a.status_reason
                          ELSE format('It expired on %s.', fmtbank.ts_text(a.expires_at)) END;
    END IF;
    IF a.thawed_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot issue "%s": it was thawed at %s', a.aliquot_id,
                             fmtbank.ts_text(a.thawed_at)),
            DETAIL = 'Thawed material is never issued or refrozen.';
    END IF;
    IF a.status <> 'released' OR l.status <> 'released' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot issue "%s": it is not released', a.aliquot_id),
            DETAIL = format('Lot "%s" is %s.', l.lot_id,
                            fmtbank.lot_status_shown(l.status, (SELECT b.blocking
                                FROM fmtbank.lot_blocking_at(t, l.id) b))),
            HINT = 'A quality officer releases the lot with "fmtbank release sign".';
    END IF;
    PERFORM fmtbank.hold_refuse(l.id, a.id, format('issue "%s"', a.aliquot_id));
    INSERT INTO fmtbank.aliquot_issue (aliquot, recipient, site, issued_at, use)
    VALUES (a.id, rc, s, t, u);
    PERFORM fmtbank.tube_unplace(a.id, 'issue', format('to recipient %s at %s', rc, s));
    UPDATE fmtbank.aliquot SET status = 'issued', status_at = t,
           status_reason = format('issued to %s at %s', rc, s)
    WHERE id = a.id;
    RETURN a.aliquot_id;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.aliquot_thaw(p_id text, OUT aliquot_id text, OUT thawed_at timestamptz,
                                     OUT use_by timestamptz, OUT taken_from text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a fmtbank.aliquot;
    t timestamptz;
BEGIN
    PERFORM fmtbank.require_role('thawing aliquots', 'technician', 'quality');
    a := fmtbank.aliquot_get(p_id);
    PERFORM 1 FROM fmtbank.lot l WHERE l.id = a.lot FOR SHARE;
    SELECT * INTO a FROM fmtbank.aliquot x WHERE x.id = a.id FOR UPDATE;
    IF a.thawed_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot thaw "%s": it was already thawed at %s', a.aliquot_id,
                             fmtbank.ts_text(a.thawed_at));
    END IF;
    IF a.status = 'discarded' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot thaw "%s": it is discarded', a.aliquot_id);
    END IF;
    t := clock_timestamp();
    -- held material: only quality thaws it, only the retained sample (for testing), with a reason
    IF fmtbank.holds_of(a.lot, a.id) <> '[]'::jsonb
       AND NOT (a.retained AND fmtbank.acting_is('quality')
                AND fmtbank.acting_reason(false, 'thawing held material') IS NOT NULL) THEN
        PERFORM fmtbank.hold_refuse(a.lot, a.id, format('thaw "%s"', a.aliquot_id));
    END IF;
    use_by := t + fmtbank.rule_value('thawed_use_hours', t) * interval '1 hour';
    taken_from := fmtbank.tube_unplace(a.id, 'thaw',
                                       format('use by %s; never refrozen', fmtbank.ts_text(use_by)));
    UPDATE fmtbank.aliquot x SET thawed_at = t WHERE x.id = a.id;
    aliquot_id := a.aliquot_id;
    thawed_at := t;
END $$;

-- Who received what from which donor: the issue records with the tube, lot and donor.
CREATE OR REPLACE VIEW fmtbank.issue_list AS
    SELECT i.id, a.aliquot_id AS aliquot, l.lot_id AS lot, d.code AS donor, i.recipient, i.site,
           i.issued_at, i.issued_by, a.thawed_at, i.use
    FROM fmtbank.aliquot_issue i
    JOIN fmtbank.aliquot a ON a.id = i.aliquot
    JOIN fmtbank.lot l ON l.id = a.lot
    JOIN fmtbank.donor d ON d.id = l.donor_id;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.recipient_code_check(text),
    fmtbank.issue_site_check(text),
    fmtbank.aliquot_issue(text, text, text, text),
    fmtbank.aliquot_thaw(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

GRANT SELECT ON fmtbank.issue_list
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
