#!/usr/bin/env bash
# t0017-spreadsheet-csv: imports accept what spreadsheets write (issue 14, item 1). One CSV path
# (common/csv.h) for donor import, result import and questionnaire record: a UTF-8 byte order
# mark is dropped, ';' is taken as the delimiter when the header line uses it (European Excel),
# CRLF line ends are accepted; the messages have one style ("FILE:LINE: ..." per bad line, then
# one summary). A file sent again is "nothing new" with its count (exit 0, nothing stored), not N
# bad lines; a file mixing repeated and bad lines is still refused whole.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
setup_db
d() { date -d "$1 day" +%F; }
state() { sql "SELECT (SELECT count(*) FROM fmtbank.donor) || '/' || (SELECT count(*) FROM fmtbank.result) || '/' || (SELECT count(*) FROM fmtbank.questionnaire) || '/' || (SELECT count(*) FROM fmtbank.audit_log)"; }
BOM=$'\xef\xbb\xbf'

# ---- donors: Excel "CSV UTF-8" with ';' (BOM, CRLF, a quoted field holding ';')
printf '%scode;birth_year;sex\r\nD-0700;1990;F\r\n"D-0701";1985;m\r\nD-0702;;\r\n' "$BOM" >"$TMP/donors.csv"
expect 0 "donor import: BOM, ';' and CRLF" fmtbank --user alice donor import "$TMP/donors.csv"
assert_eq "$OUT" "$(printf 'D-0700\nD-0701\nD-0702')" "the three codes printed"
assert_contains "$ERR" "imported 3 donors from \"$TMP/donors.csv\"" "one summary line"
assert_eq "$(sql "SELECT code || ':' || coalesce(birth_year::text, '') || ':' || coalesce(sex, '') FROM fmtbank.donor WHERE code LIKE 'D-070_' ORDER BY code" | paste -sd' ')" \
    "D-0700:1990:F D-0701:1985:M D-0702::" "fields split at ';', stored as written"

# sent again: nothing new, with the count; nothing stored or audited
before=$(state)
expect 0 "donor import: the same file again is not an error" fmtbank --user alice donor import "$TMP/donors.csv"
assert_contains "$ERR" "nothing new in \"$TMP/donors.csv\": all 3 donors already recorded, nothing imported" "says nothing new with the count"
assert_not_contains "$ERR" "bad line" "no bad lines"
assert_eq "$OUT" "" "no codes printed"
assert_eq "$(state)" "$before" "nothing stored, nothing audited"

# the same code with other data is a conflict, not a repeat: refused, named
printf 'code;birth_year;sex\nD-0700;1991;F\n' >"$TMP/conflict.csv"
expect 3 "donor import: an existing code with another birth year is refused" fmtbank --user alice donor import "$TMP/conflict.csv"
assert_contains "$ERR" "conflict.csv:2: donor \"D-0700\" already exists" "names the line"
assert_eq "$(state)" "$before" "nothing stored"

# repeated lines mixed with a bad one: refused whole, every line named, the repeats counted
printf 'code,birth_year,sex\nD-0700,1990,F\nD-0703,1990,Q\nD-0704,1990,F\n' >"$TMP/mixed.csv"
expect 3 "donor import: repeats plus a bad line are refused" fmtbank --user alice donor import "$TMP/mixed.csv"
assert_contains "$ERR" 'mixed.csv:2: already recorded: donor "D-0700"' "the repeat is named"
assert_contains "$ERR" 'mixed.csv:3: invalid sex "Q"' "the bad line is named"
assert_contains "$ERR" "2 bad lines (1 of them already recorded)" "counts both kinds"
assert_contains "$ERR" "Nothing was imported" "nothing imported"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor WHERE code = 'D-0704'")" "0" "the good line was not stored"

# a BOM and a wrong header: the message shows no invisible character and no COPY context
printf '%scode;year;sex\r\nD-0705;1990;F\r\n' "$BOM" >"$TMP/hdr.csv"
expect 3 "donor import: a wrong header behind a BOM" fmtbank --user alice donor import "$TMP/hdr.csv"
assert_contains "$ERR" 'line 1: column name mismatch in header line field 2: got "year", expected "birth_year"' "names the field"
assert_not_contains "$ERR" "$BOM" "no byte order mark in the message"
assert_not_contains "$ERR" "COPY" "no COPY context"

# ---- results: ';' with a BOM and CRLF; a wrong number of fields names its line
Y=$(d -2)
{
    printf '%sdonor;test;collected;result;unit;lab\r\n' "$BOM"
    printf 'D-0700;HIV;%s;negative;;Lab A\r\n' "$Y"
    printf 'D-0700;CRP;%s;1.5;mg/L;"Lab; Main"\r\n' "$Y"
} >"$TMP/results.csv"
expect 0 "result import: BOM, ';' and CRLF" fmtbank --user alice result import "$TMP/results.csv"
assert_eq "$(grep -c . <<<"$OUT")" "2" "two IDs printed"
assert_contains "$ERR" "imported 2 results from \"$TMP/results.csv\"" "one summary line"
assert_eq "$(sql "SELECT string_agg(lab, '|' ORDER BY lab) FROM fmtbank.result r JOIN fmtbank.donor d ON d.id = r.donor_id WHERE d.code = 'D-0700'")" \
    "Lab A|Lab; Main" "a quoted ';' is data"
before=$(state)
expect 0 "result import: the same file again" fmtbank --user alice result import "$TMP/results.csv"
assert_contains "$ERR" "nothing new in \"$TMP/results.csv\": all 2 results already recorded, nothing imported" "nothing new, counted"
assert_eq "$OUT" "" "no IDs printed"
assert_eq "$(state)" "$before" "nothing stored, nothing audited"
printf 'donor;test;collected;result;unit;lab\nD-0700;HAV_IGM;%s;negative;;Lab A\nD-0700;NORO;%s;negative\n' "$Y" "$Y" >"$TMP/short.csv"
expect 3 "result import: a short ';' line" fmtbank --user alice result import "$TMP/short.csv"
assert_contains "$ERR" "short.csv:3: 4 fields, expected 6" "names the line and the count"
assert_eq "$(state)" "$before" "nothing stored"
# a comma file is still read as commas (a ',' header with no ';')
printf 'donor,test,collected,result,unit,lab\nD-0700,HAV_IGM,%s,negative,,"Lab; B"\n' "$Y" >"$TMP/comma.csv"
expect 0 "result import: a ',' file with ';' in a field" fmtbank --user alice result import "$TMP/comma.csv"
assert_eq "$(sql "SELECT lab FROM fmtbank.result WHERE id = '$OUT'")" "Lab; B" "the ';' is data"

# ---- questionnaires: the same path (BOM, ';', CRLF), the same message style
write_full "$TMP/q.csv"
{ printf '%s' "$BOM"; sed 's/,/;/; s/$/\r/' "$TMP/q.csv"; } >"$TMP/q-semi.csv"
expect 0 "questionnaire record: BOM, ';' and CRLF" fmtbank --user alice questionnaire record D-0700 --date "$(d 0)" --file "$TMP/q-semi.csv"
qid=$OUT
assert_eq "$(sql "SELECT count(*) FROM fmtbank.questionnaire_answer WHERE questionnaire_id = '$qid'")" "33" "33 answers stored"
assert_eq "$(sql "SELECT num_value FROM fmtbank.questionnaire_answer WHERE questionnaire_id = '$qid' AND item = 'bmi'")" "23" "bmi read across ';'"
{ printf '%sitem;answer\r\nbmi;abc\r\n' "$BOM"; } >"$TMP/q-bad.csv"
before=$(state)
expect 3 "questionnaire record: a bad ';' file" fmtbank --user alice questionnaire record D-0701 --date "$(d 0)" --file "$TMP/q-bad.csv"
assert_contains "$ERR" 'q-bad.csv:2: answer "abc" to "bmi" is not a number' "FILE:LINE: message, as the imports"
assert_contains "$ERR" "could not record the questionnaire from \"$TMP/q-bad.csv\":" "one summary"
assert_contains "$ERR" "bad lines" "counted as bad lines, as the imports"
assert_eq "$(state)" "$before" "nothing stored"
printf '%sitem;reply\r\n' "$BOM" >"$TMP/q-hdr.csv"
expect 3 "questionnaire record: a wrong header behind a BOM" fmtbank --user alice questionnaire record D-0701 --date "$(d 0)" --file "$TMP/q-hdr.csv"
assert_contains "$ERR" "could not read \"$TMP/q-hdr.csv\": line 1: expected the header \"item,answer\"" "the imports' header message"
assert_not_contains "$ERR" "$BOM" "no byte order mark in the message"

done_testing
