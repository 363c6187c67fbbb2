-- lookback.sql: the queries of the lookback report. $1 = donor code (text, required; an unknown
-- or malformed code is refused by fmtbank.donor_get). Open and applied cases, evaluated as of the
-- last change to the database (fmtbank.report_as_of()), so the same state gives the same cells.

-- @query meta
WITH d AS (SELECT * FROM fmtbank.donor_get($1))
SELECT fmtbank.report_as_of() AS created, format('Lookback: donor %s', d.code) AS title,
       format('Open and applied cases as of %s',
              to_char(fmtbank.report_as_of(), 'YYYY-MM-DD HH24:MI:SS')) AS subtitle,
       format('Donor %s', d.code) AS subject
FROM d;

-- @query cases
WITH d AS (SELECT * FROM fmtbank.donor_get($1))
SELECT c.case_id, c.test, c.outcome, c.collected, c.status,
       CASE WHEN c.hold_from = '-infinity' THEN NULL ELSE c.hold_from END AS hold_from,
       c.hold_from = '-infinity' AS holds_all, c.opened_at, x.applied_at,
       (SELECT count(*) FROM fmtbank.lot l
        WHERE l.donor_id = c.donor_id AND l.collected_at::date >= c.hold_from)::integer AS lots,
       (SELECT count(*) FROM fmtbank.lot l JOIN fmtbank.aliquot a ON a.lot = l.id
        WHERE l.donor_id = c.donor_id AND l.collected_at::date >= c.hold_from
          AND a.status = 'issued')::integer AS issued
FROM d CROSS JOIN fmtbank.lookback_case_at(fmtbank.report_as_of()) c
JOIN fmtbank.lookback_case x ON x.id = c.case_id
WHERE c.donor_id = d.id
ORDER BY c.case_id;

-- @query lots
WITH d AS (SELECT * FROM fmtbank.donor_get($1))
SELECT i.case_id, i.lot_id AS lot, i.lot_collected, i.lot_status, i.action
FROM d CROSS JOIN fmtbank.lookback_items_at(fmtbank.report_as_of(), d.id, NULL,
                                            ARRAY['open', 'applied']) i
WHERE i.kind = 'lot'
ORDER BY i.case_id, i.lot_id;

-- @query aliquots
WITH d AS (SELECT * FROM fmtbank.donor_get($1))
SELECT i.case_id, i.lot_id AS lot, i.aliquot_id AS aliquot, i.aliquot_status, i.action,
       (SELECT format('%s rack %s box %s %s', f.freezer_id, b.rack, b.box_id,
                      fmtbank.position_text(p.prow, p.pcol))
        FROM fmtbank.placement p JOIN fmtbank.box b ON b.id = p.box
        JOIN fmtbank.freezer f ON f.id = b.freezer
        WHERE p.aliquot = i.aliquot) AS location
FROM d CROSS JOIN fmtbank.lookback_items_at(fmtbank.report_as_of(), d.id, NULL,
                                            ARRAY['open', 'applied']) i
WHERE i.kind = 'aliquot' AND i.stored_status <> 'issued'
ORDER BY i.case_id, i.aliquot_id;

-- @query issued
WITH d AS (SELECT * FROM fmtbank.donor_get($1))
SELECT i.case_id, i.lot_id AS lot, i.aliquot_id AS aliquot, i.recipient, i.site, i.issued_at
FROM d CROSS JOIN fmtbank.lookback_items_at(fmtbank.report_as_of(), d.id, NULL,
                                            ARRAY['open', 'applied']) i
WHERE i.kind = 'aliquot' AND i.stored_status = 'issued'
ORDER BY i.case_id, i.aliquot_id;
