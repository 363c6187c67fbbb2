-- 071_password_event: signature-password hashes never enter the audit trail and no person reads
-- them (issue 15 item 5, 21 CFR Part 11 §11.300).
--
-- Until now user_secret was audited (001: audit_enable), so every bcrypt hash was copied into
-- audit_log rows (old_row/new_row) that quality and admin could read. From here:
--   * user_secret has no audit triggers (it still refuses DELETE and TRUNCATE);
--   * a change of a signature password is recorded, without the hash, as an audited
--     password_event row (who did it, whose password, when, and the kind: "set" the first time,
--     "changed" by its owner, "reset" by someone else), by a trigger on user_secret, so whatever
--     function writes user_secret (user add, user password, and any later one) records it;
--   * no application role has any privilege on user_secret: only the SECURITY DEFINER functions
--     of its owner (signing, user_list's has_signature) read it;
--   * the audit rows of user_secret written before this migration are history: a row already in
--     the hash chain cannot be removed or blanked without breaking the chain (audit verify would
--     name it), so they stay, and a restrictive policy hides them from every application role
--     (audit_verify runs as the owner and still checks them). Only the database superuser can
--     read them; the bcrypt hashes in them remain a cost-10 offline-guessing target, so an
--     administrator may want to have the affected users set new signature passwords.

DROP TRIGGER audit_ins ON fmtbank.user_secret;
DROP TRIGGER audit_upd ON fmtbank.user_secret;
DROP TRIGGER audit_del ON fmtbank.user_secret;

CREATE POLICY audit_no_secret ON fmtbank.audit_log AS RESTRICTIVE FOR SELECT
    USING (tbl <> 'user_secret');

REVOKE ALL ON fmtbank.user_secret FROM PUBLIC, fmtbank_technician, fmtbank_quality,
    fmtbank_auditor, fmtbank_admin;

CREATE TABLE fmtbank.password_event (
    id    bigserial PRIMARY KEY,
    at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    who   text NOT NULL DEFAULT session_user,
    whose text NOT NULL REFERENCES fmtbank.app_user,
    kind  text NOT NULL CHECK (kind IN ('set', 'changed', 'reset'))
);
CREATE INDEX password_event_whose ON fmtbank.password_event (whose, at);
SELECT fmtbank.audit_enable('fmtbank.password_event', 'id');
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.password_event
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();

CREATE FUNCTION fmtbank.user_secret_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.sig_hash IS NOT DISTINCT FROM OLD.sig_hash THEN
        RETURN NULL;
    END IF;
    INSERT INTO fmtbank.password_event (whose, kind)
    VALUES (NEW.name, CASE WHEN TG_OP = 'INSERT' THEN 'set'
                           WHEN NEW.name = session_user THEN 'changed'
                           ELSE 'reset' END);
    RETURN NULL;
END $$;

CREATE TRIGGER password_event AFTER INSERT OR UPDATE ON fmtbank.user_secret
    FOR EACH ROW EXECUTE FUNCTION fmtbank.user_secret_event();

REVOKE ALL ON fmtbank.password_event FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.password_event_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.password_event TO fmtbank_quality, fmtbank_auditor, fmtbank_admin;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA fmtbank FROM PUBLIC;
