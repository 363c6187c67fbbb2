#!/usr/bin/env bash
# t0303-issue: issuing a released dose to a recipient (recipient code and site recorded, the tube
# leaves its box as a custody event) and every refusal (not released, retained sample, expired,
# thawed, discarded, already issued, bad recipient or site, wrong role) leaving nothing changed;
# thawing (never stored or issued again); expiry shown at once and stored by the sweep.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/inventory.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

rel_donor D-4001
LQ=$(rel_lot_full D-4001 60)
LR=$(rel_lot_full D-4001 40 4)
rel_panel D-4001 "$(d -50)"
rel_panel D-4001 "$(d -30)"
sign "$LR"
assert_eq "$RC" "0" "lot released"
mapfile -t AR < <(aliquots_of "$LR")
mapfile -t AQ < <(aliquots_of "$LQ")
BOX=$(inv_box 8 12)
scan_as alice "$BOX
$(printf '%s\n' "${AR[@]}" "${AQ[@]}")
"
assert_eq "$RC" "0" "the tubes are stored"
assert_eq "$(where "${AR[1]}")" "$BOX:A2" "dose 1 in A2"

# --- issue
expect 0 "issue a released dose" fmtbank --user alice aliquot issue "${AR[1]}" --recipient r-0042 --site "City Hospital, ward 3"
assert_eq "$OUT" "${AR[1]}" "prints the aliquot ID"
assert_contains "$ERR" "issued \"${AR[1]}\" to recipient R-0042 at City Hospital, ward 3" "says to whom"
assert_eq "$(sql "SELECT status FROM fmtbank.aliquot WHERE aliquot_id = '${AR[1]}'")" "issued" "issued"
assert_eq "$(sql "SELECT recipient || '|' || site || '|' || issued_by FROM fmtbank.issue_list WHERE aliquot = '${AR[1]}'")" "R-0042|City Hospital, ward 3|alice" "the recipient code and site are recorded"
assert_eq "$(where "${AR[1]}")" "" "the tube left its box"
expect 0 "history" fmtbank --user audrey aliquot history "${AR[1]}"
assert_contains "$OUT" "issued   from $BOX:A2 to recipient R-0042 at City Hospital, ward 3  alice" "a custody event with where it came from"
expect 0 "quality may issue too" fmtbank --user quinn aliquot issue "${AR[2]}" --recipient TRIAL-07/S-113 --site "Trial site 7"

# --- refusals change nothing
state=$(inv_state)
refused() { # CODE DESCRIPTION MESSAGE CMD...
    local code=$1 desc=$2 msg=$3
    shift 3
    expect "$code" "$desc" "$@"
    assert_contains "$ERR" "$msg" "$desc: message"
    assert_eq "$(inv_state)" "$state" "$desc: nothing changed"
}
refused 5 "issued twice" "cannot issue \"${AR[1]}\": it was already issued" \
    fmtbank --user alice aliquot issue "${AR[1]}" --recipient R-0043 --site "City Hospital"
assert_contains "$ERR" "Issued to R-0042 at City Hospital, ward 3 on" "names the first issue"
refused 5 "the retained sample" "cannot issue \"${AR[0]}\": it is the retained sample of lot \"$LR\"" \
    fmtbank --user alice aliquot issue "${AR[0]}" --recipient R-0043 --site "City Hospital"
refused 5 "a dose of an unreleased lot" "cannot issue \"${AQ[1]}\": it is not released" \
    fmtbank --user alice aliquot issue "${AQ[1]}" --recipient R-0043 --site "City Hospital"
assert_contains "$ERR" "Lot \"$LQ\" is quarantine." "says the lot's state"
assert_contains "$ERR" "release sign" "and what releases it"
refused 3 "a name instead of a pseudonymous code" "invalid recipient code \"Jane Doe\"" \
    fmtbank --user alice aliquot issue "${AR[3]}" --recipient "Jane Doe" --site "City Hospital"
assert_contains "$ERR" "never a name" "hints why"
refused 3 "an empty site" "invalid site \" \"" \
    fmtbank --user alice aliquot issue "${AR[3]}" --recipient R-0043 --site " "
refused 2 "no site" "missing --site" fmtbank --user alice aliquot issue "${AR[3]}" --recipient R-0043
refused 2 "no recipient" "missing --recipient" fmtbank --user alice aliquot issue "${AR[3]}" --site S
refused 6 "an auditor" "permission denied: issuing aliquots requires the technician or quality role" \
    fmtbank --user audrey aliquot issue "${AR[3]}" --recipient R-0043 --site "City Hospital"
refused 6 "an admin" "permission denied" \
    fmtbank --user adam aliquot issue "${AR[3]}" --recipient R-0043 --site "City Hospital"
unknown=$(sql "SELECT fmtbank.with_check('L99000001-001')")
refused 4 "an unknown aliquot" "aliquot \"$unknown\" not found" \
    fmtbank --user alice aliquot issue "$unknown" --recipient R-0043 --site "City Hospital"
refused 3 "a misread ID" "invalid check character" \
    fmtbank --user alice aliquot issue "${AR[3]:0:13}Z" --recipient R-0043 --site "City Hospital"

# --- expiry: shown at once, refused, stored by the sweep
sql "UPDATE fmtbank.aliquot SET expires_at = now() - interval '1 hour' WHERE aliquot_id = '${AR[3]}'" >/dev/null
state=$(inv_state)
expect 0 "aliquot show" fmtbank --user alice --format json aliquot show "${AR[3]}"
assert_contains "$OUT" '"status":"expired"' "an expired dose shows as expired at once"
expect 0 "aliquot list --status expired" fmtbank --user alice aliquot list --status expired
assert_contains "$OUT" "$(shown "${AR[3]}")" "and is listed as expired"
refused 5 "an expired dose" "cannot issue \"${AR[3]}\": it is expired" \
    fmtbank --user alice aliquot issue "${AR[3]}" --recipient R-0043 --site "City Hospital"
assert_contains "$ERR" "It expired on" "says when"
assert_eq "$(sql "SELECT status FROM fmtbank.aliquot WHERE aliquot_id = '${AR[3]}'")" "released" "stored released until the sweep"
sql_as adam "SELECT n FROM fmtbank.sweep_release() WHERE what = 'aliquots expired'"
assert_eq "$OUT" "1" "the sweep expires it"
assert_eq "$(sql "SELECT status || ':' || (status_at = expires_at) || ':' || status_reason FROM fmtbank.aliquot WHERE aliquot_id = '${AR[3]}'")" "expired:true:shelf life ended" "stored expired, as of its expiry"
state=$(inv_state)
refused 5 "still refused once stored" "it is expired" \
    fmtbank --user alice aliquot issue "${AR[3]}" --recipient R-0043 --site "City Hospital"

# --- thaw
expect 0 "thaw a dose in stock" fmtbank --user alice aliquot thaw "${AR[4]}"
assert_contains "$ERR" "thawed \"${AR[4]}\" at" "says so"
assert_contains "$ERR" "taken from $BOX:A5" "taken out of its box"
assert_contains "$ERR" "never refreeze" "never refrozen"
assert_eq "$(where "${AR[4]}")" "" "no longer in the box"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.custody_event e JOIN fmtbank.aliquot a ON a.id = e.aliquot WHERE a.aliquot_id = '${AR[4]}' AND e.kind = 'thaw' AND e.from_prow = 1 AND e.from_pcol = 5")" "1" "a custody event"
state=$(inv_state)
refused 5 "a thawed dose cannot be issued" "cannot issue \"${AR[4]}\": it was thawed at" \
    fmtbank --user alice aliquot issue "${AR[4]}" --recipient R-0043 --site "City Hospital"
refused 5 "nor thawed again" "cannot thaw \"${AR[4]}\": it was already thawed at" \
    fmtbank --user alice aliquot thaw "${AR[4]}"
scan_as alice "$BOX
${AR[4]}
"
assert_contains "$OUT" "ERR cannot store \"${AR[4]}\": it was thawed at" "a thawed tube can never be stored again"
assert_eq "$(where "${AR[4]}")" "" "not stored"
expect 0 "thaw the issued dose at the recipient's site" fmtbank --user quinn aliquot thaw "${AR[1]}"
assert_contains "$ERR" "thawed \"${AR[1]}\" at" "says so"
assert_not_contains "$ERR" "taken from" "it was in no box"
expect 6 "an auditor cannot thaw" fmtbank --user audrey aliquot thaw "${AQ[2]}"

# --- discarded
fmtbank --user alice aliquot discard "${AQ[2]}" --reason "tube cracked" 2>/dev/null
state=$(inv_state)
refused 5 "nor a discarded one thawed" "cannot thaw \"${AQ[2]}\": it is discarded" \
    fmtbank --user alice aliquot thaw "${AQ[2]}"

expect 0 "audit trail intact" fmtbank --user audrey audit verify
done_testing
