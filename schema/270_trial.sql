-- 270_trial: blinded trial dispensing (product.md Part II §14; issue 13). Tables only; the rules
-- are in schema/code/270_trial.sql.
--
-- Roles: fmtbank_unblinded (the stool-bank pharmacist: held IN ADDITION to a person's role, see
-- app_user.unblinded) and fmtbank_site (trial site staff: enrol, dispense, record events; blinded).
--
-- What is secret (the arm of a participant, the arm, lot, donor and placebo status of a kit, the
-- sealed seed and the allocation list) lives in tables of its own that only fmtbank_unblinded may
-- read: trial_seed, trial_allocation, trial_kit_content. They have row-level
-- security as well (policy: the session user holds fmtbank_unblinded), so a grant added by
-- mistake still shows a blinded reader nothing. What every trial role may read carries no arm:
-- trial, trial_arm (the protocol: names and ratios), trial_participant (stratum and enrolment
-- order), trial_kit (kit number and state), trial_dispense (participant, visit, kit) and
-- trial_unblinding (who unblinded whom, when and why - never the arm).
-- A trial dose is an issue record with use 'trial'; those rows of fmtbank.aliquot_issue and the
-- audit rows of the secret tables and of trial issues are hidden from blinded readers by row-level
-- security (policies below).

DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['fmtbank_site', 'fmtbank_unblinded'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END $$;
GRANT USAGE ON SCHEMA fmtbank TO fmtbank_site, fmtbank_unblinded;
GRANT SELECT ON fmtbank.schema_migration, fmtbank.schema_code, fmtbank.site_setting, fmtbank.app_user
    TO fmtbank_site, fmtbank_unblinded;

-- A person's role may now be site; unblinded is held in addition to the role.
ALTER TABLE fmtbank.app_user DROP CONSTRAINT app_user_role_check;
ALTER TABLE fmtbank.app_user ADD CONSTRAINT app_user_role_check
    CHECK (role IN ('technician', 'quality', 'auditor', 'admin', 'site'));
ALTER TABLE fmtbank.app_user ADD COLUMN unblinded boolean NOT NULL DEFAULT false;

-- ---------------------------------------------------------------- trials
CREATE TABLE fmtbank.trial (
    id          uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Z][A-Z0-9-]{1,29}$'),
    block_sizes smallint[] NOT NULL CHECK (cardinality(block_sizes) > 0),
    strata      text[] NOT NULL,           -- factor names, in the order strata are written
    doses       smallint NOT NULL CHECK (doses BETWEEN 1 AND 100),
    donor_pool  uuid[],                    -- NULL: any donor
    same_donor  boolean NOT NULL DEFAULT false,
    list_source text NOT NULL CHECK (list_source IN ('generated', 'imported')),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by  text NOT NULL DEFAULT session_user
);
SELECT fmtbank.audit_enable('fmtbank.trial', 'code');

CREATE TABLE fmtbank.trial_arm (
    trial   uuid NOT NULL REFERENCES fmtbank.trial,
    arm     text NOT NULL CHECK (arm ~ '^[A-Z][A-Z0-9_-]{0,19}$'),
    ratio   smallint NOT NULL CHECK (ratio BETWEEN 1 AND 20),
    placebo boolean NOT NULL,
    ord     smallint NOT NULL,
    PRIMARY KEY (trial, arm)
);
SELECT fmtbank.audit_enable('fmtbank.trial_arm', 'arm');

-- The sealed seed (32 random bytes) the list is generated from.
CREATE TABLE fmtbank.trial_seed (
    trial     uuid PRIMARY KEY REFERENCES fmtbank.trial,
    seed      bytea NOT NULL CHECK (length(seed) = 32),
    generator text NOT NULL
);
SELECT fmtbank.audit_enable('fmtbank.trial_seed', 'trial');

-- The allocation list: per stratum, position seq (1, 2, ...) in block block_no of block_size.
CREATE TABLE fmtbank.trial_allocation (
    trial      uuid NOT NULL REFERENCES fmtbank.trial,
    stratum    text NOT NULL,
    seq        integer NOT NULL CHECK (seq > 0),
    block_no   integer NOT NULL CHECK (block_no > 0),
    block_size smallint NOT NULL,
    arm        text NOT NULL,
    PRIMARY KEY (trial, stratum, seq),
    FOREIGN KEY (trial, arm) REFERENCES fmtbank.trial_arm
);
SELECT fmtbank.audit_enable('fmtbank.trial_allocation', 'stratum');

CREATE TABLE fmtbank.trial_participant (
    id          uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    trial       uuid NOT NULL REFERENCES fmtbank.trial,
    code        text NOT NULL,
    stratum     text NOT NULL,
    seq         integer NOT NULL,
    enrolled_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    enrolled_by text NOT NULL DEFAULT session_user,
    UNIQUE (trial, code),
    UNIQUE (trial, stratum, seq)
);
SELECT fmtbank.audit_enable('fmtbank.trial_participant', 'code');

-- A placebo preparation's pseudo-donor (a code in the donor format), for one trial.
CREATE TABLE fmtbank.trial_placebo_donor (
    donor uuid PRIMARY KEY REFERENCES fmtbank.donor,
    trial uuid NOT NULL REFERENCES fmtbank.trial
);
SELECT fmtbank.audit_enable('fmtbank.trial_placebo_donor', 'donor');

-- The preparation record of a placebo lot (its readiness: no donor panel).
CREATE TABLE fmtbank.trial_placebo_lot (
    lot         uuid PRIMARY KEY REFERENCES fmtbank.lot,
    trial       uuid NOT NULL REFERENCES fmtbank.trial,
    preparation text NOT NULL CHECK (btrim(preparation) <> ''),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by text NOT NULL DEFAULT session_user
);
SELECT fmtbank.audit_enable('fmtbank.trial_placebo_lot', 'lot');

CREATE TABLE fmtbank.trial_kit (
    id        uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    trial     uuid NOT NULL REFERENCES fmtbank.trial,
    kit_no    text NOT NULL UNIQUE CHECK (kit_no ~ '^K[0-9]{7}[0-9A-Z*]$'),
    status    text NOT NULL DEFAULT 'made'
              CHECK (status IN ('made', 'dispensed', 'returned', 'destroyed')),
    status_at timestamptz,
    status_reason text,
    made_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    made_by   text NOT NULL DEFAULT session_user
);
CREATE INDEX trial_kit_trial ON fmtbank.trial_kit (trial, status);
SELECT fmtbank.audit_enable('fmtbank.trial_kit', 'kit_no');

CREATE TABLE fmtbank.trial_kit_content (
    kit     uuid PRIMARY KEY REFERENCES fmtbank.trial_kit,
    trial   uuid NOT NULL,
    arm     text NOT NULL,
    aliquot uuid NOT NULL UNIQUE REFERENCES fmtbank.aliquot,
    FOREIGN KEY (trial, arm) REFERENCES fmtbank.trial_arm
);
SELECT fmtbank.audit_enable('fmtbank.trial_kit_content', 'kit');

CREATE TABLE fmtbank.trial_dispense (
    id            bigserial PRIMARY KEY,
    trial         uuid NOT NULL REFERENCES fmtbank.trial,
    participant   uuid NOT NULL REFERENCES fmtbank.trial_participant,
    visit         smallint NOT NULL CHECK (visit > 0),
    kit           uuid NOT NULL UNIQUE REFERENCES fmtbank.trial_kit,
    site          text NOT NULL,
    dispensed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    dispensed_by  text NOT NULL DEFAULT session_user,
    UNIQUE (participant, visit)
);
SELECT fmtbank.audit_enable('fmtbank.trial_dispense', 'id');

CREATE TABLE fmtbank.trial_unblinding (
    id           bigserial PRIMARY KEY,
    trial        uuid NOT NULL REFERENCES fmtbank.trial,
    participant  uuid NOT NULL REFERENCES fmtbank.trial_participant,
    emergency    boolean NOT NULL,
    reason       text NOT NULL CHECK (btrim(reason) <> ''),
    unblinded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    unblinded_by text NOT NULL DEFAULT session_user
);
SELECT fmtbank.audit_enable('fmtbank.trial_unblinding', 'id');

CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.trial_dispense
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.trial_unblinding
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.trial_allocation
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.trial_seed
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.trial_kit_content
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();

-- ---------------------------------------------------------------- privileges and concealment
REVOKE ALL ON fmtbank.trial, fmtbank.trial_arm, fmtbank.trial_seed, fmtbank.trial_allocation,
    fmtbank.trial_participant, fmtbank.trial_placebo_donor, fmtbank.trial_placebo_lot,
    fmtbank.trial_kit, fmtbank.trial_kit_content, fmtbank.trial_dispense, fmtbank.trial_unblinding
    FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.trial_dispense_id_seq, fmtbank.trial_unblinding_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.trial_arm, fmtbank.trial_participant, fmtbank.trial_kit,
    fmtbank.trial_dispense, fmtbank.trial_unblinding
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin, fmtbank_site,
       fmtbank_unblinded;
-- the block sizes (with the list places they would predict the next arm of a block) and the
-- donor pool are the unblinded's
GRANT SELECT (id, code, strata, doses, same_donor, list_source, created_at, created_by)
    ON fmtbank.trial
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin, fmtbank_site;
GRANT SELECT ON fmtbank.trial TO fmtbank_unblinded;
GRANT SELECT ON fmtbank.trial_seed, fmtbank.trial_allocation, fmtbank.trial_kit_content
    TO fmtbank_unblinded;
-- Which lots are placebo preparations is known to the bank, which makes them (readiness reads
-- it): never to the site. What stays secret is which kit, and so which participant, got one.
GRANT SELECT ON fmtbank.trial_placebo_donor, fmtbank.trial_placebo_lot
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin, fmtbank_unblinded,
       fmtbank_daemon;

-- Row-level security on the secret tables (defence in depth behind the grants).
ALTER TABLE fmtbank.trial_seed ENABLE ROW LEVEL SECURITY;
ALTER TABLE fmtbank.trial_allocation ENABLE ROW LEVEL SECURITY;
ALTER TABLE fmtbank.trial_kit_content ENABLE ROW LEVEL SECURITY;
CREATE POLICY unblinded_only ON fmtbank.trial_seed FOR SELECT
    USING (pg_catalog.pg_has_role(session_user, 'fmtbank_unblinded', 'MEMBER'));
CREATE POLICY unblinded_only ON fmtbank.trial_allocation FOR SELECT
    USING (pg_catalog.pg_has_role(session_user, 'fmtbank_unblinded', 'MEMBER'));
CREATE POLICY unblinded_only ON fmtbank.trial_kit_content FOR SELECT
    USING (pg_catalog.pg_has_role(session_user, 'fmtbank_unblinded', 'MEMBER'));

-- Trial issues (the participant -> tube -> lot -> donor link) are for unblinded readers only.
ALTER TABLE fmtbank.aliquot_issue ENABLE ROW LEVEL SECURITY;
CREATE POLICY issue_read ON fmtbank.aliquot_issue FOR SELECT
    USING (use <> 'trial' OR pg_catalog.pg_has_role(session_user, 'fmtbank_unblinded', 'MEMBER'));

-- Audit rows: of the secret tables, of the trial rows (their block sizes), and of trial issues,
-- only unblinded readers see them.
CREATE POLICY audit_trial_blind ON fmtbank.audit_log AS RESTRICTIVE FOR SELECT
    USING (pg_catalog.pg_has_role(session_user, 'fmtbank_unblinded', 'MEMBER')
           OR NOT (tbl IN ('trial', 'trial_seed', 'trial_allocation', 'trial_kit_content')
                   OR (tbl = 'aliquot_issue' AND coalesce(new_row, old_row) ->> 'use' = 'trial')));

-- A placebo preparation has no Bristol stool form.
ALTER TABLE fmtbank.lot ALTER COLUMN bristol DROP NOT NULL;
