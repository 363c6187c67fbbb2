-- release.sql: the queries of the release certificate. $1 = lot (text, required). Every sheet
-- reads one snapshot: the signed one (fmtbank.release_signature.snapshot, exactly as signed) or,
-- for an unsigned lot, fmtbank.release_snapshot() as of the last change to the database
-- (fmtbank.report_as_of()), so the same database state gives the same cells.

-- @query meta
WITH l AS (SELECT * FROM fmtbank.lot_get($1)),
     s AS (SELECT s.signed_at FROM fmtbank.release_signature s, l WHERE s.lot = l.id)
SELECT coalesce((SELECT signed_at FROM s), fmtbank.report_as_of()) AS created,
       format('Release certificate: lot %s', l.lot_id) AS title,
       CASE WHEN NOT EXISTS (SELECT 1 FROM s) THEN 'DRAFT — NOT RELEASED' END AS banner,
       format('Lot %s', l.lot_id) AS subject,
       EXISTS (SELECT 1 FROM s) AS protect
FROM l;

-- @query summary
WITH l AS (SELECT * FROM fmtbank.lot_get($1)),
     s AS (SELECT s.* FROM fmtbank.release_signature s, l WHERE s.lot = l.id),
     j AS (SELECT coalesce((SELECT s.snapshot FROM s),
                           fmtbank.release_snapshot(fmtbank.report_as_of(), l.id)) AS j FROM l)
SELECT j.j ->> 'lot' AS lot, j.j ->> 'donor' AS donor,
       (j.j ->> 'collected_at')::timestamptz AS collected_at,
       (j.j ->> 'processed_at')::timestamptz AS processed_at,
       (j.j ->> 'doses')::integer AS doses, l.status::text AS status,
       CASE WHEN EXISTS (SELECT 1 FROM s) THEN 'released (signed)'
            WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(j.j -> 'rules') r
                         WHERE r ->> 'verdict' <> 'pass')
            THEN 'not releasable: ' || (SELECT string_agg(DISTINCT r ->> 'rule', ', ')
                                        FROM jsonb_array_elements(j.j -> 'rules') r
                                        WHERE r ->> 'verdict' <> 'pass')
            ELSE 'releasable, not signed' END AS decision,
       s.printed_name, s.signer, s.signed_at, s.meaning,
       coalesce(s.rule_set_version, (j.j ->> 'rule_set_version')::integer) AS rule_set_version,
       s.sha256,
       CASE WHEN s.id IS NOT NULL
            THEN encode(sha256(convert_to(s.snapshot::text, 'UTF8')), 'hex') = s.sha256 END AS verified,
       (j.j ->> 'evaluated_at')::timestamptz AS evaluated_at,
       jsonb_array_length(coalesce(j.j -> 'releases', '[]'::jsonb)) AS released
FROM l CROSS JOIN j LEFT JOIN s ON true;

-- @query results
WITH l AS (SELECT * FROM fmtbank.lot_get($1)),
     j AS (SELECT coalesce((SELECT s.snapshot FROM fmtbank.release_signature s WHERE s.lot = l.id),
                           fmtbank.release_snapshot(fmtbank.report_as_of(), l.id)) AS j FROM l)
SELECT e ->> 'phase' AS phase, e ->> 'test' AS test, (e ->> 'collected')::date AS collected,
       e ->> 'result' AS result, e ->> 'unit' AS unit, e ->> 'lab' AS lab,
       (e ->> 'acceptable')::boolean AS acceptable, (e ->> 'used')::boolean AS used,
       (e ->> 'recorded_at')::timestamptz AS recorded_at
FROM j CROSS JOIN LATERAL jsonb_array_elements(j.j -> 'results') WITH ORDINALITY AS x(e, ord)
ORDER BY x.ord;

-- @query verdicts
WITH l AS (SELECT * FROM fmtbank.lot_get($1)),
     j AS (SELECT coalesce((SELECT s.snapshot FROM fmtbank.release_signature s WHERE s.lot = l.id),
                           fmtbank.release_snapshot(fmtbank.report_as_of(), l.id)) AS j FROM l)
SELECT x.ord::integer AS n, e ->> 'rule' AS rule, e ->> 'verdict' AS verdict, e ->> 'detail' AS detail
FROM j CROSS JOIN LATERAL jsonb_array_elements(coalesce(j.j -> 'rules', '[]'::jsonb))
     WITH ORDINALITY AS x(e, ord)
ORDER BY x.ord;

-- @query aliquots
WITH l AS (SELECT * FROM fmtbank.lot_get($1)),
     j AS (SELECT coalesce((SELECT s.snapshot FROM fmtbank.release_signature s WHERE s.lot = l.id),
                           fmtbank.release_snapshot(fmtbank.report_as_of(), l.id)) AS j FROM l)
SELECT e ->> 'id' AS aliquot, (e ->> 'retained')::boolean AS retained, e ->> 'status' AS status,
       coalesce(j.j -> 'releases', '[]'::jsonb) ? (e ->> 'id') AS released,
       (e ->> 'expires_at')::timestamptz AS expires_at, (e ->> 'volume_ml')::numeric AS volume_ml,
       e ->> 'freezer' AS freezer, e ->> 'freezer_name' AS freezer_name, e ->> 'rack' AS rack,
       e ->> 'box' AS box, e ->> 'position' AS position
FROM j CROSS JOIN LATERAL jsonb_array_elements(j.j -> 'aliquots') WITH ORDINALITY AS x(e, ord)
ORDER BY x.ord;
