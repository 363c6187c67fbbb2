#!/usr/bin/env bash
# t0103-eligibility-scenarios: the CLI contract of the derived donor status. The rule scenarios
# themselves (every item, every test, every boundary: 156 donors) are in the SQL regression layer,
# tests/sql/sql/eligibility.sql; here a few donors recorded through the commands a technician uses
# must come out of "donor list", "donor show", "donor explain" and "status" with the fields,
# formats and filters product.md gives.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
setup_db

# name | full questionnaire answers changed | tests left out of the panel (ALL: none) | extra
# results TEST:RESULT:DATE | status | first failing rule | deferred_until
SCEN=$TMP/scenarios
cat >"$SCEN" <<EOF
baseline||||eligible||
bmi-18.4|bmi=18.4|||deferred|item:bmi|
antibiotics|antibiotics_last=$(d -10)|||deferred|item:antibiotics_last|$(d 80)
no-panel||ALL||screening|test:HIV|
positive-HIV||HIV|HIV:positive:$(d -1)|excluded|test:HIV|
EOF

echo "code,birth_year,sex" >"$TMP/donors.csv"
echo "donor,test,collected,result,unit,lab" >"$TMP/results.csv"
i=0
declare -A CODE
while IFS='|' read -r name full omit extra status rule until; do
    i=$((i + 1))
    code=$(printf 'D-%04d' $((1000 + i)))
    CODE[$name]=$code
    echo "$code,1990,F" >>"$TMP/donors.csv"
    # shellcheck disable=SC2086
    [ "$omit" = ALL ] || panel_rows "$code" "$(d -1)" $omit >>"$TMP/results.csv"
    for x in $extra; do
        IFS=: read -r t r day <<<"$x"
        echo "$code,$t,$day,$r,,Lab B" >>"$TMP/results.csv"
    done
done <"$SCEN"
expect 0 "register the donors" fmtbank --user alice donor import "$TMP/donors.csv"
expect 0 "import their results" fmtbank --user alice result import "$TMP/results.csv"
while IFS='|' read -r name full omit extra status rule until; do
    # shellcheck disable=SC2086
    write_full "$TMP/q.csv" $full
    expect 0 "$name: full questionnaire recorded" \
        fmtbank --user alice questionnaire record "${CODE[$name]}" --date "$(d 0)" --file "$TMP/q.csv"
done <"$SCEN"

expect 0 "donor list --format json" fmtbank --user audrey --format json donor list
printf '%s\n' "$OUT" >"$TMP/list.json"
while IFS='|' read -r name full omit extra status rule until; do
    code=${CODE[$name]}
    assert_eq "$(donor_field "$TMP/list.json" "$code" status)" "$status" "$name: status $status"
    first=$(donor_field "$TMP/list.json" "$code" reasons | head -1 | cut -f1)
    assert_eq "$first" "$rule" "$name: first reason '$rule'"
    assert_eq "$(donor_field "$TMP/list.json" "$code" deferred_until)" "$until" "$name: deferred_until '$until'"
done <"$SCEN"
assert_eq "$(donor_field "$TMP/list.json" "${CODE[baseline]}" next_screening_due)" "$(d 59)" \
    "next_screening_due: 60 days after the panel"
assert_eq "$(donor_field "$TMP/list.json" "${CODE[no-panel]}" reasons | grep -c '^test:')" "40" \
    "no panel: one reason per test of the catalog"

expect 0 "donor show" fmtbank --user audrey --format json donor show "${CODE[positive-HIV]}"
assert_contains "$OUT" '"status":"excluded"' "donor show: status"
assert_contains "$OUT" '"reasons":[{"rule": "test:HIV"' "donor show: reasons array of {rule, detail}"
assert_contains "$OUT" '"next_screening_due":null' "donor show: next_screening_due field"
assert_contains "$OUT" '"deferred_until":null' "donor show: deferred_until field"
expect 0 "donor explain" fmtbank --user audrey donor explain "${CODE[bmi-18.4]}"
assert_eq "$(grep -cE '^item:bmi +deferred +18.4 on' <<<"$OUT")" "1" "explain: the failing rule"
assert_eq "$(grep -cE '^item:antibiotics_last +pass +never' <<<"$OUT")" "1" "explain: a passing item"
assert_eq "$(grep -cE "^test:CALPRO +pass +20 µg/g collected $(d -1), valid through $(d 59)" <<<"$OUT")" "1" \
    "explain: a passing test with its result"
assert_eq "$(grep -c '^test:' <<<"$OUT")" "40" "explain lists every test"
assert_eq "$(explain_mismatches)" "0" "for every donor, explain's failing rules are show's reasons"

expect 0 "donor list --status deferred" fmtbank --user audrey --format json donor list --status deferred
assert_eq "$(python3 -c 'import json,sys; print(sorted(r["code"] for r in json.load(sys.stdin)))' <<<"$OUT")" \
    "['${CODE[bmi-18.4]}', '${CODE[antibiotics]}']" "donor list --status deferred lists exactly the deferred donors"
expect 2 "donor list --status with an unknown state" fmtbank donor list --status happy
assert_contains "$ERR" 'invalid value "happy" for "--status"' "names the bad state"
expect 0 "status counts donors by derived state" fmtbank --format json status
assert_contains "$OUT" '"state" : "deferred", "count" : 2' "status: deferred count"
assert_contains "$OUT" '"state" : "excluded", "count" : 1' "status: excluded count"

done_testing
