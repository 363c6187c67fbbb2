#!/usr/bin/env bash
# t0110-catalog-change: the CLI contract of "catalog test|question add|change|retire", "catalog
# history" and "catalog reinterview" (product.md §12): a new pathogen added by an administrator in
# one command with every effect (donors screening again, an unreleased lot not ready, released
# stock held by a catalog case, a lot's retained sample satisfying the test for that lot), past
# answers byte-identical ("donor explain --as-of", "catalog tests --as-of"), a change scheduled
# for later carried out by the daemon when its time comes, usage errors (exit 2), bad input (3),
# refusals (5) and roles (6). The rule scenarios are in tests/sql/sql/catalog.sql.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/release_lib.sh"
setup_db

admin() { fmtbank --user adam --reason "${REASON:-FDA 2022 mpox alert}" "$@"; }
add_mpox() {
    admin catalog test add MPOX --name "mpox PCR" --specimen rectal_swab --phases pre,post \
        --accept negative --validity-days 60 --source FDA22 "$@"
}

rel_donor D-7101
write_full "$TMP/q.csv"
fmtbank --user alice questionnaire record D-7101 --date "$(d 0)" --file "$TMP/q.csv" >/dev/null
rel_panel D-7101 "$(d -75)"; rel_panel D-7101 "$(d -45)"; rel_panel D-7101 "$(d -1)"
REL=$(rel_lot_full D-7101 70)
OLD=$(rel_lot_full D-7101 120)
NEW=$(rel_lot_full D-7101 40)
rel_panel D-7101 "$(d -125)"; rel_panel D-7101 "$(d -100)"
sign "$REL"
sign "$OLD"
assert_eq "$(lot_stored "$REL"),$(lot_stored "$OLD")" "released,released" "two lots released"
assert_eq "$(lot_rules "$NEW")" "" "the lot of d-40 is ready"

T1=$(sql "select clock_timestamp()")
expect 0 "explain before" fmtbank --user audrey --format json donor explain D-7101 --as-of "$T1"
BEFORE=$OUT
assert_contains "$BEFORE" '"status":"eligible"' "eligible before"
expect 0 "catalog tests before" fmtbank --user audrey catalog tests --as-of "$T1"
TESTS_BEFORE=$OUT

# ---------------------------------------------------------------- usage, input, roles
expect 2 "add without its options" admin catalog test add MPOX --name "mpox PCR"
assert_contains "$ERR" "missing --specimen" "names the first missing option"
expect 2 "a specimen not in the list" add_mpox --specimen blood
assert_contains "$ERR" 'invalid value "blood" for "--specimen"' "names the value"
expect 2 "a phase not in the list" admin catalog test add MPOX --name x --specimen stool --phases during \
    --accept negative --validity-days 60 --source s
expect 2 "no code" admin catalog test add --name x
expect 2 "catalog test alone lists its commands" fmtbank catalog test
assert_contains "$ERR" "catalog test retire" "lists retire"
expect 0 "catalog test --help" fmtbank catalog test --help
assert_contains "$OUT" "catalog test add" "lists add"
expect 0 "catalog test add --help" fmtbank catalog test add --help
assert_contains "$OUT" "--applies-from DATE" "documents --applies-from"
assert_contains "$OUT" "Admin only, with --reason" "says who may"
expect 3 "an accept rule that is not one" admin catalog test add MPOX --name x --specimen stool \
    --phases pre --accept absent --validity-days 60 --source s
assert_contains "$ERR" 'invalid --accept "absent"' "names the field"
expect 3 "a limit without its unit" admin catalog test add MPOX --name x --specimen stool \
    --phases pre --accept '<=5' --validity-days 60 --source s
assert_contains "$ERR" "needs the unit" "says what is missing"
expect 3 "validity out of range" add_mpox --validity-days 0
expect 3 "an effective time in the past" add_mpox --effective 2020-01-01
assert_contains "$ERR" "is not in the future" "says why"
expect 3 "no reason" fmtbank --user adam catalog test add MPOX --name x --specimen stool --phases pre \
    --accept negative --validity-days 60 --source s
assert_contains "$ERR" "requires a reason" "asks for a reason"
expect 6 "a quality officer may not" fmtbank --user quinn --reason x catalog test add MPOX --name x \
    --specimen stool --phases pre --accept negative --validity-days 60 --source s
assert_contains "$ERR" "requires the admin role" "names the role"
expect 5 "a code that exists" admin catalog test add HIV --name x --specimen serum --phases pre \
    --accept negative --validity-days 60 --source s
assert_eq "$(sql "SELECT count(*) FROM fmtbank.catalog_version")" "1" "nothing stored by the refusals"

# ---------------------------------------------------------------- mpox as data, one command
expect 0 "add mpox" add_mpox --applies-from "$(d -90)"
assert_eq "$OUT" "2" "prints the catalog version"
assert_contains "$ERR" "catalog version 2: add MPOX" "says what it did"
assert_contains "$ERR" "holds 1 released lot(s) never tested for MPOX" "a catalog case holds the released stock"
assert_eq "$(sql "select held from fmtbank.lot_show('$REL')")" "t" "the released lot of d-70 is held"
assert_eq "$(sql "select held from fmtbank.lot_show('$OLD')")" "f" "the lot of d-120, before --applies-from, is not"
expect 0 "explain now" fmtbank --user audrey --format json donor explain D-7101
assert_contains "$OUT" '"status":"screening"' "the donor is screening again"
assert_contains "$OUT" '"rule" : "test:MPOX", "verdict" : "screening"' "for want of an mpox result"
expect 5 "release check of the unreleased lot" fmtbank --user quinn release check "$NEW"
assert_contains "$OUT$ERR" "MPOX" "not ready until tested for mpox"
expect 0 "explain --as-of before the change" fmtbank --user audrey --format json donor explain D-7101 --as-of "$T1"
assert_eq "$OUT" "$BEFORE" "as of before the change: byte for byte what was said then"
expect 0 "catalog tests --as-of before" fmtbank --user audrey catalog tests --as-of "$T1"
assert_eq "$OUT" "$TESTS_BEFORE" "the catalog then, unchanged"
expect 0 "catalog tests now" fmtbank --user audrey --format json catalog tests
assert_contains "$OUT" '"code":"MPOX","name":"mpox PCR","specimen":"rectal swab"' "mpox in force now"
expect 0 "catalog history" fmtbank --user audrey catalog history MPOX
assert_contains "$OUT" "FDA 2022 mpox alert" "the change with its reason"
assert_contains "$OUT" "$(d -90)" "and the day it applies from"

# the lot's retained sample tested for mpox satisfies the test for that lot
mapfile -t NA < <(aliquots_of "$NEW")
expect 0 "an mpox result on the retained sample" fmtbank --user alice result add D-7101 MPOX \
    --collected "$(d -40)" --result "Not detected" --specimen "${NA[0]}"
expect 0 "release check after" fmtbank --user quinn release check "$NEW"

# ---------------------------------------------------------------- change, retire, items
expect 0 "change the validity" admin catalog test change MPOX --validity-days 90
expect 5 "the same again" admin catalog test change MPOX --validity-days 90
assert_contains "$ERR" "nothing to change" "says so"
expect 4 "change an unknown test" admin catalog test change NOPE --name x
expect 0 "retire a test" admin catalog test retire MRSA
expect 5 "retire it again" admin catalog test retire MRSA
assert_contains "$ERR" 'test "MRSA" is retired' "says so"
expect 0 "add an item" admin catalog question add mpox_contact_last --questionnaire full --type date \
    --effect defer --text "When did you last have close contact with someone with mpox?" \
    --defer-days 21 --lookback-days 21 --source FDA22
expect 0 "donors to re-interview" fmtbank --user alice catalog reinterview mpox_contact_last
assert_contains "$OUT" "D-7101" "the donor whose last full questionnaire did not ask it"
expect 3 "a full questionnaire without it" fmtbank --user alice questionnaire record D-7101 --date "$(d 0)" \
    --file "$TMP/q.csv"
assert_contains "$ERR" 'missing item "mpox_contact_last"' "names the new item"
expect 2 "an item type not in the list" admin catalog question add x_last --questionnaire full \
    --type number --effect defer --text t --source s
expect 3 "a deferring item without its period" admin catalog question add x_last --questionnaire full \
    --type date --effect defer --text t --source s
assert_contains "$ERR" "needs --defer-days" "says what is missing"

# ---------------------------------------------------------------- a change for later: the daemon
EFF=$(sql "select to_char(date_trunc('second', clock_timestamp()) + interval '3 seconds', 'YYYY-MM-DD HH24:MI:SS')")
expect 0 "a test required from a moment ahead" admin catalog test add ESBLX --name "ESBL swab" \
    --specimen rectal_swab --phases pre --accept negative --validity-days 90 --source site --effective "$EFF"
assert_contains "$ERR" "effective $EFF" "effective then"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.screening_test_at() WHERE code = 'ESBLX'")" "0" "not in force yet"
expect 5 "no change before it takes effect" admin catalog test change ESBLX --name y
assert_contains "$ERR" "is not in force yet" "says when"
past_eff() { [ "$(sql "SELECT clock_timestamp() > '$EFF'")" = t ]; }
wait_until 10 past_eff || not_ok "the effective time never came"
assert_eq "$(sql "SELECT taken_at IS NULL FROM fmtbank.catalog_version WHERE code = 'ESBLX'")" "t" \
    "in force, not yet carried out"
expect 0 "the daemon's pass" fmtbankd --once
assert_eq "$(sql "SELECT case_code IS NOT NULL FROM fmtbank.catalog_history WHERE code = 'ESBLX'")" "t" \
    "the daemon opened its catalog case"
assert_contains "$(sql "SELECT string_agg(h ->> 'source', ',') FROM fmtbank.lot_show('$OLD') s,
                        jsonb_array_elements(s.holds) h")" "catalog" "holding the released lots never tested for it"
check_daemon_logs
done_testing
