#!/usr/bin/env bash
# t0700-daemon-once: fmtbankd --once: command line and configuration errors, no database, the
# inbox (imported once by content, rejected with every bad line, duplicates, empty and ignored
# files, names never overwritten), the daemon's role and its privileges, the heartbeat in status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

# ---------------------------------------------------------------- command line and configuration
expect 2 "unknown option" fmtbankd --bogus
assert_contains "$ERR" 'unknown option "--bogus"' "names the option"
assert_contains "$ERR" "Usage: fmtbankd" "prints the usage"
expect 2 "stray argument" fmtbankd once
assert_contains "$ERR" 'unexpected argument "once"' "names the argument"
expect 2 "bad --interval" fmtbankd --once --interval soon
assert_contains "$ERR" '--interval: invalid value "soon" for "interval"' "names the option and value"
expect 2 "missing configuration file" fmtbankd --once --config "$TMP/none.conf"
assert_contains "$ERR" 'could not open configuration file' "says so"

printf 'inbox = %s\n# a comment\n\ninterval = 5\nreport_time = 25:00\n' "$INBOX" >"$TMP/bad.conf"
expect 2 "bad report_time" fmtbankd --once --config "$TMP/bad.conf"
assert_contains "$ERR" "bad.conf:5: invalid value \"25:00\" for \"report_time\"" "names file, line and value"
printf 'interval = 5\nsurprise = 1\n' >"$TMP/bad.conf"
expect 2 "unknown setting" fmtbankd --once --config "$TMP/bad.conf"
assert_contains "$ERR" 'bad.conf:2: unknown setting "surprise"' "names the line and key"
printf 'interval = 5\njust words\n' >"$TMP/bad.conf"
expect 2 "line without =" fmtbankd --once --config "$TMP/bad.conf"
assert_contains "$ERR" 'bad.conf:2: expected "key = value"' "names the line"
printf 'db = host=/x port=\x27\n' >"$TMP/bad.conf"
expect 2 "unparsable conninfo" fmtbankd --once --config "$TMP/bad.conf"
assert_contains "$ERR" 'bad.conf:1: invalid value for "db"' "names the line"
printf 'inbox_format = pdf\n' >"$TMP/bad.conf"
expect 2 "unknown inbox format" fmtbankd --once --config "$TMP/bad.conf"
assert_contains "$ERR" 'invalid value "pdf" for "inbox_format"' "names the format"
expect 2 "inbox that does not exist" fmtbankd --once --inbox "$TMP/nowhere"
assert_contains "$ERR" "is not a directory" "says so"

# ---------------------------------------------------------------- no database yet
expect 7 "--once before fmtbank init: database unavailable" fmtbankd --once
assert_contains "$ERR" "could not connect to the database" "says it could not connect"

setup_db
# The donor sweep stores the demo donors' derived status on its first run; settle it first.
sql_as adam "SELECT * FROM fmtbank.sweep()"
audit0=$(audit_count)

# ---------------------------------------------------------------- a pass with an empty inbox
expect 0 "--once with an empty inbox" fmtbankd --once --inbox "$INBOX" --interval 1
assert_contains "$ERR" 'connected to database "fmtbank" as "fmtbankd"' "connects as the fmtbankd login"
assert_contains "$ERR" "active daemon" "takes the lock"
assert_eq "$(ls "$INBOX")" "$(printf 'processed\nrejected')" "creates processed/ and rejected/"
assert_eq "$(audit_count)" "$audit0" "an empty pass changes no business record"

run fmtbank --user alice status
assert_contains "$OUT" "pid " "status shows the daemon heartbeat"
assert_contains "$OUT" "last sweep 2" "with the last sweep time"
assert_eq "$(sql "SELECT active FROM fmtbank.daemon_heartbeat")" "f" "a finished --once leaves its row inactive"

# ---------------------------------------------------------------- import, duplicate, reject
donor_csv "$INBOX/a.csv" 1 3
cp "$INBOX/a.csv" "$INBOX/a-copy.csv"
cat >"$INBOX/b.csv" <<'CSV'
code,birth_year,sex
D-0100001,1990,F
bad-code,1990,F
D-0100002,19x0,M
D-0100003,1991,Q
D-0100004,1992,M
CSV
: >"$INBOX/empty.csv"
echo "not,a,csv" >"$INBOX/notes.txt"
donor_csv "$INBOX/.hidden.csv" 500 1
echo "settle = 0" >"$TMP/fast.conf"
expect 0 "--once imports the inbox" fmtbankd --once --inbox "$INBOX" --config "$TMP/fast.conf"
assert_eq "$(donor_count)" "6" "3 new donors from one copy (demo has 3)"
assert_contains "$ERR" 'imported "a-copy.csv": 3 rows' "the first name (in order) is imported"
assert_contains "$ERR" '"a.csv" has the same content as "a-copy.csv"' "the same content under another name is not"
assert_eq "$(ls "$INBOX/processed" | tr '\n' ' ')" "a-copy.csv a.csv " "both moved to processed/"
assert_eq "$(ls "$INBOX/rejected" | tr '\n' ' ')" "b.csv b.csv.errors.txt empty.csv empty.csv.errors.txt " \
    "bad and empty files moved to rejected/ with reports"
report=$(cat "$INBOX/rejected/b.csv.errors.txt")
assert_contains "$report" 'b.csv:3: invalid donor code "bad-code"' "report: line 3"
assert_contains "$report" 'b.csv:4: invalid birth_year "19x0"' "report: line 4"
assert_contains "$report" 'b.csv:5: invalid sex "Q"' "report: line 5"
assert_eq "$(grep -c '^b.csv:' "$INBOX/rejected/b.csv.errors.txt")" "3" "report: exactly the 3 bad lines"
assert_contains "$report" 'error: could not import "b.csv": 3 bad lines' "report: summary"
assert_contains "$(cat "$INBOX/rejected/empty.csv.errors.txt")" "the file is empty" "empty file reported"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.donor WHERE code LIKE 'D-01%'")" "0" "nothing of the bad file kept"
assert_eq "$(ls -a "$INBOX" | tr '\n' ' ')" ". .. .hidden.csv notes.txt processed rejected " \
    "hidden and non-csv files are left alone"
assert_eq "$(sql "SELECT status || ':' || name || ':' || coalesce(rows::text, '-') FROM fmtbank.inbox_file ORDER BY id" | tr '\n' ' ')" \
    "imported:a-copy.csv:3 duplicate:a.csv:- rejected:b.csv:- rejected:empty.csv:- " "the ledger"
assert_eq "$(sql "SELECT sha256 FROM fmtbank.inbox_file WHERE name = 'a-copy.csv'")" \
    "$(sha256sum <"$INBOX/processed/a.csv" | cut -c1-64)" "keyed by the content's SHA-256"
assert_contains "$(sql "SELECT error_report FROM fmtbank.inbox_file WHERE name = 'b.csv'")" \
    'b.csv:5: invalid sex "Q"' "the ledger keeps the report"
assert_eq "$(sql "SELECT DISTINCT who || ' / ' || reason FROM fmtbank.audit_log WHERE tbl = 'donor' AND new_row->>'code' = 'D-0000001'")" \
    "fmtbankd / inbox file \"a-copy.csv\" (sha256 $(sha256sum <"$INBOX/processed/a.csv" | cut -c1-64))" \
    "audit rows name the daemon and the file"

# The format is recognised by the header line; an unknown one is rejected naming the known ones.
printf 'donor;test;result\nD-0000001;HIV;negative\n' >"$INBOX/weird.csv"
expect 0 "--once with an unrecognised header" fmtbankd --once --inbox "$INBOX" --config "$TMP/fast.conf"
report=$(cat "$INBOX/rejected/weird.csv.errors.txt")
assert_contains "$report" 'could not import "weird.csv": unrecognised header line "donor;test;result"' \
    "report: the header is not recognised"
assert_contains "$report" '"code,birth_year,sex" (donor)' "report: the known header lines"
assert_eq "$(sql "SELECT format FROM fmtbank.inbox_file WHERE name = 'weird.csv'")" "unknown" "ledger: format unknown"
assert_eq "$(sql "SELECT format FROM fmtbank.inbox_file WHERE name = 'a-copy.csv'")" "donor" "ledger: format detected"
# With a fixed format, a file with another header fails COPY's own header check.
printf 'inbox_format = donor\nsettle = 0\n' >"$TMP/fixed.conf"
printf 'code,year\nD-0000001,1990\n' >"$INBOX/wrong.csv"
expect 0 "--once with inbox_format = donor" fmtbankd --once --inbox "$INBOX" --config "$TMP/fixed.conf"
assert_contains "$(cat "$INBOX/rejected/wrong.csv.errors.txt")" 'could not read "wrong.csv"' "rejected by COPY"
assert_eq "$(donor_count)" "6" "nothing imported from either"

# The same content again, and the same name with other content: never overwritten.
cp "$INBOX/processed/a.csv" "$INBOX/a.csv"
donor_csv "$INBOX/a-copy.csv" 10 2
expect 0 "--once again" fmtbankd --once --inbox "$INBOX" --config "$TMP/fast.conf"
assert_eq "$(donor_count)" "8" "only the new content is imported"
assert_eq "$(ls "$INBOX/processed" | tr '\n' ' ')" "a-copy.1.csv a-copy.csv a.1.csv a.csv " \
    "taken names get a number"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.inbox_file WHERE status = 'imported'")" "2" "two imports in the ledger"

# ---------------------------------------------------------------- the daemon's privileges
sql_as fmtbankd "INSERT INTO fmtbank.donor (code) VALUES ('D-0999999')"
assert_eq "$RC" "1" "fmtbankd cannot insert into a table directly"
assert_contains "$ERR" "permission denied" "permission denied"
sql_as fmtbankd "INSERT INTO fmtbank.inbox_file (sha256, name, format, status) VALUES (repeat('a', 64), 'x.csv', 'donor', 'imported')"
assert_contains "$ERR" "permission denied" "nor into the ledger"
sql_as alice "SELECT fmtbank.inbox_claim(repeat('a', 64), 'x.csv', 'donor')"
assert_contains "$ERR" "importing inbox files requires the daemon role" "a technician cannot claim inbox files"
sql_as alice "SELECT fmtbank.daemon_beat('h', 1, true, true, true, 0)"
assert_contains "$ERR" "writing the daemon heartbeat requires the daemon role" "nor write the heartbeat"
sql_as alice "SELECT * FROM fmtbank.sweep()"
assert_contains "$ERR" "running the sweeps requires the daemon or admin role" "nor run the sweeps"
sql_as adam "SELECT count(*) FROM fmtbank.sweep()"
assert_eq "$OUT" "0" "an admin may run the sweeps (none registered yet)"
sql_as fmtbankd "UPDATE fmtbank.inbox_file SET status = 'rejected'"
assert_contains "$ERR" "permission denied" "fmtbankd cannot rewrite the ledger"
sql_as postgres "DELETE FROM fmtbank.inbox_file"
assert_contains "$ERR" "records are never deleted" "ledger rows are never deleted"

# As the instance superuser instead (a site's choice): the same pass works.
donor_csv "$INBOX/s.csv" 20 1
run env PGUSER=postgres fmtbankd --once --inbox "$INBOX" --config "$TMP/fast.conf"
assert_eq "$RC" "0" "--once as the superuser"
assert_contains "$ERR" 'as "postgres"' "PGUSER chooses the role"
assert_eq "$(donor_count)" "9" "imported"

check_daemon_logs
done_testing
