#!/usr/bin/env bash
# t0721-daemon-failover: fmtbankd on a libpq multi-host connection string
# ("host=PRIMARY,STANDBY target_session_attrs=read-write") survives losing the primary: the primary
# stops, the standby is promoted, the daemon reconnects to the new primary, takes the single-active
# lock there, keeps its heartbeat, and imports the next inbox file exactly once (the inbox
# bookkeeping came over by replication: a copy of a file imported before the failover is not
# imported again). Waits on the standby's replay LSN and on log lines, never sleeps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db
PRIMARY=$FMTBANK_HOME
SB=$(mktemp -d /tmp/fmtbank-sb.XXXXXX)
chmod 755 "$SB"
trap 'd_cleanup; FMTBANK_HOME=$SB fmtbank db stop >/dev/null 2>&1; rm -rf "$SB"; t_cleanup' EXIT
S() { FMTBANK_HOME=$SB "$@"; }
sb_sql() { S fmtbank --user postgres db psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }
caught_up() {
    local lsn
    lsn=$(sql "SELECT pg_current_wal_lsn()") &&
        [ "$(sb_sql "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ]
}
base=$(donor_count)

expect 0 "a standby of the primary" fmtbank db standby create --from "$(fmtbank db url)" --home "$SB"

RW="host=$PRIMARY,$SB dbname=fmtbank target_session_attrs=read-write"
printf 'db = %s\ninbox = %s\ninterval = 0.5\nsettle = 0\nreconnect_max = 1\n' "$RW" "$INBOX" >"$TMP/d.conf"
start_daemon d --config "$TMP/d.conf"
pid=$DPID
wait_log "$TMP/d.log" "active daemon" 10 || not_ok "the daemon becomes active on the primary"

# A daemon pointed at the standby alone does not work there: it waits for a primary.
start_daemon s --db "host=$SB dbname=fmtbank" --inbox "$INBOX" --interval 0.5 --reconnect-max 1
spid=$DPID
wait_log "$TMP/s.log" "the server is a read-only standby: fmtbankd works on the primary" 10 &&
    ok "a daemon on the standby alone waits for a primary" || not_ok "daemon on the standby"
kill -TERM "$spid"
wait_exit "$spid" 10
assert_eq "$(grep -c 'active daemon' "$TMP/s.log")" "0" "and never became active there"

donor_csv "$INBOX/before.csv" 700000 3
wait_log "$TMP/d.log" 'imported "before.csv": 3 rows' 10 && ok "imports on the primary" ||
    not_ok "before.csv imported"
# Asynchronous replication: fail over only once the standby has what the primary committed.
wait_until 10 caught_up && ok "the standby has replayed the import" || not_ok "replay"

# --- lose the primary --------------------------------------------------------------------------
expect 0 "the primary stops" fmtbank db stop
wait_log "$TMP/d.log" "lost the database connection" 10 && ok "the daemon notices" ||
    not_ok "lost connection not noticed"
wait_log "$TMP/d.log" "could not connect to the database (attempt 2)" 10 &&
    ok "and retries while no server takes writes" || not_ok "no retries"
assert_contains "$(cat "$TMP/d.log")" "session is read-only" "the standby is not taken for a primary"
donor_csv "$INBOX/during.csv" 710000 2 # dropped while there is no primary

expect 0 "the standby is promoted" S fmtbank db promote
wait_log "$TMP/d.log" "(reconnected)" 15 && ok "the daemon reconnects to the new primary" ||
    not_ok "no reconnection"
wait_log "$TMP/d.log" "active daemon" 10 2 && ok "and is the active daemon there" || not_ok "not active"
wait_log "$TMP/d.log" 'imported "during.csv": 2 rows' 10 && ok "imports the file dropped meanwhile" ||
    not_ok "during.csv"
donor_csv "$INBOX/after.csv" 720000 4
wait_log "$TMP/d.log" 'imported "after.csv": 4 rows' 10 && ok "and the next file" || not_ok "after.csv"
cp "$PRIMARY/tmp/inbox/processed/before.csv" "$INBOX/before-again.csv" 2>/dev/null ||
    donor_csv "$INBOX/before-again.csv" 700000 3
wait_log "$TMP/d.log" '"before-again.csv" has the same content as "before.csv"' 10 &&
    ok "a copy of a file imported before the failover is not imported again" ||
    not_ok "before-again.csv"

# --- the bookkeeping on the new primary --------------------------------------------------------
assert_eq "$(sb_sql "SELECT count(*) FROM fmtbank.donor")" "$((base + 9))" \
    "every row imported once on the new primary"
assert_eq "$(sb_sql "SELECT string_agg(name || ':' || status, ',' ORDER BY id) FROM fmtbank.inbox_file")" \
    "before.csv:imported,during.csv:imported,after.csv:imported,before-again.csv:duplicate" \
    "inbox bookkeeping: each file once"
assert_eq "$(sb_sql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s USING (pid)
                     WHERE l.locktype = 'advisory' AND s.application_name = 'fmtbankd lock'")" "1" \
    "the single-active lock is held on the new primary"
t=$(sb_sql "SELECT beat_at FROM fmtbank.daemon_heartbeat WHERE pid = $pid AND active")
[ -n "$t" ] && ok "the heartbeat row is active on the new primary" || not_ok "no active heartbeat"
beat_moved() { [ "$(sb_sql "SELECT beat_at FROM fmtbank.daemon_heartbeat WHERE pid = $pid")" != "$t" ]; }
wait_until 5 beat_moved && ok "the heartbeat goes on" || not_ok "heartbeat stalled"
run S fmtbank --user audrey status
assert_contains "$OUT" "pid $pid," "status on the new primary shows the daemon"
assert_contains "$OUT" "primary" "status: primary"

# A second daemon on the same connection string waits as a hot standby behind the first.
start_daemon b --config "$TMP/d.conf"
b=$DPID
wait_log "$TMP/b.log" "waiting as a hot standby" 10 && ok "a second daemon waits behind the lock" ||
    not_ok "b not waiting"
kill -TERM "$b"
wait_exit "$b" 10

kill -TERM "$pid"
wait_exit "$pid" 10
assert_eq "$RC" "0" "the daemon exits 0"
assert_eq "$(grep -c ERROR "$TMP/d.log")" "0" "the failover is not logged as an error of the work"
check_daemon_logs
done_testing
