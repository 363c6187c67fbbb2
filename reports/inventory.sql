-- inventory.sql: the queries of the inventory report. $1 = as_of (text, null when not given):
-- the stock as recorded at that moment (fmtbank.as_of_given: "--as-of" of the other commands, a
-- date alone is the end of that day): the tubes' states and positions of then (their recorded
-- versions, schema/code/160_asof.sql), the freezers and boxes registered by then. Each source is
-- a UNION ALL of the present table (when $1 is null) and the recorded versions (when it is
-- not); the branch not taken is a one-time filter, so the present-time report reads the tables as
-- it always did. The version helpers are inlined (SQL-standard bodies), so a key given per row is
-- an index condition: as of then, each box's placements are read by the box, and each tube's
-- version by its key (aliquot_one_at). For 1,000,000 tubes "--as-of" takes 37 s (17 s now); with
-- the helpers called as functions it had not finished in 5 minutes.
--
-- A state is what "aliquot list" shows (fmtbank.aliquot_status_now: a quarantined or released
-- tube past its expiry time is expired). Boxes come in freezer, rack, box order everywhere.
--
-- The long query ("stored": the Aliquots list and the Box map, one pass for both) streams in
-- position order without sorting the stock: the boxes (a few thousand rows) are sorted, then
-- each box's positions are read from the placement key (box, prow, pcol), and each tube is
-- fetched by its key in a scalar subquery, its lot and donor by the lot's key (one-row index
-- lookups). OFFSET 0 keeps those subqueries from being flattened, so they are joined by nested
-- loops, which keep the order of the boxes; PostgreSQL's incremental sort then only orders the
-- positions within one box. Rows leave the server from the first box on, so the server's work
-- runs beside the report's writing (on another core): for 1,000,000 tubes 18.6-18.7 s of wall
-- time with 9.8-9.9 s of the server's CPU, against 20.0-20.5 s with 7.0-7.3 s for one hashed
-- join of the whole stock sorted before the first row (the writing waits for the sort; measured
-- side by side on the quiet 2-core machine, tests/bench/bench_report.sh). Written as plain joins,
-- the planner may also hash the whole aliquot table per box (a small stock) or cache every tube
-- it looked up (Memoize): each holds the stock in memory. The moment the states are read at is
-- computed once (at, an InitPlan): fmtbank.as_of_given has a SET clause, so it is neither inlined
-- nor folded, and per row it cost 2.3 s.

-- @query meta
SELECT CASE WHEN $1::text IS NULL THEN format('Stock on %s', current_date)
            ELSE format('Stock as of %s', fmtbank.ts_text(fmtbank.as_of_given($1))) END AS subtitle;

-- @query summary
-- The three summary sheets (By state, By freezer, By box) from one pass over the positions (a
-- parallel hash join with the tubes) and one over the tubes, so they agree with each other: each
-- sheet keeps its own rows (filter) from the sections below, in the order given here: every
-- state in the product's order (also those without a tube), then each freezer (also those
-- without a box) followed by its boxes by rack (none first) and box.
WITH at AS MATERIALIZED (SELECT coalesce(fmtbank.as_of_given($1), now()) AS t),
-- the tubes, now or as of then
tube AS (
    SELECT a.id, a.status, a.expires_at, a.retained FROM fmtbank.aliquot a WHERE $1::text IS NULL
    UNION ALL
    SELECT a.id, a.status, a.expires_at, a.retained
    FROM at CROSS JOIN fmtbank.aliquot_at(at.t) a WHERE $1::text IS NOT NULL),
-- per box: its positions, those holding a tube, and their tubes by state, now or as of then (each
-- branch joins the tables themselves, so the planner knows their sizes and hashes the tubes)
pos AS MATERIALIZED (
    SELECT x.box, count(*) AS positions, count(x.aliquot) AS occupied,
           count(*) FILTER (WHERE x.state = 'quarantine') AS quarantine,
           count(*) FILTER (WHERE x.state = 'released') AS released,
           count(*) FILTER (WHERE x.state = 'issued') AS issued,
           count(*) FILTER (WHERE x.state = 'recalled') AS recalled,
           count(*) FILTER (WHERE x.state = 'expired') AS expired,
           count(*) FILTER (WHERE x.state = 'discarded') AS discarded
    FROM (SELECT p.box, p.aliquot,
                 fmtbank.aliquot_status_at(a.status, a.expires_at, (SELECT at.t FROM at)) AS state
          FROM fmtbank.placement p
          LEFT JOIN fmtbank.aliquot a ON a.id = p.aliquot
          WHERE $1::text IS NULL
          UNION ALL
          SELECT p.box, p.aliquot,
                 fmtbank.aliquot_status_at(a.status, a.expires_at, at.t) AS state
          FROM at
          CROSS JOIN fmtbank.positions_at(at.t) p
          LEFT JOIN fmtbank.aliquot_at(at.t) a ON a.id = p.aliquot
          WHERE $1::text IS NOT NULL) x
    GROUP BY x.box),
tubes AS (
    SELECT fmtbank.aliquot_status_at(a.status, a.expires_at, (SELECT at.t FROM at)) AS state,
           count(*) AS aliquots,
           count(*) FILTER (WHERE a.retained) AS retained, min(a.expires_at) AS first_expiry,
           max(a.expires_at) AS last_expiry
    FROM tube a
    GROUP BY 1),
in_box AS (
    SELECT s.state, (CASE s.state WHEN 'quarantine' THEN sum(pos.quarantine)
                                  WHEN 'released' THEN sum(pos.released)
                                  WHEN 'issued' THEN sum(pos.issued)
                                  WHEN 'recalled' THEN sum(pos.recalled)
                                  WHEN 'expired' THEN sum(pos.expired)
                                  ELSE sum(pos.discarded) END)::bigint AS n
    FROM unnest(ARRAY['quarantine', 'released', 'issued', 'recalled', 'expired', 'discarded'])
         AS s(state)
    LEFT JOIN pos ON true
    GROUP BY s.state),
states(ord, state) AS (
    VALUES (1, 'quarantine'), (2, 'released'), (3, 'issued'), (4, 'recalled'), (5, 'expired'),
           (6, 'discarded')),
boxes AS (
    SELECT b.freezer, b.rack, b.box_id, b.nrows, b.ncols, pos.*
    FROM fmtbank.box b JOIN pos ON pos.box = b.id),
rows AS (
    SELECT 1 AS section, s.ord, NULL::text AS freezer_key, 0 AS level, NULL::text AS rack_key,
           NULL::text AS box_key,
           s.state, coalesce(t.aliquots, 0) AS aliquots, coalesce(ib.n, 0) AS in_box,
           coalesce(t.aliquots, 0) - coalesce(ib.n, 0) AS not_in_box,
           coalesce(t.retained, 0) AS retained, t.first_expiry::date AS first_expiry,
           t.last_expiry::date AS last_expiry,
           NULL::text AS freezer, NULL::text AS freezer_name, NULL::text AS site,
           NULL::numeric AS temp_c, NULL::bigint AS boxes, NULL::text AS rack, NULL::text AS box,
           NULL::integer AS nrows, NULL::integer AS ncols, NULL::bigint AS positions,
           NULL::bigint AS occupied, NULL::bigint AS free, NULL::bigint AS quarantine,
           NULL::bigint AS released, NULL::bigint AS recalled, NULL::bigint AS expired
    FROM states s
    LEFT JOIN tubes t ON t.state = s.state
    LEFT JOIN in_box ib ON ib.state = s.state
    UNION ALL
    SELECT 2, 0, f.freezer_id, 0, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           f.freezer_id, f.name, f.site, f.temp_c, count(bx.box_id),
           NULL, NULL, NULL, NULL,
           coalesce(sum(bx.positions), 0)::bigint, coalesce(sum(bx.occupied), 0)::bigint,
           coalesce(sum(bx.positions - bx.occupied), 0)::bigint,
           coalesce(sum(bx.quarantine), 0)::bigint, coalesce(sum(bx.released), 0)::bigint,
           coalesce(sum(bx.recalled), 0)::bigint, coalesce(sum(bx.expired), 0)::bigint
    FROM fmtbank.freezer f
    LEFT JOIN boxes bx ON bx.freezer = f.id
    WHERE $1::text IS NULL OR f.created_at <= (SELECT at.t FROM at)
    GROUP BY f.id
    UNION ALL
    SELECT 2, 0, f.freezer_id, 1, bx.rack, bx.box_id,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           f.freezer_id, f.name, NULL, NULL, NULL, bx.rack, bx.box_id,
           bx.nrows::integer, bx.ncols::integer, bx.positions, bx.occupied,
           bx.positions - bx.occupied, bx.quarantine, bx.released, bx.recalled, bx.expired
    FROM boxes bx
    JOIN fmtbank.freezer f ON f.id = bx.freezer)
SELECT r.state, r.aliquots, r.in_box, r.not_in_box, r.retained, r.first_expiry, r.last_expiry,
       r.freezer, r.freezer_name, r.site, r.temp_c, r.boxes, r.rack, r.box, r.nrows, r.ncols,
       r.positions, r.occupied, r.free, r.quarantine, r.released, r.recalled, r.expired,
       r.section = 1 AS is_state, r.section = 2 AND r.level = 0 AS is_freezer,
       r.section = 2 AND r.level = 1 AS is_box
FROM rows r
ORDER BY r.section, r.ord, r.freezer_key, r.level, r.rack_key NULLS FIRST, r.box_key;

-- @query stored
-- Both the Aliquots list (the rows with a tube: in_box) and the Box map (every row: an empty box
-- is one row with a null position) are drawn from this one pass. The tubes come in position
-- order (subquery s); each one's lot and donor are looked up by the lot's key.
WITH at AS MATERIALIZED (SELECT coalesce(fmtbank.as_of_given($1), now()) AS t)
SELECT s.freezer_id AS freezer, s.rack, s.box_id AS box,
       fmtbank.position_text(s.prow, s.pcol) AS position, (s.a).aliquot_id AS aliquot,
       ld.lot_id AS lot, ld.donor,
       fmtbank.aliquot_status_at((s.a).status, (s.a).expires_at,
                                 (SELECT at.t FROM at)) AS state,
       (s.a).retained AS retained, ld.processed_at AS processed,
       (s.a).expires_at::date AS expires,
       s.caption, s.nrows, s.ncols, s.prow::integer AS row, s.pcol::integer AS col,
       (s.a).aliquot_id AS label, s.prow IS NOT NULL AS in_box
FROM (SELECT bx.freezer_id, bx.rack, bx.box_id, bx.caption, bx.nrows, bx.ncols, t.prow, t.pcol,
             t.a
      FROM (SELECT b.id, b.box_id, b.rack, b.nrows::integer AS nrows,
                   b.ncols::integer AS ncols, f.freezer_id,
                   format('%s — %s (%s)%s', fmtbank.id_display(b.box_id), f.name,
                          fmtbank.id_display(f.freezer_id),
                          ', rack ' || b.rack) AS caption
            FROM fmtbank.box b JOIN fmtbank.freezer f ON f.id = b.freezer
            WHERE $1::text IS NULL OR b.created_at <= fmtbank.as_of_given($1)
            ORDER BY f.freezer_id, b.rack NULLS FIRST, b.box_id) bx
      LEFT JOIN LATERAL (
          SELECT p.prow, p.pcol, (SELECT a FROM fmtbank.aliquot a WHERE a.id = p.aliquot) AS a
          FROM fmtbank.placement p
          WHERE $1::text IS NULL AND p.box = bx.id AND p.aliquot IS NOT NULL
          UNION ALL
          SELECT v.prow, v.pcol, (SELECT a FROM fmtbank.aliquot_one_at(at.t, v.aliquot) a) AS a
          FROM at CROSS JOIN fmtbank.placement_at(at.t) v
          WHERE $1::text IS NOT NULL AND v.box = bx.id
          OFFSET 0) t ON true
      ORDER BY bx.freezer_id, bx.rack NULLS FIRST, bx.box_id, t.prow, t.pcol) s
LEFT JOIN LATERAL (
    SELECT l.lot_id, l.processed_at, d.code AS donor
    FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id
    WHERE l.id = (s.a).lot OFFSET 0) ld ON true
ORDER BY s.freezer_id, s.rack NULLS FIRST, s.box_id, s.prow, s.pcol;

-- @query unstored
WITH at AS MATERIALIZED (SELECT fmtbank.as_of_given($1) AS t)
SELECT a.aliquot_id AS aliquot, l.lot_id AS lot, d.code AS donor,
       fmtbank.aliquot_status_at(a.status, a.expires_at, coalesce((SELECT at.t FROM at), now()))
           AS state, a.status_at AS since,
       a.status_reason AS reason, a.retained, l.processed_at AS processed,
       a.expires_at::date AS expires
FROM (SELECT a.* FROM fmtbank.aliquot a
      WHERE $1::text IS NULL AND NOT EXISTS (SELECT 1 FROM fmtbank.placement p WHERE p.aliquot = a.id)
      UNION ALL
      SELECT a.* FROM at CROSS JOIN fmtbank.aliquot_at(at.t) a
      WHERE $1::text IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM fmtbank.placement_at(at.t) p WHERE p.aliquot = a.id)) a
JOIN fmtbank.lot l ON l.id = a.lot
JOIN fmtbank.donor d ON d.id = l.donor_id
ORDER BY a.aliquot_id;
