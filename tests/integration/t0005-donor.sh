#!/usr/bin/env bash
# t0005-donor: the pseudonymous donor registry: add, import (all or nothing), show, identity.
. "$(dirname "$0")/lib.sh"
setup_db

expect 0 "add" fmtbank --user alice donor add d-0042 --birth-year 1991 --sex f
assert_eq "$OUT" "D-0042" "prints the normalised code only"
expect 0 "show json" fmtbank --user alice --format json donor show D-0042
assert_contains "$OUT" '"code":"D-0042","status":"screening"' "show has code and status"
assert_eq "$(sql "select birth_year || sex from fmtbank.donor where code = 'D-0042'")" "1991F" "birth year and sex recorded"

before=$(audit_count)
expect 3 "a name is not a code" fmtbank --user alice donor add "Jane Doe"
assert_contains "$ERR" 'invalid donor code "Jane Doe"' "names the bad code"
expect 3 "bad birth year" fmtbank --user alice donor add D-0043 --birth-year 19x1
assert_contains "$ERR" 'invalid --birth-year "19x1"' "names the field"
expect 3 "future birth year" fmtbank --user alice donor add D-0043 --birth-year 2999
expect 3 "bad sex" fmtbank --user alice donor add D-0043 --sex Q
assert_contains "$ERR" 'invalid --sex "Q"' "names the field"
expect 5 "duplicate" fmtbank --user alice donor add D-0042
expect 6 "auditor cannot register" fmtbank --user audrey donor add D-0043
expect 4 "show unknown" fmtbank --user alice donor show D-9999
assert_contains "$ERR" 'donor "D-9999" not found' "names the unknown donor"
assert_eq "$(audit_count)" "$before" "refusals changed nothing"

printf 'code,birth_year,sex\nD-0100,1990,F\nD-0101,,\n"D-0102",1970,M\n' >"$TMP/good.csv"
expect 0 "import" fmtbank --user alice donor import "$TMP/good.csv"
assert_eq "$OUT" "$(printf 'D-0100\nD-0101\nD-0102')" "prints the imported codes"
assert_eq "$(sql "select count(*) from fmtbank.donor where code in ('D-0100','D-0101','D-0102')")" "3" "all imported"

before=$(audit_count)
printf 'code,birth_year,sex\nD-0200,1990,F\nJohn Smith,1980,M\nD-0201,1880,M\nD-0202,1990,Q\nD-0200,1990,F\nD-0001,1985,F\n' >"$TMP/bad.csv"
expect 3 "import with bad lines" fmtbank --user alice donor import "$TMP/bad.csv"
assert_contains "$ERR" 'bad.csv:3: invalid donor code "John Smith"' "line 3 named"
assert_contains "$ERR" 'bad.csv:4: invalid birth_year "1880"' "line 4 named"
assert_contains "$ERR" 'bad.csv:5: invalid sex "Q"' "line 5 named"
assert_contains "$ERR" 'bad.csv:6: donor "D-0200" already appears on line 2' "line 6 named, pointing at the first"
assert_contains "$ERR" 'bad.csv:7: donor "D-0001" already exists' "line 7 named"
assert_contains "$ERR" "5 bad lines" "counts them"
assert_eq "$OUT" "" "prints no codes"
assert_eq "$(sql "select count(*) from fmtbank.donor where code = 'D-0200'")" "0" "nothing imported"
assert_eq "$(audit_count)" "$before" "nothing audited"
printf 'code,year,sex\nD-0300,1990,F\n' >"$TMP/header.csv"
expect 3 "wrong header" fmtbank --user alice donor import "$TMP/header.csv"
assert_contains "$ERR" 'column name mismatch in header line field 2: got "year", expected "birth_year"' "names the header field"
printf 'code,birth_year,sex\nD-0300,1990,F,extra\n' >"$TMP/cols.csv"
expect 3 "extra column" fmtbank --user alice donor import "$TMP/cols.csv"
assert_contains "$ERR" "cols.csv:2: 4 fields, expected 3" "names the line"
expect 4 "missing file" fmtbank --user alice donor import "$TMP/none.csv"
expect 6 "auditor cannot import" fmtbank --user audrey donor import "$TMP/good.csv"

expect 0 "quality records identity" fmtbank --user quinn donor identity D-0042 --full-name "Jane Doe" --birth-date 1991-04-02 --contact "+49 30 1234"
expect 0 "quality reads identity" fmtbank --user quinn --format json donor identity D-0042
assert_contains "$OUT" '"full_name":"Jane Doe","birth_date":"1991-04-02"' "identity shown"
expect 6 "technician cannot read identity" fmtbank --user alice donor identity D-0042
expect 6 "auditor cannot read identity" fmtbank --user audrey donor identity D-0042
expect 6 "technician cannot record identity" fmtbank --user alice donor identity D-0042 --full-name X
expect 3 "bad birth date" fmtbank --user quinn donor identity D-0042 --full-name X --birth-date 1991-02-30
assert_eq "$(sql "select full_name from fmtbank.donor_identity")" "Jane Doe" "unchanged after refusals"
assert_not_contains "$(sql "select new_row::text from fmtbank.audit_log where tbl = 'donor'")" "Jane" "the donor table never holds the name"

done_testing
