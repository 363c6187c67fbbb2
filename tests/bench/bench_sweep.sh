#!/usr/bin/env bash
# bench_sweep.sh [BUILD]: the daemon's whole sweep (fmtbank.sweep(): catalog changes, donor statuses,
# aliquot expiry, lots ready or unready, freezer readings) over 100,000 donors and 1,000,000
# aliquots (tests/bench/generate). Targets (product.md §16): the first pass after generate <= 10 s;
# a pass when nothing changed and no day boundary passed <= 0.1 s; the steady state's worst case
# (every lot unreleased, a new day, a day's results for 1,000 donors) <= 2 s. Also a pass after
# results for 1,000 donors alone, and a full re-judgement (sweep_full: every donor and lot, what a
# rule or catalog change costs once). Sweeps evaluate what changed
# (schema/180_sweep_dirty.sql). Prints figures and the machine's load; asserts nothing.
set -euo pipefail
BUILD=${1:-build}
DONORS=${DONORS:-100000}
RUNS=${RUNS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH="$(cd "$BUILD" && pwd):$PATH"
unset FMTBANK_DSN PGHOST PGHOSTADDR PGPORT PGDATABASE PGSERVICE PGUSER
. "$(dirname "${BASH_SOURCE[0]}")/pgpass.sh"
export FMTBANK_HOME=${BENCH_HOME:-$(mktemp -d /tmp/fmtbank-bench.XXXXXX)}
[ -n "${BENCH_HOME:-}" ] || trap 'fmtbank db stop >/dev/null 2>&1 || true; rm -rf "$FMTBANK_HOME"' EXIT
chmod 755 "$FMTBANK_HOME"
if [ -z "${BENCH_REUSE:-}" ]; then
    t0=$(date +%s.%N)
    "$HERE/generate" --donors "$DONORS"
    echo "generate: $(echo "$(date +%s.%N) - $t0" | bc) s"
fi
# Statistics for the planner, and the generator's dirty pages written out first: without the
# CHECKPOINT the first pass shares the machine with the checkpointer writing the 2 GB that
# generate left in memory (0.5-1 s of the pass, depending on when that checkpoint starts).
fmtbank db psql -X -q -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null

# sweep LABEL [SQL before, run by the superuser]: one pass as the admin adam, timed by psql;
# prints seconds and changes
sweep() {
    local out
    [ -z "${2:-}" ] || fmtbank db psql -X -q -v ON_ERROR_STOP=1 -c "$2" >/dev/null
    out=$(fmtbank --user adam db psql -X -q -A -t -c '\timing on' \
          -c "SELECT what || '=' || n FROM fmtbank.sweep()")
    echo "$1: $(echo "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1 |
                awk '{printf "%.3f", $1 / 1000}') s ($(echo "$out" | grep '=' | tr '\n' ' ')) load $(cut -d' ' -f1 /proc/loadavg)"
}

sweep "first pass (target <= 10 s)"
for run in $(seq "$RUNS"); do sweep "idle pass $run (target <= 0.1 s)"; done
for run in $(seq "$RUNS"); do
    # a negative CRP for 1,000 donors (set-based, as an import stores it): their donor and lots
    sweep "after results for 1,000 donors, run $run" \
        "INSERT INTO fmtbank.result (donor_id, test_no, collected, result, value, unit, lab)
         SELECT d.id, t.test_no, current_date, '1.$run', 1.$run, 'mg/L', 'Lab A'
         FROM (SELECT id FROM fmtbank.donor ORDER BY id OFFSET $((run * 1000)) LIMIT 1000) d,
              fmtbank.screening_test t WHERE t.code = 'CRP'"
done
for run in $(seq "$RUNS"); do
    # the steady state's worst case: every lot unreleased (generate releases none), a new day
    # (faked: the last pass was yesterday; every donor not eligible, whose reasons name the day,
    # and every donor whose dates ran out are judged again, with their lots) and a day's results
    sweep "steady-state worst case (new day + results for 1,000 donors; target <= 2 s), run $run" \
        "UPDATE fmtbank.sweep_state SET day = day - 1;
         INSERT INTO fmtbank.result (donor_id, test_no, collected, result, value, unit, lab)
         SELECT d.id, t.test_no, current_date, '2.$run', 2.$run, 'mg/L', 'Lab A'
         FROM (SELECT id FROM fmtbank.donor ORDER BY id OFFSET $((run * 1000 + 10000)) LIMIT 1000) d,
              fmtbank.screening_test t WHERE t.code = 'CRP'"
done
for run in $(seq "$RUNS"); do
    sweep "full re-judgement (every donor and lot: sweep_full, as after a rule change), run $run" "SELECT fmtbank.sweep_full()"
done
sweep "idle pass after"
echo "load: $(uptime)"
