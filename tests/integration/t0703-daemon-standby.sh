#!/usr/bin/env bash
# t0703-daemon-standby: two daemons, one active (pg_try_advisory_lock on its lock session), the
# other a hot standby; after kill -9 of the active one the standby takes over within one
# interval and works; --once while another daemon is active does nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db
base=$(donor_count)
interval=1

start_daemon a --inbox "$INBOX" --interval $interval
a=$DPID
wait_log "$TMP/a.log" "active daemon" 10 || not_ok "a became active"
start_daemon b --inbox "$INBOX" --interval $interval
b=$DPID
wait_log "$TMP/b.log" "waiting as a hot standby" 10 || not_ok "b waits"
assert_contains "$(cat "$TMP/b.log")" "another fmtbankd is active: waiting as a hot standby" "b is a standby"
beats() { [ "$(sql "SELECT count(*) FROM fmtbank.daemon_heartbeat")" = "$1" ]; }
wait_until 10 beats 2 || not_ok "both beat"
assert_eq "$(sql "SELECT pid || ':' || active FROM fmtbank.daemon_heartbeat ORDER BY active DESC, pid" | tr '\n' ' ')" \
    "$a:true $b:false " "heartbeat: a active, b standby"
run fmtbank --user audrey status
assert_contains "$OUT" "pid $a," "status shows the active daemon"
assert_eq "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s USING (pid) WHERE l.locktype = 'advisory' AND s.application_name = 'fmtbankd lock'")" \
    "1" "one advisory lock, held by a's lock session"

# Only the active daemon imports: b never touches the inbox while a lives.
donor_csv "$INBOX/one.csv" 500000 3
wait_log "$TMP/a.log" 'imported "one.csv"' 10 || not_ok "a imports"
assert_eq "$(grep -c 'importing' "$TMP/b.log")" "0" "the standby imports nothing"

# --once while a daemon is active: nothing done.
donor_csv "$INBOX/two.csv" 510000 1
run fmtbankd --once --inbox "$INBOX" --config /dev/null --interval 60
assert_eq "$RC" "0" "--once beside an active daemon exits 0"
assert_contains "$ERR" "another fmtbankd is active: nothing done" "and says it did nothing"
assert_not_contains "$ERR" "importing" "without importing"
wait_log "$TMP/a.log" 'imported "two.csv"' 10 || not_ok "a imports two.csv"

# kill -9 the active daemon: the standby takes over within one interval.
t0=$(now_ms)
kill -9 "$a"
wait "$a" 2>/dev/null
wait_log "$TMP/b.log" "taking over as the active daemon" 10 || not_ok "b takes over"
took=$(($(now_ms) - t0))
echo "# takeover after kill -9: $took ms (interval ${interval} s)"
[ "$took" -le $((interval * 2000 + 5000)) ] && ok "takeover at the standby's next try (two intervals + 5 s slack for a loaded machine)" \
    || not_ok "takeover took $took ms"
donor_csv "$INBOX/three.csv" 520000 4
wait_log "$TMP/b.log" 'imported "three.csv": 4 rows' 10 || not_ok "b imports after the takeover"
assert_eq "$(donor_count)" "$((base + 8))" "every file imported once across the takeover"
active_is() { [ "$(sql "SELECT pid FROM fmtbank.daemon_heartbeat WHERE active")" = "$1" ]; }
wait_until 10 active_is "$b" || not_ok "b's heartbeat active"
assert_eq "$(sql "SELECT pid FROM fmtbank.daemon_heartbeat WHERE active")" "$b" \
    "only b is active in the heartbeat (a's stale row was cleared)"

# A second standby started now waits for b.
start_daemon c --interval $interval
c=$DPID
wait_log "$TMP/c.log" "waiting as a hot standby" 10 && ok "c waits behind b" || not_ok "c not standby"
kill -TERM "$b"
wait_exit "$b" 10
assert_eq "$RC" "0" "b stops cleanly"
wait_log "$TMP/c.log" "taking over as the active daemon" 5 && ok "c takes over after b's clean stop" \
    || not_ok "c did not take over"
kill -TERM "$c"
wait_exit "$c" 10
assert_eq "$RC" "0" "c stops cleanly"

check_daemon_logs
done_testing
