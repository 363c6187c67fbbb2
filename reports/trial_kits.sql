-- trial_kits.sql: the queries of kit accountability. $1 = trial code (blinded functions of
-- schema/code/270_trial.sql).

-- @query meta
SELECT fmtbank.report_as_of() AS created, format('Trial %s', t.trial) AS subtitle
FROM fmtbank.trial_show($1) t;

-- @query summary
SELECT (t.kits ->> 'made')::integer AS made, (t.kits ->> 'available')::integer AS in_stock,
       (t.kits ->> 'dispensed')::integer AS dispensed, (t.kits ->> 'returned')::integer AS returned,
       (t.kits ->> 'destroyed')::integer AS destroyed, t.unblindings::integer AS unblindings,
       t.emergency_unblindings::integer AS emergency_unblindings
FROM fmtbank.trial_show($1) t;

-- @query kits
SELECT k.kit, k.status, k.made_at, k.made_by, k.participant, k.visit::integer AS visit,
       k.dispensed_at, k.status_at, k.status_reason
FROM fmtbank.report_trial_kits($1) k;
