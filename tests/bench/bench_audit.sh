#!/usr/bin/env bash
# bench_audit.sh [BUILD]: "fmtbank audit verify" over ROWS audit rows (default 500,000: one per
# donor registered in one statement, each row carrying its new row as JSON). Target (product.md
# §16): >= 500,000 rows/s. Prints figures; asserts nothing. Beside the command (ranges over up to
# one connection per CPU, each checked by the server module's C loop), the same check by the
# plain SQL definition on one connection (fmtbank.audit_verify_sql), for comparison, and the
# load average: on a busy machine the figures are lower bounds of the speed.
set -euo pipefail
BUILD=${1:-build}
ROWS=${ROWS:-500000}
export PATH="$(cd "$BUILD" && pwd):$PATH"
unset FMTBANK_DSN PGHOST PGHOSTADDR PGPORT PGDATABASE PGSERVICE PGUSER
. "$(dirname "${BASH_SOURCE[0]}")/pgpass.sh"
export FMTBANK_HOME=${BENCH_HOME:-$(mktemp -d /tmp/fmtbank-bench.XXXXXX)}
[ -n "${BENCH_HOME:-}" ] || trap 'fmtbank db stop >/dev/null 2>&1 || true; rm -rf "$FMTBANK_HOME"' EXIT
chmod 755 "$FMTBANK_HOME"
fmtbank init --demo >/dev/null
fmtbank --user postgres db psql -X -q -v ON_ERROR_STOP=1 -v n="$ROWS" <<'SQL'
INSERT INTO fmtbank.donor (code, birth_year, sex)
SELECT 'D-' || lpad(g::text, 7, '0'), 1980, 'F' FROM generate_series(1, :n) g;
VACUUM ANALYZE fmtbank.audit_log;
SQL
rows=$(fmtbank --user postgres db psql -X -A -t -c "SELECT count(*) FROM fmtbank.audit_log")
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in 1 2 3; do
    t0=$(date +%s%N)
    fmtbank --user audrey audit verify >/dev/null
    ms=$((($(date +%s%N) - t0) / 1000000))
    echo "fmtbank audit verify run $run: $rows rows in $ms ms: $((rows * 1000 / (ms > 0 ? ms : 1))) rows/s (target >= 500000)"
done
t0=$(date +%s%N)
fmtbank --user postgres db psql -X -A -t -c "SELECT ok FROM fmtbank.audit_verify_sql(NULL, NULL)" >/dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
echo "plain SQL definition, one connection (for comparison): $rows rows in $ms ms: $((rows * 1000 / (ms > 0 ? ms : 1))) rows/s"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
