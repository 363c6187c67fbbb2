#!/usr/bin/env bash
# t0701-daemon-inbox-crash: a file still being written is not picked up; a daemon killed with
# SIGKILL in the middle of an import leaves nothing behind and the file is imported exactly once
# on restart; one killed between COMMIT and the move does not import it twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db
base=$(donor_count)

# ---------------------------------------------------------------- a file still being written
printf 'interval = 0.2\nsettle = 1\n' >"$TMP/d.conf"
start_daemon d1 --inbox "$INBOX" --config "$TMP/d.conf"
d1=$DPID
wait_log "$TMP/d1.log" "active daemon" 10 || not_ok "daemon became active"
{
    echo "code,birth_year,sex"
    for i in 1 2 3 4 5 6 7 8; do
        sleep 0.3 # a slow writer: appends for 2.4 s, longer than the settle time of 1 s
        printf 'D-02000%02d,1980,F\n' "$i"
    done
} >"$INBOX/slow.csv"
wrote=$(now_ms)
assert_eq "$(sql "SELECT count(*) FROM fmtbank.inbox_file")" "0" "nothing taken while the file grew"
assert_eq "$(grep -c 'importing "slow.csv"' "$TMP/d1.log")" "0" "not even attempted"
wait_log "$TMP/d1.log" 'imported "slow.csv": 8 rows' 10
took=$(($(now_ms) - wrote))
assert_contains "$(cat "$TMP/d1.log")" 'imported "slow.csv": 8 rows' "imported whole once finished"
echo "# slow.csv imported $took ms after its last write (settle 1 s)"
[ "$took" -ge 900 ] && ok "not before the settle time" || not_ok "imported after only $took ms"
assert_eq "$(donor_count)" "$((base + 8))" "all 8 rows"

# A file written under a hidden name and renamed in is taken after the settle time.
donor_csv "$INBOX/.part" 300000 2
mv "$INBOX/.part" "$INBOX/renamed.csv"
wait_log "$TMP/d1.log" 'imported "renamed.csv": 2 rows' 10 || not_ok "renamed file imported"
assert_eq "$(donor_count)" "$((base + 10))" "renamed file imported"

kill -TERM "$d1"
wait_exit "$d1" 10
assert_eq "$RC" "0" "SIGTERM: exit 0"
base=$(donor_count)

# ---------------------------------------------------------------- SIGKILL in the middle of an import
donor_csv "$INBOX/big.csv" 1000000 60000
audit0=$(audit_count)
start_daemon d2 --inbox "$INBOX" --interval 0.2
d2=$DPID
wait_log "$TMP/d2.log" 'importing "big.csv"' 30 || not_ok "import started"
sleep 0.3
kill -9 "$d2"
wait "$d2" 2>/dev/null
assert_eq "$(grep -c 'imported "big.csv"' "$TMP/d2.log")" "0" "killed before the import finished"
wait_until 30 no_daemon_sessions || not_ok "the killed daemon's sessions ended"
assert_eq "$(donor_count)" "$base" "no partial import: not one row kept"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.inbox_file WHERE name = 'big.csv'")" "0" "no ledger row"
assert_eq "$(audit_count)" "$audit0" "no audit row"
[ -f "$INBOX/big.csv" ] && ok "the file is still in the inbox" || not_ok "big.csv left the inbox"

expect 0 "restart (--once) after the kill" fmtbankd --once --inbox "$INBOX" --interval 0.2
assert_contains "$ERR" 'imported "big.csv": 60000 rows' "imported on restart"
assert_eq "$(donor_count)" "$((base + 60000))" "exactly once: 60000 rows"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.inbox_file WHERE name = 'big.csv' AND status = 'imported' AND rows = 60000")" \
    "1" "one ledger row"
[ -f "$INBOX/processed/big.csv" ] && ok "moved to processed/" || not_ok "big.csv not in processed/"

# ---------------------------------------------------------------- killed between COMMIT and the move
# Simulated: the imported file is back in the inbox under its name, as if the move never happened.
mv "$INBOX/processed/big.csv" "$INBOX/big.csv"
n0=$(sql "SELECT count(*) FROM fmtbank.inbox_file")
expect 0 "restart finds the content already imported" fmtbankd --once --inbox "$INBOX" --interval 0.2
assert_contains "$ERR" '"big.csv" was imported at' "recognised as its own earlier import"
assert_eq "$(donor_count)" "$((base + 60000))" "not imported twice"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.inbox_file")" "$n0" "no duplicate row for a finished move"
[ -f "$INBOX/processed/big.csv" ] && ok "moved to processed/ again" || not_ok "not moved"

check_daemon_logs
done_testing
