-- 035_sweep: functions and views (code: re-applied as a set by "fmtbank init", see README.md "SQL as code").

-- 035_sweep: the release sweep for the daemon, the review of released stock under the current
-- rules, and the counts of "fmtbank status".
--
-- fmtbank.sweep_release() stores what time and new records made true, set-based, one statement
-- per kind of change (readiness: one evaluation, then one UPDATE each way): aliquots past their expiry expired,
-- lots that became releasable ready and ready lots no longer releasable back in quarantine (031).
-- Displayed states never wait for it (aliquot_status_now, lot_status_shown); it keeps the stored
-- ones, the audit trail and the counts current. For the daemon (050+): register it with
--   SELECT fmtbank.sweep_register('release', 'fmtbank.sweep_release()', 30);
-- and grant EXECUTE on it to fmtbank_daemon. It may be run by quality, admin or the daemon.
-- Readiness is judged for the lots in quarantine or ready that changed since the last pass
-- (180_sweep_dirty: the lot, a hold on it, or a record of its donor), or for all of them on the
-- first pass, after a change of the rules or catalog in force, or when asked (sweep_full). A
-- lot's verdict depends on the day only through records dated in the future, whose dirty rows
-- wait for their day; expiry is found by the (status, expires_at) index.
CREATE OR REPLACE FUNCTION fmtbank.sweep_release() RETURNS TABLE (what text, n bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t timestamptz := clock_timestamp();
    k1 bigint;
    k2 bigint;
    prev text := current_setting('fmtbank.reason', true);
    to_ready uuid[];
    to_quarantine uuid[];
    every boolean;
    donors uuid[];
    lots uuid[];
    changed boolean;
    last_day date;
BEGIN
    IF NOT (fmtbank.acting_is('quality', 'admin')
            OR (to_regrole('fmtbank_daemon') IS NOT NULL
                AND pg_has_role(session_user, 'fmtbank_daemon', 'MEMBER'))) THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = 'permission denied: running the release sweep requires the quality, admin or daemon role',
            DETAIL = format('The acting user "%s" has none of them.', session_user);
    END IF;

    -- Holds are never decided here: only a quality officer's signed decision lifts or recalls
    -- (product.md §11.0.2); a held lot is simply not made ready (the rule "hold").
    k1 := 0; k2 := 0;
    PERFORM set_config('fmtbank.reason', 'release sweep: shelf life ended', true);
    UPDATE fmtbank.aliquot a SET status = 'expired', status_at = a.expires_at,
           status_reason = 'shelf life ended'
    WHERE a.status IN ('quarantine', 'released') AND a.expires_at <= t;
    GET DIAGNOSTICS k1 = ROW_COUNT;
    what := 'aliquots expired'; n := k1; RETURN NEXT;

    -- what to judge: the dirty set taken first, then the clock read (every record taken was
    -- committed before the evaluation time)
    SELECT * INTO every, donors, lots FROM fmtbank.sweep_take('release', t::date, NULL);
    t := clock_timestamp();
    SELECT * INTO changed, last_day FROM fmtbank.sweep_state_changed('release', t);
    every := every OR changed;
    PERFORM fmtbank.sweep_state_store('release', t);
    IF NOT every THEN
        lots := ARRAY(SELECT l.id FROM fmtbank.lot l
                      WHERE l.donor_id = ANY (donors) AND l.status IN ('quarantine', 'ready')
                      UNION
                      SELECT l.id FROM fmtbank.lot l
                      WHERE l.id = ANY (lots) AND l.status IN ('quarantine', 'ready'));
        IF cardinality(lots) = 0 THEN
            what := 'lots ready'; n := 0; RETURN NEXT;
            what := 'lots no longer ready'; n := 0; RETURN NEXT;
            PERFORM set_config('fmtbank.reason', coalesce(prev, ''), true);
            RETURN;
        END IF;
    END IF;

    -- readiness: evaluated first (a read-only statement, so it may run in parallel), then stored
    -- by two set-based UPDATEs; a lot whose stored state changed meanwhile (e.g. just released)
    -- is left alone by their WHERE clauses, and the next sweep sees it again.
    SELECT coalesce(array_agg(b.lot) FILTER (WHERE b.ok), '{}'),
           coalesce(array_agg(b.lot) FILTER (WHERE NOT b.ok), '{}')
    INTO to_ready, to_quarantine
    FROM fmtbank.lot_eval(t, CASE WHEN NOT every THEN lots END, ARRAY['quarantine', 'ready'], false,
                          'ready') b;
    PERFORM set_config('fmtbank.reason', 'release sweep: release readiness', true);
    UPDATE fmtbank.lot l SET status = 'ready'
    WHERE l.id = ANY (to_ready) AND l.status = 'quarantine';
    GET DIAGNOSTICS k1 = ROW_COUNT;
    UPDATE fmtbank.lot l SET status = 'quarantine'
    WHERE l.id = ANY (to_quarantine) AND l.status = 'ready';
    GET DIAGNOSTICS k2 = ROW_COUNT;
    what := 'lots ready'; n := k1; RETURN NEXT;
    what := 'lots no longer ready'; n := k2; RETURN NEXT;
    -- the audit rows above carry the sweep's reasons; the caller's comes back
    PERFORM set_config('fmtbank.reason', coalesce(prev, ''), true);
END $$;

-- Released stock still in the freezers (released, unexpired doses) of lots the current rules
-- would not release: every failing rule but the lot's released status. A rule that arrives after
-- the stock was banked (the 2019 ESBL case) shows here.
CREATE OR REPLACE FUNCTION fmtbank.release_review_at(p_at timestamptz)
RETURNS TABLE (lot text, donor text, released_at timestamptz, released_by text, in_stock bigint,
               aliquots text, blocking jsonb)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE failing uuid[];
BEGIN
    -- one pass over every released lot for the verdict, then the details of those that fail
    SELECT coalesce(array_agg(e.lot), '{}') INTO failing
    FROM fmtbank.lot_eval(p_at, NULL, ARRAY['released'], false, 'review') e
    WHERE NOT e.ok;
    RETURN QUERY
    SELECT l.lot_id, d.code, s.signed_at, s.printed_name, st.n, st.ids,
           jsonb_agg(jsonb_build_object('rule', c.rule, 'detail', c.detail) ORDER BY c.ord, c.detail)
    FROM fmtbank.lot_eval(p_at, failing, ARRAY['released'], false, 'rules') c
    JOIN fmtbank.lot l ON l.id = c.lot
    JOIN fmtbank.donor d ON d.id = l.donor_id
    LEFT JOIN fmtbank.release_signature s ON s.lot = l.id
    CROSS JOIN LATERAL (
        SELECT count(*) AS n,
               string_agg(a.aliquot_id || coalesce(' (' || fmtbank.aliquot_location(a.id) || ')', ''),
                          ', ' ORDER BY a.idx) AS ids
        FROM fmtbank.aliquot a
        WHERE a.lot = l.id AND a.status = 'released' AND a.expires_at > p_at) st
    WHERE NOT c.ok AND c.rule <> 'status' AND st.n > 0
    GROUP BY l.lot_id, d.code, s.signed_at, s.printed_name, st.n, st.ids
    ORDER BY l.lot_id;
END $$;

-- "fmtbank status": lots by displayed state (not the stored one).
CREATE OR REPLACE FUNCTION fmtbank.status_lots() RETURNS TABLE (entity text, state text, n bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'lot', CASE WHEN b.releasable THEN 'ready'
                       WHEN b.releasable IS NOT NULL THEN 'quarantine' ELSE l.status END, count(*)
    FROM fmtbank.lot l
    LEFT JOIN fmtbank.lot_ready_at(clock_timestamp(), NULL, ARRAY['quarantine', 'ready']) b
      ON b.lot = l.id
    GROUP BY 2;
$$;
SELECT fmtbank.status_register('lot', 'fmtbank.status_lots()');

-- ---------------------------------------------------------------- privileges
-- Every grant of this group, explicitly; "fmtbank init" revokes all EXECUTE and view SELECT
-- from the application roles before the set is applied, so this list is the whole truth.

GRANT EXECUTE ON FUNCTION
    fmtbank.sweep_release(),
    fmtbank.release_review_at(timestamp with time zone)
    TO fmtbank_technician, fmtbank_quality, fmtbank_auditor, fmtbank_admin;
-- not granted (owner only): status_lots
