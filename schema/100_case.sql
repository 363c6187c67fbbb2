-- 100_case: every safety signal reaches the stock (product.md §11). The lookback case becomes the
-- general case: a source (result, disclosure, followup, manual, excursion, adverse_event, catalog;
-- an open list), a scope, and a life open -> decided -> closed (the old "applied" is "decided").
-- What a case holds is stored when the signal is recorded, one row per case and lot (or per case
-- and aliquot for a storage scope) in fmtbank.case_hold, and ends only by a quality officer's
-- signed decision (fmtbank.case_decision). Who was told about issued doses is
-- fmtbank.case_notification. The functions are code: schema/code/100_case.sql.

-- Open result cases of an existing database hold, from now on, what they held by their window
-- (the lots of the donor collected on or after hold_from that are still in the bank); found
-- before the table is renamed (the function reading it is replaced by the code set).
CREATE TEMPORARY TABLE upgrade_hold ON COMMIT DROP AS
SELECT c.case_id, l.id AS lot
FROM fmtbank.lookback_case_at(clock_timestamp()) c
JOIN fmtbank.lot l ON l.donor_id = c.donor_id AND l.collected_at::date >= c.hold_from
WHERE c.status = 'open' AND l.status IN ('quarantine', 'ready', 'released');

ALTER TABLE fmtbank.lookback_case RENAME TO safety_case;
ALTER SEQUENCE fmtbank.lookback_case_id_seq RENAME TO safety_case_id_seq;
ALTER INDEX fmtbank.lookback_case_donor RENAME TO safety_case_donor;
ALTER INDEX fmtbank.lookback_case_open RENAME TO safety_case_open;
ALTER TABLE fmtbank.safety_case
    DROP CONSTRAINT lookback_case_status_check,
    DROP CONSTRAINT lookback_case_check1,
    DROP CONSTRAINT lookback_case_check2,
    ALTER COLUMN result_id DROP NOT NULL,
    ALTER COLUMN test_no DROP NOT NULL,
    ALTER COLUMN collected DROP NOT NULL,
    ALTER COLUMN outcome DROP NOT NULL,
    ALTER COLUMN donor_id DROP NOT NULL,
    ADD COLUMN case_code text UNIQUE,
    ADD COLUMN source text NOT NULL DEFAULT 'result' CHECK (source ~ '^[a-z][a-z_]{0,31}$'),
    ADD COLUMN reason text,
    ADD COLUMN scope_kind text NOT NULL DEFAULT 'donor'
        CHECK (scope_kind IN ('donor', 'lot', 'aliquot', 'box', 'freezer')),
    ADD COLUMN scope_ref uuid,
    ADD COLUMN scope_from timestamptz,
    ADD COLUMN scope_to timestamptz,
    ADD COLUMN withdrawn_at timestamptz,
    ADD COLUMN withdrawn_reason text,
    ADD COLUMN unnotified_reason text;
UPDATE fmtbank.safety_case SET status = 'decided' WHERE status = 'applied';
ALTER TABLE fmtbank.safety_case
    ADD CONSTRAINT safety_case_status_check CHECK (status IN ('open', 'decided', 'closed')),
    ADD CONSTRAINT safety_case_result CHECK (source <> 'result'
        OR (result_id IS NOT NULL AND test_no IS NOT NULL AND collected IS NOT NULL
            AND outcome IS NOT NULL AND donor_id IS NOT NULL)),
    ADD CONSTRAINT safety_case_scope CHECK ((scope_kind = 'donor') = (donor_id IS NOT NULL)
        OR scope_kind IN ('lot', 'aliquot')),
    ADD CONSTRAINT safety_case_reason CHECK (source = 'result' OR reason IS NOT NULL),
    ADD CONSTRAINT safety_case_withdrawn CHECK ((withdrawn_at IS NULL) = (withdrawn_reason IS NULL));

-- Case IDs: C + 2-digit year + 6-digit sequence + MOD 37-2 check character (per-year counter,
-- like lots). Existing cases get theirs in the order they were opened.
WITH n AS (
    SELECT c.id, extract(year FROM c.opened_at)::integer AS y,
           row_number() OVER (PARTITION BY extract(year FROM c.opened_at) ORDER BY c.id) AS k
    FROM fmtbank.safety_case c)
UPDATE fmtbank.safety_case c
SET case_code = fmtbank.with_check(format('C%s%s', lpad((n.y % 100)::text, 2, '0'),
                                          lpad(n.k::text, 6, '0')))
FROM n WHERE n.id = c.id;
INSERT INTO fmtbank.id_counter (kind, year, last)
SELECT 'case', extract(year FROM c.opened_at)::integer, count(*)
FROM fmtbank.safety_case c GROUP BY 2;
ALTER TABLE fmtbank.safety_case ALTER COLUMN case_code SET NOT NULL,
    ADD CONSTRAINT safety_case_code CHECK (case_code ~ '^C[0-9]{8}[0-9A-Z*]$');
CREATE INDEX safety_case_status ON fmtbank.safety_case (status, source);

-- What a case holds: a lot (aliquot NULL: the lot and every dose of it) or one aliquot (a storage
-- scope). Ended only by a decision (decision_id); never deleted, never changed otherwise.
CREATE TABLE fmtbank.case_hold (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES fmtbank.safety_case,
    lot         uuid NOT NULL REFERENCES fmtbank.lot,
    aliquot     uuid REFERENCES fmtbank.aliquot,
    held_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    held_by     text NOT NULL DEFAULT session_user,
    ended_at    timestamptz,
    decision_id bigint,
    CHECK ((ended_at IS NULL) = (decision_id IS NULL))
);
CREATE UNIQUE INDEX case_hold_once ON fmtbank.case_hold (case_id, lot, coalesce(aliquot, '00000000-0000-0000-0000-000000000000'));
CREATE INDEX case_hold_active_lot ON fmtbank.case_hold (lot) WHERE ended_at IS NULL;
CREATE INDEX case_hold_active_aliquot ON fmtbank.case_hold (aliquot) WHERE ended_at IS NULL AND aliquot IS NOT NULL;
SELECT fmtbank.audit_enable('fmtbank.case_hold', 'id');

-- A quality officer's signed decision on a case (all its held lots, or one with --lot):
-- lift ends the holds; recall makes the lots and their doses in stock recalled; discard makes
-- the doses discarded and the lot recalled. The signature is re-authenticated like a release's
-- (fmtbank.sign_attempt), its attempt consumed.
CREATE TABLE fmtbank.case_decision (
    id            bigserial PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES fmtbank.safety_case,
    lot           uuid REFERENCES fmtbank.lot,
    decision      text NOT NULL CHECK (decision IN ('lift', 'recall', 'discard')),
    meaning       text NOT NULL CHECK (btrim(meaning) <> ''),
    signed_by     text NOT NULL DEFAULT session_user,
    printed_name  text NOT NULL,
    signed_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempt       bigint NOT NULL UNIQUE REFERENCES fmtbank.signature_check,
    lots          integer NOT NULL,
    aliquots      integer NOT NULL
);
SELECT fmtbank.audit_enable('fmtbank.case_decision', 'id');
ALTER TABLE fmtbank.case_hold ADD CONSTRAINT case_hold_decision
    FOREIGN KEY (decision_id) REFERENCES fmtbank.case_decision;

-- Who was told about a dose of a case's material issued to a recipient: when, how, by whom.
CREATE TABLE fmtbank.case_notification (
    id           bigserial PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES fmtbank.safety_case,
    recipient    text NOT NULL,
    by_means     text NOT NULL CHECK (by_means IN ('phone', 'letter', 'email', 'in-person')),
    told_at      timestamptz NOT NULL,
    note         text,
    recorded_by  text NOT NULL DEFAULT session_user,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX case_notification_case ON fmtbank.case_notification (case_id, recipient);
SELECT fmtbank.audit_enable('fmtbank.case_notification', 'id');

REVOKE ALL ON fmtbank.case_hold, fmtbank.case_decision, fmtbank.case_notification FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.case_hold_id_seq, fmtbank.case_decision_id_seq,
    fmtbank.case_notification_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.safety_case, fmtbank.case_hold, fmtbank.case_decision,
    fmtbank.case_notification TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

INSERT INTO fmtbank.case_hold (case_id, lot, held_by)
SELECT u.case_id, u.lot, 'fmtbank upgrade 100' FROM upgrade_hold u;

-- A signature's password check is for a lot's release or for a decision on a case.
ALTER TABLE fmtbank.signature_check ALTER COLUMN lot DROP NOT NULL,
    ADD COLUMN case_id bigint REFERENCES fmtbank.safety_case,
    ADD CONSTRAINT signature_check_target CHECK ((lot IS NULL) <> (case_id IS NULL));
ALTER TABLE fmtbank.signature_attempt ADD COLUMN case_id bigint REFERENCES fmtbank.safety_case;

-- Replaced by case_decide (signed) and lookback_open_cases_of: nothing recalls unsigned any more.
DROP FUNCTION fmtbank.lookback_apply(text, text);
DROP FUNCTION fmtbank.lookback_apply_cases(bigint[], timestamptz);
DROP FUNCTION fmtbank.lookback_close(text);
DROP VIEW fmtbank.lookback_list;
