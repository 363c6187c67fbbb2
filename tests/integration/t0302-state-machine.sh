#!/usr/bin/env bash
# t0302-state-machine: lot and aliquot states change only through the checked functions. Every
# application role is refused a direct UPDATE of a state through psql (and the internal functions
# that change states), and the transition triggers refuse an illegal transition even to a role
# that was granted UPDATE: released only with a signature, issued only with an issue record, a
# dose released only with its lot, never the retained sample, nothing out of a final state.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

rel_donor D-3001
LQ=$(rel_lot_full D-3001 40)
rel_panel D-3001 "$(d -50)"
LR=$(rel_lot_full D-3001 35)
rel_panel D-3001 "$(d -30)"
sign "$LR"
assert_eq "$RC" "0" "one lot released"
mapfile -t AQ < <(aliquots_of "$LQ")
mapfile -t AR < <(aliquots_of "$LR")
before=$(audit_count)

for u in alice quinn audrey adam; do
    sql_as "$u" "UPDATE fmtbank.lot SET status = 'released' WHERE lot_id = '$LQ'"
    assert_contains "$ERR" "permission denied for table lot" "$u: no direct UPDATE of a lot's state"
    sql_as "$u" "UPDATE fmtbank.aliquot SET status = 'issued' WHERE aliquot_id = '${AR[1]}'"
    assert_contains "$ERR" "permission denied for table aliquot" "$u: no direct UPDATE of an aliquot's state"
    sql_as "$u" "UPDATE fmtbank.safety_case SET status = 'closed'"
    assert_contains "$ERR" "permission denied for table safety_case" "$u: no direct UPDATE of a case"
    sql_as "$u" "UPDATE fmtbank.lookback_case SET close_reason = 'x'"
    assert_contains "$ERR" "permission denied for view lookback_case" "$u: nor through the lookback view"
    sql_as "$u" "UPDATE fmtbank.case_hold SET ended_at = now()"
    assert_contains "$ERR" "permission denied for table case_hold" "$u: no direct end of a hold"
    sql_as "$u" "INSERT INTO fmtbank.aliquot_issue (aliquot, recipient, site) SELECT id, 'R-1', 'S' FROM fmtbank.aliquot LIMIT 1"
    assert_contains "$ERR" "permission denied for table aliquot_issue" "$u: no direct INSERT of an issue"
    sql_as "$u" "SELECT fmtbank.case_hold_lots(1, ARRAY[]::uuid[])"
    assert_contains "$ERR" "permission denied for function case_hold_lots" "$u: cannot call the internal hold"
    sql_as "$u" "SELECT fmtbank.tube_unplace(id, 'issue') FROM fmtbank.aliquot LIMIT 1"
    assert_contains "$ERR" "permission denied for function tube_unplace" "$u: cannot take a tube out of its box directly"
done
assert_eq "$(audit_count)" "$before" "nothing changed"
assert_eq "$(lot_stored "$LQ"):$(lot_stored "$LR")" "quarantine:released" "states unchanged"

# A role that was given UPDATE (no application role has it) still meets the transition rules.
privileged() { # SQL...: runs SQL as a throwaway role with UPDATE on lot and aliquot, rolled back
    sql_as postgres "BEGIN;
        CREATE ROLE rel_tmp;
        GRANT USAGE ON SCHEMA fmtbank TO rel_tmp;
        GRANT SELECT, UPDATE ON fmtbank.lot, fmtbank.aliquot TO rel_tmp;
        SET SESSION AUTHORIZATION rel_tmp;
        $1;
        SELECT 'done';
        ROLLBACK;"
}
privileged "UPDATE fmtbank.lot SET status = 'released' WHERE lot_id = '$LQ'"
assert_contains "$ERR" "cannot change lot \"$LQ\" from quarantine to released" "quarantine -> released refused"
privileged "UPDATE fmtbank.lot SET status = 'ready' WHERE lot_id = '$LQ'; UPDATE fmtbank.lot SET status = 'released' WHERE lot_id = '$LQ'"
assert_contains "$ERR" "cannot release lot \"$LQ\" without a release signature" "ready -> released without a signature refused"
privileged "UPDATE fmtbank.lot SET status = 'ready' WHERE lot_id = '$LQ'"
assert_eq "$RC:$OUT" "0:done" "quarantine -> ready is a legal transition"
privileged "UPDATE fmtbank.lot SET status = 'quarantine' WHERE lot_id = '$LR'"
assert_contains "$ERR" "cannot change lot \"$LR\" from released to quarantine" "released -> quarantine refused"
privileged "UPDATE fmtbank.aliquot SET status = 'issued' WHERE aliquot_id = '${AR[1]}'"
assert_contains "$ERR" "cannot mark aliquot \"${AR[1]}\" issued without its issue record" "issued without an issue record refused"
privileged "UPDATE fmtbank.aliquot SET status = 'released' WHERE aliquot_id = '${AQ[1]}'"
assert_contains "$ERR" "cannot release aliquot \"${AQ[1]}\": its lot is not released" "a dose of an unreleased lot cannot be released"
privileged "UPDATE fmtbank.aliquot SET status = 'released' WHERE aliquot_id = '${AR[0]}'"
assert_contains "$ERR" "cannot release aliquot \"${AR[0]}\": it is the retained sample" "the retained sample is never released"
privileged "UPDATE fmtbank.aliquot SET status = 'discarded' WHERE aliquot_id = '${AR[1]}'; UPDATE fmtbank.aliquot SET status = 'released' WHERE aliquot_id = '${AR[1]}'"
assert_contains "$ERR" "cannot change aliquot \"${AR[1]}\" from discarded to released" "discarded is final"
privileged "UPDATE fmtbank.aliquot SET status = 'quarantine' WHERE aliquot_id = '${AR[2]}'"
assert_contains "$ERR" "cannot change aliquot \"${AR[2]}\" from released to quarantine" "released -> quarantine refused"
assert_eq "$(audit_count)" "$before" "all rolled back"
assert_eq "$(sql "SELECT count(*) FROM pg_roles WHERE rolname = 'rel_tmp'")" "0" "the throwaway role is gone"

# The release functions refuse PUBLIC: a login outside the application roles can call none.
sql_as postgres "CREATE ROLE rel_outsider LOGIN PASSWORD 'outsider-pass-1'"
type pgpass_add >/dev/null 2>&1 && pgpass_add rel_outsider 'outsider-pass-1'
for f in "fmtbank.release_sign('$LQ', 'x', 'y')" "fmtbank.aliquot_issue('${AR[1]}', 'R-1', 'S')" \
         "fmtbank.aliquot_thaw('${AR[1]}')" "fmtbank.lookback_close('1')" "fmtbank.sweep_release()" \
         "fmtbank.hold_add('lot', '$LQ', NULL, NULL)" "fmtbank.case_decide('C', 'lift', NULL, 'x', 1)"; do
    sql_as rel_outsider "SELECT $f"
    assert_contains "$ERR" "permission denied" "an outsider cannot call ${f%%(*}"
done
assert_eq "$(sql "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'fmtbank' AND has_function_privilege('rel_outsider', p.oid, 'EXECUTE')")" "0" \
    "no fmtbank function is executable by PUBLIC"

done_testing
