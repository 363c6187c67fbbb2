-- 030_lifecycle: the state machines of lots and aliquots (product.md §3), and the tables of the
-- release path: release signatures (21 CFR Part 11) and every signing attempt, issues to
-- recipients, lookback cases and what each held.
--
-- States change only inside SECURITY DEFINER functions (031-035, and the inventory functions of
-- 022/023); application roles have no UPDATE privilege on lot or aliquot at all. The triggers
-- below are the second line: whatever function changes a state, only these transitions happen:
--   lot:     quarantine -> ready -> released;  ready -> quarantine (no longer releasable);
--            quarantine|ready -> rejected;  quarantine|ready|released -> recalled
--   aliquot: quarantine -> released -> issued;  quarantine|released -> recalled|expired;
--            quarantine|released|recalled|expired -> discarded
-- and a lot becomes released only with its release signature, an aliquot only when its lot is
-- released (never the retained sample), issued only with its issue record. rejected, recalled,
-- issued and discarded are final. A superuser session (the DBA repairing data, test fixtures) is
-- not checked: it could disable the trigger anyway; every application role is. The trigger
-- functions are SECURITY DEFINER so that they read what they check whoever updates.

-- UTC ISO 8601 with microseconds: how the signed snapshot writes times, so that it reads the same
-- whatever the session's time zone.
CREATE FUNCTION fmtbank.ts_utc(p timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');

-- Whether the session is a superuser's (exempt from the transition checks, see above).
CREATE FUNCTION fmtbank.session_is_superuser() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
$$;

-- ---------------------------------------------------------------- release signatures
-- One per lot (UNIQUE: two officers signing at once give exactly one release). Immutable: the
-- row never changes (trigger) and is never deleted (audit_enable). snapshot is the canonical
-- JSON of the evaluation signed on (fmtbank.release_snapshot, 032), including the signature's own
-- manifestation (user, printed name, meaning, time, rule-set version); sha256 is the hex SHA-256
-- of its text (jsonb's text form is canonical: keys sorted, no insignificant whitespace).
CREATE TABLE fmtbank.release_signature (
    id               uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    lot              uuid NOT NULL UNIQUE REFERENCES fmtbank.lot,
    signer           text NOT NULL REFERENCES fmtbank.app_user,
    printed_name     text NOT NULL CHECK (btrim(printed_name) <> ''),
    signed_at        timestamptz NOT NULL,
    meaning          text NOT NULL CHECK (btrim(meaning) <> ''),
    rule_set_version integer NOT NULL REFERENCES fmtbank.rule_set,
    snapshot         jsonb NOT NULL CHECK (jsonb_typeof(snapshot) = 'object'),
    sha256           text NOT NULL
                     CHECK (sha256 = encode(sha256(convert_to(snapshot::text, 'UTF8')), 'hex'))
);
SELECT fmtbank.audit_enable('fmtbank.release_signature', 'id');
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.release_signature
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();

-- Every attempt to sign, good or bad (Part 11 §11.300: attempts at unauthorised use are
-- recorded). A wrong password also counts in app_user.failed_attempts, which locks the signer
-- at five.
CREATE TABLE fmtbank.signature_attempt (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    signer  text NOT NULL,
    lot     uuid REFERENCES fmtbank.lot,
    ok      boolean NOT NULL,
    detail  text NOT NULL
);
CREATE INDEX signature_attempt_signer ON fmtbank.signature_attempt (signer, at);
SELECT fmtbank.audit_enable('fmtbank.signature_attempt', 'id');
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.signature_attempt
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();

-- ---------------------------------------------------------------- issues
-- The donor -> recipient link (two-way traceability): which tube went to which pseudonymous
-- recipient (or trial-subject) code at which site.
CREATE TABLE fmtbank.aliquot_issue (
    id         bigserial PRIMARY KEY,
    aliquot    uuid NOT NULL UNIQUE REFERENCES fmtbank.aliquot,
    recipient  text NOT NULL CHECK (btrim(recipient) <> ''),
    site       text NOT NULL CHECK (btrim(site) <> ''),
    issued_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    issued_by  text NOT NULL DEFAULT session_user
);
CREATE INDEX aliquot_issue_recipient ON fmtbank.aliquot_issue (recipient);
SELECT fmtbank.audit_enable('fmtbank.aliquot_issue', 'id');
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.aliquot_issue
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();

INSERT INTO fmtbank.site_setting (name, value, note)
VALUES ('recipient_code_pattern', '^[A-Z0-9][A-Z0-9._/-]{1,39}$',
        'pseudonymous recipient or trial-subject code (upper case; no spaces, so no names)')
ON CONFLICT (name) DO NOTHING;

-- ---------------------------------------------------------------- lookback
-- A case per unacceptable result (opened by a trigger on fmtbank.result, 034): open until a
-- quality officer (or the daemon's sweep) applies it, which recalls what it holds; closed by a
-- quality officer with a reason, or automatically when a correction withdraws the result before
-- it was applied. hold_from: the first collection day held, fixed when applied.
CREATE TABLE fmtbank.lookback_case (
    id            bigserial PRIMARY KEY,
    donor_id      uuid NOT NULL REFERENCES fmtbank.donor,
    result_id     uuid NOT NULL UNIQUE,
    test_no       smallint NOT NULL,
    collected     date NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('positive', 'indeterminate', 'out_of_limit')),
    opened_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    opened_by     text NOT NULL DEFAULT session_user,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'applied', 'closed')),
    hold_from     date,
    applied_at    timestamptz,
    applied_by    text,
    closed_at     timestamptz,
    closed_by     text,
    close_reason  text,
    CHECK ((status = 'closed') = (closed_at IS NOT NULL AND close_reason IS NOT NULL)),
    CHECK ((applied_at IS NOT NULL) = (hold_from IS NOT NULL)),
    CHECK (status <> 'applied' OR applied_at IS NOT NULL)
);
CREATE INDEX lookback_case_donor ON fmtbank.lookback_case (donor_id, status);
CREATE INDEX lookback_case_open ON fmtbank.lookback_case (donor_id) WHERE status = 'open';
SELECT fmtbank.audit_enable('fmtbank.lookback_case', 'id');

-- What applying a case did: lots and in-stock aliquots recalled (with the state they had), and
-- issued aliquots listed for recipient notification (with recipient and site).
CREATE TABLE fmtbank.lookback_hold (
    id            bigserial PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES fmtbank.lookback_case,
    lot           uuid NOT NULL REFERENCES fmtbank.lot,
    aliquot       uuid REFERENCES fmtbank.aliquot,
    action        text NOT NULL CHECK (action IN ('recall_lot', 'recall_aliquot', 'notify')),
    prior_status  text NOT NULL,
    recipient     text,
    site          text,
    issued_at     timestamptz,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((action = 'recall_lot') = (aliquot IS NULL)),
    CHECK ((action = 'notify') = (recipient IS NOT NULL))
);
CREATE INDEX lookback_hold_case ON fmtbank.lookback_hold (case_id);
CREATE INDEX lookback_hold_lot ON fmtbank.lookback_hold (lot);
SELECT fmtbank.audit_enable('fmtbank.lookback_hold', 'id');
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.lookback_hold
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();

-- ---------------------------------------------------------------- state machines
CREATE FUNCTION fmtbank.lot_transition_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF fmtbank.session_is_superuser() THEN
        RETURN NEW;
    END IF;
    IF (OLD.status, NEW.status) NOT IN (('quarantine', 'ready'), ('ready', 'quarantine'),
                                        ('ready', 'released'), ('quarantine', 'rejected'),
                                        ('ready', 'rejected'), ('quarantine', 'recalled'),
                                        ('ready', 'recalled'), ('released', 'recalled')) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot change lot "%s" from %s to %s', OLD.lot_id, OLD.status,
                             NEW.status),
            DETAIL = 'A lot goes quarantine -> ready -> released, back to quarantine when it is no '
                     'longer releasable, or to rejected or recalled; rejected and recalled are final.';
    END IF;
    IF NEW.status = 'released'
       AND NOT EXISTS (SELECT 1 FROM fmtbank.release_signature s WHERE s.lot = NEW.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot release lot "%s" without a release signature', OLD.lot_id),
            HINT = 'A quality officer signs the release with "fmtbank release sign".';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER lot_transition BEFORE UPDATE OF status ON fmtbank.lot
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION fmtbank.lot_transition_check();

CREATE FUNCTION fmtbank.aliquot_transition_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF fmtbank.session_is_superuser() THEN
        RETURN NEW;
    END IF;
    IF (OLD.status, NEW.status) NOT IN (('quarantine', 'released'), ('quarantine', 'recalled'),
                                        ('quarantine', 'expired'), ('quarantine', 'discarded'),
                                        ('released', 'issued'), ('released', 'recalled'),
                                        ('released', 'expired'), ('released', 'discarded'),
                                        ('recalled', 'discarded'), ('expired', 'discarded')) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot change aliquot "%s" from %s to %s', OLD.aliquot_id,
                             OLD.status, NEW.status),
            DETAIL = 'An aliquot goes quarantine -> released -> issued, or to recalled, expired or '
                     'discarded; issued and discarded are final.';
    END IF;
    IF NEW.status = 'released' AND (OLD.retained OR NOT EXISTS (
            SELECT 1 FROM fmtbank.lot l WHERE l.id = NEW.lot AND l.status = 'released')) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot release aliquot "%s": %s', OLD.aliquot_id,
                             CASE WHEN OLD.retained THEN 'it is the retained sample'
                                  ELSE 'its lot is not released' END);
    END IF;
    IF NEW.status = 'issued'
       AND NOT EXISTS (SELECT 1 FROM fmtbank.aliquot_issue i WHERE i.aliquot = NEW.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot mark aliquot "%s" issued without its issue record', OLD.aliquot_id),
            HINT = 'Issue it with "fmtbank aliquot issue".';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER aliquot_transition BEFORE UPDATE OF status ON fmtbank.aliquot
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION fmtbank.aliquot_transition_check();

-- ---------------------------------------------------------------- privileges
REVOKE ALL ON fmtbank.release_signature, fmtbank.signature_attempt, fmtbank.aliquot_issue,
    fmtbank.lookback_case, fmtbank.lookback_hold FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.signature_attempt_id_seq, fmtbank.aliquot_issue_id_seq,
    fmtbank.lookback_case_id_seq, fmtbank.lookback_hold_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.release_signature, fmtbank.aliquot_issue, fmtbank.lookback_case,
    fmtbank.lookback_hold
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT SELECT ON fmtbank.signature_attempt TO fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.ts_utc(timestamptz)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- EXECUTE from PUBLIC: the per-schema default privilege of 001 cannot take away the global
-- default, so every function is revoked explicitly; the GRANTs are what each role may call.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA fmtbank FROM PUBLIC;
