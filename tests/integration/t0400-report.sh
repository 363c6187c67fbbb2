#!/usr/bin/env bash
# t0400-report: "fmtbank report list|check|NAME" with the audit report: sheets, typed cells,
# frozen header, autofilter, document properties, parameters and their refusals, determinism,
# and failures that leave no file behind. Every workbook is read back with openpyxl.
. "$(dirname "$0")/lib.sh"
setup_db
DUMP() { /usr/bin/python3 "$FMTBANK_SRC/tests/integration/xlsxdump.py" "$1"; }
today=$(date +%F)

# Some history to report on.
fmtbank --user alice --reason "new donor" donor add D-0100 --birth-year 1990 --sex F >/dev/null
donor_consent D-0100
fmtbank --user quinn donor identity D-0100 --full-name "Jane Doe" >/dev/null

expect 0 "report list" fmtbank report list --format tsv
assert_contains "$OUT" $'audit\tAudit trail\tIntegrity, Trail, Row data\tsince (timestamp), until (timestamp)' "lists audit with sheets and parameters"
expect 0 "report list --format json" fmtbank report list --format json
assert_contains "$OUT" '"name":"audit"' "json list"

expect 0 "report check" fmtbank report check
assert_contains "$OUT" "audit: ok" "audit definition checks"

# ---------------------------------------------------------------- the audit report
expect 0 "audit report (auditor)" fmtbank --user audrey report audit --param "since=$today" --param "until=$today" -o "$TMP/audit.xlsx"
assert_contains "$ERR" "wrote report \"audit\" to \"$TMP/audit.xlsx\": 3 sheets" "summary on stderr"
assert_eq "$OUT" "" "nothing on stdout"
d=$(DUMP "$TMP/audit.xlsx")
assert_contains "$d" "sheets Integrity|Trail" "sheet names, integrity first"
assert_contains "$d" "props title=Audit trail" "title property"
assert_contains "$d" "props creator=Audrey Auditor (audrey)" "author is the acting user"
assert_contains "$d" "props company=fmtbank stool bank" "company is the site name"
assert_contains "$d" "props keywords=audit" "keywords name the report"
# The auditor does not see donor-identity (PII) rows, so "last" is the newest row she can read.
last=$(sql "select to_char(max(at) at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') from fmtbank.audit_log where not pii")
assert_contains "$d" "props created=$last" "created = time of the last audit row in the period (not now)"
assert_contains "$d" "sheet Trail freeze=A5 filter=A4:H" "trail: frozen header row and autofilter"
assert_contains "$d" "cell Trail!A4 text Row fmt=General bold=True" "bold header"
assert_contains "$d" "cell Trail!G4 text Changes (field: old → new)" "the changed fields as people read them"
assert_contains "$d" "cell Trail!H4 text Reason" "eighth column header"
assert_contains "$d" "width Trail!G 50.7" "declared column width"
assert_contains "$d" "sheet Row data freeze=A5 filter=A4:E" "each row as stored on its own sheet"
assert_contains "$d" "cell Row data!E4 text New row (as stored)" "its new row"
assert_contains "$d" "cell Trail!B5 date $today" "timestamps are real dates"
assert_contains "$d" "fmt=yyyy-mm-dd hh:mm:ss" "with the declared number format"
assert_contains "$d" "cell Trail!A5 int 1 fmt=0" "ids are numbers"
assert_contains "$d" "cell Trail!C5 text postgres" "text is text"
assert_contains "$d" "text donor fmt=General" "donor rows present"
assert_contains "$d" "text new donor" "with their reason"
assert_not_contains "$d" "donor_identity" "auditor does not see identity (PII) audit rows"
assert_contains "$d" "cell Integrity!B7 text intact" "integrity verdict on the first sheet"
total=$(audit_count)
assert_contains "$d" "cell Integrity!B8 int $total " "rows verified = whole trail"
visible=$(sql "select count(*) from fmtbank.audit_log where not pii")
assert_contains "$d" "cell Integrity!B6 int $visible " "rows in the period the auditor may read"
assert_contains "$d" "cell Integrity!B5 date $(date -d tomorrow +%F)T00:00:00" "a date alone for until includes that whole day"
assert_contains "$d" "cell Integrity!B4 date ${today}T00:00:00" "since from the parameter"
rows=$(printf '%s\n' "$d" | grep -c '^cell Trail!A[0-9]* int')
assert_eq "$rows" "$visible" "one trail row per visible audit row"

expect 0 "quality sees identity rows" fmtbank --user quinn report audit -o "$TMP/audit-q.xlsx"
assert_contains "$(DUMP "$TMP/audit-q.xlsx")" "text donor_identity" "identity rows for quality"
assert_contains "$(DUMP "$TMP/audit-q.xlsx")" "props creator=Quinn Qualmann (quinn)" "author quinn"

# Same database state and parameters: same cells, same creation time.
expect 0 "audit report again" fmtbank --user audrey report audit --param "since=$today" --param "until=$today" -o "$TMP/audit2.xlsx"
assert_eq "$(DUMP "$TMP/audit2.xlsx")" "$d" "regenerated report is identical cell for cell"

# An empty period: header, autofilter and a note.
expect 0 "empty period" fmtbank --user audrey report audit --param until=2001-01-01 -o "$TMP/empty.xlsx"
d=$(DUMP "$TMP/empty.xlsx")
assert_contains "$d" "cell Trail!A5 text No audit rows in this period." "empty note"
assert_contains "$d" "filter=A4:H4" "autofilter over the header only"
assert_contains "$d" "cell Integrity!B6 int 0 " "no rows in the period"
assert_contains "$d" "cell Integrity!B4 date 2000-12-03T00:00:00" "default since: 30 days before the end of the period"

# ---------------------------------------------------------------- refusals
before=$(ls -A "$TMP" | sort)
expect 4 "unknown report" fmtbank --user audrey report nope -o "$TMP/x.xlsx"
assert_contains "$ERR" 'report "nope" not found' "names the unknown report"
assert_contains "$ERR" 'fmtbank report list' "hints at report list"
expect 4 "a path is not a report name" fmtbank --user audrey report ../reports/audit -o "$TMP/x.xlsx"
expect 3 "bad timestamp" fmtbank --user audrey report audit --param since=yesterday -o "$TMP/x.xlsx"
assert_contains "$ERR" 'invalid timestamp "yesterday" for parameter "since"' "names parameter and value"
expect 3 "impossible date" fmtbank --user audrey report audit --param until=2026-02-30 -o "$TMP/x.xlsx"
assert_contains "$ERR" 'for parameter "until"' "names the parameter"
expect 2 "unknown parameter" fmtbank --user audrey report audit --param from=2026-01-01 -o "$TMP/x.xlsx"
assert_contains "$ERR" 'unknown parameter "from" for report "audit"' "names the unknown parameter"
assert_contains "$ERR" 'since (timestamp), until (timestamp)' "lists the parameters"
expect 2 "parameter without =" fmtbank --user audrey report audit --param since -o "$TMP/x.xlsx"
assert_contains "$ERR" 'invalid parameter "since"' "malformed parameter"
expect 2 "parameter twice" fmtbank --user audrey report audit -p since=2026-01-01 -p since=2026-01-02 -o "$TMP/x.xlsx"
assert_contains "$ERR" 'parameter "since" is given twice' "repeated parameter"
expect 2 "missing -o" fmtbank --user audrey report audit
assert_contains "$ERR" 'missing "-o FILE.xlsx"' "asks for -o"
expect 2 "missing name" fmtbank --user audrey report -o "$TMP/x.xlsx"
expect 2 "not .xlsx" fmtbank --user audrey report audit -o "$TMP/x.csv"
assert_contains "$ERR" 'must end in ".xlsx"' "names the extension rule"
expect 3 "output directory missing" fmtbank --user audrey report audit -o "$TMP/no/such/dir/x.xlsx"
assert_contains "$ERR" "could not create \"$TMP/no/such/dir/x.xlsx\": No such file or directory" "names the path and why"
touch "$TMP/afile"
expect 3 "output parent is a file" fmtbank --user audrey report audit -o "$TMP/afile/x.xlsx"
assert_contains "$ERR" "Not a directory" "says why"
mkdir -p "$TMP/adir.xlsx"
expect 3 "output is a directory" fmtbank --user audrey report audit -o "$TMP/adir.xlsx"
rmdir "$TMP/adir.xlsx"
rm -f "$TMP/afile"
echo "old contents" >"$TMP/keep.xlsx"
expect 6 "technician may not read the audit trail" fmtbank --user alice report audit -o "$TMP/keep.xlsx"
assert_contains "$ERR" "permission denied" "permission error passed through"
assert_eq "$(cat "$TMP/keep.xlsx")" "old contents" "a failed report leaves the existing file untouched"
rm -f "$TMP/keep.xlsx"
expect 6 "technician: no file" fmtbank --user alice report audit -o "$TMP/new.xlsx"
assert_eq "$(ls -A "$TMP" | grep -v '^out$\|^err$' | sort)" "$(printf '%s\n' "$before" | grep -v '^out$\|^err$')" "failures left no file and no temporary file"

# A transaction's worth of reads only: the report leaves the audit trail as it was.
n=$(audit_count)
fmtbank --user audrey report audit -o "$TMP/again.xlsx" 2>/dev/null
assert_eq "$(audit_count)" "$n" "running a report changes nothing"

expect 0 "report --help" fmtbank report --help
assert_contains "$OUT" "Usage: fmtbank report NAME [-p K=V ...] [--sheet-rows N] -o FILE.xlsx" "report usage"
expect 0 "report check --help" fmtbank report check --help
expect 0 "report list --help" fmtbank report list --help

done_testing
