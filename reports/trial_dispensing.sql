-- trial_dispensing.sql: the queries of the blinded dispensing log. $1 = trial code. The rows come
-- from SECURITY DEFINER functions that return no arm (schema/code/270_trial.sql).

-- @query meta
SELECT fmtbank.report_as_of() AS created, format('Trial %s', t.trial) AS subtitle
FROM fmtbank.trial_show($1) t;

-- @query dispensing
SELECT d.participant, d.stratum, d.visit::integer AS visit, d.kit, d.site, d.dispensed_at,
       d.dispensed_by, d.kit_status
FROM fmtbank.report_trial_dispensing($1) d;

-- @query unblindings
SELECT u.participant, u.emergency, u.reason, u.unblinded_at, u.unblinded_by
FROM fmtbank.report_trial_unblindings($1) u;
