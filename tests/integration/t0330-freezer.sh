#!/usr/bin/env bash
# t0330-freezer: freezer temperature through the CLI and the daemon (product.md §11.3): "freezer
# reading" and its refusals; the inbox format freezer,at,temp_c (a good file imported once, the
# same content again not, a file with bad lines rejected naming each, nothing stored); the
# daemon's pass opening one excursion case that holds the tubes that were in the freezer (stored
# one row per lot), and nothing more on the next pass; held tubes refused to everyone through psql;
# "freezer show" (table, json); "todo" (an unmonitored freezer with released stock, the open
# case); a signed lift ends the storage hold. The rule's boundaries are tests/sql/sql/freezer.sql.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db
readings() { sql "SELECT count(*) FROM fmtbank.freezer_reading"; }
at() { date -d "$1" '+%Y-%m-%d %H:%M'; }

F=$(fmtbank --user adam freezer add "Cold room freezer" --temp -80 --site "Main lab")
B=$(fmtbank --user adam box add --freezer "$F" --rows 9 --cols 9)
# six tubes of two lots, in the freezer for the last 8 hours (custody backdated by the superuser:
# the excursion below is in the past); their lots released (superuser: the stock to monitor)
L1=$(inv_lot D-0001 3); L2=$(inv_lot D-0001 2)
inv_process "$L1" 3 >/dev/null; inv_process "$L2" 3 >/dev/null
sql "INSERT INTO fmtbank.custody_event (aliquot, kind, box, prow, pcol, at)
     SELECT a.id, 'place', b.id, 1, row_number() OVER (ORDER BY a.aliquot_id), now() - interval '8 hours'
     FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot, fmtbank.box b
     WHERE l.lot_id IN ('$L1', '$L2') AND NOT a.retained AND b.box_id = '$B';
     UPDATE fmtbank.placement p SET aliquot = a.id, placed_at = now() - interval '8 hours'
     FROM fmtbank.custody_event e JOIN fmtbank.aliquot a ON a.id = e.aliquot
     JOIN fmtbank.box b ON b.id = e.box
     WHERE b.box_id = '$B' AND p.box = b.id AND p.prow = e.prow AND p.pcol = e.pcol;
     UPDATE fmtbank.aliquot a SET status = 'released' FROM fmtbank.lot l
     WHERE l.id = a.lot AND l.lot_id IN ('$L1', '$L2') AND NOT a.retained;
     UPDATE fmtbank.lot SET status = 'released' WHERE lot_id IN ('$L1', '$L2')" >/dev/null
mapfile -t T < <(sql "SELECT a.aliquot_id FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot
                      WHERE l.lot_id IN ('$L1', '$L2') AND NOT a.retained ORDER BY 1")
assert_eq "${#T[@]}" "6" "six tubes in the freezer"

# --- todo: a freezer holding released stock without readings
expect 0 "todo" fmtbank --user alice todo
assert_contains "$OUT" "unmonitored_freezer" "lists the unmonitored freezer"
assert_contains "$OUT" "$F" "names it"
expect 0 "todo json" fmtbank --user audrey --format json todo
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted({k for r in d for k in r}))')" \
    "['detail', 'kind', 'role', 'since', 'subject', 'todo']" "todo json: one object per item"
expect 0 "freezer show of an unmonitored freezer" fmtbank --user alice --format json freezer show "$F"
assert_contains "$OUT" '"monitored":false' "not monitored"

# --- freezer reading: refusals change nothing
before=$(audit_count)
expect 2 "missing --temp" fmtbank --user alice freezer reading "$F" --at "$(at '-7 hours')"
expect 3 "a reading in the future" fmtbank --user alice freezer reading "$F" --at "$(at '+1 hour')" --temp -80
assert_contains "$ERR" "is in the future" "says so"
expect 3 "an impossible temperature" fmtbank --user alice freezer reading "$F" --at "$(at '-7 hours')" --temp -300
assert_contains "$ERR" "impossible temperature -300.0" "says so"
expect 3 "not a number" fmtbank --user alice freezer reading "$F" --at "$(at '-7 hours')" --temp cold
expect 4 "an unknown freezer" fmtbank --user alice freezer reading "No such freezer" --at "$(at '-7 hours')" --temp -80
expect 6 "an auditor cannot record readings" fmtbank --user audrey freezer reading "$F" --at "$(at '-7 hours')" --temp -80
assert_eq "$(audit_count)" "$before" "no refused reading changed anything"
assert_eq "$(readings)" "0" "no reading"

# --- one reading by hand: the freezer is monitored; the same again changes nothing
t7=$(at '-7 hours')
expect 0 "a reading" fmtbank --user alice freezer reading "$F" --at "$t7" --temp -80
assert_eq "$OUT" "" "prints nothing"
expect 0 "the same reading again" fmtbank --user alice freezer reading "$F" --at "$t7" --temp -80
assert_contains "$ERR" "nothing changed" "an idempotent repeat"
expect 5 "another temperature at the same time" fmtbank --user alice freezer reading "$F" --at "$t7" --temp -70
assert_contains "$ERR" "already has a reading at" "refused"
assert_eq "$(readings)" "1" "one reading"
expect 0 "todo" fmtbank --user alice todo
assert_not_contains "$OUT" "unmonitored_freezer" "a monitored freezer is off the list"

# --- the inbox: the monitoring system's export every 20 minutes from 6h40 to 2h20 ago, above the
# limit (-60) from 5h to 4h20 ago (40 minutes: an excursion)
H=freezer,at,temp_c
{
    echo "$H"
    for m in 400 380 360 340 320; do echo "$F,$(at "-$m minutes"),-79.5"; done
    for m in 300 280 260; do echo "$F,$(at "-$m minutes"),-52"; done
    for m in 240 220 200 180 160 140; do echo "$F,$(at "-$m minutes"),-80"; done
} >"$INBOX/export-1.csv"
cp "$INBOX/export-1.csv" "$INBOX/export-1-again.csv"
{
    echo "$H"
    echo "$F,$(at '-170 minutes'),-80"
    echo "F9999X,$(at '-160 minutes'),-80"
    echo "$F,$(at '-150 minutes'),-300"
    echo "$F,not a time,-80"
} >"$INBOX/export-2.csv"
echo "settle = 0" >"$TMP/fast.conf"
expect 0 "the daemon imports and judges" fmtbankd --once --inbox "$INBOX" --config "$TMP/fast.conf"
assert_contains "$ERR" 'imported "export-1-again.csv": 14 rows' "the first file (by name) imported"
assert_contains "$ERR" '"export-1.csv" has the same content as "export-1-again.csv"' "the same content not again"
report=$(cat "$INBOX/rejected/export-2.csv.errors.txt")
assert_contains "$report" 'export-2.csv:3: freezer "F9999X" not found' "report: unknown freezer"
assert_contains "$report" 'export-2.csv:4: impossible temperature -300.0' "report: impossible temperature"
assert_contains "$report" 'export-2.csv:5: invalid reading time "not a time"' "report: bad time"
assert_eq "$(grep -c '^export-2.csv:' "$INBOX/rejected/export-2.csv.errors.txt")" "3" "exactly the 3 bad lines"
assert_eq "$(readings)" "15" "the good file's 14 readings once, nothing of the rejected file"
assert_eq "$(sql "SELECT format || ':' || status FROM fmtbank.inbox_file ORDER BY id" | tr '\n' ' ')" \
    "reading:imported reading:duplicate reading:rejected " "ledger"
assert_contains "$ERR" "sweep freezer: excursions recorded, each opening a case: 1" "one excursion found"
C=$(sql "SELECT case_code FROM fmtbank.safety_case WHERE source = 'excursion'")
assert_eq "$(sql "SELECT count(*) FROM fmtbank.safety_case WHERE source = 'excursion'")" "1" "one case"
assert_eq "$(sql "SELECT count(*) || ' rows, ' || sum(cardinality(aliquots)) || ' tubes' FROM fmtbank.case_hold h
                  JOIN fmtbank.safety_case c ON c.id = h.case_id WHERE c.case_code = '$C'")" \
    "2 rows, 6 tubes" "one hold row per lot holding its tubes"
expect 0 "case list" fmtbank --user quinn --format json case list --source excursion
assert_contains "$OUT" '"tubes_held":6' "six tubes held"
assert_contains "$OUT" 'above its limit of -60.0' "about the excursion"
expect 0 "the next pass" fmtbankd --once --inbox "$INBOX" --config "$TMP/fast.conf"
assert_not_contains "$ERR" "sweep freezer" "nothing new"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.safety_case WHERE source = 'excursion'")" "1" "still one case"

# --- held tubes: JSON, and refused to everyone, through the CLI and psql
expect 0 "aliquot show" fmtbank --user alice --format json aliquot show "${T[0]}"
assert_contains "$OUT" '"held":true' "held"
assert_contains "$OUT" "\"case\": \"$C\"" "by the case"
expect 0 "aliquot list --held" fmtbank --user alice --format tsv aliquot list --held
assert_eq "$(printf '%s\n' "$OUT" | grep -c '^L')" "6" "six held tubes listed"
before=$(audit_count)
expect 5 "a held tube is not issued" fmtbank --user alice aliquot issue "${T[0]}" --recipient R-0901 --site "Site North"
assert_contains "$ERR" "held by case $C" "names the case"
expect 5 "nor discarded" fmtbank --user alice aliquot discard "${T[1]}" --reason "dropped"
for u in alice quinn; do
    sql_as "$u" "select fmtbank.aliquot_issue('${T[2]}', 'R-0902', 'Site North')"
    assert_contains "$ERR" "held by case $C" "psql: $u cannot issue it"
    sql_as "$u" "select set_config('fmtbank.reason', 'dropped', false); select fmtbank.aliquot_discard('${T[2]}')"
    assert_contains "$ERR" "held by case" "psql: $u cannot discard it"
done
sql_as adam "update fmtbank.aliquot set status = 'discarded' where aliquot_id = '${T[3]}'"
assert_contains "$ERR" "permission denied" "psql: the admin cannot change a tube by hand"
sql_as postgres "update fmtbank.aliquot set status = 'issued' where aliquot_id = '${T[3]}'"
assert_contains "$ERR" "held by case $C" "psql: not even the superuser"
assert_eq "$(audit_count)" "$before" "nothing changed"

# --- freezer show
expect 0 "freezer show" fmtbank --user audrey freezer show "$F" --from "$(at '-8 hours')"
assert_contains "$OUT" "limit_c" "the limit"
assert_contains "$OUT" "above the limit" "readings above the limit marked"
assert_contains "$OUT" "$(shown "$C")" "the case"
expect 0 "freezer show json" fmtbank --user audrey --format json freezer show "$F" --from "$(at '-8 hours')"
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["monitored"], d["limit_c"], len(d["readings"]), [(e["kind"], e["max_temp_c"], e["case"]) for e in d["excursions"]])')" \
    "True -60.0 15 [('above', -52.0, '$C')]" "json: monitored, limit, readings, the excursion and its case"
expect 0 "freezer show: default window, the last 24 hours" fmtbank --user audrey --format tsv freezer show "$F"
assert_eq "$(printf '%s\n' "$OUT" | grep -c "^$F")" "15" "15 readings in the last 24 hours"
expect 3 "freezer show: a reversed window" fmtbank --user audrey freezer show "$F" --from "$(at '-1 hour')" --to "$(at '-2 hours')"
expect 4 "freezer show: unknown" fmtbank --user audrey freezer show "No such freezer"

# --- todo: the open case waits for a decision; a signed lift ends the storage hold
expect 0 "todo" fmtbank --user quinn todo
assert_contains "$OUT" "case_decision" "the open case"
assert_contains "$OUT" "$C" "named"
printf 'quinn-signs-1\n' >"$TMP/pw"
run_in "$TMP/pw" fmtbank --user quinn case decide "$C" --lift --meaning "Contents checked: stayed frozen" --password-stdin
assert_eq "$RC" "0" "quality lifts the hold"
assert_contains "$ERR" "0 lots and 6 aliquots no longer held" "the six tubes (a storage hold holds tubes, not whole lots)"
expect 0 "aliquot show" fmtbank --user alice --format json aliquot show "${T[0]}"
assert_contains "$OUT" '"held":false' "no longer held"
expect 0 "todo" fmtbank --user quinn todo
assert_not_contains "$OUT" "$C" "the decided case is off the list"
check_daemon_logs
done_testing
