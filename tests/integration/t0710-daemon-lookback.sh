#!/usr/bin/env bash
# t0710-daemon-lookback: with the daemon running, a positive result committed through the CLI
# holds the affected lots in its own transaction; the daemon's sweep, woken by the result, never
# recalls (product.md §11.0.2): the lots stay held, not recalled - the lot in quarantine is not
# made ready, the released lot keeps its doses but none can be issued - until a quality officer's
# signed "lookback --apply" recalls them; an older lot bracketed by negatives is untouched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

rel_donor D-7001
OLD=$(rel_lot_full D-7001 70)
REL=$(rel_lot_full D-7001 40)
NEW=$(rel_lot_full D-7001 25)
rel_panel D-7001 "$(d -75)"; rel_panel D-7001 "$(d -65)"; rel_panel D-7001 "$(d -50)"
rel_panel D-7001 "$(d -38)"
sign "$OLD"
sign "$REL"
assert_eq "$(lot_stored "$REL")" "released" "the lot of d-40 is released"
mapfile -t RA < <(aliquots_of "$REL")
fmtbank --user alice aliquot issue "${RA[1]}" --recipient R-7001 --site "Site East" >/dev/null 2>&1
assert_eq "$(aliquot_states "$REL")" "quarantine,issued,released,released" "one dose issued, two in stock, retained sample kept"

start_daemon d --interval 60
wait_log "$TMP/d.log" "active daemon" 10 || not_ok "no active daemon"
wait_log "$TMP/d.log" "sweep" 10 || true
before=$(sql "select clock_timestamp()")
t0=$(now_ms)
rel_result D-7001 STEC "$(d -22)" positive >/dev/null
assert_eq "$(sql "SELECT status FROM fmtbank.lookback_case")" "open" "the positive opened a case"
assert_contains "$(lot_rules "$NEW")" "hold" "the quarantined lot of d-25 is held at once"
assert_eq "$(sql "select held from fmtbank.lot_show('$REL')")" "t" "the released lot of d-40 is held at once"
swept() { [ "$(sql "SELECT count(*) FROM fmtbank.daemon_heartbeat WHERE last_sweep > '$before'")" -gt 0 ]; }
wait_until 5 swept &&
    ok "the daemon swept after the result" || not_ok "no sweep after the result" "$(tail -5 "$TMP/d.log")"
took=$(($(now_ms) - t0))
echo "# positive result committed to the daemon's sweep: $took ms"
# Woken by the result's notification, not by the 60 s interval (room for a loaded machine).
[ "$took" -lt 30000 ] && ok "swept on the result's notification, well before the 60 s interval" || not_ok "took $took ms"
assert_eq "$(sql "SELECT status FROM fmtbank.lookback_case")" "open" "the daemon did not decide the case"
assert_eq "$(lot_stored "$NEW")" "quarantine" "held, not recalled: the lot of d-25"
assert_eq "$(lot_shown "$NEW")" "quarantine" "and not ready"
assert_eq "$(lot_stored "$REL")" "released" "held, not recalled: the released lot of d-40"
assert_eq "$(aliquot_states "$REL")" "quarantine,issued,released,released" "its doses untouched"
expect 5 "a held dose is not issued" fmtbank --user alice aliquot issue "${RA[2]}" --recipient R-7002 --site "Site East"
assert_contains "$ERR" "held by case" "names the case"

printf 'quinn-signs-1\n' >"$TMP/pw"
run_in "$TMP/pw" fmtbank --user quinn lookback D-7001 --apply --meaning "Recall: STEC positive" --password-stdin
assert_eq "$RC" "0" "quality recalls with a signature: $ERR"
assert_eq "$(lot_stored "$NEW")" "recalled" "the quarantined lot of d-25 is recalled"
assert_eq "$(lot_stored "$REL")" "recalled" "the released lot of d-40 is recalled"
assert_eq "$(aliquot_states "$REL")" "quarantine,issued,recalled,recalled" "its doses in stock recalled, the issued one left to notify"
assert_eq "$(lot_stored "$OLD")" "released" "the lot of d-70, bracketed by negatives, is untouched"
expect 0 "the lookback lists whom to notify" fmtbank --user quinn --format json lookback D-7001
assert_contains "$OUT" "R-7001" "recipient listed"
assert_contains "$OUT" "Site East" "site listed"

done_testing
