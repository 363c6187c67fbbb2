#!/usr/bin/env bash
# t0710-daemon-lookback: with the daemon running, a positive result committed through the CLI is
# held automatically within 2 s: the case is applied, the lot in quarantine recalled, the
# released lot and its doses in stock recalled, the issued dose listed; an older lot bracketed
# by negatives is untouched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

rel_donor D-7001
OLD=$(rel_lot_full D-7001 50)
REL=$(rel_lot_full D-7001 20)
NEW=$(rel_lot_full D-7001 5)
rel_panel D-7001 "$(d -55)"; rel_panel D-7001 "$(d -45)"; rel_panel D-7001 "$(d -30)"
rel_panel D-7001 "$(d -18)"
sign "$OLD"
sign "$REL"
assert_eq "$(lot_stored "$REL")" "released" "the lot of d-20 is released"
mapfile -t RA < <(aliquots_of "$REL")
fmtbank --user alice aliquot issue "${RA[1]}" --recipient R-7001 --site "Site East" >/dev/null 2>&1
assert_eq "$(aliquot_states "$REL")" "quarantine,issued,released,released" "one dose issued, two in stock, retained sample kept"

start_daemon d --interval 60
wait_log "$TMP/d.log" "active daemon" 10 || not_ok "no active daemon"
wait_log "$TMP/d.log" "sweep" 10 || true
t0=$(now_ms)
rel_result D-7001 STEC "$(d -2)" positive >/dev/null
case_applied() { [ "$(sql "SELECT status FROM fmtbank.lookback_case")" = applied ]; }
wait_until 5 case_applied &&
    ok "the daemon applied the case" || not_ok "case not applied" "$(tail -5 "$TMP/d.log")"
took=$(($(now_ms) - t0))
echo "# positive result committed to hold applied by the daemon: $took ms"
# Woken by the result's notification, not by the 60 s interval (room for a loaded machine).
[ "$took" -lt 30000 ] && ok "held on the result's notification, well before the 60 s interval" || not_ok "took $took ms"
assert_eq "$(lot_stored "$NEW")" "recalled" "the quarantined lot of d-5 is recalled"
assert_eq "$(lot_stored "$REL")" "recalled" "the released lot of d-20 is recalled"
assert_eq "$(aliquot_states "$REL")" "quarantine,issued,recalled,recalled" "its doses in stock recalled, the issued one left to notify"
assert_eq "$(lot_stored "$OLD")" "released" "the lot of d-50, bracketed by negatives, is untouched"
wait_log "$TMP/d.log" "lookback" 5 && ok "the sweep logged the lookback" || not_ok "no lookback log line"
expect 0 "the lookback lists whom to notify" fmtbank --user quinn --format json lookback D-7001
assert_contains "$OUT" "R-7001" "recipient listed"
assert_contains "$OUT" "Site East" "site listed"

done_testing
