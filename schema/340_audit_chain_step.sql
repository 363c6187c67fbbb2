-- 340_audit_chain_step: the audit trail's row chaining in the server module (issue 17 item 7:
-- "result import" of 100,000 rows with the audit trail), when the instance preloads it, like 190:
--  - fmtbank.audit_chain_step_raw(state, seed, id, at, who, tbl, op, key, old_row, new_row,
--    reason): the transition function of the aggregate fmtbank.audit_chain that audit_write and
--    audit_stmt chain new rows with (schema/code/001_foundation.sql), the value of
--    fmtbank.hash_chain_step(state, seed, fmtbank.audit_content(id, ..., reason)) with the content
--    text built in C (src/pgmodule/audit_chain.c), as "audit verify"'s C loop builds it. Without
--    the module the code set gives the aggregate the plain SQL step, with the same values
--    (tests/sql/sql/audit_verify.sql holds them equal).
-- IMMUTABLE, not SECURITY DEFINER, no SET clause (src/db/migrate.c: it looks no name up and is
-- called once per audited row). Owner only. No data changes.
DO $$
DECLARE lib text;
BEGIN
    SELECT btrim(x, ' "') INTO lib
    FROM unnest(string_to_array(current_setting('shared_preload_libraries'), ',')) x
    WHERE x LIKE '%fmtbank_auth%' LIMIT 1;
    IF lib IS NOT NULL THEN
        -- by name, as 260 left the module's other functions: each instance resolves it through
        -- its own dynamic_library_path
        EXECUTE format('CREATE FUNCTION fmtbank.audit_chain_step_raw(p_state bytea, p_seed bytea,'
                       ' p_id bigint, p_at timestamptz, p_who text, p_tbl text, p_op text,'
                       ' p_key text, p_old jsonb, p_new jsonb, p_reason text) RETURNS bytea'
                       ' LANGUAGE c IMMUTABLE PARALLEL SAFE AS %L, %L',
                       CASE WHEN lib LIKE '%/%' AND EXISTS (
                                SELECT 1 FROM pg_catalog.pg_proc p
                                WHERE p.pronamespace = 'fmtbank'::regnamespace
                                  AND p.proname = 'hash_chain_step_raw' AND p.probin = 'fmtbank_auth')
                            THEN 'fmtbank_auth' ELSE lib END,
                       'fmtbank_audit_chain_step');
        REVOKE ALL ON FUNCTION fmtbank.audit_chain_step_raw(bytea, bytea, bigint, timestamptz, text,
                                                            text, text, text, jsonb, jsonb, text)
            FROM PUBLIC;
    END IF;
END $$;
