-- 160_asof: the recorded history of the states that change in place (product.md §12 "As-of
-- everywhere"): every version of a lot row and of an aliquot row, and every stay of a tube in a
-- position, each with the interval [valid_from, valid_to) during which it was the recorded state
-- (valid_to NULL: the current one). "lot show|list", "release check", "aliquot show|list",
-- "location show", "trace" and "report inventory" with --as-of T read the version in force at T
-- (schema/code/160_asof.sql); without --as-of they read the tables themselves, as before.
--
-- Filled from now on by statement triggers on lot, aliquot and placement (one INSERT and one
-- UPDATE per statement, from the transition tables, so a bulk change costs two statements more
-- rather than a call per row), and backfilled here from the audit trail (fmtbank.audit_log keeps
-- every audited row version since the table was created). Not audited themselves: they are a
-- copy, indexed for as-of reads, of what the audit trail already holds; nothing is deleted
-- (refuse_delete), and only the owner's triggers write them.

CREATE TABLE fmtbank.lot_version (
    lot         uuid NOT NULL REFERENCES fmtbank.lot,
    valid_from  timestamptz NOT NULL,
    valid_to    timestamptz,
    row         jsonb NOT NULL,             -- to_jsonb(the lot row)
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX lot_version_lot ON fmtbank.lot_version (lot, valid_from);
CREATE UNIQUE INDEX lot_version_current ON fmtbank.lot_version (lot) WHERE valid_to IS NULL;
-- whether anything changed after a moment (031 lot_eval: the present-time path when nothing did)
CREATE INDEX lot_version_from ON fmtbank.lot_version (valid_from);

CREATE TABLE fmtbank.aliquot_version (
    aliquot     uuid NOT NULL REFERENCES fmtbank.aliquot,
    lot         uuid NOT NULL REFERENCES fmtbank.lot,
    valid_from  timestamptz NOT NULL,
    valid_to    timestamptz,
    row         jsonb NOT NULL,             -- to_jsonb(the aliquot row)
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX aliquot_version_aliquot ON fmtbank.aliquot_version (aliquot, valid_from);
CREATE INDEX aliquot_version_lot ON fmtbank.aliquot_version (lot);
CREATE UNIQUE INDEX aliquot_version_current ON fmtbank.aliquot_version (aliquot) WHERE valid_to IS NULL;

-- A tube's stays in positions: in box/prow/pcol from valid_from until valid_to.
CREATE TABLE fmtbank.placement_version (
    aliquot     uuid NOT NULL REFERENCES fmtbank.aliquot,
    box         uuid NOT NULL REFERENCES fmtbank.box,
    prow        smallint NOT NULL,
    pcol        smallint NOT NULL,
    valid_from  timestamptz NOT NULL,
    valid_to    timestamptz,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX placement_version_aliquot ON fmtbank.placement_version (aliquot, valid_from);
CREATE INDEX placement_version_box ON fmtbank.placement_version (box, valid_from);
CREATE UNIQUE INDEX placement_version_current ON fmtbank.placement_version (aliquot)
    WHERE valid_to IS NULL;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['lot_version', 'aliquot_version', 'placement_version'] LOOP
        EXECUTE format('CREATE TRIGGER no_delete BEFORE DELETE ON fmtbank.%I FOR EACH ROW '
                       'EXECUTE FUNCTION fmtbank.refuse_delete()', t);
        EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON fmtbank.%I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION fmtbank.refuse_delete()', t);
    END LOOP;
END $$;

REVOKE ALL ON fmtbank.lot_version, fmtbank.aliquot_version, fmtbank.placement_version FROM PUBLIC;
GRANT SELECT ON fmtbank.lot_version, fmtbank.aliquot_version, fmtbank.placement_version
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- ---------------------------------------------------------------- backfill from the audit trail
-- Every INSERT and UPDATE audit row of a lot (an aliquot) is a version from its time (an
-- INSERT's from the row's created_at) until the next one's. A column added to the table after an
-- audit row was written is absent from it: the version takes the value the row has now (set by
-- the ALTER, or by a later change that is a version of its own).
INSERT INTO fmtbank.lot_version (lot, valid_from, valid_to, row)
SELECT v.lot, v.f, lead(v.f) OVER w, v.row
FROM (SELECT (a.new_row ->> 'id')::uuid AS lot, a.id,
             CASE WHEN a.op = 'INSERT'
                  THEN least(a.at, coalesce((a.new_row ->> 'created_at')::timestamptz, a.at))
                  ELSE a.at END AS f,
             a.new_row || (to_jsonb(l) - ARRAY(SELECT jsonb_object_keys(a.new_row))) AS row
      FROM fmtbank.audit_log a
      JOIN fmtbank.lot l ON l.id = (a.new_row ->> 'id')::uuid
      WHERE a.tbl = 'lot' AND a.op IN ('INSERT', 'UPDATE')) v
WINDOW w AS (PARTITION BY v.lot ORDER BY v.id);

INSERT INTO fmtbank.aliquot_version (aliquot, lot, valid_from, valid_to, row)
SELECT v.aliquot, v.lot, v.f, lead(v.f) OVER w, v.row
FROM (SELECT (a.new_row ->> 'id')::uuid AS aliquot, (a.new_row ->> 'lot')::uuid AS lot, a.id,
             CASE WHEN a.op = 'INSERT'
                  THEN least(a.at, coalesce((a.new_row ->> 'created_at')::timestamptz, a.at))
                  ELSE a.at END AS f,
             a.new_row || (to_jsonb(x) - ARRAY(SELECT jsonb_object_keys(a.new_row))) AS row
      FROM fmtbank.audit_log a
      JOIN fmtbank.aliquot x ON x.id = (a.new_row ->> 'id')::uuid
      WHERE a.tbl = 'aliquot' AND a.op IN ('INSERT', 'UPDATE')) v
WINDOW w AS (PARTITION BY v.aliquot ORDER BY v.id);

-- A placement audit row that puts a tube into a position opens a stay (from its placed_at); one
-- that takes it out (the position's aliquot becomes another or none) ends the tube's stay.
INSERT INTO fmtbank.placement_version (aliquot, box, prow, pcol, valid_from, valid_to)
SELECT s.aliquot, s.box, s.prow, s.pcol, s.t, s.t_to
FROM (SELECT e.*, lead(e.t) OVER (PARTITION BY e.aliquot ORDER BY e.id, e.ord) AS t_to
      FROM (SELECT (a.new_row ->> 'aliquot')::uuid AS aliquot, true AS opens,
                   (a.new_row ->> 'box')::uuid AS box, (a.new_row ->> 'prow')::smallint AS prow,
                   (a.new_row ->> 'pcol')::smallint AS pcol, a.id, 1 AS ord,
                   coalesce((a.new_row ->> 'placed_at')::timestamptz, a.at) AS t
            FROM fmtbank.audit_log a
            WHERE a.tbl = 'placement' AND a.op IN ('INSERT', 'UPDATE')
              AND a.new_row ->> 'aliquot' IS NOT NULL
              AND (a.new_row ->> 'aliquot') IS DISTINCT FROM (a.old_row ->> 'aliquot')
            UNION ALL
            SELECT (a.old_row ->> 'aliquot')::uuid, false, NULL, NULL, NULL, a.id, 0,
                   coalesce((a.new_row ->> 'placed_at')::timestamptz, a.at)
            FROM fmtbank.audit_log a
            WHERE a.tbl = 'placement' AND a.op = 'UPDATE' AND a.old_row ->> 'aliquot' IS NOT NULL
              AND (a.new_row ->> 'aliquot') IS DISTINCT FROM (a.old_row ->> 'aliquot')) e) s
WHERE s.opens;

-- Reconcile with the tables as they are: a row or a placement whose current state has no version
-- (no audit row: none is expected) gets one from now.
UPDATE fmtbank.lot_version v SET valid_to = clock_timestamp()
FROM fmtbank.lot l
WHERE v.lot = l.id AND v.valid_to IS NULL AND v.row <> to_jsonb(l);
INSERT INTO fmtbank.lot_version (lot, valid_from, row)
SELECT l.id, CASE WHEN EXISTS (SELECT 1 FROM fmtbank.lot_version v WHERE v.lot = l.id)
                  THEN clock_timestamp() ELSE l.created_at END, to_jsonb(l)
FROM fmtbank.lot l
WHERE NOT EXISTS (SELECT 1 FROM fmtbank.lot_version v WHERE v.lot = l.id AND v.valid_to IS NULL);

UPDATE fmtbank.aliquot_version v SET valid_to = clock_timestamp()
FROM fmtbank.aliquot a
WHERE v.aliquot = a.id AND v.valid_to IS NULL AND v.row <> to_jsonb(a);
INSERT INTO fmtbank.aliquot_version (aliquot, lot, valid_from, row)
SELECT a.id, a.lot, CASE WHEN EXISTS (SELECT 1 FROM fmtbank.aliquot_version v WHERE v.aliquot = a.id)
                         THEN clock_timestamp() ELSE a.created_at END, to_jsonb(a)
FROM fmtbank.aliquot a
WHERE NOT EXISTS (SELECT 1 FROM fmtbank.aliquot_version v
                  WHERE v.aliquot = a.id AND v.valid_to IS NULL);

UPDATE fmtbank.placement_version v SET valid_to = clock_timestamp()
WHERE v.valid_to IS NULL
  AND NOT EXISTS (SELECT 1 FROM fmtbank.placement p WHERE p.aliquot = v.aliquot AND p.box = v.box
                  AND p.prow = v.prow AND p.pcol = v.pcol);
INSERT INTO fmtbank.placement_version (aliquot, box, prow, pcol, valid_from)
SELECT p.aliquot, p.box, p.prow, p.pcol, coalesce(p.placed_at, clock_timestamp())
FROM fmtbank.placement p
WHERE p.aliquot IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM fmtbank.placement_version v WHERE v.aliquot = p.aliquot
                  AND v.valid_to IS NULL);

-- ---------------------------------------------------------------- recording from now on
-- (the functions are code, schema/code/160_asof.sql, which replaces these same bodies)
CREATE FUNCTION fmtbank.lot_version_track() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE t timestamptz := clock_timestamp();
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE fmtbank.lot_version v SET valid_to = t
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE v.lot = o.id AND v.valid_to IS NULL AND n IS DISTINCT FROM o;
        INSERT INTO fmtbank.lot_version (lot, valid_from, row)
        SELECT n.id, t, to_jsonb(n) FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n IS DISTINCT FROM o;
    ELSE
        INSERT INTO fmtbank.lot_version (lot, valid_from, row)
        SELECT n.id, least(n.created_at, t), to_jsonb(n) FROM new_rows n;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION fmtbank.aliquot_version_track() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE t timestamptz := clock_timestamp();
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE fmtbank.aliquot_version v SET valid_to = t
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE v.aliquot = o.id AND v.valid_to IS NULL AND n IS DISTINCT FROM o;
        INSERT INTO fmtbank.aliquot_version (aliquot, lot, valid_from, row)
        SELECT n.id, n.lot, t, to_jsonb(n) FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n IS DISTINCT FROM o;
    ELSE
        INSERT INTO fmtbank.aliquot_version (aliquot, lot, valid_from, row)
        SELECT n.id, n.lot, least(n.created_at, t), to_jsonb(n) FROM new_rows n;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION fmtbank.placement_version_track() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE t timestamptz := clock_timestamp();
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE fmtbank.placement_version v SET valid_to = coalesce(n.placed_at, t)
        FROM old_rows o JOIN new_rows n ON n.slot = o.slot
        WHERE o.aliquot IS NOT NULL AND o.aliquot IS DISTINCT FROM n.aliquot
          AND v.aliquot = o.aliquot AND v.valid_to IS NULL;
        INSERT INTO fmtbank.placement_version (aliquot, box, prow, pcol, valid_from)
        SELECT n.aliquot, n.box, n.prow, n.pcol, coalesce(n.placed_at, t)
        FROM old_rows o JOIN new_rows n ON n.slot = o.slot
        WHERE n.aliquot IS NOT NULL AND n.aliquot IS DISTINCT FROM o.aliquot;
    ELSE
        INSERT INTO fmtbank.placement_version (aliquot, box, prow, pcol, valid_from)
        SELECT n.aliquot, n.box, n.prow, n.pcol, coalesce(n.placed_at, t)
        FROM new_rows n WHERE n.aliquot IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;

-- Named to fire before the audit triggers (AFTER triggers fire in name order): a version starts
-- no later than the audit row of the same change, so an answer as of that audit row's time (the
-- reports' fmtbank.report_as_of()) includes the change.
CREATE TRIGGER asof_version_ins AFTER INSERT ON fmtbank.lot REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.lot_version_track();
CREATE TRIGGER asof_version_upd AFTER UPDATE ON fmtbank.lot REFERENCING OLD TABLE AS old_rows
    NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.lot_version_track();
CREATE TRIGGER asof_version_ins AFTER INSERT ON fmtbank.aliquot REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.aliquot_version_track();
CREATE TRIGGER asof_version_upd AFTER UPDATE ON fmtbank.aliquot REFERENCING OLD TABLE AS old_rows
    NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.aliquot_version_track();
CREATE TRIGGER asof_version_ins AFTER INSERT ON fmtbank.placement REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.placement_version_track();
CREATE TRIGGER asof_version_upd AFTER UPDATE ON fmtbank.placement REFERENCING OLD TABLE AS old_rows
    NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fmtbank.placement_version_track();
