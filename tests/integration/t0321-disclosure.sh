#!/usr/bin/env bash
# t0321-disclosure: answers recorded after a donation reach the stock through the CLI (product.md
# §11.0 disclosure and followup, §11.1 the post-donation health check): "questionnaire record
# --followup" and "--time" and their refusals; a date disclosed on a later full questionnaire
# holds the released lot in the same command (its issued dose listed for notification); a yes on
# the follow-up questionnaire opens a followup case, defers the donor and blocks release; the
# check passes only with a clear follow-up 28 days after collection. The windows at their edges
# are tests/sql/sql/disclosure.sql.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db
jcount() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$1"; }

# --- the options
write_followup "$TMP/fu.csv"
expect 2 "--short and --followup together" \
    fmtbank --user alice questionnaire record D-0001 --date "$(d -1)" --short --followup --file "$TMP/fu.csv"
assert_contains "$ERR" "--short and --followup exclude each other" "says which"
rel_donor D-8001
expect 3 "a time that is not HH:MM" \
    fmtbank --user alice questionnaire record D-8001 --date "$(d -1)" --time 25:00 --followup --file "$TMP/fu.csv"
assert_contains "$ERR" 'invalid --time "25:00"' "names the option"
write_short "$TMP/short.csv"
expect 3 "a donation-day item on the follow-up questionnaire" \
    fmtbank --user alice questionnaire record D-8001 --date "$(d -1)" --followup --file "$TMP/short.csv"
assert_contains "$ERR" 'belongs to the donation-day (--short) questionnaire' "names the line's problem"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.questionnaire q JOIN fmtbank.donor d ON d.id = q.donor_id
                  WHERE d.code = 'D-8001'")" "0" "nothing recorded"
expect 0 "a donation-day questionnaire at a time" \
    fmtbank --user alice questionnaire record D-8001 --date "$(d -1)" --time 08:10 --short --file "$TMP/short.csv"
expect 0 "listed with its time" fmtbank --user alice --format json questionnaire list D-8001
assert_contains "$OUT" '"kind":"donation-day"' "its kind"
assert_contains "$OUT" '"time":"08:10"' "its time"

# --- a released lot with an issued dose; a later full questionnaire discloses COVID-19
rel_donor D-8002
L1=$(rel_lot_full D-8002 40)
rel_panel D-8002 "$(d -50)"; rel_panel D-8002 "$(d -30)"
sign "$L1"; assert_eq "$RC" "0" "L1 released (its follow-up of d-12 is clear)"
mapfile -t A1 < <(aliquots_of "$L1")
fmtbank --user alice aliquot issue "${A1[1]}" --recipient R-0801 --site "Site West" >/dev/null
write_full "$TMP/full.csv" "covid_last=$(d -45)"
expect 0 "a re-screen questionnaire: COVID-19 contact on d-45" \
    fmtbank --user alice questionnaire record D-8002 --date "$(d 0)" --file "$TMP/full.csv"
expect 0 "the disclosure case" fmtbank --user quinn --format json case list --source disclosure
assert_eq "$(jcount "$OUT")" "1" "one case"
assert_contains "$OUT" "covid_last $(d -45) on the full questionnaire of $(d 0)" "names the answer"
assert_contains "$OUT" "the lots collected from $(d -73) to $(d -18)" "and the window"
C1=$(sql "SELECT case_code FROM fmtbank.safety_case WHERE source = 'disclosure'")
expect 0 "lot show" fmtbank --user alice --format json lot show "$L1"
assert_contains "$OUT" '"held" : true' "the released lot is held at once"
assert_contains "$OUT" "\"case\": \"$C1\"" "by the case"
expect 5 "its next dose is not issued" \
    fmtbank --user alice aliquot issue "${A1[2]}" --recipient R-0802 --site "Site West"
assert_contains "$ERR" "held by case $C1" "naming the case"
expect 0 "case show" fmtbank --user quinn --format json case show "$C1"
assert_contains "$OUT" "R-0801" "the recipient of the issued dose is listed for notification"

# --- a yes on the follow-up questionnaire
rel_donor D-8003
L3=$(rel_lot_full D-8003 20)
rel_panel D-8003 "$(d -30)"; rel_panel D-8003 "$(d -10)"
assert_contains "$(lot_rules "$L3")" "post_donation_check" "a lot of d-20 waits for its follow-up"
write_followup "$TMP/fu-yes.csv" followup_fever=yes
expect 0 "a follow-up with a fever" \
    fmtbank --user alice questionnaire record D-8003 --date "$(d 0)" --followup --file "$TMP/fu-yes.csv"
expect 0 "the followup case" fmtbank --user quinn --format json case list --source followup
assert_contains "$OUT" "yes to followup_fever on the follow-up questionnaire of $(d 0)" "names the answer"
assert_eq "$(lot_rules "$L3")" "post_donation_check,hold" "held, and the check not passed"
expect 0 "donor show" fmtbank --user alice --format json donor show D-8003
assert_contains "$OUT" '"status":"deferred"' "the donor is deferred by the item"

done_testing
