#!/usr/bin/env bash
# bench_report.sh: "fmtbank report" streaming N rows of 9 typed columns (default 1,000,000) from
# the database into xlsx, against libxlsxwriter alone writing the same rows (bench_xlsx, values
# made in C): wall time and peak resident memory of each (/usr/bin/time -v). Then "fmtbank report
# inventory" on a stock of M aliquots in 10 x 10 boxes (gen_inventory.sql, superuser INSERTs;
# default M = N), against libxlsxwriter alone writing the report's two long sheets (the tube list
# and the box map, the same cells: IDs as shown, yes/no, the same formats and widths:
# "bench_xlsx M FILE inventory") and against the 9-column yardstick of M rows.
# Targets (product.md §9): within 1.5x of libxlsxwriter alone, peak <= 64 MB; for report inventory
# (§16) within 1.1x of libxlsxwriter alone writing the same list and box map, peak <= 16 MB.
# Prints figures, asserts nothing. Use a non-sanitised build: FMTBANK_BIN=build bash tests/bench/bench_report.sh
# (or "make bench"). BENCH_ROWS=N changes the row count, BENCH_ALIQUOTS=M the stock.
set -euo pipefail
: "${FMTBANK_BIN:?FMTBANK_BIN must point at the build directory}"
BIN=$(cd "$FMTBANK_BIN" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_ROWS:-1000000}
[[ "$N" =~ ^[0-9]+$ ]] || { echo "BENCH_ROWS must be a number" >&2; exit 2; }
M=${BENCH_ALIQUOTS:-$N}
[[ "$M" =~ ^[0-9]+$ ]] || { echo "BENCH_ALIQUOTS must be a number" >&2; exit 2; }
export PATH="$BIN:$PATH"
unset FMTBANK_DSN PGHOST PGHOSTADDR PGPORT PGDATABASE PGSERVICE PGUSER FMTBANK_SCHEMA
. "$(dirname "${BASH_SOURCE[0]}")/pgpass.sh"
export FMTBANK_HOME
FMTBANK_HOME=$(mktemp -d /tmp/fmtbank-bench.XXXXXX)
chmod 755 "$FMTBANK_HOME"
OUTDIR="$FMTBANK_HOME/out"
mkdir -p "$OUTDIR"
trap 'fmtbank db stop >/dev/null 2>&1; rm -rf "$FMTBANK_HOME"' EXIT
export FMTBANK_REPORTS="$HERE/reports:$HERE/../../reports"
YARDSTICK="$BIN/tests/bench_xlsx"
[ -x "$YARDSTICK" ] || { echo "bench_report: $YARDSTICK not built" >&2; exit 1; }

fmtbank init >/dev/null 2>&1
start=$(date +%s.%N)
# The same values bench_xlsx makes in C.
fmtbank db psql -X -q -v ON_ERROR_STOP=1 -c "
CREATE TABLE public.bench_aliquot AS
SELECT i AS id,
       format('L26%s-%sX', lpad(x.l::text, 6, '0'), lpad(((i - 1) % 10 + 1)::text, 3, '0')) AS aliquot,
       format('L26%sX', lpad(x.l::text, 6, '0')) AS lot,
       format('D-%s', lpad(((x.l - 1) % 5000 + 1)::text, 4, '0')) AS donor,
       (ARRAY['quarantine', 'released', 'issued', 'recalled', 'expired', 'discarded'])[i % 6 + 1] AS state,
       format('B%sX', lpad(((i - 1) / 100 + 1)::text, 6, '0')) AS box,
       chr(65 + ((i - 1) % 100 / 10)::int) || ((i - 1) % 10 + 1) AS position,
       make_timestamptz(2026, (x.l % 12 + 1)::int, (x.l % 28 + 1)::int, (x.l % 24)::int,
                        (x.l % 60)::int, 0) AS collected,
       make_date(2027, (x.l % 12 + 1)::int, (x.l % 28 + 1)::int) AS expires
FROM generate_series(1::bigint, $N) AS i, LATERAL (SELECT (i - 1) / 10 + 1 AS l) AS x;
ALTER TABLE public.bench_aliquot ADD PRIMARY KEY (id);" -c "VACUUM ANALYZE public.bench_aliquot" >/dev/null
echo "# generated $N rows in $(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s"

# timed LABEL CMD...: runs CMD under /usr/bin/time -v; sets SECS and RSS_KB.
timed() {
    local label=$1
    shift
    /usr/bin/time -v "$@" 2>"$OUTDIR/$label.time" >/dev/null || { cat "$OUTDIR/$label.time" >&2; exit 1; }
    local wall
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$OUTDIR/$label.time")
    SECS=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    RSS_KB=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUTDIR/$label.time")
    CPU=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$OUTDIR/$label.time")
}

fmtbank report check bench >/dev/null
timed lxw "$YARDSTICK" "$N" "$OUTDIR/lxw.xlsx"
lxw_s=$SECS lxw_kb=$RSS_KB
timed report fmtbank report bench -o "$OUTDIR/report.xlsx"
rep_s=$SECS rep_kb=$RSS_KB

dim() { # the sheet's used range, from the file itself
    /usr/bin/python3 -c 'import re, sys, zipfile
print(re.search(r"<dimension ref=\"([^\"]*)\"", zipfile.ZipFile(sys.argv[1]).open("xl/worksheets/sheet1.xml").read(4096).decode()).group(1))' "$1"
}
printf '%-34s %8s %10s %10s  %s\n' "" "seconds" "peak RSS" "file" "sheet"
printf '%-34s %8.2f %7d MB %7d MB  %s\n' "libxlsxwriter alone (bench_xlsx)" "$lxw_s" $((lxw_kb / 1024)) \
    $(($(stat -c %s "$OUTDIR/lxw.xlsx") / 1048576)) "$(dim "$OUTDIR/lxw.xlsx")"
printf '%-34s %8.2f %7d MB %7d MB  %s\n' "fmtbank report bench" "$rep_s" $((rep_kb / 1024)) \
    $(($(stat -c %s "$OUTDIR/report.xlsx") / 1048576)) "$(dim "$OUTDIR/report.xlsx")"
ratio=$(echo "scale=2; $rep_s / $lxw_s" | bc)
echo "report / libxlsxwriter alone: ${ratio}x (target <= 1.5x); report peak RSS $((rep_kb / 1024)) MB (target <= 64 MB)"

# ---------------------------------------------------------------- the inventory report
start=$(date +%s.%N)
fmtbank db psql -X -q -v ON_ERROR_STOP=1 -v aliquots="$M" -f "$HERE/gen_inventory.sql" >/dev/null
echo
echo "# generated a stock of $M aliquots in $(( (M + 99) / 100 )) boxes in $(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s"
fmtbank report check inventory >/dev/null
timed lxwinv "$YARDSTICK" "$M" "$OUTDIR/lxw-inventory.xlsx" inventory
li_s=$SECS li_kb=$RSS_KB li_cpu=$CPU
timed lxw9 "$YARDSTICK" "$M" "$OUTDIR/lxw9.xlsx"
l9_s=$SECS l9_kb=$RSS_KB
# The database's CPU time for the report's statements (the backend's own rusage, logged by
# log_statement_stats; parallel workers not included), so that the figures can be compared on a
# machine that other work shares.
fmtbank db psql -X -q -c "ALTER ROLE postgres SET log_statement_stats = on" >/dev/null
logn=$(wc -l <"$FMTBANK_HOME/postgres.log")
timed inventory fmtbank report inventory -o "$OUTDIR/inventory.xlsx"
inv_s=$SECS inv_kb=$RSS_KB inv_cpu=$CPU
fmtbank db psql -X -q -c "ALTER ROLE postgres RESET log_statement_stats" >/dev/null
db_cpu=$(tail -n +"$logn" "$FMTBANK_HOME/postgres.log" |
    awk '/s user, .* s system, .* s elapsed/ { s += $2 + $5 } END { printf "%.2f", s }')
printf '%-44s %8s %10s %8s %10s\n' "" "seconds" "CPU s" "peak RSS" "file"
printf '%-44s %8.2f %10s %5d MB %7d MB\n' "libxlsxwriter alone, $M rows x 9 columns" "$l9_s" "" \
    $((l9_kb / 1024)) $(($(stat -c %s "$OUTDIR/lxw9.xlsx") / 1048576))
printf '%-44s %8.2f %10.2f %5d MB %7d MB\n' "libxlsxwriter alone, list + box map" "$li_s" "$li_cpu" \
    $((li_kb / 1024)) $(($(stat -c %s "$OUTDIR/lxw-inventory.xlsx") / 1048576))
printf '%-44s %8.2f %10.2f %5d MB %7d MB\n' "fmtbank report inventory (6 sheets)" "$inv_s" "$inv_cpu" \
    $((inv_kb / 1024)) $(($(stat -c %s "$OUTDIR/inventory.xlsx") / 1048576))
echo "report inventory / libxlsxwriter alone writing the same list and box map: $(echo "scale=2; $inv_s / $li_s" | bc)x (target <= 1.1x, product.md §16)"
echo "report inventory / libxlsxwriter alone writing $M rows of 9 columns: $(echo "scale=2; $inv_s / $l9_s" | bc)x"
echo "report inventory peak RSS $((inv_kb / 1024)) MB (target <= 16 MB)"
echo "CPU: report inventory $inv_cpu s in fmtbank + $db_cpu s in the database backend; libxlsxwriter alone $li_cpu s (load average $(cut -d' ' -f1 /proc/loadavg))"
