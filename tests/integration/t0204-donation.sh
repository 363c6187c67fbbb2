#!/usr/bin/env bash
# t0204-donation: donation add: a lot ID with its check character; refused donations (donor not
# eligible at the collection time, donation-day questionnaire missing or not clear, Bristol form,
# mass) are still recorded as rejected lots with their reasons (exit 5); invalid input records
# nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
setup_db
# D-0001 and D-0003 eligible (questionnaire and panel of yesterday); D-0002 never screened.
make_eligible D-0001
make_eligible D-0003
# The donor is judged on the facts valid at the collection time as known at entry.
COLL=$(date -d '+20 seconds' '+%Y-%m-%d %H:%M:%S')
# Several donations of one donor at one time in this test: each after the first is a probable
# duplicate (duplicate_donation_minutes) registered on purpose (t0206 tests the rule itself).
ND=(--not-duplicate --reason "several donations at one time in this test")
DAY=${COLL:0:10}
yy=${DAY:2:2}
short_q D-0001 "$DAY"

expect 0 "a donation" fmtbank --user alice donation add D-0001 --collected "$COLL" --mass 180 --bristol 4
L1=$OUT
assert_eq "${L1:0:9}" "L${yy}000001" "lot ID: L, year, sequence"
assert_eq "$(sql "SELECT fmtbank.check_char('${L1:0:9}')")" "${L1:9:1}" "ends in its check character"
assert_eq "$(sql "SELECT status || ':' || mass_g || ':' || bristol || ':' || to_char(collected_at, 'YYYY-MM-DD HH24:MI:SS') || ':' || (rule_set_version IS NOT NULL) || ':' || created_by FROM fmtbank.lot")" \
    "quarantine:180.0:4:$COLL:true:alice" "recorded in quarantine with what was given and the rule set"
expect 0 "a second donation" fmtbank --user alice donation add d-0001 --collected "$COLL" --mass 62.5 --bristol 3 "${ND[@]}"
assert_eq "${OUT:0:9}" "L${yy}000002" "the next sequence number"

# Refused by a rule: the material exists, so the lot is recorded as rejected with every reason.
expect 5 "Bristol form outside the range" fmtbank --user alice donation add D-0001 --collected "$COLL" --mass 180 --bristol 6 "${ND[@]}"
LB=$OUT
assert_eq "${LB:0:9}" "L${yy}000003" "prints the rejected lot's ID (for labelling the discard)"
assert_contains "$ERR" "cannot accept the donation of donor \"D-0001\": lot \"$LB\" is recorded as rejected" "says it is refused and recorded"
assert_contains "$ERR" "bristol: Bristol stool form 6 is outside the accepted range 3 to 5." "names the rule"
assert_contains "$ERR" "Label the material with the lot ID and discard it." "says what to do"
assert_eq "$(sql "SELECT status || ':' || (reject_reasons -> 0 ->> 'rule') FROM fmtbank.lot WHERE lot_id = '$LB'")" "rejected:bristol" "rejected with the reason"
expect 5 "Bristol form too low" fmtbank --user alice donation add D-0001 --collected "$COLL" --mass 180 --bristol 2 "${ND[@]}"
expect 5 "less than one dose" fmtbank --user alice donation add D-0001 --collected "$COLL" --mass 49.9 --bristol 4 "${ND[@]}"
assert_contains "$ERR" "dose_mass_g: Mass 49.9 g is less than one dose (50 g)." "names the rule and the masses"
expect 5 "two reasons at once" fmtbank --user alice donation add D-0001 --collected "$COLL" --mass 10 --bristol 7 "${ND[@]}"
LBOTH=$OUT
assert_eq "$(sql "SELECT string_agg(r ->> 'rule', ',') FROM fmtbank.lot, jsonb_array_elements(reject_reasons) r WHERE lot_id = '$LBOTH'")" "bristol,dose_mass_g" "every reason recorded"
expect 5 "a rejected lot is not processed" fmtbank --user alice donation process "$LB" --processed "$(ts now)" --doses 1
assert_contains "$ERR" "it is rejected" "says so"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'lot' AND key = '$LB' AND op = 'INSERT'")" "1" "the rejected lot is in the audit trail"

# Eligibility and the donation-day questionnaire.
expect 5 "a donor never screened" fmtbank --user alice donation add D-0002 --collected "$COLL" --mass 180 --bristol 4
LNE=$OUT
assert_contains "$ERR" "cannot accept the donation of donor \"D-0002\": lot \"$LNE\" is recorded as rejected" "refused, recorded"
assert_contains "$ERR" "donor_eligible: Donor D-0002 is screening at the collection time" "names the donor status"
assert_contains "$ERR" "donation_questionnaire: No donation-day questionnaire is recorded for D-0002 on $DAY." "and the missing questionnaire"
assert_eq "$(sql "SELECT status || ':' || (reject_reasons @> '[{\"rule\": \"donor_eligible\"}]') || ':' || jsonb_array_length(reject_reasons) FROM fmtbank.lot WHERE lot_id = '$LNE'")" \
    "rejected:true:$(( 2 + $(sql "SELECT jsonb_array_length(reasons) FROM fmtbank.donor_status_at((SELECT id FROM fmtbank.donor WHERE code = 'D-0002'), '$COLL')") ))" \
    "the screening reasons are kept with the lot"
expect 5 "an eligible donor without the donation-day questionnaire" fmtbank --user alice donation add D-0003 --collected "$COLL" --mass 180 --bristol 4
assert_contains "$ERR" "donation_questionnaire: No donation-day questionnaire is recorded for D-0003 on $DAY." "the questionnaire is missing"
assert_not_contains "$ERR" "donor_eligible" "and that is the only reason"
short_q D-0003 "$DAY" fever_or_illness
expect 5 "a yes on the donation-day questionnaire" fmtbank --user alice donation add D-0003 --collected "$COLL" --mass 180 --bristol 4 "${ND[@]}"
assert_contains "$ERR" "donation_questionnaire: donation-day questionnaire of $DAY: yes to fever_or_illness" "names the answer"
expect 0 "the yes also defers the donor" fmtbank --user alice --format json donor show D-0003
assert_contains "$OUT" '"status":"deferred","deferred_until":"'"$(date -d "$DAY + 28 days" +%F)"'"' "deferred by the item's period"
# Part II (product.md §11.2) changed this: a donation collected yesterday is judged on the facts
# valid then (the screening of yesterday, dated 00:00) as known now, not on what had been recorded
# by then; only the donation-day questionnaire of that day is missing.
expect 5 "collected yesterday: judged on the facts valid then as known now" fmtbank --user alice --reason "typed a day late" donation add D-0001 --collected "$(d -1) 12:00" --mass 180 --bristol 4
assert_contains "$ERR" "donation_questionnaire: No donation-day questionnaire is recorded for D-0001" "rejected for the missing questionnaire of that day"
assert_not_contains "$ERR" "donor_eligible" "not for the donor's eligibility"
# Invalid input: nothing recorded.
state=$(inv_state)
expect 4 "unknown donor" fmtbank --user alice donation add D-9999 --collected "$COLL" --mass 180 --bristol 4
assert_contains "$ERR" 'donor "D-9999" not found' "names the donor"
expect 3 "bad timestamp" fmtbank --user alice donation add D-0001 --collected "27/11/2026" --mass 180 --bristol 4
assert_contains "$ERR" 'invalid timestamp "27/11/2026" for --collected' "names the field"
expect 3 "collected in the future" fmtbank --user alice donation add D-0001 --collected "$(ts '+2 hours')" --mass 180 --bristol 4
assert_contains "$ERR" "is in the future" "says so"
for m in abc 0 -5 1e3 "12,5"; do
    expect 3 "mass $m" fmtbank --user alice donation add D-0001 --collected "$COLL" --mass "$m" --bristol 4
done
assert_contains "$ERR" "invalid --mass" "names the field"
for b in 0 8 x 4.5; do
    expect 3 "Bristol $b" fmtbank --user alice donation add D-0001 --collected "$COLL" --mass 180 --bristol "$b"
done
assert_contains "$ERR" "The Bristol stool form scale runs from 1 to 7." "explains the scale"
expect 2 "missing --collected" fmtbank --user alice donation add D-0001 --mass 180 --bristol 4
expect 2 "missing --bristol" fmtbank --user alice donation add D-0001 --collected "$COLL" --mass 180
expect 2 "missing donor" fmtbank --user alice donation add --collected "$COLL" --mass 180 --bristol 4
expect 6 "quality does not register donations" fmtbank --user quinn donation add D-0001 --collected "$COLL" --mass 180 --bristol 4
assert_contains "$ERR" "registering donations requires the technician role" "names the role"
expect 6 "nor the auditor" fmtbank --user audrey donation add D-0001 --collected "$COLL" --mass 180 --bristol 4
sql_as alice "INSERT INTO fmtbank.lot (lot_id, donor_id, collected_at, mass_g, bristol) SELECT 'L260999990', id, now(), 100, 4 FROM fmtbank.donor LIMIT 1"
assert_contains "$ERR" "permission denied" "no lot through psql"
sql_as alice "UPDATE fmtbank.lot SET status = 'released'"
assert_contains "$ERR" "permission denied" "no status change through psql"
assert_eq "$(inv_state)" "$state" "invalid input changed nothing"

done_testing
