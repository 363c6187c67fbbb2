#!/usr/bin/env bash
# t0103-eligibility-scenarios: the table-driven scenario suite of the derived donor status. Every
# scenario is one donor: a clear full questionnaire today and an acceptable full panel collected
# yesterday, changed as the row says; then "donor list --format json" must give the expected
# status, failing rule (with its detail) and deferred_until. Covers every questionnaire item and
# every test of the default catalog, each deferral on the day before / the day of / the day after
# its boundary, the number ranges at their edges, missing / expired / positive / over-limit
# results, retests, and the precedence of verdicts. Finally "donor explain" must list exactly the
# failing rules "donor show" gives, for every donor.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
setup_db

# name | birth year (empty: 1990, "none": not recorded) | full questionnaire answers changed
# ("-": none recorded; "@DATE" first: dated DATE) | donation-day questionnaire "DATE item=yes ..."
# | tests left out of the panel ("ALL": no panel) | extra results TEST:RESULT:DATE[:UNIT] |
# status | failing rules expected (comma-separated; empty: no reason at all) | detail substring
# of the first of them | deferred_until
SCEN=$TMP/scenarios
{
cat <<EOF
baseline||||||eligible|||
no-questionnaire||-||||screening|questionnaire|no full questionnaire recorded|
questionnaire-60-days-old||@$(d -60)||||eligible|||
questionnaire-61-days-old||@$(d -61)||||screening|questionnaire|was valid through $(d -1)|
no-panel||||ALL||screening|test:HIV,test:MRSA,test:CRP,test:CALPRO|no acceptable result collected from $(d -60) to $(d 0)|
missing-MRSA||||MRSA||screening|test:MRSA|no acceptable result collected from $(d -60) to $(d 0)|
result-60-days-old||||CDIFF|CDIFF:negative:$(d -60)|eligible|||
result-61-days-old-expired||||CDIFF|CDIFF:negative:$(d -61)|screening|test:CDIFF|no acceptable result collected|
age-17|$((YEAR - 17))|||||deferred|age|17 in $YEAR, below the minimum 18|$((YEAR + 1))-01-01
age-18|$((YEAR - 18))|||||eligible|||
age-60|$((YEAR - 60))|||||eligible|||
age-61|$((YEAR - 61))|||||excluded|age|61 in $YEAR, above the maximum 60|
age-unknown|none|||||screening|age|birth year not recorded|
bmi-18.4||bmi=18.4||||deferred|item:bmi|18.4 on $(d 0) is outside the clear range 18.5 to 30|
bmi-18.5||bmi=18.5||||eligible|||
bmi-30||bmi=30||||eligible|||
bmi-30.1||bmi=30.1||||deferred|item:bmi|30.1 on|
phq9-0||phq9=0||||eligible|||
phq9-9||phq9=9||||eligible|||
phq9-10||phq9=10||||deferred|item:phq9|10 on $(d 0) is outside the clear range 0 to 9|
phq9-27||phq9=27||||deferred|item:phq9|27 on|
gad7-9||gad7=9||||eligible|||
gad7-10||gad7=10||||deferred|item:gad7|10 on $(d 0) is outside the clear range 0 to 9|
gad7-21||gad7=21||||deferred|item:gad7|21 on|
CRP-5-at-limit||||CRP|CRP:5:$(d -1):mg/L|eligible|||
CRP-5.1-over-limit||||CRP|CRP:5.1:$(d -1):mg/L|deferred|test:CRP|5.1 mg/L collected $(d -1) (accept <=5 mg/L)|
CALPRO-49.9||||CALPRO|CALPRO:49.9:$(d -1):ug/g|eligible|||
CALPRO-50-over-limit||||CALPRO|CALPRO:50:$(d -1):µg/g|deferred|test:CALPRO|50 µg/g collected $(d -1) (accept <50 µg/g)|
HIV-indeterminate||||HIV|HIV:indeterminate:$(d -1)|deferred|test:HIV|indeterminate collected $(d -1)|
CDIFF-indeterminate||||CDIFF|CDIFF:indeterminate:$(d -1)|deferred|test:CDIFF|indeterminate collected|
NORO-retested-later||||NORO|NORO:positive:$(d -10) NORO:negative:$(d -1)|eligible|||
NORO-retest-same-day||||NORO|NORO:positive:$(d -1) NORO:negative:$(d -1)|deferred|test:NORO|deferred until an acceptable retest|
CDIFF-positive-long-ago-retested|||||CDIFF:positive:$(d -100)|eligible|||
HIV-positive-long-ago-excludes|||||HIV:positive:$(d -100)|excluded|test:HIV|positive collected $(d -100): HIV excludes permanently|
HIV-positive-then-negative-still-excluded||||HIV|HIV:positive:$(d -10) HIV:negative:$(d -1)|excluded|test:HIV|excludes permanently|
excluded-beats-deferred||prion_risk=yes antibiotics_last=$(d -10)||||excluded|item:prion_risk,item:antibiotics_last|answered yes|
deferred-beats-screening||antibiotics_last=$(d -10)||MRSA||deferred|item:antibiotics_last,test:MRSA|last on $(d -10)|$(d 80)
latest-deferral-wins||antibiotics_last=$(d -80) covid_last=$(d -20)||||deferred|item:antibiotics_last,item:covid_last|until $(d 10)|$(d 10)
open-ended-deferral-has-no-date||bmi=31 antibiotics_last=$(d -80)||||deferred|item:antibiotics_last,item:bmi|until $(d 10)|
positive-retest-pending-has-no-date||||SALM|SALM:positive:$(d -1)|deferred|test:SALM|deferred until an acceptable retest|
EOF
for item in "${FULL_BOOL[@]}"; do
    echo "yes-$item||$item=yes||||excluded|item:$item|answered yes on $(d 0)|"
done
for item in "${!FULL_DATE[@]}"; do
    n=${FULL_DATE[$item]}
    echo "$item-day-before-end||$item=$(d $((1 - n)))||||deferred|item:$item|last on $(d $((1 - n))); deferred $n days, until $(d 1)|$(d 1)"
    echo "$item-day-of-end||$item=$(d $((0 - n)))||||eligible|||"
    echo "$item-day-after-end||$item=$(d $((-1 - n)))||||eligible|||"
done
for item in "${!SHORT[@]}"; do
    n=${SHORT[$item]}
    echo "short-$item-day-before-end|||$(d $((1 - n))) $item=yes|||deferred|item:$item|yes on the donation-day questionnaire of $(d $((1 - n))); deferred $n days, until $(d 1)|$(d 1)"
    echo "short-$item-day-of-end|||$(d $((0 - n))) $item=yes|||eligible|||"
    echo "short-$item-day-after-end|||$(d $((-1 - n))) $item=yes|||eligible|||"
done
for t in "${QUALITATIVE[@]}"; do
    if [[ " ${BLOOD_EXCLUDING[*]} " == *" $t "* ]]; then
        echo "positive-$t||||$t|$t:positive:$(d -1)|excluded|test:$t|positive collected $(d -1): $t excludes permanently|"
    else
        echo "positive-$t||||$t|$t:positive:$(d -1)|deferred|test:$t|positive collected $(d -1) (accept negative): deferred until an acceptable retest|"
    fi
done
} >"$SCEN"
nscen=$(wc -l <"$SCEN")
echo "# $nscen scenarios"

# Register the donors in one import, the panels and extra results in one import, then the
# questionnaires one by one.
echo "code,birth_year,sex" >"$TMP/donors.csv"
echo "donor,test,collected,result,unit,lab" >"$TMP/results.csv"
i=0
declare -A CODE
while IFS='|' read -r name by full short omit extra status rules detail until; do
    i=$((i + 1))
    code=$(printf 'D-%04d' $((1000 + i)))
    CODE[$name]=$code
    case "$by" in "") by=1990 ;; none) by= ;; esac
    echo "$code,$by,F" >>"$TMP/donors.csv"
    [ "$omit" = ALL ] || panel_rows "$code" "$(d -1)" $omit >>"$TMP/results.csv"
    for x in $extra; do
        IFS=: read -r t r day unit <<<"$x"
        echo "$code,$t,$day,$r,$unit,Lab B" >>"$TMP/results.csv"
    done
done <"$SCEN"
expect 0 "register $nscen scenario donors" fmtbank --user alice donor import "$TMP/donors.csv"
expect 0 "import every scenario's results" fmtbank --user alice result import "$TMP/results.csv"

while IFS='|' read -r name by full short omit extra status rules detail until; do
    code=${CODE[$name]}
    if [ "$full" != "-" ]; then
        qdate=$(d 0)
        if [[ "$full" == @* ]]; then qdate=${full%% *}; qdate=${qdate#@}; full=${full#@"$qdate"}; fi
        # shellcheck disable=SC2086
        write_full "$TMP/q.csv" $full
        run fmtbank --user alice questionnaire record "$code" --date "$qdate" --file "$TMP/q.csv"
        [ "$RC" -eq 0 ] || not_ok "$name: full questionnaire recorded" "exit $RC"
    fi
    if [ -n "$short" ]; then
        sdate=${short%% *}
        # shellcheck disable=SC2086
        write_short "$TMP/s.csv" ${short#* }
        run fmtbank --user alice questionnaire record "$code" --date "$sdate" --short --file "$TMP/s.csv"
        [ "$RC" -eq 0 ] || not_ok "$name: donation-day questionnaire recorded" "exit $RC"
    fi
done <"$SCEN"

expect 0 "donor list --format json" fmtbank --user audrey --format json donor list
printf '%s\n' "$OUT" >"$TMP/list.json"

while IFS='|' read -r name by full short omit extra status rules detail until; do
    code=${CODE[$name]}
    got=$(donor_field "$TMP/list.json" "$code" status)
    assert_eq "$got" "$status" "$name: status $status"
    reasons=$(donor_field "$TMP/list.json" "$code" reasons)
    if [ -z "$rules" ]; then
        assert_eq "$reasons" "" "$name: no reasons"
    else
        IFS=, read -ra want <<<"$rules"
        for r in "${want[@]}"; do
            if grep -q "^$r	" <<<"$reasons"; then ok "$name: reason $r"; else
                not_ok "$name: reason $r" "reasons: $reasons"; fi
        done
        first=$(grep "^${want[0]}	" <<<"$reasons" | cut -f2)
        assert_contains "$first" "$detail" "$name: ${want[0]} says \"$detail\""
    fi
    assert_eq "$(donor_field "$TMP/list.json" "$code" deferred_until)" "$until" "$name: deferred_until '$until'"
done <"$SCEN"

# next_screening_due: the last day every required result and the questionnaire are valid
assert_eq "$(donor_field "$TMP/list.json" "${CODE[baseline]}" next_screening_due)" "$(d 59)" \
    "baseline: next screening due 60 days after the panel"
assert_eq "$(donor_field "$TMP/list.json" "${CODE[result-60-days-old]}" next_screening_due)" "$(d 0)" \
    "a result valid through today makes the screening due today"
assert_eq "$(donor_field "$TMP/list.json" "${CODE[questionnaire-60-days-old]}" next_screening_due)" "$(d 0)" \
    "a questionnaire valid through today makes the screening due today"
assert_eq "$(donor_field "$TMP/list.json" "${CODE[no-panel]}" next_screening_due)" "$(d 0)" \
    "screening donor: due now"
assert_eq "$(donor_field "$TMP/list.json" "${CODE[age-61]}" next_screening_due)" "" \
    "excluded donor: no next screening"
assert_eq "$(donor_field "$TMP/list.json" "${CODE[latest-deferral-wins]}" next_screening_due)" "$(d 59)" \
    "deferred donor: next screening no earlier than the results' validity"
assert_eq "$(donor_field "$TMP/list.json" "${CODE[no-panel]}" reasons | grep -c '^test:')" "40" \
    "no panel: one reason per test of the catalog"

# the same verdicts one by one, and explain agrees with show for every donor
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
assert_eq "$(grep -c '^item:' <<<"$OUT")" "39" "explain lists every answered item (33 full, 6 donation-day)"
assert_eq "$(explain_mismatches)" "0" "for every donor, explain's failing rules are show's reasons"
expect 0 "donor list --status deferred" fmtbank --user audrey --format json donor list --status deferred
ndef=$(grep -c '|deferred|' "$SCEN")
assert_eq "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$OUT")" "$ndef" \
    "donor list --status deferred lists the $ndef deferred scenarios"
expect 2 "donor list --status with an unknown state" fmtbank donor list --status happy
assert_contains "$ERR" 'invalid value "happy" for "--status"' "names the bad state"
expect 0 "status counts donors by derived state" fmtbank --format json status
assert_contains "$OUT" "\"state\" : \"deferred\", \"count\" : $ndef" "status: deferred count"

done_testing
