#!/usr/bin/env bash
# t0014-auth: authentication (product.md §15): scram for persons, peer only for the service
# account, the server module's refusals and login lockout, one password per person (login =
# signature) with length, history and the current password for one's own change; user role/enable.
. "$(dirname "$0")/lib.sh"
setup_db

hba=$(sql "select string_agg(type || ' ' || array_to_string(user_name, ',') || ' ' || auth_method, '; ' order by line_number) from pg_hba_file_rules")
assert_eq "$hba" "local postgres,fmtbankd peer; local postgres peer; local all scram-sha-256" "pg_hba: peer for the service account only, scram for everyone else"
# the second peer line is the service account's replication connections (standbys, README
# "Standby and failover"): no database but replication
assert_eq "$(sql "select array_to_string(database, ',') from pg_hba_file_rules where line_number = (select min(line_number) + 1 from pg_hba_file_rules)")" \
    "replication" "pg_hba: the service account's peer replication line names no database"
assert_eq "$(sql "show password_encryption")" "scram-sha-256" "password_encryption is scram-sha-256"
assert_eq "$(sql "select rolpassword like 'SCRAM-SHA-256\$%' from pg_authid where rolname = 'alice'")" "t" "a person's login password is a scram verifier"
assert_eq "$(stat -c '%a %G' "$FMTBANK_HOME")" "750 fmtbank" "socket directory 0750, group fmtbank"
expect 0 "a person logs in with the password from PGPASSFILE" fmtbank --user alice donor list

# Refusals at login.
printf '*:*:*:alice:not-alices-password\n' >"$TMP/bad.pgpass"
chmod 600 "$TMP/bad.pgpass"
run env PGPASSFILE="$TMP/bad.pgpass" fmtbank --user alice donor list
assert_eq "$RC" "6" "wrong password refused (exit 6)"
assert_contains "$ERR" 'password authentication failed for user "alice"' "says so"
: >"$TMP/empty.pgpass"
chmod 600 "$TMP/empty.pgpass"
run env PGPASSFILE="$TMP/empty.pgpass" fmtbank --user alice donor list
assert_eq "$RC" "6" "no password refused (exit 6)"
assert_contains "$ERR" "no password supplied" "says so"
run env -u PGUSER PGPASSFILE="$TMP/empty.pgpass" fmtbank donor list
assert_eq "$RC" "6" "the acting role defaults to the OS user name, never the superuser (peer would let it in)"
assert_contains "$ERR" "no password supplied" "a password is asked for"
if [ "$(id -u)" -eq 0 ]; then
    grp=$(getent group fmtbank | cut -d: -f3)
    run setpriv --reuid=65534 --regid=65534 --groups="$grp" env PGPASSFILE=/dev/null \
        psql -X -h "$FMTBANK_HOME" -U postgres -d fmtbank -c 'select 1'
    assert_eq "$RC" "2" "peer for a random OS user (in group fmtbank) as postgres refused"
    assert_contains "$ERR" 'Peer authentication failed for user "postgres"' "peer refused"
    grep '^\*:\*:\*:quinn:' "$PGPASSFILE" >"$TMP/nobody.pgpass"
    chown 65534 "$TMP/nobody.pgpass"
    chmod 600 "$TMP/nobody.pgpass"
    run setpriv --reuid=65534 --regid=65534 --groups="$grp" env PGPASSFILE="$TMP/nobody.pgpass" \
        psql -X -A -t -h "$FMTBANK_HOME" -U quinn -d fmtbank -c 'select session_user'
    assert_eq "$OUT" "quinn" "a person connects from another OS account in group fmtbank with the password"
    run setpriv --reuid=65534 --regid=65534 --clear-groups env PGPASSFILE="$TMP/nobody.pgpass" \
        psql -X -h "$FMTBANK_HOME" -U quinn -d fmtbank -c 'select 1'
    assert_eq "$RC" "2" "an OS account outside group fmtbank cannot reach the socket"
fi

# The server module: ALTER ROLE ... PASSWORD directly.
sql_as adam "alter role adam password 'md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"
assert_contains "$ERR" "pre-hashed passwords are refused" "pre-hashed ALTER ROLE refused"
run fmtbank --user postgres db psql -X -v ON_ERROR_STOP=1 -c "alter role alice password 'md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"
assert_contains "$ERR" "pre-hashed passwords are refused" "even for the superuser"
sql_as adam "alter role adam password 'short'"
assert_contains "$ERR" "password must have at least 12 characters" "short password refused by the module"
sql_as adam "alter role adam password 'a-long-enough-password'"
assert_contains "$ERR" 'passwords are set only through "fmtbank user password"' "a direct ALTER ROLE cannot bypass history"
expect 0 "adam still logs in with his password" fmtbank --user adam user list

# One password per person.
PW1='lara-first-pass-1'
expect 0 "admin adds lara with a password" bash -c "echo '$PW1' | fmtbank --user adam user add lara --role technician --password-stdin"
pgpass_add lara "$PW1"
expect 0 "lara logs in with it" fmtbank --user lara donor list
assert_eq "$(sql "select sig_hash = fmtbank.crypt('$PW1', sig_hash) from fmtbank.user_secret where name = 'lara'")" "t" "the signature verifier is the login password"
assert_eq "$(sql "select rolvaliduntil::date - current_date between 364 and 366 from pg_authid where rolname = 'lara'")" "t" "the password expires after password_max_days"
expect 3 "user add: short password refused" bash -c "echo 'short-pw-1' | fmtbank --user adam user add lena --role technician --password-stdin"
assert_contains "$ERR" "at least 12 characters" "says the length"
expect 6 "own change without the right current password refused" bash -c "printf 'wrong-current-1\nlara-second-pass-2\n' | fmtbank --user lara user password lara --password-stdin"
assert_contains "$ERR" "the current password is wrong" "says so"
PW2='lara-second-pass-2'
expect 0 "own change with the current password" bash -c "printf '%s\n%s\n' '$PW1' '$PW2' | fmtbank --user lara user password lara --password-stdin"
run fmtbank --user lara donor list
assert_eq "$RC" "6" "the old password no longer logs in"
pgpass_add lara "$PW2"
expect 0 "the new one does" fmtbank --user lara donor list
assert_eq "$(sql "select sig_hash = fmtbank.crypt('$PW2', sig_hash) from fmtbank.user_secret where name = 'lara'")" "t" "and it is the signing password"
expect 5 "history: reusing an earlier password refused" bash -c "echo '$PW1' | fmtbank --user adam user password lara --password-stdin"
assert_contains "$ERR" "one of the last 5 passwords" "says why"
expect 6 "a technician cannot set another's password" bash -c "echo 'alice-new-pass-9' | fmtbank --user lara user password alice --password-stdin"
assert_eq "$(sql "select count(*) from fmtbank.password_history where name = 'lara'")" "2" "two passwords in lara's history"

# Login lockout after login_max_failures and unlock.
printf '*:*:*:lara:not-laras-password\n' >"$TMP/bad.pgpass"
for i in 1 2 3 4 5; do
    run env PGPASSFILE="$TMP/bad.pgpass" fmtbank --user lara donor list
done
assert_eq "$(sql "select fmtbank.user_login_failures('lara')")" "5" "five failed logins counted"
run fmtbank --user lara donor list
assert_eq "$RC" "6" "after 5 failures even the right password is refused"
assert_contains "$ERR" 'user "lara" is locked after 5 failed logins' "with a clear message"
assert_eq "$(fmtbank --user audrey --format tsv user list | awk -F'\t' '$1 == "lara" { print $6 }')" "t" "user list shows lara locked"
expect 3 "unlock needs a reason" fmtbank --user adam user unlock lara
expect 0 "admin unlocks" fmtbank --user adam --reason "forgot her password" user unlock lara
expect 0 "lara logs in again" fmtbank --user lara donor list
assert_eq "$(sql "select fmtbank.user_login_failures('lara')")" "0" "the count is reset"
expect 5 "unlock of a user that is not locked refused" fmtbank --user adam --reason x user unlock lara
run env PGPASSFILE="$TMP/bad.pgpass" fmtbank --user lara donor list
expect 0 "a good login resets the count below the limit" fmtbank --user lara donor list
assert_eq "$(sql "select fmtbank.user_login_failures('lara')")" "0" "count back to 0"

# user role / enable.
expect 0 "admin changes lara's role" fmtbank --user adam --reason "moved to QA" user role lara quality
assert_eq "$(sql "select pg_has_role('lara', 'fmtbank_quality', 'MEMBER')::text || pg_has_role('lara', 'fmtbank_technician', 'MEMBER')::text || role from fmtbank.app_user where name = 'lara'")" "truefalsequality" "now quality only"
expect 6 "a technician cannot change roles" fmtbank --user alice --reason x user role lara admin
expect 5 "admin cannot change his own role" fmtbank --user adam --reason x user role adam technician
expect 3 "invalid role" fmtbank --user adam --reason x user role lara superhero
expect 0 "admin disables lara" fmtbank --user adam --reason "left" user disable lara
run fmtbank --user lara donor list
assert_eq "$RC" "6" "a disabled person cannot log in"
expect 0 "admin enables lara" fmtbank --user adam --reason "back" user enable lara
expect 0 "lara logs in again" fmtbank --user lara donor list
expect 5 "enabling an enabled user refused" fmtbank --user adam --reason x user enable lara

# The configured administrator OS account.
expect 0 "init --admin-os-user" fmtbank init --admin-os-user root --admin-role adam
hba=$(sql "select string_agg(array_to_string(user_name, ',') || ' ' || auth_method, '; ' order by line_number) from pg_hba_file_rules")
assert_contains "$hba" "adam peer" "adam logs in by peer from that account"
run env -u PGUSER PGPASSFILE="$TMP/empty.pgpass" fmtbank --user adam user list
if [ "$(id -un)" = root ]; then assert_eq "$RC" "0" "adam without a password from root"; fi
expect 2 "--admin-os-user needs --admin-role" fmtbank init --admin-os-user root

done_testing
