#!/usr/bin/env bash
# t0711-daemon-inbox-bytes: every byte of an inbox file (and of its name) is data or refused. A
# UTF-16 export, a file with a NUL byte or invalid UTF-8, a name that is not UTF-8 or holds
# control characters: each is rejected with its report (the name escaped) and the good files after
# them are all imported by the same `fmtbankd --once`, which exits 0. A claimed content hash
# counts only with its import in the same transaction (schema/065_inbox_claim.sql).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

setup_db
sql_as adam "SELECT * FROM fmtbank.sweep()" # settle the demo donors' derived status
echo "settle = 0" >"$TMP/fast.conf"
base=$(donor_count)

# ---------------------------------------------------------------- bad files first, good ones after
# 0: an Excel "Unicode text" export: UTF-16LE with its byte order mark.
printf 'code,birth_year,sex\r\nD-0300001,1980,F\r\n' | iconv -f UTF-8 -t UTF-16 >"$INBOX/0-excel.csv"
# 1: a name that is not UTF-8 (Latin-1 e acute), good content otherwise.
donor_csv "$INBOX/1-caf"$'\xe9'".csv" 300010 2
# 2: a name with an escape sequence in it.
donor_csv "$INBOX/2-red"$'\x1b'"[31m.csv" 300020 2
# 3: a NUL byte on line 3.
printf 'code,birth_year,sex\nD-0300030,1980,F\nD-0300031\0,1980,F\n' >"$INBOX/3-nul.csv"
# 4: invalid UTF-8 in a field (a Latin-1 file).
printf 'code,birth_year,sex\nD-0300040,1980,F\nD-0300041,1980,F\xe9\n' >"$INBOX/4-latin1.csv"
# 5: a UTF-8 byte order mark and CRLF line ends are fine.
printf '\xef\xbb\xbfcode,birth_year,sex\r\nD-0300050,1980,F\r\nD-0300051,1981,M\r\n' >"$INBOX/5-bom.csv"
# 6, 7: plain good files.
donor_csv "$INBOX/6-good.csv" 300060 3
donor_csv "$INBOX/7-good.csv" 300070 2

expect 0 "one --once pass over bad and good files exits 0" \
    fmtbankd --once --inbox "$INBOX" --config "$TMP/fast.conf"
log=$ERR
assert_eq "$(donor_count)" "$((base + 7))" "every good file imported (2 + 3 + 2 donors)"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor WHERE code IN ('D-0300050','D-0300051','D-0300060','D-0300071')")" \
    "4" "the BOM/CRLF file and the last files imported"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor WHERE code IN ('D-0300001','D-0300010','D-0300011','D-0300020','D-0300021','D-0300030','D-0300031','D-0300040','D-0300041')")" \
    "0" "nothing of the bad files kept"
assert_eq "$(ls "$INBOX/processed" | tr '\n' ' ')" "5-bom.csv 6-good.csv 7-good.csv " "good files in processed/"
assert_eq "$(find "$INBOX" -maxdepth 1 -type f | wc -l)" "0" "nothing left in the inbox"
assert_eq "$(ls "$INBOX/rejected" | grep -c '\.errors\.txt$')" "5" "five reports"
assert_eq "$(ls "$INBOX/rejected" | grep -vc '\.errors\.txt$')" "5" "five rejected files"
assert_eq "$(ls "$INBOX/rejected/1-caf"$'\xe9'".csv" "$INBOX/rejected/1-caf"$'\xe9'".csv.errors.txt" 2>/dev/null | wc -l)" \
    "2" "a file keeps its real name (and its report beside it) in rejected/"

report=$(cat "$INBOX/rejected/0-excel.csv.errors.txt")
assert_contains "$report" 'could not import "0-excel.csv": line 1 contains invalid UTF-8 (byte 1 of the line)' \
    "UTF-16: the line and the byte"
assert_contains "$report" "looks like UTF-16" "UTF-16: says what it looks like"
assert_contains "$report" 'CSV UTF-8' "UTF-16: says what to do"

report=$(cat "$INBOX/rejected/1-caf"$'\xe9'".csv.errors.txt")
assert_contains "$report" 'file: 1-caf\xE9.csv' "undecodable name: the report names the file escaped"
assert_contains "$report" 'the file name contains invalid UTF-8' "undecodable name: says why"
report=$(cat "$INBOX/rejected/2-red"$'\x1b'"[31m.csv.errors.txt")
assert_contains "$report" '2-red\x1B[31m.csv": the file name contains a control character (0x1B)' \
    "control character in the name: escaped and refused"
assert_contains "$(cat "$INBOX/rejected/3-nul.csv.errors.txt")" 'line 3 contains a NUL byte (byte 10 of the line)' \
    "NUL byte: line and byte"
assert_contains "$(cat "$INBOX/rejected/4-latin1.csv.errors.txt")" 'line 3 contains invalid UTF-8 (byte 17 of the line)' \
    "invalid UTF-8: line and byte"
for f in "$INBOX"/rejected/*.errors.txt; do
    if ! iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1 || LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$f"; then
        not_ok "report $f is text"
    fi
done
ok "every report is UTF-8 text without control characters"

# The log escapes what it names: no raw escape or invalid byte reaches it.
if printf '%s' "$log" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; then ok "the log is UTF-8"; else not_ok "the log is UTF-8"; fi
assert_not_contains "$log" $'\x1b' "no raw escape character in the log"
assert_contains "$log" 'rejected "1-caf\xE9.csv"' "the log names the file escaped"

# The ledger records every rejection under the escaped name, with its report.
assert_eq "$(sql "SELECT status || ':' || name FROM fmtbank.inbox_file ORDER BY id" | tr '\n' ' ')" \
    "rejected:0-excel.csv rejected:1-caf\\xE9.csv rejected:2-red\\x1B[31m.csv rejected:3-nul.csv rejected:4-latin1.csv imported:5-bom.csv imported:6-good.csv imported:7-good.csv " \
    "the ledger"
assert_contains "$(sql "SELECT error_report FROM fmtbank.inbox_file WHERE name = '3-nul.csv'")" \
    "a NUL byte" "the ledger keeps the report"

# Renamed and dropped again, the same content is imported.
mv "$INBOX/rejected/1-caf"$'\xe9'".csv" "$INBOX/1-cafe.csv"
expect 0 "the renamed file" fmtbankd --once --inbox "$INBOX" --config "$TMP/fast.conf"
assert_contains "$ERR" 'imported "1-cafe.csv": 2 rows' "is imported"

# ---------------------------------------------------------------- a claim counts only with its import
claim=$(printf 'not imported yet\n' | sha256sum | cut -c1-64)
sql_as fmtbankd "SELECT fmtbank.inbox_claim('$claim', 'x.csv', 'donor')"
assert_eq "$RC" "1" "a bare claim cannot commit"
assert_contains "$ERR" 'inbox file "x.csv" was claimed but not imported' "says why"
sql_as fmtbankd "BEGIN; SELECT fmtbank.inbox_claim('$claim', 'x.csv', 'donor'); SELECT fmtbank.inbox_imported('$claim', 0); COMMIT;"
assert_eq "$RC" "1" "a claim with an import of no rows is refused"
assert_contains "$ERR" "the file imports no rows" "says why"
sql_as fmtbankd "BEGIN; SELECT fmtbank.inbox_claim('$claim', 'x.csv', 'donor'); SELECT fmtbank.inbox_imported('$claim', 5); COMMIT;"
assert_eq "$RC" "1" "a claim with a made-up row count is refused"
sql_as fmtbankd "SET CONSTRAINTS ALL IMMEDIATE; SELECT fmtbank.inbox_claim('$claim', 'x.csv', 'donor')"
assert_eq "$RC" "1" "nor with the check made immediate"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.inbox_file WHERE sha256 = '$claim'")" "0" "nothing claimed"
# The real file with that content is then imported.
donor_csv "$TMP/real.csv" 300090 1
sql_as fmtbankd "BEGIN; SELECT fmtbank.inbox_claim('$(sha256sum <"$TMP/real.csv" | cut -c1-64)', 'x.csv', 'donor'); COMMIT;"
assert_eq "$RC" "1" "nor the hash of a real file"
cp "$TMP/real.csv" "$INBOX/8-real.csv"
expect 0 "the real file" fmtbankd --once --inbox "$INBOX" --config "$TMP/fast.conf"
assert_contains "$ERR" 'imported "8-real.csv": 1 row' "is imported"
assert_eq "$(sql "SELECT rows FROM fmtbank.inbox_file WHERE name = '8-real.csv'")" "1" "with its row count"

check_daemon_logs
done_testing
