#!/usr/bin/env bash
# t0209-readable-ids: IDs people read aloud (issue 14 item 3). Tables, report cells and label text
# show the check character set apart ("L26000001-001 ·1"); JSON, TSV, the IDs a command prints
# and the DataMatrix keep the plain ID; every input takes both forms, and a displayed form with a
# wrong check character is refused like a plain one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
setup_db
DOT=$'\u00b7'

BOX=$(inv_box 2 3)
LOT=$(inv_lot D-0001 2 500)
mapfile -t AL <<<"$(inv_process "$LOT" 2)"
A1=${AL[0]}
assert_eq "${#AL[@]}" "3" "two doses and the retained sample"
[[ "$A1" =~ ^L[0-9]{8}-001[0-9A-Z*]$ ]] && ok "donation process prints the plain ID ($A1)" ||
    not_ok "donation process prints the plain ID" "got $A1"

# Tables show the displayed form, never the plain one.
expect 0 "aliquot list" fmtbank --user alice aliquot list --lot "$LOT"
assert_contains "$OUT" "$(shown "$A1")" "the table shows $(shown "$A1")"
assert_contains "$OUT" "$(shown "$LOT")" "and the lot $(shown "$LOT")"
assert_not_contains "$OUT" "$A1" "and not the plain ID"
expect 0 "aliquot show (one record, vertical)" fmtbank --user alice aliquot show "$A1"
assert_contains "$OUT" "$(shown "$A1")" "the record shows the displayed form"
assert_contains "$OUT" "D-0001" "a donor code is left alone"
expect 5 "lot show (its own vertical table; not releasable: exit 5)" fmtbank --user alice release check "$LOT"
assert_contains "$OUT" "$(shown "$LOT")" "release check shows the lot's displayed form"
expect 0 "lot show" fmtbank --user alice lot show "$LOT"
assert_contains "$OUT" "$(shown "$LOT")" "lot show too"
assert_not_contains "$OUT" "$LOT" "never the plain lot ID"
# Scripts keep the plain ID.
expect 0 "aliquot list as JSON" fmtbank --user alice --format json aliquot list --lot "$LOT"
assert_contains "$OUT" "\"id\":\"$A1\"" "JSON keeps the plain ID"
assert_not_contains "$OUT" "$DOT" "JSON has no middle dot"
expect 0 "aliquot list as TSV" fmtbank --user alice --format tsv aliquot list --lot "$LOT"
assert_contains "$OUT" "$A1"$'\t' "TSV keeps the plain ID"
assert_not_contains "$OUT" "$DOT" "TSV has no middle dot"

# Input: the displayed form pasted from a table, also without the blank or in lower case.
for form in "$(shown "$A1")" "${A1:0:13}$DOT${A1: -1}" "$(shown "$A1" | tr 'L' 'l')" "  $(shown "$A1")  "; do
    expect 0 "aliquot show \"$form\"" fmtbank --user alice --format json aliquot show "$form"
    assert_contains "$OUT" "\"id\":\"$A1\"" "finds $A1"
done
expect 0 "lot show in the displayed form" fmtbank --user alice --format json lot show "$(shown "$LOT")"
assert_contains "$OUT" "\"lot\" : \"$LOT\"" "finds the lot"
expect 0 "location show in the displayed form" fmtbank --user alice location show "$(shown "$BOX")"
# A wrong check character is refused in either form, naming the ID as typed.
bad=${A1:0:13}$([ "${A1: -1}" = 0 ] && echo 1 || echo 0)
expect 3 "displayed form with a wrong check character" fmtbank --user alice aliquot show "$(shown "$bad")"
assert_contains "$ERR" "invalid check character in aliquot ID" "says so"
expect 3 "plain form with a wrong check character" fmtbank --user alice aliquot show "$bad"
expect 3 "a middle dot anywhere else is not an ID" fmtbank --user alice aliquot show "${A1:0:5}$DOT${A1:5}"

# The scan session reads the displayed form (a scanner wedge or a paste) as the ID.
audit0=$(audit_count)
scan_as alice "$(shown "$BOX")"$'\n'"A1"$'\n'"$(shown "$A1")"$'\n'
assert_eq "$RC" "0" "scan session exits 0"
assert_contains "$OUT" "OK stored $A1 in $BOX:A1" "stores the tube pasted in the displayed form"
assert_eq "$(where "$A1")" "$BOX:A1" "the database agrees"
scan_as alice "$(shown "$BOX")"$'\n'"$(shown "$bad")"$'\n'
assert_contains "$OUT" "ERR invalid check character in aliquot ID \"$bad\"" "a bad check character in the displayed form: ERR"

# Report cells (xlsx) show the displayed form.
expect 0 "inventory report" fmtbank --user quinn report inventory -o "$TMP/inv.xlsx"
dump=$(/usr/bin/python3 "$FMTBANK_SRC/tests/integration/xlsxdump.py" "$TMP/inv.xlsx")
assert_contains "$dump" "text $(shown "$A1") " "the report's cell shows $(shown "$A1")"
assert_contains "$dump" "text $(shown "$A1") fmt" "the box map's position too"
assert_contains "$dump" "text $(shown "$BOX") — Freezer 1 (" "the box caption (composed in SQL, fmtbank.id_display)"
assert_not_contains "$dump" "text $A1 " "the plain ID is in no cell"
assert_not_contains "$dump" "text $BOX " "nor the plain box ID"

# Labels: the human-readable line shows the displayed form, the DataMatrix the plain ID.
expect 0 "aliquot label" fmtbank --user alice aliquot label "$(shown "$A1")"
assert_contains "$OUT" "^FH^FD$A1^FS" "the DataMatrix carries the plain ID"
assert_contains "$OUT" "$(shown "$A1")^FS" "the printed line the displayed form"

# donation process --help says what is printed.
expect 0 "donation process --help" fmtbank donation process --help
assert_contains "$OUT" "L26000001-001 ${DOT}1" "--help shows the displayed form"
assert_contains "$OUT" "L26000001-0011" "and the plain one"
done_testing
