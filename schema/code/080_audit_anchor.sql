-- 080_audit_anchor: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 080_audit_anchor: what "fmtbank audit anchor" and "audit verify --anchors" read. The chain head
-- (last row and its stored hash) is signed outside the database with a key the database cannot
-- read; verification recomputes the chain from the rows' content and compares it at each anchored
-- row, so a rewrite before an anchor is caught even when the keyless hash chain was recomputed,
-- and so is a trail cut short before an anchored row. SECURITY DEFINER like audit_verify: the
-- chain covers every row, including the PII rows the auditor's row policy hides.

-- The chain head: the id of the last audit row and its hash (hex); no row when the trail is
-- empty. Given the previous anchor (p_prev_seq, p_prev_hash), extends says whether the trail
-- still extends it: the anchored row has that hash and every row after it chains from it
-- (recomputed from content, only the rows since that anchor). One statement, one snapshot.
CREATE OR REPLACE FUNCTION fmtbank.audit_head(p_prev_seq bigint DEFAULT NULL, p_prev_hash text DEFAULT NULL,
                                   OUT seq bigint, OUT hash text, OUT extends boolean)
RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
    WITH seg AS (
        SELECT a.hash,
               fmtbank.hash_chain(decode(p_prev_hash, 'hex'),
                                  fmtbank.audit_content(a.id, a.at, a.who, a.tbl, a.op, a.key,
                                                        a.old_row, a.new_row, a.reason))
                   OVER (ORDER BY a.id) AS expect
        FROM fmtbank.audit_log a
        WHERE p_prev_seq IS NOT NULL AND a.id > p_prev_seq)
    SELECT h.id, encode(h.hash, 'hex'),
           CASE WHEN p_prev_seq IS NOT NULL THEN
               EXISTS (SELECT 1 FROM fmtbank.audit_log p
                       WHERE p.id = p_prev_seq AND p.hash = decode(p_prev_hash, 'hex'))
               AND NOT EXISTS (SELECT 1 FROM seg WHERE seg.hash <> seg.expect) END
    FROM (SELECT a.id, a.hash FROM fmtbank.audit_log a ORDER BY a.id DESC LIMIT 1) h
$$;

-- The chain hash recomputed from the rows' content (not trusting their stored hashes) at each
-- given row id; hash is NULL for an id that has no row. Checked link by link as audit_verify
-- (053): up to the first row whose hash is not SHA-256(previous stored hash || its content),
-- the recomputed chain equals the stored hashes, so those anchors read the stored hash; only
-- anchors at or after a broken link pay for the full recomputation (the hash_chain aggregate).
-- jit off: compiling this plan costs more than running it (1.1 s of 2.9 s at 100,000 rows).
CREATE OR REPLACE FUNCTION fmtbank.audit_chain_at(p_seqs bigint[], OUT seq bigint, OUT hash text)
RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
    WITH links AS (
        SELECT a.id, a.hash,
               a.hash = sha256(coalesce(lag(a.hash) OVER (ORDER BY a.id), '\x'::bytea)
                               || convert_to(fmtbank.audit_content(a.id, a.at, a.who, a.tbl, a.op,
                                                                   a.key, a.old_row, a.new_row,
                                                                   a.reason), 'UTF8')) AS ok
        FROM fmtbank.audit_log a
        WHERE a.id <= (SELECT max(x) FROM unnest(p_seqs) AS u(x))),
    hit AS MATERIALIZED (
        SELECT c.id, c.hash, c.intact
        FROM (SELECT l.id, l.hash, bool_and(l.ok) OVER (ORDER BY l.id) AS intact
              FROM links l) c
        WHERE c.id = ANY (p_seqs)),
    slow AS MATERIALIZED (
        SELECT a.id,
               fmtbank.hash_chain('\x'::bytea,
                                  fmtbank.audit_content(a.id, a.at, a.who, a.tbl, a.op, a.key,
                                                        a.old_row, a.new_row, a.reason))
                   OVER (ORDER BY a.id) AS h
        FROM fmtbank.audit_log a
        WHERE EXISTS (SELECT 1 FROM hit WHERE NOT hit.intact)
          AND a.id <= (SELECT max(x) FROM unnest(p_seqs) AS u(x)))
    SELECT u.s,
           encode(CASE WHEN h.id IS NULL THEN NULL
                       WHEN h.intact THEN h.hash
                       ELSE (SELECT slow.h FROM slow WHERE slow.id = u.s) END, 'hex')
    FROM unnest(p_seqs) WITH ORDINALITY AS u(s, ord)
    LEFT JOIN hit h ON h.id = u.s
    ORDER BY u.ord
$$;

-- The same for one row id (NULL when it has no row).
CREATE OR REPLACE FUNCTION fmtbank.audit_chain_at(p_seq bigint) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.hash FROM fmtbank.audit_chain_at(ARRAY[p_seq]) AS c
$$;

-- The stored hashes at the given row ids (NULL: no row). When audit_verify() holds in the same
-- snapshot (every link), they are the recomputed chain at those rows: "audit verify --anchors"
-- runs both in one REPEATABLE READ transaction and so reads the table once, not twice.
CREATE OR REPLACE FUNCTION fmtbank.audit_hash_at(p_seqs bigint[], OUT seq bigint, OUT hash text)
RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT u.s, encode(a.hash, 'hex')
    FROM unnest(p_seqs) WITH ORDINALITY AS u(s, ord)
    LEFT JOIN fmtbank.audit_log a ON a.id = u.s
    ORDER BY u.ord
$$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.audit_head(bigint, text),
    fmtbank.audit_chain_at(bigint[]),
    fmtbank.audit_chain_at(bigint),
    fmtbank.audit_hash_at(bigint[])
    TO fmtbank_quality, fmtbank_auditor, fmtbank_admin, fmtbank_daemon;
