#!/usr/bin/env bash
# t0421-lookback-report: "fmtbank report lookback --param donor=CODE": a donor's lookback cases,
# the lots and aliquots they hold and the issued doses with the recipient and site to notify,
# read back with openpyxl; reproducible; refusals.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db
DUMP() { /usr/bin/python3 "$FMTBANK_SRC/tests/integration/xlsxdump.py" "$1"; }
cells() { DUMP "$1" | grep '^cell ' | sed 's/ fmt=.*//'; }

rel_donor D-4211
A1=$(rel_lot_full D-4211 37); A2=$(rel_lot_full D-4211 35)
rel_panel D-4211 "$(d -40)"; rel_panel D-4211 "$(d -30)"
for l in "$A1" "$A2"; do sign "$l"; assert_eq "$RC" "0" "lot $l released"; done
mapfile -t AL1 < <(aliquots_of "$A1")
fmtbank --user alice aliquot issue "${AL1[1]}" --recipient R-4201 --site "Site North" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM fmtbank.aliquot_issue")" "1" "one dose issued"

expect 0 "no case yet: the report is written" fmtbank --user quinn report lookback --param donor=D-4211 -o "$TMP/none.xlsx"
assert_contains "$(DUMP "$TMP/none.xlsx")" "No lookback case for this donor." "says there is no case"

rel_result D-4211 ESBL "$(d -10)" positive >/dev/null
CA=$(sql "SELECT id FROM fmtbank.lookback_case")
assert_eq "$(sql "SELECT count(*) FROM fmtbank.lookback_case")" "1" "the positive opened a case"
expect 0 "the lookback report" fmtbank --user quinn report lookback --param donor=D-4211 -o "$TMP/lb.xlsx"
assert_eq "$OUT" "" "nothing on standard output"
S=$(DUMP "$TMP/lb.xlsx")
assert_contains "$S" "sheets Cases|Held lots|Held aliquots|Notify" "four sheets"
assert_contains "$S" "cell Cases!A5 int $CA" "the case"
assert_contains "$S" "text ESBL" "its test"
assert_contains "$(echo "$S" | grep '^cell Cases!D5 ')" "date $(d -10)T00:00:00" "its collection date, a real date"
for l in "$A1" "$A2"; do
    assert_contains "$(echo "$S" | grep '^cell Held lots!B')" "text $l" "held lot $l"
done
assert_contains "$(echo "$S" | grep '^cell Held lots!E')" "text recall" "the action on a held lot"
assert_contains "$(echo "$S" | grep '^cell Held aliquots!C')" "text ${AL1[0]}" "a held aliquot in stock"
assert_not_contains "$(echo "$S" | grep '^cell Held aliquots!C')" "text ${AL1[1]}" "the issued dose is not in stock"
assert_contains "$(echo "$S" | grep '^cell Notify!C5 ')" "text ${AL1[1]}" "the issued dose to notify"
assert_contains "$(echo "$S" | grep '^cell Notify!D5 ')" "text R-4201" "its recipient"
assert_contains "$(echo "$S" | grep '^cell Notify!E5 ')" "text Site North" "its site"
assert_contains "$(echo "$S" | grep '^cell Notify!F5 ')" " date " "issued at, a real date-time"
cells "$TMP/lb.xlsx" >"$TMP/c1"
expect 0 "an auditor may write it" fmtbank --user audrey report lookback --param donor=D-4211 -o "$TMP/lb2.xlsx"
cells "$TMP/lb2.xlsx" >"$TMP/c2"
assert_eq "$(cmp -s "$TMP/c1" "$TMP/c2" && echo same)" "same" "regenerated: identical cells"

before=$(audit_count)
expect 4 "an unknown donor" fmtbank --user quinn report lookback --param donor=D-9999 -o "$TMP/bad.xlsx"
expect 2 "no donor" fmtbank --user quinn report lookback -o "$TMP/bad.xlsx"
assert_eq "$(ls "$TMP"/bad.* 2>/dev/null)" "" "no file left by a refusal"
assert_eq "$(audit_count)" "$before" "refusals changed nothing"
expect 0 "report check passes" fmtbank report check
assert_contains "$OUT" "lookback: ok" "lookback definition ok"
done_testing
