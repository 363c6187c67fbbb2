#!/usr/bin/env bash
# t0304-lookback: lookback and recall, precise both ways. A positive result holds the donor's
# lots collected since the last acceptable result of the same test before it, and at least
# lookback_min_days (28) back - each edge tested on the day before (not held) and the day itself
# (held) - and every lot when there is no earlier acceptable result. Issued doses are listed with
# recipient and site; held lots can be neither released nor issued; the sweep never recalls;
# applying (quality, signed: "case decide --recall" for each open case) recalls lots and doses in
# stock; a correction that creates an unacceptable result opens a case, one that withdraws it
# marks the case "signal withdrawn - lift proposed" and the holds stay until quality lifts them;
# cases are closed by quality with a reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

release_now() { # LOT: signs it; fails the test when it cannot
    sign "$1"
    [ "$RC" -eq 0 ] || not_ok "could not release $1" "$ERR"
}
issue() { fmtbank --user alice aliquot issue "$1" --recipient "$2" --site "$3" >/dev/null 2>"$TMP/issue.err" || cat "$TMP/issue.err"; }
apply() { # USER [lookback options]: lookback --apply signed with the user's password
    local u=$1
    shift
    printf '%s\n' "$u-signs-1" >"$TMP/pw"
    run_in "$TMP/pw" fmtbank --user "$u" "$@" --apply --meaning "Recall on lookback" --password-stdin
}

# --- donor A: lookback_min_days decides. Negatives d-40 and d-30, ESBL positive d-10:
#     hold_from = LEAST(d-30, d-10 - 28 = d-38) = d-38.
rel_donor D-5001
A1=$(rel_lot_full D-5001 59); A2=$(rel_lot_full D-5001 58); A3=$(rel_lot_full D-5001 55)
A4=$(rel_lot_full D-5001 35)
rel_panel D-5001 "$(d -60)"; rel_panel D-5001 "$(d -50)"
for l in "$A1" "$A2" "$A3"; do release_now "$l"; done
mapfile -t AL1 < <(aliquots_of "$A1"); mapfile -t AL2 < <(aliquots_of "$A2"); mapfile -t AL3 < <(aliquots_of "$A3")
issue "${AL1[1]}" R-0101 "Site North"
issue "${AL2[1]}" R-0102 "Site South"
assert_eq "$(lot_shown "$A4")" "quarantine" "A4 waits for its post-donation panel"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.lookback_case")" "0" "no case while every result is acceptable"

rel_result D-5001 ESBL "$(d -30)" positive >/dev/null
assert_eq "$(sql "SELECT count(*) || ':' || min(status) || ':' || min(outcome) FROM fmtbank.lookback_case")" "1:open:positive" "the positive opened a case"
CA=$(sql "SELECT case_code FROM fmtbank.lookback_case")
expect 0 "preview (a technician may look)" fmtbank --user alice --format json lookback D-5001
prev=$OUT
assert_contains "$prev" "\"hold_from\":\"$(d -58)\"" "holds from 28 days before the positive"
assert_not_contains "$prev" "\"lot\":\"$A1\"" "A1 (collected d-39, bracketed by negatives) is not held"
for l in "$A2" "$A3" "$A4"; do assert_contains "$prev" "\"lot\":\"$l\"" "lot $l is held"; done
assert_contains "$prev" "\"aliquot\":\"${AL2[1]}\",\"aliquot_status\":\"issued\",\"action\":\"notify recipient\",\"recipient\":\"R-0102\",\"site\":\"Site South\"" "the issued dose of a held lot is listed with recipient and site"
assert_not_contains "$prev" "R-0101" "the recipient of the lot not held is not"
assert_contains "$prev" "\"aliquot\":\"${AL2[0]}\",\"aliquot_status\":\"quarantine\",\"action\":\"keep (retained sample, for testing)\"" "the retained sample is kept for testing"
assert_eq "$(lot_stored "$A2"):$(lot_stored "$A4")" "released:quarantine" "a preview changes nothing"

# held, not applied yet: neither released nor issued
state=$(audit_count)
expect 5 "a held released dose cannot be issued" fmtbank --user alice aliquot issue "${AL3[1]}" --recipient R-0103 --site "Site East"
assert_contains "$ERR" "held by case $CA" "says which case"
rel_panel D-5001 "$(d -25)"   # a complete post panel for A4 (ESBL negative after the positive)
state=$(audit_count)
sign "$A4"
assert_eq "$RC" "5" "a held lot cannot be released"
assert_contains "$ERR" "the lot is held by case $CA" "because of the case"
assert_eq "$(audit_count)" "$state" "nothing changed"

apply alice lookback D-5001
assert_eq "$RC" "6" "a technician cannot apply"
expect 2 "--apply needs --meaning" fmtbank --user quinn lookback D-5001 --apply --password-stdin
apply quinn lookback D-5001 --test XYZ
assert_eq "$RC" "3" "unknown test"
apply quinn lookback D-5001 --test SALM
assert_eq "$RC" "5" "no open case for another test"
assert_contains "$ERR" "donor \"D-5001\" has no open lookback case for test \"SALM\"" "says so"
expect 4 "unknown donor" fmtbank --user quinn lookback D-9999
apply quinn --format json lookback D-5001 --test esbl
assert_eq "$RC" "0" "quality applies: $ERR"
assert_contains "$OUT" "\"lot\":\"$A2\",\"lot_collected\"" "the applied items are printed"
assert_eq "$(lot_stored "$A1"),$(lot_stored "$A2"),$(lot_stored "$A3"),$(lot_stored "$A4")" "released,recalled,recalled,recalled" "held lots recalled, A1 untouched"
assert_eq "$(aliquot_states "$A1")" "quarantine,issued,released,released" "A1's doses untouched"
assert_eq "$(aliquot_states "$A2")" "quarantine,issued,recalled,recalled" "A2: doses in stock recalled, the issued one stays issued, the retained sample kept"
assert_eq "$(aliquot_states "$A4")" "quarantine,recalled,recalled,recalled" "A4 (in quarantine): its doses recalled"
assert_eq "$(sql "SELECT status || ':' || hold_from || ':' || applied_by FROM fmtbank.lookback_case WHERE case_code = '$CA'")" "applied:$(d -58):quinn" "the case is applied, with its hold_from"
assert_eq "$(sql "SELECT decision || ':' || signed_by || ':' || meaning FROM fmtbank.case_decision")" "recall:quinn:Recall on lookback" "by quinn's signed decision"
assert_eq "$(sql "SELECT string_agg(action || '=' || n, ',' ORDER BY action) FROM (SELECT action, count(*) n FROM fmtbank.lookback_hold GROUP BY action) x")" \
    "notify=1,recall_aliquot=8,recall_lot=3" "what was done is recorded"
assert_eq "$(sql "SELECT recipient || '@' || site FROM fmtbank.lookback_hold WHERE action = 'notify'")" "R-0102@Site South" "who must be told"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'lot' AND reason = 'case $CA: recall (Recall on lookback)'")" "3" "the recall is in the audit trail"
expect 5 "a recalled dose cannot be issued" fmtbank --user alice aliquot issue "${AL3[1]}" --recipient R-0103 --site "Site East"
assert_contains "$ERR" "cannot issue \"${AL3[1]}\": it is recalled" "says so"
sign "$A4"
assert_eq "$RC" "5" "a recalled lot cannot be released"
assert_contains "$ERR" "status: recalled by case $CA" "because it is recalled"
apply quinn lookback D-5001
assert_eq "$RC" "5" "applying again"
assert_contains "$ERR" "has no open lookback case" "nothing left to apply"
expect 0 "the applied case still lists who to notify" fmtbank --user alice lookback D-5001
assert_contains "$OUT" "issued      notify recipient" "in the table"
assert_contains "$OUT" "R-0102     Site South" "with recipient and site"

# --- donor B: the last acceptable result decides. SALM negatives d-90 and d-60 (full panels),
#     SALM positive d-20 imported: hold_from = LEAST(d-60, d-48) = d-60.
rel_donor D-5002
B1=$(rel_lot_full D-5002 81); B2=$(rel_lot_full D-5002 80)
rel_panel D-5002 "$(d -110)"; rel_panel D-5002 "$(d -80)"
release_now "$B1"
printf 'donor,test,collected,result,unit,lab\nD-5002,SALM,%s,positive,,Lab B\n' "$(d -40)" >"$TMP/pos.csv"
expect 0 "a positive through result import" fmtbank --user alice result import "$TMP/pos.csv"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.lookback_case c JOIN fmtbank.donor d ON d.id = c.donor_id WHERE d.code = 'D-5002' AND c.status = 'open'")" "1" "opens a case too"

# --- donor C: no acceptable VRE ever before the positive: every lot held
rel_donor D-5003
C1=$(rel_lot_full D-5003 320); C2=$(rel_lot_full D-5003 90)
rel_panel D-5003 "$(d -120)" VRE; rel_panel D-5003 "$(d -70)" VRE
rel_result D-5003 VRE "$(d -25)" positive >/dev/null
expect 0 "preview of donor C" fmtbank --user quinn lookback D-5003
assert_contains "$OUT" "$(shown "$C1")" "a lot collected 300 days ago is held"
assert_contains "$OUT" "all" "hold_from: all"

# --- the sweep never recalls: held, not recalled, until quality applies
sql_as quinn "SELECT what || '=' || n FROM fmtbank.sweep_release() WHERE what LIKE 'lookback%' OR what LIKE '%recalled'"
assert_eq "$RC:$OUT" "0:" "the sweep runs and recalls nothing"
assert_eq "$(lot_stored "$B2"),$(lot_stored "$C1"),$(lot_stored "$C2")" "quarantine,quarantine,quarantine" "B2, C1, C2 held in quarantine"
assert_eq "$(lot_shown "$B2")" "quarantine" "not made ready"
apply quinn lookback D-5002
assert_eq "$RC" "0" "quality applies donor B's case: $ERR"
apply quinn lookback D-5003
assert_eq "$RC" "0" "and donor C's: $ERR"
assert_eq "$(lot_stored "$B1"),$(lot_stored "$B2")" "released,recalled" "B1 (collected d-61, bracketed) stays released, B2 (d-60) recalled"
assert_eq "$(lot_stored "$C1"),$(lot_stored "$C2")" "recalled,recalled" "every lot of C recalled"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.lookback_case WHERE status = 'open'")" "0" "no open case left"

# --- corrections: one creates an unacceptable result, one withdraws it
rel_donor D-5004
D1=$(rel_lot_full D-5004 40); rel_panel D-5004 "$(d -50)"; rel_panel D-5004 "$(d -30)"
assert_eq "$(lot_shown "$D1")" "ready" "ready"
crp=$(sql "SELECT r.id FROM fmtbank.result r JOIN fmtbank.donor d ON d.id = r.donor_id JOIN fmtbank.screening_test t ON t.test_no = r.test_no
           WHERE d.code = 'D-5004' AND t.code = 'CRP' AND r.collected = '$(d -30)'")
expect 0 "a correction to an unacceptable value" fmtbank --user alice result correct "$crp" --result 9 --reason "transcription error: 9, not 1.5"
crp2=$OUT
assert_eq "$(sql "SELECT count(*) || ':' || min(c.status) || ':' || min(c.outcome) FROM fmtbank.lookback_case c WHERE c.result_id = '$crp2'")" "1:open:out_of_limit" "opens a case"
assert_eq "$(lot_rules "$D1")" "post_panel,unacceptable_result,hold" "the lot is no longer ready"
expect 0 "corrected back" fmtbank --user alice result correct "$crp2" --result 2 --reason "the lab's amended report: 2 mg/L"
assert_eq "$(sql "SELECT status || '|' || withdrawn_reason FROM fmtbank.lookback_case WHERE result_id = '$crp2'")" \
    "open|the result was corrected (the lab's amended report: 2 mg/L)" "the correction withdraws the signal; the case stays open"
CD=$(sql "SELECT case_code FROM fmtbank.lookback_case WHERE result_id = '$crp2'")
expect 0 "case list proposes the lift" fmtbank --user quinn --format tsv case list --open
assert_contains "$OUT" "$CD	result	signal withdrawn - lift proposed" "lift proposed"
assert_eq "$(lot_rules "$D1")" "hold" "the hold stays until quality lifts it"
printf 'quinn-signs-1\n' >"$TMP/pw"
run_in "$TMP/pw" fmtbank --user quinn case decide "$CD" --lift --meaning "Signal withdrawn by the lab" --password-stdin
assert_eq "$RC" "0" "quality lifts: $ERR"
assert_eq "$(lot_shown "$D1")" "ready" "ready again"

# --- closing cases
CB=$(sql "SELECT c.case_code FROM fmtbank.lookback_case c JOIN fmtbank.donor d ON d.id = c.donor_id WHERE d.code = 'D-5002'")
expect 3 "closing needs a reason" fmtbank --user quinn lookback close "$CB"
assert_contains "$ERR" "closing a case requires a reason" "says so"
expect 6 "a technician cannot close" fmtbank --user alice lookback close "$CB" --reason "x"
expect 0 "quality closes the applied case" fmtbank --user quinn lookback close "$CB" --reason "donor excluded; recipients told"
assert_eq "$(sql "SELECT status || '|' || closed_by || '|' || close_reason FROM fmtbank.lookback_case WHERE case_code = '$CB'")" "closed|quinn|donor excluded; recipients told" "closed with the reason"
assert_eq "$(lot_stored "$B2")" "recalled" "what it recalled stays recalled"
expect 5 "closing twice" fmtbank --user quinn lookback close "$CB" --reason "again"
expect 4 "unknown case" fmtbank --user quinn lookback close "$(sql "select fmtbank.with_check('C99999999')")" --reason "x"
expect 3 "not a case ID" fmtbank --user quinn lookback close abc --reason "x"
expect 3 "a wrong check character" fmtbank --user quinn lookback close "${CB:0:9}$( [ "${CB:9:1}" = 0 ] && echo 1 || echo 0)" --reason "x"
expect 0 "lookback list" fmtbank --user audrey lookback list --status closed
assert_contains "$OUT" "D-5002  SALM  positive" "lists the closed case"
expect 2 "bad --status" fmtbank --user audrey lookback list --status gone

expect 0 "audit trail intact" fmtbank --user audrey audit verify
done_testing
