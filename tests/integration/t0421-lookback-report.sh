#!/usr/bin/env bash
# t0421-lookback-report: "fmtbank report lookback --param donor=CODE": a donor's lookback cases,
# the lots and aliquots they hold and the issued doses with the recipient and site to notify,
# read back with openpyxl; reproducible; refusals. A closed case is shown in full next to an
# open one (product.md §11.0.2): scope, holds ended by the signed decision, the decision (signed
# by, meaning, time), the recipient with the notification, and the closing reason.
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
CA=$(sql "SELECT case_code FROM fmtbank.lookback_case")
assert_eq "$(sql "SELECT count(*) FROM fmtbank.lookback_case")" "1" "the positive opened a case"
expect 0 "the lookback report" fmtbank --user quinn report lookback --param donor=D-4211 -o "$TMP/lb.xlsx"
assert_eq "$OUT" "" "nothing on standard output"
S=$(DUMP "$TMP/lb.xlsx")
assert_contains "$S" "sheets Cases|Held lots|Held aliquots|Notify|Holds|Decisions|Recipients" "seven sheets"
assert_contains "$S" "cell Cases!A5 text $CA" "the case, by its ID"
assert_contains "$(echo "$S" | grep '^cell Cases!B5 ')" "text open" "open"
assert_contains "$S" "text ESBL" "its test"
assert_contains "$(echo "$S" | grep '^cell Cases!E5 ')" "date $(d -10)T00:00:00" "its collection date, a real date"
assert_contains "$(echo "$S" | grep '^cell Cases!H5 ')" "text ESBL positive collected $(d -10), holds" "its scope"
assert_not_contains "$S" "cell Cases!M5 " "not closed"
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
assert_eq "$(echo "$S" | grep -c '^cell Holds!A[0-9]* text '"$CA")" "2" "two holds of the open case"
assert_not_contains "$S" "cell Holds!F5 " "not ended"
assert_contains "$S" "No decision signed." "no decision yet"
assert_contains "$(echo "$S" | grep '^cell Recipients!B5 ')" "text R-4201" "the recipient"
assert_not_contains "$S" "cell Recipients!F5 " "not told yet"
cells "$TMP/lb.xlsx" >"$TMP/c1"
expect 0 "an auditor may write it" fmtbank --user audrey report lookback --param donor=D-4211 -o "$TMP/lb2.xlsx"
cells "$TMP/lb2.xlsx" >"$TMP/c2"
assert_eq "$(cmp -s "$TMP/c1" "$TMP/c2" && echo same)" "same" "regenerated: identical cells"

before=$(audit_count)
expect 4 "an unknown donor" fmtbank --user quinn report lookback --param donor=D-9999 -o "$TMP/bad.xlsx"
expect 2 "no donor" fmtbank --user quinn report lookback -o "$TMP/bad.xlsx"
assert_eq "$(ls "$TMP"/bad.* 2>/dev/null)" "" "no file left by a refusal"
assert_eq "$(audit_count)" "$before" "refusals changed nothing"
# --- the case decided (signed recall), its recipient told, closed; a second case stays open
printf '%s\n' quinn-signs-1 >"$TMP/pw"
run_in "$TMP/pw" fmtbank --user quinn case decide "$CA" --recall --meaning "Recall: donor ESBL positive" --password-stdin
assert_eq "$RC" "0" "a signed recall"
expect 0 "notify" fmtbank --user quinn case notify "$CA" --recipient R-4201 --by phone --at "$(d -1) 23:55" --note "told the treating physician"
expect 0 "close" fmtbank --user quinn case close "$CA" --reason "recalled, recipient told"
rel_result D-4211 CDIFF "$(d -5)" positive >/dev/null
CB=$(sql "SELECT case_code FROM fmtbank.lookback_case WHERE status = 'open'")
assert_eq "$(sql "SELECT count(*) FROM fmtbank.lookback_case")" "2" "a second case, open"
expect 0 "the lookback report with a closed case" fmtbank --user audrey report lookback --param donor=D-4211 -o "$TMP/closed.xlsx"
S=$(DUMP "$TMP/closed.xlsx")
cell() { echo "$S" | grep "^cell $1 " | sed 's/ fmt=.*//'; }
# Cases: the closed case and the open one, side by side
assert_eq "$(cell 'Cases!A5')" "cell Cases!A5 text $CA" "the closed case"
assert_eq "$(cell 'Cases!B5')" "cell Cases!B5 text closed" "closed"
assert_contains "$(cell 'Cases!H5')" "text ESBL positive collected $(d -10), holds" "its scope"
assert_contains "$(cell 'Cases!J5')" " date " "applied (decided) at, a real date-time"
assert_contains "$(cell 'Cases!M5')" " date $(d 0)T" "closed at, a real date-time"
assert_eq "$(cell 'Cases!N5')" "cell Cases!N5 text quinn" "closed by"
assert_eq "$(cell 'Cases!O5')" "cell Cases!O5 text recalled, recipient told" "the closing reason"
assert_eq "$(cell 'Cases!A6')" "cell Cases!A6 text $CB" "the open case"
assert_eq "$(cell 'Cases!B6')" "cell Cases!B6 text open" "open"
assert_eq "$(cell 'Cases!C6')" "cell Cases!C6 text CDIFF" "its test"
assert_eq "$(cell 'Cases!M6')" "" "the open case is not closed"
# Holds: each lot of the closed case, ended by the signed recall
for r in 5 6; do
    assert_eq "$(cell "Holds!A$r")" "cell Holds!A$r text $CA" "hold $r: of the closed case"
    assert_contains "$(cell "Holds!D$r")" " date " "hold $r: held at"
    assert_contains "$(cell "Holds!F$r")" " date $(d 0)T" "hold $r: ended at"
    assert_eq "$(cell "Holds!G$r")" "cell Holds!G$r text recall" "hold $r: ended by the recall"
    assert_eq "$(cell "Holds!H$r")" "cell Holds!H$r text Quinn Qualmann" "hold $r: signed by"
    assert_contains "$(cell "Holds!I$r")" " date $(d 0)T" "hold $r: signed at"
done
assert_contains "$(echo "$S" | grep '^cell Holds!B[56] ' | sort)" "text $A1" "lot A1 held"
assert_contains "$(echo "$S" | grep '^cell Holds!B[56] ' | sort)" "text $A2" "lot A2 held"
# Decisions: the signed recall
assert_eq "$(cell 'Decisions!A5')" "cell Decisions!A5 text $CA" "the decision of the closed case"
assert_eq "$(cell 'Decisions!B5')" "cell Decisions!B5 text recall" "recall"
assert_eq "$(cell 'Decisions!D5')" "cell Decisions!D5 text Recall: donor ESBL positive" "its meaning"
assert_eq "$(cell 'Decisions!E5')" "cell Decisions!E5 text Quinn Qualmann" "signed by (printed name)"
assert_eq "$(cell 'Decisions!F5')" "cell Decisions!F5 text quinn" "the signer's login"
assert_contains "$(cell 'Decisions!G5')" " date $(d 0)T" "signed at, a real date-time"
assert_eq "$(cell 'Decisions!H5')" "cell Decisions!H5 int 2" "two lots recalled"
# Recipients: the dose issued, and who was told how
assert_eq "$(cell 'Recipients!A5')" "cell Recipients!A5 text $CA" "a recipient of the closed case"
assert_eq "$(cell 'Recipients!B5')" "cell Recipients!B5 text R-4201" "R-4201"
assert_eq "$(cell 'Recipients!C5')" "cell Recipients!C5 text Site North" "the site"
assert_eq "$(cell 'Recipients!D5')" "cell Recipients!D5 text ${AL1[1]}" "the dose"
assert_contains "$(cell 'Recipients!F5')" " date $(d -1)T23:55:00" "told at, a real date-time"
assert_eq "$(cell 'Recipients!G5')" "cell Recipients!G5 text phone" "by phone"
assert_eq "$(cell 'Recipients!H5')" "cell Recipients!H5 text quinn" "recorded by"
assert_eq "$(cell 'Recipients!I5')" "cell Recipients!I5 text told the treating physician" "the note"
# the to-do sheets are the open case's only
assert_not_contains "$(echo "$S" | grep '^cell Held lots!A')" "text $CA" "the closed case asks for nothing"
cells "$TMP/closed.xlsx" >"$TMP/c3"
expect 0 "regenerated" fmtbank --user quinn report lookback --param donor=D-4211 -o "$TMP/closed2.xlsx"
cells "$TMP/closed2.xlsx" >"$TMP/c4"
assert_eq "$(cmp -s "$TMP/c3" "$TMP/c4" && echo same)" "same" "regenerated: identical cells"

expect 0 "report check passes" fmtbank report check
assert_contains "$OUT" "lookback: ok" "lookback definition ok"
done_testing
