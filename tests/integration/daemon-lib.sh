# daemon-lib.sh: helpers for the fmtbankd scenarios (t07NN-*.sh), sourced after lib.sh. Daemons
# run in the background with their log in $TMP/NAME.log; every wait polls with a bound, and the
# daemons still running when the script ends are killed before the instance is stopped.
# fmtbankd logs in as "fmtbankd" (peer, the service account) unless PGUSER names a role:
# the daemon scenarios leave PGUSER unset (lib.sh sets it for the CLI).
unset PGUSER
DAEMON_PIDS=()
INBOX="$TMP/inbox"
OUTBOX="$TMP/outbox"
mkdir -p "$INBOX" "$OUTBOX"

d_cleanup() {
    local p
    for p in "${DAEMON_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
}
trap 'd_cleanup; t_cleanup' EXIT

# start_daemon NAME ARGS...: starts fmtbankd ARGS in the background, log in $TMP/NAME.log; its
# pid in $DPID.
start_daemon() {
    local log="$TMP/$1.log"
    shift
    fmtbankd "$@" 2>>"$log" </dev/null &
    DPID=$!
    DAEMON_PIDS+=("$DPID")
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Every bound below is only a ceiling on waiting for a condition that is expected to hold: it is
# multiplied by WAIT_SCALE (default 6) so that a busy 2-core machine under ASan never fails a test
# that would pass given time. A condition that holds returns at once.
WAIT_SCALE=${FMTBANK_TEST_WAIT_SCALE:-6}

# wait_log FILE TEXT [SECONDS [COUNT]]: waits until FILE holds TEXT (fixed string) COUNT times.
wait_log() {
    local f=$1 text=$2 secs=${3:-10} count=${4:-1} end
    end=$(($(now_ms) + secs * WAIT_SCALE * 1000))
    while [ "$(now_ms)" -lt "$end" ]; do
        [ "$(grep -cF -- "$text" "$f" 2>/dev/null)" -ge "$count" ] && return 0
        sleep 0.05
    done
    return 1
}

# wait_until SECONDS CMD...: polls CMD until it succeeds.
wait_until() {
    local secs=$1 end
    shift
    end=$(($(now_ms) + secs * WAIT_SCALE * 1000))
    while [ "$(now_ms)" -lt "$end" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

# wait_exit PID SECONDS: waits for the process to end; $RC is its exit status (255 if it did not).
wait_exit() {
    local pid=$1 secs=$2 end
    end=$(($(now_ms) + secs * WAIT_SCALE * 1000))
    while kill -0 "$pid" 2>/dev/null && [ "$(now_ms)" -lt "$end" ]; do sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then RC=255; return 1; fi
    wait "$pid"
    RC=$?
}

# The daemon's sessions are gone from the server (a killed client's backend may linger briefly).
no_daemon_sessions() {
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'fmtbankd%'")" = 0 ]
}

donor_count() { sql "SELECT count(*) FROM fmtbank.donor"; }

# donor_csv FILE FIRST COUNT: a donor import file with codes D-<FIRST>.. (7 digits).
donor_csv() {
    awk -v a="$2" -v n="$3" 'BEGIN { print "code,birth_year,sex";
        for (i = a; i < a + n; i++) printf "D-%07d,1980,F\n", i }' >"$1"
}

# Fails the test on a sanitizer report in any daemon log.
check_daemon_logs() {
    local f
    for f in "$TMP"/*.log; do
        [ -e "$f" ] || continue
        if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
            not_ok "sanitizer report in $(basename "$f")" "$(grep -m5 -E 'Sanitizer|runtime error' "$f")"
        fi
    done
}
