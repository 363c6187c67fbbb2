#!/usr/bin/env bash
# t0003-users: people and roles; each role's limits through the CLI and directly through psql.
. "$(dirname "$0")/lib.sh"
setup_db

expect 0 "admin adds a technician" bash -c "echo 'tess-signs-1' | fmtbank --user adam user add tess --role technician --name 'Tess Tech' --password-stdin"
assert_eq "$OUT" "tess" "prints the new user's name only"
pgpass_add tess 'tess-signs-1'
assert_eq "$(sql "select role || '/' || printed_name from fmtbank.app_user where name = 'tess'")" "technician/Tess Tech" "recorded with role and printed name"
assert_eq "$(sql "select rolcanlogin from pg_roles where rolname = 'tess'")" "t" "a login role"
assert_eq "$(sql "select pg_has_role('tess', 'fmtbank_technician', 'MEMBER')")" "t" "member of fmtbank_technician"
assert_eq "$(sql "select sig_hash like '\$2a\$10\$%' from fmtbank.user_secret where name = 'tess'")" "t" "signature password stored as bcrypt"
assert_eq "$(sql "select sig_hash = fmtbank.crypt('tess-signs-1', sig_hash) from fmtbank.user_secret where name = 'tess'")" "t" "and it verifies"
expect 0 "the new user can act" fmtbank --user tess donor list

before=$(audit_count)
expect 6 "technician cannot add users" bash -c "echo 'xxxxxxxx1' | fmtbank --user alice user add mallory --role admin --password-stdin"
assert_contains "$ERR" "permission denied: adding users requires the admin role" "message names the needed role"
expect 6 "quality cannot add users" fmtbank --user quinn user add mallory --role admin
expect 6 "auditor cannot add users" fmtbank --user audrey user add mallory --role admin
expect 3 "invalid user name" fmtbank --user adam user add "Bad Name" --role technician
assert_contains "$ERR" 'invalid user name "Bad Name"' "names the bad name"
expect 3 "reserved prefix" fmtbank --user adam user add fmtbank_x --role technician
expect 3 "invalid role" fmtbank --user adam user add bob --role superhero
assert_contains "$ERR" 'invalid role "superhero"' "names the bad role"
expect 5 "duplicate user" fmtbank --user adam user add alice --role technician
assert_contains "$ERR" 'user "alice" already exists' "says it exists"
expect 3 "short signature password" bash -c "echo 'short' | fmtbank --user adam user add bob --role quality --password-stdin"
assert_contains "$ERR" "at least 12 characters" "says why"
expect 2 "missing --role" fmtbank --user adam user add bob
expect 6 "unknown acting user" fmtbank --user nobody donor list
assert_eq "$(audit_count)" "$before" "refusals changed nothing"
assert_eq "$(sql "select count(*) from pg_roles where rolname in ('mallory', 'bob')")" "0" "no role was created"

# Through psql, a technician cannot do what the CLI refuses.
sql_as alice "insert into fmtbank.app_user (name, role, printed_name) values ('x', 'admin', 'x')"
assert_contains "$ERR" "permission denied for table app_user" "technician: no INSERT on app_user"
sql_as alice "update fmtbank.app_user set role = 'admin' where name = 'alice'"
assert_contains "$ERR" "permission denied" "technician: no UPDATE on app_user"
sql_as alice "select fmtbank.user_add('x', 'admin', 'x', null)"
assert_contains "$ERR" "permission denied" "technician: cannot call user_add"
sql_as alice "select * from fmtbank.user_secret"
assert_contains "$ERR" "permission denied" "technician: cannot read signature hashes"
sql_as quinn "select * from fmtbank.user_secret"
assert_contains "$ERR" "permission denied" "quality: cannot read signature hashes"
sql_as audrey "insert into fmtbank.donor (code) values ('D-9999')"
assert_contains "$ERR" "permission denied" "auditor: no INSERT on donor"
sql_as audrey "select count(*) from fmtbank.donor"
assert_eq "$RC/$OUT" "0/3" "auditor reads the donor registry"
sql_as audrey "select * from fmtbank.donor_identity"
assert_contains "$ERR" "permission denied" "auditor cannot read donor identity (PII)"
sql_as alice "select * from fmtbank.donor_identity"
assert_contains "$ERR" "permission denied" "technician cannot read donor identity (PII)"
sql_as adam "delete from fmtbank.donor"
assert_contains "$ERR" "permission denied" "admin: no DELETE on donor"
sql_as alice "set role fmtbank_admin"
assert_contains "$ERR" "permission denied" "technician cannot become admin"
sql_as alice "alter role alice superuser"
assert_contains "$ERR" "must be superuser" "technician cannot escalate"

# No function of the schema is executable by PUBLIC (each is granted to the roles that may call
# it), and a login outside the fmtbank roles can do nothing at all.
assert_eq "$(sql "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace,
    aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
    where n.nspname = 'fmtbank' and a.grantee = 0")" "0" "no fmtbank function is executable by PUBLIC"
sql "create role stranger login password 'stranger-pass-1'" >/dev/null
pgpass_add stranger 'stranger-pass-1'
sql_as stranger "select fmtbank.donor_add('D-0777', null, null)"
assert_contains "$ERR" "permission denied for schema fmtbank" "a login without an fmtbank role can do nothing"

expect 0 "user list" fmtbank --user audrey user list --format json
assert_contains "$OUT" '"name":"tess","role":"technician","printed_name":"Tess Tech","has_signature":true,"disabled":false,"locked":false' "lists tess as JSON"
assert_not_contains "$OUT" 'sig_hash' "never lists password hashes"
expect 0 "user list tsv" fmtbank --user audrey --format tsv user list
assert_eq "$(printf '%s\n' "$OUT" | head -1)" "$(printf 'name\trole\tprinted_name\thas_signature\tdisabled\tlocked\tunblinded')" "tsv header"

before=$(audit_count)
expect 3 "disable needs a reason" fmtbank --user adam user disable tess
assert_contains "$ERR" "disabling a user requires a reason" "says a reason is needed"
expect 4 "disable unknown user" fmtbank --user adam user disable ghost --reason x
assert_contains "$ERR" 'user "ghost" not found' "names the unknown user"
expect 6 "technician cannot disable" fmtbank --user alice user disable tess --reason x
expect 5 "admin cannot disable themself" fmtbank --user adam user disable adam --reason x
assert_eq "$(audit_count)" "$before" "refused disables changed nothing"
expect 0 "disable tess" fmtbank --user adam user disable tess --reason "left the lab"
expect 6 "a disabled user cannot log in" fmtbank --user tess donor list
assert_eq "$(sql "select count(*) from fmtbank.app_user where name = 'tess'")" "1" "disabled, never deleted"
assert_eq "$(sql "select reason from fmtbank.audit_log where tbl = 'app_user' and key = 'tess' and op = 'UPDATE'")" "left the lab" "the reason is in the audit trail"
assert_eq "$(sql "select who from fmtbank.audit_log where tbl = 'app_user' and key = 'tess' and op = 'UPDATE'")" "adam" "and who did it"
expect 5 "disable twice" fmtbank --user adam user disable tess --reason again
assert_contains "$ERR" "already disabled" "says already disabled"

expect 0 "own password (the current one first)" bash -c "printf 'alice-signs-1\nalice-new-pass\n' | fmtbank --user alice user password alice --password-stdin"
pgpass_add alice 'alice-new-pass'
assert_eq "$(sql "select sig_hash = fmtbank.crypt('alice-new-pass', sig_hash) from fmtbank.user_secret where name = 'alice'")" "t" "password changed"
expect 6 "not someone else's" bash -c "echo 'alice-new-pass' | fmtbank --user alice user password quinn --password-stdin"
expect 5 "unlock a user that is not locked" fmtbank --user adam user unlock alice --reason x

done_testing
