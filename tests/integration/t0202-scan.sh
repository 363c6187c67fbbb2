#!/usr/bin/env bash
# t0202-scan: the barcode session: store (next free, fixed position), retrieve, audit; one
# OK/ERR line per scan, answered at once, bell only at a terminal, summary, exit codes; every
# refused scan changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
setup_db
B1=$(inv_box 8 12)
B2=$(inv_box 2 2)
F1=$(sql "SELECT freezer_id FROM fmtbank.freezer")
LOT=$(inv_lot D-0001 2 600)
mapfile -t AL < <(inv_process "$LOT" 10)   # AL[0..9] doses 001..010, AL[10] the retained sample
assert_eq "${#AL[@]}" "11" "10 doses and a retained sample"
unknown=$(sql "SELECT fmtbank.with_check('L26999999-001')")
flip() { local s=$1 c=${1: -1}; [ "$c" = 0 ] && c=1 || c=0; echo "${s:0:${#s}-1}$c"; }

# --- store: next free row-major, a fixed position, the answer lines and the summary
scan_as alice "$B1"$'\n'"${AL[0]}"$'\n'"${AL[1]}"$'\n\n'c4$'\n'"${AL[2]}"$'\n'"${AL[3]}"$'\n'"${AL[10],,}"$'\n'
assert_eq "$RC" "0" "a clean session exits 0"
expected="OK box $B1 (8 x 12): all 96 positions free
OK stored ${AL[0]} in $B1:A1
OK stored ${AL[1]} in $B1:A2
OK next tube goes to $B1:C4
OK stored ${AL[2]} in $B1:C4
OK stored ${AL[3]} in $B1:A3
OK stored ${AL[10]} in $B1:A4
SUMMARY 7 scans: 7 OK, 0 refused; 5 stored, 0 retrieved, 0 seen; 0 audit discrepancies"
assert_eq "$OUT" "$expected" "one answer per scan (the empty line ignored), row-major, C4 fixed once, summary"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.custody_event WHERE kind = 'place' AND who = 'alice'")" "5" "a custody event per placement"
scan_as alice "$B1"$'\n'
assert_contains "$OUT" "OK box $B1 (8 x 12): 91 free: A5-A12, B1-B12, C1-C3, C5-C12, D1-D12, E1-E12, F1-F12, G1-G12, H1-H12" "the box scan lists the free positions"

# --- every refusal: ERR, exit 5, nothing changed
sql "UPDATE fmtbank.aliquot SET status = 'issued' WHERE aliquot_id = '${AL[5]}';
     UPDATE fmtbank.aliquot SET expires_at = now() - interval '1 day' WHERE aliquot_id = '${AL[6]}';
     UPDATE fmtbank.aliquot SET thawed_at = now() - interval '1 hour' WHERE aliquot_id = '${AL[7]}'" >/dev/null
fmtbank --user alice --reason "leaking" aliquot discard "${AL[4]}" 2>/dev/null
refusal() { # DESCRIPTION INPUT EXPECTED-ERR-TEXT
    local state
    state=$(inv_state)
    scan_as alice "$2"
    assert_eq "$RC" "5" "$1: exit 5"
    assert_contains "$OUT" "ERR $3" "$1: says why"
    assert_contains "$OUT" "1 refused" "$1: counted as refused"
    assert_eq "$(inv_state)" "$state" "$1: nothing changed"
}
refusal "bad check character" "$B1"$'\n'"$(flip "${AL[8]}")"$'\n' "invalid check character in aliquot ID \"$(flip "${AL[8]}")\" - The ID was mistyped or misread; scan or type it again."
refusal "bad box check character" "$(flip "$B1")"$'\n' "invalid check character in box ID"
refusal "unknown aliquot" "$B1"$'\n'"$unknown"$'\n' "aliquot \"$unknown\" not found"
refusal "unknown box" "$(sql "SELECT fmtbank.with_check('B999999')")"$'\n' "box \""
refusal "a lot ID" "$B1"$'\n'"$LOT"$'\n' "\"$LOT\" is a lot ID, not a box, position or tube"
refusal "a freezer ID" "$B1"$'\n'"$F1"$'\n' "\"$F1\" is a freezer ID, not a box, position or tube"
refusal "position outside the box" "$B1"$'\n'J1$'\n' "position \"J1\" is outside box \"$B1\" - The box has rows A to H and columns 1 to 12."
refusal "column outside the box" "$B1"$'\n'A13$'\n' "position \"A13\" is outside box"
refusal "occupied position" "$B1"$'\n'C4$'\n' "position \"$B1:C4\" is occupied by \"${AL[2]}\""
refusal "stored elsewhere" "$B2"$'\n'"${AL[0]}"$'\n' "cannot store \"${AL[0]}\": it is already stored in \"$B1:A1\" - Retrieve it first, or move it with \"fmtbank aliquot move\"."
refusal "scanned twice into the same box" "$B1"$'\n'"${AL[1]}"$'\n' "cannot store \"${AL[1]}\": it is already stored in \"$B1:A2\" - It was scanned into this box before"
refusal "discarded tube" "$B1"$'\n'"${AL[4]}"$'\n' "cannot store \"${AL[4]}\": it is discarded"
refusal "issued tube" "$B1"$'\n'"${AL[5]}"$'\n' "cannot store \"${AL[5]}\": it is issued"
refusal "expired tube" "$B1"$'\n'"${AL[6]}"$'\n' "cannot store \"${AL[6]}\": it is expired - It expired on"
refusal "thawed tube" "$B1"$'\n'"${AL[7]}"$'\n' "cannot store \"${AL[7]}\": it was thawed at"
refusal "no box scanned" "${AL[8]}"$'\n' "cannot store \"${AL[8]}\": no box selected - Scan the box first."
refusal "position without a box" "C5"$'\n' "cannot use position \"C5\": no box selected"
refusal "garbage" "$B1"$'\n'"hello"$'\n' "unrecognised scan \"HELLO\""
refusal "bad mode" "MODE fly"$'\n' "invalid scan mode \"fly\""
refusal "position in retrieve mode" "MODE retrieve"$'\n'"$B1"$'\n'C5$'\n' "cannot use position \"C5\" in retrieve mode"
refusal "retrieve from the wrong box" "MODE retrieve"$'\n'"$B2"$'\n'"${AL[0]}"$'\n' "cannot retrieve \"${AL[0]}\" from box \"$B2\": it is stored in \"$B1:A1\""
refusal "retrieve a tube not stored" "MODE retrieve"$'\n'"$B1"$'\n'"${AL[8]}"$'\n' "cannot retrieve \"${AL[8]}\": it is not stored in any box"

# A box that fills up.
state=$(inv_state)
scan_as alice "$B2"$'\n'"${AL[8]}"$'\n'"${AL[9]}"$'\n'
assert_eq "$RC" "0" "two tubes into the 2 x 2 box"
assert_contains "$OUT" "OK stored ${AL[9]} in $B2:A2" "second position"
sql "UPDATE fmtbank.aliquot SET status = 'quarantine', expires_at = now() + interval '1 year', thawed_at = NULL WHERE aliquot_id IN ('${AL[5]}', '${AL[6]}', '${AL[7]}')" >/dev/null
scan_as alice "$B2"$'\n'"${AL[5]}"$'\n'"${AL[6]}"$'\n'"${AL[7]}"$'\n'"${AL[3]}"$'\n'
assert_eq "$RC" "5" "a full box refuses the fifth tube"
assert_contains "$OUT" "ERR cannot store \"${AL[7]}\": box \"$B2\" is full - Scan another box." "says the box is full"
assert_contains "$OUT" "OK box $B2 (2 x 2): 2 free: B1-B2" "free positions before"
assert_contains "$OUT" "SUMMARY 5 scans: 3 OK, 2 refused; 2 stored" "summary counts OK and refused scans"

# Refusals do not stop the session, and the state carries on: the fixed position survives a
# refused tube.
scan_as alice "$B1"$'\n'B1$'\n'"$unknown"$'\n'"${AL[7]}"$'\n'
assert_contains "$OUT" "OK stored ${AL[7]} in $B1:B1" "the position fixed before a refused scan still applies"

# --- retrieve
scan_as alice "MODE retrieve"$'\n'"$B1"$'\n'"${AL[1]}"$'\n'"${AL[7]}"$'\n'
assert_eq "$RC" "0" "retrieve session"
assert_contains "$OUT" "OK retrieved ${AL[1]} from $B1:A2" "retrieved with its former position"
assert_eq "$(where "${AL[1]}")" "" "no longer in the box"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.custody_event e JOIN fmtbank.aliquot a ON a.id = e.aliquot WHERE kind = 'remove' AND aliquot_id = '${AL[1]}' AND from_prow = 1 AND from_pcol = 2")" "1" "a removal custody event"
scan_as alice "$B1"$'\n'"${AL[8]}"$'\n'
assert_eq "$RC" "5" "a tube can only be in one place"
scan_as alice "$B1"$'\n'"${AL[1]}"$'\n'
assert_contains "$OUT" "OK stored ${AL[1]} in $B1:A2" "a retrieved tube can be stored again, in the first free position"
run fmtbank --user alice --mode retrieve scan </dev/null
expect 0 "--mode retrieve starts in retrieve mode" bash -c "printf '%s\n%s\n' '$B1' '${AL[1]}' | fmtbank --user alice scan --mode retrieve"
assert_contains "$OUT" "OK retrieved ${AL[1]}" "retrieved"
expect 2 "--mode bogus" fmtbank --user alice scan --mode bogus

# --- audit: missing and unexpected tubes, recorded
# B1 now: A1 AL0, A3 AL3, A4 AL10, C4 AL2; B2: A1 AL8, A2 AL9, B1 AL5, B2 AL6
audits=$(sql "SELECT count(*) FROM fmtbank.box_audit")
scan_as alice "MODE audit"$'\n'"$B1"$'\n'"${AL[0]}"$'\n'"${AL[3]}"$'\n'"${AL[8]}"$'\n'"${AL[3]}"$'\n'"$B2"$'\n'"${AL[8]}"$'\n'"${AL[9]}"$'\n'"${AL[5]}"$'\n'"${AL[6]}"$'\n'
assert_eq "$RC" "5" "discrepancies: exit 5"
expected="OK mode audit: scan a box to audit it
OK box $B1: auditing, 4 tubes expected; scan every tube, then the next box or END
OK seen ${AL[0]} (A1)
OK seen ${AL[3]} (A3)
OK seen ${AL[8]} (not expected here: recorded in $B2:A1)
OK seen ${AL[3]} again
ERR audit of box $B1: 4 expected, 3 scanned, 2 missing, 1 unexpected
  missing ${AL[10]} (expected at $B1:A4)
  missing ${AL[2]} (expected at $B1:C4)
  unexpected ${AL[8]} (recorded in $B2:A1)
OK box $B2: auditing, 4 tubes expected; scan every tube, then the next box or END
OK seen ${AL[8]} (A1)
OK seen ${AL[9]} (A2)
OK seen ${AL[5]} (B1)
OK seen ${AL[6]} (B2)
OK audit of box $B2: all 4 expected tubes scanned
OK end of session
SUMMARY 11 scans: 11 OK, 0 refused; 0 stored, 0 retrieved, 8 seen; 3 audit discrepancies"
assert_eq "$OUT" "$expected" "audit report at the next box and at the end of input"
assert_contains "$ERR" "the audit found 3 discrepancies" "the error says why the exit code"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.box_audit")" "$((audits + 2))" "both audits recorded"
assert_eq "$(sql "SELECT expected || '/' || seen || '/' || jsonb_array_length(missing) || '/' || jsonb_array_length(unexpected) || '/' || who FROM fmtbank.box_audit ORDER BY id DESC OFFSET 1 LIMIT 1")" "4/3/2/1/alice" "with what was missing and unexpected"
assert_eq "$(where "${AL[8]}")" "$B2:A1" "an audit moves nothing"
scan_as alice "MODE audit"$'\n'"$B2"$'\n'"${AL[8]}"$'\n'"${AL[9]}"$'\n'"${AL[5]}"$'\n'"$B2"$'\n'"${AL[6]}"$'\n'END$'\n'"${AL[0]}"$'\n'
assert_eq "$RC" "0" "a clean audit exits 0"
assert_contains "$OUT" "OK box $B2: still auditing, 3 tubes scanned so far" "scanning the audited box again carries on"
assert_contains "$OUT" "OK audit of box $B2: all 4 expected tubes scanned" "END closes the audit"
assert_not_contains "$OUT" "${AL[0]}" "nothing is read after END"

# --- at a terminal: a bell on errors only; piped: never
printf '%s\n%s\n%s\n' "$B1" "$unknown" "${AL[1]}" >"$TMP/tty.in"
sql "SELECT 1" >/dev/null
tty_out=$(script -qec "fmtbank --user alice scan <'$TMP/tty.in'" /dev/null)
assert_contains "$tty_out" $'\aERR aliquot' "bell before an error at a terminal"
assert_eq "$(printf '%s' "$tty_out" | tr -cd '\a' | wc -c)" "1" "one bell for one error"
scan_as alice "$B1"$'\n'"$unknown"$'\n'
assert_not_contains "$OUT" $'\a' "no bell into a pipe"

# --- each answer comes at once, before the next scan is typed
coproc SCAN { fmtbank --user alice scan 2>/dev/null; }
scan_pid=$SCAN_PID
printf '%s\n' "$B1" >&"${SCAN[1]}"
if read -r -t 10 first <&"${SCAN[0]}"; then ok "answer arrives while the session is open"; else not_ok "answer arrives while the session is open"; fi
assert_contains "$first" "OK box $B1" "it is the box's answer"
printf '%s\n' "$unknown" >&"${SCAN[1]}"
read -r -t 10 second <&"${SCAN[0]}"
assert_contains "$second" "ERR aliquot" "the next answer too"
exec {SCAN[1]}>&-
wait "$scan_pid"
assert_eq "$?" "5" "exit 5 after a refusal"

# --- who may scan
state=$(inv_state)
scan_as audrey "$B1"$'\n'"${AL[1]}"$'\n'
assert_eq "$RC" "6" "the auditor may not scan"
assert_contains "$ERR" "scanning requires the technician role" "says so"
assert_eq "$OUT" "" "and no scan was answered"
scan_as quinn "$B1"$'\n'
assert_eq "$RC" "6" "quality may not scan"
sql_as quinn "SELECT * FROM fmtbank.scan('store', '$B1', NULL, '${AL[1]}')"
assert_contains "$ERR" "permission denied for function scan" "not through psql either"
sql_as alice "UPDATE fmtbank.placement SET aliquot = NULL WHERE aliquot IS NOT NULL"
assert_contains "$ERR" "permission denied" "a technician cannot empty a box with psql"
sql_as alice "INSERT INTO fmtbank.custody_event (aliquot, kind) SELECT id, 'remove' FROM fmtbank.aliquot LIMIT 1"
assert_contains "$ERR" "permission denied" "nor forge a custody event"
assert_eq "$(inv_state)" "$state" "nothing changed"

# --- the database goes away mid-session: one ERR line saying so, exit 7, nothing half-done
coproc SCAN { fmtbank --user alice scan 2>"$TMP/lost.err"; }
scan_pid=$SCAN_PID
# its output read through a copy: bash unsets SCAN as soon as the coprocess ends, which it may do
# between closing its input and reading what it answered
exec {scan_out}<&"${SCAN[0]}"
printf '%s\n' "$B1" >&"${SCAN[1]}"
read -r -t 10 first <&"${SCAN[0]}"
assert_contains "$first" "OK box $B1" "session started"
fmtbank db stop >/dev/null 2>&1
printf '%s\n' "${AL[9]}" >&"${SCAN[1]}"
exec {SCAN[1]}>&-
lost=$(cat <&"$scan_out")
exec {scan_out}<&-
wait "$scan_pid"
assert_eq "$?" "7" "exit 7: database unavailable"
assert_eq "$(grep -c . <<<"$lost")" "2" "one answer line, then the summary"
assert_contains "$lost" "ERR database connection lost: " "the scan is answered ERR"
assert_contains "$lost" "This scan and any after it were not recorded; scan them again." "says it was not recorded"
fmtbank db start >/dev/null 2>&1
assert_eq "$(where "${AL[9]}")" "$B2:A2" "the tube is where it was"

expect 0 "audit trail intact" fmtbank --user audrey audit verify
done_testing
