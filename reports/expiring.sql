-- expiring.sql: the queries of the expiring report. $1 = days (bigint, 0 to 3650, default 30).
--
-- "Expiring within N days": a tube in quarantine or released (the states that expire; issued,
-- recalled and discarded tubes are out of use already) whose expiry time is still ahead and falls
-- on or before the day N days from today, so days=0 lists what expires later today. "Expired":
-- the same states past their expiry time, and tubes the daemon's sweep already marked expired;
-- they are neither discarded nor issued yet. Days are whole calendar days in the session's time
-- zone. Both lists are read from the (status, expires_at) index, soonest first.

-- @query meta
SELECT format('Aliquots expiring from %s to %s (within %s days)', current_date,
              current_date + $1::integer, $1) AS subtitle;

-- @query expiring
SELECT a.expires_at AS expires, a.expires_at::date - current_date AS days_left,
       a.aliquot_id AS aliquot, l.lot_id AS lot, d.code AS donor, a.status AS state, a.retained,
       f.freezer_id AS freezer, b.box_id AS box, fmtbank.position_text(p.prow, p.pcol) AS position
FROM fmtbank.aliquot a
JOIN fmtbank.lot l ON l.id = a.lot
JOIN fmtbank.donor d ON d.id = l.donor_id
LEFT JOIN fmtbank.placement p ON p.aliquot = a.id
LEFT JOIN fmtbank.box b ON b.id = p.box
LEFT JOIN fmtbank.freezer f ON f.id = b.freezer
WHERE a.status IN ('quarantine', 'released')
  AND a.expires_at > now()
  AND a.expires_at < (current_date + $1::integer + 1)::timestamptz
ORDER BY a.expires_at, a.aliquot_id;

-- @query expired
SELECT a.expires_at AS expires, current_date - a.expires_at::date AS days_ago,
       a.aliquot_id AS aliquot, l.lot_id AS lot, d.code AS donor, a.status AS recorded_state,
       a.retained, f.freezer_id AS freezer, b.box_id AS box,
       fmtbank.position_text(p.prow, p.pcol) AS position
FROM fmtbank.aliquot a
JOIN fmtbank.lot l ON l.id = a.lot
JOIN fmtbank.donor d ON d.id = l.donor_id
LEFT JOIN fmtbank.placement p ON p.aliquot = a.id
LEFT JOIN fmtbank.box b ON b.id = p.box
LEFT JOIN fmtbank.freezer f ON f.id = b.freezer
WHERE (a.status IN ('quarantine', 'released') AND a.expires_at <= now())
   OR a.status = 'expired'
ORDER BY a.expires_at, a.aliquot_id;
