#!/usr/bin/env bash
# t0411-report-eligibility: "fmtbank report eligibility" on donors built through the CLI
# (results, questionnaires, a manual deferral, a donation): counts by status and screening due,
# every donor with status, deferral, next screening due, missing tests and other reasons, every
# reason on its own line; the report agrees with "donor list" for every donor; --param as_of
# evaluates at the end of a day with what had been recorded by then; typed cells; the same state
# and parameters give the same workbook.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/report_lib.sh"
setup_db

# ---------------------------------------------------------------- the donors
for c in D-0101 D-0102 D-0103; do fmtbank --user alice donor add "$c" --birth-year 1990 --sex F >/dev/null; done
donor_consent D-0101 D-0102 D-0103
rep_eligible D-0001 D-0103                      # eligible (D-0103 then deferred by hand)
mapfile -t LOT < <(rep_donation D-0001 2)
{
    echo "donor,test,collected,result,unit,lab"
    panel_rows D-0002 "$(d -1)" MRSA CALPRO     # two tests missing
    panel_rows D-0101 "$(d -1)"
    panel_rows D-0102 "$(d -1)" HIV
    echo "D-0102,HIV,$(d -1),positive,,Lab B"   # excludes
} >"$TMP/results.csv"
expect 0 "results" fmtbank --user alice result import "$TMP/results.csv"
write_full "$TMP/clear.csv"
write_full "$TMP/antibiotics.csv" "antibiotics_last=$(d -10)"
for c in D-0002 D-0102; do
    expect 0 "questionnaire $c" fmtbank --user alice questionnaire record "$c" --date "$(d 0)" --file "$TMP/clear.csv"
done
expect 0 "questionnaire D-0101 (antibiotics 10 days ago)" \
    fmtbank --user alice questionnaire record D-0101 --date "$(d 0)" --file "$TMP/antibiotics.csv"
expect 0 "manual deferral" fmtbank --user quinn --reason "travel to an endemic area" donor defer D-0103 --until "$(d 20)"
# D-0003: nothing recorded (screening: no questionnaire, no result)

# ---------------------------------------------------------------- the report
expect 0 "report check" fmtbank report check eligibility
assert_eq "$OUT" "eligibility: ok" "the eligibility definition checks"
expect 0 "eligibility report (technician)" fmtbank --user alice report eligibility -o "$TMP/e.xlsx"
assert_contains "$ERR" "wrote report \"eligibility\" to \"$TMP/e.xlsx\": 3 sheets" "summary line"
d=$(DUMP "$TMP/e.xlsx")
assert_contains "$d" "sheets Summary|Donors|Reasons" "sheets in order"
assert_contains "$d" "props title=Donor eligibility" "title property"
assert_contains "$d" "props creator=Alice Laborant (alice)" "author"
assert_contains "$d" "props description=fmtbank report \"eligibility\" (as_of=(default)); as of " "comments: parameters as used"
for s in Summary Donors Reasons; do
    assert_contains "$d" "sheet $s freeze=A5 filter=A4:" "$s: frozen header and autofilter"
    assert_eq "$(cell "$d" "$s" A2)" "text Eligibility on $(d 0) (rule set version 1)" "$s: subtitle"
done

row() { # SHEET ROW NCOLS: "TYPE VALUE|..." of columns A.. of one row
    local out="" c
    for ((c = 0; c < $3; c++)); do
        out+="$(cell "$d" "$1" "$(printf "\\x$(printf %x $((65 + c)))")$2")|"
    done
    printf '%s' "${out%|}"
}
assert_eq "$(row Summary 5 4)" "text eligible|int 1|int 0|int 0" "summary: eligible"
assert_eq "$(row Summary 6 4)" "text screening|int 2|int 2|int 2" "summary: screening, due now"
assert_eq "$(row Summary 7 4)" "text deferred|int 2|int 0|int 0" "summary: deferred"
assert_eq "$(row Summary 8 4)" "text excluded|int 1|int 0|int 0" "summary: excluded"

assert_eq "$(column "$d" Donors A 5 | paste -sd' ')" "D-0001 D-0002 D-0003 D-0101 D-0102 D-0103" "donors by code"
assert_eq "$(column "$d" Donors B 5 | paste -sd' ')" "eligible screening screening deferred excluded deferred" "their statuses"
collected=$(sql "SELECT to_char(collected_at, 'YYYY-MM-DD\"T\"HH24:MI:SS') FROM fmtbank.lot WHERE lot_id = '${LOT[0]}'")
assert_eq "$(row Donors 5 10)" "text D-0001|text eligible||date $(d 59)T00:00:00|int 0|||date $collected|date $(d 0)T00:00:00|int 1" \
    "eligible donor: next screening due, last donation, registered, rule set"
assert_eq "$(row Donors 6 7)" "text D-0002|text screening||date $(d 0)T00:00:00|int 2|text CALPRO, MRSA|" "missing tests named, in catalog order"
assert_eq "$(cell "$d" Donors E7)" "int 40" "nothing recorded: every test missing"
assert_eq "$(cell "$d" Donors G7)" "text questionnaire: no full questionnaire recorded" "and the questionnaire"
assert_eq "$(cell "$d" Donors C8)" "date $(d 80)T00:00:00" "deferred until a date"
assert_contains "$(cell "$d" Donors G8)" "text item:antibiotics_last: last on $(d -10)" "the deferring answer"
assert_eq "$(cell "$d" Donors D9)$(cell "$d" Donors C9)" "" "excluded: no date"
assert_contains "$(cell "$d" Donors G9)" "test:HIV: positive collected $(d -1): HIV excludes permanently" "the excluding result"
assert_eq "$(cell "$d" Donors C10)" "date $(d 20)T00:00:00" "manual deferral date"
assert_contains "$(cell "$d" Donors G10)" "travel to an endemic area" "manual deferral reason"
assert_contains "$d" "cell Donors!D5 date $(d 59)T00:00:00 fmt=yyyy-mm-dd " "dates are real dates"
assert_contains "$d" "cell Donors!H5 date $collected fmt=yyyy-mm-dd hh:mm " "timestamps too"

# The report and "donor list" agree on every donor.
fmtbank --user alice --format json donor list >"$TMP/list.json"
r=5
for c in D-0001 D-0002 D-0003 D-0101 D-0102 D-0103; do
    until=$(donor_field "$TMP/list.json" "$c" deferred_until)
    due=$(donor_field "$TMP/list.json" "$c" next_screening_due)
    assert_eq "$(cell "$d" Donors "B$r")|$(cell "$d" Donors "C$r")|$(cell "$d" Donors "D$r")" \
        "text $(donor_field "$TMP/list.json" "$c" status)|${until:+date ${until}T00:00:00}|${due:+date ${due}T00:00:00}" \
        "$c: as donor list says"
    nreasons=$(donor_field "$TMP/list.json" "$c" reasons | grep -c .)
    assert_eq "$(column "$d" Reasons A 5 | grep -cx "$c")" "$nreasons" "$c: one Reasons row per reason"
    r=$((r + 1))
done
assert_eq "$(cell "$d" Reasons D5)|$(cell "$d" Reasons C5)" "text test:CALPRO|int 1" "reasons: rule and its number"
assert_contains "$(cell "$d" Reasons E5)" "text no acceptable result collected from $(d -60) to $(d 0)" "reasons: the detail"

# Same state and parameters: the same workbook.
expect 0 "again" fmtbank --user alice report eligibility -o "$TMP/e2.xlsx"
assert_eq "$(DUMP "$TMP/e2.xlsx")" "$d" "identical contents"

# ---------------------------------------------------------------- as_of
expect 0 "as of today" fmtbank --user alice report eligibility --param "as_of=$(d 0)" -o "$TMP/today.xlsx"
t=$(DUMP "$TMP/today.xlsx")
assert_eq "$(cell "$t" Donors A2)" "text Eligibility on $(d 0), with what had been recorded by the end of that day (rule set version 1)" "subtitle says as of"
assert_eq "$(cells "$t" Donors | grep -v '^A2 ')" "$(cells "$d" Donors | grep -v '^A2 ')" "today's end: the same verdicts as now"
expect 0 "as of yesterday" fmtbank --user alice report eligibility -p "as_of=$(d -1)" -o "$TMP/past.xlsx"
t=$(DUMP "$TMP/past.xlsx")
assert_eq "$(cell "$t" Donors A5)" "text No donor is registered." "nobody was registered yet"
assert_eq "$(cell "$t" Summary B5)$(cell "$t" Summary B6)$(cell "$t" Summary B7)$(cell "$t" Summary B8)" "int 0int 0int 0int 0" "no donor counted"
assert_contains "$t" "props description=fmtbank report \"eligibility\" (as_of=$(d -1)); as of" "the parameter in the comments"
expect 0 "as of 70 days ahead" fmtbank --user alice report eligibility -p "as_of=$(d 70)" -o "$TMP/future.xlsx"
t=$(DUMP "$TMP/future.xlsx")
assert_eq "$(cell "$t" Donors B5)|$(cell "$t" Donors E5)" "text screening|int 40" "results expire: screening again, every test due"
expect 3 "bad date" fmtbank --user alice report eligibility -p as_of=tomorrow -o "$TMP/bad.xlsx"
assert_contains "$ERR" 'invalid date "tomorrow" for parameter "as_of"' "names the parameter"
expect 2 "unknown parameter" fmtbank --user alice report eligibility -p at=2026-01-01 -o "$TMP/bad.xlsx"
assert_contains "$ERR" "Report \"eligibility\" takes: as_of (date)." "lists the parameters"
assert_eq "$(ls "$TMP"/bad.xlsx 2>/dev/null)" "" "refusals wrote nothing"

done_testing
