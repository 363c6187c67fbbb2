#!/usr/bin/env bash
# t0412-report-expiring: "fmtbank report expiring [--param days=N]": tubes in quarantine or
# released expiring by the end of the day N days ahead (default 30), soonest first, with days
# left and where they are; expired tubes neither discarded nor issued; the window's edges;
# parameter bounds (min, max) refused with nothing written, and checked by "report check".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screening_lib.sh"
. "$(dirname "$0")/report_lib.sh"
setup_db

rep_eligible D-0001
mapfile -t A < <(rep_donation D-0001 8) # A[0] lot, A[1..8] doses, A[9] the retained sample
F=$(fmtbank --user adam freezer add "Freezer 1" --temp -80)
B=$(fmtbank --user adam box add --freezer "Freezer 1" --rack R1 --rows 3 --cols 4)
rep_scan "$B"$'\n'"${A[1]}"$'\n'"${A[2]}"$'\n'"${A[3]}"$'\n'"${A[4]}"$'\n'"${A[6]}"
expect 0 "discard" fmtbank --user alice --reason "label unreadable" aliquot discard "${A[6]}"
# Expiry times and the states without a command yet: superuser fixture.
sql "UPDATE fmtbank.aliquot SET status = 'released', expires_at = date_trunc('second', now()) + interval '2 days' WHERE aliquot_id = '${A[1]}';
     UPDATE fmtbank.aliquot SET expires_at = (current_date + 31)::timestamptz - interval '1 minute' WHERE aliquot_id = '${A[2]}';
     UPDATE fmtbank.aliquot SET expires_at = (current_date + 31)::timestamptz + interval '1 minute' WHERE aliquot_id = '${A[3]}';
     UPDATE fmtbank.aliquot SET expires_at = now() - interval '3 days' WHERE aliquot_id = '${A[4]}';
     UPDATE fmtbank.aliquot SET status = 'expired', status_at = now(), expires_at = now() - interval '10 days' WHERE aliquot_id = '${A[5]}';
     UPDATE fmtbank.aliquot SET expires_at = now() + interval '5 days' WHERE aliquot_id = '${A[6]}';
     UPDATE fmtbank.aliquot SET status = 'recalled', expires_at = now() + interval '5 days' WHERE aliquot_id = '${A[7]}';
     UPDATE fmtbank.aliquot SET status = 'issued', expires_at = now() - interval '1 day' WHERE aliquot_id = '${A[8]}';
     UPDATE fmtbank.aliquot SET expires_at = (current_date + 1)::timestamptz - interval '1 second' WHERE aliquot_id = '${A[9]}'" >/dev/null
ts_of() { sql "SELECT to_char(expires_at, 'YYYY-MM-DD\"T\"HH24:MI:SS') FROM fmtbank.aliquot WHERE aliquot_id = '$1'"; }

expect 0 "report check" fmtbank report check expiring
assert_eq "$OUT" "expiring: ok" "the expiring definition checks"
expect 0 "report list" fmtbank report list --format tsv
assert_contains "$OUT" $'expiring\tExpiring aliquots\tExpiring, Expired in stock\tdays (integer, default 30, 0 to 3650)' "listed with its parameter, default and bounds"

expect 0 "expiring report (default 30 days)" fmtbank --user alice report expiring -o "$TMP/x.xlsx"
d=$(DUMP "$TMP/x.xlsx")
assert_contains "$d" "sheets Expiring|Expired in stock" "sheets"
assert_contains "$d" "props title=Expiring aliquots" "title"
assert_contains "$d" "props description=fmtbank report \"expiring\" (days=30); as of " "the default in the comments"
assert_eq "$(cell "$d" Expiring A2)" "text Aliquots expiring from $(d 0) to $(d 30) (within 30 days)" "subtitle: the window"
assert_contains "$d" "sheet Expiring freeze=A5 filter=A4:J7 rows=7" "three tubes, frozen header, autofilter"
assert_eq "$(column "$d" Expiring C 5 | paste -sd' ')" "${A[9]} ${A[1]} ${A[2]}" "soonest first; in the window's last day; not the day after"
assert_eq "$(column "$d" Expiring B 5 | paste -sd' ')" "0 2 30" "days left"
assert_eq "$(cell "$d" Expiring A6)" "date $(ts_of "${A[1]}")" "the expiry time, a real date"
assert_contains "$d" "cell Expiring!A6 date $(ts_of "${A[1]}") fmt=yyyy-mm-dd hh:mm " "with its format"
assert_eq "$(cell "$d" Expiring F6)|$(cell "$d" Expiring H6)|$(cell "$d" Expiring I6)|$(cell "$d" Expiring J6)" \
    "text released|text $F|text $B|text A1" "state and where it is"
assert_eq "$(cell "$d" Expiring G5)|$(cell "$d" Expiring F5)|$(cell "$d" Expiring I5)" "text yes|text quarantine|" \
    "the retained sample, not in a box"
assert_eq "$(cell "$d" Expiring D5)|$(cell "$d" Expiring E5)" "text ${A[0]}|text D-0001" "lot and donor"
assert_not_contains "$(column "$d" Expiring C 5)" "${A[7]}" "recalled tubes are not listed"
assert_not_contains "$(column "$d" Expiring C 5)" "${A[6]}" "discarded tubes are not listed"

assert_eq "$(column "$d" "Expired in stock" C 5 | paste -sd' ')" "${A[5]} ${A[4]}" "expired, not discarded nor issued, oldest first"
assert_eq "$(column "$d" "Expired in stock" B 5 | paste -sd' ')" "10 3" "days ago"
assert_eq "$(column "$d" "Expired in stock" F 5 | paste -sd' ')" "expired quarantine" "as recorded (the sweep's, or not yet)"
assert_eq "$(cell "$d" "Expired in stock" I6)|$(cell "$d" "Expired in stock" J6)" "text $B|text A4" "where the expired tube is"
assert_eq "$(cell "$d" "Expired in stock" A1)" "text Expired aliquots not yet discarded" "sheet title"

expect 0 "days=0: later today" fmtbank --user alice report expiring --param days=0 -o "$TMP/0.xlsx"
d=$(DUMP "$TMP/0.xlsx")
assert_eq "$(column "$d" Expiring C 5 | paste -sd' ')" "${A[9]}" "only what expires today"
expect 0 "days=31" fmtbank --user alice report expiring -p days=31 -o "$TMP/31.xlsx"
d=$(DUMP "$TMP/31.xlsx")
assert_eq "$(column "$d" Expiring C 5 | paste -sd' ')" "${A[9]} ${A[1]} ${A[2]} ${A[3]}" "a day more"
assert_eq "$(cell "$d" Expiring A2)" "text Aliquots expiring from $(d 0) to $(d 31) (within 31 days)" "subtitle"
expect 0 "again" fmtbank --user alice report expiring -p days=31 -o "$TMP/31b.xlsx"
assert_eq "$(DUMP "$TMP/31b.xlsx")" "$d" "same state and parameters: same workbook"

# Nothing in the window: the sheet says so.
sql "UPDATE fmtbank.aliquot SET expires_at = now() + interval '400 days' WHERE status IN ('quarantine', 'released') AND expires_at > now()" >/dev/null
expect 0 "nothing expiring" fmtbank --user alice report expiring -o "$TMP/none.xlsx"
assert_eq "$(cell "$(DUMP "$TMP/none.xlsx")" Expiring A5)" "text No aliquot expires in this period." "empty note"

# ---------------------------------------------------------------- bounds
for v in -1 3651 99999999999; do
    expect 3 "days=$v refused" fmtbank --user alice report expiring -p "days=$v" -o "$TMP/bad.xlsx"
    assert_contains "$ERR" "invalid value \"$v\" for parameter \"days\"" "names the value and parameter"
    assert_contains "$ERR" "The value must be between 0 and 3650." "says the bounds"
done
expect 3 "days=soon" fmtbank --user alice report expiring -p days=soon -o "$TMP/bad.xlsx"
assert_contains "$ERR" 'invalid integer "soon" for parameter "days"' "not a number"
expect 0 "days=3650 (the maximum)" fmtbank --user alice report expiring -p days=3650 -o "$TMP/max.xlsx"
assert_eq "$(ls "$TMP"/bad.xlsx "$TMP"/.bad* 2>/dev/null)" "" "refusals left no file"

# A definition whose bounds or default are wrong is broken.
SITE=$TMP/site
mkdir -p "$SITE"
cp "$FMTBANK_SRC/reports/expiring.sql" "$SITE/exp2.sql"
sed 's/^default = 30$/default = 5000/' "$FMTBANK_SRC/reports/expiring.report" >"$SITE/exp2.report"
sed 's/^min = 0$/min = none/' "$FMTBANK_SRC/reports/expiring.report" >"$SITE/exp3.report"
cp "$FMTBANK_SRC/reports/expiring.sql" "$SITE/exp3.sql"
FMTBANK_REPORTS="$SITE" run fmtbank report check exp2 exp3
assert_eq "$RC" "3" "report check: exit 3"
assert_contains "$OUT" $'exp2: broken\nexp3: broken' "both broken"
assert_contains "$ERR" 'report "exp2": default of parameter "days": invalid value "5000" for parameter "days"' "default outside the bounds"
assert_contains "$ERR" 'report "exp3": minimum of parameter "days": invalid integer "none" for parameter "days"' "a bound that is no integer"
line=$(grep -n '^\[param days\]' "$SITE/exp2.report" | cut -d: -f1)
assert_contains "$ERR" "See \"$SITE/exp2.report\", line $line." "names the file and line"
FMTBANK_REPORTS="$SITE" run fmtbank --user alice report exp2 -o "$TMP/exp2.xlsx"
assert_eq "$RC" "3" "running it with the bad default refuses"

done_testing
