#!/usr/bin/env bash
# t0002-init: migrations: applied in order, idempotent, checksummed; not-initialised errors.
. "$(dirname "$0")/lib.sh"

fmtbank db start >/dev/null 2>&1
expect 7 "status before init" fmtbank status
assert_contains "$ERR" "database is not initialised" "says not initialised"
assert_contains "$ERR" 'Run "fmtbank init"' "hints at init"

start=$(date +%s.%N)
expect 0 "init" fmtbank init
end=$(date +%s.%N)
echo "# fmtbank init on a fresh home: $(echo "$end - $start" | bc) s"
assert_contains "$ERR" "applied 001_foundation.sql" "reports applied migrations"
nmig=$(ls "$FMTBANK_SRC"/schema/[0-9][0-9][0-9]_*.sql | wc -l)
assert_eq "$(sql 'select count(*) from fmtbank.schema_migration')" "$nmig" "every migration recorded"
assert_eq "$(sql "select count(*) from fmtbank.schema_migration where sha256 ~ '^[0-9a-f]{64}$'")" "$nmig" "each with a SHA-256"

before=$(audit_count)
objs=$(sql "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where nspname = 'fmtbank'")
expect 0 "second init" fmtbank init
assert_contains "$ERR" "0 migrations applied now" "second init applies nothing"
assert_eq "$(audit_count)" "$before" "second init changes no audited row"
assert_eq "$(sql "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where nspname = 'fmtbank'")" "$objs" "second init creates nothing"

expect 0 "init --demo" fmtbank init --demo
users=$(sql 'select count(*) from fmtbank.app_user')
expect 0 "init --demo again" fmtbank init --demo
assert_eq "$(sql 'select count(*) from fmtbank.app_user')" "$users" "demo data is idempotent"

# A changed applied migration is refused.
cp -r "$FMTBANK_SRC/schema" "$TMP/schema"
echo "-- edited" >>"$TMP/schema/001_foundation.sql"
FMTBANK_SCHEMA="$TMP/schema" run fmtbank init
assert_eq "$RC" "5" "changed migration refused with exit 5"
assert_contains "$ERR" 'applied migration "001_foundation.sql" has changed' "names the changed file"

# The binary knows the schema version and code set it was built with: a database behind it is
# upgraded by init (t0004-upgrade), one ahead of it is refused.
cp "$FMTBANK_SRC/schema/001_foundation.sql" "$TMP/schema/001_foundation.sql"
echo "CREATE TABLE fmtbank.t_extra (x int);" >"$TMP/schema/999_extra.sql"
FMTBANK_SCHEMA="$TMP/schema" run fmtbank init
assert_eq "$RC" "0" "init applies the new migration"
run fmtbank status
assert_eq "$RC" "7" "database newer than the binary: exit 7"
assert_contains "$ERR" "newer than this fmtbank" "says the database is newer"
sql "DROP TABLE fmtbank.t_extra; DELETE FROM fmtbank.schema_migration WHERE version = 999" >/dev/null
rm "$TMP/schema/999_extra.sql"

# The code set (schema/code): functions, views and grants, re-applied as one transaction when
# its checksum changes. A one-line fix reaches an existing database; the grant lists are the
# whole truth; a database whose code set is not the binary's is refused until init.
codes=$(sql "select count(*) from fmtbank.schema_code")
sed -i "s/'permission denied: %s requires the %s role'/'permission refused: %s requires the %s role'/" \
    "$TMP/schema/code/001_foundation.sql"
grep -q "permission refused: %s requires" "$TMP/schema/code/001_foundation.sql" ||
    not_ok "the test's one-line edit did not apply"
FMTBANK_SCHEMA="$TMP/schema" run fmtbank init
assert_eq "$RC" "0" "init with one line of code changed"
assert_contains "$ERR" "applied the code set" "re-applies the code set"
assert_contains "$ERR" "0 migrations applied now" "and no migration"
assert_eq "$(sql "select count(*) from fmtbank.schema_code")" "$((codes + 1))" "records the new set"
assert_eq "$(sql "select count(*) from pg_proc where prosrc like '%permission refused: %s requires%'")" \
    "1" "the function carries the fix"
run fmtbank --user adam status
assert_eq "$RC" "7" "a code set that is not the binary's: exit 7"
assert_contains "$ERR" "functions and views are not this fmtbank's" "says so"
assert_contains "$ERR" 'Run "fmtbank init" with this fmtbank' "hints at init"
expect 0 "init with the binary's own code set" fmtbank init
assert_contains "$ERR" "applied the code set" "puts the binary's code set back"
expect 0 "status again" fmtbank --user adam status

# A grant removed from a list is gone after init (nothing is inferred from a function's text).
cp "$FMTBANK_SRC/schema/code/"*.sql "$TMP/schema/code/"
sed -i '/^    fmtbank\.aliquot_move(text, text),$/d' "$TMP/schema/code/023_scan.sql"
assert_eq "$(sql "select has_function_privilege('alice', 'fmtbank.aliquot_move(text, text)', 'EXECUTE')")" "t" \
    "alice may move aliquots"
FMTBANK_SCHEMA="$TMP/schema" run fmtbank init
assert_eq "$RC" "0" "init with that grant removed from the list"
assert_eq "$(sql "select has_function_privilege('alice', 'fmtbank.aliquot_move(text, text)', 'EXECUTE')")" "f" \
    "alice may no longer move aliquots"
expect 0 "init restores the grant" fmtbank init
assert_eq "$(sql "select has_function_privilege('alice', 'fmtbank.aliquot_move(text, text)', 'EXECUTE')")" "t" \
    "alice may move aliquots again"

# A broken code file changes nothing.
cp "$FMTBANK_SRC/schema/code/"*.sql "$TMP/schema/code/"
printf 'CREATE OR REPLACE FUNCTION fmtbank.t_half() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\nSELECT no_such_function();\n' \
    >>"$TMP/schema/code/080_audit_anchor.sql"
codes=$(sql "select count(*) from fmtbank.schema_code")
FMTBANK_SCHEMA="$TMP/schema" run fmtbank init
assert_eq "$RC" "1" "a broken code file fails"
assert_contains "$ERR" 'code file "code/080_audit_anchor.sql" failed' "names the file"
assert_eq "$(sql "select count(*) from pg_proc where proname = 't_half'")" "0" "nothing of the set was kept"
assert_eq "$(sql "select count(*) from fmtbank.schema_code")" "$codes" "no code set recorded"
expect 0 "status: the database still has the binary's code" fmtbank --user adam status

# A failing migration leaves nothing half-applied.
cp -r "$FMTBANK_SRC/schema" "$TMP/schema2"
printf 'CREATE TABLE fmtbank.t_half (x int);\nSELECT no_such_function();\n' >"$TMP/schema2/998_broken.sql"
FMTBANK_SCHEMA="$TMP/schema2" run fmtbank init
assert_eq "$RC" "1" "broken migration fails"
assert_contains "$ERR" 'migration "998_broken.sql" failed' "names the broken migration"
assert_eq "$(sql "select count(*) from pg_class where relname = 't_half'")" "0" "nothing of it was kept"

# An installed binary (outside the build directory) reads its installed data directory, never
# the source tree it was built from; FMTBANK_SCHEMA still overrides.
mkdir -p "$TMP/installed/bin"
cp "$FMTBANK_BIN/fmtbank" "$TMP/installed/bin/fmtbank"
run "$TMP/installed/bin/fmtbank" init
assert_eq "$RC" "1" "installed binary without its data directory: init fails"
assert_contains "$ERR" "/share/fmtbank/schema" "it looked in the installed data directory"
assert_not_contains "$ERR" "$FMTBANK_SRC/schema" "not in the source tree"
FMTBANK_SCHEMA="$FMTBANK_SRC/schema" run "$TMP/installed/bin/fmtbank" init
assert_eq "$RC" "0" "FMTBANK_SCHEMA points an installed binary at a schema directory"

# An instance made by an earlier fmtbank runs its server module (home/lib, preloaded): init
# installs this fmtbank's and restarts the instance to load it, so that migrations can create the
# module's functions; an up-to-date module causes no restart.
pid_before=$(head -1 "$FMTBANK_HOME/data/postmaster.pid")
printf 'an older build' >>"$FMTBANK_HOME/lib/fmtbank_auth.so"
expect 0 "init with a stale server module" fmtbank init
assert_contains "$ERR" "the server module changed: the embedded instance was restarted" "says it restarted"
assert_eq "$(cmp -s "$FMTBANK_HOME/lib/fmtbank_auth.so" "$FMTBANK_BIN/fmtbank_auth.so" && echo same)" "same" \
    "the module installed is this fmtbank's"
assert_eq "$(sql "select count(*) from pg_catalog.pg_proc where proname = 'audit_chain_raw'")" "1" \
    "the module's functions are there"
pid_after=$(head -1 "$FMTBANK_HOME/data/postmaster.pid")
[ "$pid_before" != "$pid_after" ] && ok "a new server process" || not_ok "a new server process"
expect 0 "init again" fmtbank init
assert_not_contains "$ERR" "server module changed" "no restart when the module is current"
assert_eq "$(head -1 "$FMTBANK_HOME/data/postmaster.pid")" "$pid_after" "the same server process"
expect 0 "audit verify after the restart" fmtbank --user audrey audit verify

done_testing
