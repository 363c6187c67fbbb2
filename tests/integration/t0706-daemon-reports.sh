#!/usr/bin/env bash
# t0706-daemon-reports: the daily reports into the outbox: written once report_time has passed,
# through the report engine, named with the date, read back as real workbooks; once a day, not
# once a pass; never overwritten (not by later passes, a restart, or over a file already there);
# a report with no definition is skipped with one warning; no outbox or "report_time = off"
# means no schedule; a bad outbox is refused at startup.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
DUMP() { /usr/bin/python3 "$FMTBANK_SRC/tests/integration/xlsxdump.py" "$1"; }
setup_db

expect 2 "an outbox that does not exist" fmtbankd --once --outbox "$TMP/none"
assert_contains "$ERR" "outbox \"$TMP/none\" is not a directory" "names it"
printf 'reports = audit; rm -rf\n' >"$TMP/bad.conf"
expect 2 "a bad report list" fmtbankd --once --config "$TMP/bad.conf"
assert_contains "$ERR" 'bad.conf:1: invalid value "audit; rm -rf" for "reports"' "names the line"

# The audit report is readable by an auditor, not by fmtbankd (a technician): the daemon runs as
# the instance superuser here (PGUSER), a site's choice the README describes.
export PGUSER=postgres
today=$(date +%F)
printf 'outbox = %s\nreport_time = 00:00\nreports = audit, nosuchreport\ninterval = 0.1\n' "$OUTBOX" >"$TMP/due.conf"
start_daemon due --config "$TMP/due.conf"
pid=$DPID
wait_log "$TMP/due.log" "wrote the daily report" 20 || not_ok "report written"
f="$OUTBOX/audit-$today.xlsx"
[ -f "$f" ] && ok "audit-$today.xlsx in the outbox" || not_ok "no $f"
d=$(DUMP "$f")
assert_contains "$d" "sheet Integrity" "a real workbook with the report's sheets"
assert_contains "$d" "props title=Audit trail" "the report's title"
assert_contains "$(cat "$TMP/due.log")" 'daily report "nosuchreport" skipped' "an undefined report is skipped"
inode=$(stat -c %i "$f")
sleep 1 # about 10 more passes
assert_eq "$(grep -c 'wrote the daily report' "$TMP/due.log")" "1" "written once per day, not once per pass"
assert_eq "$(grep -c 'report "nosuchreport" skipped' "$TMP/due.log")" "1" "the missing definition is reported once a day"
assert_eq "$(ls -A "$OUTBOX" | tr '\n' ' ')" "audit-$today.xlsx " "no temporary file left in the outbox"
kill -TERM "$pid"
wait_exit "$pid" 10
assert_eq "$RC" "0" "exit 0"
assert_eq "$(grep -c ERROR "$TMP/due.log")" "0" "a missing definition is not an error"

expect 0 "a restart the same day" fmtbankd --once --config "$TMP/due.conf"
assert_not_contains "$ERR" "wrote the daily report" "does not write it again"
assert_eq "$(stat -c %i "$f")" "$inode" "the file is untouched"

# A file already there under the day's name is never overwritten.
rm -f "$f"
echo "someone else's file" >"$f"
printf 'outbox = %s\nreport_time = 00:00\nreports = audit\n' "$OUTBOX" >"$TMP/keep.conf"
expect 0 "--once with the day's file present" fmtbankd --once --config "$TMP/keep.conf"
assert_eq "$(cat "$f")" "someone else's file" "not overwritten"

# A report that fails (fmtbankd may not read the audit trail) is an error, tried again next pass.
rm -f "$f"
unset PGUSER
expect 1 "--once with a report the role may not run" fmtbankd --once --config "$TMP/keep.conf"
assert_contains "$ERR" "could not write the audit report for $today" "the failure is named"
[ -e "$f" ] && not_ok "a failed report left a file" || ok "a failed report leaves no file"
assert_eq "$(ls -A "$OUTBOX")" "" "nor a temporary one"

printf 'outbox = %s\nreport_time = off\nreports = audit\n' "$OUTBOX" >"$TMP/off.conf"
expect 0 "report_time = off" fmtbankd --once --config "$TMP/off.conf"
assert_contains "$ERR" "daily reports (audit) at off" "says so"
assert_eq "$(ls -A "$OUTBOX")" "" "writes nothing"
expect 0 "no outbox" fmtbankd --once
assert_not_contains "$ERR" "daily report \"" "no outbox, no reports"

check_daemon_logs
done_testing
