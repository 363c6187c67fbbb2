-- trial_allocation.sql: the queries of the unblinded allocation. $1 = trial code.
-- fmtbank.report_trial_allocation refuses every role but fmtbank_unblinded.

-- @query meta
SELECT fmtbank.report_as_of() AS created, format('Trial %s', t.trial) AS subtitle,
       'UNBLINDED - RESTRICTED'::text AS banner
FROM fmtbank.trial_show($1) t;

-- @query allocation
SELECT a.participant, a.stratum, a.seq, a.block_no, a.block_size::integer AS block_size, a.arm,
       a.kits, a.lots, a.donors, a.unblindings::integer AS unblindings, a.enrolled_at
FROM fmtbank.report_trial_allocation($1) a;

-- @query balance
SELECT a.stratum, a.arm, count(*)::integer AS n
FROM fmtbank.report_trial_allocation($1) a GROUP BY 1, 2 ORDER BY 1, 2;
