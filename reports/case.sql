-- case.sql: the queries of the case report. $1 = one case ID (text, optional; malformed or
-- unknown is refused by fmtbank.case_get), $2 = since, $3 = until (timestamps; default the 90 days
-- up to the last change to the database). As of fmtbank.report_as_of(), so reproducible.

-- @query meta
SELECT fmtbank.report_as_of() AS created,
       CASE WHEN $1::text IS NOT NULL THEN format('Case %s', upper(btrim($1))) ELSE 'Cases' END AS title,
       CASE WHEN $1::text IS NOT NULL THEN format('As of %s', to_char(fmtbank.report_as_of(), 'YYYY-MM-DD HH24:MI:SS TZH:TZM'))
            ELSE format('Opened from %s to %s (excluded)',
                        to_char(coalesce($2::timestamptz, coalesce($3::timestamptz, fmtbank.report_as_of()) - interval '90 days'), 'YYYY-MM-DD HH24:MI TZH:TZM'),
                        to_char(coalesce($3::timestamptz, fmtbank.report_as_of()), 'YYYY-MM-DD HH24:MI TZH:TZM')) END AS subtitle;

-- @query cases
SELECT x."case", x.source, x.status, x.proposal, x.donor, x.scope, x.about, x.opened_at,
       x.opened_by, x.lots_held::integer, x.tubes_held::integer, x.closed_at, x.closed_by,
       x.close_reason
FROM fmtbank.report_cases($1::text, $2::timestamptz, $3::timestamptz) c
JOIN fmtbank.case_list x ON x."case" = c.case_code
ORDER BY x."case";

-- @query holds
SELECT c.case_code AS "case", l.lot_id AS lot, a.aliquot_id AS aliquot,
       fmtbank.aliquot_location(a.id) AS location, h.held_at, h.held_by, h.ended_at, d.decision
FROM fmtbank.report_cases($1::text, $2::timestamptz, $3::timestamptz) c
JOIN fmtbank.case_hold h ON h.case_id = c.id
JOIN fmtbank.lot l ON l.id = h.lot
LEFT JOIN LATERAL unnest(h.aliquots) t(id) ON true
LEFT JOIN fmtbank.aliquot a ON a.id = t.id
LEFT JOIN fmtbank.case_decision d ON d.id = h.decision_id
ORDER BY 1, 2, 3;

-- @query decisions
SELECT c.case_code AS "case", d.decision, l.lot_id AS lot, d.meaning, d.printed_name, d.signed_by,
       d.signed_at, d.lots, d.aliquots
FROM fmtbank.report_cases($1::text, $2::timestamptz, $3::timestamptz) c
JOIN fmtbank.case_decision d ON d.case_id = c.id
LEFT JOIN fmtbank.lot l ON l.id = d.lot
ORDER BY 1, d.signed_at;

-- @query recipients
SELECT c.case_code AS "case", r.recipient, r.site, r.aliquot, r.issued_at, r.notified_at,
       r.by_means, r.notified_by
FROM fmtbank.report_cases($1::text, $2::timestamptz, $3::timestamptz) c
CROSS JOIN LATERAL fmtbank.case_recipients(c.id) r
ORDER BY 1, 2, 4;
