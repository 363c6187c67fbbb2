#!/usr/bin/env bash
# t0208-aliquot-pick: "aliquot pick --lot L | --donor D [--n N]" (issue 14, item 4): the doses to
# take out for an issue, first expiring first (FEFO), each with its BOX:POSITION; only what
# "scan --mode issue" accepts (released, unexpired, unheld, not thawed, never the retained
# sample, in a box); --ids is that session's input as it stands; none to propose is refused with
# what stops the doses; fewer than N are listed and exit 5; changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/inventory.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

# Three released lots of one donor, processed 37, 36 and 35 days ago (expiring in that order), and
# one in quarantine; every tube stored in one box.
rel_donor D-2081
LQ=$(rel_lot_full D-2081 50)
LR=$(rel_lot_full D-2081 35 4)
LS=$(rel_lot_full D-2081 36 2)
LC=$(rel_lot_full D-2081 37 2)
rel_panel D-2081 "$(d -40)"
rel_panel D-2081 "$(d -30)"
for l in "$LR" "$LS" "$LC"; do sign "$l"; assert_eq "$RC" "0" "lot $l released"; done
mapfile -t AR < <(aliquots_of "$LR")
mapfile -t AS < <(aliquots_of "$LS")
mapfile -t AC < <(aliquots_of "$LC")
mapfile -t AQ < <(aliquots_of "$LQ")
BOX=$(inv_box 8 12)
scan_as alice "$BOX
$(printf '%s\n' "${AR[@]}" "${AS[@]}" "${AC[@]}" "${AQ[@]}")
"
assert_eq "$RC" "0" "the tubes are stored"
assert_eq "$(sql "SELECT count(DISTINCT expires_at) FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot WHERE l.lot_id IN ('$LR', '$LS', '$LC')")" "3" "three expiry days"

# ---- the command line
expect 2 "neither --lot nor --donor" fmtbank --user alice aliquot pick
assert_contains "$ERR" "missing --lot or --donor" "names what is missing"
expect 2 "both --lot and --donor" fmtbank --user alice aliquot pick --lot "$LR" --donor D-2081
assert_contains "$ERR" "exclude each other" "says so"
expect 2 "--n not a number" fmtbank --user alice aliquot pick --lot "$LR" --n two
assert_contains "$ERR" 'invalid value "two" for --n' "names the option"
expect 2 "--n 0" fmtbank --user alice aliquot pick --lot "$LR" --n 0
expect 3 "a malformed lot ID" fmtbank --user alice aliquot pick --lot L99999999
assert_contains "$ERR" "is not a valid lot ID" "says so"
expect 4 "an unknown donor" fmtbank --user alice aliquot pick --donor D-9998

# ---- one lot: its doses by dose number, never the retained sample, with box:position
expect 0 "pick 2 of lot LR" fmtbank --user alice --format tsv aliquot pick --lot "$LR" --n 2
assert_eq "$(cut -f2 <<<"$OUT" | tail -n +2)" "$(printf '%s\n' "${AR[1]}" "${AR[2]}")" "doses 1 and 2, in order"
assert_eq "$(cut -f3 <<<"$OUT" | sed -n 2p)" "$(where "${AR[1]}")" "its BOX:POSITION"
assert_contains "$(head -1 <<<"$OUT")" "location" "a location column"
expect 0 "pick the whole lot LR" fmtbank --user alice --format tsv aliquot pick --lot "$LR" --n 4
assert_not_contains "$OUT" "${AR[0]}" "the retained sample is never proposed"
assert_eq "$(tail -n +2 <<<"$OUT" | wc -l)" "4" "the four doses"
expect 0 "default: one dose" fmtbank --user alice aliquot pick --lot "$LR" --ids
assert_eq "$OUT" "${AR[1]}" "--ids prints the ID alone"

# ---- one donor: first expiring first across lots (LC, then LS, then LR); never quarantine
expect 0 "pick 5 of the donor" fmtbank --user alice aliquot pick --donor D-2081 --n 5 --ids
assert_eq "$OUT" "$(printf '%s\n' "${AC[1]}" "${AC[2]}" "${AS[1]}" "${AS[2]}" "${AR[1]}")" "FEFO across lots"
expect 0 "json output" fmtbank --user alice --format json aliquot pick --donor D-2081 --n 1
assert_contains "$OUT" "\"id\":\"${AC[1]}\"" "the first expiring dose"
assert_contains "$OUT" "\"location\":\"$(where "${AC[1]}")\"" "with its location"

# ---- held, expired, thawed and discarded doses are never proposed
expect 0 "hold one dose of LC" fmtbank --user alice hold add --aliquot "${AC[1]}" --reason "tube label smudged"
sql "UPDATE fmtbank.aliquot SET expires_at = now() - interval '1 hour' WHERE aliquot_id = '${AS[1]}'" >/dev/null
expect 0 "thaw a dose of LS" fmtbank --user alice aliquot thaw "${AS[2]}"
expect 0 "discard a dose of LR" fmtbank --user alice aliquot discard "${AR[1]}" --reason "cap cracked"
expect 0 "pick 3 of the donor" fmtbank --user alice aliquot pick --donor D-2081 --n 3 --ids
assert_eq "$OUT" "$(printf '%s\n' "${AC[2]}" "${AR[2]}" "${AR[3]}")" "the held, expired, thawed and discarded doses are skipped"

# ---- fewer than asked: listed, exit 5; none: refused with what stops them
state=$(inv_state)
expect 5 "lot LS has nothing to propose" fmtbank --user alice aliquot pick --lot "$LS"
assert_contains "$ERR" "no dose of lot \"$LS\" can be issued now" "says so"
assert_contains "$ERR" "1 thawed" "counts the thawed dose"
assert_contains "$ERR" "1 expired" "counts the expired dose"
expect 5 "the quarantine lot has nothing to propose" fmtbank --user alice aliquot pick --lot "$LQ"
assert_contains "$ERR" "3 not released" "names why"
expect 5 "asking 10 of LR gives the 3 there are" fmtbank --user alice aliquot pick --lot "$LR" --n 10 --ids
assert_eq "$OUT" "$(printf '%s\n' "${AR[2]}" "${AR[3]}" "${AR[4]}")" "the three listed"
assert_contains "$ERR" "only 3 doses of lot \"$LR\" can be issued now, 10 asked" "says how many"
assert_eq "$(inv_state)" "$state" "picking changes nothing"

# ---- the pick feeds the issue session as it stands
expect 0 "pick 2 of the donor" fmtbank --user alice aliquot pick --donor D-2081 --n 2 --ids
picked=$OUT
scan_as alice "$picked
" --mode issue --recipient R-2081 --site "Site North"
assert_eq "$RC" "0" "scan --mode issue accepts every picked tube"
assert_eq "$(sql "SELECT string_agg(status, ',') FROM fmtbank.aliquot WHERE aliquot_id IN ('${AC[2]}', '${AR[2]}')")" "issued,issued" "both issued"
expect 0 "the next pick proposes what is left" fmtbank --user alice aliquot pick --donor D-2081 --n 1 --ids
assert_eq "$OUT" "${AR[3]}" "the issued doses are not proposed again"

done_testing
