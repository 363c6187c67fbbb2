#!/usr/bin/env bash
# t0308-printed-names: a printed name identifies one signer (schema/072_printed_name.sql): among
# enabled users printed names are unique ignoring case and white space; a disabled user's name
# is free again; the error is clear and nothing is left behind.
. "$(dirname "$0")/lib.sh"
setup_db

add() { # NAME PRINTED [ROLE]
    run fmtbank --user adam user add "$1" --role "${3:-quality}" --name "$2"
}
before=$(audit_count)
for n in "Quinn Qualmann" "quinn qualmann" "  QUINN   QUALMANN " "QuinnQualmann" "Quinn	Qualmann"; do
    add qq "$n"
    assert_eq "$RC" "5" "\"$n\" is refused (exit 5)"
    assert_contains "$ERR" "is already the printed name of user \"quinn\"" "\"$n\": says whose it is"
done
assert_contains "$ERR" "--name" "and how to give another"
assert_eq "$(audit_count):$(sql "SELECT count(*) FROM pg_roles WHERE rolname = 'qq'"):$(sql "SELECT count(*) FROM fmtbank.app_user WHERE name = 'qq'")" \
    "$before:0:0" "nothing left behind: no audit row, no login role, no user"

add qq "Quinn Q. Qualmann"
assert_eq "$RC" "0" "a distinct printed name is accepted"
run fmtbank --user adam user add bob --role technician
assert_eq "$RC" "0" "a user without --name is printed as its user name"
add bob2 "BOB" technician
assert_contains "$ERR" "printed name \"BOB\" is already the printed name of user \"bob\"" "which counts as well"

# a disabled user's printed name is free again
add zed "Zed Zimmer"
expect 0 "adam disables zed" fmtbank --user adam user disable zed --reason "left the bank"
add zed2 "zed zimmer"
assert_eq "$RC" "0" "a disabled user's printed name can be given again"
assert_eq "$(sql "SELECT string_agg(name || ':' || (disabled_at IS NULL), ',' ORDER BY name) FROM fmtbank.app_user WHERE printed_name ILIKE 'zed zimmer'")" \
    "zed:false,zed2:true" "one enabled holder"

# any other path that writes app_user: a rename, a re-enable
sql_as postgres "UPDATE fmtbank.app_user SET printed_name = 'quinn  QUALMANN' WHERE name = 'qq'"
assert_contains "$ERR" "is already the printed name of user \"quinn\"" "a rename to a taken name is refused"
sql_as postgres "UPDATE fmtbank.app_user SET disabled_at = NULL WHERE name = 'zed'"
assert_contains "$ERR" "printed name \"Zed Zimmer\" is already the printed name of user \"zed2\"" "re-enabling a user whose name was given again is refused"
sql_as postgres "ALTER TABLE fmtbank.app_user DISABLE TRIGGER printed_name_unique;
                 UPDATE fmtbank.app_user SET printed_name = 'QUINN QUALMANN' WHERE name = 'qq'"
assert_contains "$ERR" "app_user_printed_name_enabled" "the unique index backs the trigger up"
assert_eq "$(sql "SELECT printed_name FROM fmtbank.app_user WHERE name = 'qq'")" "Quinn Q. Qualmann" "unchanged"
expect 0 "audit trail intact" fmtbank --user audrey audit verify
done_testing
