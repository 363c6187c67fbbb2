-- 065_inbox_claim: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

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
CREATE OR REPLACE FUNCTION fmtbank.inbox_rows_here() RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*)
    FROM fmtbank.audit_log a
    WHERE a.at >= transaction_timestamp()
      AND a.op = 'INSERT' AND a.tbl <> 'inbox_file'
      AND pg_xact_status((((pg_current_xact_id()::text::bigint >> 32) << 32)
                          | a.xmin::text::bigint)::text::xid8) = 'in progress'
$$;

-- At COMMIT: an imported content must have had its import recorded (rows set).
CREATE OR REPLACE FUNCTION fmtbank.inbox_file_complete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM fmtbank.inbox_file f
               WHERE f.id = NEW.id AND f.status = 'imported' AND f.rows IS NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('inbox file "%s" was claimed but not imported', NEW.name),
            DETAIL = 'A claimed content hash counts only with its import in the same transaction.';
    END IF;
    RETURN NULL;
END $$;

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

-- not granted (owner only): inbox_rows_here, inbox_file_complete
