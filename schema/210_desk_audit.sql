-- 210_desk_audit: what quality officers and auditors meet every day (issue 14, items 8-10).
--
-- The meanings a release signature may carry (21 CFR 11.50: the meaning of the signature) are a
-- controlled list held as site data, one of them the default ("release sign" without --meaning).
-- A meaning is never deleted or renamed: it is retired (retired_at), so that every past signature's
-- meaning stays on the list. Audited; changed only by the owner (no CLI command edits it yet).
-- Existing databases: signatures made before this migration keep the free text they were signed
-- with; the shipped meanings below are the three uses of consent scope (clinical, research,
-- trial). This migration inserts audited data (signature_meaning INSERT, t0004-upgrade).

CREATE TABLE fmtbank.signature_meaning (
    meaning     text PRIMARY KEY CHECK (btrim(meaning) = meaning AND meaning <> ''
                                        AND length(meaning) <= 500),
    is_default  boolean NOT NULL DEFAULT false,
    ord         integer NOT NULL DEFAULT 0,
    added_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    retired_at  timestamptz,
    CHECK (NOT (is_default AND retired_at IS NOT NULL))
);
CREATE UNIQUE INDEX signature_meaning_one_default ON fmtbank.signature_meaning (is_default)
    WHERE is_default;
SELECT fmtbank.audit_enable('fmtbank.signature_meaning', 'meaning');
REVOKE ALL ON fmtbank.signature_meaning FROM PUBLIC;
GRANT SELECT ON fmtbank.signature_meaning
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

INSERT INTO fmtbank.signature_meaning (meaning, is_default, ord) VALUES
    ('Released for clinical use', true, 1),
    ('Released for research use', false, 2),
    ('Released for clinical trial use', false, 3);
