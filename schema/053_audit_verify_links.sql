-- 053_audit_verify_links.sql: "audit verify" checks each link of the chain on its own: row i is
-- intact when its hash is SHA-256(stored hash of row i-1 || content of row i). Every link holding
-- is the same as the chain recomputed from the first row (the first failing link is the first row
-- the recomputed chain disagrees with), without a PL/pgSQL aggregate step per row: 1.7 times
-- faster (300,000 rows: 1.63 s -> 0.98 s on the 2-core development machine). JIT off: compiling
-- the expressions costs more than it saves here (0.86 s vs 0.66 s at 100,000 rows).
CREATE OR REPLACE FUNCTION fmtbank.audit_verify(OUT ok boolean, OUT rows_checked bigint,
                                                OUT first_broken bigint, OUT last_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog SET jit = off AS $$
    WITH c AS (
        SELECT id, hash,
               sha256(coalesce(lag(hash) OVER (ORDER BY id), '\x'::bytea)
                      || convert_to(fmtbank.audit_content(id, at, who, tbl, op, key, old_row,
                                                          new_row, reason), 'UTF8')) AS expect
        FROM fmtbank.audit_log)
    SELECT bool_and(hash = expect) IS NOT FALSE, count(*), min(id) FILTER (WHERE hash <> expect),
           max(id)
    FROM c
$$;
