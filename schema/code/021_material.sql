-- 021_material: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

CREATE OR REPLACE FUNCTION fmtbank.box_add(p_freezer text, p_rack text, p_rows text, p_cols text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

CREATE OR REPLACE FUNCTION fmtbank.custody_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'FB003',
        MESSAGE = format('cannot %s "%s": it is append-only', lower(TG_OP), TG_TABLE_NAME);
END $$;

-- ---------------------------------------------------------------- lookups
CREATE OR REPLACE FUNCTION fmtbank.aliquot_status_now(p_status text, p_expires_at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN p_status IN ('quarantine', 'released') AND p_expires_at <= now()
            THEN 'expired' ELSE p_status END;

-- The lot with this ID, or FB001 (malformed, bad check character) / FB002 (unknown).
CREATE OR REPLACE FUNCTION fmtbank.lot_get(p text) RETURNS fmtbank.lot
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id text;
    l fmtbank.lot;
BEGIN
    SELECT * INTO l FROM fmtbank.lot WHERE lot_id = fmtbank.id_input(p);
    IF FOUND THEN
        RETURN l;
    END IF;
    v_id := fmtbank.check_id(p, 'lot', 'L[0-9]{8}');
    RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('lot "%s" not found', v_id);
END $$;

-- The aliquot with this ID, or FB001 / FB002 (check character verified on a miss, as box_get).
CREATE OR REPLACE FUNCTION fmtbank.aliquot_get(p text) RETURNS fmtbank.aliquot
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id text;
    a fmtbank.aliquot;
BEGIN
    SELECT * INTO a FROM fmtbank.aliquot WHERE aliquot_id = fmtbank.id_input(p);
    IF FOUND THEN
        RETURN a;
    END IF;
    v_id := fmtbank.check_id(p, 'aliquot', 'L[0-9]{8}-[0-9]{3}');
    RAISE EXCEPTION USING ERRCODE = 'FB002', MESSAGE = format('aliquot "%s" not found', v_id);
END $$;

-- ---------------------------------------------------------------- views
CREATE OR REPLACE VIEW fmtbank.aliquot_view AS
    SELECT a.aliquot_id AS id, l.lot_id AS lot, d.code AS donor,
           fmtbank.aliquot_status_now(a.status, a.expires_at) AS status,
           b.box_id AS box, fmtbank.position_text(p.prow, p.pcol) AS position,
           a.expires_at::date AS expires, a.retained, a.idx, a.volume_ml, a.glycerol_percent,
           l.processed_at, a.thawed_at, a.status_reason, f.freezer_id AS freezer,
           f.name AS freezer_name, b.rack, a.created_at, a.expires_at, a.id AS uuid,
           h.holds <> '[]'::jsonb AS held, h.holds
    FROM fmtbank.aliquot a
    CROSS JOIN LATERAL (SELECT fmtbank.holds_of(a.lot, a.id) AS holds) h
    JOIN fmtbank.lot l ON l.id = a.lot
    JOIN fmtbank.donor d ON d.id = l.donor_id
    LEFT JOIN fmtbank.placement p ON p.aliquot = a.id
    LEFT JOIN fmtbank.box b ON b.id = p.box
    LEFT JOIN fmtbank.freezer f ON f.id = b.freezer;

CREATE OR REPLACE VIEW fmtbank.lot_view AS
    SELECT l.lot_id AS lot, d.code AS donor, l.status, l.collected_at, l.mass_g, l.bristol,
           l.processed_at, l.doses, l.reject_reasons, l.rule_set_version,
           (SELECT count(*) FROM fmtbank.aliquot a WHERE a.lot = l.id) AS aliquots,
           l.created_at, l.created_by, l.id AS uuid
    FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id;

-- One row per box (and per freezer without boxes) with its fill.
CREATE OR REPLACE VIEW fmtbank.location_list AS
    SELECT f.freezer_id AS freezer, f.name AS freezer_name, f.temp_c, f.site, b.box_id AS box,
           b.rack, b.nrows AS rows, b.ncols AS cols,
           coalesce(o.n, 0) AS occupied,
           CASE WHEN b.id IS NOT NULL THEN b.nrows * b.ncols - coalesce(o.n, 0) END AS free
    FROM fmtbank.freezer f
    LEFT JOIN fmtbank.box b ON b.freezer = f.id
    LEFT JOIN LATERAL (SELECT count(p.aliquot) AS n FROM fmtbank.placement p WHERE p.box = b.id) o ON true;

-- The custody history of every aliquot: created, stored, moved, retrieved, labelled, discarded,
-- issued, thawed (custody events), in time order.
CREATE OR REPLACE VIEW fmtbank.aliquot_history AS
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

-- ---------------------------------------------------------------- reading, arguments checked
-- (as functions, so that a bad or unknown argument is an error even when there is no row)
CREATE OR REPLACE FUNCTION fmtbank.check_choice(p text, p_field text, p_choices text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p IS NULL OR NOT (lower(btrim(p)) = ANY (p_choices)) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('invalid %s "%s"', p_field, coalesce(p, '')),
            HINT = format('Use one of: %s.', array_to_string(p_choices, ', '));
    END IF;
    RETURN lower(btrim(p));
END $$;

CREATE OR REPLACE FUNCTION fmtbank.aliquot_show(p_id text) RETURNS SETOF fmtbank.aliquot_view
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE a fmtbank.aliquot := fmtbank.aliquot_get(p_id);
BEGIN
    RETURN QUERY SELECT * FROM fmtbank.aliquot_view v WHERE v.uuid = a.id;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.aliquot_list(p_status text, p_lot text, p_box text)
RETURNS SETOF fmtbank.aliquot_view
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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

CREATE OR REPLACE FUNCTION fmtbank.aliquot_history_of(p_id text) RETURNS SETOF fmtbank.aliquot_history
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE a fmtbank.aliquot := fmtbank.aliquot_get(p_id);
BEGIN
    RETURN QUERY SELECT * FROM fmtbank.aliquot_history h WHERE h.aliquot = a.aliquot_id
                 ORDER BY h.at, h.ord, h.seq;
END $$;

-- The tubes in a box, by position.
CREATE OR REPLACE FUNCTION fmtbank.box_tubes(p_box text) RETURNS SETOF fmtbank.aliquot_view
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b fmtbank.box := fmtbank.box_get(p_box);
BEGIN
    RETURN QUERY SELECT v.* FROM fmtbank.aliquot_view v WHERE v.box = b.box_id
                 ORDER BY left(v.position, 1), substr(v.position, 2)::int;
END $$;

CREATE OR REPLACE FUNCTION fmtbank.location_of(p_freezer text, p_box text) RETURNS SETOF fmtbank.location_list
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
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

-- "fmtbank status": aliquots by displayed state.
CREATE OR REPLACE FUNCTION fmtbank.status_aliquots() RETURNS TABLE (entity text, state text, n bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'aliquot', fmtbank.aliquot_status_now(a.status, a.expires_at), count(*)
    FROM fmtbank.aliquot a GROUP BY 2;
$$;
SELECT fmtbank.status_register('aliquot', 'fmtbank.status_aliquots()');

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.box_add(text, text, text, text),
    fmtbank.aliquot_status_now(text, timestamp with time zone),
    fmtbank.lot_get(text),
    fmtbank.aliquot_get(text),
    fmtbank.check_choice(text, text, text[]),
    fmtbank.aliquot_show(text),
    fmtbank.aliquot_list(text, text, text),
    fmtbank.aliquot_history_of(text),
    fmtbank.box_tubes(text),
    fmtbank.location_of(text, text)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;

-- not granted (owner only): custody_append_only

GRANT SELECT ON fmtbank.aliquot_view, fmtbank.lot_view, fmtbank.location_list, fmtbank.aliquot_history
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- not granted (owner only): status_aliquots
