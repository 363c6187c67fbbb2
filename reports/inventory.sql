-- inventory.sql: the queries of the inventory report. No parameter.
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
-- positions within one box. Written as plain joins instead, the planner may hash the whole
-- aliquot table and sort the result (a big stock), hash it once per box (a small one), or cache
-- every tube it looked up (Memoize): each holds the stock in memory, or worse.

-- @query meta
SELECT format('Stock on %s', current_date) AS subtitle;

-- @query by_state
-- Every state, also those without a tube, in the order of the product's state list.
WITH s(ord, state) AS (
    VALUES (1, 'quarantine'), (2, 'released'), (3, 'issued'), (4, 'recalled'), (5, 'expired'),
           (6, 'discarded')),
c AS (
    SELECT fmtbank.aliquot_status_now(a.status, a.expires_at) AS state, count(*) AS aliquots,
           count(p.aliquot) AS in_box, count(*) FILTER (WHERE a.retained) AS retained,
           min(a.expires_at) AS first_expiry, max(a.expires_at) AS last_expiry
    FROM fmtbank.aliquot a
    LEFT JOIN fmtbank.placement p ON p.aliquot = a.id
    GROUP BY 1)
SELECT s.state, coalesce(c.aliquots, 0) AS aliquots, coalesce(c.in_box, 0) AS in_box,
       coalesce(c.aliquots - c.in_box, 0) AS not_in_box, coalesce(c.retained, 0) AS retained,
       c.first_expiry::date AS first_expiry, c.last_expiry::date AS last_expiry
FROM s
LEFT JOIN c ON c.state = s.state
ORDER BY s.ord;

-- @query by_freezer
-- Counted in one pass over the positions (a parallel hash join with the tubes).
WITH c AS (
    SELECT b.freezer, count(*) AS positions, count(p.aliquot) AS occupied,
           count(*) FILTER (WHERE x.state = 'quarantine') AS quarantine,
           count(*) FILTER (WHERE x.state = 'released') AS released,
           count(*) FILTER (WHERE x.state = 'recalled') AS recalled,
           count(*) FILTER (WHERE x.state = 'expired') AS expired
    FROM fmtbank.placement p
    JOIN fmtbank.box b ON b.id = p.box
    LEFT JOIN fmtbank.aliquot a ON a.id = p.aliquot
    CROSS JOIN LATERAL (SELECT fmtbank.aliquot_status_now(a.status, a.expires_at) AS state) x
    GROUP BY b.freezer)
SELECT f.freezer_id AS freezer, f.name AS freezer_name, f.site, f.temp_c,
       (SELECT count(*) FROM fmtbank.box b WHERE b.freezer = f.id) AS boxes,
       coalesce(c.positions, 0) AS positions, coalesce(c.occupied, 0) AS occupied,
       coalesce(c.positions - c.occupied, 0) AS free, coalesce(c.quarantine, 0) AS quarantine,
       coalesce(c.released, 0) AS released, coalesce(c.recalled, 0) AS recalled,
       coalesce(c.expired, 0) AS expired
FROM fmtbank.freezer f
LEFT JOIN c ON c.freezer = f.id
ORDER BY f.freezer_id;

-- @query by_box
WITH c AS (
    SELECT p.box, count(*) AS positions, count(p.aliquot) AS occupied,
           count(*) FILTER (WHERE x.state = 'quarantine') AS quarantine,
           count(*) FILTER (WHERE x.state = 'released') AS released,
           count(*) FILTER (WHERE x.state = 'recalled') AS recalled,
           count(*) FILTER (WHERE x.state = 'expired') AS expired
    FROM fmtbank.placement p
    LEFT JOIN fmtbank.aliquot a ON a.id = p.aliquot
    CROSS JOIN LATERAL (SELECT fmtbank.aliquot_status_now(a.status, a.expires_at) AS state) x
    GROUP BY p.box)
SELECT f.freezer_id AS freezer, f.name AS freezer_name, b.rack, b.box_id AS box,
       b.nrows::integer AS nrows, b.ncols::integer AS ncols, c.positions, c.occupied,
       c.positions - c.occupied AS free, c.quarantine, c.released, c.recalled, c.expired
FROM fmtbank.box b
JOIN fmtbank.freezer f ON f.id = b.freezer
JOIN c ON c.box = b.id
ORDER BY f.freezer_id, b.rack NULLS FIRST, b.box_id;

-- @query stored
-- Both the Aliquots list (the rows with a tube: in_box) and the Box map (every row: an empty box
-- is one row with a null position) are drawn from this one pass. The tubes come in position
-- order (subquery s); each one's lot and donor are looked up by the lot's key.
SELECT s.freezer_id AS freezer, s.rack, s.box_id AS box,
       fmtbank.position_text(s.prow, s.pcol) AS position, (s.a).aliquot_id AS aliquot,
       ld.lot_id AS lot, ld.donor,
       fmtbank.aliquot_status_now((s.a).status, (s.a).expires_at) AS state,
       (s.a).retained AS retained, ld.processed_at AS processed,
       (s.a).expires_at::date AS expires,
       s.caption, s.nrows, s.ncols, s.prow::integer AS row, s.pcol::integer AS col,
       (s.a).aliquot_id AS label, s.prow IS NOT NULL AS in_box
FROM (SELECT bx.freezer_id, bx.rack, bx.box_id, bx.caption, bx.nrows, bx.ncols, t.prow, t.pcol,
             t.a
      FROM (SELECT b.id, b.box_id, b.rack, b.nrows::integer AS nrows,
                   b.ncols::integer AS ncols, f.freezer_id,
                   format('%s — %s (%s)%s', b.box_id, f.name, f.freezer_id,
                          ', rack ' || b.rack) AS caption
            FROM fmtbank.box b JOIN fmtbank.freezer f ON f.id = b.freezer
            ORDER BY f.freezer_id, b.rack NULLS FIRST, b.box_id) bx
      LEFT JOIN LATERAL (
          SELECT p.prow, p.pcol, (SELECT a FROM fmtbank.aliquot a WHERE a.id = p.aliquot) AS a
          FROM fmtbank.placement p
          WHERE p.box = bx.id AND p.aliquot IS NOT NULL OFFSET 0) t ON true
      ORDER BY bx.freezer_id, bx.rack NULLS FIRST, bx.box_id, t.prow, t.pcol) s
LEFT JOIN LATERAL (
    SELECT l.lot_id, l.processed_at, d.code AS donor
    FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id
    WHERE l.id = (s.a).lot OFFSET 0) ld ON true
ORDER BY s.freezer_id, s.rack NULLS FIRST, s.box_id, s.prow, s.pcol;

-- @query unstored
SELECT a.aliquot_id AS aliquot, l.lot_id AS lot, d.code AS donor,
       fmtbank.aliquot_status_now(a.status, a.expires_at) AS state, a.status_at AS since,
       a.status_reason AS reason, a.retained, l.processed_at AS processed,
       a.expires_at::date AS expires
FROM fmtbank.aliquot a
JOIN fmtbank.lot l ON l.id = a.lot
JOIN fmtbank.donor d ON d.id = l.donor_id
WHERE NOT EXISTS (SELECT 1 FROM fmtbank.placement p WHERE p.aliquot = a.id)
ORDER BY a.aliquot_id;
