-- 024_speed: the audit trail's write path in PL/pgSQL, for the scan session's budget
-- (product.md §9: one scan is one round trip, median <= 1 ms; tests/bench/bench_scan.sh).
--
-- The functions below are those of 001_foundation, with the same statements and expressions;
-- only the language changes. A LANGUAGE sql function that has a SET clause is never inlined and
-- keeps no plan: PostgreSQL plans its body again on every call. Measured per audited statement
-- (one scan writes two): audit_write ~270 us as SQL, ~40 us as PL/pgSQL (which caches its
-- plan for the session); audit_content ~40 us -> ~3 us; hash_chain_step ~18 us -> ~2 us.
-- Results are identical (same hash chain: audit verify and tests/integration/t0004-audit.sh).
-- If the foundation adopts these, this file can go.

CREATE OR REPLACE FUNCTION fmtbank.audit_content(p_id bigint, p_at timestamptz, p_who text,
                                                 p_tbl text, p_op text, p_key text, p_old jsonb,
                                                 p_new jsonb, p_reason text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
BEGIN
    RETURN concat_ws(E'\x1f', p_id::text,
                     to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
                     p_who, p_tbl, p_op, coalesce(p_key, ''), coalesce(p_old::text, ''),
                     coalesce(p_new::text, ''), coalesce(p_reason, ''));
END $$;

CREATE OR REPLACE FUNCTION fmtbank.hash_chain_step(p_state bytea, p_seed bytea, p_content text)
RETURNS bytea LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
BEGIN
    RETURN sha256(coalesce(p_state, p_seed) || convert_to(p_content, 'UTF8'));
END $$;

-- The advisory lock is taken first and the INSERT takes its snapshot after it, as before, so ids
-- follow commit order and the chain never forks.
CREATE OR REPLACE FUNCTION fmtbank.audit_write(p_tbl text, p_op text, p_keycol text, p_pii boolean,
                                               p_old jsonb[], p_new jsonb[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(70640001);
    INSERT INTO fmtbank.audit_log (id, at, who, tbl, op, key, old_row, new_row, reason, pii, hash)
    SELECT s.id, s.at, s.who, p_tbl, p_op, s.key, s.o, s.n, s.why, p_pii,
           fmtbank.hash_chain(seed.h, fmtbank.audit_content(s.id, s.at, s.who, p_tbl, p_op, s.key,
                                                            s.o, s.n, s.why)) OVER (ORDER BY s.id)
    FROM (SELECT nextval('fmtbank.audit_log_id_seq') AS id, clock_timestamp() AS at,
                 session_user::text AS who, coalesce(u.n, u.o) ->> p_keycol AS key, u.o, u.n,
                 nullif(btrim(current_setting('fmtbank.reason', true)), '') AS why
          FROM unnest(p_old, p_new) WITH ORDINALITY AS u(o, n, ord)) s,
         (SELECT coalesce((SELECT hash FROM fmtbank.audit_log ORDER BY id DESC LIMIT 1),
                          '\x'::bytea) AS h) seed;
END $$;
