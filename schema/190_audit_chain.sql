-- 190_audit_chain: the audit trail's fast paths in the server module (product.md §16), when the
-- instance preloads it (embedded instance; src/pgmodule/audit_chain.c). Owner only, like the
-- module's other functions (075). Without the module the plain definitions serve, with the same
-- answers (tests/sql/sql/audit_verify.sql holds them equal):
--  - fmtbank.audit_chain_raw(after, upto): "audit verify" of the rows after < id <= upto in one C
--    loop, the record of fmtbank.audit_verify_sql (schema/code/001_foundation.sql), which
--    fmtbank.audit_verify_range calls instead when this function is absent;
--  - fmtbank.hash_chain_step_raw: the transition function of the aggregate fmtbank.hash_chain
--    that audit_write chains new rows with, the value of the PL/pgSQL fmtbank.hash_chain_step
--    without a PL/pgSQL call per audited row; the code set makes the aggregate use it.
DO $$
DECLARE lib text;
BEGIN
    SELECT btrim(x, ' "') INTO lib
    FROM unnest(string_to_array(current_setting('shared_preload_libraries'), ',')) x
    WHERE x LIKE '%fmtbank_auth%' LIMIT 1;
    IF lib IS NOT NULL THEN
        EXECUTE format('CREATE FUNCTION fmtbank.audit_chain_raw(p_after bigint, p_upto bigint,'
                       ' OUT ok boolean, OUT rows_checked bigint, OUT first_broken bigint,'
                       ' OUT last_id bigint) LANGUAGE c STABLE'
                       ' SET search_path = pg_catalog, pg_temp AS %L, %L',
                       lib, 'fmtbank_audit_chain');
        EXECUTE format('CREATE FUNCTION fmtbank.hash_chain_step_raw(p_state bytea, p_seed bytea,'
                       ' p_content text) RETURNS bytea LANGUAGE c IMMUTABLE PARALLEL SAFE'
                       ' SET search_path = pg_catalog, pg_temp AS %L, %L',
                       lib, 'fmtbank_hash_chain_step');
        REVOKE ALL ON FUNCTION fmtbank.audit_chain_raw(bigint, bigint),
                               fmtbank.hash_chain_step_raw(bytea, bytea, text) FROM PUBLIC;
    END IF;
END $$;
