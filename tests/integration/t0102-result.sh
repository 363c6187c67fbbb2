#!/usr/bin/env bash
# t0102-result: "result add|import|list|correct": validation of every field (single results and
# files, every bad line with its number, all or nothing), corrections that supersede and flip the
# verdict, result_effective, NOTIFY fmtbank_result, permissions (CLI and psql).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
setup_db

rcount() { sql "select count(*) from fmtbank.result"; }

# ---- single results
expect 0 "result add (qualitative)" fmtbank --user alice result add D-0001 HIV --collected "$(d -1)" --result negative --lab "Lab A"
rid=$OUT
[[ "$rid" =~ ^[0-9a-f-]{36}$ ]] && ok "prints the result ID" || not_ok "prints the result ID"
expect 0 "result add (numeric, unit alias, lower-case test)" fmtbank --user alice result add D-0001 calpro --collected "$(d -1)" --result 12.5 --unit ug/g
assert_eq "$(sql "select unit || ' ' || value from fmtbank.result where id = '$OUT'")" "µg/g 12.5" "stored with the catalog's unit"
expect 0 "result add: words in any case" fmtbank --user alice result add D-0001 SALM --collected "$(d -1)" --result Positive
assert_eq "$(sql "select result from fmtbank.result where id = '$OUT'")" "positive" "normalised to lower case"
n0=$(rcount); a0=$(audit_count)
for case in "D-0001|FOO|$(d -1)|negative||3|unknown test \"FOO\"" \
            "D-0001|HIV|$(d 1)|negative||3|collected date $(d 1) is in the future" \
            "D-0001|HIV|2026-02-30|negative||3|invalid collected date \"2026-02-30\" (use YYYY-MM-DD)" \
            "D-0001|HIV|$(d -1)|maybe||3|result \"maybe\" for test \"HIV\" must be negative, positive or indeterminate" \
            "D-0001|HIV|$(d -2)|negative|mg/L|3|test \"HIV\" is qualitative: its unit must be empty, not \"mg/L\"" \
            "D-0001|CRP|$(d -1)|high|mg/L|3|result \"high\" for test \"CRP\" is not a number (in mg/L" \
            "D-0001|CRP|$(d -1)|-1|mg/L|3|result \"-1\" for test \"CRP\" is not a number" \
            "D-0001|CRP|$(d -1)|3||3|unit missing for test \"CRP\" (expected mg/L)" \
            "D-0001|CRP|$(d -1)|3|g/L|3|wrong unit \"g/L\" for test \"CRP\" (expected mg/L" \
            "D-0001|HIV|$(d -1)|negative||5|already recorded: HIV negative collected $(d -1) for donor \"D-0001\"" \
            "D-9999|HIV|$(d -1)|negative||4|donor \"D-9999\" not found" \
            "x|HIV|$(d -1)|negative||4|donor \"x\" not found"; do
    IFS='|' read -r code test day res unit code_rc msg <<<"$case"
    if [ "$code" = "D-0001" ] && [ "$test" = "HIV" ] && [ "$res" = negative ] && [ "$day" = "$(d -1)" ]; then lab=(--lab "Lab A"); else lab=(); fi
    if [ -n "$unit" ]; then u=(--unit "$unit"); else u=(); fi
    expect "$code_rc" "result add refused: $msg" fmtbank --user alice result add "$code" "$test" --collected "$day" --result "$res" "${u[@]}" "${lab[@]}"
    assert_contains "$ERR" "$msg" "says: $msg"
done
assert_eq "$(rcount)/$(audit_count)" "$n0/$a0" "refused results changed nothing"
expect 2 "--result is required" fmtbank --user alice result add D-0001 HIV --collected "$(d -1)"
expect 2 "--collected is required" fmtbank --user alice result add D-0001 HIV --result negative
expect 2 "TEST is required" fmtbank --user alice result add D-0001 --collected "$(d -1)" --result negative

# ---- files: all or nothing, every bad line named
{
    echo "donor,test,collected,result,unit,lab"
    echo "D-0002,HIV,$(d -1),negative,,Lab A"
    echo "D-9999,HIV,$(d -1),negative,,Lab A"
    echo "X-1,HIV,$(d -1),negative,,Lab A"
    echo "D-0002,FOO,$(d -1),negative,,Lab A"
    echo "D-0002,HAV_IGM,2026-13-01,negative,,Lab A"
    echo "D-0002,HBSAG,$(d 1),negative,,Lab A"
    echo "D-0002,ANTI_HBC,$(d -1),maybe,,Lab A"
    echo "D-0002,HCV_AB,$(d -1),negative,mg/L,Lab A"
    echo "D-0002,CRP,$(d -1),high,mg/L,Lab A"
    echo "D-0002,CRP,$(d -1),3,,Lab A"
    echo "D-0002,CALPRO,$(d -1),3,mg/L,Lab A"
    echo "D-0002,HTLV,$(d -1),negative,,Lab A"
    echo "D-0002,HTLV,$(d -1),negative,,Lab A"
    echo "D-0001,HIV,$(d -1),negative,,Lab A"
    echo "D-0002,SYPHILIS,,negative,,Lab A"
} >"$TMP/bad.csv"
n0=$(rcount); a0=$(audit_count)
expect 3 "a file with bad lines is refused" fmtbank --user alice result import "$TMP/bad.csv"
for m in 'bad.csv:3: donor "D-9999" not found' 'bad.csv:4: invalid donor code "X-1"' \
         'bad.csv:5: unknown test "FOO"' 'bad.csv:6: invalid collected date "2026-13-01"' \
         "bad.csv:7: collected date $(d 1) is in the future" \
         'bad.csv:8: result "maybe" for test "ANTI_HBC" must be negative, positive or indeterminate' \
         'bad.csv:9: test "HCV_AB" is qualitative: its unit must be empty, not "mg/L"' \
         'bad.csv:10: result "high" for test "CRP" is not a number (in mg/L' \
         'bad.csv:11: unit missing for test "CRP" (expected mg/L)' \
         'bad.csv:12: wrong unit "mg/L" for test "CALPRO" (expected µg/g' \
         'bad.csv:14: same result as line 13' \
         "bad.csv:15: already recorded: HIV negative collected $(d -1) for donor \"D-0001\"" \
         'bad.csv:16: invalid collected date ""' \
         'could not import' '13 bad lines' 'Nothing was imported'; do
    assert_contains "$ERR" "$m" "import reports: $m"
done
assert_not_contains "$ERR" "bad.csv:2:" "the good line is not reported"
assert_not_contains "$ERR" "bad.csv:13:" "the first of two same lines is not reported"
assert_eq "$OUT" "" "no IDs printed"
assert_eq "$(rcount)/$(audit_count)" "$n0/$a0" "nothing imported, nothing audited"
printf 'donor,test,date,result,unit,lab\nD-0002,HIV,%s,negative,,\n' "$(d -1)" >"$TMP/header.csv"
expect 3 "a wrong header is refused" fmtbank --user alice result import "$TMP/header.csv"
assert_contains "$ERR" "could not read" "says it could not read the file"
printf 'donor,test,collected,result,unit,lab\nD-0002,HIV,%s,negative\n' "$(d -1)" >"$TMP/short.csv"
expect 3 "a short line is refused" fmtbank --user alice result import "$TMP/short.csv"
assert_contains "$ERR" "short.csv:2: 4 fields, expected 6" "names the line"
expect 4 "a missing file" fmtbank --user alice result import "$TMP/none.csv"
assert_eq "$(rcount)" "$n0" "still nothing imported"

# a good file: every test of D-0002, IDs printed in file order
{ echo "donor,test,collected,result,unit,lab"; panel_rows D-0002 "$(d -1)"; } >"$TMP/panel.csv"
expect 0 "import a full panel" fmtbank --user alice result import "$TMP/panel.csv"
assert_eq "$(grep -c . <<<"$OUT")" "40" "40 IDs printed"
assert_contains "$ERR" 'imported 40 results from' "says how many"
assert_eq "$(rcount)" "$((n0 + 40))" "40 results stored"
first=$(head -1 <<<"$OUT")
assert_eq "$(sql "select t.code from fmtbank.result r join fmtbank.screening_test t using (test_no) where r.id = '$first'")" "HIV" "IDs in file order"
# time-ordered IDs (UUID version 7, fmtbank.uuid_v7): increasing in file order, after earlier ones
assert_eq "$(grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' <<<"$OUT")" "40" "version 7 UUIDs"
assert_eq "$(LC_ALL=C sort -u <<<"$OUT")" "$OUT" "the IDs increase line by line"
[[ "$first" > "$rid" ]] && ok "after the ID of an earlier result add" || not_ok "after the earlier ID" "$first <= $rid"
panel_last=$(tail -1 <<<"$OUT")
assert_eq "$(sql "select count(*) from fmtbank.audit_log where tbl = 'result' and op = 'INSERT'")" "$((n0 + 40))" "every result audited"
expect 0 "the same file again is nothing new" fmtbank --user alice result import "$TMP/panel.csv"
assert_contains "$ERR" "nothing new in \"$TMP/panel.csv\": all 40 results already recorded, nothing imported" "says nothing new, with the count"
assert_eq "$OUT" "" "no IDs printed"
assert_eq "$(rcount)" "$((n0 + 40))" "nothing stored again"
expect 0 "import from standard input" bash -c "fmtbank --user alice result import - <<<'donor,test,collected,result,unit,lab
D-0003,HIV,$(d -3),negative,,'"
[[ "$OUT" > "$panel_last" ]] && ok "a later import's ID comes after" || not_ok "a later import's ID" "$OUT <= $panel_last"

# ---- corrections supersede and can flip the verdict
write_full "$TMP/q.csv"
fmtbank --user alice questionnaire record D-0002 --date "$(d 0)" --file "$TMP/q.csv" >/dev/null
assert_eq "$(sql "select status from fmtbank.donor_status_at((fmtbank.donor_get('D-0002')).id)")" "eligible" "D-0002 eligible with its panel"
cdiff=$(sql "select r.id from fmtbank.result r join fmtbank.donor d on d.id = r.donor_id where d.code = 'D-0002' and r.test_no = 13")
expect 3 "a correction needs a reason" fmtbank --user alice result correct "$cdiff" --result positive
assert_contains "$ERR" "correcting a result requires a reason" "says so"
t_before=$(sql "select clock_timestamp()")
expect 0 "correct CDIFF to positive" fmtbank --user alice --reason "lab reissued the report" result correct "$cdiff" --result positive
fix=$OUT
assert_eq "$(sql "select status from fmtbank.donor_status_at((fmtbank.donor_get('D-0002')).id)")" "deferred" "the correction flips the verdict"
assert_eq "$(sql "select status from fmtbank.donor_status_at((fmtbank.donor_get('D-0002')).id, '$t_before')")" "eligible" "as of before the correction: eligible"
assert_eq "$(sql "select supersedes || '|' || reason from fmtbank.result where id = '$fix'")" "$cdiff|lab reissued the report" "linked, with its reason"
assert_eq "$(sql "select result || '|' || (superseded_at is not null) from fmtbank.result where id = '$cdiff'")" "negative|true" "the original stays, superseded"
expect 0 "result list" fmtbank --user audrey --format json result list D-0002 --test CDIFF
assert_contains "$OUT" "\"id\":\"$cdiff\"" "lists the original"
assert_contains "$OUT" "\"superseded\":true,\"superseded_by\":\"$fix\"" "the original names its correction"
assert_contains "$OUT" "\"id\":\"$fix\"" "lists the correction"
assert_contains "$OUT" '"acceptable":false' "the correction is not acceptable"
for f in '"test":"CDIFF"' '"collected":' '"result":"positive"' '"unit":null' '"lab":"Lab A"' '"recorded_at":'; do
    assert_contains "$OUT" "$f" "result list carries $f"
done
expect 0 "result list --current" fmtbank --user audrey --format json result list D-0002 --test CDIFF --current
assert_not_contains "$OUT" "\"id\":\"$cdiff\"" "--current hides the superseded version"
assert_eq "$(sql "select count(*) from fmtbank.result_effective where donor = 'D-0002' and test = 'CDIFF'")" "1" "result_effective: one CDIFF in force"
assert_eq "$(sql "select id || '|' || acceptable || '|' || outcome from fmtbank.result_effective where donor = 'D-0002' and test = 'CDIFF'")" "$fix|false|positive" "result_effective: the correction, unacceptable"
assert_eq "$(sql "select count(*) from fmtbank.result_effective_at('$t_before', (fmtbank.donor_get('D-0002')).id) where test = 'CDIFF' and result = 'negative'")" "1" "result_effective_at before: the original"
n0=$(rcount); a0=$(audit_count)
expect 5 "correcting a superseded result is refused" fmtbank --user alice --reason again result correct "$cdiff" --result negative
assert_contains "$ERR" "result \"$cdiff\" was already corrected" "says so"
assert_contains "$ERR" "Correct its newest version, \"$fix\"." "names the newest version"
expect 5 "a correction that changes nothing" fmtbank --user alice --reason same result correct "$fix" --result POSITIVE
assert_contains "$ERR" "the correction does not change result" "says so"
expect 3 "a correction is validated" fmtbank --user alice --reason typo result correct "$fix" --result maybe
assert_contains "$ERR" 'result "maybe" for test "CDIFF" must be negative, positive or indeterminate' "says why"
expect 3 "a malformed ID" fmtbank --user alice --reason x result correct 1234 --result negative
assert_contains "$ERR" 'invalid result ID "1234"' "says so"
expect 4 "an unknown ID" fmtbank --user alice --reason x result correct 00000000-0000-0000-0000-000000000000 --result negative
crp=$(sql "select r.id from fmtbank.result r join fmtbank.donor d on d.id = r.donor_id where d.code = 'D-0002' and r.test_no = 12")
expect 3 "a numeric correction with a wrong unit" fmtbank --user alice --reason x result correct "$crp" --result 3 --unit mmol/L
assert_contains "$ERR" 'wrong unit "mmol/L" for test "CRP"' "says so"
assert_eq "$(rcount)/$(audit_count)" "$n0/$a0" "refused corrections changed nothing"
expect 0 "correct back to negative" fmtbank --user quinn --reason "confirmatory test negative" result correct "$fix" --result negative
assert_eq "$(sql "select status from fmtbank.donor_status_at((fmtbank.donor_get('D-0002')).id)")" "eligible" "eligible again"
expect 0 "a numeric correction keeps the unit" fmtbank --user alice --reason "transcription" result correct "$crp" --result 2.5
crp2=$OUT
assert_eq "$(sql "select value || ' ' || unit from fmtbank.result where id = '$crp2'")" "2.5 mg/L" "unit kept"

# ---- NOTIFY fmtbank_result with the donor code: add, import, correct
run fmtbank --user alice db psql -X -q -c "LISTEN fmtbank_result" \
    -c "select fmtbank.result_add('D-0003', 'HAV_IGM', '$(d -3)', 'negative', null, null) is not null"
assert_contains "$OUT" 'Asynchronous notification "fmtbank_result" with payload "D-0003" received' "result add notifies"
run fmtbank --user alice db psql -X -q -c "LISTEN fmtbank_result" \
    -c "select fmtbank.result_import_begin()" \
    -c "insert into fmtbank_stage.result_stage (line, donor, test, collected, result) values (2, 'D-0003', 'HBSAG', '$(d -3)', 'negative'), (3, 'D-0001', 'HBSAG', '$(d -3)', 'negative')" \
    -c "select count(*) from fmtbank.result_import_stage()"
assert_contains "$OUT" 'payload "D-0003" received' "import notifies donor D-0003"
assert_contains "$OUT" 'payload "D-0001" received' "import notifies donor D-0001"
run fmtbank --user alice db psql -X -q -c "LISTEN fmtbank_result" -c "set fmtbank.reason = 'x'" \
    -c "select fmtbank.result_correct('$crp2'::text, '1.5', null) is not null"
assert_contains "$OUT" 'payload "D-0002" received' "a correction notifies"

# ---- permissions: CLI and psql
n0=$(rcount)
expect 6 "an auditor cannot add results" fmtbank --user audrey result add D-0001 NORO --collected "$(d -1)" --result negative
assert_contains "$ERR" "recording results requires the technician or quality or admin role" "says who may"
expect 6 "an auditor cannot import results" fmtbank --user audrey result import "$TMP/panel.csv"
expect 6 "an auditor cannot correct results" fmtbank --user audrey --reason x result correct "$fix" --result positive
assert_eq "$(rcount)" "$n0" "nothing changed"
sql_as alice "update fmtbank.result set result = 'negative' where id = '$fix'"
assert_contains "$ERR" "permission denied for table result" "psql: a technician cannot edit a result"
sql_as alice "insert into fmtbank.result (donor_id, test_no, collected, result) select id, 0, current_date, 'negative' from fmtbank.donor limit 1"
assert_contains "$ERR" "permission denied for table result" "psql: nor insert one directly"
sql "delete from fmtbank.result where id = '$fix'" 2>"$TMP/del.err"
assert_contains "$(cat "$TMP/del.err")" "cannot delete from \"result\": records are never deleted" "not even the superuser deletes a result"
sql "insert into fmtbank.result (donor_id, test_no, collected, result) values (gen_random_uuid(), 0, current_date, 'negative')" 2>"$TMP/ref.err"
assert_contains "$(cat "$TMP/ref.err")" "refers to a donor, test or result that does not exist" "references are checked (superuser too)"
sql "update fmtbank.donor set id = gen_random_uuid() where code = 'D-0001'" 2>"$TMP/rekey.err"
assert_contains "$(cat "$TMP/rekey.err")" "cannot change the key of a row of \"donor\"" "referenced donors cannot be re-keyed"
assert_eq "$(rcount)" "$n0" "still nothing changed"

done_testing
