#!/usr/bin/env bash
# t0211-progress-quiet: progress of long commands (imports, reports) on standard error only when
# it is a terminal (script(1) gives the command a pty), erased at the end; --quiet (global)
# suppresses the new IDs a command prints one per record, and the progress (issue 14 item 5).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
setup_db
donors() { # FILE FIRST LAST: a donor file
    { echo code,birth_year,sex; for i in $(seq "$2" "$3"); do echo "D-$i,1990,F"; done; } >"$1"
}
# tty CMD: runs the shell command CMD with a pty as its terminal; what the terminal showed in
# $TTY (carriage returns kept), the exit code in $RC.
tty() {
    script -qec "$1" /dev/null >"$TMP/tty.out" 2>&1 </dev/null
    RC=$?
    TTY=$(cat "$TMP/tty.out")
}
ESC=$'\033'

# Not a terminal: the IDs, one per record, and only the summary on stderr.
donors "$TMP/a.csv" 1000 2999
expect 0 "import 2000 donors into files" fmtbank --user alice donor import "$TMP/a.csv"
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "2000" "one ID per record on stdout"
assert_eq "$ERR" "imported 2000 donors from \"$TMP/a.csv\"" "only the summary on stderr: no progress off a terminal"

# At a terminal: the phases on stderr, rewritten in place and erased; stdout still the IDs.
donors "$TMP/b.csv" 3000 4999
tty "fmtbank --user alice donor import '$TMP/b.csv' >'$TMP/b.ids'"
assert_eq "$RC" "0" "import at a terminal"
assert_contains "$TTY" "importing \"$TMP/b.csv\": reading lines" "the reading phase"
assert_contains "$TTY" "importing \"$TMP/b.csv\": sending 2000 rows" "the sending phase"
assert_contains "$TTY" "importing \"$TMP/b.csv\": checking and recording 2000 rows" "the database's phase"
assert_contains "$TTY" $'\r'"$ESC[K" "drawn in place (carriage return, erase line)"
assert_contains "$TTY" $'\r'"$ESC[Kimported 2000 donors from \"$TMP/b.csv\"" "erased before the summary"
assert_eq "$(wc -l <"$TMP/b.ids")" "2000" "the IDs still go to stdout"
assert_not_contains "$(cat "$TMP/b.ids")" "importing" "no progress on stdout"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor WHERE code BETWEEN 'D-3000' AND 'D-4999'")" "2000" "all imported"

# A bad file at a terminal: the bad lines each on a line of their own, not after the progress.
printf 'code,birth_year,sex\nD-5000,1990,F\nJohn Smith,1980,M\nD-5001,1990,F,x\n' >"$TMP/bad.csv"
tty "fmtbank --user alice donor import '$TMP/bad.csv'"
assert_eq "$RC" "3" "refused"
assert_contains "$TTY" $'\r'"$ESC[K$TMP/bad.csv:4: 4 fields, expected 3" "a bad line read by C starts its own line"
printf 'code,birth_year,sex\nD-5000,1990,F\nJohn Smith,1980,M\n' >"$TMP/bad2.csv"
tty "fmtbank --user alice donor import '$TMP/bad2.csv'"
assert_eq "$RC" "3" "refused by the database"
assert_contains "$TTY" "checking and recording 2 rows (" "after its phase"
assert_contains "$TTY" $'\r'"$ESC[K$TMP/bad2.csv:3: invalid donor code" "a bad line the database found starts its own line too"

# --quiet at a terminal: no progress, no IDs; the summary stays.
donors "$TMP/c.csv" 6000 6999
tty "fmtbank --quiet --user alice donor import '$TMP/c.csv'"
assert_eq "$RC" "0" "quiet import"
assert_eq "$TTY" "imported 1000 donors from \"$TMP/c.csv\""$'\r' "only the summary (no IDs, no progress)"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor WHERE code BETWEEN 'D-6000' AND 'D-6999'")" "1000" "imported all the same"

# --quiet (-q, before or after the command) on the commands that print the IDs they create.
BOX=$(inv_box 2 3)
LOT=$(inv_lot D-1000 2 500)
expect 0 "donation process -q" fmtbank --user alice donation process "$LOT" --processed "$(ts now)" --doses 2 -q
assert_eq "$OUT" "" "no aliquot IDs"
assert_contains "$ERR" "processed lot \"$LOT\" into 2 doses" "the summary stays"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.aliquot")" "3" "the aliquots exist"
expect 0 "box add --quiet" fmtbank --quiet --user adam box add --freezer "Freezer 1" --rows 2 --cols 2
assert_eq "$OUT" "" "no box ID"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.box")" "2" "the box exists"
expect 0 "a query is not quieted" fmtbank -q --user alice --format tsv aliquot list --lot "$LOT"
assert_contains "$OUT" "${LOT:0:9}-001" "query output is data, not new IDs"
expect 0 "without --quiet the IDs come back" fmtbank --user adam box add --freezer "Freezer 1" --rows 2 --cols 2
[[ "$OUT" =~ ^B[0-9]{6}[0-9A-Z*]$ ]] && ok "the new box ID" || not_ok "the new box ID"

# A report at a terminal: the sheets and their rows; off a terminal, only the summary.
tty "fmtbank --user quinn report inventory -o '$TMP/inv.xlsx'"
assert_eq "$RC" "0" "report at a terminal"
assert_contains "$TTY" "report \"inventory\": sheet \"" "the sheet being written"
assert_contains "$TTY" $'\r'"$ESC[Kwrote report \"inventory\"" "erased before the summary"
expect 0 "report off a terminal" fmtbank --user quinn report inventory -o "$TMP/inv2.xlsx"
assert_not_contains "$ERR" "sheet \"" "no progress"
assert_not_contains "$ERR" "$ESC" "no terminal control"
tty "fmtbank -q --user quinn report inventory -o '$TMP/inv3.xlsx'"
assert_not_contains "$TTY" "sheet \"" "--quiet: no progress at a terminal either"

expect 0 "fmtbank --help" fmtbank --help
assert_contains "$OUT" "-q, --quiet" "the global option is listed"
done_testing
