#!/usr/bin/env bash
# t0307-password-audit: signature-password hashes never enter the audit trail and no person reads
# them (schema/071_password_event.sql). Setting, changing and resetting a password is audited as
# a password_event (who, whose, when, kind) without the hash; user_secret is closed to every
# application role; audit rows of user_secret written before 071 are hidden from every role and
# still verify.
. "$(dirname "$0")/lib.sh"
setup_db

PW='tess-signs-1'
printf '%s\n' "$PW" | fmtbank --user adam user add tess --role technician --name "Tess Tech" --password-stdin >/dev/null
type pgpass_add >/dev/null 2>&1 && pgpass_add tess "$PW"
H1=$(sql "SELECT sig_hash FROM fmtbank.user_secret WHERE name = 'tess'")
assert_contains "$H1" '$2a$10$' "the password is stored as bcrypt"
printf '%s\n%s\n' "$PW" 'tess-new-pass-2' >"$TMP/pw"   # one's own: the current password first
run_in "$TMP/pw" fmtbank --user tess user password tess --password-stdin
assert_eq "$RC" "0" "tess changes her own password"
type pgpass_add >/dev/null 2>&1 && pgpass_add tess 'tess-new-pass-2'
H2=$(sql "SELECT sig_hash FROM fmtbank.user_secret WHERE name = 'tess'")
printf 'tess-reset-pass-3\n' >"$TMP/pw"
run_in "$TMP/pw" fmtbank --user adam user password tess --password-stdin
assert_eq "$RC" "0" "adam resets it"
H3=$(sql "SELECT sig_hash FROM fmtbank.user_secret WHERE name = 'tess'")
assert_eq "$([ "$H1" != "$H2" ] && [ "$H2" != "$H3" ] && echo changed)" "changed" "three different hashes"

# --- no hash in the audit trail
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE concat(old_row::text, new_row::text) LIKE '%\$2a\$%'
                  OR concat(old_row::text, new_row::text) LIKE '%\$2b\$%'")" "0" "no bcrypt hash in any audit row"
for h in "$H1" "$H2" "$H3"; do
    assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE strpos(concat(old_row::text, new_row::text, reason), '$h') > 0")" "0" \
        "the hash ${h:0:12}... is in no audit row"
done
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'user_secret'")" "0" "user_secret is not audited"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE strpos(concat(old_row::text, new_row::text), 'sig_hash') > 0")" "0" \
    "not even the column name"

# --- password_event: who, whose, when, kind
assert_eq "$(sql "SELECT string_agg(who || '>' || whose || ':' || kind, ',' ORDER BY id) FROM fmtbank.password_event WHERE whose = 'tess'")" \
    "adam>tess:set,tess>tess:changed,adam>tess:reset" "set by adam, changed by tess, reset by adam"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'password_event' AND new_row ->> 'whose' = 'tess'")" "3" \
    "each password_event is in the audit trail"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.password_event WHERE whose IN ('alice', 'quinn', 'audrey', 'adam') AND kind = 'set'")" "4" \
    "the demo users' passwords were recorded as set"
for u in quinn audrey adam; do
    sql_as "$u" "SELECT count(*) FROM fmtbank.password_event WHERE whose = 'tess'"
    assert_eq "$OUT" "3" "$u reads the password events"
done
sql_as quinn "INSERT INTO fmtbank.password_event (whose, kind) VALUES ('tess', 'set')"
assert_contains "$ERR" "permission denied" "nobody writes password events by hand"
sql_as postgres "UPDATE fmtbank.password_event SET kind = 'set'"
assert_contains "$ERR" "append-only" "nor changes them"
before=$(audit_count)
printf 'short\n' >"$TMP/pw"
run_in "$TMP/pw" fmtbank --user adam user password tess --password-stdin
assert_eq "$RC" "3" "a refused password change"
assert_eq "$(audit_count):$(sql "SELECT count(*) FROM fmtbank.password_event WHERE whose = 'tess'")" "$before:3" "records no event"

# --- user_secret: no application role reads or writes it
for u in alice quinn audrey adam; do
    sql_as "$u" "SELECT count(*) FROM fmtbank.user_secret"
    assert_contains "$ERR" "permission denied for table user_secret" "$u cannot SELECT user_secret"
done
sql_as adam "UPDATE fmtbank.user_secret SET sig_hash = 'x' WHERE name = 'tess'"
assert_contains "$ERR" "permission denied for table user_secret" "adam cannot write it"
assert_eq "$(sql "SELECT count(*) FROM unnest(array['fmtbank_technician','fmtbank_quality','fmtbank_auditor','fmtbank_admin','public']) r,
                  unnest(array['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p
                  WHERE has_table_privilege(r, 'fmtbank.user_secret', p)")" "0" "no privilege of any role on user_secret"
assert_eq "$(sql "SELECT count(*) FROM information_schema.column_privileges WHERE table_schema = 'fmtbank' AND table_name = 'user_secret' AND grantee NOT IN ('postgres', 'fmtbank_owner')")" "0" \
    "nor on any of its columns"
sql_as quinn "SELECT has_signature FROM fmtbank.user_list WHERE name = 'tess'"
assert_eq "$OUT" "t" "user list still says who has a signature password"

# --- history: an audit row of user_secret from before 071 (written here by the audit trigger, as
# before 071: a table of that name and those columns in a scratch schema, audited as 001 did)
sql "CREATE SCHEMA scratch; CREATE TABLE scratch.user_secret (name text, sig_hash text);
     SELECT fmtbank.audit_enable('scratch.user_secret', 'name', true);
     INSERT INTO scratch.user_secret VALUES ('tess', '$H1')" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'user_secret'")" "1" "(an old row holding a hash)"
for u in quinn audrey adam; do
    sql_as "$u" "SELECT count(*) FROM fmtbank.audit_log WHERE tbl = 'user_secret' OR strpos(new_row::text, '\$2a\$') > 0"
    assert_eq "$OUT" "0" "$u cannot read an old audit row holding a hash"
done
run fmtbank --user quinn audit log --table user_secret
assert_not_contains "$OUT" '$2a$' "audit log shows no hash"
expect 0 "the chain still verifies, old row included" fmtbank --user audrey audit verify
done_testing
