-- lookback.sql: the queries of the lookback report. $1 = donor code (text, required; an unknown
-- or malformed code is refused by fmtbank.donor_get). The donor's lookback cases (source
-- "result") in every state - open, applied (decided) and closed - evaluated as of the last change
-- to the database (fmtbank.report_as_of()), so the same state gives the same cells. "Held lots",
-- "Held aliquots" and "Notify" are what the open and applied cases still ask for; "Holds",
-- "Decisions" and "Recipients" keep every case in full, closed ones included (product.md §11.0.2).

-- @query meta
WITH d AS (SELECT * FROM fmtbank.donor_get($1))
SELECT fmtbank.report_as_of() AS created, format('Lookback: donor %s', d.code) AS title,
       format('Open, applied and closed cases as of %s',
              to_char(fmtbank.report_as_of(), 'YYYY-MM-DD HH24:MI:SS TZH:TZM')) AS subtitle,
       format('Donor %s', d.code) AS subject
FROM d;

-- @query cases
WITH d AS (SELECT * FROM fmtbank.donor_get($1))
SELECT x.case_code AS "case", c.status, c.test, c.outcome, c.collected,
       CASE WHEN c.hold_from = '-infinity' THEN NULL ELSE c.hold_from END AS hold_from,
       c.hold_from = '-infinity' AS holds_all, fmtbank.case_summary(x) AS scope, c.opened_at,
       x.applied_at,
       (SELECT count(*) FROM fmtbank.lot l
        WHERE l.donor_id = c.donor_id AND l.collected_at::date >= c.hold_from)::integer AS lots,
       (SELECT count(*) FROM fmtbank.lot l JOIN fmtbank.aliquot a ON a.lot = l.id
        WHERE l.donor_id = c.donor_id AND l.collected_at::date >= c.hold_from
          AND a.status = 'issued')::integer AS issued,
       x.closed_at, x.closed_by, x.close_reason, x.unnotified_reason
FROM d CROSS JOIN fmtbank.lookback_case_at(fmtbank.report_as_of()) c
JOIN fmtbank.safety_case x ON x.id = c.case_id
WHERE c.donor_id = d.id
ORDER BY x.case_code;

-- @query lots
WITH d AS (SELECT * FROM fmtbank.donor_get($1))
SELECT x.case_code AS "case", i.lot_id AS lot, i.lot_collected, i.lot_status, i.action
FROM d CROSS JOIN fmtbank.lookback_items_at(fmtbank.report_as_of(), d.id, NULL,
                                            ARRAY['open', 'applied']) i
JOIN fmtbank.safety_case x ON x.id = i.case_id
WHERE i.kind = 'lot'
ORDER BY x.case_code, i.lot_id;

-- @query aliquots
WITH d AS (SELECT * FROM fmtbank.donor_get($1))
SELECT x.case_code AS "case", i.lot_id AS lot, i.aliquot_id AS aliquot, i.aliquot_status, i.action,
       (SELECT format('%s rack %s box %s %s', f.freezer_id, b.rack, b.box_id,
                      fmtbank.position_text(p.prow, p.pcol))
        FROM fmtbank.placement p JOIN fmtbank.box b ON b.id = p.box
        JOIN fmtbank.freezer f ON f.id = b.freezer
        WHERE p.aliquot = i.aliquot) AS location
FROM d CROSS JOIN fmtbank.lookback_items_at(fmtbank.report_as_of(), d.id, NULL,
                                            ARRAY['open', 'applied']) i
JOIN fmtbank.safety_case x ON x.id = i.case_id
WHERE i.kind = 'aliquot' AND i.stored_status <> 'issued'
ORDER BY x.case_code, i.aliquot_id;

-- @query issued
WITH d AS (SELECT * FROM fmtbank.donor_get($1))
SELECT x.case_code AS "case", i.lot_id AS lot, i.aliquot_id AS aliquot, i.recipient, i.site,
       i.issued_at
FROM d CROSS JOIN fmtbank.lookback_items_at(fmtbank.report_as_of(), d.id, NULL,
                                            ARRAY['open', 'applied']) i
JOIN fmtbank.safety_case x ON x.id = i.case_id
WHERE i.kind = 'aliquot' AND i.stored_status = 'issued'
ORDER BY x.case_code, i.aliquot_id;

-- @query holds
WITH d AS (SELECT * FROM fmtbank.donor_get($1)),
cs AS (SELECT c.* FROM d JOIN fmtbank.safety_case c ON c.donor_id = d.id
       WHERE c.source = 'result' AND c.opened_at <= fmtbank.report_as_of())
SELECT cs.case_code AS "case", l.lot_id AS lot, a.aliquot_id AS aliquot, h.held_at, h.held_by,
       h.ended_at, cd.decision, cd.printed_name AS decided_by, cd.signed_at AS decided_at
FROM cs
JOIN fmtbank.case_hold h ON h.case_id = cs.id
JOIN fmtbank.lot l ON l.id = h.lot
LEFT JOIN LATERAL unnest(h.aliquots) hu(aid) ON true
LEFT JOIN fmtbank.aliquot a ON a.id = hu.aid
LEFT JOIN fmtbank.case_decision cd ON cd.id = h.decision_id
ORDER BY 1, 2, 3;

-- @query decisions
WITH d AS (SELECT * FROM fmtbank.donor_get($1)),
cs AS (SELECT c.* FROM d JOIN fmtbank.safety_case c ON c.donor_id = d.id
       WHERE c.source = 'result' AND c.opened_at <= fmtbank.report_as_of())
SELECT cs.case_code AS "case", cd.decision, l.lot_id AS lot, cd.meaning, cd.printed_name,
       cd.signed_by, cd.signed_at, cd.lots, cd.aliquots
FROM cs
JOIN fmtbank.case_decision cd ON cd.case_id = cs.id
LEFT JOIN fmtbank.lot l ON l.id = cd.lot
ORDER BY 1, cd.signed_at, cd.id;

-- @query recipients
WITH d AS (SELECT * FROM fmtbank.donor_get($1)),
cs AS (SELECT c.* FROM d JOIN fmtbank.safety_case c ON c.donor_id = d.id
       WHERE c.source = 'result' AND c.opened_at <= fmtbank.report_as_of())
SELECT cs.case_code AS "case", r.recipient, r.site, r.aliquot, r.issued_at, r.notified_at,
       r.by_means, r.notified_by,
       (SELECT n.note FROM fmtbank.case_notification n
        WHERE n.case_id = cs.id AND n.recipient = r.recipient AND n.told_at = r.notified_at
        ORDER BY n.id DESC LIMIT 1) AS note
FROM cs CROSS JOIN LATERAL fmtbank.case_recipients(cs.id) r
ORDER BY 1, 2, 4;
