-- 150_consent: donor consent (product.md §12 "Consent"; Directive 2004/23/EC Art 13). A donor's
-- informed consent is a series of events, never changed or deleted (fmtbank.donor_consent, audited,
-- append-only for every session): a consent signed on a date (its version, its scope - what the
-- material may be used for: clinical, research, trial - and optionally the SHA-256 of the scanned
-- signed document), or a withdrawal from a date. The consent in force at a time is the last event
-- dated by then (fmtbank.consent_in_force, code/150_consent.sql); as known at a time, only the
-- events recorded by then count.
--
-- Existing databases: donors registered before this migration get NO consent record. The
-- migration cannot know whether a donor signed, which version or for what, and a consent invented
-- by software is worth nothing to an inspector. So, after the upgrade, a donation of such a donor
-- is recorded as a rejected lot (rule consent) and no dose of such a donor is issued until the
-- consent is recorded from the signed form ("fmtbank donor consent CODE --version V --signed DATE
-- --scope ..." or "donor import" with the consent columns). Doses already issued are not touched.
-- This migration therefore inserts no audited data.

CREATE TABLE fmtbank.donor_consent (
    id              uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    donor_id        uuid NOT NULL REFERENCES fmtbank.donor,
    event           text NOT NULL CHECK (event IN ('signed', 'withdrawn')),
    -- the day the consent was signed, or the first day it is withdrawn
    effective_on    date NOT NULL,
    version         text CHECK (version IS NULL OR (btrim(version) <> '' AND length(version) <= 100)),
    scope           text[] CHECK (scope IS NULL OR (cardinality(scope) > 0
                                  AND scope <@ ARRAY['clinical', 'research', 'trial']::text[])),
    document_sha256 text CHECK (document_sha256 IS NULL OR document_sha256 ~ '^[0-9a-f]{64}$'),
    reason          text CHECK (reason IS NULL OR btrim(reason) <> ''),
    recorded_by     text NOT NULL DEFAULT session_user,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((event = 'signed') = (version IS NOT NULL AND scope IS NOT NULL)),
    CHECK (event = 'signed' OR document_sha256 IS NULL),
    CHECK (event = 'signed' OR reason IS NOT NULL)
);
CREATE INDEX donor_consent_donor ON fmtbank.donor_consent (donor_id, effective_on, recorded_at);
SELECT fmtbank.audit_enable('fmtbank.donor_consent', 'id');
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.donor_consent
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();
REVOKE ALL ON fmtbank.donor_consent FROM PUBLIC;
GRANT SELECT ON fmtbank.donor_consent
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- What an issued dose was used for. Every issue before this migration was to a recipient for
-- treatment (trial dispensing did not exist), so existing rows are 'clinical'. 'trial' is reserved
-- for trial dispensing (product.md §14), which records it through its own commands.
ALTER TABLE fmtbank.aliquot_issue
    ADD COLUMN use text NOT NULL DEFAULT 'clinical' CHECK (use IN ('clinical', 'research', 'trial'));

-- "donor import" takes optional consent columns.
ALTER TABLE fmtbank_stage.donor_stage
    ADD COLUMN consent_version  text,
    ADD COLUMN consent_signed   text,
    ADD COLUMN consent_scope    text,
    ADD COLUMN consent_document text;

-- "aliquot issue" gains --use (code set, 033_issue.sql): the earlier signature goes.
DROP FUNCTION fmtbank.aliquot_issue(text, text, text);
