-- 340_audit_chain_step: the audit trail's per-row work in the server module (issue 17 item 7:
-- "result import" of 100,000 rows with the audit trail), when the instance preloads it, like 190
-- (src/pgmodule/audit_chain.c, row_jsonb.c). Without the module the code set
-- (schema/code/001_foundation.sql) uses the plain definitions, with the same values
-- (tests/sql/sql/audit_verify.sql holds them equal):
--  - fmtbank.audit_chain_step_raw(state, seed, id, at, who, tbl, op, key, old_row, new_row,
--    reason): the transition function of the aggregate fmtbank.audit_chain that the audit
--    trigger (audit_stmt) chains new rows with, the value of fmtbank.hash_chain_step(state, seed,
--    fmtbank.audit_content(id, ..., reason)) with the content text built in C, as "audit verify"'s
--    C loop builds it;
--  - fmtbank.row_jsonb_raw(row): to_jsonb(row) with each column's type looked up once per row
--    type, not once per row (fmtbank.row_jsonb, audit_stmt's rows).
-- Not SECURITY DEFINER, no SET clause (src/db/migrate.c: they look no name up and are called once
-- per audited row). Owner only. Named without a directory, as 260 left the module's other
-- functions where that resolves to the module loaded. No data changes.
DO $$
DECLARE lib text;
BEGIN
    SELECT btrim(x, ' "') INTO lib
    FROM unnest(string_to_array(current_setting('shared_preload_libraries'), ',')) x
    WHERE x LIKE '%fmtbank_auth%' LIMIT 1;
    IF lib IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                   WHERE p.pronamespace = 'fmtbank'::regnamespace
                     AND p.proname = 'hash_chain_step_raw' AND p.probin = 'fmtbank_auth') THEN
            lib := 'fmtbank_auth';
        END IF;
        EXECUTE format('CREATE FUNCTION fmtbank.audit_chain_step_raw(p_state bytea, p_seed bytea,'
                       ' p_id bigint, p_at timestamptz, p_who text, p_tbl text, p_op text,'
                       ' p_key text, p_old jsonb, p_new jsonb, p_reason text) RETURNS bytea'
                       ' LANGUAGE c IMMUTABLE PARALLEL SAFE AS %L, %L',
                       lib, 'fmtbank_audit_chain_step');
        EXECUTE format('CREATE FUNCTION fmtbank.row_jsonb_raw(p_row anyelement) RETURNS jsonb'
                       ' LANGUAGE c STABLE STRICT PARALLEL SAFE AS %L, %L',
                       lib, 'fmtbank_row_jsonb');
        REVOKE ALL ON FUNCTION fmtbank.audit_chain_step_raw(bytea, bytea, bigint, timestamptz, text,
                                                            text, text, text, jsonb, jsonb, text),
                               fmtbank.row_jsonb_raw(anyelement)
            FROM PUBLIC;
    END IF;
END $$;
