#!/usr/bin/env bash
# bench_scan.sh: the scan session's throughput and latency (product.md §9: >= 1,000 scans/s
# piped, median scan-to-answer <= 1 ms). Not a ctest test: it prints figures, it asserts nothing.
# Use a non-sanitised build: FMTBANK_BIN=build bash tests/bench/bench_scan.sh (or "make bench");
# BENCH_TUBES=N changes the number of tubes (default 1000).
#
# A throwaway embedded instance (fsync on) gets one freezer, enough 16 x 24 boxes, and TUBES
# aliquots (inserted by SQL as fixture). Then, as the technician alice:
#  1. store:    every tube scanned into the boxes through a pipe (box, then its tubes, row-major);
#  2. audit:    every box audited (all tubes present);
#  3. retrieve: every tube scanned out again;
#  4. interactive: 200 tubes stored one scan at a time, waiting for each answer before sending
#     the next (a person with a scanner), timed from the write to the answer read.
# Each pipe run uses "scan --timing" (time from reading a line to its answer flushed).
# The yardstick (product.md §16: a piped scan's median <= 4x a bare one-row INSERT transaction,
# measured in the same run): pgbench, one client, one autocommitted INSERT of one row into an
# unindexed, unaudited table per transaction (the same commit and WAL flush a scan pays), run
# before and after the scans; the ratios are printed at the end, with the load average.
set -euo pipefail
: "${FMTBANK_BIN:?FMTBANK_BIN must point at the build directory}"
BIN=$(cd "$FMTBANK_BIN" && pwd)
TUBES=${BENCH_TUBES:-1000}
[[ "$TUBES" =~ ^[0-9]+$ ]] || { echo "BENCH_TUBES must be a number" >&2; exit 2; }
export PATH="$BIN:$PATH"
unset FMTBANK_DSN PGHOST PGHOSTADDR PGPORT PGDATABASE PGSERVICE PGUSER FMTBANK_SCHEMA
. "$(dirname "${BASH_SOURCE[0]}")/pgpass.sh"
export FMTBANK_HOME
FMTBANK_HOME=$(mktemp -d /tmp/fmtbank-bench.XXXXXX)
chmod 755 "$FMTBANK_HOME"
trap 'fmtbank db stop >/dev/null 2>&1; rm -rf "$FMTBANK_HOME"' EXIT
W="$FMTBANK_HOME/work"
mkdir -p "$W"
psql_() { fmtbank db psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }

fmtbank init --demo >/dev/null 2>&1
BOXES=$(( (TUBES + 383) / 384 ))
fmtbank --user adam freezer add "Bench freezer" --temp -80 >/dev/null
for _ in $(seq "$BOXES"); do
    fmtbank --user adam box add --freezer "Bench freezer" --rows 16 --cols 24 >>"$W/boxes"
done
LOTS=$(( (TUBES + 9) / 10 ))
psql_ <<SQL
INSERT INTO fmtbank.lot (lot_id, donor_id, collected_at, mass_g, bristol, processed_at, doses)
SELECT fmtbank.with_check('L26' || lpad(i::text, 6, '0')),
       (SELECT id FROM fmtbank.donor WHERE code = 'D-0001'), now() - interval '3 hours', 500, 4,
       now() - interval '1 hour', 9
FROM generate_series(1, $LOTS) i;
INSERT INTO fmtbank.aliquot (aliquot_id, lot, idx, retained, expires_at, volume_ml, glycerol_percent)
SELECT fmtbank.with_check(left(l.lot_id, -1) || '-' || lpad(k::text, 3, '0')), l.id, k, k = 0,
       now() + interval '730 days', 200, 10
FROM fmtbank.lot l, generate_series(0, 9) k;
SQL
psql_ -c "SELECT aliquot_id FROM fmtbank.aliquot ORDER BY aliquot_id LIMIT $TUBES" >"$W/tubes"
psql_ -c "VACUUM ANALYZE" >/dev/null

# Input: each box, then up to 384 tubes.
make_input() { # PREFIX_LINE...
    local i=0
    for line in "$@"; do echo "$line"; done
    while read -r box; do
        echo "$box"
        sed -n "$((i * 384 + 1)),$(((i + 1) * 384))p" "$W/tubes"
        i=$((i + 1))
    done <"$W/boxes"
}
make_input >"$W/store.in"
make_input "MODE audit" >"$W/audit.in"
make_input "MODE retrieve" >"$W/retrieve.in"

run() { # NAME INPUT
    local name=$1 input=$2 start end
    start=$(date +%s.%N)
    fmtbank --user alice scan --timing <"$input" >"$W/$name.out" 2>"$W/$name.err" || true
    end=$(date +%s.%N)
    local timing summary
    timing=$(grep '^scan timing' "$W/$name.err" || echo "no timing: $(cat "$W/$name.err")")
    summary=$(grep '^SUMMARY' "$W/$name.out" || true)
    printf '%-9s %s\n          %s\n          wall clock of the whole command (connect included): %.3f s\n' \
        "$name" "$summary" "${timing#scan timing: }" "$(echo "$end - $start" | bc)"
}

echo "fmtbank scan benchmark: $TUBES tubes, $BOXES boxes of 16 x 24, embedded PostgreSQL (fsync on)"
echo "machine: $(nproc) CPUs, $(uname -sr); build: $BIN"
# The bare one-row INSERT transaction (pgbench -l: one latency per transaction, in microseconds).
psql_ -c "CREATE TABLE public.bench_insert (id bigserial, v text)"
echo "INSERT INTO public.bench_insert (v) VALUES ('L26000001-001');" >"$W/insert.sql"
bare() { # LOGPREFIX
    (cd "$W" && "$PGBIN/pgbench" -n -c 1 -t "$TUBES" -f insert.sql -l --log-prefix="$1" \
        "$(fmtbank db url)" >/dev/null 2>"$W/pgbench.err") ||
        { echo "pgbench failed: $(cat "$W/pgbench.err")" >&2; exit 1; }
}
PGBIN=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /usr/lib/postgresql/15/bin/pg_ctl)")
[ -x "$PGBIN/pgbench" ] || PGBIN=/usr/lib/postgresql/15/bin
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
bare bare1
run store "$W/store.in"
run audit "$W/audit.in"
run retrieve "$W/retrieve.in"

# Diagnosis only (not durable, not the figure of any target): the same store and retrieve passes
# with synchronous_commit off for alice in this throwaway instance, so the difference from the
# passes above is the commit's WAL flush (the rest is the scan's own work).
psql_ -c "ALTER ROLE alice SET synchronous_commit = off"
run store-nosync "$W/store.in"
run retrieve-nosync "$W/retrieve.in"
psql_ -c "ALTER ROLE alice RESET synchronous_commit"

# Interactive: one scan at a time, waiting for the answer (scan-to-answer as a person sees it).
head -1 "$W/boxes" >"$W/inter.in"
head -200 "$W/tubes" >>"$W/inter.in"
python3 - "$W/inter.in" <<'PY' | tee "$W/inter.txt"
import subprocess, sys, time, statistics
lines = open(sys.argv[1]).read().split()
p = subprocess.Popen(["fmtbank", "--user", "alice", "scan"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, text=True, bufsize=1)
lat = []
for i, line in enumerate(lines):
    t0 = time.perf_counter()
    p.stdin.write(line + "\n"); p.stdin.flush()
    answer = p.stdout.readline()
    dt = (time.perf_counter() - t0) * 1000
    if i > 0:          # the box scan is not a tube
        lat.append(dt)
    if not answer.startswith("OK"):
        print("unexpected answer:", answer.strip()); break
p.stdin.close(); p.stdout.read(); p.wait()
lat.sort()
p99 = lat[max(0, int(len(lat) * 0.99 + 0.999999) - 1)]
print("interactive %d stores, one at a time: median %.3f ms, p99 %.3f ms, max %.3f ms"
      % (len(lat), statistics.median(lat), p99, lat[-1]))
PY
bare bare2
cat "$W"/bare1.* "$W"/bare2.* | awk '{print $3}' >"$W/bare.us"
python3 - "$W" <<'PY'
import re, statistics, sys
w = sys.argv[1]
bare = sorted(int(x) / 1000 for x in open(w + "/bare.us").read().split())
med = statistics.median(bare)
print("bare one-row INSERT transaction (pgbench, %d): median %.3f ms, p99 %.3f ms"
      % (len(bare), med, bare[max(0, int(len(bare) * 0.99 + 0.999999) - 1)]))
for name in ("store", "retrieve"):
    m = re.search(r"latency median ([0-9.]+) ms", open("%s/%s.err" % (w, name)).read())
    if m:
        print("ratio %s scan median / bare INSERT median: %.2f (target <= 4; %.3f ms, target <= 0.5 ms)"
              % (name, float(m.group(1)) / med, float(m.group(1))))
m = re.search(r"median ([0-9.]+) ms", open(w + "/inter.txt").read())
if m:
    print("ratio interactive scan median / bare INSERT median: %.2f" % (float(m.group(1)) / med))
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
stored=$(psql_ -c "SELECT count(*) FROM fmtbank.custody_event WHERE kind = 'place'")
echo "custody events 'place' recorded: $stored (store pass + interactive pass)"
