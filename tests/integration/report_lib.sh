# report_lib.sh: fixtures for the report-definition tests (t041N), sourced after lib.sh and
# screening_lib.sh. Everything goes through the CLI as the demo users, except where a state has
# no command yet (released, recalled, issued: the release and issue commands come later), which
# is set by a superuser UPDATE, said so where it is used.

# report content by plain IDs (t0209-readable-ids checks how IDs are shown)
DUMP() { /usr/bin/python3 "$FMTBANK_SRC/tests/integration/xlsxdump.py" --plain-ids "$1"; }

# now_s: the current local time to the second.
now_s() { date '+%F %H:%M:%S'; }

# rep_eligible CODE...: makes each donor eligible through the CLI: an acceptable full panel
# collected yesterday, a clear full questionnaire today and a clear donation-day questionnaire
# today (what "donation add" needs).
rep_eligible() {
    local code
    echo "donor,test,collected,result,unit,lab" >"$TMP/panel.csv"
    for code in "$@"; do panel_rows "$code" "$(d -1)" >>"$TMP/panel.csv"; done
    fmtbank --user alice result import "$TMP/panel.csv" >/dev/null 2>"$TMP/panel.err" ||
        { cat "$TMP/panel.err"; exit 1; }
    write_full "$TMP/full.csv"
    write_short "$TMP/short.csv"
    for code in "$@"; do
        fmtbank --user alice questionnaire record "$code" --date "$(d 0)" --file "$TMP/full.csv" \
            >/dev/null 2>"$TMP/q.err" || { cat "$TMP/q.err"; exit 1; }
        fmtbank --user alice questionnaire record "$code" --date "$(d 0)" --short \
            --file "$TMP/short.csv" >/dev/null 2>"$TMP/q.err" || { cat "$TMP/q.err"; exit 1; }
    done
}

# rep_donation CODE DOSES: a donation of an eligible donor collected now and processed at once,
# through the CLI (alice); prints the lot ID, then the aliquot IDs (doses, then the retained
# sample), one a line.
rep_donation() {
    local at lot
    at=$(now_s)
    lot=$(fmtbank --user alice donation add "$1" --collected "$at" --mass 500 --bristol 4 2>"$TMP/don.err") ||
        { cat "$TMP/don.err" >&2; exit 1; }
    echo "$lot"
    fmtbank --user alice donation process "$lot" --processed "$at" --doses "$2" 2>"$TMP/don.err" ||
        { cat "$TMP/don.err" >&2; exit 1; }
}

# rep_scan INPUT: a scan session of alice (storing by default); fails the test on a refusal.
rep_scan() {
    printf '%s\n' "$1" >"$TMP/scan.in"
    fmtbank --user alice scan <"$TMP/scan.in" >"$TMP/scan.out" 2>&1 ||
        { echo "scan failed:"; cat "$TMP/scan.out"; exit 1; }
}

# cells DUMP SHEET: the "cell" lines of one sheet, without the formatting ("A5 int 3").
cells() { printf '%s\n' "$1" | sed -n "s/^cell $2!\([A-Z]*[0-9]*\) \(.*\) fmt=.*/\1 \2/p"; }
# cell DUMP SHEET REF: "TYPE VALUE" of one cell ("" when empty).
cell() { cells "$1" "$2" | sed -n "s/^$3 //p"; }
# fill DUMP SHEET REF: the fill colour of one cell (None when unfilled).
fill() { printf '%s\n' "$1" | sed -n "s/^cell $2!$3 .* fill=\(.*\)$/\1/p"; }
# column DUMP SHEET COL FIRST: the values of column COL from row FIRST down, one a line.
column() {
    printf '%s\n' "$1" | sed -n "s/^cell $2!$3\([0-9]*\) [a-z]* \(.*\) fmt=.*/\1 \2/p" |
        awk -v first="$4" '$1 >= first { $1 = ""; sub(/^ /, ""); print }'
}
