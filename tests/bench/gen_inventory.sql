-- gen_inventory.sql: benchmark data for the inventory and expiring reports (not a test).
--   psql -v aliquots=1000000 -f gen_inventory.sql
-- 1,000 donors; one lot per 10 aliquots (9 doses and the retained sample); 10 x 10 boxes, 25 to
-- a rack, 500 to a freezer (20 freezers for a million tubes), every position filled row-major in
-- lot order. A realistic mix of states: 60% released, 30% quarantine, 5% recalled, 5% past their
-- expiry (shown as expired), 1% of the rest expiring within the next 30 days.
-- Rows are inserted directly as the superuser with triggers off (session_replication_role =
-- replica): a generator, not the application path (no audit rows, no per-row functions).
\set ON_ERROR_STOP 1
\if :{?aliquots}
\else
\set aliquots 1000000
\endif
SET session_replication_role = replica;
SET synchronous_commit = off;

BEGIN;
INSERT INTO fmtbank.donor (code, birth_year, sex, created_at)
SELECT format('D-%s', 20000000 + i), 1970 + i % 30, (ARRAY['F', 'M', 'X'])[1 + i % 3],
       now() - interval '900 days'
FROM generate_series(1, 1000) i;
-- their signed consent, for every use, before any generated donation (150_consent.sql)
INSERT INTO fmtbank.donor_consent (donor_id, event, effective_on, version, scope, recorded_at)
SELECT d.id, 'signed', current_date - 900, 'bench-1', ARRAY['clinical', 'research', 'trial'],
       now() - interval '900 days'
FROM fmtbank.donor d WHERE d.code ~ '^D-2[0-9]{7}$';

-- Lot and aliquot IDs with their MOD 37-2 check characters computed arithmetically (Horner's
-- scheme over the fixed-length body: the same characters as fmtbank.check_char, which is too slow
-- to call a million times): r9 is the residue of the lot body "L" YY NNNNNN; an aliquot's body
-- adds three index digits, r12 = 8 r9 + 8 d1 + 4 d2 + 2 d3 (mod 37); the check character is
-- digit (38 - r) mod 37 of 0-9A-Z*.
CREATE TEMP TABLE gen_lot AS
SELECT x.i, gen_random_uuid() AS id, x.body, x.r9,
       x.body || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*', (38 - x.r9) % 37 + 1, 1) AS lot_id,
       now() - (x.i % 700) * interval '1 day' - interval '8 hours' AS collected_at
FROM (SELECT i, 'L' || y.yy || (500000 + i) AS body,
             (21 * 512 + substr(y.yy, 1, 1)::int * 256 + substr(y.yy, 2, 1)::int * 128
              + ((500000 + i) / 100000 % 10) * 64 + ((500000 + i) / 10000 % 10) * 32
              + ((500000 + i) / 1000 % 10) * 16 + ((500000 + i) / 100 % 10) * 8
              + ((500000 + i) / 10 % 10) * 4 + ((500000 + i) % 10) * 2) % 37 AS r9
      FROM generate_series(1, (:aliquots + 9) / 10) i, (SELECT to_char(now(), 'YY') AS yy) y) x;

INSERT INTO fmtbank.lot (id, lot_id, donor_id, collected_at, mass_g, bristol, status,
                         rule_set_version, processed_at, processed_rule_set_version, doses)
SELECT l.id, l.lot_id, d.id, l.collected_at, 500, 4,
       CASE WHEN l.i % 20 = 7 THEN 'recalled' WHEN l.i % 10 < 6 THEN 'released' ELSE 'quarantine' END,
       1, l.collected_at + interval '2 hours', 1, 9
FROM gen_lot l JOIN fmtbank.donor d ON d.code = format('D-%s', 20000000 + 1 + l.i % 1000);

CREATE TEMP TABLE gen_aliquot AS
SELECT (l.i - 1) * 10 + k + 1 AS n, gen_random_uuid() AS id, l.id AS lot, l.i AS li, k,
       l.body || '-' || lpad(k::text, 3, '0')
       || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*',
                 (38 - (8 * l.r9 + 8 * (k / 100) + 4 * (k / 10 % 10) + 2 * (k % 10)) % 37) % 37 + 1, 1)
           AS aliquot_id,
       l.collected_at + interval '2 hours' AS processed_at
FROM gen_lot l, generate_series(0, 9) k
WHERE (l.i - 1) * 10 + k + 1 <= :aliquots;

INSERT INTO fmtbank.aliquot (id, aliquot_id, lot, idx, retained, status, expires_at, volume_ml,
                             glycerol_percent, created_at)
SELECT a.id, a.aliquot_id, a.lot, a.k, a.k = 0,
       CASE WHEN a.li % 20 = 7 AND a.k > 0 THEN 'recalled'
            WHEN a.li % 10 < 6 AND a.k > 0 THEN 'released' ELSE 'quarantine' END,
       CASE WHEN a.li % 20 = 3 THEN now() - interval '3 days'
            WHEN a.li % 100 = 11 THEN now() + (a.li % 30) * interval '1 day' + interval '1 hour'
            ELSE a.processed_at + interval '730 days' END,
       200, 10, a.processed_at
FROM gen_aliquot a;

CREATE TEMP TABLE gen_box AS
SELECT b, gen_random_uuid() AS id,
       fmtbank.with_check('B' || lpad((300000 + b)::text, 6, '0')) AS box_id
FROM generate_series(1, (:aliquots + 99) / 100) b;

INSERT INTO fmtbank.freezer (id, freezer_id, name, temp_c, site)
SELECT gen_random_uuid(), fmtbank.with_check('F' || lpad((5000 + f)::text, 4, '0')),
       'Bench freezer ' || f, -80, 'Bench site'
FROM generate_series(1, ((:aliquots + 99) / 100 + 499) / 500) f;

INSERT INTO fmtbank.box (id, box_id, freezer, rack, nrows, ncols)
SELECT g.id, g.box_id, f.id, 'R' || ((g.b - 1) % 500 / 25 + 1), 10, 10
FROM gen_box g
JOIN fmtbank.freezer f ON f.freezer_id = fmtbank.with_check('F' || lpad((5000 + (g.b - 1) / 500 + 1)::text, 4, '0'));

INSERT INTO fmtbank.placement (box, prow, pcol, slot, aliquot, placed_at, placed_by)
SELECT g.id, r, c, g.box_id || ':' || fmtbank.position_text(r, c), a.id,
       CASE WHEN a.id IS NOT NULL THEN a.processed_at + interval '1 hour' END,
       CASE WHEN a.id IS NOT NULL THEN 'bench' END
FROM gen_box g
CROSS JOIN generate_series(1, 10) r
CROSS JOIN generate_series(1, 10) c
LEFT JOIN gen_aliquot a ON a.n = (g.b - 1) * 100 + (r - 1) * 10 + c;
COMMIT;
VACUUM ANALYZE fmtbank.donor, fmtbank.lot, fmtbank.aliquot, fmtbank.freezer, fmtbank.box,
    fmtbank.placement;
