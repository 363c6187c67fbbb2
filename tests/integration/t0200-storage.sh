#!/usr/bin/env bash
# t0200-storage: freezers, boxes, their positions, location list and the box map (colour only at
# a terminal without NO_COLOR).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
setup_db

expect 0 "admin adds a freezer" fmtbank --user adam freezer add "Freezer 1" --temp -80 --site "Main lab"
F1=$OUT
assert_eq "$(sql "SELECT fmtbank.check_char(left('$F1', -1)) = right('$F1', 1) AND '$F1' ~ '^F[0-9]{4}.$'")" "t" "prints a freezer ID with its check character"
expect 0 "second freezer, temperature given as --temp=-20" fmtbank --user adam freezer add "Freezer 2" --temp=-20
F2=$OUT

before=$(audit_count)
expect 5 "duplicate freezer name" fmtbank --user adam freezer add "Freezer 1" --temp -80
assert_contains "$ERR" 'freezer "Freezer 1" already exists' "names the duplicate"
expect 3 "temperature not a number" fmtbank --user adam freezer add "Freezer 3" --temp cold
assert_contains "$ERR" 'invalid --temp "cold"' "names the field"
expect 3 "temperature out of range" fmtbank --user adam freezer add "Freezer 3" --temp -300
expect 3 "a name that looks like an ID" fmtbank --user adam freezer add "$F1" --temp -80
expect 2 "missing --temp" fmtbank --user adam freezer add "Freezer 3"
assert_contains "$ERR" "missing --temp" "says what is missing"
expect 6 "technician cannot add freezers" fmtbank --user alice freezer add "Freezer 3" --temp -80
assert_contains "$ERR" "adding freezers requires the admin role" "names the role"
assert_eq "$(audit_count)" "$before" "refused freezer adds changed nothing"

expect 0 "box by freezer name" fmtbank --user adam box add --freezer "Freezer 1" --rack R1 --rows 8 --cols 12
B1=$OUT
assert_eq "$(sql "SELECT fmtbank.check_char(left('$B1', -1)) = right('$B1', 1) AND '$B1' ~ '^B[0-9]{6}.$'")" "t" "prints a box ID with its check character"
expect 0 "box by freezer ID, largest size" fmtbank --user adam box add --freezer "$F2" --rows 16 --cols 24
B2=$OUT
assert_eq "$(sql "SELECT count(*) FROM fmtbank.placement p JOIN fmtbank.box b ON b.id = p.box WHERE b.box_id = '$B2'")" "384" "a 16 x 24 box has 384 positions"
assert_eq "$(sql "SELECT string_agg(slot, ',' ORDER BY prow, pcol) FROM fmtbank.placement p JOIN fmtbank.box b ON b.id = p.box WHERE b.box_id = '$B1' AND (prow, pcol) IN ((1,1),(1,12),(8,12))")" "$B1:A1,$B1:A12,$B1:H12" "positions are A1 .. H12"

before=$(audit_count)
expect 3 "17 rows" fmtbank --user adam box add --freezer "Freezer 1" --rows 17 --cols 12
assert_contains "$ERR" 'invalid --rows "17"' "names the field"
expect 3 "25 columns" fmtbank --user adam box add --freezer "Freezer 1" --rows 8 --cols 25
expect 3 "0 rows" fmtbank --user adam box add --freezer "Freezer 1" --rows 0 --cols 12
expect 4 "unknown freezer" fmtbank --user adam box add --freezer "Cupboard" --rows 8 --cols 12
assert_contains "$ERR" 'freezer "Cupboard" not found' "names the freezer"
bad_freezer="${F1:0:5}$( [ "${F1:5:1}" = "0" ] && echo 1 || echo 0 )"
expect 3 "freezer ID with a bad check character" fmtbank --user adam box add --freezer "$bad_freezer" --rows 8 --cols 12
assert_contains "$ERR" "invalid check character in freezer ID" "says so"
expect 2 "missing --rows" fmtbank --user adam box add --freezer "Freezer 1" --cols 12
expect 2 "missing --freezer" fmtbank --user adam box add --rows 8 --cols 12
expect 6 "technician cannot add boxes" fmtbank --user alice box add --freezer "Freezer 1" --rows 8 --cols 12
assert_eq "$(audit_count)" "$before" "refused box adds changed nothing"

# Not even through psql.
sql_as alice "INSERT INTO fmtbank.freezer (freezer_id, name, temp_c) VALUES ('F99990', 'x', -80)"
assert_contains "$ERR" "permission denied" "technician cannot insert a freezer with psql"
sql_as adam "UPDATE fmtbank.placement SET aliquot = NULL"
assert_contains "$ERR" "permission denied" "admin cannot update placements with psql"
sql_as alice "SELECT fmtbank.box_add('Freezer 1', NULL, '8', '12')"
assert_contains "$ERR" "permission denied" "technician cannot call box_add with psql"
assert_eq "$(audit_count)" "$before" "psql attempts changed nothing"

# Every function of the inventory migrations: no EXECUTE for PUBLIC (only the roles granted).
names=$(grep -ho 'CREATE FUNCTION fmtbank\.[a-z_]*' "$FMTBANK_SRC"/schema/02[0-3]_*.sql | sed 's/.*\.//' | sort -u | paste -sd, -)
nfun=$(sql "SELECT count(*) FROM pg_proc WHERE pronamespace = 'fmtbank'::regnamespace AND proname = ANY (string_to_array('$names', ','))")
[ "$nfun" -ge 35 ] && ok "found the $nfun inventory functions" || not_ok "found the inventory functions" "only $nfun"
assert_eq "$(sql "SELECT coalesce(string_agg(proname, ' '), 'none') FROM pg_proc WHERE pronamespace = 'fmtbank'::regnamespace AND proname = ANY (string_to_array('$names', ',')) AND (proacl IS NULL OR has_function_privilege('public', oid, 'EXECUTE'))")" "none" "no inventory function is executable by PUBLIC"

expect 0 "location list" fmtbank --user alice location list
assert_contains "$OUT" "$(shown "$B1")" "lists the first box"
assert_contains "$OUT" "$(shown "$B2")" "lists the second box"
expect 0 "location list --freezer, json" fmtbank --user audrey --format json location list --freezer "$F2"
assert_contains "$OUT" "\"box\":\"$B2\",\"rows\":16,\"cols\":24,\"occupied\":0,\"free\":384" "the auditor reads the second freezer's box"
assert_not_contains "$OUT" "$B1" "and not the first freezer's"
expect 4 "location list of an unknown freezer" fmtbank --user alice location list --freezer nowhere

# Tubes for the map: three doses and the retained sample; A1, A2, C4 and A3.
LOT=$(inv_lot D-0001 2 500)
mapfile -t AL < <(inv_process "$LOT" 3)
assert_eq "${#AL[@]}" "4" "three doses and a retained sample to store"
scan_as alice "$B1"$'\n'"${AL[0]}"$'\n'"${AL[1]}"$'\n'C4$'\n'"${AL[2]}"$'\n'"${AL[3]}"$'\n'
assert_eq "$RC" "0" "stored them"
sql "UPDATE fmtbank.aliquot SET status = 'released' WHERE aliquot_id = '${AL[1]}'" >/dev/null

expect 0 "location show, piped" fmtbank --user alice location show "$B1"
assert_contains "$OUT" "Box $B1: freezer $F1 \"Freezer 1\" (-80.0 °C), site Main lab, rack R1; 8 x 12, 4 occupied, 92 free" "header names freezer, site, rack and the fill"
assert_contains "$OUT" "     1  2  3  4  5  6  7  8  9 10 11 12" "column numbers"
assert_contains "$OUT" " A   Q  R  S  .  .  .  .  .  .  .  .  ." "row A: quarantine, released, retained sample, free"
assert_contains "$OUT" " C   .  .  .  Q  .  .  .  .  .  .  .  ." "row C: the tube at C4"
assert_contains "$OUT" " H   .  .  .  .  .  .  .  .  .  .  .  ." "row H: empty"
assert_contains "$OUT" "Q quarantine  R released  S retained sample  . free" "legend of the states shown"
assert_not_contains "$OUT" $'\033' "no colour when stdout is not a terminal"

# At a terminal (script gives the command a pty): colour, unless NO_COLOR is set.
tty_out=$(NO_COLOR= script -qec "fmtbank --user alice location show $B1" /dev/null)
assert_contains "$tty_out" $'\033[33mQ\033[0m' "colour at a terminal"
tty_out=$(NO_COLOR=1 script -qec "fmtbank --user alice location show $B1" /dev/null)
assert_not_contains "$tty_out" $'\033' "no colour at a terminal with NO_COLOR set"
assert_contains "$tty_out" " A   Q  R  S" "same map without colour"

expect 0 "location show, json" fmtbank --user audrey --format json location show "$B1"
assert_contains "$OUT" "\"box\":\"$B1\",\"freezer\":\"$F1\"" "box and freezer"
assert_contains "$OUT" "\"occupied\":4,\"free\":92" "fill"
assert_contains "$OUT" "{\"position\":\"C4\",\"aliquot\":\"${AL[2]}\",\"lot\":\"$LOT\",\"donor\":\"D-0001\",\"status\":\"quarantine\"" "the tube at C4"
expect 0 "location show, tsv" fmtbank --user alice --format tsv location show "$B1"
assert_eq "$(printf '%s\n' "$OUT" | head -1)" "$(printf 'position\taliquot\tlot\tdonor\tstatus\texpires\tretained\theld')" "tsv header (held: a case holds the tube)"
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "5" "one tsv line per tube"
expect 0 "an empty box" fmtbank --user alice location show "$B2"
assert_contains "$OUT" "0 occupied, 384 free" "shows it empty"
assert_contains "$OUT" " P   .  .  ." "down to row P"
expect 4 "unknown box" fmtbank --user alice location show "$(sql "SELECT fmtbank.with_check('B999999')")"
assert_contains "$ERR" "not found" "says not found"
expect 3 "box ID with a bad check character" fmtbank --user alice location show "${B1:0:7}$( [ "${B1:7:1}" = "0" ] && echo 1 || echo 0 )"
assert_contains "$ERR" "invalid check character in box ID" "says so"
expect 3 "not a box ID" fmtbank --user alice location show "$LOT"
assert_contains "$ERR" "is not a valid box ID" "says so"

expect 0 "status counts lots and aliquots" fmtbank --user alice --format json status
assert_contains "$OUT" '{"entity" : "aliquot", "state" : "quarantine", "count" : 3}' "aliquots by state"
assert_contains "$OUT" '{"entity" : "lot", "state" : "quarantine", "count" : 1}' "lots by state"

done_testing
