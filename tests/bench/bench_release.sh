#!/usr/bin/env bash
# bench_release.sh [BUILD]: times release readiness and the release sweep on a throwaway embedded
# instance and prints the figures (a benchmark, not a test: nothing is asserted). Target
# (product.md §9): a daemon sweep over 100,000 donors and 1,000,000 aliquots <= 5 s.
# Data: gen_screening.sql (100,000 donors with full panels) + gen_release.sql (a second panel,
# 200,000 lots, 1,000,000 aliquots). Use a build without sanitizers (e.g. BUILD=build).
#   DONORS=100000   donors to generate
#   BENCH_HOME=DIR  keep the instance in DIR instead of a temporary directory
set -euo pipefail
BUILD=${1:-build}
DONORS=${DONORS:-100000}
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH="$(cd "$BUILD" && pwd):$PATH"
unset FMTBANK_DSN PGHOST PGHOSTADDR PGPORT PGDATABASE PGSERVICE PGUSER
. "$(dirname "${BASH_SOURCE[0]}")/pgpass.sh"
if [ -n "${BENCH_HOME:-}" ]; then
    export FMTBANK_HOME=$BENCH_HOME
    mkdir -p "$FMTBANK_HOME"
else
    export FMTBANK_HOME=$(mktemp -d /tmp/fmtbank-bench.XXXXXX)
    trap 'fmtbank db stop >/dev/null 2>&1 || true; rm -rf "$FMTBANK_HOME"' EXIT
fi
chmod 755 "$FMTBANK_HOME"
WORK="$FMTBANK_HOME/bench"
mkdir -p "$WORK"

q() { fmtbank db psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { printf '%.3f' "$(echo "$2 - $1" | bc)"; }
# server time of the last statement (psql \timing), in seconds; ROLE runs it (default postgres)
server_time() {
    fmtbank --user "${2:-postgres}" db psql -X -q -A -t -v ON_ERROR_STOP=1 -c '\timing on' -c "$1" |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1 | awk '{printf "%.3f", $1 / 1000}'
}
sweep() { # LABEL: one sweep as quinn, with its figures
    local out
    out=$(fmtbank --user quinn db psql -X -q -A -t -v ON_ERROR_STOP=1 -c '\timing on' \
              -c "SELECT what || '=' || n FROM fmtbank.sweep_release()")
    echo "$1: $(echo "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | awk '{printf "%.3f", $1 / 1000}') s" \
         "($(echo "$out" | grep '=' | grep -v '=0$' | tr '\n' ' '))"
}

echo "# fmtbank release benchmark: $DONORS donors"
echo "# FMTBANK_HOME=$FMTBANK_HOME; $(nproc) CPUs; $(q -c 'select version()' | cut -d, -f1)"
fmtbank init --demo >/dev/null 2>&1
t0=$(now)
q -v donors="$DONORS" -f "$HERE/gen_screening.sql" >/dev/null
q -f "$HERE/gen_release.sql" >"$WORK/gen.out"
t1=$(now)
read -r nd nl na nr nc < <(tr '|' ' ' <"$WORK/gen.out" | tail -1)
echo "generate: $nd donors, $nl lots, $na aliquots, $nr results, $nc open result cases in $(secs "$t0" "$t1") s"

echo
echo "## one lot"
lot=$(q -c "SELECT lot_id FROM fmtbank.lot WHERE lot_id LIKE 'L25%' ORDER BY lot_id LIMIT 1 OFFSET 1001")
uuid=$(q -c "SELECT id FROM fmtbank.lot WHERE lot_id = '$lot'")
echo "lot_blocking_at(now, one lot), server: $(server_time "SELECT * FROM fmtbank.lot_blocking_at(clock_timestamp(), '$uuid')") s"
t0=$(now)
for _ in 1 2 3 4 5 6 7 8 9 10; do fmtbank --user quinn release check "$lot" >/dev/null 2>&1 || true; done
t1=$(now)
echo "fmtbank release check $lot (end to end, mean of 10): $(printf '%.4f' "$(echo "($t1 - $t0) / 10" | bc -l)") s"
echo "snapshot of one lot (what release sign stores), server: $(server_time "SELECT length(fmtbank.release_snapshot(clock_timestamp(), '$uuid')::text)") s"

echo
echo "## every lot in quarantine ($nl lots, $na aliquots)"
echo "lot_blocking_at(now) of every quarantined or ready lot: $(server_time "SELECT count(*) FILTER (WHERE blocking = '[]') FROM fmtbank.lot_blocking_at(clock_timestamp(), NULL, ARRAY['quarantine', 'ready'])") s"
sweep "sweep_release, first run (cases applied, expiry stored, lots made ready, all audited)"
sweep "sweep_release, second run (steady state: nothing to change)"
sweep "sweep_release, third run"
q -c "SELECT status, count(*) FROM fmtbank.lot GROUP BY status ORDER BY status" | sed 's/^/  lots stored /'

echo
echo "## a realistic bank: 85% of the lots released (stock banked), the rest in quarantine or ready"
q -c "SET session_replication_role = replica;
      UPDATE fmtbank.lot SET status = 'released' WHERE status IN ('quarantine', 'ready') AND (substr(lot_id, 4, 6)::int % 20) >= 3;
      UPDATE fmtbank.aliquot a SET status = 'released' FROM fmtbank.lot l
      WHERE l.id = a.lot AND l.status = 'released' AND a.status = 'quarantine' AND NOT a.retained" >/dev/null
q -c "VACUUM ANALYZE fmtbank.lot" -c "VACUUM ANALYZE fmtbank.aliquot" >/dev/null
q -c "SELECT status, count(*) FROM fmtbank.lot GROUP BY status ORDER BY status" | sed 's/^/  lots stored /'
sweep "sweep_release (steady state)"
sweep "sweep_release (again)"
t0=$(now)
fmtbank --user quinn status >/dev/null
t1=$(now)
echo "fmtbank status (counts lots by displayed state): $(secs "$t0" "$t1") s"
t0=$(now)
fmtbank --user quinn release review >"$WORK/review.txt"
t1=$(now)
echo "fmtbank release review (every released lot under the current rules): $(secs "$t0" "$t1") s, $(grep -c '^L25' "$WORK/review.txt" || true) lots listed"
t0=$(now)
fmtbank --user quinn --format json lot list --status ready >"$WORK/ready.json"
t1=$(now)
echo "fmtbank lot list --status ready --format json (every lot evaluated): $(secs "$t0" "$t1") s"
