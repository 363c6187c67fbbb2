#!/usr/bin/env bash
# bench_report.sh: "fmtbank report" streaming N rows of 9 typed columns (default 1,000,000) from
# the database into xlsx, against libxlsxwriter alone writing the same rows (bench_xlsx, values
# made in C): wall time and peak resident memory of each (/usr/bin/time -v). Targets
# (product.md §9): within 1.5x of libxlsxwriter alone, peak <= 64 MB. Prints figures, asserts
# nothing. Use a non-sanitised build: FMTBANK_BIN=build bash tests/bench/bench_report.sh
# (or "make bench"). BENCH_ROWS=N changes the row count.
set -euo pipefail
: "${FMTBANK_BIN:?FMTBANK_BIN must point at the build directory}"
BIN=$(cd "$FMTBANK_BIN" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_ROWS:-1000000}
[[ "$N" =~ ^[0-9]+$ ]] || { echo "BENCH_ROWS must be a number" >&2; exit 2; }
export PATH="$BIN:$PATH"
unset FMTBANK_DSN PGHOST PGHOSTADDR PGPORT PGDATABASE PGSERVICE PGUSER FMTBANK_SCHEMA
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
