#!/usr/bin/env bash
# t0006-upgrade-v210: a database made by fmtbank 836bd43 (schema version 210: catalog versions,
# consent, recorded versions, vigilance, the incremental sweep, the audit chain in the server
# module, signature meanings; data/upgrade/v210-demo.sql.gz is a pg_dump of the demo workflow's
# database and its roles) is upgraded by "fmtbank init" to this fmtbank's schema: its material,
# people and audit chain survive untouched, and its functions, views and privileges end up
# exactly those of a database created fresh. While this fmtbank is itself at version 210 the
# test shows that init applies nothing to it; every later migration is upgraded from here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/upgrade_lib.sh"

restore_fixture v210-demo.sql.gz
assert_eq "$(sql 'select max(version) from fmtbank.schema_migration')" "210" "the fixture is at version 210"
latest=$(basename "$(ls "$FMTBANK_SRC"/schema/[0-9][0-9][0-9]_*.sql | sort | tail -1)")
target=$((10#${latest:0:3}))

counts_before=$(sql "select entity || ' ' || state || ' ' || n from fmtbank.status_counts order by 1")
audit_before=$(audit_count)
assert_contains "$counts_before" "lot released" "the fixture has released lots"
if [ "$target" -gt 210 ]; then
    expect 7 "status on the old database" fmtbank --user adam status
    assert_contains "$ERR" "database schema is at version 210, this fmtbank needs $target" "says the database is behind"
    expect 0 "init upgrades it" fmtbank init
    assert_contains "$ERR" "applied $latest" "applies the new migrations up to $latest"
    assert_not_contains "$ERR" "applied 210_" "old migrations are not applied again"
else
    expect 0 "init on a database at this fmtbank's version" fmtbank init
    assert_contains "$ERR" "0 migrations applied now" "applies no migration"
fi
assert_eq "$(sql 'select max(version) from fmtbank.schema_migration')" "$target" "the database is at version $target"

expect 0 "status after the upgrade" fmtbank --user adam --format json status
assert_eq "$(sql "select entity || ' ' || state || ' ' || n from fmtbank.status_counts order by 1")" \
    "$counts_before" "the counts by state are the same"
expect 0 "the audit chain verifies across the upgrade" fmtbank --user audrey audit verify
# Migrations add catalog and site data; none touches a donor, a lot, a tube, a result, a case or
# a person.
assert_eq "$(sql "select coalesce(string_agg(DISTINCT tbl || ' ' || op, ', '), 'none')
                  from fmtbank.audit_log where id > $(sql 'select max(id) from fmtbank.audit_log') - ($(audit_count) - $audit_before)
                  and tbl in ('aliquot', 'app_user', 'box', 'case_decision', 'case_hold', 'custody_event',
                              'donor', 'donor_consent', 'freezer', 'label_print', 'lot', 'password_event',
                              'placement', 'questionnaire', 'questionnaire_answer', 'release_signature',
                              'result', 'safety_case', 'signature_attempt')")" \
    "none" "the upgrade changed no material, person, case or signature"

# The demo's material reads as before, and people still sign in with their passwords.
expect 0 "a released lot reads" fmtbank --user quinn lot show L26000002R
assert_contains "$OUT" "released" "still released"
expect 0 "donor explain" fmtbank --user alice donor explain D-0001
expect 0 "the catalog keeps the mpox test the demo added" fmtbank --user audrey --format tsv catalog tests
assert_contains "$OUT" "MPOX" "MPOX in force"
expect 0 "the trace of the released lot" fmtbank --user quinn trace L26000002R

same_as_fresh

expect 0 "a second init applies nothing" fmtbank init
assert_contains "$ERR" "0 migrations applied now" "no migration"
assert_not_contains "$ERR" "applied the code set" "and not the code set again"

done_testing
