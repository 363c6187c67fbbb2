#!/usr/bin/env bash
# t0101-questionnaire: "questionnaire record|list|show": whole questionnaires or nothing, every bad
# line reported with its number, ranges at their edges, corrections that supersede with a reason,
# the donation-day questionnaire and short_questionnaire_at(), permissions (CLI and psql).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
setup_db

qcount() { sql "select count(*) from fmtbank.questionnaire"; }
acount() { sql "select count(*) from fmtbank.questionnaire_answer"; }
# refused FILE DESCRIPTION EXPECTED_MESSAGE...: the file is refused with exit 3, each message is
# printed, and nothing is stored
refused() {
    local file=$1 desc=$2
    shift 2
    local q0 a0 l0
    q0=$(qcount); a0=$(acount); l0=$(audit_count)
    expect 3 "$desc: refused" fmtbank --user alice questionnaire record D-0001 --date "$(d 0)" --file "$file"
    for m in "$@"; do assert_contains "$ERR" "$m" "$desc: $m"; done
    assert_eq "$(qcount)/$(acount)/$(audit_count)" "$q0/$a0/$l0" "$desc: nothing stored"
}

# ---- a good full questionnaire
write_full "$TMP/full.csv"
expect 0 "record a full questionnaire" fmtbank --user alice questionnaire record D-0001 --date "$(d 0)" --file "$TMP/full.csv"
qid=$OUT
[[ "$qid" =~ ^[0-9a-f-]{36}$ ]] && ok "prints the questionnaire ID" || not_ok "prints the questionnaire ID"
assert_eq "$(sql "select count(*) from fmtbank.questionnaire_answer where questionnaire_id = '$qid'")" "33" "33 answers stored"
assert_eq "$(sql "select count(*) from fmtbank.audit_log where tbl = 'questionnaire_answer'")" "33" "every answer audited"
expect 0 "questionnaire show" fmtbank --user audrey questionnaire show "$qid"
assert_contains "$OUT" "bmi" "show lists the answers"
assert_eq "$(grep -c '^' <<<"$OUT")" "36" "header, rule, 33 answers, row count"
expect 0 "questionnaire list" fmtbank --user audrey --format json questionnaire list D-0001
assert_contains "$OUT" "\"id\":\"$qid\"" "list shows it"
assert_contains "$OUT" '"superseded":false' "not superseded"
assert_contains "$OUT" '"numbers":{"bmi": 23, "gad7": 2, "phq9": 3}' "numbers listed"

# ---- every kind of bad line, each with its line number; nothing stored
printf 'item,answer\nbmi,abc\nphq9,30\nfoo,yes\nprion_risk,maybe\nantibiotics_last,2026-02-30\nantibiotics_last,2026-01-01\ncovid_last,%s\ngad7,4.5\nage,30\nnew_gi_symptoms,no\nmalignancy,yes,extra\n"unterminated,x\n' "$(d 1)" >"$TMP/bad.csv"
refused "$TMP/bad.csv" "many bad lines" \
    'bad.csv:2: answer "abc" to "bmi" is not a number' \
    'bad.csv:3: answer 30 to "phq9" is outside its possible range 0 to 27' \
    'bad.csv:4: unknown item "foo"' \
    'bad.csv:5: answer "maybe" to "prion_risk" must be yes or no' \
    'bad.csv:6: answer "2026-02-30" to "antibiotics_last" is not a valid date' \
    'bad.csv:7: item "antibiotics_last" appears more than once (first on line 6)' \
    "bad.csv:8: answer $(d 1) to \"covid_last\" is after the questionnaire date $(d 0)" \
    'bad.csv:9: answer 4.5 to "gad7" must be a whole number' \
    "bad.csv:10: item \"age\" is not answered: it comes from the donor's birth year" \
    'bad.csv:11: item "new_gi_symptoms" belongs to the donation-day (--short) questionnaire' \
    'bad.csv:12: expected 2 fields (item,answer), found 3' \
    'bad.csv:13: unterminated quoted field' \
    'bad.csv: missing item "infection_history"' \
    'could not record the questionnaire from' \
    'Nothing was stored'
# the number ranges at their edges
for case in "phq9=27:ok" "phq9=28:outside its possible range 0 to 27" "phq9=-1:outside its possible range" \
            "gad7=21:ok" "gad7=22:outside its possible range 0 to 21" "bmi=10:ok" "bmi=80:ok" \
            "bmi=9.9:outside its possible range 10 to 80" "bmi=80.1:outside its possible range 10 to 80" \
            "bmi=:a number is required" "antibiotics_last=26-01-01:not a valid date" \
            "antibiotics_last=2024-02-29:ok" "antibiotics_last=2025-02-29:not a valid date" \
            "prion_risk=YES:ok" "prion_risk=:must be yes or no"; do
    kv=${case%%:*}
    want=${case#*:}
    write_full "$TMP/edge.csv" "$kv"
    if [ "$want" = ok ]; then
        expect 0 "$kv is a valid answer" fmtbank --user alice --reason "edge test" questionnaire record D-0002 --date "$(d 0)" --file "$TMP/edge.csv"
    else
        q0=$(qcount)
        expect 3 "$kv is refused" fmtbank --user alice --reason "edge test" questionnaire record D-0002 --date "$(d 0)" --file "$TMP/edge.csv"
        assert_contains "$ERR" "$want" "$kv: $want"
        assert_eq "$(qcount)" "$q0" "$kv: nothing stored"
    fi
done
# whole-file problems
: >"$TMP/empty.csv"
refused "$TMP/empty.csv" "empty file" 'could not read "'"$TMP"'/empty.csv": empty file'
printf 'question,reply\nbmi,22\n' >"$TMP/header.csv"
refused "$TMP/header.csv" "wrong header" 'header.csv": line 1: expected the header "item,answer"'
printf 'item,answer\n' >"$TMP/noitems.csv"
refused "$TMP/noitems.csv" "no answers" 'missing item "infection_history"' 'missing item "gad7"'
expect 3 "a questionnaire date in the future" fmtbank --user alice questionnaire record D-0001 --date "$(d 1)" --file "$TMP/full.csv"
assert_contains "$ERR" "questionnaire date $(d 1) is in the future" "says so"
expect 3 "a malformed date" fmtbank --user alice questionnaire record D-0001 --date 27/11/2026 --file "$TMP/full.csv"
assert_contains "$ERR" 'invalid date "27/11/2026" for --date' "names the option"
expect 4 "an unknown donor" fmtbank --user alice questionnaire record D-9999 --date "$(d 0)" --file "$TMP/full.csv"
assert_contains "$ERR" 'donor "D-9999" not found' "names the donor"
expect 4 "a missing file" fmtbank --user alice questionnaire record D-0001 --date "$(d 0)" --file "$TMP/nope.csv"
expect 3 "without --date it is today's: D-0001 has one, so a reason is needed" fmtbank --user alice questionnaire record D-0001 --file "$TMP/full.csv"
assert_contains "$ERR" "recording the full questionnaire of $(d 0) for donor \"D-0001\" again requires a reason" "--date defaults to today"
expect 2 "--file is required" fmtbank --user alice questionnaire record D-0001 --date "$(d 0)"
# a file with a BOM, CRLF, quotes and spaces is fine
{ printf '\xef\xbb\xbfitem,answer\r\n'; tail -n +2 "$TMP/full.csv" | sed 's/^bmi,23$/"bmi","22.5"/; s/^phq9,3$/ phq9 , 3 /; s/$/\r/'; } >"$TMP/excel.csv"
expect 0 "a spreadsheet export (BOM, CRLF, quotes)" fmtbank --user alice questionnaire record D-0003 --date "$(d -1)" --file "$TMP/excel.csv"
assert_eq "$(sql "select num_value from fmtbank.questionnaire_answer where item = 'bmi' and questionnaire_id = '$OUT'")" "22.5" "the quoted value was read"

# ---- recording again for the same date supersedes, with a reason
q0=$(qcount)
write_full "$TMP/full2.csv" "antibiotics_last=$(d -5)"
expect 3 "recording the same date again needs a reason" fmtbank --user alice questionnaire record D-0001 --date "$(d 0)" --file "$TMP/full2.csv"
assert_contains "$ERR" "recording the full questionnaire of $(d 0) for donor \"D-0001\" again requires a reason" "says why"
assert_eq "$(qcount)" "$q0" "nothing stored"
expect 0 "with a reason it supersedes" fmtbank --user alice --reason "donor remembered antibiotics" questionnaire record D-0001 --date "$(d 0)" --file "$TMP/full2.csv"
qid2=$OUT
assert_eq "$(sql "select supersedes from fmtbank.questionnaire where id = '$qid2'")" "$qid" "linked to the original"
assert_eq "$(sql "select superseded_at is not null from fmtbank.questionnaire where id = '$qid'")" "t" "the original stays, superseded"
assert_eq "$(sql "select count(*) from fmtbank.questionnaire_answer where questionnaire_id = '$qid'")" "33" "the original answers stay"
expect 0 "the donor is deferred by the corrected answer" fmtbank --format json donor show D-0001
assert_contains "$OUT" '"rule": "item:antibiotics_last"' "deferred by antibiotics"
expect 0 "list shows both versions" fmtbank --format json questionnaire list D-0001
assert_contains "$OUT" '"superseded":true' "the superseded one"
assert_contains "$OUT" "\"dates\":{\"antibiotics_last\": \"$(d -5)\"}" "the new one's date"

# ---- the donation-day questionnaire
write_short "$TMP/short.csv"
expect 0 "record a donation-day questionnaire" fmtbank --user alice questionnaire record D-0001 --date "$(d 0)" --short --file "$TMP/short.csv"
did=$(sql "select id from fmtbank.donor where code = 'D-0001'")
assert_eq "$(sql "select recorded || '|' || clear || '|' || detail from fmtbank.short_questionnaire_at('$did', '$(d 0)')")" \
    "true|true|donation-day questionnaire of $(d 0): every answer no" "short_questionnaire_at: recorded, clear"
assert_eq "$(sql "select recorded || '|' || clear || '|' || detail from fmtbank.short_questionnaire_at('$did', '$(d -1)')")" \
    "false|false|no donation-day questionnaire recorded for $(d -1)" "short_questionnaire_at: none that day"
write_short "$TMP/short2.csv" sick_contacts=yes fever_or_illness=yes
expect 0 "a donation-day yes" fmtbank --user alice --reason "asked again" questionnaire record D-0001 --date "$(d 0)" --short --file "$TMP/short2.csv"
assert_eq "$(sql "select clear || '|' || detail from fmtbank.short_questionnaire_at('$did', '$(d 0)')")" \
    "false|donation-day questionnaire of $(d 0): yes to fever_or_illness, sick_contacts" "short_questionnaire_at: not clear, names the items"
expect 0 "the yes defers the donor" fmtbank --format json donor show D-0001
assert_contains "$OUT" '"rule": "item:sick_contacts", "detail": "yes on the donation-day questionnaire of '"$(d 0)"'; deferred 28 days' "deferred 28 days"
write_full "$TMP/fullitems.csv"
expect 3 "full items in a --short file" fmtbank --user alice questionnaire record D-0002 --date "$(d 0)" --short --file "$TMP/fullitems.csv"
assert_contains "$ERR" 'item "infection_history" belongs to the full questionnaire' "names the mix-up"
assert_contains "$ERR" 'missing item "new_gi_symptoms"' "and what is missing"

# ---- permissions: CLI and psql
q0=$(qcount)
expect 6 "an auditor cannot record" fmtbank --user audrey questionnaire record D-0002 --date "$(d 0)" --file "$TMP/full.csv"
assert_contains "$ERR" "recording questionnaires requires the technician or quality or admin role" "says who may"
assert_eq "$(qcount)" "$q0" "nothing stored"
sql_as alice "insert into fmtbank.questionnaire (donor_id, kind, q_date) values ('$did', 'full', current_date)"
assert_contains "$ERR" "permission denied for table questionnaire" "psql: no direct insert"
sql_as alice "update fmtbank.questionnaire_answer set answer = 'no' where item = 'antibiotics_last'"
assert_contains "$ERR" "permission denied for table questionnaire_answer" "psql: no direct update"
sql_as audrey "select fmtbank.questionnaire_record('D-0002', '$(d 0)', 'full', NULL, '[]')"
assert_contains "$ERR" "permission denied" "psql: an auditor cannot call the function"
sql_as quinn "delete from fmtbank.questionnaire"
assert_contains "$ERR" "permission denied for table questionnaire" "psql: nobody deletes"
expect 3 "show: a malformed ID" fmtbank questionnaire show not-an-id
assert_contains "$ERR" 'invalid questionnaire ID "not-an-id"' "says so"
expect 4 "show: an unknown ID" fmtbank questionnaire show 00000000-0000-0000-0000-000000000000
expect 4 "list: an unknown donor" fmtbank questionnaire list D-9999

done_testing
