#!/usr/bin/env bash
# t0362-todo: "fmtbank todo" as a work queue by role (issue 14 item 9): a quality officer sees lots
# ready to sign, open cases, un-notified recipients and excursions; a technician sees rejected
# inbox files (results awaiting correction), donors due for re-screening and expiring stock;
# admin, auditor and --all see every item. Each item leaves the queue when done.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/inventory.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db
kinds() { printf '%s\n' "$OUT" | tail -n +2 | cut -f1 | sort -u | tr '\n' ' '; }

rel_donor D-3621
L=$(rel_lot_full D-3621 40)
rel_panel D-3621 "$(d -50)" && rel_panel D-3621 "$(d -30)"
rel_donor D-3622
U=$(rel_lot_full D-3622 40)
rel_panel D-3622 "$(d -50)"   # no post-donation panel: not releasable
assert_eq "$(lot_shown "$L"):$(lot_shown "$U")" "ready:quarantine" "one lot ready, one not"

# --- lots ready to sign: the quality officer's
expect 0 "quality's todo" fmtbank --user quinn todo --format tsv
assert_contains "$OUT" "release_sign	$L	check and sign: \"fmtbank release sign $L\"	donor D-3621, collected " "the ready lot, with the command"
assert_contains "$OUT" "3 doses to release" "and its doses"
assert_not_contains "$OUT" "$U" "not the lot that is not releasable"
assert_not_contains "$(kinds)" "rescreening_due" "no technician items for quality"
expect 0 "the technician's todo" fmtbank --user alice todo --format tsv
assert_not_contains "$OUT" "release_sign" "the technician does not see the lots to sign"
expect 0 "--all" fmtbank --user alice todo --all --format tsv
assert_contains "$OUT" "release_sign	$L" "--all: every role's items"
expect 0 "the auditor sees every item" fmtbank --user audrey todo --format tsv
assert_contains "$OUT" "release_sign	$L" "auditor: the lots to sign too"
expect 0 "json" fmtbank --user quinn todo --kind release_sign --format json
assert_contains "$OUT" '"role":"quality"' "json: the role"
assert_contains "$OUT" '"since":' "and since"
expect 2 "an unknown kind" fmtbank --user quinn todo --kind bogus
assert_contains "$ERR" 'invalid value "bogus" for "--kind"' "a usage error"
sign "$L"
assert_eq "$RC" "0" "signed"
expect 0 "after signing" fmtbank --user quinn todo --kind release_sign --format tsv
assert_not_contains "$OUT" "$L" "a signed lot leaves the queue"

# --- a case on a donor whose dose was issued: the decision and the recipient to tell
mapfile -t AR < <(aliquots_of "$L")
BOX=$(inv_box 4 4)
scan_as alice "$BOX
$(printf '%s\n' "${AR[@]}")
"
assert_eq "$RC" "0" "the tubes are stored"
expect 0 "a dose issued" fmtbank --user alice aliquot issue "${AR[1]}" --recipient R-3621 --site "City Hospital"
expect 0 "a hold on the donor" fmtbank --user alice --reason "GP reports an infection" hold add --donor D-3621
C=$(sql "SELECT case_code FROM fmtbank.safety_case WHERE source = 'manual'")
expect 0 "quality's todo" fmtbank --user quinn todo --format tsv
assert_contains "$OUT" "case_decision	$C" "the case to decide"
assert_contains "$OUT" "recipient_notification	$C	tell recipient R-3621" "the recipient to tell"
assert_contains "$OUT" "recipient R-3621 (City Hospital) received ${AR[1]}" "what they received"
expect 0 "notified" fmtbank --user quinn case notify "$C" --recipient R-3621 --by phone --at "$(date '+%F %H:%M')"
expect 0 "after the notification" fmtbank --user quinn todo --kind recipient_notification --format tsv
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "1" "the notified recipient leaves the queue"

# --- expiring stock: a stored dose expiring in 5 days (superuser: the fixture)
sql "UPDATE fmtbank.aliquot SET expires_at = now() + interval '5 days' WHERE aliquot_id = '${AR[2]}'" >/dev/null
expect 0 "expiring stock" fmtbank --user alice todo --kind expiring_stock --format tsv
assert_contains "$OUT" "expiring_stock	$L" "the lot with the expiring tube"
assert_contains "$OUT" "1 tube in stock expiring $(date -d '+5 days' +%F)" "one tube, when"
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "2" "only that lot (the others expire in years)"

# --- donors due for re-screening: screened 50 days ago (valid 60 days)
fmtbank --user alice donor add D-3623 --birth-year 1990 --sex F >/dev/null && donor_consent D-3623
write_full "$TMP/full.csv"
fmtbank --user alice questionnaire record D-3623 --date "$(d -50)" --file "$TMP/full.csv" >/dev/null
rel_panel D-3623 "$(d -50)"
expect 0 "re-screening due" fmtbank --user alice todo --kind rescreening_due --format tsv
assert_contains "$OUT" "rescreening_due	D-3623	screen again: full questionnaire and panel by $(d 10)" "the donor due in 10 days"
assert_contains "$OUT" "screening runs out on $(d 10)" "and when"
expect 0 "excluded" fmtbank --user quinn --reason "positive marker" donor exclude D-3623
expect 0 "an excluded donor" fmtbank --user alice todo --kind rescreening_due --format tsv
assert_not_contains "$OUT" "D-3623" "is not due for anything"

# --- results awaiting correction: a rejected inbox file until a file of that name is imported
sql "INSERT INTO fmtbank.inbox_file (sha256, name, format, status, error_report)
     VALUES (repeat('a', 64), 'lab-0412.csv', 'result', 'rejected', 'lab-0412.csv:3: test \"XYZ\" not found')" >/dev/null
expect 0 "a rejected file" fmtbank --user alice todo --format tsv
assert_contains "$OUT" "inbox_rejected	lab-0412.csv	correct the file and drop it into the inbox again" "the file to correct"
assert_contains "$OUT" 'lab-0412.csv:3: test "XYZ" not found' "with its error report"
expect 0 "quality" fmtbank --user quinn todo --format tsv
assert_not_contains "$OUT" "inbox_rejected" "is the technician's"
sql "INSERT INTO fmtbank.inbox_file (sha256, name, format, status, rows)
     VALUES (repeat('b', 64), 'lab-0412.csv', 'result', 'imported', 3)" >/dev/null
expect 0 "corrected" fmtbank --user alice todo --kind inbox_rejected --format tsv
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "1" "the corrected file leaves the queue"

# --- an excursion without its case closed (superuser: the fixture)
FZ=$(sql "SELECT freezer_id FROM fmtbank.freezer WHERE name = 'Freezer 1'")
sql "INSERT INTO fmtbank.freezer_excursion (freezer, kind, from_at, to_at, max_temp_c, limit_c)
     SELECT id, 'above', now() - interval '3 hours', now() - interval '2 hours', -52, -60
     FROM fmtbank.freezer WHERE freezer_id = '$FZ'" >/dev/null
expect 0 "an excursion" fmtbank --user quinn todo --kind excursion --format tsv
assert_contains "$OUT" "excursion	$FZ	check the freezer and its tubes" "the freezer to check"
assert_contains "$OUT" "up to -52.0 °C (limit -60.0 °C); no case yet" "how far and its case"

expect 0 "the technician's kinds" fmtbank --user alice todo --format tsv
assert_not_contains "$(kinds)" "case_decision" "no quality items for the technician"
assert_contains "$(kinds)" "expiring_stock" "but the expiring stock"
# --- the same queue as a workbook, and posted daily by the daemon
DUMP() { /usr/bin/python3 "$FMTBANK_SRC/tests/integration/xlsxdump.py" "$1"; }
expect 0 "report todo" fmtbank --user quinn report todo -o "$TMP/todo.xlsx"
d=$(DUMP "$TMP/todo.xlsx")
assert_contains "$d" "props title=Work queue" "the report's title"
assert_contains "$d" "text excursion" "the quality officer's items"
assert_contains "$d" "text expiring_stock" "and the technician's"
assert_contains "$d" "text $(shown "$L")" "by their subject"
OUTBOX=$TMP/outbox
mkdir -p "$OUTBOX"
printf 'outbox = %s\nreport_time = 00:00\nreports = todo\n' "$OUTBOX" >"$TMP/todo.conf"
expect 0 "the daemon posts it" fmtbankd --once --config "$TMP/todo.conf"
f="$OUTBOX/todo-$(date +%F).xlsx"
[ -f "$f" ] && ok "todo-$(date +%F).xlsx in the outbox" || not_ok "no $f: $ERR"
assert_contains "$(DUMP "$f")" "text rescreening_due" "with the queue"

expect 0 "help" fmtbank todo --help
assert_contains "$OUT" "--kind KIND" "--help documents --kind"
assert_contains "$OUT" "rescreening_due" "and the kinds"
done_testing
