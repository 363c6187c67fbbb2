#!/usr/bin/env bash
# t0708-daemon-results: the lab's result files through the inbox (format recognised by the header
# line): imported once by content, through the same checks as "result import", attributed to the
# daemon; a file with bad lines rejected with every one of them; a result committed by anyone
# (here "result add") wakes the daemon at once through NOTIFY fmtbank_result for the sweeps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db
results() { sql "SELECT count(*) FROM fmtbank.result"; }

H=donor,test,collected,result,unit,lab
printf '%s\nD-0001,HIV,2026-11-20,negative,,LabA\nD-0002,HCV_AB,2026-11-20,positive,,LabA\n' "$H" >"$INBOX/lab-0001.csv"
cp "$INBOX/lab-0001.csv" "$INBOX/lab-0001-resent.csv"
printf '%s\nD-0001,NOPE,2026-11-20,negative,,LabA\nD-9999,HIV,2026-11-20,negative,,LabA\nD-0003,HIV,2026-11-20,negative,,LabA\nD-0001,HIV,2026-13-40,negative,,LabA\n' "$H" >"$INBOX/lab-0002.csv"
echo "settle = 0" >"$TMP/fast.conf"
audit0=$(audit_count)
expect 0 "--once imports the lab's files" fmtbankd --once --inbox "$INBOX" --config "$TMP/fast.conf"
assert_contains "$ERR" 'imported "lab-0001-resent.csv": 2 rows' "the first (by name) is imported"
assert_contains "$ERR" '"lab-0001.csv" has the same content as "lab-0001-resent.csv"' "the resent copy is not"
assert_eq "$(results)" "2" "2 results, once"
assert_eq "$(sql "SELECT DISTINCT recorded_by FROM fmtbank.result")" "fmtbankd" "recorded by the daemon's login"
report=$(cat "$INBOX/rejected/lab-0002.csv.errors.txt")
assert_contains "$report" 'lab-0002.csv:2: unknown test "NOPE"' "report: unknown test"
assert_contains "$report" 'lab-0002.csv:3: donor "D-9999" not found' "report: unknown donor"
assert_contains "$report" 'lab-0002.csv:5: invalid collected date "2026-13-40"' "report: bad date"
assert_eq "$(grep -c '^lab-0002.csv:' "$INBOX/rejected/lab-0002.csv.errors.txt")" "3" \
    "exactly the 3 bad lines (line 4 is good)"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.result r JOIN fmtbank.donor d ON d.id = r.donor_id WHERE d.code = 'D-0003'")" \
    "0" "not even the good line of a rejected file"
assert_eq "$(sql "SELECT format || ':' || status FROM fmtbank.inbox_file ORDER BY id" | tr '\n' ' ')" \
    "result:imported result:duplicate result:rejected " "ledger"
[ "$(audit_count)" -gt "$audit0" ] && ok "audited" || not_ok "no audit rows"

# A result committed by anyone notifies fmtbank_result: the daemon sweeps at once.
sql "CREATE TABLE public.t_seen (n bigint);
     GRANT SELECT, INSERT ON public.t_seen TO fmtbank_owner; -- sweeps run as the owner
     CREATE FUNCTION public.t_results() RETURNS TABLE (what text, n bigint) LANGUAGE sql AS
       \$\$ WITH c AS (SELECT count(*) AS n FROM fmtbank.result),
               s AS (INSERT INTO public.t_seen SELECT n FROM c RETURNING n)
          SELECT 'results seen', n FROM s \$\$;
     SELECT fmtbank.sweep_register('seen', 'public.t_results()')" >/dev/null
start_daemon d --inbox "$INBOX" --interval 60
pid=$DPID
wait_log "$TMP/d.log" "sweep seen: results seen: 2" 10 || not_ok "first pass"
t0=$(now_ms)
run fmtbank --user alice result add D-0003 HIV --collected 2026-11-21 --result positive --lab LabB
assert_eq "$RC" "0" "a technician records a positive result"
wait_log "$TMP/d.log" "sweep seen: results seen: 3" 5 || not_ok "swept after the result"
took=$(($(now_ms) - t0))
echo "# result add to the daemon's sweep: $took ms"
# Woken by the notification, not by the 60 s interval (room for a loaded machine; the figure
# printed above is typically a few hundred ms).
[ "$took" -lt 30000 ] && ok "swept on the notification, well before the 60 s interval" || not_ok "took $took ms"

kill -TERM "$pid"
wait_exit "$pid" 10
assert_eq "$RC" "0" "exit 0"
check_daemon_logs
done_testing
