-- vigilance.sql: the queries of the vigilance report. $1 = since, $2 = until (dates, event days,
-- both included; default the 365 days up to the last change to the database). The events come
-- from fmtbank.report_vigilance_events (quality, auditor, admin: anyone else is refused, exit 6);
-- the cases are those the events opened (safety_case.event_id). As of fmtbank.report_as_of().

-- @query meta
SELECT fmtbank.report_as_of() AS created,
       format('Adverse events from %s to %s',
              coalesce($1::date, coalesce($2::date, fmtbank.report_as_of()::date) - 364),
              coalesce($2::date, fmtbank.report_as_of()::date)) AS subtitle;

-- @query summary
WITH e AS (SELECT * FROM fmtbank.report_vigilance_events($1::date, $2::date)),
c AS (SELECT s.* FROM fmtbank.safety_case s WHERE s.event_id IN (SELECT e.id FROM e))
SELECT coalesce($1::date, coalesce($2::date, fmtbank.report_as_of()::date) - 364) AS since,
       coalesce($2::date, fmtbank.report_as_of()::date) AS until,
       (SELECT count(*) FROM e)::integer AS events,
       (SELECT count(*) FROM e WHERE e.serious)::integer AS serious,
       (SELECT count(*) FROM e WHERE e.imputability IN ('possible', 'probable', 'definite'))::integer
           AS assessed_plausible,
       (SELECT count(*) FROM e WHERE e.imputability IN ('excluded', 'unlikely'))::integer AS graded_out,
       (SELECT count(*) FROM c)::integer AS cases,
       (SELECT count(*) FROM c WHERE c.status = 'open')::integer AS cases_open,
       (SELECT count(DISTINCT h.lot) FROM fmtbank.case_hold h
        WHERE h.case_id IN (SELECT c.id FROM c) AND h.ended_at IS NULL)::integer AS lots_held,
       (SELECT count(DISTINCT r.recipient) FROM c
        CROSS JOIN LATERAL fmtbank.case_recipients(c.id) r
        JOIN fmtbank.recipient_event x ON x.id = c.event_id
        WHERE r.notified_at IS NULL AND r.recipient <> x.recipient)::integer AS not_notified;

-- @query events
SELECT e.event_code AS event, e.recipient, e.event_date, e.kind, e.serious, e.severity,
       e.imputability, e.outcome,
       (SELECT string_agg(DISTINCT d.code, ', ') FROM fmtbank.aliquot_issue i
        JOIN fmtbank.aliquot a ON a.id = i.aliquot JOIN fmtbank.lot l ON l.id = a.lot
        JOIN fmtbank.donor d ON d.id = l.donor_id
        WHERE i.recipient = e.recipient AND i.issued_at < (e.event_date + 1)::timestamptz) AS donors,
       (SELECT string_agg(a.aliquot_id, ', ' ORDER BY i.issued_at, a.aliquot_id)
        FROM fmtbank.aliquot_issue i JOIN fmtbank.aliquot a ON a.id = i.aliquot
        WHERE i.recipient = e.recipient AND i.issued_at < (e.event_date + 1)::timestamptz) AS doses,
       (SELECT string_agg(c.case_code, ', ' ORDER BY c.case_code) FROM fmtbank.safety_case c
        WHERE c.event_id = e.id) AS cases,
       e.description, e.recorded_at, e.recorded_by
FROM fmtbank.report_vigilance_events($1::date, $2::date) e
ORDER BY e.event_date, e.event_code;

-- @query history
SELECT e.event_code AS event, h.action, h.imputability, h.outcome, h.at, h.by_user, h.reason
FROM fmtbank.report_vigilance_events($1::date, $2::date) e
JOIN fmtbank.recipient_event_history h ON h.event_id = e.id
ORDER BY e.event_date, e.event_code, h.id;

-- @query cases
SELECT x."case", e.event_code AS event, x.donor, x.status, x.proposal, c.withdrawn_reason,
       x.opened_at, x.opened_by, x.lots_held::integer, x.closed_at, x.close_reason
FROM fmtbank.report_vigilance_events($1::date, $2::date) e
JOIN fmtbank.safety_case c ON c.event_id = e.id
JOIN fmtbank.case_list x ON x."case" = c.case_code
ORDER BY x."case";

-- @query holds
SELECT c.case_code AS "case", l.lot_id AS lot, l.status AS lot_status, h.held_at, h.held_by,
       h.ended_at, d.decision
FROM fmtbank.report_vigilance_events($1::date, $2::date) e
JOIN fmtbank.safety_case c ON c.event_id = e.id
JOIN fmtbank.case_hold h ON h.case_id = c.id
JOIN fmtbank.lot l ON l.id = h.lot
LEFT JOIN fmtbank.case_decision d ON d.id = h.decision_id
ORDER BY 1, 2;

-- @query decisions
SELECT c.case_code AS "case", d.decision, l.lot_id AS lot, d.meaning, d.printed_name, d.signed_by,
       d.signed_at, d.lots, d.aliquots
FROM fmtbank.report_vigilance_events($1::date, $2::date) e
JOIN fmtbank.safety_case c ON c.event_id = e.id
JOIN fmtbank.case_decision d ON d.case_id = c.id
LEFT JOIN fmtbank.lot l ON l.id = d.lot
ORDER BY 1, d.signed_at, d.id;

-- @query notifications
SELECT c.case_code AS "case", r.recipient, r.site, r.aliquot, r.issued_at, r.notified_at,
       r.by_means, r.notified_by
FROM fmtbank.report_vigilance_events($1::date, $2::date) e
JOIN fmtbank.safety_case c ON c.event_id = e.id
CROSS JOIN LATERAL fmtbank.case_recipients(c.id) r
WHERE r.recipient <> e.recipient
ORDER BY 1, 2, 4;
