-- 070_sign_attempt: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- How long a committed check may be used to sign.
CREATE OR REPLACE FUNCTION fmtbank.signature_attempt_window() RETURNS interval
LANGUAGE sql IMMUTABLE RETURN interval '5 minutes';

-- Records the verdicts of p_user's committed, unsettled checks, oldest first: a signature_attempt
-- row each, the failure count, and the lock at signature_max_failures(). The caller holds the
-- app_user row lock. Checks of the current transaction are not committed and stay unsettled.
CREATE OR REPLACE FUNCTION fmtbank.signature_settle(p_user text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u fmtbank.app_user;
    c fmtbank.signature_check;
    n integer;
    lk timestamptz;
    maxf integer := fmtbank.signature_max_failures();
    what text;
BEGIN
    SELECT * INTO u FROM fmtbank.app_user WHERE name = p_user;
    n := u.failed_attempts;
    lk := u.locked_at;
    FOR c IN SELECT k.* FROM fmtbank.signature_check k
             WHERE k.signer = p_user
               AND k.xact IS DISTINCT FROM pg_current_xact_id_if_assigned()
               AND NOT EXISTS (SELECT 1 FROM fmtbank.signature_attempt a WHERE a.attempt = k.id)
             ORDER BY k.id LOOP
        SELECT coalesce('the release of lot ' || (SELECT l.lot_id FROM fmtbank.lot l WHERE l.id = c.lot),
                        'a decision on case ' || (SELECT x.case_code FROM fmtbank.safety_case x
                                                  WHERE x.id = c.case_id))
        INTO what;
        IF c.ok THEN
            n := 0;
            INSERT INTO fmtbank.signature_attempt (at, signer, lot, case_id, ok, detail, attempt, failures)
            VALUES (c.at, c.signer, c.lot, c.case_id, true,
                    format('signature password verified to sign %s (attempt %s)', what, c.id), c.id, n);
        ELSE
            n := n + 1;
            IF n >= maxf AND lk IS NULL THEN
                lk := clock_timestamp();
            END IF;
            INSERT INTO fmtbank.signature_attempt (at, signer, lot, case_id, ok, detail, attempt, failures)
            VALUES (c.at, c.signer, c.lot, c.case_id, false,
                    format('wrong signature password (failed attempt %s of %s)%s', n, maxf,
                           CASE WHEN n >= maxf THEN '; user locked' ELSE '' END), c.id, n);
        END IF;
    END LOOP;
    IF n IS DISTINCT FROM u.failed_attempts OR lk IS DISTINCT FROM u.locked_at THEN
        UPDATE fmtbank.app_user SET failed_attempts = n, locked_at = lk WHERE name = p_user;
    END IF;
END $$;

-- Whether p_user has committed wrong passwords not yet settled (user unlock asks).
CREATE OR REPLACE FUNCTION fmtbank.signature_unsettled_failures(p_user text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM fmtbank.signature_check k
                   WHERE k.signer = p_user AND NOT k.ok
                     AND k.xact IS DISTINCT FROM pg_current_xact_id_if_assigned()
                     AND NOT EXISTS (SELECT 1 FROM fmtbank.signature_attempt a
                                     WHERE a.attempt = k.id))
$$;

-- Clears p_user's signature failures and lock (fmtbank user unlock), after settling what is
-- committed so that no earlier failure is left to count again. The caller checks the role.
CREATE OR REPLACE FUNCTION fmtbank.signature_reset(p_name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM 1 FROM fmtbank.app_user WHERE name = p_name FOR UPDATE;
    PERFORM fmtbank.signature_settle(p_name);
    UPDATE fmtbank.app_user SET locked_at = NULL, failed_attempts = 0
    WHERE name = p_name AND (locked_at IS NOT NULL OR failed_attempts <> 0);
END $$;

-- The signer's checks shared by both phases of every signature (releases and case decisions):
-- the meaning, the signer (the session user: nobody signs for someone else), not disabled, with a
-- signature password; settles the signer's committed checks. Returns the signer's row, locked
-- FOR UPDATE (one signer's attempts are serialised, so the failure count is exact), and the
-- trimmed meaning. The caller checks the role and locks what is signed first.
CREATE OR REPLACE FUNCTION fmtbank.sign_signer_check(p_meaning text, OUT u fmtbank.app_user, OUT m text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    m := btrim(coalesce(p_meaning, ''));
    IF m = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'the signature needs its meaning',
            HINT = 'Say what the signature means with --meaning, e.g. "Released for clinical use".';
    END IF;
    IF length(m) > 500 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = 'the meaning of the signature is longer than 500 characters';
    END IF;
    SELECT * INTO u FROM fmtbank.app_user WHERE name = session_user FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('user "%s" cannot sign: it is not an fmtbank user', session_user),
            HINT = 'Sign as the quality officer you are, e.g. with --user NAME.';
    END IF;
    IF u.disabled_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('user "%s" cannot sign: it is disabled', u.name);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM fmtbank.user_secret s WHERE s.name = u.name) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('user "%s" cannot sign: no signature password is set', u.name),
            HINT = format('Set one with "fmtbank user password %s".', u.name);
    END IF;
    PERFORM fmtbank.signature_settle(u.name);
    SELECT * INTO u FROM fmtbank.app_user WHERE name = u.name;
END $$;

-- The release's checks of both phases: the role, the lot, then the signer's.
CREATE OR REPLACE FUNCTION fmtbank.sign_precheck(p_lot text, p_meaning text, p_lock_lot boolean,
                                      OUT l fmtbank.lot, OUT u fmtbank.app_user, OUT m text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE sc record;
BEGIN
    PERFORM fmtbank.require_role('signing releases', 'quality');
    l := fmtbank.lot_get(p_lot);
    -- the meaning: one of the controlled list (schema/210_desk_audit.sql), NULL for its default
    m := fmtbank.release_meaning(p_meaning);
    IF p_lock_lot THEN
        -- the lot before the signer, as every signer does (two officers signing one lot: the
        -- second finds it released), and before any audited write (settling) takes the audit
        -- trail's lock. NO KEY UPDATE: a sign_attempt's check row references the lot (its foreign
        -- key takes KEY SHARE) while holding the audit lock; FOR UPDATE would deadlock with it.
        SELECT * INTO l FROM fmtbank.lot WHERE id = l.id FOR NO KEY UPDATE;
    END IF;
    sc := fmtbank.sign_signer_check(m);
    u := sc.u;
    m := sc.m;
END $$;

-- Stores a password check for a release (p_lot) or a case decision (p_case); returns its id.
CREATE OR REPLACE FUNCTION fmtbank.sign_check_store(u fmtbank.app_user, p_lot uuid, p_case bigint,
                                                    p_meaning text, p_password text)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    h text;
    ok boolean;
    id bigint;
BEGIN
    SELECT s.sig_hash INTO h FROM fmtbank.user_secret s WHERE s.name = u.name;
    ok := p_password IS NOT NULL AND fmtbank.crypt(p_password, h) IS NOT DISTINCT FROM h;
    INSERT INTO fmtbank.signature_check (signer, lot, case_id, meaning, ok)
    VALUES (u.name, p_lot, p_case, p_meaning, coalesce(ok, false))
    RETURNING signature_check.id INTO id;
    RETURN id;
END $$;

-- Phase 2's checks of a stored attempt, for what it was made for: the signer's own, committed,
-- for this lot or case and meaning, unused, recent; a locked signer is refused when the password
-- was right. Returns the check (its ok: whether the password was right; see sign_wrong_password).
CREATE OR REPLACE FUNCTION fmtbank.sign_check_take(p_attempt bigint, u fmtbank.app_user, p_lot uuid,
                                                   p_case bigint, m text)
RETURNS fmtbank.signature_check LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE k fmtbank.signature_check;
BEGIN
    IF p_attempt IS NULL THEN
        IF u.locked_at IS NOT NULL THEN
            PERFORM fmtbank.sign_locked_error(u);
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = 'no signature attempt given',
            HINT = 'Call fmtbank.sign_attempt(lot, meaning, password) and commit first.';
    END IF;
    SELECT * INTO k FROM fmtbank.signature_check c WHERE c.id = p_attempt;
    IF NOT FOUND OR k.signer <> u.name THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign with signature attempt %s: it is not an attempt of user "%s"',
                             p_attempt, u.name);
    END IF;
    IF k.xact IS NOT DISTINCT FROM pg_current_xact_id_if_assigned()
       OR pg_xact_status(k.xact) IS DISTINCT FROM 'committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign with signature attempt %s: it is not committed', p_attempt),
            HINT = 'Commit fmtbank.sign_attempt() on its own, then sign in a new transaction.';
    END IF;
    IF k.lot IS DISTINCT FROM p_lot OR k.case_id IS DISTINCT FROM p_case OR k.meaning <> m THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign with signature attempt %s: it was made for another %s or meaning',
                             p_attempt, CASE WHEN p_lot IS NOT NULL THEN 'lot' ELSE 'case' END);
    END IF;
    IF EXISTS (SELECT 1 FROM fmtbank.release_signature s WHERE s.attempt = k.id)
       OR EXISTS (SELECT 1 FROM fmtbank.case_decision d WHERE d.attempt = k.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign with signature attempt %s: it was already used', p_attempt);
    END IF;
    IF k.at < clock_timestamp() - fmtbank.signature_attempt_window() THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign with signature attempt %s: it is older than %s',
                             p_attempt, fmtbank.signature_attempt_window()),
            HINT = 'Enter the signature password again.';
    END IF;
    IF k.ok AND u.locked_at IS NOT NULL THEN
        PERFORM fmtbank.sign_locked_error(u);
    END IF;
    RETURN k;
END $$;

-- The answer to a wrong password (recorded and committed by phase 1, settled since): what could
-- not be signed (p_what), the failure count, and the lock when it was the last allowed.
CREATE OR REPLACE FUNCTION fmtbank.sign_wrong_password(u fmtbank.app_user, k fmtbank.signature_check,
                                                       p_what text)
RETURNS TABLE (message text, detail text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('could not %s: wrong signature password', p_what),
           CASE WHEN a.failures >= m.maxf
                THEN format('That was failed attempt %s of %s: user "%s" is now locked.', a.failures, m.maxf, u.name)
                ELSE format('Failed attempt %s of %s for user "%s"; it is recorded. After %s the user is locked.',
                            a.failures, m.maxf, u.name, m.maxf) END,
           CASE WHEN a.failures >= m.maxf
                THEN format('An administrator unlocks it with "fmtbank user unlock %s --reason ...".', u.name) END
    FROM fmtbank.signature_attempt a CROSS JOIN (SELECT fmtbank.signature_max_failures() AS maxf) m
    WHERE a.attempt = k.id
$$;

CREATE OR REPLACE FUNCTION fmtbank.sign_locked_error(u fmtbank.app_user) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = format('user "%s" cannot sign: it is locked after %s failed signature attempts',
                         u.name, u.failed_attempts),
        DETAIL = format('Locked since %s.', fmtbank.ts_text(u.locked_at)),
        HINT = format('An administrator unlocks it with "fmtbank user unlock %s --reason ...".',
                      u.name);
END $$;

-- 073_sign_refusal_race.sql: a signer who loses the race to another officer signing the same lot
-- is told "it is already released" (with who signed), not "it is not releasable" with the status
-- as its only blocking rule: the lot row passed in may predate the other signature, while the
-- blocking rules are read a moment later; when they block, the lot is read again.
CREATE OR REPLACE FUNCTION fmtbank.sign_lot_refusal(l fmtbank.lot) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    who fmtbank.release_signature;
    blk jsonb;
    now_status text;
BEGIN
    IF l.status = 'released' THEN
        SELECT * INTO who FROM fmtbank.release_signature s WHERE s.lot = l.id;
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign the release of lot "%s": it is already released', l.lot_id),
            DETAIL = format('Signed by %s (%s) on %s: "%s".', who.printed_name, who.signer,
                            fmtbank.ts_text(who.signed_at), who.meaning);
    END IF;
    PERFORM fmtbank.hold_refuse(l.id, NULL, format('sign the release of lot "%s"', l.lot_id));
    SELECT b.blocking INTO blk FROM fmtbank.lot_blocking_at(clock_timestamp(), l.id) b;
    IF blk IS DISTINCT FROM '[]'::jsonb THEN
        SELECT x.status INTO now_status FROM fmtbank.lot x WHERE x.id = l.id;
        IF now_status = 'released' THEN
            PERFORM fmtbank.sign_lot_refusal((SELECT x FROM fmtbank.lot x WHERE x.id = l.id));
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign the release of lot "%s": it is not releasable', l.lot_id),
            DETAIL = (SELECT string_agg(format('%s: %s', x ->> 'rule', x ->> 'detail'), E'\n')
                      FROM jsonb_array_elements(blk) x),
            HINT = format('"fmtbank release check %s" lists what blocks it.', l.lot_id);
    END IF;
END $$;

-- Phase 1. Every refusal comes before the password is looked at; then the check is stored and
-- its id returned, whatever the verdict. NULL when the signer is locked (release_sign, called
-- with NULL, then says so): returning rather than raising keeps the settle that found the lock.
-- Commit it before phase 2.
CREATE OR REPLACE FUNCTION fmtbank.sign_attempt(p_lot text, p_meaning text, p_password text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE pc record;
BEGIN
    pc := fmtbank.sign_precheck(p_lot, p_meaning, false);
    IF (pc.u).locked_at IS NOT NULL THEN
        RETURN NULL;
    END IF;
    PERFORM fmtbank.sign_lot_refusal(pc.l);
    RETURN fmtbank.sign_check_store(pc.u, (pc.l).id, NULL, pc.m, p_password);
END $$;

-- Phase 2.
CREATE OR REPLACE FUNCTION fmtbank.release_sign(p_lot text, p_meaning text, p_attempt bigint)
RETURNS TABLE (outcome text, signature uuid, sha256 text, released integer, message text,
               detail text, hint text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    pc record;
    l fmtbank.lot;
    u fmtbank.app_user;
    m text;
    k fmtbank.signature_check;
    t timestamptz;
    snap jsonb;
    ver integer;
    sid uuid;
    sha text;
    n integer;
BEGIN
    pc := fmtbank.sign_precheck(p_lot, p_meaning, true);
    l := pc.l; u := pc.u; m := pc.m;
    k := fmtbank.sign_check_take(p_attempt, u, l.id, NULL, m);
    IF NOT k.ok THEN
        RETURN QUERY SELECT 'wrong_password'::text, NULL::uuid, NULL::text, NULL::integer,
                            x.message, x.detail, x.hint
                     FROM fmtbank.sign_wrong_password(u, k, format('sign the release of lot "%s"', l.lot_id)) x;
        RETURN;
    END IF;

    PERFORM fmtbank.sign_lot_refusal(l);
    t := clock_timestamp();
    ver := fmtbank.rule_set_version_at(t);
    snap := fmtbank.release_snapshot(t, l.id)
        || jsonb_build_object(
               'releases', coalesce((SELECT jsonb_agg(x.aliquot_id ORDER BY x.idx)
                                     FROM fmtbank.aliquot x
                                     WHERE x.lot = l.id AND NOT x.retained
                                       AND x.status = 'quarantine' AND x.expires_at > t), '[]'::jsonb),
               'signature', jsonb_build_object('user', u.name, 'printed_name', u.printed_name,
                                               'meaning', m, 'signed_at', fmtbank.ts_utc(t),
                                               'rule_set_version', ver));
    sha := encode(pg_catalog.sha256(convert_to(snap::text, 'UTF8')), 'hex');
    INSERT INTO fmtbank.release_signature (lot, signer, printed_name, signed_at, meaning,
                                           rule_set_version, snapshot, sha256, attempt)
    VALUES (l.id, u.name, u.printed_name, t, m, ver, snap, sha, k.id)
    RETURNING id INTO sid;
    IF l.status = 'quarantine' THEN
        UPDATE fmtbank.lot SET status = 'ready' WHERE id = l.id;
    END IF;
    UPDATE fmtbank.lot SET status = 'released' WHERE id = l.id;
    UPDATE fmtbank.aliquot SET status = 'released', status_at = t,
           status_reason = format('release signed by %s', u.printed_name)
    WHERE lot = l.id AND NOT retained AND status = 'quarantine' AND expires_at > t;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN QUERY SELECT 'signed'::text, sid, sha, n, NULL::text, NULL::text, NULL::text;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.signature_attempt_window(),
    fmtbank.sign_attempt(text, text, text),
    fmtbank.release_sign(text, text, bigint)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): signature_settle, signature_unsettled_failures, signature_reset,
-- sign_signer_check, sign_precheck, sign_check_store, sign_check_take, sign_wrong_password,
-- sign_locked_error, sign_lot_refusal
