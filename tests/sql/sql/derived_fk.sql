-- derived_fk.sql: the tables the owner's triggers and sweeps derive from other rows keep no
-- foreign key (schema/360_derived_fk.sql: the check could never fail and cost about 1.2 s of the
-- daemon's first pass). What the keys guarded still holds: after donors, lots processed into
-- tubes, sweeps, a void and an expiry, every id in them names an existing row, and no
-- application role can write them (the version tables: asof.sql).
SELECT pg_temp.donor('D-3601'), pg_temp.donor('D-3602');
SELECT pg_temp.panel('D-3601', current_date - 60), pg_temp.panel('D-3601', current_date - 25);
CREATE TEMP TABLE l AS
SELECT pg_temp.lot('D-3601', 40) AS a, pg_temp.lot('D-3602', 35) AS b;
SELECT what, n FROM fmtbank.sweep() WHERE what ~ '^(donors|release): ' ORDER BY 1;
SELECT pg_temp.as_reason('entered twice');
SELECT fmtbank.lot_void((SELECT b FROM l)) AS voided_aliquots;
UPDATE fmtbank.aliquot SET expires_at = now() - interval '1 day'
WHERE lot = (fmtbank.lot_get((SELECT a FROM l))).id AND idx = 1;
SELECT what, n FROM fmtbank.sweep() WHERE what ~ '^release: aliquots' ORDER BY 1;

-- rows in each derived table, and those naming no existing row (expected 0)
SELECT 'lot_version' AS tbl, count(*) > 0 AS has_rows,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM fmtbank.lot x WHERE x.id = v.lot)) AS orphans
FROM fmtbank.lot_version v
UNION ALL
SELECT 'aliquot_version', count(*) > 0,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM fmtbank.aliquot x WHERE x.id = v.aliquot)
                          OR NOT EXISTS (SELECT 1 FROM fmtbank.lot x WHERE x.id = v.lot)
                          OR NOT EXISTS (SELECT 1 FROM fmtbank.aliquot x
                                         WHERE x.id = v.aliquot AND x.lot = v.lot))
FROM fmtbank.aliquot_version v
UNION ALL
SELECT 'placement_version', true,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM fmtbank.aliquot x WHERE x.id = v.aliquot)
                          OR NOT EXISTS (SELECT 1 FROM fmtbank.box x WHERE x.id = v.box))
FROM fmtbank.placement_version v
UNION ALL
SELECT 'donor_state', count(*) > 0,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM fmtbank.donor x WHERE x.id = v.donor_id))
FROM fmtbank.donor_state v
UNION ALL
SELECT 'donor_eligibility', count(*) > 0,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM fmtbank.donor x WHERE x.id = v.donor_id))
FROM fmtbank.donor_eligibility v;
-- the expired tube's versions: quarantine, then expired (the current one)
SELECT v.row ->> 'status' AS status, v.valid_to IS NULL AS current
FROM fmtbank.aliquot_version v
JOIN fmtbank.aliquot x ON x.id = v.aliquot
WHERE x.lot = (fmtbank.lot_get((SELECT a FROM l))).id AND x.idx = 1 ORDER BY v.valid_from;

-- no application role writes the donor sweep's tables
SELECT r.rolname, t.tbl,
       has_table_privilege(r.rolname, t.tbl, 'INSERT, UPDATE, DELETE, TRUNCATE') AS can_write
FROM pg_roles r
CROSS JOIN unnest(ARRAY['fmtbank.donor_state', 'fmtbank.donor_eligibility']) t(tbl)
WHERE r.rolname IN ('fmtbank_technician', 'fmtbank_quality', 'fmtbank_auditor', 'fmtbank_admin',
                    'fmtbank_daemon')
ORDER BY 1, 2;
