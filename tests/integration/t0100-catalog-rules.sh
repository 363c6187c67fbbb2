#!/usr/bin/env bash
# t0100-catalog-rules: the screening catalog and the versioned rule set: "catalog tests|questions|
# rules", "rules set" (admin only, reason required, validated, audited, a new version effective
# now), "rules history", rule_value / rule_set_version_at, and refusals that change nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
setup_db

jcount() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$1"; }
jq1() { # JSON LIST, key, value, field: the field of the element whose key has value
    python3 -c 'import json,sys
rows=[r for r in json.load(sys.stdin) if str(r[sys.argv[1]]) == sys.argv[2]]
print(json.dumps(rows[0][sys.argv[3]], ensure_ascii=False) if rows else "<none>")' "$2" "$3" "$4" <<<"$1"
}

jfield() { # JSON LIST, key, field, values...: the field of the element with each key value, one per line
    python3 -c 'import json,sys
rows={str(r[sys.argv[1]]): r for r in json.load(sys.stdin)}
for k in sys.argv[3:]:
    print(json.dumps(rows[k][sys.argv[2]], ensure_ascii=False) if k in rows else "<none: %s>" % k)' "$2" "$3" "${@:4}" <<<"$1"
}

# ---- catalog tests
expect 0 "catalog tests" fmtbank --user alice --format json catalog tests
tests_json=$OUT
assert_eq "$(jcount "$OUT")" "40" "40 screening tests"
assert_eq "$(jfield "$tests_json" code required "${ALL_TESTS[@]}" | sort -u)" '["pre", "post"]' \
    "every test of domain.md is in the catalog, required pre and post"
assert_eq "$(jq1 "$tests_json" code CRP accept)" '"<=5"' "CRP accept <=5"
assert_eq "$(jq1 "$tests_json" code CRP unit)" '"mg/L"' "CRP unit mg/L"
assert_eq "$(jq1 "$tests_json" code CALPRO accept)" '"<50"' "CALPRO accept <50"
assert_eq "$(jq1 "$tests_json" code CALPRO unit)" '"µg/g"' "CALPRO unit µg/g"
assert_eq "$(jq1 "$tests_json" code MRSA specimen)" '"nasal swab"' "MRSA from a nasal swab"
assert_eq "$(jq1 "$tests_json" code HIV specimen)" '"serum"' "HIV from serum"
assert_eq "$(jq1 "$tests_json" code CDIFF specimen)" '"stool"' "CDIFF from stool"
assert_eq "$(jq1 "$tests_json" code HIV accept)" '"negative"' "qualitative accept negative"
assert_eq "$(jq1 "$tests_json" code HIV unit)" 'null' "qualitative unit null"
assert_eq "$(jq1 "$tests_json" code HIV validity_days)" '60' "validity 60 days"
excl=$(python3 -c 'import json,sys; print(" ".join(r["code"] for r in json.load(sys.stdin) if r["excludes_permanently"]))' <<<"$tests_json")
assert_eq "$excl" "${BLOOD_EXCLUDING[*]}" "the blood-borne markers exclude permanently, nothing else"

# ---- catalog questions
expect 0 "catalog questions" fmtbank --user audrey --format json catalog questions
q_json=$OUT
assert_eq "$(jcount "$OUT")" "47" "47 items (33 full + age + 6 donation-day + 7 follow-up)"
assert_eq "$(jfield "$q_json" code clear "${FULL_BOOL[@]}" | sort -u)" '"no"' "boolean items: clear is no"
want=$(for item in "${!FULL_DATE[@]}"; do echo "${FULL_DATE[$item]}"; done)
assert_eq "$(jfield "$q_json" code defer_days "${!FULL_DATE[@]}")" "$want" "date items: deferral periods of domain.md"
want=$(for item in "${!SHORT[@]}"; do echo "${SHORT[$item]}"; done)
assert_eq "$(jfield "$q_json" code defer_days "${!SHORT[@]}")" "$want" "donation-day items: their periods"
assert_eq "$(jfield "$q_json" code questionnaire "${!SHORT[@]}" | sort -u)" '"donation-day"' \
    "donation-day items are on the donation-day questionnaire"
assert_eq "$(jq1 "$q_json" code bmi min)/$(jq1 "$q_json" code bmi max)" "18.5/30" "bmi clear 18.5-30"
assert_eq "$(jq1 "$q_json" code phq9 min)/$(jq1 "$q_json" code phq9 max)" "0/9" "phq9 clear below 10"
assert_eq "$(jq1 "$q_json" code gad7 min)/$(jq1 "$q_json" code gad7 max)" "0/9" "gad7 clear below 10"
assert_eq "$(jq1 "$q_json" code age min)/$(jq1 "$q_json" code age max)" "18/60" "age clear 18-60"
assert_eq "$(jq1 "$q_json" code phq9 type)" '"number"' "phq9 is a number item"
assert_eq "$(jq1 "$q_json" code antibiotics_last type)" '"date"' "antibiotics_last is a date item"

# ---- catalog rules: every parameter with a value and a source
expect 0 "catalog rules" fmtbank --user alice --format json catalog rules
r_json=$OUT
names=()
values=()
for p in screen_validity_days:60 pre_window_days:60 post_window_days:60 lookback_min_days:28 \
         max_processing_hours:6 dose_mass_g:50 dose_volume_ml:200 glycerol_percent:10 \
         bristol_min:3 bristol_max:5 shelf_life_days:730 min_age:18 max_age:60 bmi_min:18.5 \
         bmi_max:30 phq9_max:9 gad7_max:9 limit.CRP:5 limit.CALPRO:50; do
    names+=("${p%%:*}")
    values+=("${p#*:}")
done
assert_eq "$(jfield "$r_json" name value "${names[@]}")" "$(printf '%s\n' "${values[@]}")" \
    "every rule parameter has domain.md's default"
nosrc=$(python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if not r["source"].strip()))' <<<"$r_json")
assert_eq "$nosrc" "0" "every parameter carries its source"
assert_eq "$(sql "select fmtbank.rule_value('screen_validity_days')")" "60" "rule_value()"
assert_eq "$(sql "select fmtbank.rule_set_version_at(clock_timestamp())")" "1" "rule set version 1"
sql_as alice "select fmtbank.rule_value('no_such_rule')"
assert_contains "$ERR" 'rule parameter "no_such_rule" not found' "rule_value of an unknown name: FB002"
run fmtbank --user alice db psql -X -A -t -q -v VERBOSITY=verbose -c "select fmtbank.rule_value('nope')"
assert_contains "$ERR" "ERROR:  FB002: rule parameter \"nope\" not found" "with SQLSTATE FB002"

# ---- rules set: refusals change nothing
before=$(audit_count)
v_before=$(sql "select count(*) from fmtbank.rule_set")
expect 6 "technician cannot change a rule" fmtbank --user alice --reason x rules set min_age 21
assert_contains "$ERR" "permission denied: changing rule parameters requires the admin role" "says who may"
expect 6 "quality cannot change a rule" fmtbank --user quinn --reason x rules set min_age 21
expect 6 "auditor cannot change a rule" fmtbank --user audrey --reason x rules set min_age 21
expect 3 "a reason is required" fmtbank --user adam rules set min_age 21
assert_contains "$ERR" "changing a rule parameter requires a reason" "asks for --reason"
expect 4 "unknown parameter" fmtbank --user adam --reason x rules set min_agee 21
assert_contains "$ERR" 'rule parameter "min_agee" not found' "names it"
expect 3 "not a number" fmtbank --user adam --reason x rules set min_age twenty
assert_contains "$ERR" 'invalid value "twenty" for rule parameter "min_age"' "names the value"
expect 3 "whole number required" fmtbank --user adam --reason x rules set min_age 20.5
assert_contains "$ERR" "must be a whole number" "says whole number"
expect 3 "out of its range" fmtbank --user adam --reason x rules set screen_validity_days 0
assert_contains "$ERR" "Allowed values are 1 to 3650 days." "gives the range"
expect 5 "same value" fmtbank --user adam --reason x rules set min_age 18
assert_contains "$ERR" 'rule parameter "min_age" is already 18' "says so"
expect 5 "min above max" fmtbank --user adam --reason x rules set min_age 61
assert_contains "$ERR" '"min_age" (61) must not exceed "max_age" (60)' "names the pair"
expect 5 "bristol_max below bristol_min" fmtbank --user adam --reason x rules set bristol_max 2
expect 2 "missing value" fmtbank --user adam --reason x rules set min_age
assert_eq "$(audit_count)" "$before" "refusals wrote no audit row"
assert_eq "$(sql "select count(*) from fmtbank.rule_set")" "$v_before" "refusals made no version"
# ... and the database refuses the same through psql
sql_as alice "select fmtbank.rules_set('min_age', '21')"
[ "$RC" -ne 0 ] && ok "psql: technician cannot call rules_set" || not_ok "psql: technician cannot call rules_set"
assert_contains "$ERR" "permission denied" "psql: permission denied"
sql_as alice "insert into fmtbank.rule_param_value (name, version, value) values ('min_age', 1, 21)"
assert_contains "$ERR" "permission denied for table rule_param_value" "psql: no direct insert"
sql_as quinn "update fmtbank.rule_param_value set value = 21 where name = 'min_age'"
assert_contains "$ERR" "permission denied for table rule_param_value" "psql: no direct update"
sql_as adam "insert into fmtbank.rule_set (version, effective_from, reason) values (9, now(), 'x')"
assert_contains "$ERR" "permission denied for table rule_set" "psql: not even admin writes the tables"

# ---- rules set: a new version effective now
t_before=$(sql "select clock_timestamp()")
expect 0 "admin changes min_age" fmtbank --user adam --reason "site policy: adults over 21" rules set min_age 21
assert_eq "$OUT" "2" "prints the new version"
assert_contains "$ERR" 'rule set version 2: "min_age" is now 21' "says what changed"
assert_eq "$(sql "select fmtbank.rule_value('min_age')")" "21" "in force now"
assert_eq "$(sql "select fmtbank.rule_value('min_age', '$t_before')")" "18" "the old value before"
assert_eq "$(sql "select fmtbank.rule_set_version_at('$t_before')")" "1" "version 1 before"
assert_eq "$(sql "select fmtbank.rule_set_version_at(clock_timestamp())")" "2" "version 2 now"
assert_eq "$(sql "select count(*) from fmtbank.audit_log where tbl = 'rule_set' and reason = 'site policy: adults over 21'")" "1" \
    "the change is audited with its reason"
expect 0 "catalog rules shows the version" fmtbank --format json catalog rules
assert_eq "$(jq1 "$OUT" name min_age set_in_version)" "2" "set in version 2"
assert_eq "$(jq1 "$OUT" name min_age rule_set_version)" "2" "rule set version 2"
expect 0 "catalog rules --as-of before the change" fmtbank --format json catalog rules --as-of "$t_before"
assert_eq "$(jq1 "$OUT" name min_age value)" "18" "as of before: 18"
expect 0 "catalog questions follows the rule set" fmtbank --format json catalog questions
assert_eq "$(jq1 "$OUT" code age min)" "21" "age clear from 21"
expect 0 "admin changes the CRP limit" fmtbank --user adam --reason "new assay" rules set limit.CRP 10
expect 0 "catalog tests follows the rule set" fmtbank --format json catalog tests
assert_eq "$(jq1 "$OUT" code CRP accept)" '"<=10"' "CRP accept <=10"
assert_eq "$(jq1 "$OUT" code CRP rule_set_version)" "3" "version 3"
expect 0 "rules history" fmtbank --user audrey rules history min_age
assert_contains "$OUT" "site policy: adults over 21" "history shows the reason"
assert_contains "$OUT" "adam" "history shows who"
expect 0 "rules history (all)" fmtbank --user audrey --format json rules history
assert_eq "$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])' <<<"$OUT")" "limit.CRP" "newest first"
expect 3 "catalog --as-of must be a time" fmtbank catalog rules --as-of yesterday
assert_contains "$ERR" 'invalid timestamp "yesterday" for --as-of' "names the option"

done_testing
