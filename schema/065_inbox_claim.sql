-- 065_inbox_claim.sql: a claimed content hash counts only with its import (issue 15 item 9).
--
-- fmtbank.inbox_claim() records the SHA-256 of a file as imported, and the unique index
-- inbox_file_once then keeps that content out forever. The daemon login could claim the hash of a
-- file it had not imported (claim, commit; or claim and inbox_imported(hash, 0)), so the real
-- file would never be imported. Now:
--  * inbox_imported() counts on the server the rows this very transaction imported (the audit
--    rows of INSERTs this transaction wrote, the ledger's own aside); a claim with no imported row
--    is refused, as is a client count larger than the server's;
--  * a deferred constraint trigger refuses, at COMMIT, an 'imported' row whose import was not
--    recorded by inbox_imported() in the same transaction: a bare claim cannot commit.
-- (The server does not see the file's bytes, so it cannot check that the rows are the content
-- the hash names; the claim is at least bound to a real, audited import under that hash.)

-- Rows of fmtbank.audit_log written by the current transaction: a visible row whose inserting
-- transaction is still in progress can only be ours (other open transactions' rows are not
-- visible). The xid8 of the row's xmin is built with the current epoch.
CREATE FUNCTION fmtbank.inbox_rows_here() RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT count(*)
    FROM fmtbank.audit_log a
    WHERE a.at >= transaction_timestamp()
      AND a.op = 'INSERT' AND a.tbl <> 'inbox_file'
      AND pg_xact_status((((pg_current_xact_id()::text::bigint >> 32) << 32)
                          | a.xmin::text::bigint)::text::xid8) = 'in progress'
$$;
REVOKE ALL ON FUNCTION fmtbank.inbox_rows_here() FROM PUBLIC;

CREATE OR REPLACE FUNCTION fmtbank.inbox_imported(p_sha256 text, p_rows bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    i bigint;
    counted bigint;
BEGIN
    PERFORM fmtbank.require_role('importing inbox files', 'daemon');
    -- Only a claim made in this transaction (rows of other transactions are not ours to finish).
    SELECT f.id INTO i FROM fmtbank.inbox_file f
    WHERE f.sha256 = p_sha256 AND f.status = 'imported' AND f.rows IS NULL
      AND pg_xact_status((((pg_current_xact_id()::text::bigint >> 32) << 32)
                          | f.xmin::text::bigint)::text::xid8) = 'in progress';
    IF i IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'FB002',
            MESSAGE = format('no claimed inbox file with SHA-256 "%s"', p_sha256);
    END IF;
    counted := fmtbank.inbox_rows_here();
    IF counted = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = 'the file imports no rows',
            DETAIL = 'A content is recorded as imported only together with the rows it imported.';
    END IF;
    IF p_rows IS NOT NULL AND p_rows > counted THEN
        RAISE EXCEPTION USING ERRCODE = 'FB001',
            MESSAGE = format('the import reports %s rows, the server counted %s', p_rows, counted);
    END IF;
    UPDATE fmtbank.inbox_file SET rows = coalesce(p_rows, counted) WHERE id = i;
    RETURN i;
END $$;

-- At COMMIT: an imported content must have had its import recorded (rows set).
CREATE FUNCTION fmtbank.inbox_file_complete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM fmtbank.inbox_file f
               WHERE f.id = NEW.id AND f.status = 'imported' AND f.rows IS NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('inbox file "%s" was claimed but not imported', NEW.name),
            DETAIL = 'A claimed content hash counts only with its import in the same transaction.';
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION fmtbank.inbox_file_complete() FROM PUBLIC;

CREATE CONSTRAINT TRIGGER inbox_file_complete AFTER INSERT OR UPDATE ON fmtbank.inbox_file
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fmtbank.inbox_file_complete();
