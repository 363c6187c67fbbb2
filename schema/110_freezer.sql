-- 110_freezer: freezer temperature (product.md §11.3) and storage holds stored by scope
-- (§11.0.1). Readings (fmtbank.freezer_reading, one per freezer and time, never deleted) make a
-- freezer monitored; the daemon's sweep judges them (fmtbank.freezer_judge, code/110_freezer.sql)
-- and records each excursion once (fmtbank.freezer_excursion) with the `excursion` case it opened.
-- A storage hold (box, freezer, aliquot, excursion) is now one case_hold row per case and lot
-- carrying the held tubes of that lot (aliquots uuid[]; NULL = the lot and every dose of it), so
-- that holding a million tubes is one statement of about 200,000 rows, not a million.

-- ---------------------------------------------------------------- storage holds by lot
ALTER TABLE fmtbank.case_hold ADD COLUMN aliquots uuid[]
    CHECK (aliquots IS NULL OR (cardinality(aliquots) > 0 AND array_position(aliquots, NULL) IS NULL));
-- Storage holds recorded before this migration (one row per tube) keep their rows, each now naming
-- its one tube: nothing is deleted. New ones are one row per case and lot.
UPDATE fmtbank.case_hold h SET aliquots = ARRAY[h.aliquot] WHERE h.aliquot IS NOT NULL;
DROP INDEX fmtbank.case_hold_once;
-- the view of cases (code set, re-created after the migrations) reads the column
DROP VIEW IF EXISTS fmtbank.case_list;
ALTER TABLE fmtbank.case_hold DROP COLUMN aliquot;
CREATE UNIQUE INDEX case_hold_once ON fmtbank.case_hold
    (case_id, lot, coalesce(aliquots[1], '00000000-0000-0000-0000-000000000000'::uuid));

-- ---------------------------------------------------------------- readings
CREATE TABLE fmtbank.freezer_reading (
    id          bigserial PRIMARY KEY,
    freezer     uuid NOT NULL REFERENCES fmtbank.freezer,
    at          timestamptz NOT NULL,
    temp_c      numeric(5, 1) NOT NULL CHECK (temp_c BETWEEN -200 AND 60),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by text NOT NULL DEFAULT session_user,
    source      text NOT NULL DEFAULT 'cli',
    UNIQUE (freezer, at)
);
SELECT fmtbank.audit_enable('fmtbank.freezer_reading', 'id');

-- An excursion, recorded once (freezer, kind, start): a run of readings above the limit (kind
-- above) or a gap between readings (kind gap), with the case it opened.
CREATE TABLE fmtbank.freezer_excursion (
    id          bigserial PRIMARY KEY,
    freezer     uuid NOT NULL REFERENCES fmtbank.freezer,
    kind        text NOT NULL CHECK (kind IN ('above', 'gap')),
    from_at     timestamptz NOT NULL,
    to_at       timestamptz NOT NULL CHECK (to_at >= from_at),
    max_temp_c  numeric(5, 1),
    limit_c     numeric(5, 1) NOT NULL,
    case_id     bigint REFERENCES fmtbank.safety_case,
    detected_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (freezer, kind, from_at)
);
SELECT fmtbank.audit_enable('fmtbank.freezer_excursion', 'id');

REVOKE ALL ON fmtbank.freezer_reading, fmtbank.freezer_excursion FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.freezer_reading_id_seq, fmtbank.freezer_excursion_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.freezer_reading, fmtbank.freezer_excursion
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- The inbox format freezer,at,temp_c is staged like results (060_owner_stage).
CREATE UNLOGGED TABLE fmtbank_stage.reading_stage (
    pid        integer NOT NULL DEFAULT pg_catalog.pg_backend_pid()
               CHECK (pid = pg_catalog.pg_backend_pid()),
    line       bigint NOT NULL,
    freezer    text,
    at         text,
    temp_c     text
);
ALTER TABLE fmtbank_stage.reading_stage OWNER TO fmtbank_owner;
REVOKE ALL ON fmtbank_stage.reading_stage FROM PUBLIC;
GRANT INSERT ON fmtbank_stage.reading_stage
    TO fmtbank_technician, fmtbank_quality, fmtbank_admin, fmtbank_daemon;

-- The daemon judges the readings in every pass (the code set replaces this placeholder).
CREATE FUNCTION fmtbank.sweep_freezer() RETURNS TABLE (what text, n bigint)
LANGUAGE sql AS $$ SELECT NULL::text, NULL::bigint WHERE false $$;
SELECT fmtbank.sweep_register('freezer', 'fmtbank.sweep_freezer()', 30,
                              'freezer excursions (temperature above the limit, reading gaps)');
