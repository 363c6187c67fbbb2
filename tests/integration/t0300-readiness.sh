#!/usr/bin/env bash
# t0300-readiness: release readiness (the sandwich, domain.md Timing) through "lot show",
# "release check" and "lot list": the pre- and post-donation windows at their edges (day 60 in,
# day 61 out; the collection day belongs to the pre window, the day after to the post window),
# partial panels, unacceptable results between the panels (and a retest that resolves one, and
# one after the post panel that does not count), processing, the donation-day questionnaire, a
# manual exclusion; the displayed status is never stale and the sweep stores it; rule changes
# un-ready a lot and put released stock on "release review".
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

# --- the pre window: [cd - 60, cd]
L=$(new_lot D-1002 20); rel_panel D-1002 "$(d -80)"; rel_panel D-1002 "$(d -5)"
assert_eq "$(lot_rules "$L")" "" "pre panel on day cd-60 (the window's first day) counts"
L=$(new_lot D-1003 20); rel_panel D-1003 "$(d -81)"; rel_panel D-1003 "$(d -5)"
assert_eq "$(lot_rules "$L")" "pre_panel" "pre panel on day cd-61 does not"
assert_eq "$(lot_detail "$L" pre_panel)" "no acceptable result of the 40 required tests collected from $(d -80) to $(d -20)" "pre_panel detail names the window"
expect 5 "release check of a lot without pre panel" fmtbank --user alice release check "$L"
assert_contains "$ERR" "lot \"$L\" is not releasable" "refused with the lot"
assert_contains "$OUT" "pre_panel  no acceptable result of the 40 required tests" "the rule listed in the table"
L=$(new_lot D-1004 20); rel_panel D-1004 "$(d -20)"; rel_panel D-1004 "$(d -5)"
assert_eq "$(lot_rules "$L")" "" "pre panel collected on the collection day counts"

# --- the post window: (cd, cd + 60]
L=$(new_lot D-1005 20); rel_panel D-1005 "$(d -30)"; rel_panel D-1005 "$(d -20)"
assert_eq "$(lot_rules "$L")" "post_panel" "a panel on the collection day is not a post-donation panel"
assert_eq "$(lot_detail "$L" post_panel)" "no acceptable result of the 40 required tests collected from $(d -19) to $(d 40) (the window is open until $(d 40))" "post_panel detail: window open"
L=$(new_lot D-1006 20); rel_panel D-1006 "$(d -30)"; rel_panel D-1006 "$(d -19)"
assert_eq "$(lot_rules "$L")" "" "post panel on day cd+1 counts"
L=$(new_lot D-1007 70); rel_panel D-1007 "$(d -80)"; rel_panel D-1007 "$(d -10)"
assert_eq "$(lot_rules "$L")" "" "post panel on day cd+60 (the window's last day) counts"
L=$(new_lot D-1008 70); rel_panel D-1008 "$(d -80)"; rel_panel D-1008 "$(d -9)"
assert_eq "$(lot_rules "$L")" "post_panel" "post panel on day cd+61 does not"
assert_contains "$(lot_detail "$L" post_panel)" "(the window closed on $(d -10))" "post_panel detail: window closed"
L=$(new_lot D-1009 20); rel_panel D-1009 "$(d -30)"; rel_panel D-1009 "$(d -10)" CRP MRSA
assert_eq "$(lot_detail "$L" post_panel)" "no acceptable CRP, MRSA result collected from $(d -19) to $(d 40) (the window is open until $(d 40))" "partial post panel names the missing tests"

# --- unacceptable results between the panels
L10=$(new_lot D-1010 20); rel_panel D-1010 "$(d -50)"; rel_panel D-1010 "$(d -10)"
rel_result D-1010 NORO "$(d -30)" positive >/dev/null
assert_eq "$(lot_rules "$L10")" "unacceptable_result,lookback" "a positive 10 days before the donation, not retested, blocks"
assert_eq "$(lot_detail "$L10" unacceptable_result)" "NORO positive collected $(d -30), between the pre- and post-donation results ($(d -50) to $(d -10))" "names the result and the sandwich"
# retested negative before the donation: the sandwich passes; the lookback case still holds the
# lot (it holds every lot collected since) until a quality officer closes it
L=$(new_lot D-1011 20); rel_panel D-1011 "$(d -50)"; rel_panel D-1011 "$(d -10)"
rel_result D-1011 NORO "$(d -30)" positive >/dev/null
rel_result D-1011 NORO "$(d -25)" negative >/dev/null
assert_eq "$(lot_rules "$L")" "lookback" "a retest before the donation resolves it; the open lookback case still holds the lot"
case11=$(sql "SELECT c.id FROM fmtbank.lookback_case c JOIN fmtbank.donor d ON d.id = c.donor_id WHERE d.code = 'D-1011'")
expect 0 "quality closes the case" fmtbank --user quinn lookback close "$case11" --reason "retest negative before the donation"
assert_eq "$(lot_rules "$L")" "" "then the lot is releasable"
# unacceptable result after the post-donation result of the same test, beyond lookback_min_days:
# neither the sandwich nor the lookback holds the lot
L=$(new_lot D-1012 60); rel_panel D-1012 "$(d -80)"; rel_panel D-1012 "$(d -55)"
rel_result D-1012 NORO "$(d -20)" positive >/dev/null
assert_eq "$(lot_rules "$L")" "" "a positive 40 days after the donation, after the post panel, holds nothing"
# ... within lookback_min_days (28) of the donation: the lookback holds it
L=$(new_lot D-1013 30); rel_panel D-1013 "$(d -40)"; rel_panel D-1013 "$(d -25)"
rel_result D-1013 NORO "$(d -10)" positive >/dev/null
assert_eq "$(lot_rules "$L")" "lookback" "a positive 20 days after the donation is held by the lookback"
assert_contains "$(lot_detail "$L" lookback)" "NORO positive collected $(d -10) holds the lots collected from $(d -38) on" "from 28 days before the positive"
# acceptable and unacceptable the same day: cannot tell which came first
L=$(new_lot D-1014 20); rel_panel D-1014 "$(d -25)"; rel_panel D-1014 "$(d -10)"
rel_result D-1014 CDIFF "$(d -25)" positive >/dev/null
assert_contains "$(lot_rules "$L")" "unacceptable_result" "a positive on the same day as the negative blocks"
# an out-of-limit number is unacceptable too
L=$(new_lot D-1020 20); rel_panel D-1020 "$(d -30)"; rel_panel D-1020 "$(d -10)"
rel_result D-1020 CALPRO "$(d -15)" 75 "µg/g" >/dev/null
assert_contains "$(lot_detail "$L" unacceptable_result)" "CALPRO 75 µg/g collected $(d -15)" "a calprotectin over its limit blocks"

# --- processing, questionnaire, exclusion
rel_donor D-1015; rel_short D-1015 "$(d -20)"; L=$(rel_lot D-1015 "$(d -20) 08:30")
rel_panel D-1015 "$(d -30)"; rel_panel D-1015 "$(d -10)"
assert_eq "$(lot_rules "$L")" "processing" "an unprocessed lot is not releasable"
assert_eq "$(lot_detail "$L" processing)" "not processed yet" "says so"
rel_donor D-1016; L=$(rel_lot D-1016 "$(d -20) 08:30"); rel_process "$L" "$(d -20) 10:00" 2 >/dev/null
rel_panel D-1016 "$(d -30)"; rel_panel D-1016 "$(d -10)"
assert_eq "$(lot_detail "$L" donation_questionnaire)" "no donation-day questionnaire recorded for $(d -20)" "a lot without donation-day questionnaire"
rel_donor D-1017; rel_short D-1017 "$(d -20)" fever_or_illness=yes; L=$(rel_lot D-1017 "$(d -20) 08:30")
rel_process "$L" "$(d -20) 10:00" 2 >/dev/null; rel_panel D-1017 "$(d -30)"; rel_panel D-1017 "$(d -10)"
assert_eq "$(lot_detail "$L" donation_questionnaire)" "donation-day questionnaire of $(d -20): yes to fever_or_illness" "a yes on the donation-day questionnaire"
L18=$(new_lot D-1018 20); rel_panel D-1018 "$(d -30)"; rel_panel D-1018 "$(d -10)"
assert_eq "$(lot_rules "$L18")" "" "ready before the exclusion"
fmtbank --user quinn donor exclude D-1018 --reason "new information from the donor's GP" 2>/dev/null
assert_eq "$(lot_rules "$L18")" "donor_excluded" "a manual exclusion blocks the donor's stock"
assert_contains "$(lot_detail "$L18" donor_excluded)" "donor excluded by quinn on $(d 0): new information from the donor's GP" "names who and why"

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
assert_contains "$OUT" "$L10  D-1010  quarantine" "the table shows the lot"
assert_contains "$OUT" "unacceptable_result, lookback" "and its blocking rules"

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
L19=$(new_lot D-1019 20); rel_panel D-1019 "$(d -30)"; rel_panel D-1019 "$(d -10)"
sign "$L19"
assert_eq "$RC" "0" "a lot is released"
expect 0 "release review is empty" fmtbank --user quinn release review
assert_contains "$OUT" "(0 rows)" "nothing to review"
expect 0 "admin lowers the CRP limit below the banked results" fmtbank --user adam rules set limit.CRP 1 --reason "new assay"
assert_eq "$(lot_shown "$L19")" "released" "the released lot stays released"
expect 0 "release review" fmtbank --user quinn --format json release review
assert_contains "$OUT" "\"lot\":\"$L19\"" "lists the released lot"
assert_contains "$OUT" "\"in_stock\":3" "with its 3 doses in stock"
assert_contains "$OUT" "CRP 1.5 mg/L collected $(d -30)" "and the result the new rule refuses"
assert_not_contains "$OUT" "\"rule\": \"status\"" "not its released status"
assert_not_contains "$OUT" "\"lot\":\"$L1\"" "lots not released are not listed"
assert_eq "$(lot_rules "$L1")" "pre_panel,post_panel,unacceptable_result,unacceptable_result" "an unreleased lot is no longer releasable"

done_testing
