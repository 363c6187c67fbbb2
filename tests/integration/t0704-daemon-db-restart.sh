#!/usr/bin/env bash
# t0704-daemon-db-restart: the database stops and starts again while the daemon runs: it logs the
# lost session and each reconnection attempt with a capped back-off, leaves an instance stopped on
# purpose stopped, reconnects, takes the lock again and imports a new file; a server crash (kill
# -9 of the postmaster) is survived the same way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db
base=$(donor_count)

printf 'inbox = %s\ninterval = 0.5\nsettle = 0\nreconnect_max = 1\n' "$INBOX" >"$TMP/d.conf"
start_daemon d --config "$TMP/d.conf"
pid=$DPID
wait_log "$TMP/d.log" "active daemon" 10 || not_ok "active"

expect 0 "db stop while the daemon runs" fmtbank db stop
wait_log "$TMP/d.log" "lost the database connection" 10 && ok "the daemon notices the lost session" \
    || not_ok "no lost-connection message"
wait_log "$TMP/d.log" "could not connect to the database (attempt 3)" 10 \
    && ok "it logs each attempt" || not_ok "no attempts logged"
log=$(cat "$TMP/d.log")
assert_contains "$log" "(attempt 1):" "attempt 1 logged"
assert_contains "$log" "retrying in 1 s" "back-off capped at reconnect_max (1 s)"
run fmtbank db status
assert_eq "$RC" "7" "the daemon does not start a stopped instance itself"
kill -0 "$pid" 2>/dev/null && ok "the daemon keeps running without the database" || not_ok "daemon died"

donor_csv "$INBOX/during.csv" 600000 2 # dropped while the database is down
expect 0 "db start" fmtbank db start
wait_log "$TMP/d.log" "(reconnected)" 10 && ok "reconnected after the restart" || not_ok "no reconnection"
wait_log "$TMP/d.log" "active daemon" 10 2 && ok "active again" || not_ok "not active again"
wait_log "$TMP/d.log" 'imported "during.csv": 2 rows' 10 || not_ok "file dropped during the outage imported"
donor_csv "$INBOX/after.csv" 610000 3
wait_log "$TMP/d.log" 'imported "after.csv": 3 rows' 10 || not_ok "new file imported after the restart"
assert_eq "$(donor_count)" "$((base + 5))" "both files imported, once"
t=$(sql "SELECT beat_at FROM fmtbank.daemon_heartbeat WHERE pid = $pid")
beat_moved() { [ "$(sql "SELECT beat_at FROM fmtbank.daemon_heartbeat WHERE pid = $pid")" != "$t" ]; }
wait_until 5 beat_moved && ok "the heartbeat goes on" || not_ok "heartbeat stalled"

# A crash of the server: kill -9 the postmaster, then a command restarts the instance.
pm=$(head -1 "$FMTBANK_HOME/data/postmaster.pid")
n=$(grep -c "lost the database connection" "$TMP/d.log")
kill -9 "$pm"
wait_log "$TMP/d.log" "lost the database connection" 10 $((n + 1)) && ok "crash noticed" || not_ok "crash not noticed"
server_gone() { ! pgrep -f "[p]ostgres.*$FMTBANK_HOME/data" >/dev/null; }
wait_until 30 server_gone || not_ok "the crashed server's processes ended"
expect 0 "a command restarts the crashed instance" fmtbank --user postgres status
wait_log "$TMP/d.log" "active daemon" 15 3 && ok "active again after the crash" || not_ok "not active after crash"
donor_csv "$INBOX/crash.csv" 620000 1
wait_log "$TMP/d.log" 'imported "crash.csv": 1 row' 10 || not_ok "file imported after the crash"
assert_eq "$(donor_count)" "$((base + 6))" "imported after the crash"
assert_eq "$(grep -c ERROR "$TMP/d.log")" "0" "an outage is not logged as an error of the work"

kill -TERM "$pid"
wait_exit "$pid" 10
assert_eq "$RC" "0" "exit 0"
check_daemon_logs
done_testing
