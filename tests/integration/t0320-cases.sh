#!/usr/bin/env bash
# t0320-cases: cases and holds through the CLI (product.md §11.0): "hold add" by scope and its
# refusals; held/holds in lot and aliquot JSON, --held filters; a held lot is neither signed nor
# its doses issued, also through psql; "case decide" signed by quality only (a wrong password
# refused and recorded), lift makes the lot releasable again, recall recalls it; notification and
# closing rules. The rule scenarios (windows, every source's edges) are tests/sql/sql/holds.sql.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

decide() { # CASE DECISION [USER] [PASSWORD] [more options]: case decide with --password-stdin
    local c=$1 what=$2 user=${3:-quinn} pw=${4:-quinn-signs-1}
    shift 4 2>/dev/null || shift $#
    printf '%s\n' "$pw" >"$TMP/pw"
    run_in "$TMP/pw" fmtbank --user "$user" case decide "$c" "--$what" --meaning "Quality decision" \
        --password-stdin "$@"
}

# Two releasable lots of one donor, one released with a dose issued.
rel_donor D-6001
L1=$(rel_lot_full D-6001 50); L2=$(rel_lot_full D-6001 40)
rel_panel D-6001 "$(d -60)"; rel_panel D-6001 "$(d -25)"
sign "$L1"; assert_eq "$RC" "0" "L1 released"
mapfile -t A1 < <(aliquots_of "$L1")
fmtbank --user alice aliquot issue "${A1[1]}" --recipient R-0601 --site "Site North" >/dev/null
assert_eq "$(lot_shown "$L2")" "ready" "L2 is ready"

# --- refusals of hold add
expect 2 "no scope" fmtbank --user alice hold add --reason "suspicion"
assert_contains "$ERR" "missing --donor, --lot, --aliquot, --box or --freezer" "names the scopes"
expect 2 "two scopes" fmtbank --user alice hold add --donor D-6001 --lot "$L1" --reason "x"
assert_contains "$ERR" "not both --donor and --lot" "says which two"
before=$(audit_count)
expect 3 "a hold needs a reason" fmtbank --user alice hold add --donor D-6001
assert_contains "$ERR" "adding a hold requires a reason" "says so"
expect 6 "an auditor cannot hold" fmtbank --user audrey hold add --donor D-6001 --reason "x"
expect 4 "unknown donor" fmtbank --user alice hold add --donor D-9999 --reason "x"
expect 3 "a malformed time" fmtbank --user alice hold add --donor D-6001 --from yesterday --reason "x"
assert_eq "$(audit_count)" "$before" "no refused hold changed anything"

# --- a technician holds the donor on suspicion: both lots held at once
before_hold=$(sql "select clock_timestamp()")
expect 0 "hold the donor" fmtbank --user alice hold add --donor D-6001 --reason "GP reports a C. difficile infection"
C1=$OUT
assert_contains "$ERR" "holds 2 lots" "both lots"
assert_eq "$(sql "select fmtbank.with_check(left('$C1', 9)) = '$C1'")" "t" "the case ID carries its check character"
expect 0 "lot show JSON" fmtbank --user alice --format json lot show "$L2"
assert_contains "$OUT" "\"held\" : true" "held"
assert_contains "$OUT" "\"case\": \"$C1\"" "holds names the case"
assert_contains "$OUT" "\"rule\": \"hold\"" "the blocking rule hold"
assert_eq "$(lot_shown "$L2")" "quarantine" "a held lot is not ready"
expect 0 "lot list --held" fmtbank --user alice --format tsv lot list --held
assert_contains "$OUT" "$L1" "L1 listed"; assert_contains "$OUT" "$L2" "L2 listed"
expect 0 "aliquot list --held" fmtbank --user alice --format json aliquot list --lot "$L1" --held
assert_contains "$OUT" "\"holds\"" "aliquot JSON has holds"
expect 5 "release check of a held lot" fmtbank --user quinn release check "$L2"

# --- hard stops, by the CLI and through psql
before=$(audit_count)
sign "$L2"
assert_eq "$RC" "5" "a held lot cannot be signed"
assert_contains "$ERR" "held by case $C1" "names the case"
expect 5 "a held dose cannot be issued" fmtbank --user alice aliquot issue "${A1[2]}" --recipient R-0602 --site "Site North"
assert_contains "$ERR" "held by case $C1" "names the case"
expect 5 "a held dose cannot be discarded" fmtbank --user alice aliquot discard "${A1[2]}" --reason "dropped"
sql_as alice "select fmtbank.aliquot_issue('${A1[2]}', 'R-0603', 'Site North')"
assert_contains "$ERR" "held by case $C1" "psql: alice cannot issue it either"
sql_as quinn "select * from fmtbank.case_decide('$C1', 'lift', NULL, 'x', NULL)"
assert_contains "$ERR" "no signature attempt given" "psql: no decision without a committed signature"
sql_as alice "update fmtbank.case_hold set ended_at = now()"
assert_contains "$ERR" "permission denied" "psql: nobody ends a hold by hand"
assert_eq "$(audit_count)" "$before" "nothing changed"

# --- decisions: quality only, signed
decide "$C1" lift alice alice-signs-1
assert_eq "$RC" "6" "a technician cannot decide"
decide "$C1" lift quinn wrong-password
assert_eq "$RC" "5" "a wrong password is refused"
assert_contains "$ERR" "wrong signature password" "says so"
assert_eq "$(sql "select count(*) from fmtbank.signature_attempt where signer = 'quinn' and not ok and case_id is not null")" "1" "and recorded"
assert_eq "$(lot_shown "$L2")" "quarantine" "still held"
expect 2 "two decisions at once" fmtbank --user quinn case decide "$C1" --lift --recall --meaning x --password-stdin
decide "$C1" lift quinn quinn-signs-1 --lot "$L2"
assert_eq "$RC" "0" "quality lifts the hold of L2: $ERR"
assert_eq "$(lot_shown "$L2")" "ready" "L2 is ready again"
expect 0 "case show JSON" fmtbank --user audrey --format json case show "$C1"
assert_contains "$OUT" "\"decision\": \"lift\"" "the decision is shown"
assert_contains "$OUT" "\"printed_name\": \"Quinn Qualmann\"" "with the printed name"
assert_contains "$OUT" "\"recipient\": \"R-0601\"" "the recipient of the issued dose is listed"
assert_eq "$(sql "select status from fmtbank.safety_case where case_code = '$C1'")" "open" "the case still holds L1"

# --- closing rules, then recall
expect 5 "close while L1 is held" fmtbank --user quinn case close "$C1" --reason "done"
assert_contains "$ERR" "still holds material of 1 lot undecided" "says why"
decide "$C1" recall quinn quinn-signs-1
assert_eq "$RC" "0" "quality recalls L1: $ERR"
assert_eq "$(lot_stored "$L1")" "recalled" "L1 recalled"
assert_eq "$(aliquot_states "$L1")" "quarantine,issued,recalled,recalled" "doses in stock recalled, the retained sample kept, the issued one stays issued"
assert_eq "$(sql "select status from fmtbank.safety_case where case_code = '$C1'")" "decided" "the case is decided"
expect 5 "close with R-0601 un-notified" fmtbank --user quinn case close "$C1" --reason "done"
assert_contains "$ERR" "recipients not notified: R-0601" "names the recipient"
expect 5 "notify a recipient who got nothing of it" fmtbank --user quinn case notify "$C1" --recipient R-9999 --by phone --at "$(d -1) 09:00"
expect 2 "notify by pigeon" fmtbank --user quinn case notify "$C1" --recipient R-0601 --by pigeon --at "$(d -1) 09:00"
expect 6 "a technician does not record notifications" fmtbank --user alice case notify "$C1" --recipient R-0601 --by phone --at "$(d -1) 09:00"
expect 0 "notify" fmtbank --user quinn case notify "$C1" --recipient R-0601 --by phone --at "$(d -1) 23:55" --note "told the treating physician"
expect 0 "close" fmtbank --user quinn case close "$C1" --reason "recalled and notified"
expect 0 "case list" fmtbank --user audrey --format json case list --source manual
assert_contains "$OUT" "\"status\":\"closed\"" "closed"
expect 0 "closed case show keeps everything" fmtbank --user audrey --format json case show "$C1"
assert_contains "$OUT" "\"by\": \"phone\"" "the notification"
assert_contains "$OUT" "\"decision\": \"recall\"" "the recall"
decide "$C1" lift
assert_eq "$RC" "5" "a closed case is not decided again"

# --- trace: from the recipient back to the donor, and the whole chain of the case
expect 0 "trace the recipient" fmtbank --user audrey --format json trace R-0601
for e in "donor registered" "questionnaire short" "result" "donation" "processed" "release signed" \
         "issued" "case opened" "held" "case decision" "recipient notified" "case closed"; do
    assert_contains "$OUT" "\"event\":\"$e\"" "the trace has: $e"
done
assert_contains "$OUT" "to recipient R-0601 at Site North" "the issue, with recipient and site"
assert_contains "$OUT" "\"lot\":\"$L2\"" "and the donor's other lot"
expect 0 "trace the case" fmtbank --user alice --format tsv trace "$C1"
assert_contains "$OUT" "$C1: recall, signed by Quinn Qualmann" "the signed decision"
expect 0 "trace as of before the hold" fmtbank --user audrey --format tsv trace "$L1" --as-of "$before_hold"
assert_not_contains "$OUT" "case opened" "what came later is not there"
assert_contains "$OUT" "release signed" "what came before is"
expect 4 "trace of an unknown ID" fmtbank --user audrey trace R-9999
assert_contains "$ERR" 'nothing is known by "R-9999"' "says so"

# --- the case report, read back with openpyxl
expect 0 "case report of one case" fmtbank --user audrey report case --param case="$C1" -o "$TMP/case.xlsx"
/usr/bin/python3 - "$TMP/case.xlsx" "$C1" "$L1" >"$TMP/case.out" 2>&1 <<'PY'
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
print("sheets", ",".join(wb.sheetnames))
def rows(name):
    return [[c for c in r] for r in wb[name].iter_rows(values_only=True)]
print("cases", any(sys.argv[2] in map(str, r) and "closed" in map(str, r) for r in rows("Cases")))
print("holds", sum(1 for r in rows("Holds") if sys.argv[2] in map(str, r)))
print("decisions", sorted(str(r[1]) for r in rows("Decisions") if sys.argv[2] in map(str, r)))
print("told", any("R-0601" in map(str, r) and "phone" in map(str, r) for r in rows("Recipients")))
PY
assert_contains "$(cat "$TMP/case.out")" "sheets Cases,Holds,Decisions,Recipients" "four sheets"
assert_contains "$(cat "$TMP/case.out")" "cases True" "the closed case"
assert_contains "$(cat "$TMP/case.out")" "holds 2" "both lots it held"
assert_contains "$(cat "$TMP/case.out")" "decisions ['lift', 'recall']" "the lift and the recall"
assert_contains "$(cat "$TMP/case.out")" "told True" "the recipient told by phone"
expect 3 "case report of a malformed case ID" fmtbank --user audrey report case --param case=C1 -o "$TMP/bad.xlsx"

# --- an exclusion opens a manual case holding every lot; a donation is then rejected
rel_donor D-6002
L3=$(rel_lot_full D-6002 45)
expect 0 "exclude" fmtbank --user quinn donor exclude D-6002 --reason "disclosed hepatitis B exposure"
assert_eq "$(sql "select count(*) from fmtbank.case_list where donor = 'D-6002' and source = 'manual' and lots_held = 1")" "1" "a manual case holds the lot"
assert_contains "$(lot_rules "$L3")" "hold" "L3 is held"

# --- storage: a box hold holds the tubes that were in the box; location show and the scanner say so
fmtbank --user adam freezer add "Hold freezer" --temp -80 --site "Main lab" >/dev/null
BOX=$(fmtbank --user adam box add --freezer "Hold freezer" --rack R1 --rows 9 --cols 9)
rel_donor D-6003
L4=$(rel_lot_full D-6003 45)
mapfile -t A4 < <(aliquots_of "$L4")
printf '%s\n' "$BOX" "${A4[@]}" END | fmtbank --user alice scan >/dev/null 2>&1
expect 0 "hold the box" fmtbank --user alice hold add --box "$BOX" --reason "freezer door found open"
C4=$OUT
assert_contains "$ERR" "holds 0 lots and 4 single tubes" "every tube of the box, one row each"
expect 0 "location show lists the held tubes" fmtbank --user alice --format tsv location show "$BOX"
assert_eq "$(echo "$OUT" | awk -F'\t' 'NR > 1 && $8 == "t"' | wc -l)" "4" "4 tubes held"
printf 'MODE retrieve\n%s\n%s\nEND\n' "$BOX" "${A4[1]}" >"$TMP/retrieve.txt"
run_in "$TMP/retrieve.txt" fmtbank --user alice scan
assert_contains "$OUT" "OK retrieved ${A4[1]} from $BOX:" "a held tube may be retrieved"
assert_contains "$OUT" "WARN held: $C4 (manual): freezer door found open" "and the scanner warns"
expect 0 "the retrieved tube stays held wherever it is" fmtbank --user alice --format json aliquot show "${A4[1]}"
assert_contains "$OUT" "\"case\": \"$C4\"" "held by the box case"

done_testing
