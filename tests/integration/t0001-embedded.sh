#!/usr/bin/env bash
# t0001-embedded: the embedded instance: created on demand, Unix socket only, fsync on, run as an
# unprivileged user when root, concurrent starts, recovery after a crash, db url/psql/status.
. "$(dirname "$0")/lib.sh"

expect 7 "db status before creation" fmtbank db status
assert_contains "$OUT" "not created" "status says not created"

# Two (four) commands starting a fresh instance at the same moment.
for i in 1 2 3 4; do fmtbank db start >"$TMP/start$i.out" 2>&1 & done
wait
fails=0
for i in 1 2 3 4; do grep -q "running in" "$TMP/start$i.out" || fails=$((fails + 1)); done
assert_eq "$fails" "0" "four concurrent first starts all succeed"
assert_eq "$(grep -c 'database system is ready' "$FMTBANK_HOME/postgres.log")" "1" "exactly one postmaster started"
assert_eq "$(ls -d "$FMTBANK_HOME"/data.incomplete* 2>/dev/null | wc -l)" "0" "initdb ran once, nothing aside"

expect 0 "db status when running" fmtbank db status
assert_contains "$OUT" "running" "status says running"
expect 0 "db psql -c passes arguments to psql" fmtbank db psql -X -A -t -c 'select 40 + 2'
assert_eq "$OUT" "42" "psql ran the query"
assert_eq "$(sql 'select current_user')" "postgres" "db psql connects as the instance superuser"
assert_eq "$(sql 'show listen_addresses')" "" "no TCP listener"
assert_eq "$(sql 'show fsync')" "on" "fsync stays on"
assert_eq "$(sql 'show unix_socket_directories')" "$FMTBANK_HOME" "socket in FMTBANK_HOME"
expect 0 "db url" fmtbank db url
assert_contains "$OUT" "postgresql:///fmtbank?host=" "db url is a libpq URI"
run psql "$OUT" -X -A -t -c 'select 1'
assert_eq "$OUT" "1" "the URI connects"

if [ "$(id -u)" -eq 0 ]; then
    assert_eq "$(stat -c %U "$FMTBANK_HOME/data")" "fmtbank" "as root, the data belongs to the system user"
    assert_eq "$(ps -o user= -p "$(head -1 "$FMTBANK_HOME/data/postmaster.pid")")" "fmtbank" \
        "as root, the server runs as the unprivileged user"
fi

# Crash: kill -9 the postmaster; the next command recovers the stale pid file and starts it.
pid=$(head -1 "$FMTBANK_HOME/data/postmaster.pid")
kill -9 "$pid"
for _ in $(seq 50); do pgrep -u "$(stat -c %u "$FMTBANK_HOME/data")" -f "postgres.*$FMTBANK_HOME/data" >/dev/null || break; sleep 0.1; done
sleep 0.5
expect 7 "db status after crash" fmtbank db status
fmtbank init >/dev/null 2>&1
expect 0 "a command after a crash restarts the instance" fmtbank status
assert_contains "$OUT" "schema_version" "status answered"

expect 0 "db stop" fmtbank db stop
assert_contains "$ERR" "stopped" "stop reports it stopped"
expect 0 "db stop when stopped" fmtbank db stop
assert_contains "$ERR" "was not running" "second stop is a no-op"
for i in 1 2 3; do fmtbank db start >"$TMP/restart$i.out" 2>&1 & done
wait
expect 0 "after concurrent restarts the instance runs" fmtbank db status

# A home the server user cannot reach is refused with a clear message (root only).
if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$TMP/private"
    chmod 700 "$TMP/private"
    FMTBANK_HOME="$TMP/private/home" run fmtbank db start
    assert_eq "$RC" "2" "unreachable home refused"
    assert_contains "$ERR" "not searchable by the server user" "message names the problem"
fi

FMTBANK_HOME="$TMP/x$(printf 'y%.0s' $(seq 120))" run fmtbank db start
assert_eq "$RC" "2" "too long a home is refused"
assert_contains "$ERR" "too long" "message says too long"

done_testing
