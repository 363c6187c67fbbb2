#!/usr/bin/env bash
# t0413-report-definitions: every report definition shipped in reports/ passes "fmtbank report
# check" (CI runs it), is documented in reports/README.md, and runs for every role that may read
# its data on a fresh demo database, writing a workbook openpyxl reads.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_lib.sh"
setup_db

shipped=$(cd "$FMTBANK_SRC/reports" && ls ./*.report | sed 's|^\./||; s|\.report$||' | sort)
assert_eq "$(printf '%s\n' "$shipped" | paste -sd' ')" "audit case eligibility expiring inventory lookback release todo trial_allocation trial_dispensing trial_kits vigilance" "the shipped definitions"
expect 0 "report check (all)" fmtbank report check
assert_eq "$OUT" "$(printf '%s: ok\n' $shipped)" "every shipped definition checks"
assert_eq "$ERR" "" "no problem reported"
for r in $shipped; do
    assert_contains "$(cat "$FMTBANK_SRC/reports/README.md")" "| \`$r\` |" "$r is in the README's table"
    assert_eq "$(sed -n 's/^description = //p' "$FMTBANK_SRC/reports/$r.report" | grep -c .)" "1" "$r has a description for report list"
done

for r in case eligibility expiring inventory; do
    for u in alice quinn audrey adam; do
        expect 0 "$r as $u" fmtbank --user "$u" report "$r" -o "$TMP/$r-$u.xlsx"
        DUMP "$TMP/$r-$u.xlsx" >"$TMP/dump" 2>&1 || not_ok "$r as $u: openpyxl reads it" "$(head -5 "$TMP/dump")"
    done
    assert_contains "$(cat "$TMP/dump")" "props keywords=$r" "$r: a workbook"
done
expect 6 "the audit trail stays closed to technicians" fmtbank --user alice report audit -o "$TMP/a.xlsx"
for u in quinn audrey adam; do
    expect 0 "vigilance as $u" fmtbank --user "$u" report vigilance -o "$TMP/vigilance-$u.xlsx"
    DUMP "$TMP/vigilance-$u.xlsx" >"$TMP/dump" 2>&1 || not_ok "vigilance as $u: openpyxl reads it" "$(head -5 "$TMP/dump")"
done
assert_contains "$(cat "$TMP/dump")" "No adverse event in this period." "vigilance: a workbook, no event on the demo"
expect 6 "the vigilance report is closed to technicians" fmtbank --user alice report vigilance -o "$TMP/v.xlsx"

done_testing
