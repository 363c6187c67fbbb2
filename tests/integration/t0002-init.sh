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

# A newer migration than the database has: other commands ask for init.
cp "$FMTBANK_SRC/schema/001_foundation.sql" "$TMP/schema/001_foundation.sql"
echo "CREATE TABLE fmtbank.t_extra (x int);" >"$TMP/schema/999_extra.sql"
FMTBANK_SCHEMA="$TMP/schema" run fmtbank status
assert_eq "$RC" "7" "schema behind the binary: exit 7"
assert_contains "$ERR" "this fmtbank needs 999" "says which version is needed"
FMTBANK_SCHEMA="$TMP/schema" run fmtbank init
assert_eq "$RC" "0" "init applies the new migration"
run fmtbank status
assert_eq "$RC" "7" "database newer than the binary: exit 7"
assert_contains "$ERR" "newer than this fmtbank" "says the database is newer"

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

done_testing
