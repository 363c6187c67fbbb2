#!/usr/bin/env bash
# t0004-upgrade: a database made by an earlier fmtbank (schema version 80, before the code set:
# data/upgrade/v080-demo.sql.gz is a pg_dump of the demo workflow's database and its roles, made
# by commit 81cb3f6) is upgraded by "fmtbank init": its data, audit chain and counts survive, and
# its functions, views and privileges end up exactly those of a database created fresh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/upgrade_lib.sh"

# The fixture: roles (passwords valid without end), then the database.
restore_fixture v080-demo.sql.gz
assert_eq "$(sql 'select max(version) from fmtbank.schema_migration')" "80" "the fixture is at version 80"

expect 7 "status on the old database" fmtbank --user adam status
assert_contains "$ERR" "database schema is at version 80, this fmtbank needs" "says the database is behind"
assert_contains "$ERR" 'Run "fmtbank init" to upgrade it.' "hints at init"

counts_before=$(sql "select entity || ' ' || state || ' ' || n from fmtbank.status_counts order by 1")
audit_before=$(audit_count)
expect 0 "init upgrades it" fmtbank init
assert_contains "$ERR" "applied 090_code_set.sql" "applies the new migrations"
assert_contains "$ERR" "applied the code set" "applies the code set"
assert_not_contains "$ERR" "applied 001_foundation.sql" "old migrations are not applied again"

expect 0 "status after the upgrade" fmtbank --user adam --format json status
assert_eq "$(sql "select entity || ' ' || state || ' ' || n from fmtbank.status_counts order by 1")" \
    "$counts_before" "the counts by state are the same (from the status registry now)"
assert_contains "$counts_before" "lot released" "the fixture has released lots"
expect 0 "the audit chain verifies across the upgrade" fmtbank --user audrey audit verify
# the migrations add catalog data (new rule parameters and questionnaire items, the first catalog
# version of 140 with its test and item definitions, audited like any catalog change, the score
# instruments of 170, the release signature meanings of 210) and the
# daemon's sweep steps (110 freezer, 140 catalog), and nothing else
assert_eq "$(sql "select string_agg(DISTINCT tbl || ' ' || op, ', ' ORDER BY tbl || ' ' || op)
                  from fmtbank.audit_log where id > (select max(id) from fmtbank.audit_log) - ($(audit_count) - $audit_before)")" \
    "catalog_version INSERT, question_item INSERT, question_item UPDATE, question_item_def INSERT, result_wording INSERT, rule_param INSERT, rule_param_value INSERT, score_instrument INSERT, screening_test_def INSERT, signature_meaning INSERT, sweep_step INSERT, unit_equivalence INSERT" \
    "the upgrade audited only the catalog data and the sweep step it adds"
expect 0 "a released lot reads" fmtbank --user quinn lot show L26000002R
assert_contains "$OUT" "released" "still released"
# migration 160 backfills the recorded versions of lots, tubes and placements from the audit
# trail: the history of the released lot, each current version equal to its row, every stored
# tube's stay, and an --as-of answer from before the release
assert_eq "$(sql "select string_agg(v.row ->> 'status', ',' order by v.valid_from) from fmtbank.lot_version v
                  join fmtbank.lot l on l.id = v.lot where l.lot_id = 'L26000002R'")" \
    "quarantine,quarantine,ready,released" "the released lot's versions: entered, processed, ready, released"
assert_eq "$(sql "select count(*) from fmtbank.lot l left join fmtbank.lot_version v on v.lot = l.id
                  and v.valid_to is null and v.row = to_jsonb(l) where v.lot is null")
$(sql "select count(*) from fmtbank.aliquot a left join fmtbank.aliquot_version v on v.aliquot = a.id
       and v.valid_to is null and v.row = to_jsonb(a) where v.aliquot is null")
$(sql "select count(*) from fmtbank.placement p left join fmtbank.placement_version v
       on v.aliquot = p.aliquot and v.valid_to is null and (v.box, v.prow, v.pcol) = (p.box, p.prow, p.pcol)
       where p.aliquot is not null and v.aliquot is null")" $'0\n0\n0' "every lot, tube and stored tube has its current version"
before_release=$(sql "select signed_at - interval '1 millisecond' from fmtbank.release_signature s
                      join fmtbank.lot l on l.id = s.lot where l.lot_id = 'L26000002R'")
expect 0 "the released lot as of just before its release" fmtbank --user quinn --format json lot show L26000002R --as-of "$before_release"
assert_contains "$OUT" '"stored_status" : "quarantine"' "stored quarantine then (the release stored ready and released in one transaction)"
assert_contains "$OUT" '"released_at" : null' "not yet released"
expect 0 "donor explain" fmtbank --user alice donor explain D-0001

# The same functions, views and grants as a database created by this fmtbank from nothing.
same_as_fresh

expect 0 "a second init applies nothing" fmtbank init
assert_contains "$ERR" "0 migrations applied now" "no migration"
assert_not_contains "$ERR" "applied the code set" "and not the code set again"

done_testing
