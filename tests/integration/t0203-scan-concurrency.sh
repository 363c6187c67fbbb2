#!/usr/bin/env bash
# t0203-scan-concurrency: two technicians scanning into the same box at the same moment, many
# rounds, with real parallel "fmtbank scan" processes: no position is ever double-booked, no tube
# is in two places, and no scan is lost (every scan is answered, every OK is recorded).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
setup_db
echo 'tess-scans-pw-1' | fmtbank --user adam user add tess --role technician --name "Tess Technician" \
    --password-stdin >/dev/null 2>&1 || { echo "could not add tess"; exit 1; }
pgpass_add tess 'tess-scans-pw-1'

ROUNDS=${ROUNDS:-12}
PER=40                       # tubes per technician per round, into one 8 x 10 box (80 positions)
: >"$TMP/tubes"
while [ "$(wc -l <"$TMP/tubes")" -lt $((ROUNDS * (PER * 2 + 5))) ]; do
    LOT=$(inv_lot D-0001 2 50000)
    fmtbank --user alice donation process "$LOT" --processed "$(ts now)" --doses 999 \
        >>"$TMP/tubes" 2>/dev/null || { echo "could not process"; exit 1; }
done
mapfile -t T <"$TMP/tubes"

# Runs the two sessions at once: both wait on a FIFO, opened together.
both() { # INPUT_ALICE INPUT_TESS
    mkfifo "$TMP/go"
    (read -r _ <"$TMP/go"; fmtbank --user alice scan <"$1" >"$TMP/a.out" 2>"$TMP/a.err"; echo $? >"$TMP/a.rc") &
    (read -r _ <"$TMP/go"; fmtbank --user tess scan <"$2" >"$TMP/b.out" 2>"$TMP/b.err"; echo $? >"$TMP/b.rc") &
    sleep 0.2
    printf 'go\ngo\n' >"$TMP/go"
    wait
    rm -f "$TMP/go"
}
answers() { grep -cE '^(OK|ERR) ' "$1"; }
# "BOX:POS TUBE" for every OK stored answer of both sessions, and for what the database holds.
answered() { grep -h '^OK stored' "$TMP/a.out" "$TMP/b.out" | sed -E 's/^OK stored ([^ ]+) in ([^ ]+)$/\2 \1/' | sort; }
recorded() {
    sql "SELECT p.slot || ' ' || a.aliquot_id FROM fmtbank.placement p JOIN fmtbank.aliquot a ON a.id = p.aliquot
         JOIN fmtbank.box b ON b.id = p.box WHERE b.box_id = '$1'" | sort
}

next=0
overlap=0
bad=0
for round in $(seq "$ROUNDS"); do
    box=$(inv_box 8 10)
    { echo "$box"; printf '%s\n' "${T[@]:next:PER}"; } >"$TMP/a.in"
    { echo "$box"; printf '%s\n' "${T[@]:next+PER:PER}"; } >"$TMP/b.in"
    next=$((next + 2 * PER))
    both "$TMP/a.in" "$TMP/b.in"
    a_ok=$(grep -c '^OK stored' "$TMP/a.out"); b_ok=$(grep -c '^OK stored' "$TMP/b.out")
    stored=$(sql "SELECT count(aliquot) || '/' || count(DISTINCT aliquot) FROM fmtbank.placement p JOIN fmtbank.box b ON b.id = p.box WHERE b.box_id = '$box'")
    if [ "$(cat "$TMP/a.rc")/$(cat "$TMP/b.rc")" != "0/0" ] || [ "$a_ok/$b_ok" != "$PER/$PER" ] \
        || [ "$stored" != "$((2 * PER))/$((2 * PER))" ] || [ "$(answered)" != "$(recorded "$box")" ] \
        || [ "$(answers "$TMP/a.out")" != $((PER + 1)) ] || [ "$(answers "$TMP/b.out")" != $((PER + 1)) ]; then
        bad=$((bad + 1))
        not_ok "round $round: every tube stored once" "alice $a_ok, tess $b_ok, box $stored" "$(head -5 "$TMP/a.err" "$TMP/b.err")"
    fi
    # Did the two sessions really run at the same time?
    o=$(sql "SELECT (count(*) = 2 AND max(s) < min(e))::int FROM (SELECT who, min(at) AS s, max(at) AS e
             FROM fmtbank.custody_event e JOIN fmtbank.box b ON b.id = e.box WHERE b.box_id = '$box'
             GROUP BY who) x")
    overlap=$((overlap + o))
done
[ "$bad" -eq 0 ] && ok "$ROUNDS rounds of $PER + $PER tubes into one box at once: all stored, none twice, none lost" || true
[ "$overlap" -ge $((ROUNDS / 2)) ] && ok "the sessions overlapped in $overlap of $ROUNDS rounds" \
    || not_ok "the sessions overlapped in only $overlap of $ROUNDS rounds"

# Every placement is backed by exactly its custody event, and rows filled without gaps.
assert_eq "$(sql "SELECT count(*) FROM fmtbank.placement p WHERE p.aliquot IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM fmtbank.custody_event e WHERE e.aliquot = p.aliquot AND e.kind = 'place'
                    AND e.box = p.box AND e.prow = p.prow AND e.pcol = p.pcol)")" "0" "every placement has its custody event"
assert_eq "$(sql "SELECT count(*) FROM (SELECT aliquot FROM fmtbank.custody_event WHERE kind = 'place' GROUP BY aliquot HAVING count(*) > 1) x")" "0" "no tube placed twice"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.placement WHERE aliquot IS NULL AND box IN (SELECT box FROM fmtbank.placement GROUP BY box HAVING count(aliquot) > 0)")" "0" "the contended boxes are full, no position skipped"

# Contention on the same position and the same tube. Both fix A1 for their first tube, both offer
# the shared tube t[0], then one more tube each; the box has 4 positions. How it ends depends on
# the interleaving (a session whose fixed A1 was taken keeps trying A1 until it scans another
# position: a refused scan changes nothing), but always: one tube in A1, the shared tube stored
# once, every scan answered, and exactly the tubes answered "OK stored" are where they were said.
lost=0
for round in $(seq "$ROUNDS"); do
    box=$(inv_box 2 2)
    t=("${T[@]:next:5}")
    next=$((next + 5))
    printf '%s\nA1\n%s\n%s\n%s\n' "$box" "${t[1]}" "${t[0]}" "${t[2]}" >"$TMP/a.in"
    printf '%s\nA1\n%s\n%s\n%s\n' "$box" "${t[3]}" "${t[0]}" "${t[4]}" >"$TMP/b.in"
    both "$TMP/a.in" "$TMP/b.in"
    a1=$(grep -h "^OK stored .* in $box:A1$" "$TMP/a.out" "$TMP/b.out" | wc -l)
    shared=$(grep -h "^OK stored ${t[0]} " "$TMP/a.out" "$TMP/b.out" | wc -l)
    events=$(sql "SELECT count(*) FROM fmtbank.custody_event e JOIN fmtbank.box b ON b.id = e.box WHERE b.box_id = '$box'")
    if [ "$a1" != 1 ] || [ "$shared" != 1 ] || [ "$(answered)" != "$(recorded "$box")" ] \
        || [ "$events" != "$(answered | wc -l)" ] \
        || [ "$(( $(answers "$TMP/a.out") + $(answers "$TMP/b.out") ))" != 10 ]; then
        lost=$((lost + 1))
        not_ok "round $round of contended positions" "A1 $a1, shared $shared, events $events" \
            "$(cat "$TMP/a.out" "$TMP/b.out")"
    fi
done
[ "$lost" -eq 0 ] && ok "$ROUNDS rounds fighting for A1 and one shared tube: one winner each time, every scan answered and true" || true
grep -qh 'is occupied by\|already stored in' "$TMP/a.out" "$TMP/b.out" \
    && ok "the loser is told why" || not_ok "the loser is told why" "$(cat "$TMP/a.out" "$TMP/b.out")"

expect 0 "audit trail intact after the contention" fmtbank --user audrey audit verify
done_testing
