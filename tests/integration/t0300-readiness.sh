#!/usr/bin/env bash
# t0300-readiness: release readiness (the sandwich, domain.md Timing) through "lot show",
# "release check" and "lot list" (the rule scenarios are in tests/sql/sql/readiness.sql): the
# displayed status is never stale and the sweep stores it; rule changes un-ready a lot and put
# released stock on "release review"; rejected, unknown and malformed lots.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

# One donor per scenario: donor CODE, lot collected CD days ago (questionnaire, processing).
new_lot() { rel_donor "$1" && rel_lot_full "$1" "$2"; }

# --- baseline: pre panel 10 days before, post panel 15 days after
L1=$(new_lot D-1001 30)
rel_panel D-1001 "$(d -40)"
rel_panel D-1001 "$(d -15)"
expect 0 "release check of a complete sandwich" fmtbank --user alice --format json release check "$L1"
assert_contains "$ERR" "lot \"$L1\" is releasable" "says releasable"
json=$OUT
for f in '"lot" : "'"$L1"'"' '"donor" : "D-1001"' '"status" : "ready"' '"blocking" : []' '"aliquots" : 4'; do
    assert_contains "$json" "$f" "release check JSON has $f"
done
assert_eq "$(lot_stored "$L1")" "quarantine" "stored status still quarantine (no sweep yet)"
expect 0 "lot show" fmtbank --user audrey lot show "$L1"
assert_contains "$OUT" "status         ready" "shown ready at once: never stale"
assert_contains "$OUT" "blocking       nothing: releasable" "nothing blocks"
expect 0 "lot list --status ready" fmtbank --user alice --format json lot list --status ready
assert_contains "$OUT" "\"lot\":\"$L1\"" "listed as ready"

# The windows at their edges, unacceptable results, processing, the donation-day questionnaire
# and exclusions are scenarios of the SQL regression layer (tests/sql/sql/readiness.sql); here
# the CLI contract of a refused release check and of the lot list.
L=$(new_lot D-1003 40); rel_panel D-1003 "$(d -101)"; rel_panel D-1003 "$(d -25)"
assert_eq "$(lot_rules "$L")" "pre_panel" "pre panel on day cd-61 does not count"
expect 5 "release check of a lot without pre panel" fmtbank --user alice release check "$L"
assert_contains "$ERR" "lot \"$L\" is not releasable" "refused with the lot"
assert_contains "$OUT" "pre_panel  no acceptable result of the 40 required tests" "the rule listed in the table"
L10=$(new_lot D-1010 40); rel_panel D-1010 "$(d -70)"; rel_panel D-1010 "$(d -30)"
rel_result D-1010 NORO "$(d -50)" positive >/dev/null
assert_eq "$(lot_rules "$L10")" "unacceptable_result,hold" "a positive between the panels blocks"

# --- a rejected lot shows its reasons
rel_donor D-1021
sql "INSERT INTO fmtbank.lot (lot_id, donor_id, collected_at, mass_g, bristol, status, reject_reasons)
     SELECT fmtbank.lot_next_id(now()), id, now() - interval '3 days', 20, 7, 'rejected',
            '[{\"rule\": \"bristol\", \"detail\": \"Bristol 7\"}]' FROM fmtbank.donor WHERE code = 'D-1021'" >/dev/null
LR=$(sql "SELECT lot_id FROM fmtbank.lot l JOIN fmtbank.donor d ON d.id = l.donor_id WHERE d.code = 'D-1021'")
assert_eq "$(lot_shown "$LR")" "rejected" "a rejected lot shows as rejected"
assert_eq "$(lot_detail "$LR" status)" "rejected: bristol" "with its reasons"
expect 5 "release check of a rejected lot" fmtbank --user alice release check "$LR"

# --- unknown and malformed lots
unknown=$(sql "SELECT fmtbank.with_check('L99000001')")
expect 4 "unknown lot" fmtbank --user alice lot show "$unknown"
assert_contains "$ERR" "lot \"$unknown\" not found" "names it"
expect 3 "bad check character" fmtbank --user alice release check L260000019
assert_contains "$ERR" "invalid check character in lot ID" "says so"
expect 2 "lot show without a lot" fmtbank --user alice lot show
expect 2 "lot list with an unknown state" fmtbank --user alice lot list --status gone
expect 0 "lot list table" fmtbank --user alice lot list
assert_contains "$OUT" "$(shown "$L10")  D-1010  quarantine" "the table shows the lot"
assert_contains "$OUT" "unacceptable_result, hold" "and its blocking rules"

# --- the sweep stores what is shown
sql_as alice "SELECT * FROM fmtbank.sweep_release()"
assert_contains "$ERR" "permission denied: running the release sweep requires the quality, admin or daemon role" "says who may"
n_ready=$(sql "SELECT count(*) FROM fmtbank.lot_state WHERE status = 'ready'")
sql_as quinn "SELECT what || '=' || n FROM fmtbank.sweep_release() WHERE what LIKE 'lots%ready'"
assert_contains "$OUT" "lots ready=$n_ready" "the sweep makes every releasable lot ready"
assert_eq "$(lot_stored "$L1")" "ready" "stored ready"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.lot WHERE status = 'ready'")" "$n_ready" "exactly those"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'lot' AND reason = 'release sweep: release readiness'")" "$n_ready" "each change audited with the sweep's reason"
sql_as quinn "SELECT what || '=' || n FROM fmtbank.sweep_release() WHERE what LIKE 'lots%ready'"
assert_contains "$OUT" "lots ready=0" "a second sweep changes nothing"

# --- a rule change un-readies a lot at once
expect 0 "admin lowers max_processing_hours" fmtbank --user adam rules set max_processing_hours 1 --reason "validation of the new protocol"
assert_eq "$(lot_rules "$L1")" "processing" "the ready lot processed 90 min after collection is blocked at once"
assert_contains "$(lot_detail "$L1" processing)" "processed 1 h 30 min after collection" "with the time"
assert_contains "$(lot_detail "$L1" processing)" "the limit is 1 h" "and the new limit"
assert_eq "$(lot_shown "$L1")" "quarantine" "shown quarantine although stored ready"
sql_as quinn "SELECT what || '=' || n FROM fmtbank.sweep_release() WHERE what = 'lots no longer ready'"
assert_eq "$OUT" "lots no longer ready=$n_ready" "the sweep puts every ready lot back in quarantine"
assert_eq "$(lot_stored "$L1")" "quarantine" "stored quarantine"
expect 0 "admin restores it" fmtbank --user adam rules set max_processing_hours 6 --reason "protocol withdrawn"
assert_eq "$(lot_shown "$L1")" "ready" "ready again"

# --- released stock under a new rule: release review
L19=$(new_lot D-1019 40); rel_panel D-1019 "$(d -50)"; rel_panel D-1019 "$(d -30)"
sign "$L19"
assert_eq "$RC" "0" "a lot is released"
expect 0 "release review is empty" fmtbank --user quinn release review
assert_contains "$OUT" "(0 rows)" "nothing to review"
expect 0 "admin lowers the CRP limit below the banked results" fmtbank --user adam rules set limit.CRP 1 --reason "new assay"
assert_eq "$(lot_shown "$L19")" "released" "the released lot stays released"
expect 0 "release review" fmtbank --user quinn --format json release review
assert_contains "$OUT" "\"lot\":\"$L19\"" "lists the released lot"
assert_contains "$OUT" "\"in_stock\":3" "with its 3 doses in stock"
assert_contains "$OUT" "CRP 1.5 mg/L collected $(d -50)" "and the result the new rule refuses"
assert_not_contains "$OUT" "\"rule\": \"status\"" "not its released status"
assert_not_contains "$OUT" "\"lot\":\"$L1\"" "lots not released are not listed"
assert_eq "$(lot_rules "$L1")" "pre_panel,post_panel,unacceptable_result,unacceptable_result" "an unreleased lot is no longer releasable"

done_testing
