-- 073_sign_refusal_race.sql: a signer who loses the race to another officer signing the same lot
-- is told "it is already released" (with who signed), not "it is not releasable" with the status
-- as its only blocking rule: the lot row passed in may predate the other signature, while the
-- blocking rules are read a moment later; when they block, the lot is read again.
CREATE OR REPLACE FUNCTION fmtbank.sign_lot_refusal(l fmtbank.lot) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    who fmtbank.release_signature;
    blk jsonb;
    now_status text;
BEGIN
    IF l.status = 'released' THEN
        SELECT * INTO who FROM fmtbank.release_signature s WHERE s.lot = l.id;
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign the release of lot "%s": it is already released', l.lot_id),
            DETAIL = format('Signed by %s (%s) on %s: "%s".', who.printed_name, who.signer,
                            fmtbank.ts_text(who.signed_at), who.meaning);
    END IF;
    SELECT b.blocking INTO blk FROM fmtbank.lot_blocking_at(clock_timestamp(), l.id) b;
    IF blk IS DISTINCT FROM '[]'::jsonb THEN
        SELECT x.status INTO now_status FROM fmtbank.lot x WHERE x.id = l.id;
        IF now_status = 'released' THEN
            PERFORM fmtbank.sign_lot_refusal((SELECT x FROM fmtbank.lot x WHERE x.id = l.id));
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'FB003',
            MESSAGE = format('cannot sign the release of lot "%s": it is not releasable', l.lot_id),
            DETAIL = (SELECT string_agg(format('%s: %s', x ->> 'rule', x ->> 'detail'), E'\n')
                      FROM jsonb_array_elements(blk) x),
            HINT = format('"fmtbank release check %s" lists what blocks it.', l.lot_id);
    END IF;
END $$;
