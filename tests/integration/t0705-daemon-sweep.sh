#!/usr/bin/env bash
# t0705-daemon-sweep: fmtbank.sweep() runs the registered sweep functions in order, each isolated
# (a failing one is reported and the others still run); the daemon runs it every interval and at
# once on NOTIFY fmtbank_result / fmtbank_rules, logging every change; the heartbeat counts errors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db

# Settle the real sweeps (the donor sweep sees the demo donors for the first time).
sql_as adam "SELECT what, n FROM fmtbank.sweep()"
assert_contains "$OUT" "donors: donors first seen|3" "the donor sweep records the demo donors once"

# Stand-ins for the real sweeps: one drains a queue table, one always fails.
sql "CREATE TABLE public.t_queue (id int);
     GRANT SELECT, DELETE ON public.t_queue TO fmtbank_owner; -- sweeps run as the owner
     CREATE FUNCTION public.t_drain() RETURNS TABLE (what text, n bigint) LANGUAGE sql AS
       \$\$ WITH d AS (DELETE FROM public.t_queue RETURNING 1) SELECT 'rows drained', count(*) FROM d \$\$;
     CREATE FUNCTION public.t_broken() RETURNS TABLE (what text, n bigint) LANGUAGE plpgsql AS
       \$\$ BEGIN RAISE EXCEPTION 'sweep bug'; END \$\$;
     CREATE FUNCTION public.t_args(int) RETURNS TABLE (what text, n bigint) LANGUAGE sql AS
       \$\$ SELECT 'x', 1::bigint \$\$;" >/dev/null
sql_as postgres "SELECT fmtbank.sweep_register('with-args', 'public.t_args(int)')"
assert_contains "$ERR" "must take no arguments" "a sweep function with arguments is refused"
sql "SELECT fmtbank.sweep_register('drain', 'public.t_drain()', 20, 'test: drains t_queue');
     SELECT fmtbank.sweep_register('broken', 'public.t_broken()', 10)" >/dev/null
sql "INSERT INTO public.t_queue SELECT generate_series(1, 5)"

sql_as adam "SELECT what, n FROM fmtbank.sweep()"
assert_eq "$OUT" "$(printf 'broken: failed: sweep bug|\ndrain: rows drained|5')" \
    "sweep(): in order, the failure reported, the next sweep still run"
assert_eq "$(sql "SELECT count(*) FROM public.t_queue")" "0" "the drain sweep changed the data"
sql_as adam "SELECT count(*) FROM fmtbank.sweep() WHERE n IS NOT NULL"
assert_eq "$OUT" "0" "nothing to do: no rows for changes of 0"

# ---------------------------------------------------------------- the daemon: NOTIFY wakes it
start_daemon d --interval 60
pid=$DPID
wait_log "$TMP/d.log" "active daemon" 10 || not_ok "active"
wait_log "$TMP/d.log" "sweep broken: failed: sweep bug" 10 && ok "the first pass sweeps; a failure is logged" \
    || not_ok "no first sweep"
assert_contains "$(cat "$TMP/d.log")" "ERROR sweep broken: failed: sweep bug" "logged as an error"

# Without a notification nothing happens before the interval (60 s) ends.
sql "INSERT INTO public.t_queue SELECT generate_series(1, 3)"
sleep 1
assert_eq "$(sql "SELECT count(*) FROM public.t_queue")" "3" "no sweep between intervals without NOTIFY"

# A committed result (here: the queue rows) with its NOTIFY: swept within 2 s.
t0=$(now_ms)
sql "BEGIN; INSERT INTO public.t_queue VALUES (4); NOTIFY fmtbank_result, 'R1'; COMMIT"
wait_log "$TMP/d.log" "sweep drain: rows drained: 4" 5 || not_ok "swept on NOTIFY fmtbank_result"
took=$(($(now_ms) - t0))
echo "# NOTIFY fmtbank_result to sweep logged: $took ms"
# Woken by the notification, not by the 60 s interval (room for a loaded machine; the figure
# printed above is typically a few hundred ms).
[ "$took" -lt 30000 ] && ok "swept on the notification, well before the 60 s interval" || not_ok "took $took ms"
assert_eq "$(sql "SELECT count(*) FROM public.t_queue")" "0" "the sweep ran"

sql "BEGIN; INSERT INTO public.t_queue VALUES (1), (2); NOTIFY fmtbank_rules; COMMIT"
wait_log "$TMP/d.log" "sweep drain: rows drained: 2" 5 && ok "NOTIFY fmtbank_rules wakes it too" \
    || not_ok "fmtbank_rules ignored"

# Other channels do not wake it.
sql "BEGIN; INSERT INTO public.t_queue VALUES (9); NOTIFY some_other_channel; COMMIT"
sleep 1
assert_eq "$(sql "SELECT count(*) FROM public.t_queue")" "1" "another channel does not wake the daemon"

errors=$(sql "SELECT errors FROM fmtbank.daemon_heartbeat WHERE pid = $pid")
[ "$errors" -ge 3 ] && ok "the heartbeat counts the failed sweeps ($errors)" || not_ok "errors = $errors"
run fmtbank --user alice status
assert_contains "$OUT" "errors $errors" "status shows the error count"

kill -TERM "$pid"
wait_exit "$pid" 10
assert_eq "$RC" "0" "exit 0"

# --once with the broken sweep: a pass with errors exits 1.
expect 1 "--once with a failing sweep exits 1" fmtbankd --once
assert_contains "$ERR" "sweep broken: failed" "names it"
assert_contains "$ERR" "sweep drain: rows drained: 1" "after running the others"

check_daemon_logs
done_testing
