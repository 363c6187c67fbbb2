#!/usr/bin/env bash
# t0706-daemon-reports: the daily report schedule. The reports module (report_run) is not part of
# this build yet, so the due day's reports are skipped with one warning per day (not per pass);
# "report_time = off" or no outbox means no schedule at all; an outbox that is not a directory is
# refused at startup.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db

expect 2 "an outbox that does not exist" fmtbankd --once --outbox "$TMP/none"
assert_contains "$ERR" "outbox \"$TMP/none\" is not a directory" "names it"

printf 'outbox = %s\nreport_time = 00:00\ninterval = 0.1\n' "$OUTBOX" >"$TMP/due.conf"
start_daemon due --config "$TMP/due.conf"
pid=$DPID
wait_log "$TMP/due.log" "the daily reports for $(date +%F) are skipped" 10 \
    && ok "due reports are attempted once report_time has passed" || not_ok "no report attempt"
sleep 1 # about 10 more passes
assert_eq "$(grep -c 'daily reports for' "$TMP/due.log")" "1" "once per day, not once per pass"
assert_eq "$(ls -A "$OUTBOX")" "" "nothing half-written in the outbox"
kill -TERM "$pid"
wait_exit "$pid" 10
assert_eq "$RC" "0" "exit 0"

printf 'outbox = %s\nreport_time = off\n' "$OUTBOX" >"$TMP/off.conf"
expect 0 "report_time = off" fmtbankd --once --config "$TMP/off.conf"
assert_not_contains "$ERR" "daily reports for" "no schedule"
assert_contains "$ERR" "daily reports at off" "and says so"
expect 0 "no outbox" fmtbankd --once
assert_not_contains "$ERR" "daily reports for" "no outbox, no reports"

check_daemon_logs
done_testing
