-- 370_transition_when: the release sweep's own status moves no longer call the transition
-- checks (issue 17 item 7: the daemon's first pass after "generate" makes 96,800 lots ready).
-- The checks (schema/code/030_lifecycle.sql) let those moves through for everyone without
-- looking at anything: a lot between quarantine and ready (readiness, 031), an aliquot from
-- quarantine or released to expired (its shelf life). Each call of the SECURITY DEFINER PL/pgSQL
-- function still saved and restored search_path and ran its tests: 0.2-0.3 s per 100,000 lots.
-- The triggers' WHEN clauses, evaluated by the executor, now leave those rows out; every other
-- change of status is checked as before. No data changes.
CREATE OR REPLACE TRIGGER lot_transition BEFORE UPDATE OF status ON fmtbank.lot
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       AND NOT (OLD.status IN ('quarantine', 'ready')
                                AND NEW.status IN ('quarantine', 'ready')))
    EXECUTE FUNCTION fmtbank.lot_transition_check();

CREATE OR REPLACE TRIGGER aliquot_transition BEFORE UPDATE OF status ON fmtbank.aliquot
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       AND NOT (OLD.status IN ('quarantine', 'released')
                                AND NEW.status = 'expired'))
    EXECUTE FUNCTION fmtbank.aliquot_transition_check();
