-- 160_asof: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 160_asof: answers as of a past moment T (product.md §12 "As-of everywhere"): "lot show|list",
-- "release check", "aliquot show|list", "location show", "trace" and "report inventory" with
-- --as-of T show only what had been recorded by T, states included. The states that change in
-- place (a lot's or a tube's status, where a tube is) come from their recorded versions
-- (schema/160_asof.sql: lot_version, aliquot_version, placement_version, filled by the triggers
-- below and backfilled from the audit trail); holds from case_hold (held_at, ended_at); results,
-- questionnaires, decisions and rules as the readiness engine (031) reads them at T. Without
-- --as-of the commands read the tables themselves, as before: the present-time path is unchanged.
--
-- Reading the versions rather than the audit trail: the audit rows are readable by quality,
-- auditor and admin only, and finding the row in force at T for every lot or tube means sorting
-- the whole trail of those tables; a version table is read by an index on (key, valid_from) for
-- one lot, tube or box and by one pass for all of them.

-- ---------------------------------------------------------------- recording the versions
-- Statement triggers (schema/160_asof.sql) on lot, aliquot and placement: an update closes the
-- changed rows' current versions and opens new ones at the statement's time; an insert opens the
-- first version at the row's created_at. SECURITY DEFINER: the application roles cannot write
-- the version tables (every change reaches them through the owner's functions anyway).
-- lot_version_track and aliquot_version_track, one text for both: each version's row is
-- to_jsonb's, from the server module's C function when the instance has it (as the audit
-- trigger's rows, 001_foundation: fmtbank.row_jsonb_raw, the same value; 0.2-0.4 s less for the
-- 96,800 lots the first pass makes ready). No JIT (as audit_stmt, 001_foundation: the statements
-- are planned without statistics on the transition tables).
DO $do$
DECLARE
    j text := CASE WHEN pg_catalog.to_regproc('fmtbank.row_jsonb_raw') IS NOT NULL
                   THEN 'fmtbank.row_jsonb_raw' ELSE 'pg_catalog.to_jsonb' END;
    v record;
BEGIN
    -- the versioned table, the version's other columns and their values
    FOR v IN VALUES ('lot', '', ''), ('aliquot', 'lot, ', 'n.lot, ') LOOP
        EXECUTE format($fmt$
CREATE OR REPLACE FUNCTION fmtbank.%1$s_version_track() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $fn$
DECLARE t timestamptz := clock_timestamp();
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE fmtbank.%1$s_version v SET valid_to = t
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE v.%1$s = o.id AND v.valid_to IS NULL AND n IS DISTINCT FROM o;
        INSERT INTO fmtbank.%1$s_version (%1$s, %2$svalid_from, row)
        SELECT n.id, %3$st, %4$s(n) FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n IS DISTINCT FROM o;
    ELSE
        INSERT INTO fmtbank.%1$s_version (%1$s, %2$svalid_from, row)
        SELECT n.id, %3$sleast(n.created_at, t), %4$s(n) FROM new_rows n;
    END IF;
    RETURN NULL;
END $fn$$fmt$, v.column1, v.column2, v.column3, j);
    END LOOP;
END $do$;

CREATE OR REPLACE FUNCTION fmtbank.placement_version_track() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
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

-- ---------------------------------------------------------------- the rows as they stood
-- "--as-of TS" given or not: NULL when not (the commands then take the present-time path),
-- else parsed as "donor explain --as-of" does (a date alone is the end of that day).
CREATE OR REPLACE FUNCTION fmtbank.as_of_given(p text) RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN p IS NOT NULL THEN fmtbank.parse_as_of(p) END;

-- The lots (p_lots, NULL: all) as recorded at p_at, those not entered by then left out. These
-- four are SQL-standard bodies (BEGIN ATOMIC): bound when created, so the ownership policy
-- (src/db/migrate.c) gives them no SET clause and the planner inlines them into the calling
-- query. As "$$" bodies they had been given "SET search_path", were never inlined, and ran once
-- per call as a function scan that stores its whole result: "report inventory --as-of" over
-- 1,000,000 tubes took 17 s for its summary and did not finish its tube list in 5 minutes.
CREATE OR REPLACE FUNCTION fmtbank.lot_at(p_at timestamptz, p_lots uuid[] DEFAULT NULL)
RETURNS SETOF fmtbank.lot
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT r.*
    FROM fmtbank.lot_version v
    CROSS JOIN LATERAL pg_catalog.jsonb_populate_record(NULL::fmtbank.lot, v.row) r
    WHERE (p_lots IS NULL OR v.lot = ANY (p_lots))
      AND v.valid_from <= p_at AND (v.valid_to IS NULL OR v.valid_to > p_at);
END;

-- The tubes (p_aliquots, or those of lot p_lot, or all) as recorded at p_at.
CREATE OR REPLACE FUNCTION fmtbank.aliquot_at(p_at timestamptz, p_aliquots uuid[] DEFAULT NULL,
                                              p_lot uuid DEFAULT NULL)
RETURNS SETOF fmtbank.aliquot
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT r.*
    FROM fmtbank.aliquot_version v
    CROSS JOIN LATERAL pg_catalog.jsonb_populate_record(NULL::fmtbank.aliquot, v.row) r
    WHERE (p_aliquots IS NULL OR v.aliquot = ANY (p_aliquots)) AND (p_lot IS NULL OR v.lot = p_lot)
      AND v.valid_from <= p_at AND (v.valid_to IS NULL OR v.valid_to > p_at);
END;

-- One tube as recorded at p_at (no row when it was not entered by then). No optional filter: with
-- a column as p_aliquot (a tube per row of the caller, as the inventory report's box map as of
-- then), the inlined key is an index condition, where aliquot_at's "p_aliquots IS NULL OR" is not.
CREATE OR REPLACE FUNCTION fmtbank.aliquot_one_at(p_at timestamptz, p_aliquot uuid)
RETURNS SETOF fmtbank.aliquot
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT r.*
    FROM fmtbank.aliquot_version v
    CROSS JOIN LATERAL pg_catalog.jsonb_populate_record(NULL::fmtbank.aliquot, v.row) r
    WHERE v.aliquot = p_aliquot AND v.valid_from <= p_at AND (v.valid_to IS NULL OR v.valid_to > p_at);
END;

-- Where each tube was at p_at (in box p_box, or in any box).
CREATE OR REPLACE FUNCTION fmtbank.placement_at(p_at timestamptz, p_box uuid DEFAULT NULL)
RETURNS TABLE (aliquot uuid, box uuid, prow smallint, pcol smallint, placed_at timestamptz)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT v.aliquot, v.box, v.prow, v.pcol, v.valid_from
    FROM fmtbank.placement_version v
    WHERE (p_box IS NULL OR v.box = p_box)
      AND v.valid_from <= p_at AND (v.valid_to IS NULL OR v.valid_to > p_at);
END;

-- Every position of the boxes registered by p_at with the tube in it then (NULL: free); for the
-- inventory report as of then (reports/inventory.sql).
CREATE OR REPLACE FUNCTION fmtbank.positions_at(p_at timestamptz)
RETURNS TABLE (box uuid, prow smallint, pcol smallint, aliquot uuid)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT p.box, p.prow, p.pcol, v.aliquot
    FROM fmtbank.placement p
    JOIN fmtbank.box b ON b.id = p.box AND b.created_at <= p_at
    LEFT JOIN fmtbank.placement_at(p_at) v ON v.box = p.box AND v.prow = p.prow AND v.pcol = p.pcol;
END;

-- A tube's displayed state at p_at (aliquot_status_now, 021, at another time).
CREATE OR REPLACE FUNCTION fmtbank.aliquot_status_at(p_status text, p_expires_at timestamptz,
                                                     p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p_status IN ('quarantine', 'released') AND p_expires_at <= p_at
            THEN 'expired' ELSE p_status END;

-- A case as it read at p_at: what was recorded about it later (withdrawn, decided, closed) set
-- aside, so that its summary (019 case_summary) is the one of then. PARALLEL SAFE: lot_eval's
-- statement names it (one unsafe function keeps the sweep's evaluation from parallel workers).
CREATE OR REPLACE FUNCTION fmtbank.case_at(c fmtbank.safety_case, p_at timestamptz)
RETURNS fmtbank.safety_case
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_populate_record(c,
        CASE WHEN c.withdrawn_at > p_at
                THEN '{"withdrawn_at": null, "withdrawn_reason": null}'::jsonb ELSE '{}' END
        || CASE WHEN c.closed_at > p_at
                THEN '{"closed_at": null, "closed_by": null, "close_reason": null}'::jsonb
                ELSE '{}' END)
$$;

-- The holds in force at p_at on a lot (p_aliquot NULL) or a tube: holds_of (019) at another time.
CREATE OR REPLACE FUNCTION fmtbank.holds_of_at(p_lot uuid, p_aliquot uuid, p_at timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('case', c.case_code, 'source', c.source,
                                                 'reason', fmtbank.case_summary(fmtbank.case_at(c, p_at)))
                              ORDER BY c.case_code), '[]'::jsonb)
    FROM (SELECT DISTINCT h.case_id FROM fmtbank.case_hold h
          WHERE h.lot = p_lot AND h.held_at <= p_at AND (h.ended_at IS NULL OR h.ended_at > p_at)
            AND (p_aliquot IS NULL OR h.aliquots IS NULL OR p_aliquot = ANY (h.aliquots))) x
    JOIN fmtbank.safety_case c ON c.id = x.case_id
$$;

-- FB002 when what is asked about (p_what: 'lot "L..."') was recorded (p_recorded: "entered",
-- "made", "registered", at p_created) only after p_at.
CREATE OR REPLACE FUNCTION fmtbank.require_recorded(p_what text, p_recorded text,
                                                    p_created timestamptz, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_created > p_at THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('%s had not been %s at %s', p_what, p_recorded, fmtbank.ts_text(p_at)),
            DETAIL = format('It was %s at %s.', p_recorded, fmtbank.ts_text(p_created));
    END IF;
END $$;

-- ---------------------------------------------------------------- lots
-- The lots as lot_state (031) shows them, at p_at (p_lot: one lot, NULL: all): the stored
-- status of then, shown as ready or quarantine by the rules evaluated at p_at with the records
-- of then (lot_eval reads the versions for a past p_at), holds in force then, aliquots entered
-- by then, the release signature if signed by then.
CREATE OR REPLACE FUNCTION fmtbank.lot_state_at(p_at timestamptz, p_lot uuid DEFAULT NULL)
RETURNS SETOF fmtbank.lot_state
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT l.lot_id, d.code, fmtbank.lot_status_shown(l.status, b.blocking), b.blocking,
           (SELECT count(*) FROM fmtbank.aliquot a WHERE a.lot = l.id AND a.created_at <= p_at),
           l.doses, l.status, l.collected_at, l.processed_at, s.signed_at, s.printed_name, l.id,
           l.donor_id, h.holds <> '[]'::jsonb, h.holds, l.created_at, l.created_at - l.collected_at,
           l.entry_reason, l.reject_reasons
    FROM fmtbank.lot_at(p_at, CASE WHEN p_lot IS NOT NULL THEN ARRAY[p_lot] END) l
    CROSS JOIN LATERAL (SELECT fmtbank.holds_of_at(l.id, NULL, p_at) AS holds) h
    JOIN fmtbank.donor d ON d.id = l.donor_id
    JOIN fmtbank.lot_blocking_at(p_at, p_lot) b ON b.lot = l.id
    LEFT JOIN fmtbank.release_signature s ON s.lot = l.id AND s.signed_at <= p_at
$$;

-- "lot show --as-of" and "release check --as-of": one lot at p_at (NULL: now, lot_show).
CREATE OR REPLACE FUNCTION fmtbank.lot_show_at(p_lot text, p_at timestamptz)
RETURNS SETOF fmtbank.lot_state
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE l fmtbank.lot := fmtbank.lot_get(p_lot);
BEGIN
    IF p_at IS NULL THEN
        RETURN QUERY SELECT * FROM fmtbank.lot_show(p_lot);
        RETURN;
    END IF;
    PERFORM fmtbank.require_recorded(format('lot "%s"', l.lot_id), 'entered', l.created_at, p_at);
    RETURN QUERY SELECT * FROM fmtbank.lot_state_at(p_at, l.id);
END $$;

-- "lot list --as-of": every lot entered by p_at, or those shown in state p_status then.
CREATE OR REPLACE FUNCTION fmtbank.lot_list_at(p_status text, p_at timestamptz)
RETURNS SETOF fmtbank.lot_state
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE st text;
BEGIN
    IF p_at IS NULL THEN
        RETURN QUERY SELECT * FROM fmtbank.lot_list(p_status);
        RETURN;
    END IF;
    IF p_status IS NOT NULL THEN
        st := fmtbank.check_choice(p_status, '--status', ARRAY['quarantine', 'ready', 'released',
                                                               'rejected', 'recalled']);
    END IF;
    RETURN QUERY SELECT * FROM fmtbank.lot_state_at(p_at) s WHERE st IS NULL OR s.status = st
                 ORDER BY s.lot;
END $$;

-- ---------------------------------------------------------------- aliquots and boxes
-- The tubes as aliquot_view (021) shows them, at p_at: the tubes of p_aliquots, of lot p_lot,
-- in box p_box, or all; each with its state, lot, position and holds of then.
CREATE OR REPLACE FUNCTION fmtbank.aliquot_view_at(p_at timestamptz, p_aliquots uuid[],
                                                   p_lot uuid, p_box uuid)
RETURNS SETOF fmtbank.aliquot_view
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.aliquot_id, l.lot_id, d.code, fmtbank.aliquot_status_at(a.status, a.expires_at, p_at),
           b.box_id, fmtbank.position_text(p.prow, p.pcol), a.expires_at::date, a.retained, a.idx,
           a.volume_ml, a.glycerol_percent, l.processed_at, a.thawed_at, a.status_reason,
           f.freezer_id, f.name, b.rack, a.created_at, a.expires_at, a.id,
           h.holds <> '[]'::jsonb, h.holds
    FROM fmtbank.aliquot_at(p_at,
                            coalesce(p_aliquots,
                                     CASE WHEN p_box IS NOT NULL
                                          THEN ARRAY(SELECT x.aliquot
                                                     FROM fmtbank.placement_at(p_at, p_box) x) END),
                            p_lot) a
    CROSS JOIN LATERAL (SELECT fmtbank.holds_of_at(a.lot, a.id, p_at) AS holds) h
    JOIN fmtbank.lot_at(p_at, CASE WHEN p_lot IS NOT NULL THEN ARRAY[p_lot] END) l ON l.id = a.lot
    JOIN fmtbank.donor d ON d.id = l.donor_id
    LEFT JOIN fmtbank.placement_at(p_at, p_box) p ON p.aliquot = a.id
    LEFT JOIN fmtbank.box b ON b.id = p.box
    LEFT JOIN fmtbank.freezer f ON f.id = b.freezer
    WHERE p_box IS NULL OR p.box = p_box
$$;

-- "aliquot show --as-of": one tube at p_at (NULL: now, aliquot_show).
CREATE OR REPLACE FUNCTION fmtbank.aliquot_show_at(p_id text, p_at timestamptz)
RETURNS SETOF fmtbank.aliquot_view
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE a fmtbank.aliquot := fmtbank.aliquot_get(p_id);
BEGIN
    IF p_at IS NULL THEN
        RETURN QUERY SELECT * FROM fmtbank.aliquot_show(p_id);
        RETURN;
    END IF;
    PERFORM fmtbank.require_recorded(format('aliquot "%s"', a.aliquot_id), 'made', a.created_at,
                                     p_at);
    RETURN QUERY SELECT * FROM fmtbank.aliquot_view_at(p_at, ARRAY[a.id], NULL, NULL);
END $$;

-- "aliquot list --as-of": the tubes made by p_at, filtered as aliquot_list (021) does, with
-- the states and positions of then.
CREATE OR REPLACE FUNCTION fmtbank.aliquot_list_at(p_status text, p_lot text, p_box text,
                                                   p_at timestamptz)
RETURNS SETOF fmtbank.aliquot_view
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    st text;
    l uuid;
    b uuid;
BEGIN
    IF p_at IS NULL THEN
        RETURN QUERY SELECT * FROM fmtbank.aliquot_list(p_status, p_lot, p_box);
        RETURN;
    END IF;
    IF p_status IS NOT NULL THEN
        st := fmtbank.check_choice(p_status, '--status', ARRAY['quarantine', 'released', 'issued',
                                   'recalled', 'expired', 'discarded']);
    END IF;
    IF p_lot IS NOT NULL THEN
        l := (fmtbank.lot_get(p_lot)).id;
    END IF;
    IF p_box IS NOT NULL THEN
        b := (fmtbank.box_get(p_box)).id;
    END IF;
    RETURN QUERY SELECT v.* FROM fmtbank.aliquot_view_at(p_at, NULL, l, b) v
                 WHERE st IS NULL OR v.status = st
                 ORDER BY v.id;
END $$;

-- The box (location_list, 021) with its fill at p_at; FB002 for a box registered later.
CREATE OR REPLACE FUNCTION fmtbank.location_at(p_box text, p_at timestamptz)
RETURNS SETOF fmtbank.location_list
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b fmtbank.box := fmtbank.box_get(p_box);
BEGIN
    IF p_at IS NULL THEN
        RETURN QUERY SELECT * FROM fmtbank.location_of(NULL, p_box);
        RETURN;
    END IF;
    PERFORM fmtbank.require_recorded(format('box "%s"', b.box_id), 'registered', b.created_at,
                                     p_at);
    RETURN QUERY
    SELECT f.freezer_id, f.name, f.temp_c, f.site, b.box_id, b.rack, b.nrows, b.ncols,
           coalesce(o.n, 0), b.nrows * b.ncols - coalesce(o.n, 0)
    FROM fmtbank.freezer f
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM fmtbank.placement_at(p_at, b.id)) o
    WHERE f.id = b.freezer;
END $$;

-- The tubes in a box at p_at (NULL: now, box_tubes), by position.
CREATE OR REPLACE FUNCTION fmtbank.box_tubes_at(p_box text, p_at timestamptz)
RETURNS SETOF fmtbank.aliquot_view
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b fmtbank.box := fmtbank.box_get(p_box);
BEGIN
    IF p_at IS NULL THEN
        RETURN QUERY SELECT * FROM fmtbank.box_tubes(p_box);
        RETURN;
    END IF;
    RETURN QUERY SELECT v.* FROM fmtbank.aliquot_view_at(p_at, NULL, NULL, b.id) v
                 ORDER BY left(v.position, 1), substr(v.position, 2)::int;
END $$;

-- ---------------------------------------------------------------- privileges
GRANT EXECUTE ON FUNCTION
    fmtbank.as_of_given(text),
    fmtbank.lot_at(timestamp with time zone, uuid[]),
    fmtbank.aliquot_at(timestamp with time zone, uuid[], uuid),
    fmtbank.aliquot_one_at(timestamp with time zone, uuid),
    fmtbank.placement_at(timestamp with time zone, uuid),
    fmtbank.positions_at(timestamp with time zone),
    fmtbank.aliquot_status_at(text, timestamp with time zone, timestamp with time zone),
    fmtbank.case_at(fmtbank.safety_case, timestamp with time zone),
    fmtbank.require_recorded(text, text, timestamp with time zone, timestamp with time zone),
    fmtbank.holds_of_at(uuid, uuid, timestamp with time zone),
    fmtbank.lot_state_at(timestamp with time zone, uuid),
    fmtbank.lot_show_at(text, timestamp with time zone),
    fmtbank.lot_list_at(text, timestamp with time zone),
    fmtbank.aliquot_view_at(timestamp with time zone, uuid[], uuid, uuid),
    fmtbank.aliquot_show_at(text, timestamp with time zone),
    fmtbank.aliquot_list_at(text, text, text, timestamp with time zone),
    fmtbank.location_at(text, timestamp with time zone),
    fmtbank.box_tubes_at(text, timestamp with time zone)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- not granted (owner only): lot_version_track, aliquot_version_track, placement_version_track
