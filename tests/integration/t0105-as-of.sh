#!/usr/bin/env bash
# t0105-as-of: "donor explain --as-of" reproduces a past verdict exactly (byte for byte) after
# later results, corrections, questionnaires, manual decisions and a rule change; as-of before a
# donor was registered; dates and timestamps for --as-of.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
setup_db

now_ts() { sql "select clock_timestamp()"; }
explain_json() { fmtbank --user audrey --format json donor explain "$1" --as-of "$2"; }
explain_table() { fmtbank --user audrey donor explain "$1" --as-of "$2"; }

write_full "$TMP/q.csv" bmi=29
{ echo "donor,test,collected,result,unit,lab"; panel_rows D-0001 "$(d -2)"; } >"$TMP/p.csv"
fmtbank --user alice result import "$TMP/p.csv" >/dev/null
fmtbank --user alice questionnaire record D-0001 --date "$(d -1)" --file "$TMP/q.csv" >/dev/null

# T1: eligible. Keep what explain said then.
sleep 0.01
T1=$(now_ts)
explain_json D-0001 "$T1" >"$TMP/t1.json"
explain_table D-0001 "$T1" >"$TMP/t1.txt"
assert_contains "$(cat "$TMP/t1.json")" '"status":"eligible"' "T1: eligible"
assert_contains "$(cat "$TMP/t1.json")" '"rule_set_version":1' "T1: rule set version 1"
sleep 0.01

# later data: a positive result, a correction, a new questionnaire, a manual decision
expect 0 "a later positive CDIFF" fmtbank --user alice result add D-0001 CDIFF --collected "$(d 0)" --result positive
T2=$(now_ts)
explain_json D-0001 "$T2" >"$TMP/t2.json"
assert_contains "$(cat "$TMP/t2.json")" '"status":"deferred"' "T2: deferred by the positive"
sleep 0.01
hiv=$(sql "select r.id from fmtbank.result r where r.test_no = 0 and r.donor_id = (fmtbank.donor_get('D-0001')).id")
expect 0 "a later correction of HIV to positive" fmtbank --user alice --reason "lab error" result correct "$hiv" --result positive
write_full "$TMP/q2.csv" bmi=29 antibiotics_last="$(d -3)"
expect 0 "a later questionnaire, superseding" fmtbank --user alice --reason "antibiotics forgotten" questionnaire record D-0001 --date "$(d -1)" --file "$TMP/q2.csv"
expect 0 "a later manual deferral" fmtbank --user quinn --reason "review" donor defer D-0001 --until "$(d 20)"
expect 0 "now: excluded" fmtbank --format json donor show D-0001
assert_contains "$OUT" '"status":"excluded"' "now excluded by the corrected HIV"

# ... then a rule change: bmi_max 28 would defer the donor's BMI of 29
T3=$(now_ts)
explain_json D-0001 "$T3" >"$TMP/t3.json"
sleep 0.01
expect 0 "a rule change" fmtbank --user adam --reason "stricter BMI" rules set bmi_max 28
expect 0 "explain now" fmtbank --format json donor explain D-0001
assert_contains "$OUT" '"rule_set_version":2' "now: rule set version 2"
assert_contains "$OUT" '"rule" : "item:bmi", "verdict" : "deferred", "until" : null, "detail" : "29 on '"$(d -1)"' is outside the clear range 18.5 to 28"' \
    "now: BMI 29 deferred under the new rule"

# the past verdicts, reproduced exactly
expect 0 "explain --as-of T1 after all that" explain_json D-0001 "$T1"
assert_eq "$OUT" "$(cat "$TMP/t1.json")" "as of T1: the same JSON, byte for byte"
expect 0 "explain --as-of T1 (table)" explain_table D-0001 "$T1"
assert_eq "$OUT" "$(cat "$TMP/t1.txt")" "as of T1: the same table"
assert_contains "$OUT" "29 on $(d -1) (clear 18.5 to 30)" "as of T1: BMI judged by the rule then in force"
assert_contains "$OUT" "negative collected $(d -2)" "as of T1: HIV as first reported"
expect 0 "explain --as-of T2" explain_json D-0001 "$T2"
assert_eq "$OUT" "$(cat "$TMP/t2.json")" "as of T2: the same JSON"
expect 0 "explain --as-of T3 (just before the rule change)" explain_json D-0001 "$T3"
assert_eq "$OUT" "$(cat "$TMP/t3.json")" "as of T3: the same JSON"
assert_contains "$OUT" '"rule_set_version":1' "as of T3: rule set version 1"
assert_contains "$OUT" '"rule" : "item:bmi", "verdict" : "pass"' "as of T3: BMI passed"
assert_contains "$OUT" '"rule" : "test:HIV", "verdict" : "excluded"' "as of T3: the correction counts"
assert_eq "$(sql "select status || '|' || rule_set_version from fmtbank.donor_status_at((fmtbank.donor_get('D-0001')).id, '$T1')")" "eligible|1" \
    "donor_status_at(donor, T1)"
assert_eq "$(sql "select count(*) from fmtbank.donor_eligibility_at('$T1') where status = 'eligible'")" "1" \
    "donor_eligibility_at(T1): the one donor then eligible"

# as of before registration; dates and malformed values
expect 0 "register a donor now" fmtbank --user alice donor add D-0042 --birth-year 1990
expect 4 "as of before the donor existed" fmtbank donor explain D-0042 --as-of "$T1"
assert_contains "$ERR" 'donor "D-0042" was not registered at' "says so"
expect 4 "a date means the end of that day: yesterday" fmtbank donor explain D-0042 --as-of "$(d -1)"
expect 0 "a date means the end of that day: today" fmtbank --format json donor explain D-0042 --as-of "$(d 0)"
assert_contains "$OUT" "\"as_of\":\"$(d 0)T23:59:59.999999" "as_of is the end of the day"
expect 0 "an ISO timestamp with T and an offset" fmtbank --format json donor explain D-0001 --as-of "${T1/ /T}"
assert_eq "$OUT" "$(cat "$TMP/t1.json")" "the same moment written with T: the same verdict"
expect 4 "a time before the donor was registered" fmtbank donor explain D-0001 --as-of "$(d 0)T00:00:00+00:00"
expect 3 "a malformed --as-of" fmtbank donor explain D-0001 --as-of "last week"
assert_contains "$ERR" 'invalid timestamp "last week" for --as-of' "names the option"
expect 4 "explain an unknown donor" fmtbank donor explain D-9999
assert_contains "$ERR" 'donor "D-9999" not found' "says so"

done_testing
