#!/usr/bin/env bash
# t0206-donation-entry: donation entry (product.md §11.2) through the CLI: a donation is judged on
# the facts valid at collection as known at entry (evening paperwork for a morning collection is
# accepted; a donation-day questionnaire taken after the collection does not count; --as-of
# answers stay by recorded time); lateness kept and shown, --reason past max_entry_hours; a
# probable duplicate within duplicate_donation_minutes refused unless --not-duplicate --reason;
# "donation check" creates nothing; "lot void" and its refusals; the roles through psql. The exact
# boundaries (24 h vs 24 h + 1 s, 59/60/61 minutes at the second) are also in tests/sql/sql/entry.sql.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inventory.sh"
setup_db

# screened CODE: a clear full questionnaire and an acceptable panel dated three days ago, and a
# clear donation-day questionnaire (at 00:00) for the day before yesterday, yesterday and today,
# all recorded now.
screened() {
    local code=$1 day
    write_full "$TMP/full-$code.csv"
    fmtbank --user alice questionnaire record "$code" --date "$(d -3)" --file "$TMP/full-$code.csv" \
        >/dev/null || { echo "screened: questionnaire of $code refused"; exit 1; }
    { echo "donor,test,collected,result,unit,lab"; panel_rows "$code" "$(d -3)"; } >"$TMP/panel-$code.csv"
    fmtbank --user alice result import "$TMP/panel-$code.csv" >/dev/null 2>&1 ||
        { echo "screened: panel of $code refused"; exit 1; }
    for day in "$(d -2)" "$(d -1)" "$(d 0)"; do
        # D-0002's donation-day questionnaire of yesterday was taken at 09:30
        if [ "$code" = D-0002 ] && [ "$day" = "$(d -1)" ]; then
            write_short "$TMP/s2.csv"
            fmtbank --user alice questionnaire record "$code" --date "$day" --short --time 09:30 \
                --file "$TMP/s2.csv" >/dev/null || { echo "screened: questionnaire of $code refused"; exit 1; }
        else
            short_q "$code" "$day"
        fi
    done
}
# counts a refused or read-only command must leave unchanged: lots, the lot counter, audit rows
state() {
    sql "SELECT (SELECT count(*) FROM fmtbank.lot) || '/' ||
                coalesce((SELECT sum(last) FROM fmtbank.id_counter WHERE kind = 'lot'), 0) || '/' ||
                (SELECT count(*) FROM fmtbank.audit_log)"
}
json() { fmtbank --user alice --format json lot show "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)$2)"; }
# at MINUTES: a collection time MINUTES after the base (3 hours ago, to the minute)
base=$(($(date -d '-3 hours' +%s) / 60 * 60))
at() { date -d "@$((base + $1 * 60))" '+%F %H:%M'; }

for c in D-0004 D-0005 D-0006 D-0007; do
    fmtbank --user alice donor add "$c" --birth-year 1990 --sex F >/dev/null && donor_consent "$c"
done
for c in D-0001 D-0002 D-0003 D-0004 D-0005 D-0006 D-0007; do screened "$c"; done

# --- evening paperwork for a morning collection: everything recorded now, collected 10 h ago
MORNING=$(ts '-10 hours')
T_BEFORE=$(date +%s)
expect 0 "paperwork typed 10 h after the collection: accepted" \
    fmtbank --user alice donation add D-0001 --collected "$MORNING" --mass 200 --bristol 4
LM=$OUT
assert_eq "$(sql "SELECT status || ':' || (entry_reason IS NULL) FROM fmtbank.lot WHERE lot_id = '$LM'")" "quarantine:true" \
    "in quarantine, no reason needed within max_entry_hours"
T_AFTER=$(date +%s)
# entered_at - collected_at of the JSON itself, in whole seconds; and within the seconds the command ran
late=$(fmtbank --user alice --format json lot show "$LM" | python3 -c '
import json, sys
from datetime import datetime
o = json.load(sys.stdin)
d = datetime.fromisoformat(o["entered_at"]) - datetime.fromisoformat(o["collected_at"])
print(o["entered_late_seconds"], int(d.total_seconds() // 1))')
assert_eq "${late#* }" "${late% *}" "lot show: entered_late_seconds is entered_at - collected_at"
m=$(date -d "$MORNING" +%s)
[ "${late% *}" -ge $((T_BEFORE - m)) ] && [ "${late% *}" -le $((T_AFTER - m)) ] &&
    ok "entered_late_seconds counts from the collection to the moment of recording" ||
    not_ok "entered_late_seconds ${late% *} outside $((T_BEFORE - m))..$((T_AFTER - m))"
assert_contains "$(fmtbank --user alice --format json lot list)" '"entered_late_seconds"' "lot list JSON shows the lateness"
# --as-of answers stay by recorded time: at the collection time nothing had been recorded
expect 4 "donor explain --as-of the collection time: as recorded by then" fmtbank --user alice --format json donor explain D-0001 --as-of "$MORNING"
assert_contains "$ERR" "was not registered at" "the as-of answer is unchanged (nothing was recorded then)"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor_status_at((fmtbank.donor_get('D-0001')).id, '$MORNING')")" "0" \
    "donor_status_at still answers by recorded time"

# --- a donation-day questionnaire taken after the collection does not count
expect 5 "collected at 09:29, the questionnaire of 09:30 does not count" \
    fmtbank --user alice --reason "entered late in this test" donation add D-0002 --collected "$(d -1) 09:29" --mass 200 --bristol 4
assert_contains "$ERR" "donation_questionnaire: The donation-day questionnaire of D-0002 on $(d -1) was taken after the collection ($(d -1) 09:29)" "says it was taken after"
expect 0 "collected at 10:30 (another donation an hour later), it counts" \
    fmtbank --user alice --reason "entered late in this test" donation add D-0002 --collected "$(d -1) 10:30" --mass 200 --bristol 4

# --- lateness: max_entry_hours (24 h) after the collection needs --reason
s=$(state)
expect 3 "entered 24 h 01 min after the collection without --reason: refused" \
    fmtbank --user alice donation add D-0003 --collected "$(ts '-1441 minutes')" --mass 200 --bristol 4
assert_contains "$ERR" "after its collection (more than max_entry_hours, 24 h) requires a reason" "says why"
assert_eq "$(state)" "$s" "nothing recorded, no lot number used, no audit row"
expect 0 "entered 23 h 58 min after: no reason needed" \
    fmtbank --user alice donation add D-0003 --collected "$(ts '-1438 minutes')" --mass 200 --bristol 4
expect 0 "entered 26 h after, with --reason" \
    fmtbank --user alice --reason "paper form found in the collection room" donation add D-0003 --collected "$(ts '-26 hours')" --mass 200 --bristol 4
LL=$OUT
assert_eq "$(json "$LL" "['entry_reason']")" "paper form found in the collection room" "the reason is kept with the lot"
assert_eq "$(( $(json "$LL" "['entered_late_seconds']") / 3600 ))" "26" "shown 26 h late"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'lot' AND key = '$LL' AND op = 'INSERT' AND reason = 'paper form found in the collection room'")" "1" \
    "and in the audit trail"

# --- a probable duplicate: within 60 minutes of another donation of the donor, either side
expect 0 "the first donation" fmtbank --user alice donation add D-0004 --collected "$(at 0)" --mass 200 --bristol 4
L0=$OUT
for m in 59 60 -59 -60; do
    s=$(state)
    expect 5 "$m minutes from it: a probable duplicate" \
        fmtbank --user alice donation add D-0004 --collected "$(at "$m")" --mass 200 --bristol 4
    assert_eq "$(state)" "$s" "$m minutes: nothing recorded"
done
assert_contains "$ERR" "probable duplicate of $L0" "names the other lot"
assert_contains "$ERR" "--not-duplicate --reason" "says how to register a second donation"
s=$(state)
expect 3 "--not-duplicate without --reason: refused" \
    fmtbank --user alice donation add D-0004 --collected "$(at 30)" --mass 200 --bristol 4 --not-duplicate
assert_contains "$ERR" "requires a reason" "says so"
assert_eq "$(state)" "$s" "nothing recorded"
expect 0 "61 minutes after: a new donation" fmtbank --user alice donation add D-0004 --collected "$(at 61)" --mass 200 --bristol 4
expect 0 "-61 minutes: a new donation" fmtbank --user alice donation add D-0004 --collected "$(at -61)" --mass 200 --bristol 4
expect 0 "--not-duplicate --reason: registered" \
    fmtbank --user alice --reason "second stool the same morning" donation add D-0004 --collected "$(at 30)" --mass 200 --bristol 4 --not-duplicate
assert_eq "$(json "$OUT" "['entry_reason']")" "second stool the same morning" "the reason is kept"
assert_eq "$(sql "SELECT not_duplicate FROM fmtbank.lot WHERE lot_id = '$OUT'")" "t" "marked as not a duplicate"

# --- donation check: what add would do, creating nothing
s=$(state)
expect 0 "check: would be in quarantine" fmtbank --user alice donation check D-0005 --collected "$(at 0)" --mass 200 --bristol 4
assert_contains "$OUT" "would         quarantine" "says quarantine"
expect 0 "check without mass and form" fmtbank --user alice --format json donation check D-0005 --collected "$(at 0)"
assert_contains "$OUT" '"would" : "quarantine"' "JSON: would"
expect 5 "check: a Bristol form outside the range would be rejected" fmtbank --user alice --format json donation check D-0005 --collected "$(at 0)" --bristol 7
assert_contains "$OUT" '"rule": "bristol"' "names every reason"
expect 5 "check: a probable duplicate" fmtbank --user alice donation check D-0004 --collected "$(at 10)"
assert_contains "$ERR" "probable duplicate of" "says so"
expect 3 "check: late without --reason" fmtbank --user alice donation check D-0005 --collected "$(ts '-30 hours')"
assert_contains "$ERR" "needs --reason" "says so"
expect 0 "check: late with --reason" fmtbank --user quinn --reason "late" donation check D-0005 --collected "$(ts '-30 hours')"
assert_eq "$(state)" "$s" "checks created nothing: no lot, no lot number, no audit row"
expect 0 "add after the check: the same verdict" fmtbank --user alice donation add D-0005 --collected "$(at 0)" --mass 200 --bristol 4
assert_eq "$(sql "SELECT (SELECT sum(last) FROM fmtbank.id_counter WHERE kind = 'lot') = count(*) FROM fmtbank.lot")" "t" \
    "the lot counter moved only for lots recorded"

# --- lot void
LP=$(inv_lot D-0006 5)       # fixture lots (superuser INSERT), processed and stored through the CLI
mapfile -t AP < <(inv_process "$LP" 2)
BOX=$(inv_box)
scan_as alice "$BOX"$'\n'"${AP[0]}"$'\n'
assert_eq "$RC" "0" "a dose of the lot is stored"
expect 6 "a technician cannot void" fmtbank --user alice --reason "wrong donor" lot void "$LP"
expect 3 "void without --reason" fmtbank --user quinn lot void "$LP"
s=$(inv_state)
expect 0 "quality voids a lot entered in error" fmtbank --user quinn --reason "registered under the wrong donor" lot void "$LP"
assert_contains "$ERR" "3 aliquots recalled" "says what happened to its aliquots"
assert_eq "$(json "$LP" "['status']")" "rejected" "the lot is kept, rejected"
assert_eq "$(json "$LP" "['reject_reasons'][-1]['detail']")" "entered in error: registered under the wrong donor" "with the reason"
assert_eq "$(sql "SELECT string_agg(a.status || ':' || a.status_reason, ',' ORDER BY a.idx) FROM fmtbank.aliquot a JOIN fmtbank.lot l ON l.id = a.lot WHERE l.lot_id = '$LP'")" \
    "recalled:entered in error: registered under the wrong donor,recalled:entered in error: registered under the wrong donor,recalled:entered in error: registered under the wrong donor" \
    "its aliquots (2 doses, the retained sample) are recalled"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'lot' AND key = '$LP' AND op = 'UPDATE' AND reason = 'registered under the wrong donor'")" "1" \
    "audited with the reason"
scan_as alice "$BOX"$'\n'"${AP[1]}"$'\n'
assert_contains "$OUT" "ERR cannot store \"${AP[1]}\": its lot is rejected" "its labels no longer scan into a box"
scan_as alice "MODE retrieve"$'\n'"$BOX"$'\n'"${AP[0]}"$'\n'
assert_contains "$OUT" "WARN lot rejected: entered in error: registered under the wrong donor" "retrieving its stored tube warns"
expect 5 "its labels do not print" fmtbank --user alice aliquot label "${AP[1]}"
assert_contains "$ERR" "its lot is rejected" "says why"
expect 0 "a voided lot's donation can be entered again (it is no duplicate)" \
    fmtbank --user alice donation check D-0006 --collected "$(sql "SELECT to_char(collected_at, 'YYYY-MM-DD HH24:MI') FROM fmtbank.lot WHERE lot_id = '$LP'")" --mass 200 --bristol 4
expect 5 "void again: already rejected" fmtbank --user quinn --reason "again" lot void "$LP"
assert_contains "$ERR" "it is already rejected" "says so"

LH=$(inv_lot D-0006 2)
expect 0 "a lot held on suspicion" fmtbank --user alice --reason "tube label smudged" hold add --lot "$LH"
s=$(inv_state)
expect 5 "held: void refused" fmtbank --user quinn --reason "wrong donor" lot void "$LH"
assert_contains "$ERR" "cannot void lot \"$LH\": the lot is held by case" "says it is held"
assert_eq "$(inv_state)" "$s" "nothing changed"
sql "UPDATE fmtbank.lot SET status = 'rejected', reject_reasons = '[{\"rule\": \"x\", \"detail\": \"x\"}]' WHERE lot_id = '$LH'" >/dev/null 2>"$TMP/u.err"
assert_contains "$(cat "$TMP/u.err")" "cannot reject lot \"$LH\": the lot is held by case" "a superuser UPDATE is refused too (transition trigger)"
LA=$(inv_lot D-0007 4)
mapfile -t AA < <(inv_process "$LA" 1)
expect 0 "a held aliquot" fmtbank --user alice --reason "cap cracked" hold add --aliquot "${AA[0]}"
expect 5 "an aliquot held: void refused" fmtbank --user quinn --reason "wrong donor" lot void "$LA"
assert_contains "$ERR" "the lot is held by case" "says the lot is held (one of its tubes is)"

# released lots (fixture: superuser UPDATEs, as the release is signed elsewhere)
LR=$(inv_lot D-0005 5)
mapfile -t AR < <(inv_process "$LR" 2)
sql "UPDATE fmtbank.lot SET status = 'released' WHERE lot_id = '$LR';
     UPDATE fmtbank.aliquot SET status = 'released' WHERE aliquot_id = '${AR[0]}';
     UPDATE fmtbank.aliquot SET status = 'issued' WHERE aliquot_id = '${AR[1]}'" >/dev/null
expect 5 "a released lot with an issued dose: void refused" fmtbank --user quinn --reason "wrong donor" lot void "$LR"
assert_contains "$ERR" "doses of it were issued (${AR[1]})" "names the issued dose"
LS=$(inv_lot D-0005 4)
mapfile -t AS < <(inv_process "$LS" 1)
sql "UPDATE fmtbank.lot SET status = 'released' WHERE lot_id = '$LS';
     UPDATE fmtbank.aliquot SET status = 'released' WHERE aliquot_id = '${AS[0]}'" >/dev/null
expect 0 "a released lot with nothing issued is voided" fmtbank --user quinn --reason "duplicate registration" lot void "$LS"
assert_eq "$(sql "SELECT l.status || ':' || a.status FROM fmtbank.lot l JOIN fmtbank.aliquot a ON a.lot = l.id WHERE l.lot_id = '$LS' AND a.idx = 1")" \
    "rejected:recalled" "rejected, its released dose recalled"

# --- the roles through psql
sql_as alice "SELECT fmtbank.lot_void('$LR')"
assert_contains "$ERR" "voiding lots requires the quality role" "lot_void: not for a technician"
sql_as audrey "SELECT * FROM fmtbank.donation_check('D-0005', '$(at 0)', NULL, NULL)"
assert_contains "$ERR" "checking donations requires the technician or quality role" "donation_check: not for the auditor"
sql_as quinn "SELECT * FROM fmtbank.donation_add('D-0005', '$(at 200)', '200', '4', false)"
assert_contains "$ERR" "registering donations requires the technician role" "donation_add: not for quality"
sql_as quinn "UPDATE fmtbank.lot SET status = 'rejected' WHERE lot_id = '$LR'"
assert_contains "$ERR" "permission denied" "no direct UPDATE of a lot"
sql_as alice "SELECT * FROM fmtbank.donation_judge((SELECT id FROM fmtbank.donor LIMIT 1), now(), 1, 4::smallint, now())"
assert_contains "$ERR" "permission denied" "the evaluation itself is not granted"

done_testing
