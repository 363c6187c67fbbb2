#!/usr/bin/env bash
# t0414-report-shared-query: table and box-map sheets that name the same query run it once and
# are written side by side, each taking its columns by name (any order, extra columns ignored);
# "filter" leaves rows out of one sheet; "report check" and every run check each sheet against
# the shared query; definitions that cannot work are refused naming the file and line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_lib.sh"
setup_db
SITE=$TMP/site
mkdir -p "$SITE"
export FMTBANK_REPORTS="$SITE"

# A table the shared query alone reads, to count how often it is scanned.
sql "CREATE TABLE public.probe (box text, nrows int, ncols int, r int, c int, tube text, st text,
                                 weight numeric, checked date);
     INSERT INTO public.probe VALUES
       ('B1', 2, 2, 1, 1, 'T-1', 'released', 1.5, '2026-11-01'),
       ('B1', 2, 2, 2, 2, 'T-2', 'quarantine', 2.25, '2026-11-02'),
       ('B2', 1, 3, NULL, NULL, NULL, NULL, NULL, NULL),
       ('B3', 1, 1, 1, 1, 'T-3', 'recalled', 3, '2026-11-03')" >/dev/null
cat >"$SITE/shared.report" <<'EOF'
[report]
title = Shared

[sheet Intro]
kind = record
query = intro
column n = integer | Tubes

[sheet Map]
kind = boxmap
query = tubes
color released   = C6EFCE | Released
color quarantine = FFEB9C | Quarantine

[sheet Tubes]
query = tubes
filter = has_tube
column tube    = text    | Tube
column box     = text    | Box
column weight  = number  | Weight | | 0.00
column checked = date    | Checked

[sheet After]
query = intro
column n = integer | Tubes
EOF
cat >"$SITE/shared.sql" <<'EOF'
-- @query intro
SELECT count(tube) AS n FROM public.probe;

-- @query tubes
SELECT p.weight, p.box, 'Box ' || p.box AS caption, p.nrows, p.ncols, p.r AS row, p.c AS col,
       p.tube AS label, p.st AS state, p.tube, p.checked, p.tube IS NOT NULL AS has_tube
FROM public.probe p
ORDER BY p.box, p.r, p.c;
EOF

expect 0 "report check" fmtbank report check shared
assert_eq "$OUT" "shared: ok" "the shared definition checks"
scans() { sql "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'probe'"; }
before=$(scans)
expect 0 "run" fmtbank report shared -o "$TMP/s.xlsx"
assert_contains "$ERR" "4 sheets, 9 rows" "rows of every sheet counted once"
sleep 1
assert_eq "$(( $(scans) - before ))" "3" "the shared query ran once (the record query twice)"
d=$(DUMP "$TMP/s.xlsx")
assert_contains "$d" "sheets Intro|Map|Tubes|After" "sheets in the declared order"
assert_eq "$(cell "$d" Map A7)" "text Box B1" "box map: caption by name"
assert_eq "$(cell "$d" Map B9) $(fill "$d" Map B9)" "text T-1 C6EFCE" "box map: label and state by name"
assert_eq "$(cell "$d" Map C10) $(fill "$d" Map C10)" "text T-2 FFEB9C" "second tube"
assert_eq "$(cell "$d" Map A12)" "text Box B2" "the empty box is drawn"
assert_eq "$(cell "$d" Map D13)" "int 3" "with its columns"
assert_eq "$(cell "$d" Map B18) $(fill "$d" Map B18)" "text T-3 None" "a state without a colour: no fill"
assert_eq "$(cells "$d" Tubes | grep -v '^A1 ' | paste -sd'|')" \
    "A3 text Tube|B3 text Box|C3 text Weight|D3 text Checked|A4 text T-1|B4 text B1|C4 float 1.5|D4 date 2026-11-01T00:00:00|A5 text T-2|B5 text B1|C5 float 2.25|D5 date 2026-11-02T00:00:00|A6 text T-3|B6 text B3|C6 int 3|D6 date 2026-11-03T00:00:00" \
    "table: its columns by name in its own order, typed; the empty box's row filtered out"
assert_contains "$d" "sheet Tubes freeze=A4 filter=A3:D6" "header, freeze and autofilter over the written rows"
assert_eq "$(cell "$d" After A4)" "int 3" "a later sheet still gets its query"

# A table that outgrows its sheet continues on the next while the box map goes on (Excel's row
# limit, lowered with --sheet-rows).
sql "INSERT INTO public.probe SELECT 'B4', 2, 5, (i - 1) / 5 + 1, (i - 1) % 5 + 1, 'U-' || i, 'released', i, '2026-11-04'
     FROM generate_series(1, 10) i" >/dev/null
run fmtbank report shared --sheet-rows=8 -o "$TMP/long.xlsx"
assert_eq "$RC" "0" "long shared table"
d=$(DUMP "$TMP/long.xlsx")
assert_contains "$d" "sheets Intro|Map|Tubes|Tubes (2)|Tubes (3)|After" "continuation sheets follow their table"
assert_eq "$(cell "$d" "Tubes (3)" A8)" "text U-10" "the last tube on the third sheet"
assert_eq "$(cell "$d" Map F23) $(fill "$d" Map F23)" "text U-10 C6EFCE" "and in the box map"
sql "DELETE FROM public.probe WHERE box = 'B4'" >/dev/null

# Every sheet is checked against the shared query.
bad() { # DESCRIPTION SED-ON-REPORT SED-ON-SQL EXPECTED-MESSAGE
    sed "$2" "$SITE/shared.report" >"$SITE/bad.report"
    sed "$3" "$SITE/shared.sql" >"$SITE/bad.sql"
    run fmtbank report check bad
    assert_eq "$RC" "3" "$1: broken"
    assert_contains "$ERR" "$4" "$1: says why"
    run fmtbank report bad -o "$TMP/bad.xlsx"
    assert_eq "$RC" "3" "$1: running it refuses"
    assert_eq "$(ls "$TMP"/bad.xlsx "$TMP"/.bad.xlsx* 2>/dev/null)" "" "$1: no file left"
}
bad "table column missing" 's/^column checked = date    | Checked/column seen = date/' '' \
    'report "bad": sheet "Tubes" shows column "seen" but query "tubes" does not return it'
bad "table column of another type" 's/^column weight  = number/column weight = integer/' '' \
    'report "bad": column "weight" of sheet "Tubes" is declared integer but query "tubes" returns numeric'
bad "box-map column missing" '' 's/p.tube AS label, //' \
    'report "bad": sheet "Map" shows column "label" but query "tubes" does not return it'
bad "box-map row not an integer" '' 's/p.r AS row/p.r::text AS row/' \
    'report "bad": column "row" of sheet "Map" is to be integer but query "tubes" returns text'
bad "filter not boolean" '' 's/p.tube IS NOT NULL AS has_tube/p.tube AS has_tube/' \
    'report "bad": the filter of sheet "Tubes", "has_tube", is not a boolean column of query "tubes"'
bad "filter missing" 's/^filter = has_tube/filter = stored/' '' \
    'the filter of sheet "Tubes", "stored", is not a boolean column of query "tubes"'
rm -f "$SITE/bad.report" "$SITE/bad.sql"

# Definitions that cannot work.
broken_def() { # DESCRIPTION LAYOUT EXPECTED
    printf '%b' "$2" >"$SITE/def.report"
    printf -- '-- @query q\nSELECT 1 AS a\n-- @query r\nSELECT 2 AS a\n' >"$SITE/def.sql"
    run fmtbank report check def
    assert_eq "$RC" "3" "$1: broken"
    assert_contains "$ERR" "$3" "$1: names the file and line"
}
broken_def "sharing sheets apart" \
    '[report]\ntitle = t\n[sheet A]\nquery = q\ncolumn a = integer\n[sheet B]\nquery = r\ncolumn a = integer\n[sheet C]\nquery = q\ncolumn a = integer\n' \
    "\"$SITE/def.report\", line 9: sheet \"C\" shares query \"q\" with sheet \"A\" but does not follow it: sheets that share a query come one after another"
broken_def "filter on a record sheet" \
    '[report]\ntitle = t\n[sheet A]\nkind = record\nquery = q\nfilter = a\ncolumn a = integer\n[sheet B]\nquery = r\ncolumn a = integer\n' \
    "\"$SITE/def.report\", line 3: \"filter\" is for table and box-map sheets only (sheet \"A\")"
printf '[report]\ntitle = t\n[sheet A]\nquery = q\ncolumn a = integer\n[sheet B]\nkind = record\nquery = r\ncolumn a = integer\n[sheet C]\nkind = record\nquery = q\ncolumn a = integer\n' >"$SITE/def.report"
expect 0 "a record sheet may use a table's query (it runs it on its own)" fmtbank report check def
expect 0 "and the report runs" fmtbank report def -o "$TMP/def.xlsx"
assert_contains "$(DUMP "$TMP/def.xlsx")" "sheets A|B|C" "three sheets"

done_testing
