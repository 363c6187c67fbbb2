#!/usr/bin/env bash
# t0004-audit: the audit trail: what it records, append-only for the superuser too, the hash
# chain detecting edits and deletions, and concurrent appends keeping the chain valid.
. "$(dirname "$0")/lib.sh"
setup_db

expect 0 "a change" fmtbank --user alice --reason "first visit" donor add D-0100 --birth-year 1990 --sex F
row=$(sql "select who || '|' || op || '|' || key || '|' || reason || '|' || (new_row->>'birth_year') || '|' || (old_row is null) from fmtbank.audit_log where tbl = 'donor' and key = 'D-0100'")
assert_eq "$row" "alice|INSERT|D-0100|first visit|1990|true" "who, what, key, why and the new row"
expect 0 "audit log --table --key" fmtbank --user audrey audit log --table donor --key D-0100 --format json
assert_contains "$OUT" '"who":"alice"' "log shows who"
assert_contains "$OUT" '"reason":"first visit"' "log shows why"
expect 0 "audit log --since/--until" fmtbank --user audrey audit log --since "$(date +%F)" --until "$(date +%F)" --format tsv
assert_contains "$OUT" "D-0100" "today's rows included with a date --until"
expect 0 "audit log --until yesterday" fmtbank --user audrey audit log --until "$(date -d yesterday +%F)" --format tsv
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "1" "nothing before today (header only)"
expect 3 "bad --since" fmtbank --user audrey audit log --since 2026-13-45
assert_contains "$ERR" 'invalid timestamp "2026-13-45" for --since' "names the bad option value"
expect 6 "technician cannot read the audit trail" fmtbank --user alice audit log

# PII audit rows: quality sees them, the auditor does not.
fmtbank --user quinn donor identity D-0100 --full-name "Jane Doe" >/dev/null 2>&1
assert_eq "$(fmtbank --user audrey --format tsv audit log --table donor_identity | wc -l)" "1" "auditor sees no identity audit rows"
assert_eq "$(fmtbank --user quinn --format tsv audit log --table donor_identity | wc -l)" "2" "quality sees them"

expect 0 "verify intact" fmtbank --user audrey audit verify
assert_contains "$OUT" "audit trail intact" "reports intact"

# Append-only, superuser included.
n=$(audit_count)
run sql "update fmtbank.audit_log set reason = 'x' where id = 1"
assert_contains "$ERR" "cannot update the audit trail: it is append-only" "superuser UPDATE refused"
run sql "delete from fmtbank.audit_log where id = 1"
assert_contains "$ERR" "cannot delete the audit trail" "superuser DELETE refused"
run sql "truncate fmtbank.audit_log"
assert_contains "$ERR" "append-only" "superuser TRUNCATE refused"
sql_as audrey "update fmtbank.audit_log set reason = 'x'"
assert_contains "$ERR" "permission denied" "auditor has no UPDATE privilege"
sql_as adam "insert into fmtbank.audit_log (at, who, tbl, op, hash) values (now(), 'x', 'x', 'INSERT', '\\x00')"
assert_contains "$ERR" "permission denied" "admin cannot forge audit rows"
assert_eq "$(audit_count)" "$n" "nothing changed"
run sql "delete from fmtbank.donor where code = 'D-0100'"
assert_contains "$ERR" "records are never deleted" "business rows cannot be deleted, even by the superuser"

# Concurrent appends from parallel sessions keep the chain valid.
for w in 1 2 3 4; do
    ( for i in $(seq 1 15); do fmtbank --user alice donor add "D-$w$(printf '%03d' "$i")" >/dev/null 2>&1; done ) &
done
wait
assert_eq "$(sql "select count(*) from fmtbank.donor where code ~ '^D-[1-4][0-9]{3}$' and code <> 'D-0100'")" "60" "all 60 concurrent registrations recorded"
expect 0 "chain valid after concurrent appends" fmtbank --user audrey audit verify
assert_eq "$(sql "select count(distinct hash) = count(*) from fmtbank.audit_log")" "t" "no two rows share a hash (no fork)"

# Tamper: edit a row behind the trail's back.
target=$(sql "select id from fmtbank.audit_log where tbl = 'donor' and key = 'D-0100'")
sql "alter table fmtbank.audit_log disable trigger append_only; update fmtbank.audit_log set reason = 'forged' where id = $target; alter table fmtbank.audit_log enable trigger append_only" >/dev/null
expect 5 "verify detects an edited row" fmtbank --user audrey audit verify
assert_contains "$ERR" "audit trail broken at row $target" "names the edited row"
sql "alter table fmtbank.audit_log disable trigger append_only; update fmtbank.audit_log set reason = 'first visit' where id = $target; alter table fmtbank.audit_log enable trigger append_only" >/dev/null
expect 0 "restored row verifies again" fmtbank --user audrey audit verify

# A long trail (ids spanning 200,000 or more) is verified in id ranges at once over several
# connections (one per CPU), each range chaining from the stored hash before it; the answer must
# be the whole trail's. An id gap makes this trail long.
sql "select setval('fmtbank.audit_log_id_seq', 600000)" >/dev/null
expect 0 "a change after the gap" fmtbank --user alice donor add D-0200 --birth-year 1991 --sex M
late=$(sql "select id from fmtbank.audit_log where tbl = 'donor' and key = 'D-0200'")
assert_eq "$([ "$late" -gt 600000 ] && echo after)" "after" "the new row's id is past the gap"
expect 0 "long trail intact" fmtbank --user audrey audit verify
assert_contains "$OUT" "audit trail intact: $(audit_count) rows verified" "every row verified once"
forge() { # ID REASON
    sql "alter table fmtbank.audit_log disable trigger append_only; update fmtbank.audit_log set reason = $2 where id = $1; alter table fmtbank.audit_log enable trigger append_only" >/dev/null
}
forge "$late" "'forged'"
expect 5 "long trail: an edited row in the last range" fmtbank --user audrey audit verify
assert_eq "$(grep -o 'broken at row [0-9]*' <<<"$ERR")" "broken at row $late" "names the row past the gap"
forge "$target" "'forged'"
expect 5 "long trail: edited rows in two ranges" fmtbank --user audrey audit verify
assert_eq "$(grep -o 'broken at row [0-9]*' <<<"$ERR")" "broken at row $target" "names the earlier row"
assert_contains "$ERR" "($(audit_count) rows checked)" "every row checked"
forge "$target" "'first visit'"
forge "$late" "NULL"
expect 0 "long trail verifies again once restored" fmtbank --user audrey audit verify

# Tamper: delete a row.
victim=$(sql "select id from fmtbank.audit_log where tbl = 'donor' and key = 'D-1001'")
next=$(sql "select min(id) from fmtbank.audit_log where id > $victim")
sql "alter table fmtbank.audit_log disable trigger append_only; delete from fmtbank.audit_log where id = $victim; alter table fmtbank.audit_log enable trigger append_only" >/dev/null
expect 5 "verify detects a deleted row" fmtbank --user audrey audit verify
assert_contains "$ERR" "audit trail broken at row $next" "names the row after the gap"

done_testing
