#!/usr/bin/env bash
# t0013-concurrent-imports: the daemon's inbox import and CLI "result import"s at the same time
# (they used to take the results lock and the audit chain's lock in opposite orders and deadlock:
# inbox files rejected, a CLI import failing with exit 5). Now every writer of results takes them
# in one order (fmtbank.write_lock()): every file is imported, none rejected, every CLI import
# exits 0, and no retry is even needed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
setup_db
NFILES=40     # inbox files, 3 results each
NWORKERS=4    # concurrent CLI importers
NCLI=6        # files each, 4 results each
DAY=$(date -d '-3 days' +%F)
H=donor,test,collected,result,unit,lab

ndonors=$((NFILES * 3))
donor_csv "$TMP/donors.csv" 800000 "$ndonors"
expect 0 "$ndonors donors" fmtbank --user alice donor import "$TMP/donors.csv"
results0=$(sql "SELECT count(*) FROM fmtbank.result")

# Inbox: file i holds HIV results of donors 3i..3i+2. CLI: worker w, file k holds HCV_AB,
# HBSAG, SYPHILIS and HTLV results of one donor each (all distinct from each other).
for ((i = 0; i < NFILES; i++)); do
    {
        echo "$H"
        for ((j = 0; j < 3; j++)); do printf 'D-%07d,HIV,%s,negative,,LabA\n' $((800000 + 3 * i + j)) "$DAY"; done
    } >"$TMP/lab-$(printf %03d $i).csv"
done
for ((w = 0; w < NWORKERS; w++)); do
    for ((k = 0; k < NCLI; k++)); do
        n=$((800000 + w * NCLI + k))
        {
            echo "$H"
            for t in HCV_AB HBSAG SYPHILIS HTLV; do printf 'D-%07d,%s,%s,negative,,LabB\n' "$n" "$t" "$DAY"; done
        } >"$TMP/cli-$w-$k.csv"
    done
done

printf 'settle = 0\n' >"$TMP/fast.conf"
start_daemon d --inbox "$INBOX" --config "$TMP/fast.conf" --interval 1
pid=$DPID
wait_log "$TMP/d.log" "active daemon" 10 || not_ok "the daemon became active"
# Files appear in the inbox while the CLI workers import: both write results at the same time.
worker() {
    local w=$1 k
    for ((k = 0; k < NCLI; k++)); do
        fmtbank --user alice result import "$TMP/cli-$w-$k.csv" >"$TMP/cli-$w-$k.out" 2>"$TMP/cli-$w-$k.err"
        echo $? >"$TMP/cli-$w-$k.rc"
    done
}
t0=$(now_ms)
wpids=()
for ((w = 0; w < NWORKERS; w++)); do worker "$w" & wpids+=($!); done
for f in "$TMP"/lab-*.csv; do mv "$f" "$INBOX/"; done
for p in "${wpids[@]}"; do wait "$p"; done
cli_done=$(($(now_ms) - t0))
settled() { [ "$(sql "SELECT count(*) FROM fmtbank.inbox_file")" -ge "$NFILES" ]; }
wait_until 60 settled || not_ok "the daemon handled every inbox file"
took=$(($(now_ms) - t0))
echo "# $NFILES inbox files and $((NWORKERS * NCLI)) CLI imports: CLI done after $cli_done ms, all after $took ms"

bad=0
for ((w = 0; w < NWORKERS; w++)); do
    for ((k = 0; k < NCLI; k++)); do
        rc=$(cat "$TMP/cli-$w-$k.rc")
        if [ "$rc" != 0 ]; then
            bad=$((bad + 1))
            echo "# cli-$w-$k exit $rc: $(head -3 "$TMP/cli-$w-$k.err")"
        fi
    done
done
assert_eq "$bad" "0" "every CLI result import exits 0 (none exit 5, none 8)"
assert_eq "$(cat "$TMP"/cli-*.out | wc -l)" "$((NWORKERS * NCLI * 4))" "each printed its result IDs"
assert_eq "$(sql "SELECT status || ':' || count(*) FROM fmtbank.inbox_file GROUP BY status")" \
    "imported:$NFILES" "every inbox file imported, none rejected"
assert_eq "$(ls "$INBOX/rejected" 2>/dev/null | wc -l)" "0" "rejected/ is empty"
assert_eq "$(ls "$INBOX/processed" | wc -l)" "$NFILES" "every file moved to processed/"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.result")" \
    "$((results0 + NFILES * 3 + NWORKERS * NCLI * 4))" "every result stored once"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.result WHERE lab = 'LabA' AND recorded_by = 'fmtbankd'")" \
    "$((NFILES * 3))" "the inbox's results recorded by the daemon"
retries=$( (cat "$TMP"/cli-*.err; cat "$TMP/d.log") | grep -c "retrying in")
echo "# retries after a conflict: $retries"
assert_eq "$retries" "0" "one lock order: not even a retry was needed"
run fmtbank --user audrey audit verify
assert_eq "$RC" "0" "the audit chain is intact after the concurrent writers"

kill -TERM "$pid"
wait_exit "$pid" 10
assert_eq "$RC" "0" "daemon exits 0"
check_daemon_logs
done_testing
