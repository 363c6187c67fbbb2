#!/usr/bin/env bash
# t0401-report-engine: what a site can express by dropping definitions into a reports directory
# (no recompiling): several sheets from several queries, a record sheet, a DRAFT banner and a
# title from the meta query, a deterministic creation time, every cell type, continuation sheets,
# a box map drawn as a coloured grid with its legend; and what "report check" catches.
. "$(dirname "$0")/lib.sh"
setup_db
DUMP() { /usr/bin/python3 "$FMTBANK_SRC/tests/integration/xlsxdump.py" "$1"; }
SITE="$TMP/site-reports"
mkdir -p "$SITE"
export FMTBANK_REPORTS="$SITE:$FMTBANK_SRC/reports"

cat >"$SITE/cert.report" <<'EOF'
# a made-up certificate: three sheets from three queries, plus a meta query
[report]
title = Test certificate
description = engine test
meta = meta

[param lot]
type = text
required = yes
help = the lot

[param signed]
type = boolean
default = no

[param doses]
type = integer
default = 5

[sheet Summary]
kind = record
query = summary
column lot       = text      | Lot
column collected = timestamp | Collected
column mass      = number    | Mass (g)  |    | 0.0
column doses     = integer   | Doses
column expires   = date      | Expires
column ok        = boolean   | Releasable

[sheet Aliquots]
query = aliquots
empty = No aliquot.
column aliquot = text      | Aliquot     | 16
column idx     = integer   | Index
column volume  = number    | Volume (ml) |    | 0.00
column expires = date      | Expires
column stored  = timestamp | Stored
column note    = text      | Note        | 30

[sheet Box map]
kind = boxmap
query = boxes
color quarantine = FFEB9C | Quarantine
color released   = #C6EFCE
color issued     = BDD7EE | Issued
EOF
cat >"$SITE/cert.sql" <<'EOF'
-- queries of the test certificate: $1 lot, $2 signed, $3 doses

-- @query meta
SELECT CASE WHEN $2 THEN NULL ELSE 'DRAFT — NOT RELEASED' END AS banner,
       'Lot ' || $1 AS subtitle, 'Certificate of ' || $1 AS title, 'lot ' || $1 AS subject,
       timestamptz '2026-11-20 10:00:00+00' AS created;

-- @query summary
SELECT $1 AS lot, timestamp '2026-11-20 08:30:00' AS collected, 61.5::numeric AS mass,
       $3 AS doses, date '2027-11-20' AS expires, true AS ok;

-- @query aliquots
SELECT $1 || '-' || lpad(i::text, 3, '0') AS aliquot, i AS idx, (i * 1.25)::numeric AS volume,
       CASE WHEN i = 4 THEN date 'infinity' ELSE date '2027-11-20' + i::int END AS expires,
       timestamp '2026-11-20 12:00' + i * interval '90 minutes' AS stored,
       CASE i WHEN 2 THEN NULL WHEN 3 THEN repeat('x', 40000) ELSE 'tube ' || i END AS note
FROM generate_series(1, $3) i
ORDER BY i;

-- @query boxes
SELECT box, caption, nrows, ncols, row, col, label, state
FROM (VALUES ('B1', 'Box B1 in freezer F1', 2, 3, 1, 1, 'T-001', 'quarantine'),
             ('B1', 'Box B1 in freezer F1', 2, 3, 1, 3, 'T-002', 'released'),
             ('B1', 'Box B1 in freezer F1', 2, 3, 2, 2, 'T-003', 'issued'),
             ('B1', 'Box B1 in freezer F1', 2, 3, 2, 3, 'T-004', 'lost'),
             ('B2', 'Box B2 (empty)', 2, 2, NULL, NULL, NULL, NULL)) AS v(box, caption, nrows, ncols, row, col, label, state)
ORDER BY box, row, col
EOF

expect 0 "report list sees the site's report" fmtbank report list --format tsv
assert_contains "$OUT" $'cert\tTest certificate\tSummary, Aliquots, Box map' "site report listed"
assert_contains "$OUT" $'audit\tAudit trail' "built-in reports still listed"
assert_contains "$OUT" "lot (text, required), signed (boolean, default no), doses (integer, default 5)" "parameters listed"
expect 0 "report check (site + built-in)" fmtbank report check
assert_contains "$OUT" "cert: ok" "site report checks"
assert_contains "$OUT" "audit: ok" "built-in report checks"

expect 2 "a required parameter" fmtbank --user quinn report cert -o "$TMP/c.xlsx"
assert_contains "$ERR" 'report "cert" requires parameter "lot"' "names the missing parameter"
expect 3 "integer parameter" fmtbank --user quinn report cert -p lot=L1 -p doses=many -o "$TMP/c.xlsx"
assert_contains "$ERR" 'invalid integer "many" for parameter "doses"' "names the bad integer"
expect 3 "boolean parameter" fmtbank --user quinn report cert -p lot=L1 -p signed=perhaps -o "$TMP/c.xlsx"
assert_contains "$ERR" 'invalid boolean "perhaps" for parameter "signed"' "names the bad boolean"
assert_eq "$(ls "$TMP"/*.xlsx 2>/dev/null | wc -l)" "0" "refusals wrote nothing"

expect 0 "draft certificate" fmtbank --user quinn report cert -p lot=L26000001 -o "$TMP/c.xlsx"
assert_contains "$ERR" "3 sheets, 11 rows" "summary counts records, rows and positions"
d=$(DUMP "$TMP/c.xlsx")
assert_contains "$d" "sheets Summary|Aliquots|Box map" "sheets in declared order"
assert_contains "$d" "props title=Certificate of L26000001" "title from the meta query"
assert_contains "$d" "props subject=lot L26000001" "subject from the meta query"
assert_contains "$d" "props created=2026-11-20T10:00:00" "created from the record, not the clock"
for s in Summary Aliquots "Box map"; do
    assert_contains "$d" "cell $s!A3 text DRAFT — NOT RELEASED fmt=General bold=True" "DRAFT banner on sheet $s"
    assert_contains "$d" "printheader $s DRAFT — NOT RELEASED" "DRAFT in the printed page header of $s"
    assert_contains "$d" "cell $s!A1 text Certificate of L26000001" "title on sheet $s"
    assert_contains "$d" "cell $s!A2 text Lot L26000001" "subtitle on sheet $s"
done
# record sheet: one line per field, typed values
assert_contains "$d" "cell Summary!A5 text Lot fmt=General bold=True" "record label"
assert_contains "$d" "cell Summary!B5 text L26000001 " "record text value"
assert_contains "$d" "cell Summary!B6 date 2026-11-20T08:30:00 fmt=yyyy-mm-dd hh:mm " "record timestamp"
assert_contains "$d" "cell Summary!B7 float 61.5 fmt=0.0 " "record number with its format"
assert_contains "$d" "cell Summary!B8 int 5 fmt=0 " "record integer (the parameter's default)"
assert_contains "$d" "cell Summary!B9 date 2027-11-20T00:00:00 fmt=yyyy-mm-dd " "record date"
assert_contains "$d" "cell Summary!B10 text yes " "record boolean: yes"
assert_contains "$d" "sheet Summary freeze=None filter=None" "record sheets have no filter"
# table sheet
assert_contains "$d" "sheet Aliquots freeze=A6 filter=A5:F10" "frozen header and autofilter below the banner"
assert_contains "$d" "cell Aliquots!A5 text Aliquot fmt=General bold=True" "bold header"
assert_contains "$d" "cell Aliquots!A6 text L26000001-001 " "text cell"
assert_contains "$d" "cell Aliquots!B6 int 1 fmt=0 " "integer cell"
assert_contains "$d" "cell Aliquots!C7 float 2.5 fmt=0.00 " "number cell with its format"
assert_contains "$d" "cell Aliquots!D6 date 2027-11-21T00:00:00 fmt=yyyy-mm-dd " "date cell"
assert_contains "$d" "cell Aliquots!E7 date 2026-11-20T15:00:00 fmt=yyyy-mm-dd hh:mm " "timestamp cell"
assert_contains "$d" "cell Aliquots!D9 text infinity " "a date Excel cannot hold is text"
assert_not_contains "$d" "cell Aliquots!F7 " "null is an empty cell"
assert_contains "$d" "width Aliquots!A 16.7" "declared width"
long=$(printf '%s\n' "$d" | grep '^cell Aliquots!F8 ' | sed 's/^cell Aliquots!F8 text //; s/ fmt=.*//')
assert_eq "${#long}" "32767" "a too-long text is cut to Excel's 32,767 characters"
assert_contains "$long" "x [truncated]" "and marked as cut"
# box map
assert_contains "$d" "cell Box map!A5 text Legend" "legend"
assert_contains "$d" "cell Box map!B6 text Quarantine fmt=General bold=False fill=FFEB9C" "legend: quarantine colour"
assert_contains "$d" "cell Box map!B7 text released fmt=General bold=False fill=C6EFCE" "legend: label defaults to the state"
assert_contains "$d" "cell Box map!B8 text Issued fmt=General bold=False fill=BDD7EE" "legend: issued colour"
assert_contains "$d" "cell Box map!A10 text Box B1 in freezer F1 fmt=General bold=True" "box caption"
assert_contains "$d" "cell Box map!B11 int 1 " "column numbers"
assert_contains "$d" "cell Box map!D11 int 3 " "column numbers to ncols"
assert_contains "$d" "cell Box map!A12 text A " "row letter A"
assert_contains "$d" "cell Box map!A13 text B " "row letter B"
assert_contains "$d" "cell Box map!B12 text T-001 fmt=General bold=False fill=FFEB9C" "A1: quarantine yellow"
assert_contains "$d" "cell Box map!D12 text T-002 fmt=General bold=False fill=C6EFCE" "A3: released green"
assert_contains "$d" "cell Box map!C13 text T-003 fmt=General bold=False fill=BDD7EE" "B2: issued blue"
assert_contains "$d" "cell Box map!D13 text T-004 fmt=General bold=False fill=None" "unknown state: no fill"
assert_not_contains "$d" "cell Box map!C12 text" "A2 is free"
assert_contains "$d" "cell Box map!A15 text Box B2 (empty)" "an empty box is drawn"
assert_contains "$d" "cell Box map!A17 text A " "empty box rows"
assert_contains "$d" "width Box map!B 15.7" "grid column width"
# determinism
expect 0 "certificate again" fmtbank --user quinn report cert -p lot=L26000001 -o "$TMP/c2.xlsx"
assert_eq "$(DUMP "$TMP/c2.xlsx")" "$d" "same parameters and state: identical workbook contents"

expect 0 "signed certificate" fmtbank --user quinn report cert -p lot=L26000001 -p signed=yes -p doses=0 -o "$TMP/s.xlsx"
d=$(DUMP "$TMP/s.xlsx")
assert_not_contains "$d" "DRAFT" "no DRAFT marking once signed"
assert_contains "$d" "sheet Aliquots freeze=A5 filter=A4:F4" "header moves up without the banner"
assert_contains "$d" "cell Aliquots!A5 text No aliquot." "declared empty note"

# Continuation sheets when a table outgrows a sheet (Excel's row limit, lowered with --sheet-rows).
run fmtbank --user quinn report cert -p lot=L2 -p doses=7 --sheet-rows 8 -o "$TMP/m.xlsx"
assert_eq "$RC" "0" "long table spills over"
d=$(DUMP "$TMP/m.xlsx")
assert_contains "$d" "sheets Summary|Aliquots|Aliquots (2)|Aliquots (3)|Box map" "continuation sheets"
assert_contains "$d" "sheet Aliquots (2) freeze=A7 filter=A6:F8" "continuation: header, freeze and filter"
assert_contains "$d" "cell Aliquots (2)!A3 text continued from sheet \"Aliquots\"" "says it continues"
assert_contains "$d" "cell Aliquots (2)!A7 text L2-004 " "rows carry on in order"
assert_contains "$d" "cell Aliquots (3)!A8 text L2-007 " "last row on the third sheet"
for n in 7 1048577 eight 8x -8 ""; do
    run fmtbank --user quinn report cert -p lot=L2 --sheet-rows "$n" -o "$TMP/n.xlsx"
    assert_eq "$RC" "2" "--sheet-rows \"$n\": a usage error"
    assert_contains "$ERR" "invalid value \"$n\" for \"--sheet-rows\"" "--sheet-rows \"$n\": says so"
    assert_contains "$ERR" "It must be a whole number from 8 to 1048576." "--sheet-rows \"$n\": and the range"
    [ ! -e "$TMP/n.xlsx" ] && ok "--sheet-rows \"$n\": no file" || not_ok "--sheet-rows \"$n\": no file"
done

# ---------------------------------------------------------------- broken definitions
B="$TMP/broken"
mkdir -p "$B"
cp "$FMTBANK_SRC/reports/audit.report" "$FMTBANK_SRC/reports/audit.sql" "$B/"
check_broken() { # DESC NEEDLE...: report check in $B fails naming the problem
    local desc=$1
    shift
    FMTBANK_REPORTS="$B" run fmtbank report check
    assert_eq "$RC" "3" "$desc: report check exits 3"
    for n in "$@"; do assert_contains "$OUT$ERR" "$n" "$desc: $n"; done
}
sed -i 's/^column at      = timestamp/column at      = text     /' "$B/audit.report"
check_broken "wrong type" 'audit: broken' 'column "at" of sheet "Trail" is declared text but query "trail" returns timestamp with time zone' 'Declare it timestamp' '1 report definition is broken'
FMTBANK_REPORTS="$B" run fmtbank --user audrey report audit -o "$TMP/b.xlsx"
assert_eq "$RC" "3" "running a broken report fails"
assert_contains "$ERR" 'is declared text but query "trail" returns' "and says why"
[ ! -e "$TMP/b.xlsx" ] && ok "no file from a broken report" || not_ok "no file from a broken report"
cp "$FMTBANK_SRC/reports/audit.report" "$B/"
sed -i '/^column reason/d' "$B/audit.report"
check_broken "missing column" 'sheet "Trail" declares 7 columns but query "trail" returns 8' 'The query returns: id, at, who, tbl, op, subject, changes, reason.'
cp "$FMTBANK_SRC/reports/audit.report" "$B/"
sed -i 's/^column who /column whom/' "$B/audit.report"
check_broken "renamed column" 'column 3 of sheet "Trail" is "whom" in the definition but "who" in query "trail"'
cp "$FMTBANK_SRC/reports/audit.report" "$B/"
sed -i '0,/^ORDER BY a.id;/s//ORDER BY a.idx;/' "$B/audit.sql"
line=$(grep -n 'ORDER BY a.idx' "$B/audit.sql" | cut -d: -f1)
check_broken "bad SQL" "query \"trail\" (\"$B/audit.sql\", line $line): column a.idx does not exist"
cp "$FMTBANK_SRC/reports/audit.sql" "$B/"
sed -i 's/^kind = record/kind = chart/' "$B/audit.report"
line=$(grep -n 'kind = chart' "$B/audit.report" | cut -d: -f1)
check_broken "bad layout" "\"$B/audit.report\", line $line: invalid kind \"chart\" (use table, record or boxmap)"
FMTBANK_REPORTS="$B" run fmtbank report list
assert_eq "$RC" "0" "report list still works"
assert_contains "$ERR" 'warning: report "audit" is left out' "and warns about the broken one"
cp "$FMTBANK_SRC/reports/audit.report" "$B/"
sed -i 's/^type = timestamp/type = timestamp\ndefault = last week/' "$B/audit.report"
check_broken "bad default" 'default of parameter "since": invalid timestamp "last week" for parameter "since"'
cp "$FMTBANK_SRC/reports/audit.report" "$B/"
rm "$B/audit.sql"
check_broken "missing queries file" "could not open \"$B/audit.sql\"" "A report is two files"
cp "$FMTBANK_SRC/reports/audit.sql" "$B/"
printf '[report]\ntitle = x\n[sheet S]\ncolumn a = text\n' >"$B/two.report"
printf -- '-- @query other\nSELECT 1 AS a\n' >"$B/two.sql"
check_broken "undefined query" 'sheet "S" uses query "main", which' 'audit: ok'
printf -- 'SELECT 1 AS a, 2 AS b\n' >"$B/two.sql"
check_broken "query without markers is main" 'sheet "S" declares 1 columns but query "main" returns 2'
FMTBANK_REPORTS="$B" run fmtbank report check audit
assert_eq "$RC" "0" "check of one named report"
assert_eq "$OUT" "audit: ok" "only that one"

# A definition cannot change anything: reports run read-only.
printf '[report]\ntitle = sneaky\n[sheet S]\ncolumn donor_add = text\n' >"$B/sneaky.report"
printf "SELECT fmtbank.donor_add('D-0999', NULL, NULL)\n" >"$B/sneaky.sql"
n=$(audit_count)
FMTBANK_REPORTS="$B" run fmtbank --user alice report sneaky -o "$TMP/sneaky.xlsx"
assert_contains "$ERR" "read-only transaction" "a writing query is refused"
[ "$RC" -ne 0 ] && ok "and fails" || not_ok "and fails"
assert_eq "$(audit_count)" "$n" "nothing changed"
assert_eq "$(sql "select count(*) from fmtbank.donor where code = 'D-0999'")" "0" "no donor added"

# A box-map query out of order, or off the box, fails mid-stream and leaves nothing.
printf '[report]\ntitle = m\n[sheet M]\nkind = boxmap\ncolor a = 00FF00\n' >"$B/map.report"
cat >"$B/map.sql" <<'EOF'
SELECT 'B1' AS box, 'B1' AS caption, 2 AS nrows, 2 AS ncols, r AS row, c AS col, 'x' AS label, 'a' AS state
FROM (VALUES (1, 1), (2, 2), (1, 2)) AS v(r, c)
EOF
FMTBANK_REPORTS="$B" run fmtbank report map -o "$TMP/map.xlsx"
assert_eq "$RC" "3" "box map out of order refused"
assert_contains "$ERR" 'position A2 comes twice or out of order on box-map sheet "M"' "names the position"
assert_contains "$ERR" 'Order the box-map query by box, row and col' "says how to fix it"
sed -i 's/(1, 2))/(3, 1))/' "$B/map.sql"
FMTBANK_REPORTS="$B" run fmtbank report map -o "$TMP/map.xlsx"
assert_eq "$RC" "3" "position off the box refused"
assert_contains "$ERR" 'position C1 is outside a box of 2 rows and 2 columns' "names the position and the box size"
assert_eq "$(ls -A "$TMP" | grep -c 'map')" "0" "no file and no temporary file left"

# Text is UTF-8 whatever the client's encoding; control characters are escaped as Excel does; the
# file gets the usual mode, not the temporary file's 0600.
printf '[report]\ntitle = text\n[sheet S]\ncolumn t = text\ncolumn u = text\n' >"$B/txt.report"
printf "SELECT 'a' || chr(1) || 'b<&>\\\"' AS t, 'Übersicht ☃ 𝄞' AS u\n" >"$B/txt.sql"
mask=$(umask)
umask 022
PGCLIENTENCODING=LATIN1 FMTBANK_REPORTS="$B" run fmtbank report txt -o "$TMP/txt.xlsx"
umask "$mask"
assert_eq "$RC" "0" "text report with a LATIN1 client"
d=$(DUMP "$TMP/txt.xlsx")
assert_contains "$d" "cell S!B4 text Übersicht ☃ 𝄞 " "UTF-8 text intact"
assert_contains "$d" 'cell S!A4 text a_x0001_b<&>"' "control character escaped, XML characters kept"
assert_eq "$(stat -c %a "$TMP/txt.xlsx")" "644" "file mode follows the umask"

done_testing
