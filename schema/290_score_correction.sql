-- 290_score_correction: a recorded outcome follow-up score (170) is corrected, never overwritten:
-- each correction is a row of its own (the new value, the reason, who and when), append-only and
-- audited; the score in force is the latest correction's value, else the value recorded. The
-- rules are code: schema/code/170_vigilance.sql (recipient_score_correct, recipient_score_now).

CREATE TABLE fmtbank.recipient_score_correction (
    id            bigserial PRIMARY KEY,
    score         bigint NOT NULL REFERENCES fmtbank.recipient_score,
    value         numeric NOT NULL,
    reason        text NOT NULL CHECK (btrim(reason) <> ''),
    corrected_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    corrected_by  text NOT NULL DEFAULT session_user
);
CREATE INDEX recipient_score_correction_score ON fmtbank.recipient_score_correction (score, id);
SELECT fmtbank.audit_enable('fmtbank.recipient_score_correction', 'id');
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON fmtbank.recipient_score_correction
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();
REVOKE ALL ON fmtbank.recipient_score_correction FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.recipient_score_correction_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.recipient_score_correction
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
