#!/usr/bin/env bash
# t0410-report-inventory: "fmtbank report inventory" on a stock built through the CLI (eligible
# donors, donations, processing, freezers, boxes, scans, a discard): the counts by state, freezer
# and box, every stored tube in position order, the tubes not in a box, and the box map (legend,
# captions, a coloured cell per tube by state, free positions empty, an empty box); typed cells,
# frozen headers, autofilters, properties; the same state gives the same workbook; every role
# that reads the stock may run it. Read back with openpyxl.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/report_lib.sh"
setup_db

# ---------------------------------------------------------------- the stock
rep_eligible D-0001 D-0002
mapfile -t L1 < <(rep_donation D-0001 6) # L1[0] lot, L1[1..6] doses 001..006, L1[7] retained 000
mapfile -t L2 < <(rep_donation D-0002 3) # L2[0] lot, L2[1..3] doses, L2[4] retained
assert_eq "${#L1[@]}/${#L2[@]}" "8/5" "two lots processed through the CLI"
FA=$(fmtbank --user adam freezer add "Freezer A" --temp -80 --site "Main lab")
FB=$(fmtbank --user adam freezer add "Freezer B" --temp -150 --site "Annex")
FC=$(fmtbank --user adam freezer add "Freezer C" --temp -20)
BA1=$(fmtbank --user adam box add --freezer "Freezer A" --rack R1 --rows 2 --cols 3)
BA2=$(fmtbank --user adam box add --freezer "Freezer A" --rows 1 --cols 2)
BB1=$(fmtbank --user adam box add --freezer "Freezer B" --rack R2 --rows 3 --cols 3)
# BA1: A1 001, A2 002, A3 003, B1 000 (retained), B2 005 (discarded below), B3 004
rep_scan "$BA1"$'\n'"${L1[1]}"$'\n'"${L1[2]}"$'\n'"${L1[3]}"$'\n'"${L1[7]}"$'\n'"${L1[5]}"$'\n'"${L1[4]}"
# BB1: A1 001, B2 002, C3 000 (retained)
rep_scan "$BB1"$'\n'"${L2[1]}"$'\n'B2$'\n'"${L2[2]}"$'\n'C3$'\n'"${L2[4]}"
expect 0 "discard a stored tube" fmtbank --user alice --reason "tube cracked" aliquot discard "${L1[5]}"
# States without a command yet (release, recall, issue come later): superuser fixture.
sql "UPDATE fmtbank.aliquot SET status = 'released' WHERE aliquot_id IN ('${L1[1]}', '${L1[4]}', '${L2[1]}');
     UPDATE fmtbank.aliquot SET status = 'recalled' WHERE aliquot_id = '${L1[2]}';
     UPDATE fmtbank.aliquot SET expires_at = now() - interval '1 day' WHERE aliquot_id = '${L1[3]}';
     UPDATE fmtbank.aliquot SET status = 'expired', status_at = now() WHERE aliquot_id = '${L2[2]}';
     UPDATE fmtbank.aliquot SET status = 'issued', status_at = now(), status_reason = 'issued to R-001'
     WHERE aliquot_id = '${L1[6]}'" >/dev/null
# The stock, as "aliquot list" sees it (the report must agree):
assert_eq "$(sql "SELECT string_agg(status || '=' || n, ' ' ORDER BY status) FROM (SELECT status, count(*) AS n FROM fmtbank.aliquot_view GROUP BY 1) s")" \
    "discarded=1 expired=2 issued=1 quarantine=3 recalled=1 released=3" "fixture: the states aliquot list shows"

# ---------------------------------------------------------------- the report
expect 0 "report check" fmtbank report check
assert_contains "$OUT" "inventory: ok" "the inventory definition checks"
expect 0 "report list shows it" fmtbank report list --format tsv
assert_contains "$OUT" $'inventory\tInventory\tBy state, By freezer, By box, Box map, Aliquots, Not in a box\tas_of (text)\t' "listed with its sheets, the one parameter as_of"

expect 0 "inventory report (quality)" fmtbank --user quinn report inventory -o "$TMP/inv.xlsx"
assert_contains "$ERR" "wrote report \"inventory\" to \"$TMP/inv.xlsx\": 6 sheets" "summary line"
assert_eq "$OUT" "" "nothing on stdout"
d=$(DUMP "$TMP/inv.xlsx")
assert_contains "$d" "sheets By state|By freezer|By box|Box map|Aliquots|Not in a box" "sheets in order"
assert_contains "$d" "props title=Inventory" "title property"
assert_contains "$d" "props creator=Quinn Qualmann (quinn)" "author is the acting user"
assert_contains "$d" "props company=fmtbank stool bank" "company is the site"
assert_contains "$d" "props keywords=inventory" "keywords name the report"
last=$(sql "SELECT to_char(max(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') FROM fmtbank.audit_log")
assert_contains "$d" "props created=$last" "created = the last recorded change, not the clock"
for s in "By state" "By freezer" "By box" "Aliquots" "Not in a box"; do
    assert_contains "$d" "sheet $s freeze=A5 filter=A4:" "$s: frozen header and autofilter"
    assert_eq "$(cell "$d" "$s" A2)" "text Stock on $(d 0)" "$s: subtitle says the day"
done
assert_contains "$d" "cell By state!A4 text State fmt=General bold=True" "bold header"
assert_contains "$d" "width Aliquots!E 16.7" "declared column width"
# every ID as shown ("L26000001-001 ·1") and every donor code fits its column: no tube's row is
# wrapped to two lines (sheets 3, 5, 6: By box, Aliquots, Not in a box; row 4 is the header)
for n in 3 5 6; do
    tall=$(unzip -p "$TMP/inv.xlsx" "xl/worksheets/sheet$n.xml" | grep -o '<row r="[0-9]*"[^>]*customHeight' |
        grep -o 'r="[0-9]*"' | grep -vx 'r="4"' | paste -sd' ')
    assert_eq "$tall" "" "sheet$n.xml: no data row taller than one line"
done

# By state: every state in the product's order, also those without a tube
expect_row() { # SHEET ROW "A B C ..." (values of columns A.. as "TYPE VALUE" joined by |)
    local got="" c col
    IFS='|' read -ra want <<<"$3"
    for ((c = 0; c < ${#want[@]}; c++)); do
        col=$(printf "\\x$(printf %x $((65 + c)))")
        got+="$(cell "$d" "$1" "$col$2")|"
    done
    assert_eq "${got%|}" "$3" "$1 row $2"
}
exp_q=$(sql "SELECT to_char(max(expires_at), 'YYYY-MM-DD') FROM fmtbank.aliquot WHERE aliquot_id = '${L1[7]}'")
expect_row "By state" 5 "text quarantine|int 3|int 2|int 1|int 2|date ${exp_q}T00:00:00|date ${exp_q}T00:00:00"
expect_row "By state" 6 "text released|int 3|int 3|int 0|int 0|date ${exp_q}T00:00:00|date ${exp_q}T00:00:00"
expect_row "By state" 7 "text issued|int 1|int 0|int 1|int 0|date ${exp_q}T00:00:00|date ${exp_q}T00:00:00"
expect_row "By state" 8 "text recalled|int 1|int 1|int 0|int 0|date ${exp_q}T00:00:00|date ${exp_q}T00:00:00"
expect_row "By state" 9 "text expired|int 2|int 2|int 0|int 0|date $(d -1)T00:00:00|date ${exp_q}T00:00:00"
expect_row "By state" 10 "text discarded|int 1|int 0|int 1|int 0|date ${exp_q}T00:00:00|date ${exp_q}T00:00:00"
assert_contains "$d" "sheet By state freeze=A5 filter=A4:G10 rows=10" "six states, no more"
assert_contains "$d" "cell By state!F5 date ${exp_q}T00:00:00 fmt=yyyy-mm-dd " "expiry dates are real dates"

# By freezer: every freezer, one without boxes too
expect_row "By freezer" 5 "text $FA|text Freezer A|text Main lab|int -80|int 2|int 8|int 5|int 3|int 1|int 2|int 1|int 1"
expect_row "By freezer" 6 "text $FB|text Freezer B|text Annex|int -150|int 1|int 9|int 3|int 6|int 1|int 1|int 0|int 1"
expect_row "By freezer" 7 "text $FC|text Freezer C||int -20|int 0|int 0|int 0|int 0|int 0|int 0|int 0|int 0"
assert_contains "$d" "cell By freezer!D5 int -80 fmt=0.0 " "temperature is a number with its format"

# By box: freezer, rack (none first), box
expect_row "By box" 5 "text $FA|text Freezer A||text $BA2|int 1|int 2|int 2|int 0|int 2|int 0|int 0|int 0|int 0"
expect_row "By box" 6 "text $FA|text Freezer A|text R1|text $BA1|int 2|int 3|int 6|int 5|int 1|int 1|int 2|int 1|int 1"
expect_row "By box" 7 "text $FB|text Freezer B|text R2|text $BB1|int 3|int 3|int 9|int 3|int 6|int 1|int 1|int 0|int 1"
assert_contains "$d" "sheet By box freeze=A5 filter=A4:M7 rows=7" "one row per box"

# Aliquots: every stored tube by freezer, rack, box and position
processed=$(sql "SELECT to_char(processed_at, 'YYYY-MM-DD\"T\"HH24:MI:SS') FROM fmtbank.lot WHERE lot_id = '${L1[0]}'")
exp1=$(sql "SELECT to_char(expires_at, 'YYYY-MM-DD') FROM fmtbank.aliquot WHERE aliquot_id = '${L1[1]}'")
expect_row Aliquots 5 "text $FA|text R1|text $BA1|text A1|text ${L1[1]}|text ${L1[0]}|text D-0001|text released|text no|date $processed|date ${exp1}T00:00:00"
assert_eq "$(column "$d" Aliquots D 5 | paste -sd' ')" "A1 A2 A3 B1 B3 A1 B2 C3" "positions in order, box by box"
assert_eq "$(column "$d" Aliquots E 5 | paste -sd' ')" \
    "${L1[1]} ${L1[2]} ${L1[3]} ${L1[7]} ${L1[4]} ${L2[1]} ${L2[2]} ${L2[4]}" "the tubes at those positions"
assert_eq "$(column "$d" Aliquots H 5 | paste -sd' ')" \
    "released recalled expired quarantine released released expired quarantine" "their states as aliquot list shows them"
assert_eq "$(column "$d" Aliquots I 5 | paste -sd' ')" "no no no yes no no no yes" "retained samples marked"
assert_contains "$d" "cell Aliquots!J5 date $processed fmt=yyyy-mm-dd hh:mm " "processed is a timestamp"
assert_contains "$d" "sheet Aliquots freeze=A5 filter=A4:K12 rows=12" "8 stored tubes"
occupied=$(sql "SELECT count(aliquot) FROM fmtbank.placement")
assert_eq "$(column "$d" Aliquots E 5 | wc -l)" "$occupied" "as many rows as occupied positions"

# Not in a box: issued, discarded, never stored; by aliquot ID
assert_eq "$(column "$d" "Not in a box" A 5 | paste -sd' ')" "${L1[5]} ${L1[6]} ${L2[3]}" "the tubes not in a box"
assert_eq "$(column "$d" "Not in a box" D 5 | paste -sd' ')" "discarded issued quarantine" "their states"
assert_eq "$(cell "$d" "Not in a box" F5)" "text tube cracked" "the discard reason"
assert_eq "$(cell "$d" "Not in a box" F6)" "text issued to R-001" "the issue note"
assert_contains "$(cell "$d" "Not in a box" E5)" "date $(d 0)T" "state since: a timestamp"
assert_eq "$(cell "$d" "Not in a box" E7)" "" "never stored, never changed: no date"

# Box map: legend, then each box in freezer, rack, box order
assert_contains "$d" "sheet Box map freeze=None filter=None" "the box map is no table"
assert_eq "$(cell "$d" "Box map" A4)" "text Legend" "legend"
i=5
for st in "Quarantine FFEB9C" "Released C6EFCE" "Issued BDD7EE" "Recalled FFC7CE" "Expired D9D9D9" "Discarded A6A6A6"; do
    assert_eq "$(cell "$d" "Box map" "B$i") $(fill "$d" "Box map" "B$i")" "text $st" "legend row $i: $st"
    i=$((i + 1))
done
assert_eq "$(cell "$d" "Box map" A12)" "text $BA2 — Freezer A ($FA)" "empty box first (no rack), captioned"
assert_eq "$(cell "$d" "Box map" C13)" "int 2" "its columns"
assert_eq "$(cell "$d" "Box map" A14)" "text A" "its one row"
assert_eq "$(cell "$d" "Box map" B14)$(cell "$d" "Box map" C14)" "" "nothing in it"
assert_eq "$(cell "$d" "Box map" A16)" "text $BA1 — Freezer A ($FA), rack R1" "box in rack R1"
assert_eq "$(cell "$d" "Box map" D17)" "int 3" "three columns"
grid() { # REF TUBE COLOUR
    assert_eq "$(cell "$d" "Box map" "$1") $(fill "$d" "Box map" "$1")" "text $2 $3" "box map $1: $2 in $3"
}
grid B18 "${L1[1]}" C6EFCE # released
grid C18 "${L1[2]}" FFC7CE # recalled
grid D18 "${L1[3]}" D9D9D9 # past its expiry: expired
grid B19 "${L1[7]}" FFEB9C # quarantine (retained sample)
grid D19 "${L1[4]}" C6EFCE
assert_eq "$(cell "$d" "Box map" C19)" "" "the discarded tube's position is free again"
assert_eq "$(cell "$d" "Box map" A19)" "text B" "row letters"
assert_eq "$(cell "$d" "Box map" A21)" "text $BB1 — Freezer B ($FB), rack R2" "the other freezer's box"
grid B23 "${L2[1]}" C6EFCE
grid C24 "${L2[2]}" D9D9D9 # expired, as the sweep stores it
grid D25 "${L2[4]}" FFEB9C
assert_eq "$(cells "$d" "Box map" | grep -c ' text L[0-9]')" "8" "one labelled cell per stored tube"
assert_not_contains "$d" "${L1[5]} fmt=General bold=False fill=A6A6A6" "discarded tubes are not drawn"

# ---------------------------------------------------------------- determinism, roles
expect 0 "again (quality)" fmtbank --user quinn report inventory -o "$TMP/inv2.xlsx"
assert_eq "$(DUMP "$TMP/inv2.xlsx")" "$d" "same state: the same workbook, cell for cell"
expect 0 "technician" fmtbank --user alice report inventory -o "$TMP/inv-alice.xlsx"
assert_eq "$(DUMP "$TMP/inv-alice.xlsx" | grep -v '^props creator=')" "$(printf '%s\n' "$d" | grep -v '^props creator=')" \
    "the technician's report has the same contents"
expect 0 "auditor" fmtbank --user audrey report inventory -o "$TMP/inv-audrey.xlsx"
n=$(audit_count)
fmtbank --user adam report inventory -o "$TMP/inv-adam.xlsx" 2>/dev/null
assert_eq "$(audit_count)" "$n" "running the report changes nothing"

# A change shows in the next report: a tube moved within its box.
expect 0 "move a tube" fmtbank --user alice aliquot move "${L1[4]}" --to "$BA1:B2"
expect 0 "after the move" fmtbank --user quinn report inventory -o "$TMP/inv3.xlsx"
d=$(DUMP "$TMP/inv3.xlsx")
assert_eq "$(column "$d" Aliquots D 5 | paste -sd' ')" "A1 A2 A3 B1 B2 A1 B2 C3" "the list follows the move"
grid C19 "${L1[4]}" C6EFCE
assert_eq "$(cell "$d" "Box map" D19)" "" "the old position is free"

# An empty bank: every sheet says so.
fmtbank db stop >/dev/null 2>&1
rm -rf "$FMTBANK_HOME/data"
setup_db
expect 0 "empty bank" fmtbank report inventory -o "$TMP/empty.xlsx"
d=$(DUMP "$TMP/empty.xlsx")
assert_eq "$(cell "$d" "By freezer" A5)" "text No freezer is registered." "no freezer"
assert_eq "$(cell "$d" "Aliquots" A5)" "text No aliquot is stored in a box." "no stored tube"
assert_eq "$(cell "$d" "Not in a box" A5)" "text Every aliquot is in a box." "nothing outside"
assert_eq "$(cell "$d" "Box map" A12)" "text No box is registered." "no box"
expect_row "By state" 5 "text quarantine|int 0|int 0|int 0|int 0"
assert_eq "$(cell "$d" "By state" F5)$(cell "$d" "By state" G5)" "" "no expiry dates"

done_testing
