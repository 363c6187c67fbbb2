#!/usr/bin/env bash
# bench_sweep.sh [BUILD]: the daemon's whole sweep (fmtbank.sweep(): donor statuses, lots ready or
# unready, aliquot expiry, lookback holds (the sweep never recalls)) over 100,000 donors and 1,000,000 aliquots
# (tests/bench/generate). Target (product.md §9): <= 5 s. Prints figures; asserts nothing.
set -euo pipefail
BUILD=${1:-build}
DONORS=${DONORS:-100000}
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH="$(cd "$BUILD" && pwd):$PATH"
unset FMTBANK_DSN PGHOST PGHOSTADDR PGPORT PGDATABASE PGSERVICE PGUSER
. "$(dirname "${BASH_SOURCE[0]}")/pgpass.sh"
export FMTBANK_HOME=${BENCH_HOME:-$(mktemp -d /tmp/fmtbank-bench.XXXXXX)}
[ -n "${BENCH_HOME:-}" ] || trap 'fmtbank db stop >/dev/null 2>&1 || true; rm -rf "$FMTBANK_HOME"' EXIT
chmod 755 "$FMTBANK_HOME"
t0=$(date +%s.%N)
"$HERE/generate" --donors "$DONORS"
echo "generate: $(echo "$(date +%s.%N) - $t0" | bc) s"
fmtbank db psql -X -q -c "VACUUM ANALYZE" >/dev/null
for run in 1 2 3; do
    out=$(fmtbank --user adam db psql -X -q -A -t -c '\timing on' -c "SELECT what || '=' || n FROM fmtbank.sweep()")
    echo "fmtbank.sweep() run $run: $(echo "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | awk '{printf "%.3f", $1 / 1000}') s ($(echo "$out" | grep '=' | tr '\n' ' '))"
done
