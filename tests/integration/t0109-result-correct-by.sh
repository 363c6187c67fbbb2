#!/usr/bin/env bash
# t0109-result-correct-by: "result correct CODE TEST --collected D --result R" (issue 14, item 6):
# the one result in force of that donor, test and day is corrected without copying its UUID (the
# UUID form stays); more than one in force is refused (exit 5) listing the candidates with their
# IDs and changing nothing; none is not found; the usage errors; psql callers meet the same rules.
. "$(dirname "$0")/lib.sh"
setup_db
d() { date -d "$1 day" +%F; }
rcount() { sql "SELECT count(*) FROM fmtbank.result"; }
Y=$(d -3)

expect 0 "a result" fmtbank --user alice result add D-0001 HIV --collected "$Y" --result negative --lab "Lab A"
r1=$OUT
expect 0 "a second lab's result the same day, other test" fmtbank --user alice result add D-0001 NORO --collected "$Y" --result negative --lab "Lab A"

# ---- by donor, test and day
expect 3 "a correction needs a reason" fmtbank --user alice result correct D-0001 HIV --collected "$Y" --result positive
assert_contains "$ERR" "requires a reason" "says why"
expect 0 "correct by donor, test and day" fmtbank --user alice --reason "lab reissued" result correct d-0001 hiv --collected "$Y" --result positive
r2=$OUT
[[ "$r2" =~ ^[0-9a-f-]{36}$ ]] && ok "prints the new ID" || not_ok "prints the new ID"
assert_eq "$(sql "SELECT supersedes || '|' || result || '|' || coalesce(lab, '') FROM fmtbank.result WHERE id = '$r2'")" "$r1|positive|Lab A" "it supersedes that result, lab kept"
assert_eq "$(sql "SELECT superseded_at IS NOT NULL FROM fmtbank.result WHERE id = '$r1'")" "t" "the original is superseded"
assert_eq "$(sql "SELECT count(*) FROM fmtbank.result r JOIN fmtbank.screening_test t USING (test_no) WHERE t.code = 'NORO' AND r.superseded_at IS NOT NULL")" "0" "the other test untouched"
# again: the correction is now the one in force
expect 0 "correct the correction the same way" fmtbank --user alice --reason "second reissue" result correct D-0001 HIV --collected "$Y" --result negative
assert_eq "$(sql "SELECT supersedes FROM fmtbank.result WHERE id = '$OUT'")" "$r2" "the newest version is corrected"

# ---- the UUID form stays
expect 0 "correct by ID" fmtbank --user alice --reason "by id" result correct "$OUT" --result positive
assert_eq "$(sql "SELECT result FROM fmtbank.result WHERE supersedes IS NOT NULL ORDER BY recorded_at DESC LIMIT 1")" "positive" "corrected"

# ---- two results in force for the day: refused, listing both, nothing changed
expect 0 "a second lab's HAV result" fmtbank --user alice result add D-0001 HAV_IGM --collected "$Y" --result negative --lab "Lab A"
a1=$OUT
expect 0 "another lab's HAV result the same day" fmtbank --user alice result add D-0001 HAV_IGM --collected "$Y" --result indeterminate --lab "Lab B"
a2=$OUT
n0=$(rcount); l0=$(audit_count)
expect 5 "two HAV results that day: refused" fmtbank --user alice --reason "x" result correct D-0001 HAV_IGM --collected "$Y" --result negative
assert_contains "$ERR" "2 results of HAV_IGM collected $Y are in force for donor \"D-0001\": say which one" "says there are two"
assert_contains "$ERR" "$a1: negative, lab Lab A" "lists the first with its ID"
assert_contains "$ERR" "$a2: indeterminate, lab Lab B" "lists the second with its ID"
assert_contains "$ERR" "result correct ID" "says how to name one"
assert_eq "$OUT" "" "prints no ID"
assert_eq "$(rcount)/$(audit_count)" "$n0/$l0" "nothing stored, nothing audited"
expect 0 "then by its ID" fmtbank --user alice --reason "Lab B re-read" result correct "$a2" --result negative
expect 0 "both HAV results stay in force" fmtbank --user alice result list D-0001 --test HAV_IGM --current
assert_eq "$(tail -n +3 <<<"$OUT" | grep -c ' negative ')" "2" "both in force, both negative"

# ---- none, unknown test, bad day, bad donor
expect 4 "no result that day" fmtbank --user alice --reason "x" result correct D-0001 HIV --collected "$(d -4)" --result negative
assert_contains "$ERR" "no result of HIV collected $(d -4) for donor \"D-0001\"" "says so"
expect 3 "an unknown test" fmtbank --user alice --reason "x" result correct D-0001 FOO --collected "$Y" --result negative
assert_contains "$ERR" 'unknown test "FOO"' "names it"
expect 3 "a malformed day" fmtbank --user alice --reason "x" result correct D-0001 HIV --collected 03/12/2026 --result negative
assert_contains "$ERR" '--collected' "names the option"
expect 4 "an unknown donor" fmtbank --user alice --reason "x" result correct D-9999 HIV --collected "$Y" --result negative

# ---- usage
expect 2 "CODE TEST without --collected" fmtbank --user alice --reason "x" result correct D-0001 HIV --result negative
assert_contains "$ERR" "missing --collected" "names it"
expect 2 "an ID with --collected" fmtbank --user alice --reason "x" result correct "$a1" --collected "$Y" --result negative
assert_contains "$ERR" "--collected goes with CODE TEST" "says so"
expect 2 "three positionals" fmtbank --user alice --reason "x" result correct D-0001 HIV X --collected "$Y" --result negative
expect 0 "help shows both forms" fmtbank result correct --help
assert_contains "$OUT" "ID | CODE TEST" "the usage line"

# ---- the rules hold for psql callers too
n0=$(rcount)
sql_as audrey "SELECT fmtbank.result_correct_by('D-0001', 'HIV', '$Y', 'negative', NULL)"
assert_contains "$ERR" "permission denied: correcting results requires" "an auditor may not correct"
sql_as alice "SET fmtbank.reason = 'psql'; SELECT fmtbank.result_correct_by('D-0001', 'HAV_IGM', '$Y', 'positive', NULL)"
assert_contains "$ERR" "are in force for donor" "the ambiguity is refused in the database"
assert_eq "$(rcount)" "$n0" "nothing stored"

done_testing
