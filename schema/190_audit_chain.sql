-- 190_audit_chain: the fast path of "audit verify" (product.md §16: >= 500,000 rows/s), when the
-- instance preloads the server module (embedded instance): fmtbank.audit_chain_raw(after, upto)
-- checks the links of the rows after < id <= upto in one C loop (src/pgmodule/audit_chain.c),
-- giving the same record as fmtbank.audit_verify_sql, the plain SQL definition it replaces in
-- fmtbank.audit_verify_range (schema/code/001_foundation.sql). Owner only, like the module's
-- other functions (075).
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
        REVOKE ALL ON FUNCTION fmtbank.audit_chain_raw(bigint, bigint) FROM PUBLIC;
    END IF;
END $$;
