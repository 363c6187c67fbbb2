-- demo.sql: demonstration data loaded by "fmtbank init --demo"; idempotent. Users and their
-- signature passwords are for the demo only (README).
SELECT fmtbank.user_add(u.name, u.role, u.printed, u.pw)
FROM (VALUES ('alice', 'technician', 'Alice Laborant', 'alice-signs-1'),
             ('quinn', 'quality', 'Quinn Qualmann', 'quinn-signs-1'),
             ('audrey', 'auditor', 'Audrey Auditor', 'audrey-signs-1'),
             ('adam', 'admin', 'Adam Admin', 'adam-signs-1')) AS u(name, role, printed, pw)
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = u.name);

-- Demonstration donors (pseudonymous codes only).
INSERT INTO fmtbank.donor (code, birth_year, sex)
SELECT d.code, d.y, d.s
FROM (VALUES ('D-0001', 1990, 'F'), ('D-0002', 1985, 'M'), ('D-0003', 1999, 'X')) AS d(code, y, s)
WHERE NOT EXISTS (SELECT 1 FROM fmtbank.donor x WHERE x.code = d.code);

-- Their signed consent (150_consent.sql): every use, signed long before any demonstration
-- donation (the demo and the tests register donations collected up to a year back).
INSERT INTO fmtbank.donor_consent (donor_id, event, effective_on, version, scope)
SELECT d.id, 'signed', date '2020-01-02', 'demo-1', ARRAY['clinical', 'research', 'trial']
FROM fmtbank.donor d
WHERE d.code IN ('D-0001', 'D-0002', 'D-0003')
  AND NOT EXISTS (SELECT 1 FROM fmtbank.donor_consent c WHERE c.donor_id = d.id);
