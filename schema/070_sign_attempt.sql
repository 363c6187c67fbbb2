-- 070_sign_attempt: signing in two phases, so that a failed signature attempt is one no caller
-- can undo (21 CFR Part 11 §11.300(d)). Issue 15 item 5.
--
-- Before: release_sign(lot, meaning, password) counted a wrong password in the caller's own
-- transaction, so "BEGIN; SELECT fmtbank.release_sign(... guess ...); ROLLBACK" repeated tried
-- any number of passwords and the lockout never came. PostgreSQL has no autonomous transaction,
-- so now:
--
--   1. fmtbank.sign_attempt(lot, meaning, password) checks the password and stores the check in
--      fmtbank.signature_check, a table no application role can read, and returns only its id.
--      It tells the caller nothing about the password: not by its result, not by an error (every
--      refusal comes before the password is looked at), and not by any row the caller could read
--      in its own transaction (app_user, signature_attempt and the audit trail are untouched by
--      the check itself). The caller learns the verdict only after committing it.
--   2. fmtbank.release_sign(lot, meaning, attempt), in a later transaction, refuses a check that
--      is not committed (made in this very transaction, even in a savepoint: the check row holds
--      the top-level transaction id, pg_current_xact_id(), so a savepoint cannot disguise it),
--      older than signature_attempt_window() (5 minutes), already used by a signature, made for
--      another lot or meaning, or by another person. A wrong password returns the verdict
--      'wrong_password' without raising; a right one signs as before.
--
-- Settling: the verdicts of committed checks reach signature_attempt (the audited record of
-- every attempt), app_user.failed_attempts and app_user.locked_at through
-- fmtbank.signature_settle(user), which sign_attempt, release_sign and signature_reset (user
-- unlock) call first. A settle that is rolled back is simply done again next time: a committed
-- check stays unsettled until a committed settle records it (signature_attempt.attempt), so the
-- lockout counts every committed wrong password whatever the caller rolls back. Rolling back
-- the sign_attempt itself only withdraws a guess whose verdict the caller never saw.
-- The CLI "release sign" does both phases (two transactions) and reports as before.

CREATE TABLE fmtbank.signature_check (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    signer  text NOT NULL REFERENCES fmtbank.app_user,
    lot     uuid NOT NULL REFERENCES fmtbank.lot,
    meaning text NOT NULL,
    ok      boolean NOT NULL,
    -- the top-level transaction that made the check (a savepoint's row has its parent's id)
    xact    xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX signature_check_signer ON fmtbank.signature_check (signer, id);
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.signature_check
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();
CREATE TRIGGER no_delete BEFORE DELETE ON fmtbank.signature_check
    FOR EACH ROW EXECUTE FUNCTION fmtbank.refuse_delete();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON fmtbank.signature_check
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.refuse_delete();
-- No role reads it (its rows are audited once settled, as signature_attempt rows).
REVOKE ALL ON fmtbank.signature_check FROM PUBLIC, fmtbank_technician, fmtbank_quality,
    fmtbank_auditor, fmtbank_admin;
REVOKE ALL ON SEQUENCE fmtbank.signature_check_id_seq FROM PUBLIC, fmtbank_technician,
    fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- The settled record: which check an attempt row records (NULL for rows before 070), the
-- meaning, and the consecutive failures after it.
ALTER TABLE fmtbank.signature_attempt ADD COLUMN attempt bigint UNIQUE
    REFERENCES fmtbank.signature_check;
ALTER TABLE fmtbank.signature_attempt ADD COLUMN failures integer;
-- The check a signature consumed (once: UNIQUE).
ALTER TABLE fmtbank.release_signature ADD COLUMN attempt bigint UNIQUE
    REFERENCES fmtbank.signature_check;

-- How long a committed check may be used to sign.
CREATE FUNCTION fmtbank.signature_attempt_window() RETURNS interval
LANGUAGE sql IMMUTABLE RETURN interval '5 minutes';

-- Records the verdicts of p_user's committed, unsettled checks, oldest first: a signature_attempt
-- row each, the failure count, and the lock at signature_max_failures(). The caller holds the
-- app_user row lock. Checks of the current transaction are not committed and stay unsettled.
CREATE FUNCTION fmtbank.signature_settle(p_user text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    u fmtbank.app_user;
    c fmtbank.signature_check;
    n integer;
    lk timestamptz;
    maxf integer := fmtbank.signature_max_failures();
    lotid text;
BEGIN
    SELECT * INTO u FROM fmtbank.app_user WHERE name = p_user;
    n := u.failed_attempts;
    lk := u.locked_at;
    FOR c IN SELECT k.* FROM fmtbank.signature_check k
             WHERE k.signer = p_user
               AND k.xact IS DISTINCT FROM pg_current_xact_id_if_assigned()
               AND NOT EXISTS (SELECT 1 FROM fmtbank.signature_attempt a WHERE a.attempt = k.id)
             ORDER BY k.id LOOP
        SELECT l.lot_id INTO lotid FROM fmtbank.lot l WHERE l.id = c.lot;
        IF c.ok THEN
            n := 0;
            INSERT INTO fmtbank.signature_attempt (at, signer, lot, ok, detail, attempt, failures)
            VALUES (c.at, c.signer, c.lot, true,
                    format('signature password verified to sign the release of lot %s (attempt %s)',
                           lotid, c.id), c.id, n);
        ELSE
            n := n + 1;
            IF n >= maxf AND lk IS NULL THEN
                lk := clock_timestamp();
            END IF;
            INSERT INTO fmtbank.signature_attempt (at, signer, lot, ok, detail, attempt, failures)
            VALUES (c.at, c.signer, c.lot, false,
                    format('wrong signature password (failed attempt %s of %s)%s', n, maxf,
                           CASE WHEN n >= maxf THEN '; user locked' ELSE '' END), c.id, n);
        END IF;
    END LOOP;
    IF n IS DISTINCT FROM u.failed_attempts OR lk IS DISTINCT FROM u.locked_at THEN
        UPDATE fmtbank.app_user SET failed_attempts = n, locked_at = lk WHERE name = p_user;
    END IF;
END $$;

-- Whether p_user has committed wrong passwords not yet settled (user unlock asks).
CREATE FUNCTION fmtbank.signature_unsettled_failures(p_user text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT EXISTS (SELECT 1 FROM fmtbank.signature_check k
                   WHERE k.signer = p_user AND NOT k.ok
                     AND k.xact IS DISTINCT FROM pg_current_xact_id_if_assigned()
                     AND NOT EXISTS (SELECT 1 FROM fmtbank.signature_attempt a
                                     WHERE a.attempt = k.id))
$$;

-- Clears p_user's signature failures and lock (fmtbank user unlock), after settling what is
-- committed so that no earlier failure is left to count again. The caller checks the role.
CREATE FUNCTION fmtbank.signature_reset(p_name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM 1 FROM fmtbank.app_user WHERE name = p_name FOR UPDATE;
    PERFORM fmtbank.signature_settle(p_name);
    UPDATE fmtbank.app_user SET locked_at = NULL, failed_attempts = 0
    WHERE name = p_name AND (locked_at IS NOT NULL OR failed_attempts <> 0);
END $$;

-- The checks shared by both phases that do not depend on the password: the role, the lot, the
-- meaning, the signer (the session user: nobody signs for someone else), not disabled, with a
-- signature password; settles the signer's committed checks. Returns the signer's row, locked FOR UPDATE (one signer's attempts are
-- serialised, so the failure count is exact), and the trimmed meaning.
CREATE FUNCTION fmtbank.sign_precheck(p_lot text, p_meaning text, p_lock_lot boolean,
                                      OUT l fmtbank.lot, OUT u fmtbank.app_user, OUT m text)
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    m := btrim(coalesce(p_meaning, ''));
    PERFORM fmtbank.require_role('signing releases', 'quality');
    l := fmtbank.lot_get(p_lot);
    IF p_lock_lot THEN
        -- the lot before the signer, as every signer does (two officers signing one lot: the
        -- second finds it released), and before any audited write (settling) takes the audit
        -- trail's lock. NO KEY UPDATE: a sign_attempt's check row references the lot (its foreign
        -- key takes KEY SHARE) while holding the audit lock; FOR UPDATE would deadlock with it.
        SELECT * INTO l FROM fmtbank.lot WHERE id = l.id FOR NO KEY UPDATE;
    END IF;
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

CREATE FUNCTION fmtbank.sign_locked_error(u fmtbank.app_user) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = format('user "%s" cannot sign: it is locked after %s failed signature attempts',
                         u.name, u.failed_attempts),
        DETAIL = format('Locked since %s.', fmtbank.ts_text(u.locked_at)),
        HINT = format('An administrator unlocks it with "fmtbank user unlock %s --reason ...".',
                      u.name);
END $$;

-- Why lot l cannot be signed now (already released, or a blocking rule), or NULL.
CREATE FUNCTION fmtbank.sign_lot_refusal(l fmtbank.lot) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    who fmtbank.release_signature;
    blk jsonb;
BEGIN
    IF l.status = 'released' THEN
        SELECT * INTO who FROM fmtbank.release_signature s WHERE s.lot = l.id;
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign the release of lot "%s": it is already released', l.lot_id),
            DETAIL = format('Signed by %s (%s) on %s: "%s".', who.printed_name, who.signer,
                            fmtbank.ts_text(who.signed_at), who.meaning);
    END IF;
    SELECT b.blocking INTO blk FROM fmtbank.lot_blocking_at(clock_timestamp(), l.id) b;
    IF blk IS DISTINCT FROM '[]'::jsonb THEN
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
CREATE FUNCTION fmtbank.sign_attempt(p_lot text, p_meaning text, p_password text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    pc record;
    h text;
    ok boolean;
    id bigint;
BEGIN
    pc := fmtbank.sign_precheck(p_lot, p_meaning, false);
    IF (pc.u).locked_at IS NOT NULL THEN
        RETURN NULL;
    END IF;
    PERFORM fmtbank.sign_lot_refusal(pc.l);
    SELECT s.sig_hash INTO h FROM fmtbank.user_secret s WHERE s.name = (pc.u).name;
    ok := p_password IS NOT NULL AND fmtbank.crypt(p_password, h) IS NOT DISTINCT FROM h;
    INSERT INTO fmtbank.signature_check (signer, lot, meaning, ok)
    VALUES ((pc.u).name, (pc.l).id, pc.m, coalesce(ok, false))
    RETURNING signature_check.id INTO id;
    RETURN id;
END $$;

-- The old one-transaction call is withdrawn: its failures could be rolled back.
DROP FUNCTION fmtbank.release_sign(text, text, text);
CREATE FUNCTION fmtbank.release_sign(p_lot text, p_meaning text, p_password text)
RETURNS TABLE (outcome text, signature uuid, sha256 text, released integer, message text,
               detail text, hint text)
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = 'fmtbank.release_sign(lot, meaning, password) is withdrawn',
        DETAIL = 'A failed signature attempt must be committed on its own, where no caller can roll it back.',
        HINT = 'Call fmtbank.sign_attempt(lot, meaning, password) and commit; then, in a new transaction, '
               'fmtbank.release_sign(lot, meaning, attempt) with the id it returned.';
END $$;

-- Phase 2.
CREATE FUNCTION fmtbank.release_sign(p_lot text, p_meaning text, p_attempt bigint)
RETURNS TABLE (outcome text, signature uuid, sha256 text, released integer, message text,
               detail text, hint text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    pc record;
    l fmtbank.lot;
    u fmtbank.app_user;
    m text;
    k fmtbank.signature_check;
    a fmtbank.signature_attempt;
    t timestamptz;
    snap jsonb;
    ver integer;
    sid uuid;
    sha text;
    n integer;
    maxf integer := fmtbank.signature_max_failures();
BEGIN
    pc := fmtbank.sign_precheck(p_lot, p_meaning, true);
    l := pc.l; u := pc.u; m := pc.m;
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
    IF k.lot <> l.id OR k.meaning <> m THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign with signature attempt %s: it was made for another lot or meaning',
                             p_attempt);
    END IF;
    IF EXISTS (SELECT 1 FROM fmtbank.release_signature s WHERE s.attempt = k.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign with signature attempt %s: it was already used', p_attempt);
    END IF;
    IF k.at < clock_timestamp() - fmtbank.signature_attempt_window() THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign with signature attempt %s: it is older than %s',
                             p_attempt, fmtbank.signature_attempt_window()),
            HINT = 'Enter the signature password again.';
    END IF;

    -- The verdict, settled (sign_precheck settled every committed check, this one included).
    SELECT * INTO a FROM fmtbank.signature_attempt s WHERE s.attempt = k.id;
    IF NOT k.ok THEN
        n := a.failures;
        RETURN QUERY SELECT 'wrong_password'::text, NULL::uuid, NULL::text, NULL::integer,
            format('could not sign the release of lot "%s": wrong signature password', l.lot_id),
            CASE WHEN n >= maxf
                 THEN format('That was failed attempt %s of %s: user "%s" is now locked.', n, maxf, u.name)
                 ELSE format('Failed attempt %s of %s for user "%s"; it is recorded. After %s the user is locked.',
                             n, maxf, u.name, maxf) END,
            CASE WHEN n >= maxf
                 THEN format('An administrator unlocks it with "fmtbank user unlock %s --reason ...".', u.name) END;
        RETURN;
    END IF;
    IF u.locked_at IS NOT NULL THEN
        PERFORM fmtbank.sign_locked_error(u);
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

-- user unlock also clears the signature failures (through signature_reset, which settles
-- first); a user whose committed wrong passwords are not yet settled counts as locked-or-failing.
CREATE OR REPLACE FUNCTION fmtbank.user_unlock(p_name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE u fmtbank.app_user := fmtbank.user_get(p_name);
BEGIN
    PERFORM fmtbank.require_role('unlocking users', 'admin');
    IF u.locked_at IS NULL AND u.failed_attempts = 0
       AND NOT fmtbank.signature_unsettled_failures(p_name) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003', MESSAGE = format('user "%s" is not locked', p_name);
    END IF;
    PERFORM fmtbank.acting_reason(true, 'unlocking a user');
    PERFORM fmtbank.signature_reset(p_name);
    RETURN p_name;
END $$;

-- Both phases check the role themselves (require_role, in sign_precheck): every role may call
-- them and be told why not; the withdrawn call says what to do instead.
GRANT EXECUTE ON FUNCTION fmtbank.release_sign(text, text, text),
    fmtbank.sign_attempt(text, text, text), fmtbank.release_sign(text, text, bigint)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.signature_attempt_window()
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA fmtbank FROM PUBLIC;
