-- 021_material: lots (donations), aliquots (doses and the retained sample), where each tube is
-- (the current-placement table), the append-only custody events, label prints and box audits;
-- the views every role reads. State changes only through SECURITY DEFINER functions (022, 023).
--
-- Displayed aliquot status: 'expired' as soon as expires_at has passed for a quarantined or
-- released tube, whether or not a sweep has stored it yet (fmtbank.aliquot_status_now).

CREATE TABLE fmtbank.lot (
    id                  uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    lot_id              text NOT NULL UNIQUE CHECK (lot_id ~ '^L[0-9]{8}[0-9A-Z*]$'),
    donor_id            uuid NOT NULL REFERENCES fmtbank.donor,
    collected_at        timestamptz NOT NULL,
    mass_g              numeric(7, 1) NOT NULL CHECK (mass_g > 0),
    bristol             smallint NOT NULL CHECK (bristol BETWEEN 1 AND 7),
    status              text NOT NULL DEFAULT 'quarantine'
                        CHECK (status IN ('quarantine', 'ready', 'released', 'rejected', 'recalled')),
    -- why the lot was rejected: array of {"rule": ..., "detail": ...}
    reject_reasons      jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(reject_reasons) = 'array'),
    rule_set_version    integer,           -- in force at collection
    processed_at        timestamptz,
    processed_rule_set_version integer,    -- in force at processing
    doses               smallint,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by          text NOT NULL DEFAULT session_user,
    CHECK (status <> 'rejected' OR jsonb_array_length(reject_reasons) > 0)
);
CREATE INDEX lot_donor ON fmtbank.lot (donor_id, collected_at);
CREATE INDEX lot_status ON fmtbank.lot (status);
SELECT fmtbank.audit_enable('fmtbank.lot', 'lot_id');

CREATE TABLE fmtbank.aliquot (
    id                uuid PRIMARY KEY DEFAULT fmtbank.gen_random_uuid(),
    aliquot_id        text NOT NULL UNIQUE CHECK (aliquot_id ~ '^L[0-9]{8}-[0-9]{3}[0-9A-Z*]$'),
    lot               uuid NOT NULL REFERENCES fmtbank.lot,
    idx               smallint NOT NULL CHECK (idx BETWEEN 0 AND 999),
    retained          boolean NOT NULL,   -- the retained sample: kept for testing, never issued
    status            text NOT NULL DEFAULT 'quarantine'
                      CHECK (status IN ('quarantine', 'released', 'issued', 'recalled', 'expired',
                                        'discarded')),
    status_at         timestamptz,
    status_reason     text,
    expires_at        timestamptz NOT NULL,
    volume_ml         numeric(7, 1) NOT NULL CHECK (volume_ml > 0),
    glycerol_percent  numeric(4, 1) NOT NULL CHECK (glycerol_percent BETWEEN 0 AND 100),
    thawed_at         timestamptz,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by        text NOT NULL DEFAULT session_user,
    UNIQUE (lot, idx),
    CHECK (retained = (idx = 0))
);
CREATE INDEX aliquot_status ON fmtbank.aliquot (status, expires_at);
CREATE INDEX aliquot_expires ON fmtbank.aliquot (expires_at);
SELECT fmtbank.audit_enable('fmtbank.aliquot', 'aliquot_id');

-- Where each tube is now: one row per position of every box (made with the box), holding the
-- aliquot stored there or NULL. One position holds at most one tube (the primary key: one row
-- per position), one tube is in at most one position (UNIQUE aliquot). A tube is put into a
-- position only by "UPDATE ... WHERE aliquot IS NULL" of that row, so two writers can never both
-- fill it; writers that choose "the next free position" also lock the box row first (FOR NO KEY
-- UPDATE), so that choice is made by one writer at a time per box, in row-major order. The free
-- positions have their own index: the next free one is a single index probe.
CREATE TABLE fmtbank.placement (
    box        uuid NOT NULL REFERENCES fmtbank.box,
    prow       smallint NOT NULL CHECK (prow BETWEEN 1 AND 16),
    pcol       smallint NOT NULL CHECK (pcol BETWEEN 1 AND 24),
    slot       text NOT NULL UNIQUE,           -- "BOXID:A1", the key in the audit trail
    aliquot    uuid UNIQUE REFERENCES fmtbank.aliquot,
    placed_at  timestamptz,
    placed_by  text,
    CONSTRAINT placement_one_tube_per_position PRIMARY KEY (box, prow, pcol)
);
CREATE INDEX placement_free ON fmtbank.placement (box, prow, pcol) WHERE aliquot IS NULL;
SELECT fmtbank.audit_enable('fmtbank.placement', 'slot');

CREATE FUNCTION fmtbank.box_add(p_freezer text, p_rack text, p_rows text, p_cols text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    f fmtbank.freezer;
    bid text;
    b uuid;
BEGIN
    PERFORM fmtbank.require_role('adding boxes', 'admin');
    IF p_rows IS NULL OR p_rows !~ '^[0-9]{1,2}$' OR p_rows::int NOT BETWEEN 1 AND 16 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --rows "%s"', coalesce(p_rows, '')),
            HINT = 'A box has 1 to 16 rows (A to P).';
    END IF;
    IF p_cols IS NULL OR p_cols !~ '^[0-9]{1,2}$' OR p_cols::int NOT BETWEEN 1 AND 24 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001', MESSAGE = format('invalid --cols "%s"', coalesce(p_cols, '')),
            HINT = 'A box has 1 to 24 columns.';
    END IF;
    f := fmtbank.freezer_get(p_freezer);
    bid := fmtbank.with_check('B' || lpad(nextval('fmtbank.box_seq')::text, 6, '0'));
    INSERT INTO fmtbank.box (box_id, freezer, rack, nrows, ncols)
    VALUES (bid, f.id, nullif(btrim(p_rack), ''), p_rows::smallint, p_cols::smallint)
    RETURNING id INTO b;
    INSERT INTO fmtbank.placement (slot, box, prow, pcol)
    SELECT bid || ':' || fmtbank.position_text(r, c), b, r, c
    FROM generate_series(1, p_rows::int) r, generate_series(1, p_cols::int) c ORDER BY r, c;
    RETURN bid;
END $$;

GRANT EXECUTE ON FUNCTION fmtbank.box_add(text, text, text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- The chain of custody, append-only: every placement, move and removal (and the other events
-- that take a tube out of stock: discard, issue, thaw) with who, when, where and why.
CREATE TABLE fmtbank.custody_event (
    id          bigserial PRIMARY KEY,
    aliquot     uuid NOT NULL REFERENCES fmtbank.aliquot,
    kind        text NOT NULL CHECK (kind IN ('place', 'move', 'remove', 'discard', 'issue', 'thaw')),
    box         uuid REFERENCES fmtbank.box,      -- to (place, move)
    prow        smallint,
    pcol        smallint,
    from_box    uuid REFERENCES fmtbank.box,      -- from (move, remove, discard, issue)
    from_prow   smallint,
    from_pcol   smallint,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    who         text NOT NULL DEFAULT session_user,
    reason      text DEFAULT nullif(btrim(current_setting('fmtbank.reason', true)), ''),
    detail      text
);
CREATE INDEX custody_event_aliquot ON fmtbank.custody_event (aliquot, id);
SELECT fmtbank.audit_enable('fmtbank.custody_event', 'id');

CREATE FUNCTION fmtbank.custody_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = format('cannot %s "%s": it is append-only', lower(TG_OP), TG_TABLE_NAME);
END $$;
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.custody_event
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();

-- Every label printed or reprinted.
CREATE TABLE fmtbank.label_print (
    id          bigserial PRIMARY KEY,
    aliquot     uuid NOT NULL REFERENCES fmtbank.aliquot,
    kind        text NOT NULL CHECK (kind IN ('print', 'reprint')),
    target      text NOT NULL,       -- the file written, or "stdout"
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    who         text NOT NULL DEFAULT session_user,
    reason      text DEFAULT nullif(btrim(current_setting('fmtbank.reason', true)), '')
);
CREATE INDEX label_print_aliquot ON fmtbank.label_print (aliquot, id);
SELECT fmtbank.audit_enable('fmtbank.label_print', 'id');
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.label_print
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();

-- An audit-mode scan of a box: what was expected, what was scanned, the discrepancies.
CREATE TABLE fmtbank.box_audit (
    id          bigserial PRIMARY KEY,
    box         uuid NOT NULL REFERENCES fmtbank.box,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    who         text NOT NULL DEFAULT session_user,
    expected    integer NOT NULL,
    seen        integer NOT NULL,
    missing     jsonb NOT NULL,      -- [{"aliquot": ..., "position": ...}]
    unexpected  jsonb NOT NULL       -- [{"aliquot": ..., "stored": "BOX:POS" or null}]
);
SELECT fmtbank.audit_enable('fmtbank.box_audit', 'id');
CREATE TRIGGER append_only BEFORE UPDATE ON fmtbank.box_audit
    FOR EACH ROW EXECUTE FUNCTION fmtbank.custody_append_only();

REVOKE ALL ON fmtbank.lot, fmtbank.aliquot, fmtbank.placement, fmtbank.custody_event,
    fmtbank.label_print, fmtbank.box_audit FROM PUBLIC;
REVOKE ALL ON SEQUENCE fmtbank.custody_event_id_seq, fmtbank.label_print_id_seq,
    fmtbank.box_audit_id_seq FROM PUBLIC;
GRANT SELECT ON fmtbank.lot, fmtbank.aliquot, fmtbank.placement, fmtbank.custody_event,
    fmtbank.label_print, fmtbank.box_audit
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- ---------------------------------------------------------------- lookups
CREATE FUNCTION fmtbank.aliquot_status_now(p_status text, p_expires_at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN p_status IN ('quarantine', 'released') AND p_expires_at <= now()
            THEN 'expired' ELSE p_status END;

-- The lot with this ID, or FB001 (malformed, bad check character) / FB002 (unknown).
CREATE FUNCTION fmtbank.lot_get(p text) RETURNS fmtbank.lot
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
    v_id text;
    l fmtbank.lot;
BEGIN
    SELECT * INTO l FROM fmtbank.lot WHERE lot_id = upper(btrim(p));
    IF FOUND THEN
        RETURN l;
    END IF;
    v_id := fmtbank.check_id(p, 'lot', 'L[0-9]{8}');
    RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('lot "%s" not found', v_id);
END $$;

-- The aliquot with this ID, or FB001 / FB002 (check character verified on a miss, as box_get).
CREATE FUNCTION fmtbank.aliquot_get(p text) RETURNS fmtbank.aliquot
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
    v_id text;
    a fmtbank.aliquot;
BEGIN
    SELECT * INTO a FROM fmtbank.aliquot WHERE aliquot_id = upper(btrim(p));
    IF FOUND THEN
        RETURN a;
    END IF;
    v_id := fmtbank.check_id(p, 'aliquot', 'L[0-9]{8}-[0-9]{3}');
    RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('aliquot "%s" not found', v_id);
END $$;

-- ---------------------------------------------------------------- views
CREATE VIEW fmtbank.aliquot_view AS
    SELECT a.aliquot_id AS id, l.lot_id AS lot, d.code AS donor,
           fmtbank.aliquot_status_now(a.status, a.expires_at) AS status,
           b.box_id AS box, fmtbank.position_text(p.prow, p.pcol) AS position,
           a.expires_at::date AS expires, a.retained, a.idx, a.volume_ml, a.glycerol_percent,
           l.processed_at, a.thawed_at, a.status_reason, f.freezer_id AS freezer,
           f.name AS freezer_name, b.rack, a.created_at, a.expires_at, a.id AS uuid
    FROM fmtbank.aliquot a
    JOIN fmtbank.lot l ON l.id = a.lot
    JOIN fmtbank.donor d ON d.id = l.donor_id
    LEFT JOIN fmtbank.placement p ON p.aliquot = a.id
    LEFT JOIN fmtbank.box b ON b.id = p.box
    LEFT JOIN fmtbank.freezer f ON f.id = b.freezer;

CREATE VIEW fmtbank.lot_view AS
    SELECT l.lot_id AS lot, d.code AS donor, l.status, l.collected_at, l.mass_g, l.bristol,
           l.processed_at, l.doses, l.reject_reasons, l.rule_set_version,
           (SELECT count(*) FROM fmtbank.aliquot a WHERE a.lot = l.id) AS aliquots,
           l.created_at, l.created_by, l.id AS uuid
    FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id;

-- One row per box (and per freezer without boxes) with its fill.
CREATE VIEW fmtbank.location_list AS
    SELECT f.freezer_id AS freezer, f.name AS freezer_name, f.temp_c, f.site, b.box_id AS box,
           b.rack, b.nrows AS rows, b.ncols AS cols,
           coalesce(o.n, 0) AS occupied,
           CASE WHEN b.id IS NOT NULL THEN b.nrows * b.ncols - coalesce(o.n, 0) END AS free
    FROM fmtbank.freezer f
    LEFT JOIN fmtbank.box b ON b.freezer = f.id
    LEFT JOIN LATERAL (SELECT count(p.aliquot) AS n FROM fmtbank.placement p WHERE p.box = b.id) o ON true;

-- The custody history of every aliquot: created, stored, moved, retrieved, labelled, discarded,
-- issued, thawed (custody events), in time order.
CREATE VIEW fmtbank.aliquot_history AS
    SELECT a.aliquot_id AS aliquot, a.created_at AS at, 'created'::text AS event,
           CASE WHEN a.retained THEN format('retained sample of lot %s', l.lot_id)
                ELSE format('dose %s of lot %s, expires %s', a.idx, l.lot_id, a.expires_at::date) END
               AS detail,
           a.created_by AS who, NULL::text AS reason, 0 AS ord, 0::bigint AS seq
    FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
    UNION ALL
    SELECT a.aliquot_id, e.at,
           CASE e.kind WHEN 'place' THEN 'stored' WHEN 'move' THEN 'moved'
                       WHEN 'remove' THEN 'retrieved' WHEN 'discard' THEN 'discarded'
                       WHEN 'issue' THEN 'issued' WHEN 'thaw' THEN 'thawed' END,
           concat_ws(' ',
               CASE WHEN e.from_box IS NOT NULL
                    THEN 'from ' || fb.box_id || ':' || fmtbank.position_text(e.from_prow, e.from_pcol) END,
               CASE WHEN e.box IS NOT NULL
                    THEN CASE WHEN e.kind = 'move' THEN 'to ' ELSE 'in ' END
                         || tb.box_id || ':' || fmtbank.position_text(e.prow, e.pcol) END,
               e.detail),
           e.who, e.reason, 1, e.id
    FROM fmtbank.custody_event e
    JOIN fmtbank.aliquot a ON a.id = e.aliquot
    LEFT JOIN fmtbank.box tb ON tb.id = e.box
    LEFT JOIN fmtbank.box fb ON fb.id = e.from_box
    UNION ALL
    SELECT a.aliquot_id, p.at, 'labelled',
           CASE p.kind WHEN 'print' THEN 'label printed' ELSE 'label reprinted' END || ' to ' || p.target,
           p.who, p.reason, 2, p.id
    FROM fmtbank.label_print p JOIN fmtbank.aliquot a ON a.id = p.aliquot;

REVOKE ALL ON fmtbank.aliquot_view, fmtbank.lot_view, fmtbank.location_list,
    fmtbank.aliquot_history FROM PUBLIC;
GRANT SELECT ON fmtbank.aliquot_view, fmtbank.lot_view, fmtbank.location_list,
    fmtbank.aliquot_history TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
GRANT EXECUTE ON FUNCTION fmtbank.aliquot_status_now(text, timestamptz), fmtbank.lot_get(text),
    fmtbank.aliquot_get(text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- ---------------------------------------------------------------- reading, arguments checked
-- (as functions, so that a bad or unknown argument is an error even when there is no row)
CREATE FUNCTION fmtbank.check_choice(p text, p_field text, p_choices text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
    IF p IS NULL OR NOT (lower(btrim(p)) = ANY (p_choices)) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid %s "%s"', p_field, coalesce(p, '')),
            HINT = format('Use one of: %s.', array_to_string(p_choices, ', '));
    END IF;
    RETURN lower(btrim(p));
END $$;

CREATE FUNCTION fmtbank.aliquot_show(p_id text) RETURNS SETOF fmtbank.aliquot_view
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE a fmtbank.aliquot := fmtbank.aliquot_get(p_id);
BEGIN
    RETURN QUERY SELECT * FROM fmtbank.aliquot_view v WHERE v.uuid = a.id;
END $$;

CREATE FUNCTION fmtbank.aliquot_list(p_status text, p_lot text, p_box text)
RETURNS SETOF fmtbank.aliquot_view
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
    st text;
    l uuid;
    b text;
BEGIN
    IF p_status IS NOT NULL THEN
        st := fmtbank.check_choice(p_status, '--status', ARRAY['quarantine', 'released', 'issued',
                                   'recalled', 'expired', 'discarded']);
    END IF;
    IF p_lot IS NOT NULL THEN
        l := (fmtbank.lot_get(p_lot)).id;
    END IF;
    IF p_box IS NOT NULL THEN
        b := (fmtbank.box_get(p_box)).box_id;
    END IF;
    RETURN QUERY SELECT v.* FROM fmtbank.aliquot_view v JOIN fmtbank.aliquot a ON a.id = v.uuid
                 WHERE (st IS NULL OR v.status = st) AND (l IS NULL OR a.lot = l)
                   AND (b IS NULL OR v.box = b)
                 ORDER BY v.id;
END $$;

CREATE FUNCTION fmtbank.aliquot_history_of(p_id text) RETURNS SETOF fmtbank.aliquot_history
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE a fmtbank.aliquot := fmtbank.aliquot_get(p_id);
BEGIN
    RETURN QUERY SELECT * FROM fmtbank.aliquot_history h WHERE h.aliquot = a.aliquot_id
                 ORDER BY h.at, h.ord, h.seq;
END $$;

-- The tubes in a box, by position.
CREATE FUNCTION fmtbank.box_tubes(p_box text) RETURNS SETOF fmtbank.aliquot_view
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE b fmtbank.box := fmtbank.box_get(p_box);
BEGIN
    RETURN QUERY SELECT v.* FROM fmtbank.aliquot_view v WHERE v.box = b.box_id
                 ORDER BY left(v.position, 1), substr(v.position, 2)::int;
END $$;

CREATE FUNCTION fmtbank.location_of(p_freezer text, p_box text) RETURNS SETOF fmtbank.location_list
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
    f text;
    b text;
BEGIN
    IF p_freezer IS NOT NULL THEN
        f := (fmtbank.freezer_get(p_freezer)).freezer_id;
    END IF;
    IF p_box IS NOT NULL THEN
        b := (fmtbank.box_get(p_box)).box_id;
    END IF;
    RETURN QUERY SELECT * FROM fmtbank.location_list l
                 WHERE (f IS NULL OR l.freezer = f) AND (b IS NULL OR l.box = b)
                 ORDER BY l.freezer, l.rack NULLS FIRST, l.box;
END $$;

GRANT EXECUTE ON FUNCTION fmtbank.check_choice(text, text, text[]), fmtbank.aliquot_show(text),
    fmtbank.aliquot_list(text, text, text), fmtbank.aliquot_history_of(text),
    fmtbank.box_tubes(text), fmtbank.location_of(text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- "fmtbank status" counts: add lots and aliquots to whatever the view already has (other
-- migrations extend it the same way, so the order they run in does not matter).
DO $$
DECLARE def text := rtrim(btrim(pg_catalog.pg_get_viewdef('fmtbank.status_counts'::regclass)), ';');
BEGIN
    EXECUTE 'CREATE OR REPLACE VIEW fmtbank.status_counts AS ' || def
        || ' UNION ALL SELECT ''lot''::text, l.status, count(*) FROM fmtbank.lot l GROUP BY l.status'
        || ' UNION ALL SELECT ''aliquot''::text, fmtbank.aliquot_status_now(a.status, a.expires_at),'
        || ' count(*) FROM fmtbank.aliquot a GROUP BY 2';
END $$;

-- EXECUTE from PUBLIC: 001's "ALTER DEFAULT PRIVILEGES IN SCHEMA ... REVOKE" cannot take away
-- the global default (per-schema defaults only add), so every function is revoked explicitly;
-- the GRANTs above are what each role may call.
REVOKE EXECUTE ON FUNCTION fmtbank.box_add(text, text, text, text), fmtbank.custody_append_only(),
    fmtbank.aliquot_status_now(text, timestamptz), fmtbank.lot_get(text), fmtbank.aliquot_get(text),
    fmtbank.check_choice(text, text, text[]), fmtbank.aliquot_show(text),
    fmtbank.aliquot_list(text, text, text), fmtbank.aliquot_history_of(text), fmtbank.box_tubes(text),
    fmtbank.location_of(text, text)
    FROM PUBLIC;
